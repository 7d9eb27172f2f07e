//! k6 results (`--out json`, `--out csv`): real k6 files written by k6 itself
//! (`../shared/fixtures/peers/k6`, SOURCES.md there) import with the per-name counts, failures
//! and durations an independent Python reader (`py/k6_stats.py`, per-metric like k6's summary)
//! finds; every report works on them; a killed k6, garbage lines and a JTL named `.json` behave.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::common::*;

/// The real JSON file: 99 requests (SOURCES.md).
const ELMARS: &str = "elmars369_sample_k6_test_result_2020-02.json";
/// The real CSV file: 2 OK + 2 DNS failures, 1-second timestamps, a repeated header.
const TAURUS: &str = "taurus_k6_kpi_2021-01.csv";

fn gzip(path: &Path, bytes: &[u8]) {
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap();
}

/// Asserts that run `run`'s requests per name (SQL and `report --format json`) and groups
/// equal `truth` from k6_stats.py.
fn assert_same_as_truth(store: &TestStore, run: &str, truth: &Value) {
    let rows = store.sql(&format!(
        "select label, count(*) as n, sum(case when success then 0 else 1 end) as failures, \
         min(elapsed_ms) as min, max(elapsed_ms) as max, sum(elapsed_ms) as sum, \
         avg(elapsed_ms) as avg from samples where run_id = '{run}' and kind = 'sample' \
         group by label order by label"
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
        // Each duration is rounded to whole ms: the mean moves by half a ms at most.
        let raw_avg = t["raw_sum"].as_f64().unwrap() / t["count"].as_f64().unwrap();
        let avg = row["avg"].as_f64().unwrap();
        assert!(
            (avg - raw_avg).abs() <= 0.5,
            "{name}: avg {avg} vs k6 {raw_avg}"
        );
    }
    assert_report_requests_equal(store, run, truth);
    let groups = store.sql(&format!(
        "select label, count(*) as n from samples where run_id = '{run}' and kind = 'transaction' \
         group by label order by label"
    ));
    let want = truth["groups"].as_object().unwrap();
    assert_eq!(groups.len(), want.len(), "{groups:?} vs {want:?}");
    for g in &groups {
        let label = g["label"].as_str().unwrap();
        let key = want
            .keys()
            .find(|k| k.trim_start_matches("::") == label)
            .unwrap_or_else(|| panic!("group {label} not in {want:?}"));
        assert_eq!(g["n"], want[key], "group {label}");
    }
}

#[test]
fn real_k6_files_import_with_independent_counts() {
    let Some(dir) = peer_fixtures("k6") else {
        return;
    };
    let store = TestStore::new();
    let tmp = tempfile::tempdir().unwrap();
    let json = dir.join(ELMARS);
    let gz = tmp.path().join("k6-out.json.gz");
    gzip(&gz, &std::fs::read(&json).unwrap());
    for (path, format, total) in [
        (json.clone(), "k6-json", 99),
        (gz.clone(), "k6-json", 99),
        (dir.join(TAURUS), "k6-csv", 4),
    ] {
        let p = path.to_str().unwrap();
        let run = store.import(&[p, "--force"]);
        let truth = py_json("k6_stats.py", &[p]);
        assert_eq!(truth["total"], total, "{p}: the truth itself (SOURCES.md)");
        assert_same_as_truth(&store, &run, &truth);
        let src = first_source(&store, &run);
        assert_eq!(src["format"], format, "{p}");
        assert_eq!(src["rejected"], 0, "{p}");
    }
    // SOURCES.md's own facts about the JSON file, beside the reader's.
    let truth = py_json("k6_stats.py", &[json.to_str().unwrap()]);
    let e = &truth["names"]["https://example.com"];
    assert_eq!(
        (e["raw_min"].as_f64(), e["raw_max"].as_f64()),
        (Some(21.62), Some(5155.5))
    );
    assert!((e["raw_sum"].as_f64().unwrap() - 35_655.957).abs() < 1e-6);
    let run = store.import(&[json.to_str().unwrap(), "--force"]);
    let warnings = first_source(&store, &run)["warnings"].to_string();
    assert!(
        warnings.contains("k6 checks (not samples): 99 of 99 passed"),
        "{warnings}"
    );
    // The CSV: DNS failures are `refused` (k6 error code 1101), the text kept as the message.
    let run = store.import(&[dir.join(TAURUS).to_str().unwrap(), "--force"]);
    let rows = store.sql(&format!(
        "select error_class, response_code, response_message, count(*) as n from samples \
         where run_id = '{run}' and not success group by 1, 2, 3"
    ));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (
            &rows[0]["error_class"],
            &rows[0]["response_code"],
            &rows[0]["response_message"],
            &rows[0]["n"]
        ),
        (
            &Value::from("refused"),
            &Value::from("0"),
            &Value::from("lookup: no such host"),
            &Value::from(2)
        )
    );
    let warnings = first_source(&store, &run)["warnings"].to_string();
    assert!(
        warnings.contains("timestamps are whole seconds"),
        "{warnings}"
    );
    assert!(
        warnings.contains("1 repeated header lines were skipped"),
        "{warnings}"
    );
}

