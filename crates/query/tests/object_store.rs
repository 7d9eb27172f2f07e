//! Reading a store on object storage (`object_store`'s `InMemory`): queries see committed runs
//! only, and of each only the parts its manifest lists — never an orphan part (of a writer that
//! died or lost the race for its run id), never a run whose manifest has not landed yet, nor
//! a deleted run or its rollup.

use std::sync::Arc;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use loadlake_query::QueryEngine;
use loadlake_schema::{RunStatus, SampleBatchBuilder, SampleRecord};
use loadlake_store::{RunDraft, Store, WriterOptions};
use object_store::ObjectStoreExt;
use object_store::memory::InMemory;
use object_store::path::Path;

/// `n` samples from row `first`, every fifth one failed.
fn batch(first: i64, n: i64) -> RecordBatch {
    let mut b = SampleBatchBuilder::new(first);
    for row in first..first + n {
        b.push(&SampleRecord {
            ts_ms: Some(1_795_000_000_000 + row * 100),
            elapsed_ms: Some(20 + row % 7),
            label: "home",
            success: row % 5 != 0,
            ..Default::default()
        })
        .unwrap();
    }
    b.finish().unwrap()
}

fn draft() -> RunDraft {
    RunDraft {
        name: "shop".into(),
        tags: Default::default(),
        status: RunStatus::Complete,
        sources: Vec::new(),
        plan: None,
    }
}

/// A writer with `n` rows written in parts of `part_rows`.
fn written(store: &Store, n: i64, part_rows: usize) -> loadlake_store::RunWriter {
    let options = WriterOptions {
        part_rows,
        ..WriterOptions::default()
    };
    let mut w = store.begin_run(options).unwrap();
    let mut first = 0;
    while first < n {
        let rows = (part_rows as i64).min(n - first);
        w.write(batch(first, rows)).unwrap();
        first += rows;
    }
    w.flush().unwrap();
    w
}

