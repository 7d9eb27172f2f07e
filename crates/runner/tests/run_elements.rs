//! Elements beyond the HTTP core: Flow Control Actions (JMeter 5's loop actions, which JMeter
//! 2.13 lacks, so tests/data/runner/fidelity/actions.jmx cannot cover them), Debug and Dummy
//! samplers, Module and Include Controllers, the Random Variable. The truth is what the loopback test server
//! received and counts worked out by hand from JMeter's source (named at each test).

mod common;

use common::*;
use loadlake_runner::RunOptions;

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

/// A jp@gc Dummy Sampler (jpgc-dummy 0.4's properties).
#[allow(clippy::too_many_arguments)]
fn dummy(
    name: &str,
    success: bool,
    code: &str,
    message: &str,
    data: &str,
    time: &str,
    waiting: bool,
    children: &str,
) -> String {
    format!(
        r#"<kg.apc.jmeter.samplers.DummySampler guiclass="kg.apc.jmeter.samplers.DummySamplerGui" testclass="kg.apc.jmeter.samplers.DummySampler" testname="{name}" enabled="true">
          <boolProp name="WAITING">{waiting}</boolProp>
          <boolProp name="SUCCESFULL">{success}</boolProp>
          <stringProp name="RESPONSE_CODE">{code}</stringProp>
          <stringProp name="RESPONSE_MESSAGE">{message}</stringProp>
          <stringProp name="REQUEST_DATA"></stringProp>
          <stringProp name="RESPONSE_DATA">{data}</stringProp>
          <stringProp name="RESPONSE_TIME">{time}</stringProp>
          <stringProp name="LATENCY">20</stringProp>
          <stringProp name="CONNECT">5</stringProp>
          <stringProp name="URL">http://example.invalid/dummy</stringProp>
        </kg.apc.jmeter.samplers.DummySampler>
        <hashTree>{children}</hashTree>"#,
        data = xml_escape(data)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dummy_samplers_answer_what_they_are_told() {
    // DummyElement.sample (jmeter-plugins, jpgc-dummy 0.4): label = name, code, message,
    // success and body as set; elapsed = RESPONSE_TIME (slept when WAITING, else only
    // stamped); latency and connect as set; a time that is no number is 0. Assertions and
    // extractors apply as to any sample.
    let server = TestServer::start().await;
    let children = dummy(
        "waits",
        true,
        "201",
        "Created",
        "id=${__threadNum}-x",
        "150",
        true,
        &(regex_extractor("id", "id=([0-9a-z-]+)", "$1$", 1, "none")
            + &assertion("has id", "Assertion.response_data", 2, &["id=1-x"], false)),
    ) + &get("use", "/use?id=${id}")
        + &dummy("stamped", true, "200", "OK", "", "250", false, "")
        + &dummy(
            "failed",
            false,
            "500",
            "Boom",
            "x",
            "not a number",
            true,
            "",
        );
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &children));
    let started = std::time::Instant::now();
    let (_, rows) = run(&xml, server.port(), RunOptions::default()).await;
    let took = started.elapsed().as_millis();
    let one = |label: &str| {
        let r = labelled(&rows, label);
        assert_eq!(r.len(), 1, "{label}");
        r[0].clone()
    };
    let w = one("waits");
    assert_eq!(
        (w.code.as_deref(), w.message.as_str(), w.success),
        (Some("201"), "Created", true)
    );
    assert!(w.elapsed >= 150, "slept 150 ms: {}", w.elapsed);
    assert_eq!((w.latency, w.connect), (20, 5));
    assert_eq!(w.bytes_received, "id=1-x".len() as i64);
    assert_eq!(w.url.as_deref(), Some("http://example.invalid/dummy"));
    // The extractor read the body; the next request used it.
    let used: Vec<String> = server.requests().into_iter().map(|r| r.query).collect();
    assert_eq!(used, ["id=1-x"]);
    let s = one("stamped");
    assert_eq!(s.elapsed, 250, "stamped, not slept");
    let f = one("failed");
    assert_eq!(
        (f.code.as_deref(), f.message.as_str(), f.success),
        (Some("500"), "Boom", false)
    );
    assert_eq!(f.elapsed, 0);
    // 150 ms slept; the 250 ms one was not.
    assert!((150..1000).contains(&took), "run took {took} ms");
}

