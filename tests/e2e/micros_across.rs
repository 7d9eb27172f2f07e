//! `compare` and `trend` with `--resolution us`: two k6 runs whose durations were chosen by hand
//! to the µs (micros_reports.rs's `FAST_US` / `SLOW_US`, and the candidate's below), compared and
//! trended in µs against hand-computed values, in ms against their hand-rounded values (unchanged
//! output), and a JMeter import, which has whole ms only, as exactly its ms values × 1000.
//! Nearest-rank percentiles: the ⌈p·n⌉-th smallest value.

use serde_json::Value;

use crate::common::*;
use crate::micros_reports::{FAST_US, SLOW_US, k6_file_of};

/// The candidate's `fast` durations in µs. Sorted: 95 140 250 330 402 480 655 760 1020 1101;
/// sum 5233, mean 523.3, median (5th) 402, p90 (9th) 1020, p95 and p99 (10th) 1101. Rounded to
/// whole ms (halves away from zero) they are the baseline's: six 0 and four 1 (mean 0.4).
const FAST2_US: [i64; 10] = [250, 330, 480, 760, 1101, 140, 95, 402, 655, 1020];
/// The candidate's `slow` durations in µs (the 4th an HTTP 500). Sorted: 499950 500100 1500900
/// 1999000; sum 4499950, mean 1124987.5, median (2nd) 500100, p90 / p95 / p99 (4th) 1999000.
/// In whole ms 500 500 1501 1999 (mean 1125), the baseline's 500 500 1500 2000 (mean 1125).
const SLOW2_US: [i64; 4] = [499_950, 500_100, 1_500_900, 1_999_000];

/// The baseline (`FAST_US`, `SLOW_US`, at 00:00) and the candidate (`FAST2_US`, `SLOW2_US`, a
/// minute later), both named `micros`, in a new store.
fn two_k6_runs() -> (TestStore, String, String) {
    let store = TestStore::new();
    let a = k6_file_of(store.path(), "a.json", 0, &FAST_US, &SLOW_US);
    let b = k6_file_of(store.path(), "b.json", 1, &FAST2_US, &SLOW2_US);
    let base = store.import(&[a.to_str().unwrap(), "--name", "micros"]);
    let cand = store.import(&[b.to_str().unwrap(), "--name", "micros"]);
    (store, base, cand)
}

