//! Scheduling and flow: timers, transactions, network failures, on_sample_error, ramp-up,
//! durations, cancellation and the sample limit.

mod common;

use std::time::{Duration, Instant};

use common::*;
use loadlake_runner::{RunOptions, RunnerError};

const SCHEDULER: &str = r#"<boolProp name="ThreadGroup.scheduler">true</boolProp>"#;

fn on_error(action: &str) -> String {
    format!(r#"<stringProp name="ThreadGroup.on_sample_error">{action}</stringProp>"#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_timer_spaces_requests() {
    let server = TestServer::start().await;
    let xml = jmx(
        &[],
        &group(
            "G",
            1,
            0,
            4,
            "",
            &(timer(150) + &http("A", "GET", "/a", &[], "", "")),
        ),
    );
    let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!(summary.samples, 4);
    for pair in rows.windows(2) {
        assert!(
            pair[1].ts - pair[0].ts >= 150,
            "{} then {}",
            pair[0].ts,
            pair[1].ts
        );
    }
    let reqs = server.requests();
    for pair in reqs.windows(2) {
        assert!(pair[1].at.duration_since(pair[0].at) >= Duration::from_millis(150));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_sample_sums_its_children() {
    let server = TestServer::start().await;
    // Loop ×2 { Transaction { Simple { echo }, timer 100 ms, notfound } }
    let tx = transaction(
        "Checkout",
        false,
        &(simple("Grouping", &http("Echo", "GET", "/echo", &[], "", ""))
            + &timer(100)
            + &http("Missing", "GET", "/notfound", &[], "", "")),
    );
    let xml = jmx(
        &[],
        &group("Shop", 1, 0, 1, "", &loop_controller("Twice", 2, &tx)),
    );
    let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!((server.count("/echo"), server.count("/notfound")), (2, 2));
    assert_eq!((summary.samples, summary.errors), (6, 4));
    let txs = labelled(&rows, "Checkout");
    assert_eq!(txs.len(), 2);
    for t in &txs {
        let children: Vec<_> = rows
            .iter()
            .filter(|r| r.kind == "sample" && r.row < t.row && r.row >= t.row - 2)
            .collect();
        assert_eq!(children.len(), 2);
        assert_eq!(t.kind, "transaction");
        assert_eq!(t.elapsed, children.iter().map(|c| c.elapsed).sum::<i64>());
        assert_eq!(
            t.bytes_received,
            children.iter().map(|c| c.bytes_received).sum::<i64>()
        );
        assert_eq!(
            t.message,
            "Number of samples in transaction : 2, number of failing samples : 1"
        );
        assert!(!t.success);
        assert_eq!((t.code.as_deref(), t.error_class.as_str()), (None, "other"));
        assert_eq!(t.ts, children[0].ts.min(t.ts));
        // Both samplers wait 100 ms (the timer is in the transaction's scope): idle, not elapsed.
        assert!(t.idle >= 200, "{t:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connection_is_a_failed_sample_classified_refused() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let xml = jmx(
        &[],
        &group("G", 1, 0, 2, "", &http("Down", "GET", "/", &[], "", "")),
    );
    let (summary, rows) = run(&xml, port, RunOptions::default()).await;
    assert_eq!((summary.samples, summary.errors), (2, 2));
    for r in &rows {
        assert!(!r.success);
        assert_eq!(
            r.code.as_deref(),
            Some("Non HTTP response code: java.net.ConnectException")
        );
        assert_eq!(r.message, "Non HTTP response message: Connection refused");
        assert_eq!(r.error_class, "refused");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_timeout_is_classified_timeout() {
    let server = TestServer::start().await;
    let timeout = r#"<stringProp name="HTTPSampler.response_timeout">300</stringProp>"#;
    let xml = jmx(
        &[],
        &group(
            "G",
            1,
            0,
            1,
            "",
            &http("Slow", "GET", "/slow", &[], timeout, ""),
        ),
    );
    let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!((summary.samples, summary.errors), (1, 1));
    let r = &rows[0];
    assert_eq!(
        r.code.as_deref(),
        Some("Non HTTP response code: java.net.SocketTimeoutException")
    );
    assert_eq!(r.message, "Non HTTP response message: Read timed out");
    assert_eq!(r.error_class, "timeout");
    assert!((300..1500).contains(&r.elapsed), "{}", r.elapsed);
    assert_eq!(server.count("/slow"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopthread_stops_each_thread_after_its_first_failure() {
    let server = TestServer::start().await;
    let steps = http("Echo", "GET", "/echo", &[], "", "")
        + &http("Error", "GET", "/error", &[], "", "")
        + &http("Never", "GET", "/never", &[], "", "");
    let xml = jmx(&[], &group("G", 2, 0, 5, &on_error("stopthread"), &steps));
    let (summary, _) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!(
        (
            server.count("/echo"),
            server.count("/error"),
            server.count("/never")
        ),
        (2, 2, 0)
    );
    assert_eq!((summary.samples, summary.errors), (4, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startnextloop_skips_the_rest_of_the_iteration() {
    let server = TestServer::start().await;
    let steps = http("Echo", "GET", "/echo", &[], "", "")
        + &simple("Inner", &http("Error", "GET", "/error", &[], "", ""))
        + &http("Never", "GET", "/never", &[], "", "");
    let xml = jmx(
        &[],
        &group("G", 1, 0, 3, &on_error("startnextloop"), &steps),
    );
    let (summary, _) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!(
        (
            server.count("/echo"),
            server.count("/error"),
            server.count("/never")
        ),
        (3, 3, 0)
    );
    assert_eq!(summary.samples, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stoptest_stops_every_thread() {
    let server = TestServer::start().await;
    // User 1 fails at once; user 2 starts 1 s later and must not send anything.
    let steps = http("Error", "GET", "/error", &[], "", "");
    let xml = jmx(&[], &group("G", 2, 2, 3, &on_error("stoptest"), &steps));
    let (summary, _) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!(server.count("/error"), 1);
    assert_eq!(summary.samples, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ramp_up_spreads_thread_starts() {
    let server = TestServer::start().await;
    let xml = jmx(
        &[],
        &group("G", 3, 1, 1, "", &http("A", "GET", "/a", &[], "", "")),
    );
    let (_, rows) = run(&xml, server.port(), RunOptions::default()).await;
    let start = |t: &str| rows.iter().find(|r| r.thread == t).unwrap().ts;
    let first = start("G 1-1");
    // Threads start at 0, 333 and 667 ms.
    assert!(start("G 1-2") - first >= 330, "{rows:?}");
    assert!(start("G 1-3") - first >= 660, "{rows:?}");
    assert!(start("G 1-3") - first < 1000, "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forever_needs_a_duration_and_the_scheduler_bounds_it() {
    let server = TestServer::start().await;
    let steps = timer(50) + &http("A", "GET", "/a", &[], "", "");
    let unbounded = jmx(&[], &group("G", 1, 0, -1, "", &steps));
    let plan = compile(&unbounded, &[("port", "1")]).unwrap();
    let err = loadlake_runner::run(&plan, RunOptions::default(), &mut Vec::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, RunnerError::Unbounded { ref group } if group == "G"),
        "{err}"
    );

    let scheduled = format!(r#"{SCHEDULER}<stringProp name="ThreadGroup.duration">1</stringProp>"#);
    let xml = jmx(&[], &group("G", 1, 0, -1, &scheduled, &steps));
    let started = Instant::now();
    let (summary, _) = run(&xml, server.port(), RunOptions::default()).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_millis(2000),
        "{took:?}"
    );
    // One request per ~50 ms for one second.
    assert!((5..=21).contains(&summary.samples), "{summary:?}");
    assert_eq!(server.count("/a") as u64, summary.samples);

    let options = RunOptions {
        duration: Some(Duration::from_millis(400)),
        ..RunOptions::default()
    };
    let started = Instant::now();
    let (summary, _) = run(&unbounded, server.port(), options).await;
    assert!(started.elapsed() < Duration::from_millis(1200));
    assert!(summary.samples >= 2, "{summary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_and_max_samples_stop_the_run() {
    let server = TestServer::start().await;
    let scheduled =
        format!(r#"{SCHEDULER}<stringProp name="ThreadGroup.duration">30</stringProp>"#);
    let xml = jmx(
        &[],
        &group(
            "G",
            2,
            0,
            -1,
            &scheduled,
            &(timer(20) + &http("A", "GET", "/a", &[], "", "")),
        ),
    );
    let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = cancel_tx.send(true);
    });
    let started = Instant::now();
    let options = RunOptions {
        cancel: Some(cancel_rx),
        ..RunOptions::default()
    };
    let (summary, rows) = run(&xml, server.port(), options).await;
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert!(summary.cancelled && !summary.hit_max_samples);
    assert_eq!(rows.len() as u64, summary.samples);

    let options = RunOptions {
        max_samples: Some(5),
        ..RunOptions::default()
    };
    let (summary, rows) = run(&xml, server.port(), options).await;
    assert_eq!((summary.samples, rows.len()), (5, 5));
    assert!(summary.hit_max_samples && !summary.cancelled);
}

/// A sink that takes 300 ms per batch: a store that cannot keep up.
struct SlowSink(Vec<loadlake_schema::SampleBatch>);

impl loadlake_schema::SampleSink for SlowSink {
    fn write_batch(
        &mut self,
        batch: loadlake_schema::SampleBatch,
    ) -> Result<(), loadlake_schema::SinkError> {
        std::thread::sleep(Duration::from_millis(300));
        self.0.push(batch);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_that_falls_behind_slows_the_users_and_loses_nothing() {
    let server = TestServer::start().await;
    let xml = jmx(
        &[],
        &group("G", 4, 0, 2000, "", &http("A", "GET", "/a", &[], "", "")),
    );
    let port = server.port().to_string();
    let plan = compile(&xml, &[("port", &port)]).unwrap();
    let mut sink = SlowSink(Vec::new());
    // Room for 2 samples between the users and the collector: 8 000 samples are more than a
    // batch (BATCH_ROWS), so the collector hands one to the sink mid-run and is held there
    // 300 ms, while the 4 users still have samples to give it: they must wait for the writer.
    const { assert!(8_000 > loadlake_runner::BATCH_ROWS) };
    let options = RunOptions {
        channel_depth: Some(2),
        ..RunOptions::default()
    };
    let summary = run_into(&plan, options, &mut sink, Duration::from_secs(60)).await;
    let recorded: usize = sink.0.iter().map(|b| b.num_rows()).sum();
    assert_eq!((summary.samples, recorded), (8_000, 8_000));
    assert_eq!(server.count("/a"), 8_000);
    assert!(summary.writer_waits > 0, "{summary:?}");

    // With the default depth and a prompt sink, nobody waits (the same 8 000 samples: bounded
    // like the run above, not by `run`'s 5 s, which a loaded machine's debug build can pass).
    let mut prompt: Vec<loadlake_schema::SampleBatch> = Vec::new();
    let summary = run_into(
        &plan,
        RunOptions::default(),
        &mut prompt,
        Duration::from_secs(60),
    )
    .await;
    assert_eq!((summary.samples, summary.writer_waits), (8_000, 0));
}

/// Gaps (ms) between consecutive arrivals at the server.
fn arrival_gaps(server: &TestServer) -> Vec<f64> {
    let mut at: Vec<_> = server.requests().iter().map(|r| r.at).collect();
    at.sort();
    at.windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64() * 1000.0)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_timers_wait_offset_plus_a_fresh_draw_each_time() {
    // Uniform: 60 ms + [0, 80) ms before each of 12 requests of one user.
    let server = TestServer::start().await;
    let steps = random_timer(true, 60, 80.0) + &http("R", "GET", "/echo", &[], "", "");
    run(
        &jmx(&[], &group("U", 1, 0, 12, "", &steps)),
        server.port(),
        RunOptions::default(),
    )
    .await;
    let gaps = arrival_gaps(&server);
    assert_eq!(gaps.len(), 11);
    assert!(
        gaps.iter().all(|g| *g >= 60.0 && *g < 60.0 + 80.0 + 60.0),
        "{gaps:?}"
    );
    let spread = gaps.iter().cloned().fold(f64::MIN, f64::max)
        - gaps.iter().cloned().fold(f64::MAX, f64::min);
    assert!(
        spread > 10.0,
        "a new draw each time, not one fixed delay: {gaps:?}"
    );

    // Gaussian: 150 ms, deviation 30 ms: the mean gap of 15 is near 150 ms.
    let server = TestServer::start().await;
    let steps = random_timer(false, 150, 30.0) + &http("G", "GET", "/echo", &[], "", "");
    run(
        &jmx(&[], &group("U", 1, 0, 16, "", &steps)),
        server.port(),
        RunOptions::default(),
    )
    .await;
    let gaps = arrival_gaps(&server);
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    assert!(
        (125.0..200.0).contains(&mean),
        "mean gap {mean} ms: {gaps:?}"
    );
}
