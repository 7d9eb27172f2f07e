//! Logic controllers, setUp / tearDown groups, CSV Data Sets, run-time functions, throughput
//! timers, parent-mode transactions and the extractors and assertions beyond the first slice.
//! The truth is what the loopback test server received (paths, query strings, arrival times),
//! and counts computed by hand from JMeter's documented rules.

mod common;

use std::time::Duration;

use common::*;
use loadlake_runner::RunOptions;

fn if_controller(name: &str, condition: &str, use_expression: bool, children: &str) -> String {
    format!(
        r#"<IfController guiclass="IfControllerPanel" testclass="IfController" testname="{name}" enabled="true">
          <stringProp name="IfController.condition">{condition}</stringProp>
          <boolProp name="IfController.evaluateAll">false</boolProp>
          <boolProp name="IfController.useExpression">{use_expression}</boolProp>
        </IfController>
        <hashTree>{children}</hashTree>"#,
        condition = xml_escape(condition)
    )
}

fn while_controller(name: &str, condition: &str, children: &str) -> String {
    format!(
        r#"<WhileController guiclass="WhileControllerGui" testclass="WhileController" testname="{name}" enabled="true">
          <stringProp name="WhileController.condition">{condition}</stringProp>
        </WhileController>
        <hashTree>{children}</hashTree>"#,
        condition = xml_escape(condition)
    )
}

fn switch_controller(name: &str, value: &str, children: &str) -> String {
    format!(
        r#"<SwitchController guiclass="SwitchControllerGui" testclass="SwitchController" testname="{name}" enabled="true">
          <stringProp name="SwitchController.value">{value}</stringProp>
        </SwitchController>
        <hashTree>{children}</hashTree>"#
    )
}

fn once_only(name: &str, children: &str) -> String {
    format!(
        r#"<OnceOnlyController guiclass="OnceOnlyControllerGui" testclass="OnceOnlyController" testname="{name}" enabled="true"/>
        <hashTree>{children}</hashTree>"#
    )
}