async fn count(engine: &QueryEngine, filter: &str) -> i64 {
    let batches = engine
        .sql_read_only(&format!("select count(*) as n from samples {filter}"))
        .await
        .unwrap();
    batches[0].column(0).as_primitive::<Int64Type>().value(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_committed_runs_and_the_parts_their_manifests_list_are_read() {
    let objects = Arc::new(InMemory::new());
    let store = Store::open_object_store(objects.clone(), "memory://q", "lake").unwrap();
    let committed = written(&store, 30, 10)
        .commit(draft(), &[] as &[String])
        .unwrap();
    assert_eq!(committed.files.len(), 3);
    let id = committed.run_id.to_string();

    // An orphan in the committed run's own partition (a copy of one of its parts, as a writer
    // that lost the race would have left it had it died before removing its parts).
    let first_part = Path::from(format!("lake/{}", committed.files[0].path));
    let bytes = objects
        .get(&first_part)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let orphan = Path::from(format!(
        "lake/samples/run_id={id}/part-0000000000000000-0.parquet"
    ));
    objects.put(&orphan, bytes.into()).await.unwrap();
    // A writer that died between its parts and its manifest.
    let dead = written(&store, 7, 10);
    let dead_id = dead.run_id().to_string();
    std::mem::forget(dead);

    let engine = QueryEngine::open(&store).await.unwrap();
    assert_eq!(count(&engine, "").await, 30);
    assert_eq!(count(&engine, &format!("where run_id = '{id}'")).await, 30);
    assert_eq!(
        count(&engine, &format!("where run_id = '{dead_id}'")).await,
        0
    );
    let runs = engine
        .sql_read_only("select count(*) from runs")
        .await
        .unwrap();
    assert_eq!(runs[0].column(0).as_primitive::<Int64Type>().value(0), 1);

    // A reader while a run is being committed sees none of it, then all of it at once.
    let committing = written(&store, 12, 4);
    let new_id = committing.run_id().to_string();
    let new_run = format!("where run_id = '{new_id}'");
    assert_eq!(count(&engine, &new_run).await, 0);
    assert_eq!(count(&engine, "").await, 30);
    let manifest = committing.commit(draft(), &[] as &[String]).unwrap();
    assert_eq!(manifest.files.len(), 3);
    assert_eq!(count(&engine, &new_run).await, 12);
    assert_eq!(count(&engine, "").await, 42);
    // Failed rows counted by hand: rows 0, 5, 10 of 12; 0, 5 … 25 of 30.
    let failed = engine
        .sql_read_only("select count(*) from samples where not success")
        .await
        .unwrap();
    assert_eq!(
        failed[0].column(0).as_primitive::<Int64Type>().value(0),
        3 + 6
    );
}

/// Rows of `table` (`samples`, `rollups`) of run `id`.
async fn rows_of(engine: &QueryEngine, table: &str, id: &str) -> i64 {
    let batches = engine
        .sql_read_only(&format!(
            "select count(*) as n from {table} where run_id = '{id}'"
        ))
        .await
        .unwrap();
    batches[0].column(0).as_primitive::<Int64Type>().value(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_samples_are_exactly_the_acknowledged_parts_of_runs_being_written() {
    let objects = Arc::new(InMemory::new());
    let store = Store::open_object_store(objects.clone(), "memory://q", "lake").unwrap();
    let committed = written(&store, 10, 10)
        .commit(draft(), &[] as &[String])
        .unwrap();
    let done = committed.run_id.to_string();
    // A run whose samples are acknowledged as they arrive: 8 rows acknowledged (two parts
    // flushed), then 3 written but not flushed (not acknowledged, not readable).
    let mut live = store
        .begin_run(WriterOptions {
            part_rows: 4,
            ..WriterOptions::default()
        })
        .unwrap();
    live.record_draft(&draft()).unwrap();
    let id = live.run_id().to_string();
    live.write(batch(0, 8)).unwrap();
    live.flush().unwrap();
    live.write(batch(8, 3)).unwrap();
    // An import being written (no draft): its parts are nobody's live samples.
    let importing = written(&store, 5, 10);
    let importing_id = importing.run_id().to_string();

    let engine = QueryEngine::open(&store).await.unwrap();
    assert_eq!(rows_of(&engine, "live_samples", &id).await, 8);
    assert_eq!(rows_of(&engine, "samples", &id).await, 0);
    assert_eq!(rows_of(&engine, "live_samples", &done).await, 0);
    assert_eq!(rows_of(&engine, "live_samples", &importing_id).await, 0);
    // Reports of runs being written read `samples` ∪ `live_samples`.
    engine.include_live_runs().await.unwrap();
    assert_eq!(rows_of(&engine, "samples", &id).await, 8);
    assert_eq!(rows_of(&engine, "samples", &done).await, 10);
    // Failed rows of the acknowledged ones, by hand: rows 0 and 5.
    let failed = engine
        .sql_read_only(&format!(
            "select count(*) from live_samples where run_id = '{id}' and not success"
        ))
        .await
        .unwrap();
    assert_eq!(failed[0].column(0).as_primitive::<Int64Type>().value(0), 2);

    // Committed: every row once, in `samples` only.
    let manifest = live.commit(draft(), &[] as &[String]).unwrap();
    assert_eq!(manifest.samples, 11);
    let engine = QueryEngine::open(&store).await.unwrap();
    assert_eq!(rows_of(&engine, "live_samples", &id).await, 0);
    assert_eq!(rows_of(&engine, "samples", &id).await, 11);
    drop(importing);
}

/// A part written before the µs columns existed (an older store): the same rows, without them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_written_before_the_microsecond_columns_read_them_as_null() {
    let objects = Arc::new(InMemory::new());
    let store = Store::open_object_store(objects.clone(), "memory://q", "lake").unwrap();
    let m = written(&store, 12, 100)
        .commit(draft(), &[] as &[String])
        .unwrap();
    let key = Path::from(format!("lake/{}", m.files[0].path));
    let bytes = objects.get(&key).await.unwrap().bytes().await.unwrap();
    let batches: Vec<RecordBatch> =
        datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
            .unwrap()
            .build()
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    let schema = batches[0].schema();
    let older: Vec<usize> = (0..schema.index_of("elapsed_us").unwrap()).collect();
    let old_schema = Arc::new(schema.project(&older).unwrap());
    let mut out = Vec::new();
    let mut w =
        datafusion::parquet::arrow::ArrowWriter::try_new(&mut out, old_schema, None).unwrap();
    for b in &batches {
        w.write(&b.project(&older).unwrap()).unwrap();
    }
    w.close().unwrap();
    objects.put(&key, out.into()).await.unwrap();

    let engine = QueryEngine::open(&store).await.unwrap();
    let got = engine
        .sql_read_only(
            "select count(*), count(elapsed_us), count(latency_us), sum(elapsed_ms) from samples",
        )
        .await
        .unwrap();
    let col = |i: usize| got[0].column(i).as_primitive::<Int64Type>().value(0);
    // 12 rows, no µs, elapsed 20 + row % 7 for rows 0..12 (by hand: 20·12 + (0+…+6) + (0+…+4)).
    assert_eq!((col(0), col(1), col(2)), (12, 0, 0));
    assert_eq!(col(3), 240 + 21 + 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_run_and_its_rollup_are_not_read() {
    let objects = Arc::new(InMemory::new());
    let store = Store::open_object_store(objects.clone(), "memory://q", "lake").unwrap();
    let gone = written(&store, 30, 10)
        .commit(draft(), &[] as &[String])
        .unwrap();
    let kept = written(&store, 12, 4)
        .commit(draft(), &[] as &[String])
        .unwrap();
    let (gone_id, kept_id) = (gone.run_id.to_string(), kept.run_id.to_string());
    let engine = QueryEngine::open(&store).await.unwrap();
    engine.ensure_rollups(&[&gone_id, &kept_id]).await.unwrap();
    assert_eq!(count(&engine, "").await, 30 + 12);
    let kept_rollup_rows = rows_of(&engine, "rollups", &kept_id).await;
    assert!(rows_of(&engine, "rollups", &gone_id).await > 0);
    assert!(kept_rollup_rows > 0);
    let rollup_key = Path::from(format!("lake/rollups/run_id={gone_id}/rollup.parquet"));
    let rollup = objects
        .get(&rollup_key)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();

    store.delete_run(&gone_id).unwrap();
    // The same engine's next queries: the run's samples and rollup are not read, though
    // both are still in the bucket for the grace.
    assert_eq!(count(&engine, "").await, 12);
    assert_eq!(rows_of(&engine, "samples", &gone_id).await, 0);
    assert_eq!(rows_of(&engine, "rollups", &gone_id).await, 0);
    assert_eq!(
        rows_of(&engine, "rollups", &kept_id).await,
        kept_rollup_rows
    );
    objects.head(&rollup_key).await.expect("kept for the grace");
    let runs = engine
        .sql_read_only("select count(*) from runs")
        .await
        .unwrap();
    assert_eq!(runs[0].column(0).as_primitive::<Int64Type>().value(0), 1);

    // Purged: gone from the bucket. A rollup PUT again afterwards (by a process that computed
    // it while the run was being deleted) belongs to no run and is not read either.
    assert_eq!(store.purge_deleted(std::time::Duration::ZERO).unwrap(), 1);
    assert!(objects.head(&rollup_key).await.is_err());
    objects.put(&rollup_key, rollup.into()).await.unwrap();
    assert_eq!(rows_of(&engine, "rollups", &gone_id).await, 0);
    assert_eq!(count(&engine, "").await, 12);
    assert_eq!(rows_of(&engine, "samples", &kept_id).await, 12);
}
