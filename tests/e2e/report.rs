//! `loadlake report --stats jmeter`: JMeter's own golden statistics.json, exact percentiles
//! against an independent computation, and a case where JMeter's dashboard window is wrong.

use std::io::Write;

use serde_json::Value;

use crate::common::*;

fn stats_json(store: &TestStore, run: &str, extra: &[&str]) -> Value {
    let mut args = vec!["report", run, "--stats", "jmeter", "--format", "json"];
    args.extend_from_slice(extra);
    let out = store.run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a - b).abs() <= rel * a.abs().max(b.abs())
}

#[test]
fn dashboard_mode_equals_jmeters_golden_statistics() {
    let Some(fixtures) = upstream_fixtures() else {
        return;
    };
    let store = TestStore::new();
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

#[test]
fn exact_percentiles_equal_an_independent_computation() {
    let store = TestStore::new();
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
            for (field, w) in want.as_object().unwrap() {
                let g = &ours[label][field];
                match (w.as_f64(), g.as_f64()) {
                    (Some(w), Some(g)) => assert!(
                        close(w, g, 1e-12),
                        "{method} {label}.{field}: truth {w}, loadlake {g}"
                    ),
                    _ => assert_eq!(w, g, "{method} {label}.{field}"),
                }
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
