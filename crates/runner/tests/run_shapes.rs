//! Load profiles (stages) against the loopback test server: the users the run keeps match the
//! configured curve second by second.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use loadlake_plan::LoadProfile;
use loadlake_runner::RunOptions;
use loadlake_schema::SampleBatch;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Runs `xml` with `profile`; returns the rows and the run's start (epoch ms).
async fn run_profile(xml: &str, port: u16, profile: LoadProfile) -> (Vec<Row>, i64) {
    let port = port.to_string();
    let plan = compile(xml, &[("port", &port)]).unwrap();
    let limit = profile.length() + Duration::from_secs(5);
    let options = RunOptions {
        profile: Some(profile),
        ..RunOptions::default()
    };
    let mut batches: Vec<SampleBatch> = Vec::new();
    let start = now_ms();
    run_into(&plan, options, &mut batches, limit).await;
    (rows(&batches), start)
}

/// Distinct users that started a sample between `from` and `to` seconds into the run.
fn users_between(rows: &[Row], start: i64, from: f64, to: f64) -> usize {
    let (a, b) = (start + (from * 1000.0) as i64, start + (to * 1000.0) as i64);
    rows.iter()
        .filter(|r| (a..b).contains(&r.ts))
        .map(|r| r.thread.as_str())
        .collect::<BTreeSet<_>>()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn surge_and_oscillation_keep_the_configured_users_each_second() {
    let server = TestServer::start().await;
    // One group (so it gets every user); each iteration is one 50 ms request, no think time.
    let xml = jmx(
        &[],
        &group("G", 1, 0, 1, "", &http("D", "GET", "/delay50", &[], "", "")),
    );
    let profile = LoadProfile::from_yaml(
        "stages:
  - {mode: surge, min: 2, max: 8, base: 1s, burst: 1s, loops: 2}
  - {mode: oscillation, min: 0, max: 6, period: 2s, duration: 2s}
",
        "test",
    )
    .unwrap();
    let (rows, start) = run_profile(&xml, server.port(), profile).await;
    // Surge: 2 users, then 8, then 2, then 8 — counted in the middle of each second, away from
    // the changes (a new user starts within one 50 ms tick, a retired one ends with its
    // iteration).
    let surge: Vec<usize> = (0..4)
        .map(|s| users_between(&rows, start, s as f64 + 0.3, s as f64 + 0.7))
        .collect();
    assert_eq!(surge, [2, 8, 2, 8]);
    // Oscillation from 4 s: 0 → 6 over 1 s and back; at 4.5 s 3 users, at 5 s 6, at 5.5 s 3
    // (±1: the level changes every ~167 ms, the window is 100 ms wide).
    for (at, want) in [(4.5, 3), (5.0, 6), (5.5, 3)] {
        let got = users_between(&rows, start, at - 0.05, at + 0.05);
        assert!(
            got.abs_diff(want) <= 1,
            "at {at} s: {got} users, want {want}±1"
        );
    }
    // Nothing starts after the profile's 6 s (give the last iterations 150 ms).
    let last = rows.iter().map(|r| r.ts).max().unwrap();
    assert!(last < start + 6_150, "last sample {} ms in", last - start);
    // The users' samples report the group's active users, within the profile's range.
    assert!(rows.iter().all(|r| r.all_threads <= 8 + 1));
}
