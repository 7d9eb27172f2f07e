//! The web console of `loadlake serve --http` in headless Chromium (tests/e2e/py/
//! console_check.py drives it as a person would): the login page takes the token, the page lists the runs
//! with the samples, errors and whole-run p95 Python's csv module finds in the JTL, filters by name, and a
//! run's page shows per request and transaction the counts and mean response times of those
//! rows — nothing loaded from anywhere but the server, no script error.

use serde_json::Value;

use super::api::serve_with_token_and;
use super::{Served, checkout_run};
use crate::common::*;

/// `loadlake serve` on `store` with the JSON API and console (`--http`) and the token
/// `s3cret`; the server (killed when dropped) and the console's base URL.
pub(super) fn serve_with_console(store: &TestStore) -> (Served, String) {
    serve_with_console_and(store, &[])
}

/// [`serve_with_console`] with more arguments for `serve`.
fn serve_with_console_and(store: &TestStore, extra: &[&str]) -> (Served, String) {
    let served = serve_with_token_and(store, extra);
    let base = served.http.clone().expect("started with --http");
    (served, base)
}

/// The number a console cell shows.
pub(super) fn number(v: &Value) -> f64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn the_console_lists_filters_and_opens_runs_with_the_jtls_numbers() {
    if !crate::html::browser_available() {
        return;
    }
    let store = TestStore::new();
    let run = checkout_run(&store);
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let jtl = jtl.to_str().unwrap();
    let other = store.import(&[jtl, "--force", "--name", "nightly other"]);
    let truth = py_json("jtl_stats.py", &["csv", jtl, ",", "yes"]);
    // The whole run's nearest-rank p95, transaction rows left out (the p95 column).
    let p95 = py_json("label_percentiles.py", &[jtl, "nearest-rank", "95"])["Total"]["pct1ResTime"]
        .as_f64()
        .unwrap();
    let labels = truth["labels"].as_object().unwrap();
    let rows = truth["total"].as_u64().unwrap() as f64;
    let errors: f64 = labels.values().map(|l| l["errors"].as_f64().unwrap()).sum();

    // Search's nearest-rank p95 is 162 ms (Python's csv module): one rule passes, one fails.
    let rules = store.path().join("sla.yaml");
    std::fs::write(
        &rules,
        "rules:\n  - {name: search p95, request: Search, metric: tp95, max: 162}\n  \
         - {name: search p95 tight, request: Search, metric: tp95, max: 161}\n",
    )
    .unwrap();
    // `_server` keeps the server running to the end of the test.
    let (_server, base) = serve_with_console_and(&store, &["--sla", rules.to_str().unwrap()]);
    let seen = py_json(
        "console_check.py",
        &[&base, "s3cret", "other", &run, "Search"],
    );

    // Only the 401 of the first, token-less call may show as an error.
    for e in seen["errors"].as_array().unwrap() {
        assert!(e.as_str().unwrap().contains("401"), "{seen}");
    }
    assert_eq!(seen["blocked"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["token_form"], true, "{seen}");
    assert_eq!(seen["token_form_after"], false, "{seen}");

    let listed = seen["runs"].as_array().unwrap();
    let mut ids: Vec<&str> = listed
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut want = vec![run.as_str(), other.as_str()];
    want.sort();
    assert_eq!(ids, want, "{seen}");
    for r in listed {
        let f = &r["fields"];
        assert_eq!(number(&f["samples"]), rows, "{r}");
        assert_eq!(number(&f["errors"]), errors, "{r}");
        assert!(
            (number(&f["error_pct"]) - 100.0 * errors / rows).abs() <= 0.005,
            "{r}"
        );
        assert_eq!(f["status"], "complete");
        assert_eq!(number(&f["tp95"]), p95, "{r}");
    }
    let filtered: Vec<&str> = seen["filtered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(filtered, [other.as_str()], "{seen}");
    // Ordered by name through its header: largest first, then reversed.
    let names_of = |key: &str| -> Vec<String> {
        seen[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["fields"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    let mut by_name: Vec<String> = listed
        .iter()
        .map(|r| r["fields"]["name"].as_str().unwrap().to_string())
        .collect();
    by_name.sort();
    by_name.reverse();
    assert_ne!(by_name.first(), by_name.last(), "two names to order");
    assert_eq!(names_of("by_name"), by_name, "{seen}");
    by_name.reverse();
    assert_eq!(names_of("by_name_reversed"), by_name, "{seen}");

    // The run's page, reached by its link: a shareable URL.
    assert_eq!(seen["run_url"], format!("{base}/runs/{run}"));
    // checkout.jmx makes "Checkout" a transaction; the other labels are requests.
    let requests = rows - labels["Checkout"]["count"].as_f64().unwrap();
    assert_eq!(number(&seen["outline"]["requests"]), requests, "{seen}");
    let mut compared = 0;
    for d in seen["details"].as_array().unwrap() {
        let level = d["level"].as_str().unwrap();
        if level == "case" {
            continue;
        }
        let f = &d["fields"];
        let label = &labels[f["name"].as_str().unwrap()];
        assert_eq!(
            number(&f["requests"]),
            label["count"].as_f64().unwrap(),
            "{d}"
        );
        assert_eq!(
            number(&f["error_count"]),
            label["errors"].as_f64().unwrap(),
            "{d}"
        );
        let mean = label["sum"].as_f64().unwrap() / label["count"].as_f64().unwrap();
        assert!(
            (number(&f["average_resp_time"]) - mean).abs() <= 0.005,
            "{d}"
        );
        compared += 1;
    }
    assert_eq!(
        compared,
        labels.len(),
        "every label of the JTL has its row: {seen}"
    );

    // The tables below the details: the ranges hold every request; JMeter's statistics give
    // each label's count and errors (Total last), with Search's exact p95; the SLA section
    // shows the server's rules, one passed and one failed.
    let ranged: f64 = seen["ranges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| number(&r["fields"]["count"]))
        .sum();
    assert_eq!(ranged, requests, "{seen}");
    let statistics = seen["jmeter"].as_array().unwrap();
    assert_eq!(
        statistics.last().unwrap()["fields"]["transaction"],
        "Total",
        "{seen}"
    );
    for row in statistics {
        let f = &row["fields"];
        let Some(label) = labels.get(f["transaction"].as_str().unwrap()) else {
            continue;
        };
        assert_eq!(
            number(&f["sampleCount"]),
            label["count"].as_f64().unwrap(),
            "{row}"
        );
        assert_eq!(
            number(&f["errorCount"]),
            label["errors"].as_f64().unwrap(),
            "{row}"
        );
        if f["transaction"] == "Search" {
            assert_eq!(number(&f["pct2ResTime"]), 162.0, "{row}");
        }
    }
    assert_eq!(statistics.len(), labels.len() + 1, "{seen}");
    assert_eq!(
        seen["apdex"].as_array().unwrap().len(),
        labels.len() + 1,
        "{seen}"
    );
    assert_eq!(seen["sla_shown"], true, "{seen}");
    assert_eq!(seen["sla_verdict"], "failed", "{seen}");
    let sla: Vec<(&str, &str, f64)> = seen["sla"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let f = &r["fields"];
            (
                f["name"].as_str().unwrap(),
                f["passed"].as_str().unwrap(),
                number(&f["actual"]),
            )
        })
        .collect();
    assert_eq!(
        sla,
        [
            ("search p95", "pass", 162.0),
            ("search p95 tight", "FAIL", 162.0)
        ]
    );

    // The curves: the whole run's holds every request, Search's only Search's rows, drawn.
    let (whole, search) = (&seen["run_chart"], &seen["label_chart"]);
    assert_eq!(whole["title"], "whole run", "{seen}");
    assert_eq!(whole["requests"].as_f64().unwrap(), requests, "{seen}");
    assert_eq!(search["title"], "Browse Users / Search", "{seen}");
    let search_rows = labels["Search"]["count"].as_f64().unwrap();
    assert_eq!(search["requests"].as_f64().unwrap(), search_rows, "{seen}");
    for chart in [whole, search] {
        assert!(chart["points"].as_u64().unwrap() > 1, "{seen}");
        assert!(chart["painted"].as_u64().unwrap() > 1000, "{seen}");
    }
    // The request's URL opens on its curve.
    assert_eq!(seen["shared_chart"], seen["label_chart"], "{seen}");
}

#[test]
fn a_live_run_updates_in_the_console_and_its_stop_button_stops_it() {
    if !crate::html::browser_available() {
        return;
    }
    let t = Tick::new();
    let token_file = t.store.path().join("token");
    std::fs::write(&token_file, "s3cret\n").unwrap();
    let served = Served::start(
        &t.store,
        &[
            "--http",
            "127.0.0.1:0",
            "--token-file",
            token_file.to_str().unwrap(),
        ],
    );
    let base = served.http.clone().expect("started with --http");
    let (mut child, run) = t.start_held_run();
    let seen = py_json("console_live_check.py", &[&base, "s3cret", &run]);
    let ended = child.wait().expect("the run ends");
    assert!(ended.success(), "{ended:?}: {seen}");

    for e in seen["errors"].as_array().unwrap() {
        assert!(e.as_str().unwrap().contains("401"), "{seen}");
    }
    assert_eq!(seen["blocked"], serde_json::json!([]), "{seen}");
    // The count moved while the page watched (about once a second), only upwards.
    let counts: Vec<u64> = seen["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .collect();
    assert!(counts.len() >= 3, "{seen}");
    assert!(counts.windows(2).all(|w| w[0] < w[1]), "{counts:?}");
    let states: Vec<&str> = seen["states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(states.contains(&"RUNNING"), "{seen}");
    assert_eq!(states.last(), Some(&"STOPPED"), "{seen}");
    // What the page showed went forward through the lifecycle, never back.
    let lifecycle = [
        "CREATED",
        "PREPARING",
        "READY",
        "RUNNING",
        "STOPPING",
        "STOPPED",
    ];
    let at: Vec<usize> = states
        .iter()
        .map(|s| {
            lifecycle
                .iter()
                .position(|l| l == s)
                .unwrap_or_else(|| panic!("{s}: {seen}"))
        })
        .collect();
    assert!(at.windows(2).all(|w| w[0] <= w[1]), "{states:?}");
    // The Stop button did what `loadlake stop` does; the page then shows the committed run.
    let done = assert_stopped_on_request(&t.store, &run);
    assert_eq!(
        seen["outline"]["requests"].as_str().unwrap(),
        done["all"]["count"].to_string(),
        "{seen}"
    );
}

#[test]
fn the_sql_box_runs_read_only_sql_with_the_jtls_numbers() {
    if !crate::html::browser_available() {
        return;
    }
    let store = TestStore::new();
    checkout_run(&store);
    let jtl = repo_root().join("sample-data/checkout.jtl");
    // Truth: Python's csv module over the JTL, nearest-rank P95 per label.
    let truth = py_json(
        "label_percentiles.py",
        &[jtl.to_str().unwrap(), "nearest-rank", "95"],
    );
    // `_server` keeps the server running to the end of the test.
    let (_server, base) = serve_with_console(&store);
    let sql = "select label, count(*) as n, hist_percentile(ms_histogram(elapsed_ms), 0.95) as p95 \
               from samples group by label order by label";
    let seen = py_json(
        "console_sql_check.py",
        &[&base, "s3cret", sql, "drop table runs"],
    );
    // The browser logs the token-less call's 401 and the refused write's 400; nothing else.
    for e in seen["errors"].as_array().unwrap() {
        let e = e.as_str().unwrap();
        assert!(e.contains("401") || e.contains("400"), "{seen}");
    }
    assert_eq!(seen["blocked"], serde_json::json!([]), "{seen}");
    assert_eq!(
        seen["columns"],
        serde_json::json!(["label", "n", "p95"]),
        "{seen}"
    );
    let rows = seen["rows"].as_array().unwrap();
    let labels: Vec<&String> = truth
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| *k != "Total")
        .collect();
    assert_eq!(rows.len(), labels.len(), "{seen}");
    for row in rows {
        let label = row["label"].as_str().unwrap();
        let t = &truth[label];
        assert_eq!(
            number(&row["n"]),
            t["sampleCount"].as_f64().unwrap(),
            "{label}"
        );
        assert_eq!(
            number(&row["p95"]),
            t["pct1ResTime"].as_f64().unwrap(),
            "{label}"
        );
    }
    assert_eq!(seen["summary"], format!("{} rows", labels.len()), "{seen}");
    // A write is refused by the server, and the page says why.
    let refused = seen["refused"].as_str().unwrap();
    assert!(refused.contains("read-only"), "{refused}");

    // The endpoint itself: max_rows cuts and says so; no token, 401.
    let program = format!(
        r#"
import json, urllib.request, urllib.error
def post(body, token=True):
    req = urllib.request.Request("{base}/api/v1/sql", data=json.dumps(body).encode(),
        headers={{"Content-Type": "application/json", **({{"Authorization": "Bearer s3cret"}} if token else {{}})}})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
cut = post({{"sql": "select label from samples order by label", "max_rows": 3}})
anon = post({{"sql": "select 1"}}, token=False)
bad = post({{"sql": "select nosuchcolumn from samples"}})
print(json.dumps({{"cut": cut, "anon": anon, "bad": bad}}))
"#
    );
    let api = py_inline(&program);
    assert_eq!(api["cut"][0], 200, "{api}");
    assert_eq!(api["cut"][1]["rows"].as_array().unwrap().len(), 3, "{api}");
    assert_eq!(api["cut"][1]["truncated"], true, "{api}");
    assert_eq!(api["cut"][1]["rows"][0]["label"], "Add To Cart", "{api}");
    assert_eq!(api["anon"][0], 401, "{api}");
    assert_eq!(api["bad"][0], 400, "{api}");
    assert_eq!(api["bad"][1]["code"], "INVALID_ARGUMENT", "{api}");
}

/// A number a page shows (`""` for none) equals `want` (`null` for none) to the page's
/// rounding (2 decimals).
pub(super) fn shown_as(text: &Value, want: &Value, at: &str) {
    let text = text.as_str().unwrap_or_else(|| panic!("{at}: no cell"));
    match want.as_f64() {
        None => assert_eq!(text, "", "{at}: want no value"),
        Some(w) => {
            let got: f64 = text
                .trim_start_matches('+')
                .parse()
                .unwrap_or_else(|_| panic!("{at}: not a number: {text}"));
            assert!(
                (got - w).abs() <= 0.005 + 1e-9,
                "{at}: page {got}, want {w}"
            );
        }
    }
}

/// The trend rows a page showed against a trend's JSON (the CLI's).
fn assert_trend_rows(rows: &Value, want: &Value, at: &str) {
    let (rows, points) = (rows.as_array().unwrap(), want["points"].as_array().unwrap());
    assert_eq!(rows.len(), points.len(), "{at}: {rows:?}");
    for (row, p) in rows.iter().zip(points) {
        assert_eq!(row["run_id"], p["runId"], "{at}");
        assert_eq!(
            number(&row["fields"]["samples"]),
            p["samples"].as_f64().unwrap(),
            "{at}"
        );
        shown_as(&row["fields"]["value"], &p["value"], at);
    }
}

#[test]
fn the_compare_and_trend_pages_show_the_clis_numbers() {
    if !crate::html::browser_available() {
        return;
    }
    let store = TestStore::new();
    let runs = super::nightly_runs(&store);
    let (a, b) = (runs[0].0.as_str(), runs[1].0.as_str());
    let compare = store.json(&["compare", a, b, "--format", "json"]);
    // The trend page opens on tp95 of the whole run; its form then asks for Home's mean.
    let trend = store.json(&[
        "trend", "--name", "nightly", "--metric", "tp95", "--format", "json",
    ]);
    let home = store.json(&[
        "trend",
        "--name",
        "nightly",
        "--metric",
        "avg_rt",
        "--request",
        "Home",
        "--format",
        "json",
    ]);
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-across");
    // `_server` keeps the server running to the end of the test.
    let (_server, base) = serve_with_console(&store);
    let seen = py_json(
        "console_across_check.py",
        &[
            &base,
            "s3cret",
            a,
            b,
            "nightly",
            "avg_rt",
            "Home",
            shots.to_str().unwrap(),
        ],
    );
    for e in seen["errors"].as_array().unwrap() {
        assert!(e.as_str().unwrap().contains("401"), "{seen}");
    }
    assert_eq!(seen["blocked"], serde_json::json!([]), "{seen}");

    // Two ticks on the runs page make the Compare button, which leads to a shareable URL.
    assert_eq!(
        seen["compare_button"],
        serde_json::json!({"disabled_before": true, "disabled_after": false})
    );
    assert_eq!(
        seen["compare_url"],
        format!("{base}/compare?base={a}&target={b}")
    );
    assert_eq!(
        seen["compare_links"]["base"],
        format!("nightly ({a})"),
        "{seen}"
    );
    let cards = &seen["compare_cards"];
    assert_eq!(
        number(&cards["regressions"]),
        compare["regressions"].as_f64().unwrap()
    );
    assert_eq!(
        number(&cards["improvements"]),
        compare["improvements"].as_f64().unwrap()
    );
    let (rows, want) = (
        seen["compare_rows"].as_array().unwrap(),
        compare["rows"].as_array().unwrap(),
    );
    assert_eq!(rows.len(), want.len(), "{seen}");
    for (i, (row, w)) in rows.iter().zip(want).enumerate() {
        let at = format!("row {i} {w}");
        let f = &row["fields"];
        assert_eq!(row["verdict"], w["verdict"], "{at}");
        assert_eq!(row["metric"], w["metric"], "{at}");
        assert_eq!(f["level"], w["level"], "{at}");
        assert_eq!(f["case_name"], w["caseName"], "{at}");
        assert_eq!(f["name"], w["name"], "{at}");
        for (field, key) in [
            ("baseline", "baseline"),
            ("candidate", "candidate"),
            ("delta", "delta"),
            ("delta_pct", "deltaPct"),
        ] {
            shown_as(&f[field], &w[key], &format!("{at} {field}"));
        }
        let samples = format!("{} / {}", w["baselineSamples"], w["candidateSamples"]);
        assert_eq!(f["samples"], samples.as_str(), "{at}");
    }
    let changed = want
        .iter()
        .filter(|r| r["verdict"] == "regression" || r["verdict"] == "improvement")
        .count();
    assert!(changed > 0, "{compare}");
    assert_eq!(
        seen["changed_shown"].as_array().unwrap().len(),
        changed,
        "{seen}"
    );

    // Independent truth for a few: Python's csv module over the CSVs each run imported.
    let truth: Vec<Value> = runs
        .iter()
        .map(|(_, csv)| {
            py_json(
                "label_percentiles.py",
                &[csv.to_str().unwrap(), "nearest-rank", "95"],
            )
        })
        .collect();
    let home_p95 = rows
        .iter()
        .find(|r| r["metric"] == "tp95" && r["fields"]["name"] == "Home" && r["level"] == "request")
        .unwrap_or_else(|| panic!("no Home tp95 row: {seen}"));
    shown_as(
        &home_p95["fields"]["baseline"],
        &truth[0]["Home"]["pct1ResTime"],
        "Home tp95 base",
    );
    shown_as(
        &home_p95["fields"]["candidate"],
        &truth[1]["Home"]["pct1ResTime"],
        "Home tp95 cand",
    );
    assert_eq!(home_p95["verdict"], "regression");

    // The trend, reached from a run's name: every run of the name, oldest first.
    assert_eq!(seen["trend_url"], format!("{base}/trend?name=nightly"));
    assert_trend_rows(&seen["trend_rows"], &trend, "tp95 trend");
    assert_eq!(
        seen["trend2_url"],
        format!("{base}/trend?name=nightly&metric=avg_rt&request=Home")
    );
    assert_trend_rows(&seen["trend2_rows"], &home, "Home avg_rt trend");
    for (row, t) in seen["trend2_rows"].as_array().unwrap().iter().zip(&truth) {
        shown_as(
            &row["fields"]["value"],
            &t["Home"]["meanResTime"],
            "Home mean",
        );
        assert_eq!(
            number(&row["fields"]["samples"]),
            t["Home"]["sampleCount"].as_f64().unwrap()
        );
    }
    for (row, t) in seen["trend_rows"].as_array().unwrap().iter().zip(&truth) {
        shown_as(
            &row["fields"]["value"],
            &t["Total"]["pct1ResTime"],
            "run p95",
        );
    }
    for chart in ["trend_chart", "trend2_chart"] {
        assert_eq!(seen[chart]["points"], 3, "{seen}");
        assert!(seen[chart]["painted"].as_u64().unwrap() > 1000, "{seen}");
    }
    // The screenshots are pages, not blank: text, tables, colours.
    for name in ["runs", "compare", "trend", "trend-request"] {
        let s = &seen["shots"][name];
        assert!(s["distinct_colors"].as_u64().unwrap() > 20, "{name}: {s}");
        assert!(
            s["nonwhite_fraction"].as_f64().unwrap() > 0.02,
            "{name}: {s}"
        );
    }
}

#[test]
fn an_error_class_drills_down_to_its_samples_page_by_page() {
    if !crate::html::browser_available() {
        return;
    }
    let store = TestStore::new();
    let run = checkout_run(&store);
    let jtl = repo_root().join("sample-data/checkout.jtl");
    // Truth: Python's csv module over the JTL — the failing top-level rows (0-based source
    // position, label, elapsed) by response code: a 500 is `http_5xx`, a failed 200 an
    // `assertion` (docs/error-classes.md, rules 6 and 7).
    let program = format!(
        r#"
import csv, json
rows = list(csv.DictReader(open({jtl:?}, encoding="utf-8", newline="")))
out = {{"http_5xx": [], "assertion": [], "top": 0}}
for i, r in enumerate(rows):
    if r["responseMessage"].startswith("Number of samples in transaction"):
        continue
    out["top"] += 1
    if r["success"] == "false":
        cls = "http_5xx" if r["responseCode"].startswith("5") else "assertion" if r["responseCode"] == "200" else "other"
        out.setdefault(cls, []).append([i, r["label"], r["elapsed"]])
print(json.dumps(out))
"#,
        jtl = jtl.to_str().unwrap()
    );
    let truth = py_inline(&program);
    assert_eq!(
        truth.as_object().unwrap().len(),
        3,
        "only 5xx and assertions: {truth}"
    );
    let (_server, base) = serve_with_console(&store);
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-samples.png");
    let seen = py_json(
        "console_samples_check.py",
        &[
            &base,
            "s3cret",
            &run,
            shot.to_str().unwrap(),
            "http_5xx",
            "assertion",
        ],
    );
    for e in seen["errors"].as_array().unwrap() {
        assert!(e.as_str().unwrap().contains("401"), "{seen}");
    }
    assert_eq!(seen["blocked"], serde_json::json!([]), "{seen}");
    // The error-class table: each class's count, and the success class too.
    let classes: std::collections::BTreeMap<String, f64> = seen["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["error_class"].as_str().unwrap().to_string(),
                number(&c["samples"]),
            )
        })
        .collect();
    let top = truth["top"].as_f64().unwrap();
    let failing = |c: &str| truth[c].as_array().unwrap().len() as f64;
    assert_eq!(classes["http_5xx"], failing("http_5xx"), "{seen}");
    assert_eq!(classes["assertion"], failing("assertion"), "{seen}");
    assert_eq!(
        classes["success"],
        top - failing("http_5xx") - failing("assertion"),
        "{seen}"
    );
    // Every sample of each class, in source order, over as many pages as it takes (25 a page).
    for class in ["http_5xx", "assertion"] {
        let got = &seen["samples"][class];
        let rows: Vec<Value> = got["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| serde_json::json!([number(&r["row"]) as u64, r["label"], r["elapsed_ms"]]))
            .collect();
        assert_eq!(Value::Array(rows), truth[class], "{class}: {got}");
        let want_pages = truth[class].as_array().unwrap().len().div_ceil(25);
        assert_eq!(got["pages"].as_u64(), Some(want_pages as u64), "{class}");
        assert_eq!(got["url"], format!("{base}/runs/{run}#error_class={class}"));
    }
    // The shared link opens on the class's first page.
    assert_eq!(seen["shared"]["rows"], 25, "{seen}");

    // The endpoint itself: its pages, followed by token, are the same samples; bad input refused.
    let program = format!(
        r#"
import json, urllib.request, urllib.error
def get(path, token=True):
    req = urllib.request.Request("{base}" + path, headers={{"Authorization": "Bearer s3cret"}} if token else {{}})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
rows, token, pages = [], "", 0
while True:
    status, page = get("/api/v1/runs/{run}/samples?error_class=assertion&page_size=10&page_token=" + token)
    assert status == 200, page
    rows += [[s["row"], s["label"], str(s["elapsed_ms"])] for s in page["samples"]]
    pages += 1
    token = page["next_page_token"]
    if token is None:
        break
print(json.dumps({{"rows": rows, "pages": pages,
    "bad_token": get("/api/v1/runs/{run}/samples?error_class=assertion&page_token=x")[0],
    "no_class": get("/api/v1/runs/{run}/samples")[0],
    "no_run": get("/api/v1/runs/20990101-000000-zzzz/samples?error_class=assertion")[0],
    "anon": get("/api/v1/runs/{run}/samples?error_class=assertion", token=False)[0]}}))
"#
    );
    let api = py_inline(&program);
    assert_eq!(api["rows"], truth["assertion"], "{api}");
    assert_eq!(api["pages"], 3, "{api}");
    assert_eq!(
        [
            &api["bad_token"],
            &api["no_class"],
            &api["no_run"],
            &api["anon"]
        ],
        [400, 400, 404, 401],
        "{api}"
    );
}
