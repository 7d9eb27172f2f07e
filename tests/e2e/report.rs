//! `loadlake report --stats jmeter`: JMeter's own golden statistics.json, exact percentiles
//! against an independent computation, and a case where JMeter's dashboard window is wrong.

use std::io::Write;

use serde_json::Value;

use crate::common::*;

fn stats_json(store: &TestStore, run: &str, extra: &[&str]) -> Value {
    let mut args = vec!["report", run, "--stats", "jmeter", "--format", "json"];
    args.extend_from_slice(extra);
    store.json(&args)
}

#[test]
fn dashboard_mode_equals_jmeters_golden_statistics() {
    // On a directory and in the bucket: the same numbers.
    for store in TestStore::every_kind("golden") {
        let Some(fixtures) = upstream_fixtures() else {
            return;
        };
        let run = store.import(&[fixtures
            .join("results/HTMLReportTestFile.csv")
            .to_str()
            .unwrap()]);
        let ours = stats_json(&store, &run, &["--percentile-method", "jmeter-dashboard"]);
        let golden: Value = serde_json::from_slice(
            &std::fs::read(fixtures.join("golden/HTMLReportExpect.json")).unwrap(),
        )
        .unwrap();
        let golden = golden.as_object().unwrap();
        assert_eq!(ours.as_object().unwrap().len(), golden.len());
        for (label, want) in golden {
            let got = &ours[label];
            for (field, w) in want.as_object().unwrap() {
                let g = &got[field];
                match (w.as_f64(), g.as_f64()) {
                    // errorPct is a 32-bit float in JMeter: compare at f32 precision.
                    (Some(w), Some(g)) if field == "errorPct" => {
                        assert_eq!(w as f32, g as f32, "{label}.{field}")
                    }
                    (Some(w), Some(g)) => assert!(
                        close(w, g, 1e-12),
                        "{label}.{field}: JMeter {w}, loadlake {g}"
                    ),
                    _ => assert_eq!(w, g, "{label}.{field}"),
                }
            }
        }
    }
}

#[test]
fn exact_percentiles_equal_an_independent_computation() {
    // On a directory and in the bucket: the same numbers.
    for store in TestStore::every_kind("exact") {
        let csv = jmeter213("header.csv");
        let run = store.import(&[csv.to_str().unwrap()]);
        for method in ["nearest-rank", "linear", "jmeter-aggregate"] {
            let truth = py_json(
                "label_percentiles.py",
                &[csv.to_str().unwrap(), method, "75,90,99"],
            );
            let ours = stats_json(
                &store,
                &run,
                &["--percentile-method", method, "--percentiles", "75,90,99"],
            );
            let truth = truth.as_object().unwrap();
            assert_eq!(ours.as_object().unwrap().len(), truth.len(), "{method}");
            for (label, want) in truth {
                assert_fields_close(&format!("{method} {label}"), &ours[label], want);
            }
        }
    }
}

/// 5 000 slow samples (1 000 ms) followed by 20 000 fast ones (10 ms). By hand: sorted, the
/// 90th percentile is rank ⌈0.9·25 000⌉ = 22 500, past the 20 000 fast values: 1 000 ms.
/// JMeter's dashboard only sees the last 20 000 values (all 10 ms) and reports 10 ms.
#[test]
fn the_dashboard_window_hides_slow_samples_and_exact_mode_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("window.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,bytes,grpThreads,allThreads,Latency").unwrap();
    for i in 0..25_000u64 {
        let elapsed = if i < 5_000 { 1_000 } else { 10 };
        writeln!(
            f,
            "{},{elapsed},api,200,OK,Users 1-1,text,true,100,1,1,5",
            1_700_000_000_000 + i * 10
        )
        .unwrap();
    }
    drop(f);
    let store = TestStore::new();
    let run = store.import(&[path.to_str().unwrap()]);
    let exact = stats_json(&store, &run, &[]);
    assert_eq!(exact["api"]["pct1ResTime"], 1000.0);
    assert_eq!(exact["api"]["sampleCount"], 25_000);
    let dashboard = stats_json(&store, &run, &["--percentile-method", "jmeter-dashboard"]);
    assert_eq!(
        dashboard["api"]["pct1ResTime"], 10.0,
        "what JMeter's dashboard prints"
    );
    let unwindowed = stats_json(
        &store,
        &run,
        &["--percentile-method", "jmeter-dashboard", "--window", "0"],
    );
    assert_eq!(unwindowed["api"]["pct1ResTime"], 1000.0);
}

