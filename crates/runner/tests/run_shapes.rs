//! Load profiles (stages) against the loopback test server: the users the run keeps match the
//! configured curve second by second.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use loadlake_plan::LoadProfile;
use loadlake_runner::{PeakSeeking, RunOptions};
use loadlake_schema::SampleBatch;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A plan of one thread group whose users each loop over one GET of `path` on `server`.
fn one_get(server: &TestServer, path: &str) -> loadlake_runner::RunnablePlan {
    let xml = jmx(
        &[],
        &group("G", 1, 0, 1, "", &http("R", "GET", path, &[], "", "")),
    );
    let port = server.port().to_string();
    compile(&xml, &[("port", &port)]).unwrap()
}

/// Runs `plan` with `profile`; returns the rows and the run's start (epoch ms).
async fn run_profile(
    plan: &loadlake_runner::RunnablePlan,
    profile: LoadProfile,
) -> (Vec<Row>, i64) {
    let limit = profile.length() + Duration::from_secs(5);
    let options = RunOptions {
        profile: Some(profile),
        ..RunOptions::default()
    };
    let mut batches: Vec<SampleBatch> = Vec::new();
    let start = now_ms();
    run_into(plan, options, &mut batches, limit).await;
    (rows(&batches), start)
}

/// Requests the server received in each of the first `seconds` seconds after the first one.
fn per_second(reqs: &[Received], seconds: usize) -> Vec<i32> {
    let mut counts = vec![0; seconds];
    if let Some(first) = reqs.iter().map(|r| r.at).min() {
        for r in reqs {
            if let Some(n) = counts.get_mut((r.at - first).as_secs() as usize) {
                *n += 1;
            }
        }
    }
    counts
}