fn throughput_controller(
    name: &str,
    style: u8,
    per_thread: bool,
    max: u64,
    percent: f64,
    children: &str,
) -> String {
    format!(
        r#"<ThroughputController guiclass="ThroughputControllerGui" testclass="ThroughputController" testname="{name}" enabled="true">
          <intProp name="ThroughputController.style">{style}</intProp>
          <boolProp name="ThroughputController.perThread">{per_thread}</boolProp>
          <intProp name="ThroughputController.maxThroughput">{max}</intProp>
          <FloatProperty>
            <name>ThroughputController.percentThroughput</name>
            <value>{percent}</value>
            <savedValue>0.0</savedValue>
          </FloatProperty>
        </ThroughputController>
        <hashTree>{children}</hashTree>"#
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A thread group element turned into another class with the same properties (setUp and
/// tearDown groups read `ThreadGroup.*` properties).
fn as_class(group_xml: &str, class: &str) -> String {
    group_xml
        .replace("<ThreadGroup ", &format!("<{class} "))
        .replace(
            r#"testclass="ThreadGroup""#,
            &format!(r#"testclass="{class}""#),
        )
        .replace("</ThreadGroup>", &format!("</{class}>"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_while_switch_and_once_only_choose_children_as_jmeter_does() {
    let server = TestServer::start().await;
    let children = once_only("Once", &get("Once", "/once"))
        // JavaScript-style condition on a user-defined variable: true.
        + &if_controller("If on", r#""${mode}" == "on""#, false, &get("Yes", "/if-yes"))
        // Variable-expression mode: the rendered text must be "true".
        + &if_controller(
            "If jexl",
            r#"${__jexl3("${mode}" == "off")}"#,
            true,
            &get("No", "/if-no"),
        )
        // 3 passes per thread: the counter is 1, 2, 3 (< 4), then 4 ends the loop. The
        // counter is per user and never resets, so later iterations do not enter.
        + &while_controller(
            "While",
            "${__javaScript(${__counter(TRUE)} < 4)}",
            &get("Pass", "/while"),
        )
        + &switch_controller(
            "By index",
            "1",
            &(get("Zero", "/s0") + &get("One", "/s1")),
        )
        + &switch_controller(
            "By name",
            "Two",
            &(get("One", "/n1") + &get("Two", "/n2")),
        )
        + &switch_controller(
            "Fallback",
            "nobody",
            &(get("First", "/f1") + &get("default", "/fdefault")),
        )
        + &loop_controller("Twice", 2, &once_only("Inner once", &get("Inner", "/inner")));
    let xml = jmx(&[("mode", "on")], &group("G", 2, 0, 3, "", &children));
    let (summary, _) = run(&xml, server.port(), RunOptions::default()).await;
    let n = |p: &str| server.count(p);
    // 2 threads × 3 iterations.
    assert_eq!(n("/once"), 2, "once per thread");
    assert_eq!((n("/if-yes"), n("/if-no")), (6, 0));
    assert_eq!(
        n("/while"),
        6,
        "3 passes per thread, in the first iteration only"
    );
    assert_eq!((n("/s0"), n("/s1")), (0, 6));
    assert_eq!((n("/n1"), n("/n2")), (0, 6));
    assert_eq!((n("/f1"), n("/fdefault")), (0, 6));
    // Under a Loop Controller: the first of its 2 iterations, each time it is reached.
    assert_eq!(n("/inner"), 6);
    assert_eq!(summary.errors, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_with_a_blank_condition_stops_at_the_first_failure() {
    let server = TestServer::start().await;
    // Blank: the loop runs until a sample in it fails (the 404 on the first pass).
    let blank = while_controller(
        "Blank",
        "",
        &(get("Ok", "/w-ok") + &get("Bad", "/notfound")),
    );
    // LAST: the sample before the loop failed, so it is not entered at all.
    let last =
        get("Fail first", "/error") + &while_controller("Last", "LAST", &get("Never", "/w-never"));
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &(blank + &last)));
    let (summary, _) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!((server.count("/w-ok"), server.count("/notfound")), (1, 1));
    assert_eq!(server.count("/w-never"), 0);
    assert_eq!(summary.samples, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throughput_controllers_count_per_thread_or_shared() {
    let server = TestServer::start().await;
    let children = throughput_controller("Per thread", 0, true, 2, 100.0, &get("A", "/tp-thread"))
        + &throughput_controller("Shared", 0, false, 3, 100.0, &get("B", "/tp-shared"))
        + &throughput_controller("Half", 1, true, 0, 50.0, &get("C", "/tp-half"));
    // 2 threads × 5 iterations.
    let xml = jmx(&[], &group("G", 2, 0, 5, "", &children));
    run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!(server.count("/tp-thread"), 4, "2 per thread");
    assert_eq!(server.count("/tp-shared"), 3, "3 in all");
    // Percent 50 per thread over 5 arrivals: runs at the 2nd and 4th (see ThroughputCounts).
    assert_eq!(server.count("/tp-half"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_and_teardown_groups_run_before_and_after_the_others() {
    let server = TestServer::start().await;
    let setup = as_class(
        &group("Prepare", 2, 0, 1, "", &get("Setup", "/setup")),
        "SetupThreadGroup",
    );
    let main = group("Main", 3, 0, 2, "", &(timer(20) + &get("Main", "/main")));
    let teardown = as_class(
        &group("Clean", 1, 0, 1, "", &get("Teardown", "/teardown")),
        "PostThreadGroup",
    );
    // Written out of order on purpose: the roles decide, not the file order.
    let xml = jmx(&[], &(teardown + &main + &setup));
    let (_, rows) = run(&xml, server.port(), RunOptions::default()).await;
    let reqs = server.requests();
    let at = |p: &str| -> Vec<std::time::Instant> {
        reqs.iter().filter(|r| r.path == p).map(|r| r.at).collect()
    };
    let (s, m, t) = (at("/setup"), at("/main"), at("/teardown"));
    assert_eq!((s.len(), m.len(), t.len()), (2, 6, 1));
    assert!(
        s.iter().max() < m.iter().min(),
        "setUp before the main group"
    );
    assert!(m.iter().max() < t.iter().min(), "tearDown after it");
    assert!(rows.iter().any(|r| r.thread == "Prepare 3-1"), "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_mode_transaction_records_one_sample_for_its_children() {
    let server = TestServer::start().await;
    let children = transaction(
        "Order",
        false,
        &(get("Cart", "/cart") + &get("Pay", "/error") + &get("Confirm", "/confirm")),
    )
    .replace(
        r#"<boolProp name="TransactionController.parent">false</boolProp>"#,
        r#"<boolProp name="TransactionController.parent">true</boolProp>"#,
    );
    let xml = jmx(&[], &group("G", 1, 0, 2, "", &children));
    let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
    // The server saw every child; the run recorded only the transaction samples.
    assert_eq!(
        server.count("/cart") + server.count("/error") + server.count("/confirm"),
        6
    );
    assert_eq!(summary.samples, 2);
    let order = labelled(&rows, "Order");
    assert_eq!(order.len(), 2);
    for o in order {
        assert_eq!(o.kind, "transaction");
        assert!(!o.success);
        // JMeter's TransactionSampler keeps the code of the first failing child.
        assert_eq!(o.code.as_deref(), Some("500"));
        assert_eq!(
            o.message,
            "Number of samples in transaction : 3, number of failing samples : 1"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_data_sets_feed_each_iteration_and_share_as_configured() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    std::fs::write(&file, "user,pass\nann,a1\nbob,b2\ncid,c3\n").unwrap();
    let csv = |name: &str, share: &str| {
        format!(
            r#"<CSVDataSet guiclass="TestBeanGUI" testclass="CSVDataSet" testname="{name}" enabled="true">
              <stringProp name="filename">{file}</stringProp>
              <stringProp name="variableNames"></stringProp>
              <stringProp name="delimiter">,</stringProp>
              <boolProp name="recycle">true</boolProp>
              <boolProp name="stopThread">false</boolProp>
              <stringProp name="shareMode">{share}</stringProp>
            </CSVDataSet>
            <hashTree/>"#,
            file = file.display()
        )
    };
    // Own positions: each of the 2 threads reads ann, bob, cid, ann (recycled).
    let own = group(
        "Own",
        2,
        0,
        4,
        "",
        &(csv("Users", "shareMode.thread")
            + &http(
                "Login",
                "GET",
                "/own",
                &[("u", "${user}"), ("p", "${pass}")],
                "",
                "",
            )),
    );
    let xml = jmx(&[], &own);
    run(&xml, server.port(), RunOptions::default()).await;
    let mut seen: Vec<String> = server.requests().iter().map(|r| r.query.clone()).collect();
    seen.sort();
    let mut want: Vec<String> = ["u=ann&p=a1", "u=bob&p=b2", "u=cid&p=c3", "u=ann&p=a1"]
        .iter()
        .flat_map(|q| [q.to_string(), q.to_string()])
        .collect();
    want.sort();
    assert_eq!(seen, want);

    // One position for all threads: 2 threads × 3 iterations take the 3 rows twice.
    let server = TestServer::start().await;
    let shared = group(
        "Shared",
        2,
        0,
        3,
        "",
        &(csv("Users", "shareMode.all")
            + &http("Login", "GET", "/all", &[("u", "${user}")], "", "")),
    );
    run(&jmx(&[], &shared), server.port(), RunOptions::default()).await;
    let mut users: Vec<String> = server.requests().iter().map(|r| r.query.clone()).collect();
    users.sort();
    assert_eq!(
        users,
        ["u=ann", "u=ann", "u=bob", "u=bob", "u=cid", "u=cid"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_time_functions_are_evaluated_per_request() {
    let server = TestServer::start().await;
    let args = [
        ("t", "${__threadNum}"),
        ("c", "${__counter(FALSE)}"),
        ("r", "${__Random(5,5)}"),
        ("id", "${__UUID()}"),
        ("s", "${__RandomString(4,x)}"),
    ];
    let xml = jmx(
        &[],
        &group("G", 2, 0, 2, "", &http("F", "GET", "/fn", &args, "", "")),
    );
    run(&xml, server.port(), RunOptions::default()).await;
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4);
    let mut threads = Vec::new();
    let mut counters = Vec::new();
    for r in &reqs {
        let q: std::collections::HashMap<&str, &str> = r
            .query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .collect();
        threads.push(q["t"].to_string());
        counters.push(q["c"].parse::<u32>().unwrap());
        assert_eq!(q["r"], "5");
        assert_eq!(q["s"], "xxxx");
        let id = q["id"];
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(id.as_bytes()[14], b'4', "a version-4 UUID: {id}");
    }
    threads.sort();
    assert_eq!(threads, ["1", "1", "2", "2"]);
    counters.sort();
    assert_eq!(counters, [1, 2, 3, 4], "one global counter across users");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_constant_throughput_timer_paces_a_thread() {
    let server = TestServer::start().await;
    // 240 samples per minute for this thread: one every 250 ms.
    let ctt = r#"<ConstantThroughputTimer guiclass="TestBeanGUI" testclass="ConstantThroughputTimer" testname="Pace" enabled="true">
          <intProp name="calcMode">0</intProp>
          <doubleProp><name>throughput</name><value>240.0</value><savedValue>0.0</savedValue></doubleProp>
        </ConstantThroughputTimer>
        <hashTree/>"#;
    let xml = jmx(
        &[],
        &group(
            "G",
            1,
            0,
            4,
            "",
            &(ctt.to_string() + &get("Paced", "/paced")),
        ),
    );
    run(&xml, server.port(), RunOptions::default()).await;
    let at: Vec<_> = server.requests().iter().map(|r| r.at).collect();
    assert_eq!(at.len(), 4);
    for pair in at.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(
            gap >= Duration::from_millis(240) && gap < Duration::from_millis(400),
            "{gap:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_header_extractors_feed_later_requests() {
    let server = TestServer::start().await;
    let json = r#"<JSONPostProcessor guiclass="JSONPostProcessorGui" testclass="JSONPostProcessor" testname="Ids" enabled="true">
          <stringProp name="JSONPostProcessor.referenceNames">second;total</stringProp>
          <stringProp name="JSONPostProcessor.jsonPathExprs">$.items[1].id;$.total</stringProp>
          <stringProp name="JSONPostProcessor.match_numbers">1;1</stringProp>
          <stringProp name="JSONPostProcessor.defaultValues">none;none</stringProp>
        </JSONPostProcessor>
        <hashTree/>"#;
    let header = r#"<RegexExtractor guiclass="RegexExtractorGui" testclass="RegexExtractor" testname="Token" enabled="true">
          <stringProp name="RegexExtractor.useHeaders">true</stringProp>
          <stringProp name="RegexExtractor.refname">token</stringProp>
          <stringProp name="RegexExtractor.regex">X-Token: (\S+)</stringProp>
          <stringProp name="RegexExtractor.template">$1$</stringProp>
          <stringProp name="RegexExtractor.default">missing</stringProp>
          <stringProp name="RegexExtractor.match_number">1</stringProp>
        </RegexExtractor>
        <hashTree/>"#;
    let children = http(
        "Json",
        "GET",
        "/json",
        &[],
        "",
        &(json.to_string() + header),
    ) + &http(
        "Use",
        "GET",
        "/use",
        &[("id", "${second}"), ("n", "${total}"), ("t", "${token}")],
        "",
        "",
    );
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &children));
    let (summary, _) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!(summary.errors, 0);
    let used = server
        .requests()
        .into_iter()
        .find(|r| r.path == "/use")
        .unwrap();
    assert_eq!(used.query, "id=8&n=2&t=t-42");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duration_and_size_assertions_fail_with_jmeters_messages() {
    let server = TestServer::start().await;
    let duration = r#"<DurationAssertion guiclass="DurationAssertionGui" testclass="DurationAssertion" testname="Fast" enabled="true">
          <stringProp name="DurationAssertion.duration">100</stringProp>
        </DurationAssertion>
        <hashTree/>"#;
    // /json's body is 61 bytes: "= 61" passes, "< 10" fails.
    let size = |op: u8, n: u32| {
        format!(
            r#"<SizeAssertion guiclass="SizeAssertionGui" testclass="SizeAssertion" testname="Size {op} {n}" enabled="true">
              <stringProp name="Assertion.test_field">SizeAssertion.response_data</stringProp>
              <stringProp name="SizeAssertion.size">{n}</stringProp>
              <intProp name="SizeAssertion.operator">{op}</intProp>
            </SizeAssertion>
            <hashTree/>"#
        )
    };
    let children = http("Slow", "GET", "/slow", &[], "", duration)
        + &http("Exact", "GET", "/json", &[], "", &size(1, 61))
        + &http("Small", "GET", "/json", &[], "", &size(4, 10));
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &children));
    let (_, rows) = run(&xml, server.port(), RunOptions::default()).await;
    let slow = labelled(&rows, "Slow")[0];
    assert!(!slow.success);
    let msg = slow.failure_message.as_deref().unwrap_or("");
    assert!(
        msg.starts_with("The operation lasted too long: It took ")
            && msg.ends_with(
                "milliseconds, but should not have lasted longer than 100 milliseconds."
            ),
        "{msg}"
    );
    assert!(labelled(&rows, "Exact")[0].success);
    let small = labelled(&rows, "Small")[0];
    assert!(!small.success);
    assert!(
        small
            .failure_message
            .as_deref()
            .unwrap_or("")
            .contains("61 bytes"),
        "{:?}",
        small.failure_message
    );
}

/// Runs `xml` in the open model against the test server.
async fn open_model(
    xml: &str,
    server: &TestServer,
    per_second: f64,
    max_vus: Option<u32>,
    duration: Duration,
) -> (loadlake_runner::RunSummary, Vec<Row>) {
    let options = RunOptions {
        duration: Some(duration),
        arrival: Some(loadlake_runner::ArrivalRate {
            per_second,
            max_vus,
        }),
        ..RunOptions::default()
    };
    run(xml, server.port(), options).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_arrival_rate_is_kept_whatever_the_threads_and_loops_say() {
    let server = TestServer::start().await;
    // 1 thread × 1 loop in the plan; the open model ignores both and starts 200 iterations a
    // second for 3 s: iterations due at k/200 s for k = 0…599.
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &get("Tick", "/tick")));
    let (summary, rows) = open_model(&xml, &server, 200.0, Some(20), Duration::from_secs(3)).await;
    assert_eq!(summary.dropped_iterations, 0);
    assert_eq!((summary.samples, server.count("/tick")), (600, 600));
    // Per second of the run, the achieved rate is the target within ±2 %.
    let reqs = server.requests();
    let first = reqs.iter().map(|r| r.at).min().unwrap();
    for second in 0..3u64 {
        let n = reqs
            .iter()
            .filter(|r| (r.at - first).as_secs() == second)
            .count();
        assert!((196..=204).contains(&n), "second {second}: {n} requests");
    }
    // Every sample has its latency from the intended send time, never below its service time.
    for r in &rows {
        let intended = r.intended_elapsed.expect("an open-model sample");
        assert!(intended >= r.elapsed, "{r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_intended_latency_shows_a_stall_that_the_service_time_hides() {
    let server = TestServer::start().await;
    // One user, 50 iterations a second for 3 s; the server holds the 20th request for 1 s. The
    // ~50 iterations due meanwhile queue and start late (coordinated omission).
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &get("Call", "/stall-20th")));
    let (summary, rows) = open_model(&xml, &server, 50.0, Some(1), Duration::from_secs(3)).await;
    assert_eq!(summary.dropped_iterations, 0);
    assert_eq!(rows.len(), 150);
    let p99 = |mut v: Vec<i64>| {
        v.sort_unstable();
        // Nearest rank: the ⌈0.99·n⌉-th value.
        v[(v.len() * 99).div_ceil(100) - 1]
    };
    let service = p99(rows.iter().map(|r| r.elapsed).collect());
    let intended = p99(rows.iter().filter_map(|r| r.intended_elapsed).collect());
    assert!(service < 200, "service-time p99 {service} ms");
    assert!(intended >= 800, "intended-time p99 {intended} ms");
    let stalled = rows.iter().filter(|r| r.elapsed >= 900).count();
    let late = rows
        .iter()
        .filter(|r| r.intended_elapsed.unwrap_or(0) >= 500)
        .count();
    assert_eq!(stalled, 1, "only the held request is slow to serve");
    assert!(late >= 20, "{late} samples were half a second late or more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_drops_iterations_and_counts_them() {
    let server = TestServer::start().await;
    // /slow takes 2 s and one user may run: of the 60 iterations due in 6 s (10 a second), the
    // user starts those due at 0, ~2 and ~4 s; the queue holds 5 s of schedule (50 due times),
    // so at least 60 − 3 − 50 = 7 are dropped, and counted.
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &get("Slow", "/slow")));
    let options = RunOptions {
        duration: Some(Duration::from_secs(6)),
        arrival: Some(loadlake_runner::ArrivalRate {
            per_second: 10.0,
            max_vus: Some(1),
        }),
        ..RunOptions::default()
    };
    let port = server.port().to_string();
    let plan = compile(&xml, &[("port", &port)]).unwrap();
    let summary = run_into(&plan, options, &mut Vec::new(), Duration::from_secs(15)).await;
    assert!(
        (7..=10).contains(&summary.dropped_iterations),
        "{summary:?}"
    );
    assert!((3..=4).contains(&summary.samples), "{summary:?}");

    // An open model needs a duration: it has no loop count to end it.
    let err = loadlake_runner::run(
        &plan,
        RunOptions {
            arrival: Some(loadlake_runner::ArrivalRate {
                per_second: 10.0,
                max_vus: None,
            }),
            ..RunOptions::default()
        },
        &mut Vec::new(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("needs a duration"), "{err}");
}