#[test]
fn report_errors_are_clear() {
    let store = TestStore::new();
    let out = store.run(&["report", "latest", "--stats", "jmeter"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no runs yet"));
    let out = store.run(&["report", "../etc", "--stats", "jmeter"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no run '../etc'"));
    let run = store.import(&[jmeter213("header.csv").to_str().unwrap()]);
    let out = store.run(&[
        "report",
        &run,
        "--stats",
        "jmeter",
        "--percentiles",
        "90,95",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("exactly three"));
    let out = store.run(&[
        "report",
        &run,
        "--stats",
        "jmeter",
        "--percentiles",
        "90,95,101",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("between 0 and 100"));
}

fn run_report(store: &TestStore, run: &str, extra: &[&str]) -> Value {
    let mut args = vec!["report", run, "--format", "json"];
    args.extend_from_slice(extra);
    store.json(&args)
}

#[test]
fn run_report_details_equal_an_independent_computation() {
    // On a directory and in the bucket: the same numbers.
    for store in TestStore::every_kind("details") {
        let csv = jmeter213("header.csv");
        let run = store.import(&[
            csv.to_str().unwrap(),
            "--plan",
            jmeter213("plans/shop.jmx").to_str().unwrap(),
        ]);
        let truth = py_json("details.py", &[csv.to_str().unwrap(), "33,99.5"]);
        let report = run_report(&store, &run, &["--percentiles", "33,99.5"]);
        let details = report["details"].as_array().unwrap();
        let truth_rows = truth.as_object().unwrap();
        assert_eq!(
            details.len(),
            truth_rows.len() - 1,
            "one detail per case / request / transaction"
        );
        for d in details {
            let key = format!(
                "{}|{}|{}",
                d["level"].as_str().unwrap(),
                d["caseName"].as_str().unwrap(),
                d["name"].as_str().unwrap()
            );
            let want = &truth[&key];
            assert!(want.is_object(), "{key} not in the truth");
            assert_fields_close(&key, d, want);
        }
        let o = &report["outline"];
        let t = &truth["outline"];
        for f in ["requests", "startTime", "endTime", "maxUsers"] {
            assert_eq!(o[f], t[f], "outline.{f}");
        }
        let rate = t["successCount"].as_f64().unwrap() * 100.0 / t["requests"].as_f64().unwrap();
        assert!(close(o["successRate"].as_f64().unwrap(), rate, 1e-12));
        assert_eq!(o["totalCases"], 2, "the plan's two thread groups");
        // Ranges cover every top-level sample exactly once.
        let ranged: u64 = report["respTimeRange"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["count"].as_u64().unwrap())
            .sum();
        assert_eq!(ranged, t["requests"].as_u64().unwrap());
    }
}

/// One hand-made row per error class and per range boundary (half-open ranges: 50 ms is in 50~200ms).
#[test]
fn every_error_class_and_range_boundary_has_a_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("classes.csv");
    let rows = [
        // elapsed, code, message, success, failureMessage → class
        (0, "200", "OK", true, ""), // success, 0~50
        (
            49,
            "Non HTTP response code: java.net.SocketTimeoutException",
            "Non HTTP response message: Read timed out",
            false,
            "",
        ), // timeout
        (
            50,
            "Non HTTP response code: java.net.ConnectException",
            "Non HTTP response message: Connection refused",
            false,
            "",
        ), // refused, 50~200
        (
            199,
            "Non HTTP response code: org.apache.http.MalformedChunkCodingException",
            "Bad chunk",
            false,
            "",
        ), // parse
        (
            200,
            "200",
            "OK",
            false,
            "Test failed: text expected to contain /x/",
        ), // assertion, 200~500
        (999, "404", "Not Found", false, ""), // http_4xx, 500ms~1s
        (1000, "503", "Service Unavailable", false, ""), // http_5xx, 1~2s
        (
            4999,
            "Non HTTP response code: java.io.IOException",
            "stream closed",
            false,
            "",
        ), // other, 4~5s
        (5000, "200", "OK", true, ""), // success, >5s
    ];
    let mut text = String::from(
        "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect\n",
    );
    for (i, (elapsed, code, msg, ok, failure)) in rows.iter().enumerate() {
        text.push_str(&format!(
            "{},{elapsed},r,{code},{msg},T 1-1,text,{ok},{failure},10,10,1,1,u,0,0,0\n",
            1_700_000_000_000u64 + i as u64 * 1000
        ));
    }
    std::fs::write(&path, text).unwrap();
    let store = TestStore::new();
    let run = store.import(&[path.to_str().unwrap()]);
    let report = run_report(&store, &run, &[]);
    let classes: std::collections::BTreeMap<String, u64> = report["errorClasses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["errorClass"].as_str().unwrap().to_string(),
                c["samples"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: std::collections::BTreeMap<String, u64> = [
        ("assertion", 1),
        ("http_4xx", 1),
        ("http_5xx", 1),
        ("other", 1),
        ("parse", 1),
        ("refused", 1),
        ("success", 2),
        ("timeout", 1),
    ]
    .into_iter()
    .map(|(c, n)| (c.to_string(), n))
    .collect();
    assert_eq!(classes, want);
    let req = report["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["level"] == "request")
        .unwrap();
    let failed: Vec<u64> = [
        "failedAssert",
        "failedTimeout",
        "failedRefused",
        "failedParsed",
        "failedOthers",
    ]
    .iter()
    .map(|f| req[*f].as_u64().unwrap())
    .collect();
    assert_eq!(failed, vec![1, 1, 1, 1, 3]);
    let counts: Vec<(String, u64)> = report["respTimeRange"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["range"].as_str().unwrap().to_string(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("0~50ms", 2),
        ("50~200ms", 2),
        ("200~500ms", 1),
        ("500ms~1s", 1),
        ("1~2s", 1),
        ("2~3s", 0),
        ("3~4s", 0),
        ("4~5s", 1),
        (">5s", 1),
    ];
    assert_eq!(
        counts,
        expected
            .iter()
            .map(|(r, n)| (r.to_string(), *n))
            .collect::<Vec<_>>()
    );
    // Custom boundaries.
    let custom = run_report(&store, &run, &["--ranges", "1000"]);
    let counts: Vec<u64> = custom["respTimeRange"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, vec![6, 3]);
    let out = store.run(&["report", &run, "--ranges", "200,50"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("ascending"));
}

#[test]
fn cases_and_case_detail_agree_with_the_data_and_the_report() {
    let store = TestStore::new();
    let csv = jmeter213("header.csv");
    let run = store.import(&[csv.to_str().unwrap()]);
    let cases = store.json(&["cases", &run, "--format", "json"]);
    // Independent: (case, label) → kind and count with Python's csv module.
    let script = format!(
        "import csv, json, re\nrows = list(csv.DictReader(open('{}', newline='')))\nout = {{}}\n\
         for r in rows:\n    k = re.sub(r' \\d+-\\d+$', '', r['threadName']) + '|' + r['label']\n    \
         kind = 'transaction' if r['responseMessage'].startswith('Number of samples in transaction') else 'request'\n    \
         out.setdefault(k, [kind, 0])[1] += 1\nprint(json.dumps(out))",
        csv.display()
    );
    let truth = py_inline(&script);
    let mut seen = 0;
    for c in cases.as_array().unwrap() {
        for (kind, list) in [
            ("request", &c["requests"]),
            ("transaction", &c["transactions"]),
        ] {
            for item in list.as_array().unwrap() {
                let key = format!(
                    "{}|{}",
                    c["caseName"].as_str().unwrap(),
                    item["name"].as_str().unwrap()
                );
                assert_eq!(truth[&key][0], kind, "{key}");
                assert_eq!(truth[&key][1], item["samples"], "{key}");
                assert!(
                    item["detailId"]
                        .as_str()
                        .unwrap()
                        .starts_with(&format!("{}-", c["caseId"]))
                );
                seen += 1;
            }
        }
    }
    assert_eq!(seen, truth.as_object().unwrap().len());

    let report = run_report(&store, &run, &[]);
    let detail = store.json(&[
        "detail",
        &run,
        "--case",
        "Checkout Flow",
        "--format",
        "json",
    ]);
    let case_row = report["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["level"] == "case" && d["caseName"] == "Checkout Flow")
        .unwrap();
    assert_eq!(&detail["performance"], case_row);
    assert_eq!(
        store.json(&[
            "detail",
            &run,
            "--case",
            &detail["caseId"].to_string(),
            "--format",
            "json",
        ]),
        detail
    );
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(&detail["customTransactions"]),
        vec!["Place Order".to_string()]
    );
    // Parent-mode transaction children (Payment…) are not in 2.13 CSV; Login is a plain request.
    assert!(names(&detail["detailDatas"]).contains(&"Login".to_string()));
}

#[test]
fn pts_scene_statistics_equal_an_independent_computation() {
    let store = TestStore::new();
    let csv = jmeter213("header.csv");
    let run = store.import(&[csv.to_str().unwrap()]);
    let ours = store.json(&["report", &run, "--stats", "pts", "--format", "json"]);
    let truth = py_json("pts.py", &[csv.to_str().unwrap()]);
    assert_fields_close(
        "AllSampleStat",
        &ours["AllSampleStat"],
        &truth["AllSampleStat"],
    );
    let list = ours["SampleStatList"].as_array().unwrap();
    assert_eq!(
        list.len(),
        truth["SampleStatList"].as_object().unwrap().len()
    );
    for s in list {
        let name = s["name"].as_str().unwrap();
        assert_fields_close(name, s, &truth["SampleStatList"][name]);
    }
}

/// APDEX, Errors and Top 5 on hand-made rows; every value computed by hand in the comments.
#[test]
fn apdex_errors_and_top5_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("apdex.csv");
    // label, elapsed, success, code, message, failureMessage
    let rows = [
        ("a", 100, true, "200", "OK", ""),  // satisfied (≤ 500)
        ("a", 600, true, "200", "OK", ""),  // tolerated (≤ 1500)
        ("a", 2000, true, "200", "OK", ""), // frustrated
        ("a", 300, false, "500", "Internal Server Error", ""), // failed: counts in the total only
        ("b", 50, true, "200", "OK", ""),   // override b:100|200 → satisfied
        ("b", 120, true, "200", "OK", ""),  // override → tolerated; globally satisfied
        ("c", 10, false, "200", "OK", "Test failed: x"), // assertion: the failure message is the key
    ];
    let mut text = String::from(
        "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect\n",
    );
    for (i, (label, elapsed, ok, code, msg, failure)) in rows.iter().enumerate() {
        text.push_str(&format!(
            "{},{elapsed},{label},{code},{msg},T 1-1,text,{ok},{failure},1,1,1,1,u,0,0,0\n",
            1_700_000_000_000u64 + i as u64
        ));
    }
    std::fs::write(&path, text).unwrap();
    let store = TestStore::new();
    let run = store.import(&[path.to_str().unwrap()]);
    let v = store.json(&[
        "report",
        &run,
        "--stats",
        "dashboard",
        "--format",
        "json",
        "--apdex-per-transaction",
        "b:100|200",
    ]);
    let apdex = |label: &str| {
        v["apdex"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["label"] == label)
            .unwrap()["apdex"]
            .as_f64()
            .unwrap()
    };
    assert!((apdex("a") - (1.0 + 0.5) / 4.0).abs() < 1e-12);
    assert!((apdex("b") - (1.0 + 0.5) / 2.0).abs() < 1e-12);
    assert!((apdex("c") - 0.0).abs() < 1e-12);
    // Total uses the global thresholds: satisfied 100, 50, 120; tolerated 600; of 7 samples.
    assert!((apdex("Total") - (3.0 + 0.5) / 7.0).abs() < 1e-12);
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    for e in errors {
        assert!(
            ["500/Internal Server Error", "Test failed: x"].contains(&e["error"].as_str().unwrap())
        );
        assert_eq!(e["errors"], 1);
        assert!((e["percentInErrors"].as_f64().unwrap() - 50.0).abs() < 1e-12);
        assert!((e["percentInAllSamples"].as_f64().unwrap() - 100.0 / 7.0).abs() < 1e-12);
    }
    let top5 = v["top5"].as_array().unwrap();
    let labels: Vec<&str> = top5.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(
        labels,
        vec!["a", "c", "Total"],
        "only labels with errors, then Total"
    );
    assert_eq!(top5[0]["samples"], 4);
    assert_eq!(top5[2]["errors"], 2);
    assert_eq!(v["statistics"]["Total"]["sampleCount"], 7);
    let bad = store.run(&[
        "report",
        &run,
        "--stats",
        "jmeter",
        "--apdex-per-transaction",
        "b:100",
    ]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("satisfied|tolerated"));
}

/// Every time of the report and of the curve with `--resolution us`, against the same with ms.
/// A JMeter file has whole ms only, so each must be exactly 1 000 times its ms value, and
/// everything else (counts, rates, start and end times, TPS, bytes, range labels) the same.
#[test]
fn microsecond_reports_of_a_jmeter_file_are_the_millisecond_ones_times_1000() {
    let store = TestStore::new();
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let run = store.import(&[jtl.to_str().unwrap()]);
    for command in [&["report"][..], &["curve", "--interval", "1s"]] {
        let mut args: Vec<&str> = command.to_vec();
        args.extend([run.as_str(), "--format", "json"]);
        let ms = store.json(&args);
        args.extend(["--resolution", "us"]);
        let us = store.json(&args);
        assert_eq!(us["timeUnit"], "us", "{command:?}");
        let mut times = 0;
        same_but_times(&ms, &us, "", &mut times);
        assert!(times > 20, "{command:?}: only {times} times compared");
    }
    // JMeter's statistics too: every *ResTime of every label × 1000.
    let stats = |extra: &[&str]| {
        let mut args = vec![
            "report",
            run.as_str(),
            "--stats",
            "jmeter",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        store.json(&args)
    };
    let (ms, us) = (stats(&[]), stats(&["--resolution", "us"]));
    let mut times = 0;
    same_but_times(&ms, &us, "", &mut times);
    assert_eq!(
        times,
        7 * ms.as_object().unwrap().len(),
        "7 times per statistics row"
    );
}

/// Walks `ms` and `us` together: the numbers under response-time keys must be 1 000 times
/// larger in `us` (counted in `times`), every other value equal.
fn same_but_times(ms: &Value, us: &Value, path: &str, times: &mut usize) {
    // The report's details and outline, the curve's average and percentile series.
    const TIME_KEYS: [&str; 8] = [
        "averageRespTime",
        "min",
        "max",
        "avgRt",
        "p50",
        "p90",
        "p95",
        "p99",
    ];
    let is_time = |key: &str| {
        TIME_KEYS.contains(&key)
            || key.ends_with("ResTime")
            || (key.starts_with("tp") && key[2..].chars().all(|c| c.is_ascii_digit()))
    };
    match (ms, us) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let key = k.as_str();
                match (v, &b[key]) {
                    (Value::Number(x), Value::Number(y)) if is_time(key) => {
                        let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                        assert!(close(y, x * 1000.0, 1e-12), "{path}.{key}: {x} ms, {y} µs");
                        *times += 1;
                    }
                    (Value::Array(xs), Value::Array(ys)) if is_time(key) => {
                        for (x, y) in xs.iter().zip(ys) {
                            if let (Some(x), Some(y)) = (x.as_f64(), y.as_f64()) {
                                assert!(
                                    close(y, x * 1000.0, 1e-12),
                                    "{path}.{key}: {x} ms, {y} µs"
                                );
                                *times += 1;
                            }
                        }
                    }
                    (x, y) => same_but_times(x, y, &format!("{path}.{key}"), times),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                same_but_times(x, y, &format!("{path}[{i}]"), times);
            }
        }
        (a, b) => assert_eq!(a, b, "{path}"),
    }
}
