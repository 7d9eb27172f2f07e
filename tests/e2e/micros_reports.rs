//! `--resolution us` in every report: the JMeter statistics, PTS statistics, the HTML page, the
//! Markdown summary, SLA rules with their JUnit XML, `--all` and `--latency intended`, on a k6
//! file whose durations were chosen by hand to the µs. Every expected number is computed by hand
//! in the comments (nearest-rank percentiles: the ⌈p·n⌉-th smallest value).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;

/// The Points of one k6 request, in the order k6 writes them.
const REQUEST_POINTS: [&str; 9] = [
    "http_reqs",
    "http_req_duration",
    "http_req_blocked",
    "http_req_connecting",
    "http_req_tls_handshaking",
    "http_req_sending",
    "http_req_waiting",
    "http_req_receiving",
    "http_req_failed",
];

/// `fast`'s durations in µs. Sorted: 88 120 229 301 350 455 610 700 999 1004; sum 4856, mean
/// 485.6, median (5th) 350, p90 (9th) 999, p95 and p99 (10th) 1004. In whole ms (k6's ms
/// rounded half away from zero): 0 0 0 0 0 0 1 1 1 1, so p90 is 1 ms.
pub(crate) const FAST_US: [i64; 10] = [229, 301, 455, 700, 1004, 120, 88, 350, 610, 999];
/// `slow`'s durations in µs; the last one is an HTTP 500. Sorted: 499900 500200 1500400 2000001;
/// sum 4500501, mean 1125125.25, median (2nd) 500200, p90 / p95 / p99 (4th) 2000001.
pub(crate) const SLOW_US: [i64; 4] = [499_900, 500_200, 1_500_400, 2_000_001];

/// A k6 `--out json` file of `FAST_US` and `SLOW_US`, one request every 100 ms.
fn k6_file(dir: &Path) -> PathBuf {
    k6_file_of(dir, "micros.json", 0, &FAST_US, &SLOW_US)
}

/// A k6 `--out json` file `dir/file` of requests `fast` (durations `fast_us`) then `slow`
/// (`slow_us`, the 4th an HTTP 500) of scenario `browse`, one every 100 ms from
/// 2026-01-01 00:`minute`:10 (each request's end, as k6 writes it).
pub(crate) fn k6_file_of(
    dir: &Path,
    file: &str,
    minute: u32,
    fast_us: &[i64],
    slow_us: &[i64],
) -> PathBuf {
    let mut text = String::new();
    let requests = fast_us.iter().map(|us| ("fast", *us, false)).chain(
        slow_us
            .iter()
            .enumerate()
            .map(|(i, us)| ("slow", *us, i == 3)),
    );
    for (i, (name, us, failed)) in requests.enumerate() {
        // The request's END, as k6 writes it.
        let end = format!("2026-01-01T00:{minute:02}:{:02}.{}Z", 10 + i / 10, i % 10);
        let status = if failed { 500 } else { 200 };
        let tags = format!(
            r#"{{"expected_response":"{}","group":"","method":"GET","name":"{name}","proto":"HTTP/1.1","scenario":"browse","status":"{status}","url":"http://127.0.0.1/{name}"}}"#,
            !failed
        );
        let ms = us as f64 / 1000.0;
        // Waiting (the latency) is the whole duration.
        let values = [
            1.0,
            ms,
            0.0,
            0.0,
            0.0,
            0.0,
            ms,
            0.0,
            f64::from(u8::from(failed)),
        ];
        for (metric, value) in REQUEST_POINTS.iter().zip(values) {
            text += &format!(
                r#"{{"metric":"{metric}","type":"Point","data":{{"time":"{end}","value":{value},"tags":{tags}}}}}"#
            );
            text.push('\n');
        }
    }
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path
}

