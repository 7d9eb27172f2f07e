//! Every `.slt` file of `tests/slt` passes on a single node (the harness, the fixture and how
//! statements are written: `tests/slt/harness.rs`).

#[path = "slt/harness.rs"]
mod harness;

use harness::*;
use loadlake_query::QueryEngine;
use loadlake_store::WriterOptions;

#[tokio::test]
async fn every_slt_file_passes() {
    // Parts of 4 rows: the fixture's 16 rows in 4 Parquet files, as a large run has many.
    for part_rows in [WriterOptions::default().part_rows, 4] {
        let dir = tempfile::tempdir().unwrap();
        let (store, vars) = build_store(dir.path(), part_rows);
        let engine = QueryEngine::open(&store).await.unwrap();
        let (failures, files) = run_every_slt_file(engine, vars).await;
        assert!(
            failures.is_empty(),
            "parts of {part_rows} rows: {} of {files} .slt files failed:\n\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

/// Every file of `queries/` is reachable as `@name` (with its exact text) and has its own
/// `.slt` file.
#[test]
fn every_query_has_an_slt_file() {
    let on_disk = stems(&queries_dir(), "sql");
    let known: Vec<String> = QUERIES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(on_disk, known, "queries/ and the QUERIES table differ");
    for (name, text) in QUERIES {
        let file = std::fs::read_to_string(queries_dir().join(format!("{name}.sql"))).unwrap();
        assert_eq!(&file, text, "QUERIES maps {name} to another file's text");
        assert!(
            slt_dir().join(format!("{name}.slt")).exists(),
            "queries/{name}.sql has no tests/slt/{name}.slt"
        );
    }
}

#[test]
fn calls_are_parsed() {
    let call = parse_call("@curve($RUN, 1000, NULL, 'a,b', 'nearest-rank') | t, p50")
        .unwrap()
        .unwrap();
    assert_eq!(call.name, "curve");
    assert_eq!(
        call.args,
        ["$RUN", "1000", "NULL", "'a,b'", "'nearest-rank'"]
    );
    assert_eq!(call.columns.unwrap(), ["t", "p50"]);
    let call = parse_call("@resp_time_ranges($RUN, [100, 300], NULL, 'x|y')")
        .unwrap()
        .unwrap();
    assert_eq!(call.args, ["$RUN", "[100, 300]", "NULL", "'x|y'"]);
    assert!(call.columns.is_none());
    assert!(parse_call("SELECT 1").unwrap().is_none());
    assert_eq!(float_text(20.0), "20");
    assert_eq!(float_text(462.5), "462.5");
    assert_eq!(float_text(100.0 / 3.0), "33.333333");
    assert_eq!(float_text(-0.0000001), "0");
}
