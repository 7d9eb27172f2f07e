//! The console's "times in ms / µs" switches in headless Chromium (tests/e2e/py/
//! console_micros_check.py): on two k6 runs whose durations micros_reports.rs chose by hand to
//! the µs, the run page's details, the comparison and the trend show the hand-computed µs values
//! once µs is picked (and whole ms before), with their unit in the labels and the page's URL.

use serde_json::Value;

use super::console::{number, serve_with_console, shown_as};
use crate::common::*;
use crate::micros_reports::{FAST_US, SLOW_US, k6_file_of};

/// The details row of request `name` a page showed.
fn detail<'a>(page: &'a Value, name: &str) -> &'a Value {
    page["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["level"] == "request" && r["fields"]["name"] == name)
        .unwrap_or_else(|| panic!("no request row {name}: {page}"))
}

/// Asserts a details row's mean, tp50, tp90, tp99 and tp99.99 cells.
fn assert_times(page: &Value, name: &str, want: [f64; 5]) {
    let row = &detail(page, name)["fields"];
    for (field, w) in ["average_resp_time", "tp50", "tp90", "tp99", "tp9999"]
        .into_iter()
        .zip(want)
    {
        shown_as(
            &row[field],
            &serde_json::json!(w),
            &format!("{name} {field}"),
        );
    }
}

#[test]
fn the_console_shows_runs_comparisons_and_trends_in_microseconds() {
    if !crate::html::browser_available() {
        return;
    }
    let store = TestStore::new();
    // Run a: `fast` takes FAST_US, `slow` SLOW_US; run b the other way round.
    let a = k6_file_of(store.path(), "a.json", 0, &FAST_US, &SLOW_US);
    let b = k6_file_of(store.path(), "b.json", 1, &SLOW_US, &FAST_US);
    let a = store.import(&[a.to_str().unwrap(), "--name", "micros"]);
    let b = store.import(&[b.to_str().unwrap(), "--name", "micros"]);
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-micros");
    // `_server` keeps the server running to the end of the test.
    let (_server, base) = serve_with_console(&store);
    let seen = py_json(
        "console_micros_check.py",
        &[
            &base,
            "s3cret",
            &a,
            &b,
            "micros",
            "fast",
            shots.to_str().unwrap(),
        ],
    );
    for e in seen["errors"].as_array().unwrap() {
        assert!(e.as_str().unwrap().contains("401"), "{seen}");
    }
    assert_eq!(seen["blocked"], serde_json::json!([]), "{seen}");

    // In ms (k6's ms rounded half away from zero): `fast` is 0 0 0 0 0 0 1 1 1 1 sorted — mean
    // 0.4, median (5th) 0, p90 / p99 / p99.99 1; `slow` 500 500 1500 2000 — mean 1125, median
    // (2nd) 500, the rest 2000.
    let (ms, us) = (&seen["run_ms"], &seen["run_us"]);
    assert_eq!(ms["time_unit"], "ms", "{ms}");
    assert_eq!(ms["avg_head"], "avg ms", "{ms}");
    assert_times(ms, "fast", [0.4, 0.0, 1.0, 1.0, 1.0]);
    assert_times(ms, "slow", [1125.0, 500.0, 2000.0, 2000.0, 2000.0]);
    // In µs: `fast` sorted 88 120 229 301 350 455 610 700 999 1004 — mean 485.6, median 350,
    // p90 (9th) 999, p99 and p99.99 (10th) 1004; `slow` 499900 500200 1500400 2000001 — mean
    // 1125125.25, median 500200, the rest 2000001.
    assert!(
        us["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/runs/{a}?resolution=us")),
        "{us}"
    );
    assert_eq!(us["time_unit"], "us", "{us}");
    assert_eq!(us["avg_head"], "avg µs", "{us}");
    assert_eq!(us["outline_avg_label"], "avg response µs", "{us}");
    for label in ["avg µs", "p90 µs", "p99 µs"] {
        assert!(
            us["chart_series"]
                .as_array()
                .unwrap()
                .contains(&label.into()),
            "{label}: {us}"
        );
    }
    assert_times(us, "fast", [485.6, 350.0, 999.0, 1004.0, 1004.0]);
    assert_times(
        us,
        "slow",
        [
            1_125_125.25,
            500_200.0,
            2_000_001.0,
            2_000_001.0,
            2_000_001.0,
        ],
    );

    // The comparison in µs: `fast`'s p95 goes from 1004 µs to 2000001 µs (b's `fast` takes
    // SLOW_US), `slow`'s the other way.
    assert!(
        seen["compare_url"]
            .as_str()
            .unwrap()
            .contains("resolution=us"),
        "{seen}"
    );
    assert_eq!(seen["compare_cards"]["time_unit"], "µs", "{seen}");
    let tp95 = |name: &str| {
        seen["compare_rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| {
                r["metric"] == "tp95" && r["fields"]["name"] == name && r["level"] == "request"
            })
            .unwrap_or_else(|| panic!("no tp95 row of {name}: {seen}"))
            .clone()
    };
    let (fast, slow) = (tp95("fast"), tp95("slow"));
    assert_eq!(
        (
            number(&fast["fields"]["baseline"]),
            number(&fast["fields"]["candidate"])
        ),
        (1004.0, 2_000_001.0),
        "{fast}"
    );
    assert_eq!(
        (
            number(&slow["fields"]["baseline"]),
            number(&slow["fields"]["candidate"])
        ),
        (2_000_001.0, 1004.0),
        "{slow}"
    );
    // 10 and 4 samples, under the default minimum of 30: neither is judged.
    assert_eq!(
        (&fast["verdict"], &slow["verdict"]),
        (&"insufficient".into(), &"insufficient".into())
    );

    // The trend of `fast`'s p95 in µs, oldest run first; the link to the comparison keeps µs.
    assert_eq!(seen["value_head"], "tp95 (µs)", "{seen}");
    assert!(
        seen["trend_title"]
            .as_str()
            .unwrap()
            .starts_with("tp95 (µs) of fast"),
        "{seen}"
    );
    let values: Vec<f64> = seen["trend_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| number(&r["fields"]["value"]))
        .collect();
    assert_eq!(values, [1004.0, 2_000_001.0], "{seen}");
    assert_eq!(
        seen["trend_links"],
        serde_json::json!([format!("/compare?base={a}&target={b}&resolution=us")]),
        "{seen}"
    );
    assert!(
        seen["shots"]["run-us"]["distinct_colors"].as_u64().unwrap() > 8,
        "{seen}"
    );
}