/// The k6 run in a new store.
fn k6_run() -> (TestStore, String) {
    let store = TestStore::new();
    let file = k6_file(store.path());
    let run = store.import(&[file.to_str().unwrap(), "--name", "micros"]);
    (store, run)
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// `statistics.json`'s rows of `fast` and `slow` in µs, and their unit.
#[test]
fn jmeter_and_pts_statistics_are_in_microseconds() {
    let (store, run) = k6_run();
    let us = ["report", run.as_str(), "--resolution", "us"];
    let stats = store.json(&[&us[..], &["--stats", "jmeter", "--format", "json"]].concat());
    for (label, mean, median, min, max, p90, p95) in [
        ("fast", 485.6, 350.0, 88.0, 1004.0, 999.0, 1004.0),
        (
            "slow",
            1_125_125.25,
            500_200.0,
            499_900.0,
            2_000_001.0,
            2_000_001.0,
            2_000_001.0,
        ),
    ] {
        let row = &stats[label];
        assert_eq!(row["timeUnit"], "us", "{row}");
        for (field, want) in [
            ("meanResTime", mean),
            ("medianResTime", median),
            ("minResTime", min),
            ("maxResTime", max),
            ("pct1ResTime", p90),
            ("pct2ResTime", p95),
        ] {
            assert!(
                close(num(&row[field]), want, 1e-12),
                "{label}.{field}: {row}"
            );
        }
    }
    // Total: 14 samples, (4856 + 4500501) / 14 µs.
    assert!(close(
        num(&stats["Total"]["meanResTime"]),
        4_505_357.0 / 14.0,
        1e-12
    ));
    let ms = store.json(&["report", &run, "--stats", "jmeter", "--format", "json"]);
    assert!(ms["fast"].get("timeUnit").is_none(), "ms rows as JMeter's");
    assert_eq!(num(&ms["fast"]["pct1ResTime"]), 1.0, "whole ms: p90 is 1");

    // APDEX (500 / 1500 ms) of slow's 3 successes among 4 samples: to the µs 499.9 ms is
    // satisfied, 500.2 tolerated, 1500.4 frustrated: (1 + 0.5) / 4. In whole ms 500, 500 and
    // 1500: (2 + 0.5) / 4. The thresholds are still written in ms.
    let dashboard = store.json(&[&us[..], &["--stats", "dashboard", "--format", "json"]].concat());
    assert_eq!(dashboard["timeUnit"], "us");
    let slow_apdex = |v: &Value| {
        v["apdex"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["label"] == "slow")
            .unwrap()
            .clone()
    };
    let apdex = slow_apdex(&dashboard);
    assert_eq!(num(&apdex["apdex"]), 0.375, "{apdex}");
    assert_eq!(apdex["satisfiedThreshold"], 500);
    let ms_dashboard = store.json(&["report", &run, "--stats", "dashboard", "--format", "json"]);
    assert_eq!(num(&slow_apdex(&ms_dashboard)["apdex"]), 0.625);
    let table = store.run(&[&us[..], &["--stats", "jmeter"]].concat());
    assert!(String::from_utf8_lossy(&table.stdout).contains("Average (µs)"));

    // PTS: rt fields in µs, said once.
    let pts = store.json(&[&us[..], &["--stats", "pts", "--format", "json"]].concat());
    assert_eq!(pts["TimeUnit"], "us");
    let fast = pts["SampleStatList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "fast")
        .unwrap();
    assert!(close(num(&fast["rtAvg"]), 485.6, 1e-12), "{fast}");
    assert_eq!(num(&fast["rtMax"]), 1004.0);
}

/// The page's details, Statistics and outline cells are the µs numbers, labelled µs.
#[test]
fn the_html_page_shows_microseconds_and_says_so() {
    let (store, run) = k6_run();
    let page = store.path().join("micros.html");
    let out = store.run(&[
        "report",
        &run,
        "--resolution",
        "us",
        "--html",
        page.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = py_json("html_cells.py", &[page.to_str().unwrap()]);
    let row = |table: &str, key: &str, value: &str| {
        seen["tables"][table]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["row"][key] == value)
            .unwrap_or_else(|| panic!("no {key}={value} in {table}: {seen}"))["fields"]
            .clone()
    };
    let fast = row("details", "name", "fast");
    for (field, text) in [
        ("averageRespTime", "485.60"),
        ("min", "88.00"),
        ("max", "1004.00"),
        ("tp50", "350.00"),
        ("tp90", "999.00"),
        ("tp95", "1004.00"),
    ] {
        assert_eq!(fast[field], text, "details fast.{field}");
    }
    let slow = row("jmeter-statistics", "label", "slow");
    assert_eq!(slow["meanResTime"], "1125125.25");
    assert_eq!(slow["medianResTime"], "500200.00");
    assert_eq!(
        row("jmeter-apdex", "label", "slow")["apdex"],
        "0.38",
        "0.375 to 2 decimals"
    );
    // The outline's average: (4856 + 4500501) / 14 = 321811.21 µs.
    assert_eq!(seen["outline"]["averageRespTime"], "321811.21");
    assert!(seen["units"].as_array().unwrap().contains(&"µs".into()));
    assert!(
        seen["captions"]
            .as_array()
            .unwrap()
            .contains(&"Response time (µs)".into()),
        "{seen}"
    );
    let hints = seen["hints"].to_string();
    assert!(
        hints.contains("Times in µs, bytes per response."),
        "{hints}"
    );
    assert!(!hints.contains("Times in ms"), "{hints}");
    // APDEX thresholds are still ms, and say so.
    assert!(seen["headers"]["jmeter-apdex"].to_string().contains("ms"));
}

/// SLA rules in ms judged to the µs (the rule's ms converted exactly), in the JSON report, the
/// Markdown summary and the JUnit XML.
#[test]
fn sla_rules_in_ms_gate_microsecond_reports_exactly() {
    let (store, run) = k6_run();
    let sla = store.path().join("sla.yaml");
    std::fs::write(
        &sla,
        "rules:\n\
         - { name: fast p90 at bound, request: fast, metric: tp90, max: 0.999 }\n\
         - { name: fast p90 below, request: fast, metric: tp90, max: 0.998 }\n\
         - { name: fast avg at bound, request: fast, metric: avg_rt, max: 0.4856 }\n\
         - { name: slow min, request: slow, metric: min_rt, min: 499.9 }\n",
    )
    .unwrap();
    let sla = sla.to_str().unwrap();
    let report = |resolution: &str| {
        let out = store.run(&[
            "report",
            &run,
            "--sla",
            sla,
            "--format",
            "json",
            "--resolution",
            resolution,
        ]);
        assert_eq!(out.status.code(), Some(1), "one rule fails");
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let us = report("us");
    let result = |r: &Value, name: &str| {
        r["sla"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .unwrap()
            .clone()
    };
    // p90 999 µs: within 0.999 ms, over 0.998 ms; avg 485.6 µs at 0.4856 ms; min 499900 µs.
    for (name, passed, actual, bound) in [
        ("fast p90 at bound", true, 999.0, 999.0),
        ("fast p90 below", false, 999.0, 998.0),
        ("fast avg at bound", true, 485.6, 485.6),
        ("slow min", true, 499_900.0, 499_900.0),
    ] {
        let r = result(&us, name);
        assert_eq!(r["passed"], passed, "{r}");
        assert_eq!(num(&r["actual"]), actual, "{r}");
        let b = if r["max"].is_null() {
            &r["min"]
        } else {
            &r["max"]
        };
        assert_eq!(num(b), bound, "{r}");
        assert_eq!(r["unit"], "µs");
    }
    assert_eq!(
        result(&us, "fast p90 below")["message"],
        "tp90 999.00 µs > max 998 µs"
    );
    // In whole ms, p90 is 1 ms: over 0.999.
    let ms = report("ms");
    let at_bound = result(&ms, "fast p90 at bound");
    assert_eq!(
        (at_bound["passed"].clone(), at_bound["unit"].clone()),
        (false.into(), "ms".into())
    );

    // Markdown and JUnit say µs.
    let md = store.path().join("summary.md");
    let junit = store.path().join("sla.xml");
    let out = store.run(&[
        "report",
        &run,
        "--resolution",
        "us",
        "--sla",
        sla,
        "--markdown",
        md.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let md = std::fs::read_to_string(md).unwrap();
    assert!(md.contains("| Avg RT (µs) |"), "{md}");
    assert!(md.contains("## Details (times in µs)"), "{md}");
    // fast: 10 requests, avg 485.60, tp50 350, tp90 999, tp95 1004, tp99 1004, max 1004.
    assert!(
        md.lines().any(|l| l.contains("| fast |")
            && l.contains(
                "| 10 | 0 | 100.00% | 485.60 | 350.00 | 999.00 | 1004.00 | 1004.00 | 1004.00 |"
            )),
        "{md}"
    );
    assert!(md.contains("tp90 999.00 µs > max 998 µs"), "{md}");
    let parsed = py_inline(&format!(
        "import json, junitparser\n\
         x = junitparser.JUnitXml.fromfile({:?})\n\
         print(json.dumps([[c.name, [[r.message, r.text] for r in c.result]] for s in x for c in s]))",
        junit.to_str().unwrap()
    ));
    let failed: Vec<&Value> = parsed
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c[1].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(failed.len(), 1, "{parsed}");
    assert_eq!(failed[0][0], "fast p90 below");
    assert_eq!(failed[0][1][0][0], "tp90 999.00 µs > max 998 µs");
    assert!(
        failed[0][1][0][1].as_str().unwrap().contains("max 998 µs"),
        "{parsed}"
    );
}

/// `--all`: every run's JSON report and the index in µs.
#[test]
fn batch_reports_are_in_microseconds() {
    let (store, run) = k6_run();
    let out_dir = store.path().join("reports");
    let out = store.run(&[
        "report",
        "--all",
        "--resolution",
        "us",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join(format!("{run}.json"))).unwrap())
            .unwrap();
    assert_eq!(json["timeUnit"], "us");
    assert!(close(
        num(&json["outline"]["averageRespTime"]),
        4_505_357.0 / 14.0,
        1e-12
    ));
    let seen = py_json(
        "html_cells.py",
        &[out_dir.join("index.html").to_str().unwrap()],
    );
    let headers = seen["headers"]["runs-table"].to_string();
    assert!(
        headers.contains("Avg RT (µs)") && headers.contains("TP95 (µs)"),
        "{headers}"
    );
    // tp95 of the 14 samples: the 14th smallest (⌈13.3⌉), 2000001 µs.
    let row = &seen["tables"]["runs-table"][0]["fields"];
    assert_eq!(row["tp95"], "2000001.00", "{seen}");
    assert_eq!(row["averageRespTime"], "321811.21");
}

/// `loadlake detail --resolution us`: the case's row and its requests in µs.
#[test]
fn case_detail_is_in_microseconds() {
    let (store, run) = k6_run();
    let detail = store.json(&[
        "detail",
        &run,
        "--case",
        "browse",
        "--format",
        "json",
        "--resolution",
        "us",
    ]);
    assert_eq!(detail["timeUnit"], "us");
    // The 14 samples sorted: 88 120 229 301 350 455 610 700 999 1004 499900 500200 1500400
    // 2000001; tp50 the 7th, tp90 the 13th (⌈12.6⌉).
    let case = &detail["performance"];
    assert_eq!(num(&case["tp50"]), 610.0, "{case}");
    assert_eq!(num(&case["tp90"]), 1_500_400.0, "{case}");
    assert!(close(
        num(&case["averageRespTime"]),
        4_505_357.0 / 14.0,
        1e-12
    ));
    let fast = detail["detailDatas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "fast")
        .unwrap();
    assert_eq!(num(&fast["tp90"]), 999.0);
    let ms = store.json(&["detail", &run, "--case", "browse", "--format", "json"]);
    assert!(ms.get("timeUnit").is_none());
    assert_eq!(
        num(&ms["performance"]["tp50"]),
        1.0,
        "whole ms: 610 µs is 1 ms"
    );
}