/// Plain k6 JSON files of 8 MiB or more are read from memory (crates/ingest/src/k6/json/
/// mapped.rs), 16 MiB at a time: copies of the real JSON file past two windows import with the
/// counts the Python reader finds in the same file, and the manifest's content hash is that of
/// all its bytes; gzip'd (read, not mapped), the same bytes give the same rows.
#[test]
fn a_big_k6_file_read_from_memory_has_independent_counts_and_its_bytes_hash() {
    let Some(dir) = peer_fixtures("k6") else {
        return;
    };
    let one = std::fs::read(dir.join(ELMARS)).unwrap();
    let copies = (33 << 20) / one.len() + 1;
    let bytes = one.repeat(copies);
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("big-k6.json");
    std::fs::write(&big, &bytes).unwrap();
    let p = big.to_str().unwrap();
    let store = TestStore::new();
    let run = store.import(&[p]);
    let truth = py_json("k6_stats.py", &[p]);
    assert_eq!(truth["total"], 99 * copies, "the truth itself");
    assert_same_as_truth(&store, &run, &truth);
    let src = first_source(&store, &run);
    assert_eq!(src["format"], "k6-json");
    assert_eq!(src["rejected"], 0);
    let hash = format!("xxh3-128:{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes));
    assert_eq!(src["content_hash"], hash.as_str());
    let gz = tmp.path().join("big-k6.json.gz");
    gzip(&gz, &bytes);
    let read = store.import(&[gz.to_str().unwrap()]);
    let rows = |run: &str| {
        store.sql(&format!(
            "select ts, elapsed_us, label, success, row from samples where run_id = '{run}' \
             order by row"
        ))
    };
    assert_eq!(rows(&run), rows(&read));
}

/// The 1-based number of the last line of `text` that contains `needle`.
fn last_line_with(text: &str, needle: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    lines.iter().rposition(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn a_k6_killed_mid_request_loses_only_that_request() {
    let Some(dir) = peer_fixtures("k6") else {
        return;
    };
    let store = TestStore::new();
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(dir.join(ELMARS)).unwrap();
    // Cut in the middle of the 5th line after the last request's http_reqs Point.
    let begun = last_line_with(&text, r#""metric":"http_reqs""#);
    let lines: Vec<&str> = text.lines().collect();
    let cut_line = begun + 4;
    let mut cut: String = lines[..cut_line - 1]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    cut.push_str(&lines[cut_line - 1][..40]);
    let path = tmp.path().join("killed.json.gz");
    gzip(&path, cut.as_bytes());
    let p = path.to_str().unwrap();
    let run = store.import(&[p]);
    // The reader counts the cut request's complete Points; loadlake drops the request.
    let truth = py_json("k6_stats.py", &[p]);
    assert_eq!(truth["total"], 99);
    let n = store.sql(&format!(
        "select count(*) as n from samples where run_id = '{run}' and kind = 'sample'"
    ));
    assert_eq!(n[0]["n"], 98);
    let rejects = store.rejects(&run);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["file"], p);
    assert_eq!(rejects[0]["line"], cut_line);
    let reason = rejects[0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("incomplete last line"), "{reason}");
    assert!(
        reason.ends_with(&format!(
            "the request begun at line {begun} was not imported with it"
        )),
        "{reason}"
    );
    assert_eq!(store.run_entry(&run)["status"], "complete");
}

#[test]
fn garbage_in_a_k6_file_is_named_and_strict_commits_nothing() {
    let Some(dir) = peer_fixtures("k6") else {
        return;
    };
    let store = TestStore::new();
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(dir.join(ELMARS)).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // The 50th http_req_waiting Point becomes garbage: its request is lost, the rest kept.
    let at = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(r#""metric":"http_req_waiting""#))
        .nth(49)
        .unwrap()
        .0;
    lines[at] = r#"{"type":"Point","data":{"time":"2020-02-20T01:51:3"#.into();
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let p = bad.to_str().unwrap();
    let out = store.run(&["import", p, "--strict"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{p}:{}", at + 1)), "{err}");
    assert!(
        store.sql("select run_id from runs").is_empty(),
        "nothing committed"
    );
    let run = store.import(&[p]);
    let entry = store.sql(&format!(
        "select samples, rejected from runs where run_id = '{run}'"
    ));
    assert_eq!(entry[0]["rejected"], 1);
    let n = store.sql(&format!(
        "select count(*) as n from samples where run_id = '{run}' and kind = 'sample'"
    ));
    assert_eq!(n[0]["n"], 98);
}

#[test]
fn a_jtl_named_json_is_still_a_jtl_and_forced_formats_are_kept() {
    let store = TestStore::new();
    let tmp = tempfile::tempdir().unwrap();
    let jtl = repo_root().join("tests/data/jmeter213/default.csv");
    let disguised = tmp.path().join("results.json");
    std::fs::copy(&jtl, &disguised).unwrap();
    let run = store.import(&[disguised.to_str().unwrap()]);
    assert_eq!(first_source(&store, &run)["format"], "csv");
    // Forced as k6 JSON, no line is a k6 Point: nothing to import, named.
    let out = store.run(&[
        "import",
        disguised.to_str().unwrap(),
        "--input-format",
        "k6-json",
        "--force",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("results.json:1"), "{err}");
    assert_eq!(store.sql("select run_id from runs").len(), 1);
}
