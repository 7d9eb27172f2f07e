//! Store behaviour: atomic commit, abandonment, crash leftovers, concurrent writers.

use std::collections::BTreeMap;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::TimestampMillisecondType;
use loadlake_schema::{RunStatus, SampleBatchBuilder, SampleRecord, col};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::*;

fn batch(first_row: i64, ts: &[i64], success: &[bool]) -> RecordBatch {
    let mut b = SampleBatchBuilder::new(first_row);
    for (t, s) in ts.iter().zip(success) {
        b.push(&SampleRecord {
            ts_ms: Some(*t),
            elapsed_ms: Some(10),
            label: "home",
            success: *s,
            response_code: Some(if *s { "200" } else { "500" }),
            ..Default::default()
        })
        .unwrap();
    }
    b.finish().unwrap()
}

fn draft() -> RunDraft {
    RunDraft {
        name: "t".into(),
        tags: BTreeMap::from([("env".to_string(), "ci".to_string())]),
        status: RunStatus::Complete,
        sources: vec![],
        plan: None,
    }
}

#[test]
fn commit_makes_a_sorted_visible_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut w = store
        .begin_run(WriterOptions {
            part_rows: 4,
            zstd_level: 3,
        })
        .unwrap();
    let id = w.run_id().clone();
    w.write(batch(0, &[30, 10, 20], &[true, false, true]))
        .unwrap();
    w.write(batch(3, &[5, 50], &[true, true])).unwrap();
    assert!(store.runs().unwrap().is_empty(), "invisible before commit");
    let m = w.commit(draft(), &["bad row"]).unwrap();
    assert_eq!((m.samples, m.errors, m.parts), (5, 1, 1));
    assert_eq!((m.first_ts_ms, m.last_ts_ms), (Some(5), Some(60)));
    assert_eq!(store.runs().unwrap(), vec![m.clone()]);
    assert!(store.layout().rejects_path(&id).exists());
    // Part 0 holds the first 5 rows pushed before the 4-row threshold: sorted by ts.
    let part = store.layout().run_samples_dir(&id).join("part-0.parquet");
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(part).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let mut ts = Vec::new();
    for b in reader {
        let b = b.unwrap();
        let c = b
            .column_by_name(col::TS)
            .unwrap()
            .as_primitive::<TimestampMillisecondType>();
        ts.extend(c.values().iter().copied());
    }
    assert_eq!(ts, vec![5, 10, 20, 30, 50]);
    assert!(
        store
            .layout()
            .tmp_dir()
            .read_dir()
            .unwrap()
            .next()
            .is_none(),
        "tmp is clean"
    );
}

#[test]
fn dropped_writer_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut w = store.begin_run(WriterOptions::default()).unwrap();
    w.write(batch(0, &[1], &[true])).unwrap();
    drop(w);
    assert!(store.runs().unwrap().is_empty());
    assert!(
        store
            .layout()
            .tmp_dir()
            .read_dir()
            .unwrap()
            .next()
            .is_none()
    );
}

#[test]
fn leftovers_of_a_dead_writer_are_removed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = loadlake_schema::RunId::parse("20260101-000000-abcd").unwrap();
    let l = store.layout();
    std::fs::create_dir_all(l.staging_dir(&id)).unwrap();
    std::fs::write(l.staging_dir(&id).join("part-0.parquet"), b"half").unwrap();
    std::fs::write(l.lock_path(&id), b"").unwrap(); // nobody holds it
    let orphan = loadlake_schema::RunId::parse("20260101-000001-abcd").unwrap();
    std::fs::create_dir_all(l.run_samples_dir(&orphan)).unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(!store.layout().staging_dir(&id).exists());
    assert!(!store.layout().lock_path(&id).exists());
    assert!(!store.layout().run_samples_dir(&orphan).exists());
}

#[test]
fn a_live_writer_is_left_alone_and_concurrent_writers_get_distinct_ids() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let a = store.begin_run(WriterOptions::default()).unwrap();
    let b = store.begin_run(WriterOptions::default()).unwrap();
    assert_ne!(a.run_id(), b.run_id());
    let _again = Store::open(dir.path()).unwrap();
    assert!(
        store.layout().staging_dir(a.run_id()).exists(),
        "live writer untouched"
    );
    let ma = a.commit(draft(), &[] as &[String]).unwrap();
    let mb = b.commit(draft(), &[] as &[String]).unwrap();
    assert_eq!(store.runs().unwrap().len(), 2);
    store.delete_run(ma.run_id.as_str()).unwrap();
    assert_eq!(store.runs().unwrap(), vec![mb]);
    assert!(matches!(store.run("../x"), Err(StoreError::NoSuchRun(_))));
}
