//! The stable machine formats: `--format json` is one array of objects keyed by column name,
//! `--format csv` a header line and rows; SQL is read-only with a clear error.

use crate::common::*;

#[test]
fn runs_and_sql_in_every_format() {
    let store = TestStore::new();
    let empty = store.run(&["runs", "--format", "json"]);
    assert_eq!(String::from_utf8_lossy(&empty.stdout).trim(), "[]");
    let run = store.import(&[
        jmeter213("header.csv").to_str().unwrap(),
        "--name",
        "shop",
        "--tag",
        "env=ci",
    ]);
    let out = store.run(&["runs", "--format", "json"]);
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs[0]["run_id"], run.as_str());
    assert_eq!(runs[0]["name"], "shop");
    assert_eq!(runs[0]["tags"]["env"], "ci");
    assert_eq!(runs[0]["samples"], 80);
    assert_eq!(runs[0]["status"], "complete");
    let out = store.run(&["runs", "--format", "csv"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("run_id,name,tags,samples,errors,start,duration_s,status")
    );
    assert!(lines.next().unwrap().starts_with(&format!("{run},shop,")));
    let out = store.run(&["runs"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&run));

    let q = format!(
        "select label, count(*) as n from samples where run_id = '{run}' group by label order by label"
    );
    let csv = store.run(&["sql", &q, "--format", "csv"]);
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert_eq!(csv.lines().next(), Some("label,n"));
    assert_eq!(csv.lines().count(), 12, "header + 11 labels");
    let table = store.run(&["sql", &q]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("| Apply Coupon"));
}

#[test]
fn sql_is_read_only() {
    let store = TestStore::new();
    for q in [
        "create external table t stored as csv location '/etc/passwd'",
        "copy (select 1) to '/tmp/loadlake-should-not-exist.csv'",
        "insert into runs select * from runs",
        "create table t as select 1",
        "drop table samples",
        "set datafusion.execution.batch_size = 1",
    ] {
        let out = store.run(&["sql", q]);
        assert_eq!(out.status.code(), Some(2), "{q}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("read-only") || err.contains("not supported"),
            "{q}: {err}"
        );
    }
    assert!(!std::path::Path::new("/tmp/loadlake-should-not-exist.csv").exists());
    let out = store.run(&["sql", "select * from nope"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}
