//! Gatling `simulation.log` (text 3.0–3.12, binary 3.13+): real logs written by Gatling
//! (`../shared/fixtures/peers/gatling`, SOURCES.md there) import with the per-name counts,
//! failures and durations an independent Python reader (`py/gatling_stats.py`) finds; Gatling's
//! own fixtures give Gatling's own statistics; a 2.x log is refused; a results folder imports.

use serde_json::Value;

use crate::common::*;

const TEXT_3_3: &str = "taurus_gatling-3.3.1.simulation.log";
const TEXT_3_7: &str = "taurus_gatling-3.7.6_groups.simulation.log";
const KNOWN_TEXT: &str = "gatling-repo_single_node_with_known_stats_text.simulation.log";
const KNOWN_BINARY: &str = "gatling-repo_known_stats_binary_3.13dev.simulation.log";
const BINARY_3_14: &str = "taurus_gatling-3.14.3_binary.simulation.log";
const GATLING_2: &str = "taurus_gatling-2.x_error-as-GROUP.simulation.log";

/// Asserts that run `run`'s requests per name (SQL and `report --format json`) and groups
/// equal `truth` from gatling_stats.py.
fn assert_same_as_truth(store: &TestStore, run: &str, truth: &Value) {
    let rows = store.sql(&format!(
        "select label, count(*) as n, sum(case when success then 0 else 1 end) as failures, \
         min(elapsed_ms) as min, max(elapsed_ms) as max, sum(elapsed_ms) as sum \
         from samples where run_id = '{run}' and kind = 'sample' group by label order by label"
    ));
    let names = truth["names"].as_object().unwrap();
    assert_eq!(rows.len(), names.len(), "names: {rows:?} vs {names:?}");
    for row in &rows {
        let name = row["label"].as_str().unwrap();
        let t = &names[name];
        for (ours, theirs) in [
            ("n", "count"),
            ("failures", "failures"),
            ("min", "min"),
            ("max", "max"),
            ("sum", "sum"),
        ] {
            assert_eq!(row[ours], t[theirs], "{name}: {ours}");
        }
    }
    assert_report_requests_equal(store, run, truth);
    let groups = store.sql(&format!(
        "select label, count(*) as n, min(elapsed_ms) as min, max(elapsed_ms) as max, \
         sum(elapsed_ms) as sum, sum(cast(vars['cumulated_ms'] as bigint)) as cumulated \
         from samples where run_id = '{run}' and kind = 'transaction' group by label order by label"
    ));
    let want = truth["groups"].as_object().unwrap();
    assert_eq!(groups.len(), want.len(), "{groups:?} vs {want:?}");
    for g in &groups {
        let label = g["label"].as_str().unwrap();
        let t = &want[label];
        for (ours, theirs) in [
            ("n", "count"),
            ("min", "min"),
            ("max", "max"),
            ("sum", "sum"),
            ("cumulated", "cumulated"),
        ] {
            assert_eq!(g[ours], t[theirs], "group {label}: {ours}");
        }
    }
    let src = first_source(store, run);
    assert_eq!(src["format"], "gatling");
    assert_eq!(src["tool"], "gatling");
    assert_eq!(src["tool_version"], truth["version"]);
}

#[test]
fn gatling_logs_import_with_independent_counts() {
    let Some(dir) = peer_fixtures("gatling") else {
        return;
    };
    let store = TestStore::new();
    // (file, requests, failures) as SOURCES.md counts them.
    for (file, total, failures) in [
        (TEXT_3_3, 100, 0),
        (TEXT_3_7, 30, 0),
        (KNOWN_TEXT, 8, 0),
        (KNOWN_BINARY, 105, 1),
        (BINARY_3_14, 39, 0),
    ] {
        let path = dir.join(file);
        let p = path.to_str().unwrap();
        let run = store.import(&[p]);
        let truth = py_json("gatling_stats.py", &[p]);
        assert_eq!(
            truth["total"], total,
            "{file}: the truth itself (SOURCES.md)"
        );
        assert_eq!(truth["failures"], failures, "{file}: the truth itself");
        assert_same_as_truth(&store, &run, &truth);
        assert_eq!(first_source(&store, &run)["rejected"], 0, "{file}");
        // Forced, the same.
        let forced = store.import(&[p, "--force", "--input-format", "gatling"]);
        assert_same_as_truth(&store, &forced, &truth);
    }
    // The 3.7 log's group: 5 transactions whose duration is far above the cumulated time.
    let run = store.import(&[dir.join(TEXT_3_7).to_str().unwrap(), "--force"]);
    let g = store.sql(&format!(
        "select count(*) as n from samples where run_id = '{run}' and kind = 'transaction' \
         and label = 'Pagination' and elapsed_ms > 5 * cast(vars['cumulated_ms'] as bigint)"
    ));
    assert_eq!(g[0]["n"], 5);
    // 3.3's user ids are threads, their scenario the case; USER records give the users.
    let run = store.import(&[dir.join(TEXT_3_3).to_str().unwrap(), "--force"]);
    let rows = store.sql(&format!(
        "select count(distinct thread) as threads, min(case_name) as c, max(all_threads) as users \
         from samples where run_id = '{run}'"
    ));
    assert_eq!(rows[0]["threads"], 10);
    assert_eq!(rows[0]["c"], "Taurus Scenario");
    assert_eq!(rows[0]["users"], 10);
    // The runs table names the tool and its version; a JTL run beside them is JMeter's.
    let r = store.sql(&format!(
        "select tool, tool_version, source_formats[1] as f from runs where run_id = '{run}'"
    ));
    assert_eq!(
        (&r[0]["tool"], &r[0]["tool_version"], &r[0]["f"]),
        (
            &Value::from("gatling"),
            &Value::from("3.3.1"),
            &Value::from("gatling")
        )
    );
    let jtl = repo_root().join("sample-data");
    let jtl = std::fs::read_dir(&jtl)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "jtl" || e == "csv"))
        .unwrap();
    store.import(&[jtl.to_str().unwrap()]);
    let by_tool = store.sql(
        "select tool, count(*) as n from samples join runs using (run_id) group by tool order by tool",
    );
    let tools: Vec<&str> = by_tool
        .iter()
        .map(|r| r["tool"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["gatling", "jmeter"], "{by_tool:?}");
}

