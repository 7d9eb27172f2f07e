//! `loadlake curve`: per-interval points against Python's own bucketing; `--points` merging keeps
//! totals and exact percentiles.

use serde_json::Value;

use crate::common::*;

fn curve_json(store: &TestStore, run: &str, extra: &[&str]) -> Value {
    let mut args = vec!["curve", run, "--format", "json"];
    args.extend_from_slice(extra);
    store.json(&args)
}

/// Asserts every point equals the independent bucket with the same start.
fn assert_points_match(curve: &Value, truth: &Value) {
    let b = &curve["brokens"];
    let ts = b["commonTimestamps"].as_array().unwrap();
    assert_eq!(ts.len(), truth["points"].as_object().unwrap().len());
    let mut sum = 0;
    for (i, t) in ts.iter().enumerate() {
        let want = &truth["points"][t.as_i64().unwrap().to_string()];
        let requests = b["code_brokens"]["success"][i].as_u64().unwrap()
            + b["code_brokens"]["error"][i].as_u64().unwrap();
        assert_eq!(requests, want["requests"].as_u64().unwrap(), "t={t}");
        assert_eq!(b["code_brokens"]["error"][i], want["errors"], "t={t}");
        assert_eq!(b["percentile_brokens"]["p90"][i], want["p90"], "t={t}");
        assert!(
            (b["tps_brokens"]["avgRt"][i].as_f64().unwrap() - want["avg"].as_f64().unwrap()).abs()
                < 1e-9
        );
        sum += requests;
    }
    assert_eq!(
        sum,
        truth["total"].as_u64().unwrap(),
        "points add up to the total"
    );
}

#[test]
fn per_second_points_and_merged_points_are_exact() {
    let store = TestStore::new();
    let csv = jmeter213("header.csv");
    let p = csv.to_str().unwrap();
    let run = store.import(&[p]);
    let per_second = curve_json(&store, &run, &[]);
    assert_eq!(per_second["intervalMs"], 1000);
    assert_points_match(&per_second, &py_json("curve.py", &[p, "1000"]));

    let merged = curve_json(&store, &run, &["--points", "3"]);
    let interval = merged["intervalMs"].as_i64().unwrap();
    assert!(
        interval > 1000 && interval % 1000 == 0,
        "merged width is a multiple of the base: {interval}"
    );
    assert!(
        merged["brokens"]["commonTimestamps"]
            .as_array()
            .unwrap()
            .len()
            <= 3
    );
    assert_points_match(&merged, &py_json("curve.py", &[p, &interval.to_string()]));

    let search = curve_json(
        &store,
        &run,
        &["--request", "Search", "--interval", "500ms"],
    );
    assert_points_match(&search, &py_json("curve.py", &[p, "500", "Search"]));
}

#[test]
fn curve_arguments_are_checked() {
    let store = TestStore::new();
    let run = store.import(&[jmeter213("header.csv").to_str().unwrap()]);
    let out = store.run(&["curve", &run, "--interval", "fast"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a duration"));
    let out = store.run(&["curve", &run, "--points", "0"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 1"));
    // No samples, no points: the CSV is its header line, the same as with points.
    let empty = store.run(&["curve", &run, "--request", "nope", "--format", "csv"]);
    assert!(empty.status.success());
    let full = store.run(&["curve", &run, "--format", "csv"]);
    let header = |o: &std::process::Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(String::from_utf8_lossy(&empty.stdout).lines().count(), 1);
    assert_eq!(header(&empty), header(&full));
    assert!(header(&full).starts_with("t,requests,tps,"));

    // `sql` takes its query from a file (comments first) or stdin too.
    let file = store.path().join("q.sql");
    std::fs::write(&file, "-- how many\nselect count(*) as n from samples").unwrap();
    let out = store.run(&["sql", "--file", file.to_str().unwrap(), "--format", "csv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n: u64 = String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(n > 0);
    let mut child = store
        .cmd()
        .args(["sql", "-", "--format", "csv"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"-- from stdin\nselect count(*) as n from samples")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().nth(1),
        Some(n.to_string().as_str())
    );
}
