//! HTML reports opened in headless Chromium (Debian's, driven by Python playwright in
//! tests/e2e/py/html_check.py) with every network request blocked: no script errors, the charts
//! paint, the screenshot is not blank, and the numbers in the tables are the JSON report's.

use std::path::Path;

use serde_json::Value;

use crate::common::*;

/// Whether Chromium and playwright are there; with `LOADLAKE_REQUIRE_BROWSER=1` (scripts/test
/// sets it) their absence fails the test instead of skipping it.
pub(crate) fn browser_available() -> bool {
    let ok = Path::new("/usr/bin/chromium").exists()
        && std::process::Command::new(python())
            .args(["-c", "import playwright"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var("LOADLAKE_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "/usr/bin/chromium and playwright (for {}) are required (LOADLAKE_REQUIRE_BROWSER=1)",
            python()
        );
        eprintln!("SKIP: no /usr/bin/chromium or playwright; run scripts/test");
    }
    ok
}

/// Opens `page` in Chromium and returns what html_check.py saw.
fn check_page(page: &Path, expect_charts: usize) -> Value {
    let shot = page.with_extension("png");
    let seen = py_json(
        "html_check.py",
        &[
            page.to_str().unwrap(),
            "--screenshot",
            shot.to_str().unwrap(),
            "--expect-charts",
            &expect_charts.to_string(),
        ],
    );
    assert_eq!(
        seen["errors"],
        serde_json::json!([]),
        "script errors in {}",
        page.display()
    );
    assert_eq!(
        seen["blocked_requests"],
        serde_json::json!([]),
        "network requests"
    );
    assert_eq!(
        seen["charts_ready"].as_u64(),
        Some(expect_charts as u64),
        "{seen}"
    );
    for c in seen["canvases"].as_array().unwrap() {
        assert!(
            c["painted_pixels"].as_u64().unwrap() > 100,
            "blank chart: {c}"
        );
    }
    let s = &seen["screenshot"];
    assert!(s["distinct_colors"].as_u64().unwrap() >= 8, "{s}");
    assert!(s["nonwhite_fraction"].as_f64().unwrap() > 0.02, "{s}");
    seen
}

/// A JSON number as the page's `num` (2 decimals), `int` or `pct` filter writes it.
fn shown(field: &str, v: &Value) -> String {
    match v.as_f64() {
        None => String::new(),
        Some(x) if field == "successRate" || field == "errorPct" => format!("{x:.2}%"),
        Some(x) if v.is_u64() || v.is_i64() => format!("{x:.0}"),
        Some(x) => format!("{x:.2}"),
    }
}

#[test]
fn run_page_renders_offline_and_shows_the_json_reports_numbers() {
    if !browser_available() {
        return;
    }
    let store = TestStore::new();
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let plan = repo_root().join("sample-data/checkout.jmx");
    let run = store.import(&[jtl.to_str().unwrap(), "--plan", plan.to_str().unwrap()]);
    let page = store.path().join("report.html");
    let out = store.run(&["report", &run, "--html", page.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "--html writes the file, not stdout");
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < 2_000_000, "{size} bytes");
    let html = std::fs::read_to_string(&page).unwrap();
    for external in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(external), "page refers to {external}");
    }

    let seen = check_page(&page, 5);
    let report = store.json(&["report", &run, "--format", "json"]);
    let details = report["details"].as_array().unwrap();
    let rows = seen["details"].as_array().unwrap();
    assert_eq!(rows.len(), details.len());
    let mut compared = 0;
    for row in rows {
        let want = details
            .iter()
            .find(|d| {
                d["level"] == row["level"]
                    && d["caseName"] == row["case"]
                    && d["name"] == row["name"]
            })
            .unwrap_or_else(|| panic!("page row not in the JSON report: {row}"));
        for (field, text) in row["fields"].as_object().unwrap() {
            assert_eq!(
                text.as_str().unwrap(),
                shown(field, &want[field]),
                "{row}: {field}"
            );
            compared += 1;
        }
    }
    assert!(
        compared >= details.len() * 10,
        "only {compared} cells compared"
    );

    // JMeter Statistics: exact nearest-rank 90/95/99, as `--stats jmeter` prints them.
    let stats = store.json(&["report", &run, "--stats", "jmeter", "--format", "json"]);
    let stat_rows = seen["statistics"].as_array().unwrap();
    assert_eq!(stat_rows.len(), stats.as_object().unwrap().len());
    for row in stat_rows {
        let want = &stats[row["label"].as_str().unwrap()];
        for (field, text) in row["fields"].as_object().unwrap() {
            assert_eq!(
                text.as_str().unwrap(),
                shown(field, &want[field]),
                "{row}: {field}"
            );
        }
    }
}

