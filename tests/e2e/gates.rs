//! SLA gates, JUnit XML, Markdown, `compare` and `trend`, on sample-data/checkout.jtl and
//! variants of it. Truth: tests/e2e/py/label_percentiles.py (Python's csv module, exact
//! percentiles by hand) and junitparser for the JUnit file.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;

fn checkout() -> PathBuf {
    repo_root().join("sample-data/checkout.jtl")
}

fn plan() -> String {
    repo_root()
        .join("sample-data/checkout.jmx")
        .to_string_lossy()
        .into_owned()
}

/// Per-label truth (nearest-rank) of a CSV: count, errors, mean, min, max, p50 and `pcts`.
fn truth(csv: &Path, pcts: &str) -> Value {
    py_json(
        "label_percentiles.py",
        &[csv.to_str().unwrap(), "nearest-rank", pcts],
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn sla_rules_are_judged_on_exact_numbers_and_fail_the_exit_code() {
    let store = TestStore::new();
    let run = store.import(&[checkout().to_str().unwrap(), "--plan", &plan()]);
    let t = truth(&checkout(), "95,90,99");
    let home_p95 = t["Home"]["pct1ResTime"].as_f64().unwrap();
    let run_avg = t["Total"]["meanResTime"].as_f64().unwrap();
    let search_success = 100.0
        * (1.0
            - t["Search"]["errorCount"].as_f64().unwrap()
                / t["Search"]["sampleCount"].as_f64().unwrap());
    let rules = format!(
        "rules:\n\
         - {{ name: home p95 at bound, request: Home, metric: tp95, max: {home_p95} }}\n\
         - {{ name: home p95 below, request: Home, metric: tp95, max: {} }}\n\
         - {{ name: run average, metric: avg_rt, max: 100000 }}\n\
         - {{ name: misspelt request, request: Hmoe, metric: avg_rt, max: 1 }}\n\
         - {{ name: search success, case: Browse Users, request: Search, metric: success_rate, min: 100 }}\n",
        home_p95 - 1.0
    );
    let sla = write(store.path(), "sla.yaml", &rules);
    let junit = store.path().join("out/sla.xml");
    let md = store.path().join("summary.md");
    let out = store.run(&[
        "report",
        &run,
        "--sla",
        sla.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--markdown",
        md.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("SLA FAILED: 3 of 5 rules"));

    // The JSON report carries each rule's result.
    let out = store.run(&[
        "report",
        &run,
        "--sla",
        sla.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = report["sla"]["results"].as_array().unwrap();
    let by_name = |n: &str| results.iter().find(|r| r["name"] == n).unwrap().clone();
    assert_eq!(
        by_name("home p95 at bound")["actual"].as_f64(),
        Some(home_p95)
    );
    assert_eq!(by_name("home p95 at bound")["passed"], true);
    assert_eq!(by_name("home p95 below")["passed"], false);
    assert!(close(
        by_name("run average")["actual"].as_f64().unwrap(),
        run_avg,
        1e-12
    ));
    assert_eq!(by_name("misspelt request")["passed"], false);
    assert_eq!(by_name("misspelt request")["message"], "no samples in Hmoe");
    let search = by_name("search success");
    assert!(close(
        search["actual"].as_f64().unwrap(),
        search_success,
        1e-12
    ));
    assert_eq!(search["passed"], search_success >= 100.0);
    assert_eq!(report["sla"]["passed"], false);

    // JUnit: valid against Jenkins' junit-10.xsd; parsed by junitparser, one testcase per rule,
    // failures where rules failed.
    let valid = py_json("junit_xsd.py", &[junit.to_str().unwrap()]);
    assert_eq!(valid["valid"], true, "{valid}");
    let parsed = py_inline(&format!(
        "import json, junitparser\n\
         x = junitparser.JUnitXml.fromfile({:?})\n\
         cases = [(c.name, c.classname, [r.message for r in c.result]) for s in x for c in s]\n\
         print(json.dumps({{'suites': len(list(x)), 'tests': x.tests, 'failures': x.failures, 'cases': cases}}))",
        junit.to_str().unwrap()
    ));
    assert_eq!(parsed["suites"], 1);
    assert_eq!(parsed["tests"], 5);
    assert_eq!(parsed["failures"], 3);
    let cases = parsed["cases"].as_array().unwrap();
    let home_below = cases.iter().find(|c| c[0] == "home p95 below").unwrap();
    assert_eq!(home_below[1], "loadlake.sla.Home");
    assert_eq!(
        home_below[2][0].as_str().unwrap(),
        format!("tp95 {home_p95:.2} ms > max {} ms", home_p95 - 1.0)
    );
    let passed = cases.iter().find(|c| c[0] == "run average").unwrap();
    assert_eq!(passed[2], serde_json::json!([]));

    // Markdown: the Home row shows the truth's numbers, and the failed rules.
    let md = std::fs::read_to_string(&md).unwrap();
    let home = &t["Home"];
    let row = md
        .lines()
        .find(|l| l.starts_with("| request | Browse Users | Home |"))
        .unwrap_or_else(|| panic!("no Home row in\n{md}"));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert_eq!(cells[4], home["sampleCount"].to_string());
    assert_eq!(
        cells[7],
        format!("{:.2}", home["meanResTime"].as_f64().unwrap())
    );
    assert_eq!(cells[10], format!("{:.2}", home_p95)); // TP95
    assert!(md.contains("## SLA: FAILED (3 of 5 rules failed)"));
}

#[test]
fn bad_sla_files_exit_2_naming_file_and_rule() {
    let store = TestStore::new();
    let run = store.import(&[checkout().to_str().unwrap()]);
    for (yaml, want) in [
        (
            "rules:\n  - { metric: speed, max: 1 }\n",
            "rules[0].metric: unknown metric 'speed'",
        ),
        (
            "rules:\n  - { metric: tp95 }\n",
            "rules[0].max: give `max`, `min` or both",
        ),
        (
            "rules:\n  - { metric: tp95, max: 1, colour: red }\n",
            "colour",
        ),
        ("rules: [", "not a valid SLA rule file"),
    ] {
        let sla = write(store.path(), "bad.yaml", yaml);
        let out = store.run(&["report", &run, "--sla", sla.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{yaml}: {err}");
        assert!(
            err.contains("bad.yaml") && err.contains(want),
            "{yaml}: {err}"
        );
    }
    let out = store.run(&["report", "20990101-000000-zzzz"]);
    assert_eq!(out.status.code(), Some(2));
    let out = store.run(&["report", &run, "--junit", "x.xml"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--junit without --sla is a usage error"
    );
}

#[test]
fn compare_flags_the_slowed_request_with_exact_deltas() {
    let store = TestStore::new();
    let base = store.import(&[checkout().to_str().unwrap(), "--plan", &plan()]);
    let slow = checkout_variant(store.path(), "slow.csv", "Home", 2.0, 0);
    let cand = store.import(&[slow.to_str().unwrap(), "--plan", &plan()]);
    let (tb, tc) = (truth(&checkout(), "90,95,99"), truth(&slow, "90,95,99"));
    let out = store.run(&[
        "compare",
        &base,
        &cand,
        "--format",
        "json",
        "--min-samples",
        "30",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "no --fail-on-regression: exit 0"
    );
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = |name: &str, metric: &str| {
        c["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["level"] == "request" && r["name"] == name && r["metric"] == metric)
            .unwrap_or_else(|| panic!("no row {name} {metric}"))
            .clone()
    };
    for (metric, field) in [
        ("averageRespTime", "meanResTime"),
        ("tp90", "pct1ResTime"),
        ("tp95", "pct2ResTime"),
        ("tp99", "pct3ResTime"),
        ("tp50", "medianResTime"),
    ] {
        let r = row("Home", metric);
        let (b, k) = (
            tb["Home"][field].as_f64().unwrap(),
            tc["Home"][field].as_f64().unwrap(),
        );
        assert!(close(r["baseline"].as_f64().unwrap(), b, 1e-12), "{metric}");
        assert!(
            close(r["candidate"].as_f64().unwrap(), k, 1e-12),
            "{metric}"
        );
        assert!(
            close(r["deltaPct"].as_f64().unwrap(), (k - b) / b * 100.0, 1e-9),
            "{metric}"
        );
        assert_eq!(r["verdict"], "regression", "{metric}");
        let unchanged = row("Search", metric);
        assert_eq!(unchanged["delta"].as_f64(), Some(0.0));
        assert_eq!(unchanged["verdict"], "same");
    }
    // Home's throughput is unchanged by slower responses only if its span is: judge by truth.
    assert!(c["regressions"].as_u64().unwrap() >= 5);
    // Too few samples: nothing judged.
    let few = store.json(&[
        "compare",
        &base,
        &cand,
        "--format",
        "json",
        "--min-samples",
        "1000",
    ]);
    assert!(
        few["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["verdict"] == "insufficient")
    );
    let gate = store.run(&["compare", &base, &cand, "--fail-on-regression"]);
    assert_eq!(gate.status.code(), Some(1));
    let same = store.run(&["compare", &base, &base, "--fail-on-regression"]);
    assert_eq!(same.status.code(), Some(0));
}

#[test]
fn trend_follows_a_metric_across_runs_oldest_first() {
    // On object storage too: the trend's rollups are written to and read from the bucket.
    for store in TestStore::every_kind("trend") {
        trend_follows_a_metric_across_runs_oldest_first_on(&store);
    }
}

fn trend_follows_a_metric_across_runs_oldest_first_on(store: &TestStore) {
    let hour = 3_600_000;
    let mut files = Vec::new();
    // Imported newest first: the trend must order by when the runs happened.
    for (i, factor) in [(2, 3.0), (0, 1.0), (1, 2.0)] {
        let f = checkout_variant(store.path(), &format!("v{i}.csv"), "Home", factor, i * hour);
        store.import(&[f.to_str().unwrap(), "--name", "nightly"]);
        files.push((i, f));
    }
    store.import(&[checkout().to_str().unwrap(), "--name", "other", "--force"]);
    files.sort();
    let t = store.json(&[
        "trend",
        "--name",
        "nightly",
        "--metric",
        "tp95",
        "--request",
        "Home",
        "--format",
        "json",
    ]);
    let points = t["points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    for ((_, f), p) in files.iter().zip(points) {
        let want = truth(f, "95,90,99")["Home"]["pct1ResTime"]
            .as_f64()
            .unwrap();
        assert_eq!(p["value"].as_f64(), Some(want), "{}", f.display());
        assert_eq!(p["samples"], 225);
    }
    let last2 = store.json(&[
        "trend", "--name", "nightly", "--metric", "avg_rt", "--last", "2", "--format", "json",
    ]);
    let pts = last2["points"].as_array().unwrap();
    assert_eq!(pts.len(), 2);
    let newest = truth(&files[2].1, "95,90,99");
    assert!(close(
        pts[1]["value"].as_f64().unwrap(),
        newest["Total"]["meanResTime"].as_f64().unwrap(),
        1e-12
    ));
}