/// The server got exactly as many requests as `want` adds up to, the run recorded as many
/// samples (`samples`), and each second got its `want` ± 2 (a request at the edge of a second
/// can land in the next).
fn assert_requests_per_second(server: &TestServer, samples: usize, want: &[i32]) {
    let reqs = server.requests();
    let total = want.iter().sum::<i32>() as usize;
    assert_eq!(reqs.len(), total);
    assert_eq!(samples, total);
    let got = per_second(&reqs, want.len());
    assert!(
        got.iter().zip(want).all(|(g, w)| (g - w).abs() <= 2),
        "{got:?}, want {want:?}"
    );
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
    let plan = one_get(&server, "/delay50");
    let profile = LoadProfile::from_yaml(
        "stages:
  - {mode: surge, min: 2, max: 8, base: 1s, burst: 1s, loops: 2}
  - {mode: oscillation, min: 0, max: 6, period: 2s, duration: 2s}
",
        "test",
    )
    .unwrap();
    let (rows, start) = run_profile(&plan, profile).await;
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

/// Runs the peak-seeking ramp 4, 6, 8, … users (1 s steps) against `/capacity`: 100 ms per
/// answer and at most 100 answers a second, so up to 10 users get 100 ms and beyond that the
/// queue grows (Little's law: 12 users → 120 ms, 14 → 140 ms) while TPS stays at 100.
async fn seek_peak(kpis: &[&str], knee: bool) -> loadlake_runner::PeakReport {
    let server = TestServer::start().await;
    let plan = one_get(&server, "/capacity");
    let kpis = kpis.iter().map(|k| k.parse().unwrap()).collect();
    let peak = PeakSeeking::new(4, 2, Duration::from_secs(1), 20, kpis, knee).unwrap();
    assert_eq!(peak.levels(), [4, 6, 8, 10, 12, 14, 16, 18, 20]);
    let options = RunOptions {
        peak: Some(peak),
        ..RunOptions::default()
    };
    let summary = run_into(&plan, options, &mut Vec::new(), Duration::from_secs(15)).await;
    summary.peak.expect("a peak-seeking run reports its steps")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peak_seeking_stops_one_step_past_the_servers_capacity() {
    let report = seek_peak(&["avg_rt<=110ms", "success_rate>=99%"], false).await;
    let users: Vec<u32> = report.steps.iter().map(|s| s.users).collect();
    // 10 users is the last level the server serves in 100 ms; 12 breaks the rule and stops
    // the run there.
    assert_eq!(users, [4, 6, 8, 10, 12], "{report:#?}");
    assert_eq!(report.peak.map(|i| report.steps[i].users), Some(10));
    assert!(report.stopped_by_rule);
    let last = &report.steps[4];
    assert!(
        last.broken[0].starts_with("avg_rt<=110ms (measured 1"),
        "{last:?}"
    );
    // Up to the knee every user adds ~10 samples a second.
    for s in &report.steps[..4] {
        let expected = f64::from(s.users) * 10.0;
        assert!((s.tps - expected).abs() <= expected * 0.15, "{s:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smart_peak_seeking_stops_at_the_knee_without_rules() {
    let report = seek_peak(&[], true).await;
    // From 10 to 12 users TPS stays at the server's 100 a second: the knee.
    assert_eq!(
        report.peak.map(|i| report.steps[i].users),
        Some(10),
        "{report:#?}"
    );
    let knee = report.steps.last().unwrap();
    assert_eq!(knee.users, 12);
    assert!(
        knee.broken.iter().any(|b| b.starts_with("knee: ")),
        "{knee:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_rule_ends_the_run_once_it_held_long_enough() {
    let server = TestServer::start().await;
    let plan = one_get(&server, "/capacity");
    // 8 users (100 ms answers: the rule never holds) for 3 s, then 12 (the queue grows to
    // ~120 ms) for up to 20 s.
    let profile = LoadProfile::from_yaml(
        "stages:
  - {mode: concurrency, users: 8, duration: 3s}
  - {mode: concurrency, users: 12, duration: 20s}
",
        "test",
    )
    .unwrap();
    let options = RunOptions {
        profile: Some(profile),
        stop_rules: vec!["avg_rt>110ms for 2s".parse().unwrap()],
        ..RunOptions::default()
    };
    let summary = run_into(&plan, options, &mut Vec::new(), Duration::from_secs(25)).await;
    let why = summary.stopped_by.expect("the rule stops the run");
    assert!(
        why.starts_with("stop rule avg_rt>110ms for 2s (measured 1"),
        "{why}"
    );
    // Not in the first stage; within a few seconds of the second one.
    let secs = summary.elapsed.as_secs_f64();
    assert!((4.5..9.0).contains(&secs), "stopped after {secs} s: {why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_arrival_rate_holds_for_30_seconds_against_a_slow_server() {
    let server = TestServer::start().await;
    // 100 iterations a second for 30 s against a server that takes 50 ms: 3 000 due, ~5 users
    // busy at a time.
    let plan = one_get(&server, "/delay50");
    let options = RunOptions {
        duration: Some(Duration::from_secs(30)),
        arrival: Some(loadlake_runner::ArrivalRate {
            per_second: 100.0,
            max_vus: Some(50),
        }),
        ..RunOptions::default()
    };
    let summary = run_into(&plan, options, &mut Vec::new(), Duration::from_secs(40)).await;
    assert_eq!(summary.dropped_iterations, 0);
    let reqs = server.requests();
    // Over the 30 s the achieved rate is the target within ±2 %, and so is every second.
    assert!(
        (2940..=3060).contains(&reqs.len()),
        "{} requests",
        reqs.len()
    );
    let per_second = per_second(&reqs, 30);
    assert!(
        per_second.iter().all(|n| (98..=102).contains(n)),
        "{per_second:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrival_rate_stages_ramp_hold_and_drop_second_by_second() {
    let server = TestServer::start().await;
    let plan = one_get(&server, "/delay50");
    // 0 → 40 per second over 2 s, held to 4 s, then 10 per second for 2 s.
    let profile = LoadProfile::from_yaml(
        "max_vus: 10
stages:
  - {mode: tps, tps: 40, ramp_up: 2s, duration: 4s}
  - {mode: tps, tps: 10, duration: 2s}
",
        "tps.yaml",
    )
    .unwrap();
    let (rows, _) = run_profile(&plan, profile).await;
    // Arrivals are the integral of the rate: 20t per second during the ramp, so 10 in the
    // first second and 30 in the second; then 40, 40, 10, 10. 140 in all, each one request.
    assert_requests_per_second(&server, rows.len(), &[10, 30, 40, 40, 10, 10]);
    // The file's cap holds: at most 10 users (here ~2 are busy at 40/s × 50 ms).
    let users: BTreeSet<&str> = rows.iter().map(|r| r.thread.as_str()).collect();
    assert!((1..=10).contains(&users.len()), "{users:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_surge_of_the_rate_alternates_second_by_second() {
    let server = TestServer::start().await;
    let plan = one_get(&server, "/delay50");
    // 浪涌 TPS: 1 s at 10 per second, 1 s at 40, twice: 10, 40, 10, 40 requests, 100 in all.
    // (The group has one thread; at 40/s × 50 ms two users are busy, so the cap is raised.)
    let profile = LoadProfile::from_yaml(
        "max_vus: 10\nstages:\n  - {mode: surge_tps, min: 10, max: 40, base: 1s, burst: 1s, loops: 2}\n",
        "surge.yaml",
    )
    .unwrap();
    let (rows, _) = run_profile(&plan, profile).await;
    assert_requests_per_second(&server, rows.len(), &[10, 40, 10, 40]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_count_stage_begins_exactly_its_iterations_shared_by_thread_count() {
    let server = TestServer::start().await;
    // Two groups of 1 and 3 threads: a count of 50 is split 12 / 38 (⌊50·1/4⌋, the rest).
    let port = server.port().to_string();
    let xml = jmx(
        &[],
        &(group(
            "A",
            1,
            0,
            1,
            "",
            &http("RA", "GET", "/delay50", &[], "", ""),
        ) + &group(
            "B",
            3,
            0,
            1,
            "",
            &http("RB", "GET", "/delay50", &[], "", ""),
        )),
    );
    let plan = compile(&xml, &[("port", &port)]).unwrap();
    let profile = LoadProfile::from_yaml(
        "stages:\n  - {mode: concurrency, users: 8, count: 50, max_duration: 20s}\n",
        "count.yaml",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let (rows, _) = run_profile(&plan, profile).await;
    // Done when the 50 began (8 users × 20 requests a second: about 0.3 s), not at 20 s.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.requests().len(), 50);
    assert_eq!(rows.len(), 50);
    let per_label = |label: &str| rows.iter().filter(|r| r.label == label).count();
    assert_eq!((per_label("RA"), per_label("RB")), (12, 38));
}