#[test]
fn gatlings_own_fixtures_give_gatlings_statistics() {
    let Some(dir) = peer_fixtures("gatling") else {
        return;
    };
    let store = TestStore::new();
    // gatling-charts' single_node_with_known_stats test: min 2000, max 9000, p0 2000, p70 5000,
    // stddev ≈ 2138 (±6 %).
    let run = store.import(&[dir.join(KNOWN_TEXT).to_str().unwrap()]);
    let report = store.json(&["report", &run, "--format", "json", "--percentiles", "0,70"]);
    let d = report["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["level"] == "request")
        .unwrap()
        .clone();
    assert_eq!(d["min"].as_f64(), Some(2000.0));
    assert_eq!(d["max"].as_f64(), Some(9000.0));
    assert_eq!(d["percentiles"]["0"].as_f64(), Some(2000.0));
    assert_eq!(d["percentiles"]["70"].as_f64(), Some(5000.0));
    let sd = store.sql(&format!(
        "select stddev(elapsed_ms) as sd from samples where run_id = '{run}'"
    ));
    let sd = sd[0]["sd"].as_f64().unwrap();
    assert!((sd - 2138.0).abs() <= 2138.0 * 0.06, "stddev {sd}");
    // The binary fixture: 105 requests, one KO `found 200`: an assertion, status 200.
    let run = store.import(&[dir.join(KNOWN_BINARY).to_str().unwrap()]);
    let rows = store.sql(&format!(
        "select label, error_class, response_code, failure_message from samples \
         where run_id = '{run}' and not success"
    ));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["error_class"], "assertion");
    assert_eq!(rows[0]["response_code"], "200");
    assert_eq!(
        rows[0]["failure_message"],
        "status.find.is(201), but actually found 200"
    );
    let n = store.sql(&format!(
        "select count(*) as n from samples where run_id = '{run}'"
    ));
    assert_eq!(n[0]["n"], 105);
    let report = store.json(&["report", &run, "--format", "json"]);
    assert_eq!(report["outline"]["requests"], 105);
}

#[test]
fn a_gatling_2_log_is_refused_and_a_results_folder_imports() {
    let Some(dir) = peer_fixtures("gatling") else {
        return;
    };
    let store = TestStore::new();
    let old = dir.join(GATLING_2);
    let p = old.to_str().unwrap();
    let out = store.run(&["import", p]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{p}: a Gatling 2.x simulation.log (line 1")),
        "{err}"
    );
    assert!(
        store.sql("select run_id from runs").is_empty(),
        "nothing committed"
    );
    // Forced, the same refusal.
    let out = store.run(&["import", p, "--input-format", "gatling"]);
    assert_eq!(out.status.code(), Some(2));
    // gatling-results/run-xyz/ holding simulation.log, as Gatling leaves it.
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("gatling-results").join("run-xyz");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(dir.join(BINARY_3_14), folder.join("simulation.log")).unwrap();
    let run = store.import(&[folder.to_str().unwrap()]);
    let n = store.sql(&format!(
        "select count(*) as n from samples where run_id = '{run}'"
    ));
    assert_eq!(n[0]["n"], 39);
    let src = first_source(&store, &run);
    assert!(
        src["path"]
            .as_str()
            .unwrap()
            .ends_with("run-xyz/simulation.log"),
        "{src}"
    );
    // A folder without a simulation.log: named, exit 2.
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = store.run(&["import", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a directory without a simulation.log"),
        "{err}"
    );
}

#[test]
fn a_gatling_killed_mid_record_keeps_every_whole_request() {
    let Some(dir) = peer_fixtures("gatling") else {
        return;
    };
    let store = TestStore::new();
    let tmp = tempfile::tempdir().unwrap();
    // The binary log cut 7 bytes before its end (inside its last REQUEST record).
    let bytes = std::fs::read(dir.join(BINARY_3_14)).unwrap();
    let cut = tmp.path().join("cut.simulation.log");
    std::fs::write(&cut, &bytes[..bytes.len() - 7]).unwrap();
    let p = cut.to_str().unwrap();
    let truth = py_json("gatling_stats.py", &[p]);
    assert_eq!(truth["total"], 38, "the reader ignores the cut record");
    let run = store.import(&[p]);
    assert_same_as_truth(&store, &run, &truth);
    let rejects = store.rejects(&run);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert!(
        rejects[0]["reason"]
            .as_str()
            .unwrap()
            .contains("the file ends inside this REQUEST record"),
        "{rejects:?}"
    );
    assert_eq!(store.run_entry(&run)["status"], "complete");
    // The text log cut mid-line: the cut line rejected, the rest kept.
    let text = std::fs::read_to_string(dir.join(TEXT_3_3)).unwrap();
    let at = text.rfind("REQUEST").unwrap() + 20;
    let cut = tmp.path().join("cut.log");
    std::fs::write(&cut, &text[..at]).unwrap();
    let p = cut.to_str().unwrap();
    let run = store.import(&[p]);
    let n = store.sql(&format!(
        "select count(*) as n from samples where run_id = '{run}'"
    ));
    assert_eq!(n[0]["n"], 99);
    let rejects = store.rejects(&run);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["file"], p);
    assert_eq!(rejects[0]["line"], text[..at].lines().count());
}