#[test]
fn batch_writes_a_page_per_run_an_index_and_one_junit_suite_per_run() {
    let store = TestStore::new();
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let fast = store.import(&[jtl.to_str().unwrap(), "--name", "nightly"]);
    let slow_csv = checkout_variant(store.path(), "slow.csv", "Home", 10.0, 3_600_000);
    let slow = store.import(&[slow_csv.to_str().unwrap(), "--name", "nightly"]);
    let other = store.import(&[jtl.to_str().unwrap(), "--name", "other", "--force"]);
    let sla = store.path().join("sla.yaml");
    // Home's slowest response in checkout.jtl, by Python: the slowed run breaks the rule.
    let max_home = py_json(
        "label_percentiles.py",
        &[jtl.to_str().unwrap(), "nearest-rank", "90,95,99"],
    )["Home"]["maxResTime"]
        .as_f64()
        .unwrap();
    std::fs::write(
        &sla,
        format!("rules:\n  - {{ request: Home, metric: max_rt, max: {max_home} }}\n"),
    )
    .unwrap();
    let out_dir = store.path().join("reports");
    let junit = store.path().join("sla.xml");
    let out = store.run(&[
        "report",
        "--all",
        "--name",
        "nightly",
        "--out",
        out_dir.to_str().unwrap(),
        "--sla",
        sla.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for run in [&fast, &slow] {
        assert!(out_dir.join(format!("{run}.html")).exists());
        let json: Value =
            serde_json::from_slice(&std::fs::read(out_dir.join(format!("{run}.json"))).unwrap())
                .unwrap();
        assert_eq!(json["sla"]["passed"], *run == fast, "{run}");
    }
    assert!(
        !out_dir.join(format!("{other}.html")).exists(),
        "--name filters runs"
    );
    let index = std::fs::read_to_string(out_dir.join("index.html")).unwrap();
    assert!(
        index.contains(&format!("href=\"{fast}.html\""))
            && index.contains(&format!("href=\"{slow}.html\""))
    );
    let parsed = py_inline(&format!(
        "import json, junitparser\n\
         x = junitparser.JUnitXml.fromfile({:?})\n\
         print(json.dumps([[s.name, s.tests, s.failures] for s in x]))",
        junit.to_str().unwrap()
    ));
    let valid = py_json("junit_xsd.py", &[junit.to_str().unwrap()]);
    assert_eq!(
        valid["valid"], true,
        "two suites, valid against junit-10.xsd: {valid}"
    );
    let suites = parsed.as_array().unwrap();
    assert_eq!(suites.len(), 2);
    assert!(
        suites
            .iter()
            .any(|s| s[0].as_str().unwrap().contains(&slow) && s[2] == 1)
    );
    assert!(
        suites
            .iter()
            .any(|s| s[0].as_str().unwrap().contains(&fast) && s[2] == 0)
    );
    if browser_available() {
        check_page(&out_dir.join("index.html"), 0);
    }
}

#[test]
fn compare_and_trend_pages_render_offline_with_their_numbers() {
    if !browser_available() {
        return;
    }
    let store = TestStore::new();
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let base = store.import(&[jtl.to_str().unwrap(), "--name", "nightly"]);
    let slow_csv = checkout_variant(store.path(), "slow.csv", "Search", 3.0, 3_600_000);
    let cand = store.import(&[slow_csv.to_str().unwrap(), "--name", "nightly"]);

    let out = store.run(&["compare", &base, &cand, "--format", "html"]);
    assert!(out.status.success());
    let page = store.path().join("compare.html");
    std::fs::write(&page, &out.stdout).unwrap();
    check_page(&page, 0);
    let html = String::from_utf8(out.stdout).unwrap();
    let json = store.json(&["compare", &base, &cand, "--format", "json"]);
    let regressions = json["regressions"].as_u64().unwrap();
    assert!(regressions > 0);
    assert!(html.contains("regression"), "the page names regressions");

    let out = store.run(&[
        "trend",
        "--name",
        "nightly",
        "--metric",
        "tp90",
        "--request",
        "Search",
        "--format",
        "html",
    ]);
    assert!(out.status.success());
    let page = store.path().join("trend.html");
    std::fs::write(&page, &out.stdout).unwrap();
    check_page(&page, 1);
    let trend = store.json(&[
        "trend",
        "--name",
        "nightly",
        "--metric",
        "tp90",
        "--request",
        "Search",
        "--format",
        "json",
    ]);
    let html = String::from_utf8(out.stdout).unwrap();
    for p in trend["points"].as_array().unwrap() {
        let shown = format!("{:.2}", p["value"].as_f64().unwrap());
        assert!(
            html.contains(&format!(">{shown}<")),
            "trend value {shown} on the page"
        );
    }
}

/// The largest tick number a chart's y axis drew.
fn top_tick(axis: &Value) -> f64 {
    axis["y_ticks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t.as_str().and_then(|t| t.parse::<f64>().ok()))
        .fold(f64::NAN, f64::max)
}

/// The charts say their unit on their y axis, not only in a caption: a run page's
/// response-time chart in ms or µs (its ticks run up to the slowest request's 2 000 ms, or
/// 2 000 001 µs), and a trend of a time metric in either unit.
#[test]
fn chart_axes_name_the_time_unit() {
    use crate::micros_reports::{FAST_US, SLOW_US, k6_file_of};
    if !browser_available() {
        return;
    }
    let store = TestStore::new();
    let a = k6_file_of(store.path(), "a.json", 0, &FAST_US, &SLOW_US);
    let b = k6_file_of(store.path(), "b.json", 1, &SLOW_US, &FAST_US);
    let run = store.import(&[a.to_str().unwrap(), "--name", "axes"]);
    store.import(&[b.to_str().unwrap(), "--name", "axes"]);
    for (resolution, unit, slowest) in [("ms", "ms", 2000.0), ("us", "µs", 2_000_001.0)] {
        let page = store.path().join(format!("run-{resolution}.html"));
        let out = store.run(&[
            "report",
            &run,
            "--resolution",
            resolution,
            "--html",
            page.to_str().unwrap(),
        ]);
        assert!(out.status.success());
        let seen = check_page(&page, 5);
        let rt = &seen["axes"]["rt"];
        assert_eq!(rt["y_label"], format!("response time ({unit})"), "{seen}");
        let top = top_tick(rt);
        assert!(
            top >= slowest / 2.0 && top <= slowest * 1.5,
            "{resolution}: ticks {rt}"
        );
        assert_eq!(seen["axes"]["tps"]["y_label"], "requests / s");

        // A trend of `fast`'s p95: 1004 µs (1 ms) in the first run; the second run's `fast`
        // requests take SLOW_US's times: p95 2000001 µs (2000 ms).
        let out = store.run(&[
            "trend",
            "--name",
            "axes",
            "--metric",
            "tp95",
            "--request",
            "fast",
            "--resolution",
            resolution,
            "--format",
            "html",
        ]);
        assert!(out.status.success());
        let page = store.path().join(format!("trend-{resolution}.html"));
        std::fs::write(&page, &out.stdout).unwrap();
        let seen = check_page(&page, 1);
        let axis = &seen["axes"]["trend"];
        assert_eq!(axis["y_label"], format!("tp95 ({unit})"), "{seen}");
        let top = top_tick(axis);
        assert!(
            top >= slowest / 2.0 && top <= slowest * 1.5,
            "{resolution}: ticks {axis}"
        );
    }
}
