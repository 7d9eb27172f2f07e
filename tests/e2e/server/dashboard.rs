//! The run page's JMeter tables and SLA section through the JSON API
//! (`/api/v1/runs/{id}/jmeter`, `/api/v1/runs/{id}/sla`): the tables are what `loadlake
//! report --stats dashboard --format json` prints, and their numbers Python's csv module's over
//! the JTL; the SLA outcome of `serve --sla FILE` is `loadlake report --sla FILE`'s, judged
//! against p95s and means Python computes; without `--sla` the outcome is null.

use serde_json::Value;

use super::api::{fetch, serve_with_token, serve_with_token_and};
use crate::common::*;

/// Rules around checkout.jtl's numbers (Python's csv module): Search's nearest-rank p95 is 162
/// ms and the run's mean 81.45 ms, so the first and third pass and the second fails.
const RULES: &str = "rules:
  - name: search p95
    request: Search
    metric: tp95
    max: 162
  - name: search p95 tight
    request: Search
    metric: tp95
    max: 161
  - name: run mean
    metric: avg_rt
    max: 100
";

#[test]
fn the_run_pages_jmeter_tables_and_sla_are_the_clis() {
    let store = TestStore::new();
    let run = super::checkout_run(&store);
    let rules = store.path().join("sla.yaml");
    std::fs::write(&rules, RULES).unwrap();
    let rules = rules.to_str().unwrap();
    let with_rules = serve_with_token_and(&store, &["--sla", rules]);
    let answers = fetch(
        &with_rules,
        Some("s3cret"),
        &[
            format!("/api/v1/runs/{run}/jmeter"),
            format!("/api/v1/runs/{run}/sla"),
            format!("/api/v1/runs/{run}/jmeter?percentile_method=guess"),
            "/api/v1/runs/20990101-000000-zzzz/sla".to_string(),
        ],
    );
    let anonymous = fetch(&with_rules, None, &[format!("/api/v1/runs/{run}/jmeter")]);
    let statuses: Vec<u64> = answers
        .iter()
        .chain(&anonymous)
        .map(|a| a["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 200, 400, 404, 401], "{answers:?}");
    let (tables, sla) = (&answers[0]["body"], &answers[1]["body"]["outcome"]);

    // The tables are the CLI's: statistics.json keyed by label there, a list (Total last) here.
    let cli = store.json(&["report", &run, "--stats", "dashboard", "--format", "json"]);
    let rows = tables["statistics"].as_array().unwrap();
    assert_eq!(rows.last().unwrap()["transaction"], "Total", "{tables}");
    let by_label: serde_json::Map<String, Value> = rows
        .iter()
        .map(|r| (r["transaction"].as_str().unwrap().to_string(), r.clone()))
        .collect();
    assert_eq!(Value::Object(by_label), cli["statistics"]);
    for key in ["apdex", "errors", "top5"] {
        assert_eq!(tables[key], cli[key], "{key}");
    }
    assert_eq!(tables["percentiles"], serde_json::json!([90.0, 95.0, 99.0]));

    // And Python's: each sampler's count, errors and exact percentiles.
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let truth = py_json(
        "label_percentiles.py",
        &[jtl.to_str().unwrap(), "nearest-rank", "90,95,99"],
    );
    for label in ["Home", "Search", "Login"] {
        let (got, want) = (&cli["statistics"][label], &truth[label]);
        for field in [
            "sampleCount",
            "errorCount",
            "pct1ResTime",
            "pct2ResTime",
            "pct3ResTime",
        ] {
            assert_eq!(got[field].as_f64(), want[field].as_f64(), "{label} {field}");
        }
    }

    // The SLA outcome: the CLI's with the same file, and right by Python's numbers.
    // A failed rule makes `report` exit 1, with its JSON on stdout.
    let out = store.run(&["report", &run, "--sla", rules, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let cli_sla: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sla, &cli_sla["sla"], "{sla}");
    assert_eq!(sla["passed"], false, "{sla}");
    let results = sla["results"].as_array().unwrap();
    let verdicts: Vec<(&str, bool)> = results
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["passed"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("search p95", true),
            ("search p95 tight", false),
            ("run mean", true)
        ]
    );
    assert_eq!(
        results[0]["actual"].as_f64(),
        truth["Search"]["pct2ResTime"].as_f64()
    );
    let mean = truth["Total"]["meanResTime"].as_f64().unwrap();
    assert!(
        close(results[2]["actual"].as_f64().unwrap(), mean, 1e-12),
        "{sla}"
    );
    drop(with_rules);

    // Without --sla: no outcome.
    let without = serve_with_token(&store);
    let answer = fetch(
        &without,
        Some("s3cret"),
        &[format!("/api/v1/runs/{run}/sla")],
    );
    assert_eq!(answer[0]["status"], 200, "{answer:?}");
    assert_eq!(answer[0]["body"], serde_json::json!({"outcome": null}));
}

/// A rule file that does not parse stops `serve` at the start, naming the file and the rule.
#[test]
fn a_bad_sla_file_stops_serve_at_the_start() {
    let store = TestStore::new();
    let rules = store.path().join("bad.yaml");
    std::fs::write(&rules, "rules:\n  - metric: speed\n    max: 1\n").unwrap();
    let out = store
        .cmd()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--sla",
            rules.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.yaml") && stderr.contains("rules[0].metric"),
        "{stderr}"
    );
}
