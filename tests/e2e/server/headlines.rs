//! `GET /api/v1/run-headlines` (the runs page's p95 column): each run's whole-run request count,
//! mean and exact p95 against Python's csv module over the imported CSVs
//! (tests/e2e/py/label_percentiles.py, transaction rows left out as the report does), with
//! either percentile method; unknown ids left out; bad requests and anonymous calls refused.

use serde_json::Value;

use super::api::{fetch, serve_with_token};
use crate::common::*;

#[test]
fn run_headlines_are_each_runs_whole_p95_and_mean() {
    let store = TestStore::new();
    let runs = super::nightly_runs(&store);
    let served = serve_with_token(&store);
    let ids: Vec<&str> = runs.iter().map(|(id, _)| id.as_str()).collect();
    let unknown = "20990101-000000-zzzz";
    // Asked newest first, with an unknown id and a repeated one in between.
    let asked = format!("{},{unknown},{},{},{}", ids[2], ids[1], ids[2], ids[0]);
    let answers = fetch(
        &served,
        Some("s3cret"),
        &[
            format!("/api/v1/run-headlines?run_ids={asked}"),
            format!(
                "/api/v1/run-headlines?run_ids={}&percentile_method=linear",
                ids[0]
            ),
        ],
    );
    for a in &answers {
        assert_eq!(a["status"], 200, "{a}");
    }
    let listed = answers[0]["body"]["runs"].as_array().unwrap();
    let order: Vec<&str> = listed
        .iter()
        .map(|h| h["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(order, [ids[2], ids[1], ids[0]], "{listed:?}");
    for h in listed {
        let csv = &runs.iter().find(|(id, _)| *id == h["run_id"]).unwrap().1;
        let truth = py_json(
            "label_percentiles.py",
            &[csv.to_str().unwrap(), "nearest-rank", "95"],
        );
        let total = &truth["Total"];
        assert_eq!(h["requests"], total["sampleCount"], "{h}");
        assert_eq!(h["tp95"].as_f64(), total["pct1ResTime"].as_f64(), "{h}");
        let mean = total["meanResTime"].as_f64().unwrap();
        assert!(
            close(h["average_resp_time"].as_f64().unwrap(), mean, 1e-12),
            "{h}"
        );
    }
    // The three runs differ (Home's times scaled by 1, 2 and 1.5), so does the p95 asked for.
    let linear = &answers[1]["body"]["runs"][0];
    let truth = py_json(
        "label_percentiles.py",
        &[runs[0].1.to_str().unwrap(), "linear", "95"],
    );
    assert_eq!(
        linear["tp95"].as_f64(),
        truth["Total"]["pct1ResTime"].as_f64(),
        "{linear}"
    );

    let too_many: Vec<String> = (0..201)
        .map(|i| format!("20990101-000000-{i:04}"))
        .collect();
    let refused = fetch(
        &served,
        Some("s3cret"),
        &[
            "/api/v1/run-headlines".to_string(),
            "/api/v1/run-headlines?run_ids=,".to_string(),
            format!("/api/v1/run-headlines?run_ids={}", too_many.join(",")),
            format!(
                "/api/v1/run-headlines?run_ids={}&percentile_method=guess",
                ids[0]
            ),
            format!("/api/v1/run-headlines?run_ids={unknown}"),
        ],
    );
    let anonymous = fetch(
        &served,
        None,
        &[format!("/api/v1/run-headlines?run_ids={}", ids[0])],
    );
    let got: Vec<u64> = refused
        .iter()
        .chain(&anonymous)
        .map(|a| a["status"].as_u64().unwrap())
        .collect();
    assert_eq!(
        got,
        [400, 400, 400, 400, 200, 401],
        "{refused:?} {anonymous:?}"
    );
    assert_eq!(
        refused[4]["body"]["runs"],
        Value::Array(vec![]),
        "{refused:?}"
    );
}

/// `curve_only=true` (what the run page asks for first): the same curve, no response-time
/// ranges; without it the ranges count every request of the JTL (Python's csv module).
#[test]
fn the_aw_chart_without_ranges_has_the_same_curve() {
    let store = TestStore::new();
    let run = super::checkout_run(&store);
    let served = serve_with_token(&store);
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let requests = py_json(
        "label_percentiles.py",
        &[jtl.to_str().unwrap(), "nearest-rank", "95"],
    )["Total"]["sampleCount"]
        .as_u64()
        .unwrap();
    let answers = fetch(
        &served,
        Some("s3cret"),
        &[
            format!("/api/v1/runs/{run}/aw-chart?brokens_limit_count=600"),
            format!("/api/v1/runs/{run}/aw-chart?brokens_limit_count=600&curve_only=true"),
        ],
    );
    let (full, only) = (&answers[0]["body"], &answers[1]["body"]);
    assert_eq!(answers[1]["status"], 200, "{only}");
    assert_eq!(full["broken_list"], only["broken_list"]);
    let points = full["broken_list"]["points"].as_array().unwrap();
    let counted: u64 = points.iter().map(|p| p["requests"].as_u64().unwrap()).sum();
    assert_eq!(counted, requests, "{full}");
    let ranged: u64 = full["resp_time_range"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert_eq!(ranged, requests, "{full}");
    assert_eq!(only["resp_time_range"], Value::Array(vec![]), "{only}");
}
