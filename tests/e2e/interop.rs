//! Other readers read the store directly: DuckDB (`read_parquet(..., hive_partitioning=1)`)
//! and pyarrow datasets, with the same counts and statistics as loadlake.

use crate::common::*;

#[test]
fn duckdb_and_pyarrow_read_the_store() {
    if !interop_available() {
        return;
    }
    let store = TestStore::new();
    let a = store.import(&[jmeter213("header.csv").to_str().unwrap()]);
    let b = store.import(&[jmeter213("subsamples.xml").to_str().unwrap()]);
    let truth = py_json("duckdb_store.py", &[store.path().to_str().unwrap()]);
    let ours = store.sql("select run_id, count(*) as n from samples group by run_id");
    let total: u64 = ours.iter().map(|r| r["n"].as_u64().unwrap()).sum();
    assert_eq!(truth["total"].as_u64(), Some(total));
    assert_eq!(truth["pyarrow_rows"].as_u64(), Some(total));
    for r in &ours {
        assert_eq!(truth["per_run"][r["run_id"].as_str().unwrap()], r["n"]);
    }
    for run in [&a, &b] {
        for row in loadlake_label_stats(&store, run) {
            let key = format!("{run}|{}", row["label"].as_str().unwrap());
            let d = &truth["per_label"][&key];
            assert_eq!(d[0], row["n"], "{key}");
            assert_eq!(d[1], row["errors"], "{key}");
            assert_eq!(d[2], row["min"], "{key}");
            assert_eq!(d[3], row["max"], "{key}");
        }
    }
    let cols: Vec<&str> = truth["pyarrow_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for c in [
        "ts",
        "elapsed_ms",
        "label",
        "case_name",
        "kind",
        "error_class",
        "vars",
        "run_id",
    ] {
        assert!(cols.contains(&c), "{c} missing from {cols:?}");
    }
    assert_eq!(truth["ts_type"], "timestamp[ms, tz=UTC]");
}
