//! The bzm Parallel Controller & Sampler against a local server: which requests arrive and
//! when (at once, or in turn under a thread limit), the samples written (one parent sample
//! with the children's as sub-results, or the children's alone), variables set in a branch
//! read after it, and `on_sample_error` applied to the parent sample only.

mod common;

use std::time::Duration;

use common::*;
use loadlake_runner::RunOptions;

/// A Parallel Sampler with `props` and `children`, as the plugin's GUI saves it.
fn parallel(name: &str, props: &str, children: &str) -> String {
    format!(
        r#"<com.blazemeter.jmeter.controller.ParallelSampler guiclass="com.blazemeter.jmeter.controller.ParallelControllerGui" testclass="com.blazemeter.jmeter.controller.ParallelSampler" testname="{name}" enabled="true">
          {props}
        </com.blazemeter.jmeter.controller.ParallelSampler>
        <hashTree>{children}</hashTree>"#
    )
}

const PARENT: &str = r#"<boolProp name="PARENT_SAMPLE">true</boolProp>"#;

/// Stop the thread after a failed sample.
const STOP_THREAD: &str =
    r#"<stringProp name="ThreadGroup.on_sample_error">stopthread</stringProp>"#;

/// How far apart the server received the first requests for `a` and `b`.
fn gap(server: &TestServer, a: &str, b: &str) -> Duration {
    let (a, b) = (server.requests_to(a)[0].at, server.requests_to(b)[0].at);
    if a > b { a - b } else { b - a }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_run_at_once_as_sub_results_of_one_sample_and_their_variables_stay() {
    let server = TestServer::start().await;
    let branch = simple(
        "In turn",
        &(http(
            "C1",
            "GET",
            "/c1?q=tok42",
            &[],
            "",
            &regex_extractor("tok", r"q=(\w+)", "$1$", 1, "none"),
        ) + &get("C2", "/c2")),
    );
    let children = get("Slow A", "/res/slow-a") + &get("Slow B", "/res/slow-b") + &branch;
    let after = http("After", "GET", "/after", &[("v", "${tok}")], "", "");
    let xml = jmx(
        &[],
        &group(
            "G",
            1,
            0,
            1,
            "",
            &(parallel("Par", PARENT, &children) + &after),
        ),
    );
    let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
    for path in ["/res/slow-a", "/res/slow-b", "/c1", "/c2", "/after"] {
        assert_eq!(server.count(path), 1, "{path}");
    }
    // The two slow children were asked for together; the controller's two in turn.
    assert!(gap(&server, "/res/slow-a", "/res/slow-b") < Duration::from_millis(250));
    assert!(server.requests_to("/c2")[0].at >= server.requests_to("/c1")[0].at);
    // The variable a branch extracted is the user's after the sampler.
    assert_eq!(server.requests_to("/after")[0].query, "v=tok42");

    // One sample for the sampler, one for After; the four children under the first.
    assert_eq!((summary.samples, summary.errors), (2, 0));
    assert_eq!(rows.len(), 6);
    let par = labelled(&rows, "Par")[0];
    assert_eq!((par.kind.as_str(), par.success), ("sample", true));
    assert_eq!(
        (par.code.as_deref(), par.message.as_str()),
        (Some("200"), "OK")
    );
    let subs: Vec<&Row> = rows
        .iter()
        .filter(|r| r.parent_row == Some(par.row))
        .collect();
    let mut labels: Vec<&str> = subs.iter().map(|r| r.label.as_str()).collect();
    labels.sort_unstable();
    assert_eq!(labels, ["C1", "C2", "Slow A", "Slow B"]);
    assert!(subs.iter().all(|r| r.kind == "subsample" && r.success));
    let received: i64 = subs.iter().map(|r| r.bytes_received).sum();
    assert_eq!(par.bytes_received, received);
    let end = subs.iter().map(|r| r.ts + r.elapsed).max().unwrap_or(0);
    assert_eq!(par.ts + par.elapsed, end);
    // At once: about one slow child long, not two.
    assert!(par.elapsed >= 300 && par.elapsed < 580, "{par:?}");
    assert_eq!(labelled(&rows, "After")[0].parent_row, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_parent_sample_children_are_recorded_alone_and_a_limit_of_one_takes_turns() {
    let server = TestServer::start().await;
    let props = r#"<boolProp name="PARENT_SAMPLE">false</boolProp>
        <boolProp name="LIMIT_MAX_THREAD_NUMBER">true</boolProp>
        <intProp name="MAX_THREAD_NUMBER">1</intProp>"#;
    let children =
        get("Slow A", "/res/slow-a") + &get("Missing", "/notfound") + &get("Slow B", "/res/slow-b");
    // A failed child does not stop the thread: the plugin's branches continue on error.
    let xml = jmx(
        &[],
        &group(
            "G",
            1,
            0,
            1,
            STOP_THREAD,
            &(parallel("Par", props, &children) + &get("After", "/after")),
        ),
    );
    let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
    for path in ["/res/slow-a", "/notfound", "/res/slow-b", "/after"] {
        assert_eq!(server.count(path), 1, "{path}");
    }
    // One thread: the second slow child waits for the first.
    assert!(gap(&server, "/res/slow-a", "/res/slow-b") >= Duration::from_millis(300));
    assert_eq!((summary.samples, summary.errors), (4, 1));
    let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["Slow A", "Missing", "Slow B", "After"]);
    assert!(
        rows.iter()
            .all(|r| r.kind == "sample" && r.parent_row.is_none())
    );
    assert!(labelled(&rows, "Par").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_child_fails_the_parent_sample_and_the_thread_group_acts_on_it() {
    let server = TestServer::start().await;
    let children = get("Missing", "/notfound") + &get("Fine", "/fine");
    let xml = jmx(
        &[],
        &group(
            "G",
            1,
            0,
            2,
            STOP_THREAD,
            &(parallel("Par", PARENT, &children) + &get("After", "/after")),
        ),
    );
    let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
    // The thread stopped after the failed parent sample: no After, no second iteration.
    assert_eq!(
        (
            server.count("/notfound"),
            server.count("/fine"),
            server.count("/after")
        ),
        (1, 1, 0)
    );
    assert_eq!((summary.samples, summary.errors), (1, 1));
    let par = labelled(&rows, "Par")[0];
    assert!(!par.success);
    assert_eq!(par.code.as_deref(), Some("200"));
    let failed: Vec<&Row> = rows.iter().filter(|r| !r.success).collect();
    assert_eq!(failed.len(), 2, "the parent and its Missing child");
    assert_eq!(labelled(&rows, "Missing")[0].parent_row, Some(par.row));
}

#[test]
fn a_thread_limit_below_one_is_refused_and_validate_describes_the_sampler() {
    let plan = |props: &str| {
        jmx(
            &[],
            &group("G", 1, 0, 1, "", &parallel("Par", props, &get("A", "/a"))),
        )
    };
    let limited = |n: i64| {
        format!(
            r#"<boolProp name="LIMIT_MAX_THREAD_NUMBER">true</boolProp>
               <intProp name="MAX_THREAD_NUMBER">{n}</intProp>"#
        )
    };
    let err = compile(&plan(&limited(0)), &[("port", "1")])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("\"Par\"") && err.contains("MAX_THREAD_NUMBER"),
        "{err}"
    );
    // Scope all would read the children's samples too: refused on the parent sample.
    let all = assertion("Every part", "Assertion.response_code", 8, &["200"], false).replace(
        "</ResponseAssertion>",
        r#"<stringProp name="Assertion.scope">all</stringProp></ResponseAssertion>"#,
    );
    let scoped = jmx(
        &[],
        &group(
            "G",
            1,
            0,
            1,
            "",
            &parallel("Par", PARENT, &(get("A", "/a") + &all)),
        ),
    );
    let err = compile(&scoped, &[("port", "1")])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("\"Every part\"") && err.contains("Parallel Sampler"),
        "{err}"
    );
    let described = compile(&plan(&(limited(3) + PARENT)), &[("port", "1")])
        .map(|p| p.explain())
        .unwrap_or_default();
    assert!(
        described.contains(
            "Parallel Sampler \"Par\" (children at most 3 at once, one sample with the \
             children's as sub-results)"
        ),
        "{described}"
    );
}