/// The row of `metric` of request `name` in a comparison's JSON.
fn row<'a>(c: &'a Value, name: &str, metric: &str) -> &'a Value {
    c["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["level"] == "request" && r["name"] == name && r["metric"] == metric)
        .unwrap_or_else(|| panic!("no row {name} {metric}: {c}"))
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Asserts `r`'s baseline, candidate, delta, deltaPct and verdict.
fn assert_row(r: &Value, baseline: f64, candidate: f64, verdict: &str) {
    assert!(close(num(&r["baseline"]), baseline, 1e-12), "{r}");
    assert!(close(num(&r["candidate"]), candidate, 1e-12), "{r}");
    let delta = candidate - baseline;
    assert!(
        (num(&r["delta"]) - delta).abs() <= 1e-9 * baseline.abs().max(1.0),
        "{r}"
    );
    if baseline != 0.0 {
        assert!(
            close(num(&r["deltaPct"]), delta / baseline * 100.0, 1e-9),
            "{r}"
        );
    }
    assert_eq!(r["verdict"], verdict, "{r}");
}

#[test]
fn compare_in_microseconds_sees_what_whole_ms_cannot() {
    let (store, base, cand) = two_k6_runs();
    let compare = |extra: &[&str]| {
        let mut args = vec![
            "compare",
            base.as_str(),
            cand.as_str(),
            "--min-samples",
            "1",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        store.json(&args)
    };
    let us = compare(&["--resolution", "us"]);
    assert_eq!(us["timeUnit"], "us", "{us}");
    // fast: mean 485.6 → 523.3 (+7.76 %), median 350 → 402 (+14.9 %: beyond 10 %),
    // p90 999 → 1020, p95 and p99 1004 → 1101 (+9.66 %).
    for (metric, b, c, verdict) in [
        ("averageRespTime", 485.6, 523.3, "same"),
        ("tp50", 350.0, 402.0, "regression"),
        ("tp90", 999.0, 1020.0, "same"),
        ("tp95", 1004.0, 1101.0, "same"),
        ("tp99", 1004.0, 1101.0, "same"),
    ] {
        assert_row(row(&us, "fast", metric), b, c, verdict);
    }
    // slow: mean 1125125.25 → 1124987.5, median 500200 → 500100, p90 2000001 → 1999000.
    for (metric, b, c) in [
        ("averageRespTime", 1_125_125.25, 1_124_987.5),
        ("tp50", 500_200.0, 500_100.0),
        ("tp90", 2_000_001.0, 1_999_000.0),
        ("tp99", 2_000_001.0, 1_999_000.0),
    ] {
        assert_row(row(&us, "slow", metric), b, c, "same");
    }
    // Not times: the same in either unit (3 of 4 slow requests succeed in both runs).
    assert_row(row(&us, "slow", "successRate"), 75.0, 75.0, "same");
    assert_eq!(us["regressions"], 1, "{us}");

    // In whole ms both runs' fast requests are 0 0 0 0 0 0 1 1 1 1: nothing changed.
    let ms = compare(&[]);
    assert!(ms.get("timeUnit").is_none(), "ms JSON as before: {ms}");
    for (metric, v) in [
        ("averageRespTime", 0.4),
        ("tp50", 0.0),
        ("tp90", 1.0),
        ("tp95", 1.0),
    ] {
        let r = row(&ms, "fast", metric);
        assert_eq!((num(&r["baseline"]), num(&r["candidate"])), (v, v), "{r}");
        assert_eq!(r["verdict"], "same", "{r}");
    }
    assert_row(row(&ms, "slow", "tp90"), 2000.0, 1999.0, "same");
    assert_row(row(&ms, "slow", "averageRespTime"), 1125.0, 1125.0, "same");
    assert_eq!(ms["regressions"], 0, "{ms}");

    // The table names the unit of the time metrics, in µs only (ms tables as before).
    let out = store.run(&[
        "compare",
        &base,
        &cand,
        "--min-samples",
        "1",
        "--resolution",
        "us",
    ]);
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("tp50 (µs)"), "{table}");
    assert!(
        table.contains("350.00") && table.contains("402.00"),
        "{table}"
    );
    let out = store.run(&["compare", &base, &cand, "--all-rows"]);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(!table.contains("µs") && table.contains("tp50"), "{table}");

    // The HTML page: each time metric with its unit.
    let html = store.run(&[
        "compare",
        &base,
        &cand,
        "--min-samples",
        "1",
        "--resolution",
        "us",
        "--format",
        "html",
    ]);
    let html = String::from_utf8(html.stdout).unwrap();
    assert!(html.contains(">tp50 (µs)<"), "tp50's cell names µs");
    assert!(html.contains(">402.00<"), "the candidate's µs median");
    assert!(html.contains(">tps<"), "tps has no time unit");
}

#[test]
fn trend_in_microseconds_reads_each_runs_microseconds() {
    let (store, base, cand) = two_k6_runs();
    let trend = |metric: &str, request: Option<&str>, us: bool| {
        let mut args = vec!["trend", "--name", "micros", "--metric", metric];
        if let Some(r) = request {
            args.extend(["--request", r]);
        }
        if us {
            args.extend(["--resolution", "us"]);
        }
        args.extend(["--format", "json"]);
        store.json(&args)
    };
    let values = |t: &Value| -> Vec<(String, f64, u64)> {
        t["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["runId"].as_str().unwrap().to_string(),
                    num(&p["value"]),
                    p["samples"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    // Oldest first: the baseline, then the candidate. The whole run's 14 samples: the 7th
    // smallest is 610 (baseline) and 655 (candidate).
    for (metric, request, want, samples) in [
        ("tp95", Some("fast"), [1004.0, 1101.0], 10),
        ("tp50", Some("fast"), [350.0, 402.0], 10),
        ("avg_rt", Some("slow"), [1_125_125.25, 1_124_987.5], 4),
        ("max_rt", Some("slow"), [2_000_001.0, 1_999_000.0], 4),
        ("min_rt", Some("fast"), [88.0, 95.0], 10),
        ("tp50", None, [610.0, 655.0], 14),
    ] {
        let t = trend(metric, request, true);
        assert_eq!(t["timeUnit"], "us", "{t}");
        let got = values(&t);
        assert_eq!(got.len(), 2, "{t}");
        for ((run, v, n), (want_run, want)) in got.iter().zip([(&base, want[0]), (&cand, want[1])])
        {
            assert_eq!(run, want_run);
            assert!(close(*v, want, 1e-12), "{metric} {request:?}: {t}");
            assert_eq!(*n, samples);
        }
    }
    // In ms as before (no unit in the JSON), from the rollups: fast's p95 is 1 ms in both
    // runs, slow's mean 1125.
    for (metric, request, want) in [
        ("tp95", "fast", [1.0, 1.0]),
        ("avg_rt", "slow", [1125.0, 1125.0]),
        ("max_rt", "slow", [2000.0, 1999.0]),
    ] {
        let t = trend(metric, Some(request), false);
        assert!(t.get("timeUnit").is_none(), "{t}");
        let got: Vec<f64> = values(&t).iter().map(|p| p.1).collect();
        assert_eq!(got, want, "{t}");
    }
    // A metric that is not a time has no time unit and the same value: 1 of slow's 4 failed.
    let t = trend("error_rate", Some("slow"), true);
    assert!(t.get("timeUnit").is_none(), "{t}");
    let got: Vec<f64> = values(&t).iter().map(|p| p.1).collect();
    assert_eq!(got, [25.0, 25.0]);

    // Table and CSV name the unit.
    let out = store.run(&[
        "trend",
        "--name",
        "micros",
        "--metric",
        "tp95",
        "--request",
        "fast",
        "--resolution",
        "us",
    ]);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("tp95 (µs)") && table.contains("1101.00"),
        "{table}"
    );
    let out = store.run(&[
        "trend",
        "--name",
        "micros",
        "--metric",
        "tp95",
        "--request",
        "fast",
        "--resolution",
        "us",
        "--format",
        "html",
    ]);
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(
        html.contains(">tp95 (µs)</th>"),
        "the value column names µs"
    );
    assert!(html.contains(">1101.00<"), "the candidate's p95 in µs");
    let out = store.run(&[
        "trend",
        "--name",
        "micros",
        "--metric",
        "tp95",
        "--request",
        "fast",
        "--resolution",
        "us",
        "--format",
        "csv",
    ]);
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("run_id,name,start_time,value_us,samples")
    );
    let cells: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(cells.len(), 2, "{csv}");
    assert_eq!((cells[0][3], cells[1][3]), ("1004.0", "1101.0"), "{csv}");
}

/// A JMeter file has whole ms only: in µs, every compared time, delta and trend value is its ms
/// value × 1000, everything else the same.
#[test]
fn jmeter_runs_compare_and_trend_in_microseconds_as_ms_times_1000() {
    let store = TestStore::new();
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let base = store.import(&[jtl.to_str().unwrap(), "--name", "nightly"]);
    let slow = checkout_variant(store.path(), "slow.csv", "Search", 3.0, 3_600_000);
    let cand = store.import(&[slow.to_str().unwrap(), "--name", "nightly"]);
    let compare = |extra: &[&str]| {
        let mut args = vec!["compare", base.as_str(), cand.as_str(), "--format", "json"];
        args.extend_from_slice(extra);
        store.json(&args)
    };
    let (ms, us) = (compare(&[]), compare(&["--resolution", "us"]));
    assert_eq!(us["timeUnit"], "us");
    let (ms_rows, us_rows) = (
        ms["rows"].as_array().unwrap(),
        us["rows"].as_array().unwrap(),
    );
    assert_eq!(ms_rows.len(), us_rows.len());
    let mut times = 0;
    for (m, u) in ms_rows.iter().zip(us_rows) {
        for key in ["level", "caseName", "name", "metric", "verdict"] {
            assert_eq!(m[key], u[key], "{m} {u}");
        }
        let time = !matches!(m["metric"].as_str(), Some("tps" | "successRate"));
        for field in ["baseline", "candidate", "delta"] {
            match (m[field].as_f64(), u[field].as_f64()) {
                (Some(a), Some(b)) if time => {
                    assert!((b - a * 1000.0).abs() <= 1e-9 * (a * 1000.0).abs().max(1.0));
                    times += 1;
                }
                (a, b) => assert_eq!(a, b, "{field}: {m} {u}"),
            }
        }
        if let (Some(a), Some(b)) = (m["deltaPct"].as_f64(), u["deltaPct"].as_f64()) {
            assert!(close(a, b, 1e-9), "{m} {u}");
        }
    }
    assert!(times > 50, "only {times} times compared");
    assert_eq!(ms["regressions"], us["regressions"]);

    let trend = |us: bool| {
        let mut args = vec![
            "trend",
            "--name",
            "nightly",
            "--metric",
            "tp90",
            "--request",
            "Search",
            "--format",
            "json",
        ];
        if us {
            args.extend(["--resolution", "us"]);
        }
        store.json(&args)
    };
    let (ms, us) = (trend(false), trend(true));
    let (ms_points, us_points) = (
        ms["points"].as_array().unwrap(),
        us["points"].as_array().unwrap(),
    );
    assert_eq!(ms_points.len(), 2);
    for (m, u) in ms_points.iter().zip(us_points) {
        assert_eq!(num(&u["value"]), num(&m["value"]) * 1000.0, "{m} {u}");
        assert_eq!(m["samples"], u["samples"]);
    }
}
