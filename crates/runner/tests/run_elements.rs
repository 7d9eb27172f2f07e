//! Elements beyond the HTTP core: Flow Control Actions (JMeter 5's loop actions, which JMeter
//! 2.13 lacks, so tests/data/runner/fidelity/actions.jmx cannot cover them), Debug and Dummy
//! samplers, Module and Include Controllers. The truth is what the loopback test server
//! received and counts worked out by hand from JMeter's source (named at each test).

mod common;

use common::*;
use loadlake_runner::RunOptions;

fn get(name: &str, path: &str) -> String {
    http(name, "GET", path, &[], "", "")
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn if_controller(name: &str, condition: &str, children: &str) -> String {
    format!(
        r#"<IfController guiclass="IfControllerPanel" testclass="IfController" testname="{name}" enabled="true">
          <stringProp name="IfController.condition">{condition}</stringProp>
        </IfController>
        <hashTree>{children}</hashTree>"#,
        condition = xml_escape(condition)
    )
}

/// A per-user Counter Config from 1 into `var`.
fn counter(var: &str) -> String {
    format!(
        r#"<CounterConfig guiclass="CounterConfigGui" testclass="CounterConfig" testname="count {var}" enabled="true">
          <stringProp name="CounterConfig.start">1</stringProp>
          <stringProp name="CounterConfig.end"></stringProp>
          <stringProp name="CounterConfig.incr">1</stringProp>
          <stringProp name="CounterConfig.name">{var}</stringProp>
          <boolProp name="CounterConfig.per_user">true</boolProp>
        </CounterConfig>
        <hashTree/>"#
    )
}

fn action(name: &str, action: u8, target: u8) -> String {
    format!(
        r#"<TestAction guiclass="TestActionGui" testclass="TestAction" testname="{name}" enabled="true">
          <intProp name="ActionProcessor.action">{action}</intProp>
          <intProp name="ActionProcessor.target">{target}</intProp>
          <stringProp name="ActionProcessor.duration"></stringProp>
        </TestAction>
        <hashTree/>"#
    )
}

/// `action` when `${var}` is 2.
fn on_second(var: &str, action_no: u8) -> String {
    if_controller(
        "second",
        &format!(r#""${{{var}}}" == "2""#),
        &action("act", action_no, 0),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loop_actions_of_jmeter_5_continue_or_break_the_innermost_loop() {
    // JMeter 5 (JMeterThread.continueOnCurrentLoop / breakOnCurrentLoop): the innermost Loop or
    // While Controller above the action takes it; without one, the thread group's loop does
    // (next iteration / the thread's loop ends).
    let server = TestServer::start().await;
    let next_pass = loop_controller(
        "L",
        3,
        &(counter("p") + &get("a", "/a") + &on_second("p", 4) + &get("b", "/b")),
    );
    let break_loop = loop_controller(
        "B",
        3,
        &(counter("q") + &get("c", "/c") + &on_second("q", 5) + &get("d", "/d")),
    );
    let g1 = group(
        "Loops",
        1,
        0,
        2,
        "",
        &(next_pass + &get("after", "/after") + &break_loop + &get("e", "/e")),
    );
    let g2 = group(
        "Break thread",
        1,
        0,
        3,
        "",
        &(counter("r") + &get("x", "/x") + &on_second("r", 5) + &get("y", "/y")),
    );
    let g3 = group(
        "Next thread loop",
        1,
        0,
        3,
        "",
        &(counter("s") + &get("m", "/m") + &on_second("s", 4) + &get("n", "/n")),
    );
    let xml = jmx(&[], &(g1 + &g2 + &g3));
    let (_, rows) = run(&xml, server.port(), RunOptions::default()).await;
    let n = |p: &str| server.count(p);
    // L: counter p = 1..6 over two thread iterations; pass p=2 skips /b.
    assert_eq!((n("/a"), n("/b"), n("/after")), (6, 5, 2));
    // B: q = 1, 2 (break) in iteration 1, then 3, 4, 5; /e runs after the loop either way.
    assert_eq!((n("/c"), n("/d"), n("/e")), (5, 4, 2));
    // No loop above: break ends the thread's loop in its 2nd iteration…
    assert_eq!((n("/x"), n("/y")), (2, 1));
    // …and "next iteration of the current loop" starts the thread's next iteration.
    assert_eq!((n("/m"), n("/n")), (3, 2));
    // A Flow Control Action writes no sample.
    assert!(labelled(&rows, "act").is_empty());
}