/// A Test Fragment and a plan around it; `module_path` is the Module Controller's path.
fn module_plan(module_path: &[&str], fragment_enabled: bool) -> String {
    let path: String = module_path
        .iter()
        .map(|p| format!(r#"<stringProp name="0">{p}</stringProp>"#))
        .collect();
    let fragment = format!(
        r#"<TestFragmentController guiclass="TestFragmentControllerGui" testclass="TestFragmentController" testname="Frag" enabled="{fragment_enabled}"/>
        <hashTree>{}</hashTree>"#,
        get("in fragment", "/frag")
            + &http("disabled", "GET", "/no", &[], "", "").replace(
                r#"testname="disabled" enabled="true""#,
                r#"testname="disabled" enabled="false""#
            )
    );
    let module = format!(
        r#"<ModuleController guiclass="ModuleControllerGui" testclass="ModuleController" testname="Use frag" enabled="true">
          <collectionProp name="ModuleController.node_path">{path}</collectionProp>
        </ModuleController>
        <hashTree/>"#
    );
    jmx(
        &[],
        &(fragment + &group("G", 2, 0, 3, "", &(get("before", "/before") + &module))),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_controllers_run_a_fragment_found_by_its_path() {
    // ModuleController.traverse: the first name (the GUI root) is skipped, the second is the
    // Test Plan's (jmx() names it "Runner test"); a disabled fragment runs, its disabled
    // children do not; a Test Fragment never runs on its own.
    let server = TestServer::start().await;
    for enabled in [false, true] {
        let xml = module_plan(&["root", "Runner test", "Frag"], enabled);
        let (_, rows) = run(&xml, server.port(), RunOptions::default()).await;
        assert_eq!(
            labelled(&rows, "in fragment").len(),
            6,
            "2 threads × 3 loops"
        );
    }
    assert_eq!(server.count("/frag"), 12);
    assert_eq!(server.count("/no"), 0);
    // A path that leads nowhere is refused, naming the path.
    let err = compile(
        &module_plan(&["root", "Runner test", "Nope"], true),
        &[("port", "1")],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("Use frag") && err.contains("root > Runner test > Nope"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn include_controllers_run_the_first_fragment_of_the_file() {
    // IncludeController.getProperBranch: the first TestPlan, then its first Test Fragment.
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let lib = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<jmeterTestPlan version="1.2" properties="2.8">
  <hashTree>
    <TestPlan guiclass="TestPlanGui" testclass="TestPlan" testname="Lib" enabled="true"/>
    <hashTree>
      <TestFragmentController guiclass="TestFragmentControllerGui" testclass="TestFragmentController" testname="F1" enabled="true"/>
      <hashTree>{}</hashTree>
      <TestFragmentController guiclass="TestFragmentControllerGui" testclass="TestFragmentController" testname="F2" enabled="true"/>
      <hashTree>{}</hashTree>
    </hashTree>
  </hashTree>
</jmeterTestPlan>"#,
        get("lib one", "/lib1"),
        get("lib two", "/lib2")
    );
    std::fs::write(dir.path().join("lib.jmx"), lib).unwrap();
    let include = r#"<IncludeController guiclass="IncludeControllerGui" testclass="IncludeController" testname="Inc" enabled="true">
          <stringProp name="IncludeController.includepath">lib.jmx</stringProp>
        </IncludeController>
        <hashTree/>"#;
    let xml = jmx(&[], &group("G", 1, 0, 2, "", include));
    let plan: loadlake_plan::Plan = xml.parse().unwrap();
    let props = [("port".to_string(), server.port().to_string())].into();
    let compiled = loadlake_runner::compile_at(&plan, &props, dir.path()).unwrap();
    // The included file is one of the plan's data files (sent to agents with it).
    assert!(compiled.data_files.iter().any(|f| f.name == "lib.jmx"));
    let mut batches = Vec::new();
    run_into(
        &compiled,
        RunOptions::default(),
        &mut batches,
        std::time::Duration::from_secs(5),
    )
    .await;
    assert_eq!((server.count("/lib1"), server.count("/lib2")), (2, 0));
    // A missing file is refused with its path.
    let err = loadlake_runner::compile_at(&plan, &props, std::path::Path::new("/nonexistent"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Inc") && err.contains("/nonexistent/lib.jmx"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ultimate_thread_group_starts_and_stops_each_user_on_its_schedule() {
    // UltimateThreadGroup.scheduleThread for one row (2 threads, delay 0, startup 1 s, hold
    // 1 s, shutdown 0): the first thread scheduled (k = 2) starts at 1000 ms, the second
    // (k = 1) at 500 ms; both end at 2000 ms.
    let server = TestServer::start().await;
    let row = ["2", "0", "1", "1", "0"]
        .iter()
        .map(|v| format!(r#"<stringProp name="0">{v}</stringProp>"#))
        .collect::<String>();
    let utg = format!(
        r#"<kg.apc.jmeter.threads.UltimateThreadGroup guiclass="kg.apc.jmeter.threads.UltimateThreadGroupGui" testclass="kg.apc.jmeter.threads.UltimateThreadGroup" testname="U" enabled="true">
          <collectionProp name="ultimatethreadgroupdata"><collectionProp name="1">{row}</collectionProp></collectionProp>
          <elementProp name="ThreadGroup.main_controller" elementType="LoopController" guiclass="LoopControlPanel" testclass="LoopController" testname="Loop Controller" enabled="true">
            <boolProp name="LoopController.continue_forever">false</boolProp>
            <intProp name="LoopController.loops">-1</intProp>
          </elementProp>
          <stringProp name="ThreadGroup.on_sample_error">continue</stringProp>
        </kg.apc.jmeter.threads.UltimateThreadGroup>
        <hashTree>{}</hashTree>"#,
        http("tick", "GET", "/tick", &[], "", &timer(100))
    );
    let xml = jmx(&[], &utg);
    // --validate shows each user's window.
    let plan = compile(&xml, &[("port", "1")]).unwrap();
    assert!(
        plan.explain().contains("users run 1: 1–2 s, 2: 0.5–2 s"),
        "{}",
        plan.explain()
    );
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let (_, rows) = run(&xml, server.port(), RunOptions::default()).await;
    let first_and_last = |thread: &str| {
        let ts: Vec<i64> = rows
            .iter()
            .filter(|r| r.thread == thread)
            .map(|r| r.ts - start)
            .collect();
        (
            *ts.iter().min().unwrap(),
            *ts.iter().max().unwrap(),
            ts.len(),
        )
    };
    // Samples are stamped when sent, after the user's 100 ms timer.
    let (first1, last1, n1) = first_and_last("U 1-1");
    let (first2, last2, n2) = first_and_last("U 1-2");
    assert!(
        (1050..1500).contains(&first1),
        "thread 1 first sample at {first1} ms"
    );
    assert!(
        (550..1000).contains(&first2),
        "thread 2 first sample at {first2} ms"
    );
    assert!(
        last1 < 2050 && last2 < 2050,
        "ends at 2 s: {last1}, {last2}"
    );
    // About 10 and 15 samples at 100 ms each.
    assert!(
        (5..=10).contains(&n1) && (9..=15).contains(&n2),
        "{n1} {n2}"
    );
}

#[test]
fn non_core_listeners_are_listed_as_not_run_and_dns_cache_managers_checked() {
    let listeners = r#"<BackendListener guiclass="BackendListenerGui" testclass="BackendListener" testname="Influx" enabled="true"/>
        <hashTree/>
        <kg.apc.jmeter.vizualizers.CorrectedResultCollector guiclass="kg.apc.jmeter.vizualizers.ResponseTimesOverTimeGui" testclass="kg.apc.jmeter.vizualizers.CorrectedResultCollector" testname="RT graph" enabled="true"/>
        <hashTree/>
        <ResultSaver guiclass="ResultSaverGui" testclass="ResultSaver" testname="Save" enabled="true"/>
        <hashTree/>
        <kg.apc.jmeter.vizualizers.CompositeResultCollector guiclass="kg.apc.jmeter.vizualizers.CompositeGraphGui" testclass="kg.apc.jmeter.vizualizers.CompositeResultCollector" testname="Composite" enabled="true"/>
        <hashTree/>"#;
    let dns = |custom: bool| {
        format!(
            r#"<DNSCacheManager guiclass="DNSCachePanel" testclass="DNSCacheManager" testname="DNS" enabled="true">
              <collectionProp name="DNSCacheManager.servers"/>
              <boolProp name="DNSCacheManager.clearEachIteration">true</boolProp>
              <boolProp name="DNSCacheManager.isCustomResolver">{custom}</boolProp>
            </DNSCacheManager>
            <hashTree/>"#
        )
    };
    let body = |custom: bool| {
        jmx(
            &[],
            &(group("G", 1, 0, 1, "", &(dns(custom) + &get("S", "/"))) + listeners),
        )
    };
    let plan = compile(&body(false), &[("port", "1")]).unwrap();
    assert_eq!(
        plan.ignored,
        [
            "\"Influx\" (BackendListener: its metrics are not sent; query the run's samples \
             instead)",
            "\"RT graph\" (CorrectedResultCollector: a jmeter-plugins graph: the runner records \
             every sample itself)",
            "\"Save\" (ResultSaver: responses are not saved to files (Save Responses to a file))",
            "\"Composite\" (CompositeResultCollector: a jmeter-plugins composite graph: the \
             runner records every sample itself)"
        ]
    );
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.starts_with("element \"DNS\" (DNS Cache Manager): no effect here")),
        "{:?}",
        plan.warnings
    );
    let err = compile(&body(true), &[("port", "1")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("DNS") && err.contains("custom resolver"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_random_controller_runs_one_child_at_random_each_time() {
    // RandomController: one child per entry, chosen at random (JMeter's InterleaveControl
    // with a random current child).
    let server = TestServer::start().await;
    let random = |style: u8, children: &str| {
        format!(
            r#"<RandomController guiclass="RandomControlGui" testclass="RandomController" testname="R" enabled="true">
              <intProp name="InterleaveControl.style">{style}</intProp>
            </RandomController>
            <hashTree>{children}</hashTree>"#
        )
    };
    let xml = jmx(
        &[],
        &group(
            "G",
            1,
            0,
            40,
            "",
            &random(1, &(get("r1", "/r1") + &get("r2", "/r2"))),
        ),
    );
    run(&xml, server.port(), RunOptions::default()).await;
    let (a, b) = (server.count("/r1"), server.count("/r2"));
    // One child per entry; both are chosen (all 40 the same: probability 2^-39).
    assert_eq!(a + b, 40);
    assert!(a > 0 && b > 0, "{a} {b}");
    // "Ignore sub-controller blocks" with a controller child is refused.
    let block = loop_controller("inner", 1, &get("x", "/x"));
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &random(0, &block)));
    let err = compile(&xml, &[("port", "1")]).unwrap_err().to_string();
    assert!(err.contains("InterleaveControl.style"), "{err}");
}

#[tokio::test]
async fn a_recording_controller_runs_its_children_like_a_simple_controller() {
    // What JMeter's HTTP(S) Test Script Recorder leaves behind: the recorded samplers inside a
    // Recording Controller, which JMeter runs as a Simple Controller (RecordingController extends
    // GenericController). 3 iterations of 2 samplers: 3 requests each.
    let server = TestServer::start().await;
    let recorder = format!(
        r#"<RecordingController guiclass="RecordController" testclass="RecordingController" testname="Recording Controller" enabled="true"/>
        <hashTree>{}{}</hashTree>"#,
        get("home", "/rec-home"),
        get("search", "/rec-search")
    );
    let xml = jmx(&[], &group("G", 1, 0, 3, "", &recorder));
    let (_, samples) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!(server.count("/rec-home"), 3);
    assert_eq!(server.count("/rec-search"), 3);
    let labels: Vec<&str> = samples.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(
        labels,
        ["home", "search", "home", "search", "home", "search"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_controller_runs_any_logic_controller() {
    // JMeter's ModuleController takes any controller of the tree as its target, not only a
    // Test Fragment or the controllers the runner had listed: here an Interleave Controller
    // inside a fragment. InterleaveControl runs one child per pass, in turn: 1 user × 4 loops
    // runs "a", "b", "a", "b".
    let server = TestServer::start().await;
    let interleave = interleave_controller("Alt", &(get("a", "/a") + &get("b", "/b")));
    let fragment = format!(
        r#"<TestFragmentController guiclass="TestFragmentControllerGui" testclass="TestFragmentController" testname="Frag" enabled="true"/>
        <hashTree>{interleave}</hashTree>"#
    );
    let module = r#"<ModuleController guiclass="ModuleControllerGui" testclass="ModuleController" testname="Use alt" enabled="true">
          <collectionProp name="ModuleController.node_path">
            <stringProp name="0">root</stringProp>
            <stringProp name="1">Runner test</stringProp>
            <stringProp name="2">Frag</stringProp>
            <stringProp name="3">Alt</stringProp>
          </collectionProp>
        </ModuleController>
        <hashTree/>"#;
    let xml = jmx(&[], &(fragment + &group("G", 1, 0, 4, "", module)));
    let (_, rows) = run(&xml, server.port(), RunOptions::default()).await;
    let order: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(order, ["a", "b", "a", "b"]);
    assert_eq!((server.count("/a"), server.count("/b")), (2, 2));
    // A sampler is not a controller: refused, naming the module.
    let xml = module_plan(&["root", "Runner test", "Frag", "in fragment"], true);
    let err = compile(&xml, &[("port", "1")]).unwrap_err().to_string();
    assert!(
        err.contains("Use frag") && err.contains("runs a controller or Test Fragment"),
        "{err}"
    );
}

/// A Random Variable config element (JMeter 5's `RandomVariableConfig` properties).
fn random_variable(var: &str, min: &str, max: &str) -> String {
    format!(
        r#"<RandomVariableConfig guiclass="TestBeanGUI" testclass="RandomVariableConfig" testname="random {var}" enabled="true">
          <stringProp name="maximumValue">{max}</stringProp>
          <stringProp name="minimumValue">{min}</stringProp>
          <stringProp name="outputFormat"></stringProp>
          <boolProp name="perThread">true</boolProp>
          <stringProp name="randomSeed"></stringProp>
          <stringProp name="variableName">{var}</stringProp>
        </RandomVariableConfig>
        <hashTree/>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_random_variable_draws_once_per_iteration_within_its_bounds() {
    // RandomVariableConfig.iterationStart: each iteration of the enclosing controller sets the
    // variable to min + nextInt(max - min + 1), ends included; every reference in that
    // iteration sees the same value. 60 draws from {3, 4, 5}: missing one value has a
    // probability of 3·(2/3)^60 ≈ 1e-10.
    let server = TestServer::start().await;
    let body = random_variable("r", "3", "5") + &get("a", "/a/${r}") + &get("b", "/b/${r}");
    let xml = jmx(
        &[],
        &group("G", 1, 0, 1, "", &loop_controller("L", 60, &body)),
    );
    run(&xml, server.port(), RunOptions::default()).await;
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths.len(), 120);
    let mut seen = std::collections::BTreeSet::new();
    for pair in paths.chunks(2) {
        let a = pair[0].strip_prefix("/a/").expect("an /a/ request first");
        let b = pair[1].strip_prefix("/b/").expect("then a /b/ request");
        assert_eq!(a, b, "one draw per iteration: {pair:?}");
        seen.insert(a.to_string());
    }
    let want: std::collections::BTreeSet<String> = ["3", "4", "5"].map(String::from).into();
    assert_eq!(seen, want);
}
