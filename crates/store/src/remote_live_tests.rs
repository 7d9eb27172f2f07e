//! Runs whose samples are acknowledged as they arrive, on object storage (`InMemory`): the
//! draft lists every acknowledged part, a dead writer's run is committed by another store
//! handle with exactly those parts, a writer and a recoverer never both commit, the garbage
//! collector keeps a live run's parts, and the live status and stop request travel through
//! the bucket.

use std::sync::Arc;
use std::time::Duration;

use object_store::memory::InMemory;

use loadlake_schema::{RunId, RunStatus};

use super::*;
use crate::remote_live::{RemoteDraft, draft_key};
use crate::tests::{batch, draft};

fn memory_store() -> (Arc<InMemory>, Store) {
    let objects = Arc::new(InMemory::new());
    let store = Store::open_object_store(objects.clone(), "memory://test", "lake").unwrap();
    (objects, store)
}

/// Another process's handle on the same bucket.
fn second_handle(objects: &Arc<InMemory>) -> Store {
    Store::open_object_store(objects.clone(), "memory://test", "lake").unwrap()
}

/// A live writer (parts of at most 4 rows) with its draft recorded.
fn live_writer(store: &Store) -> RunWriter {
    live_writer_of(store, 4)
}

/// A writer with its draft recorded, parts of at most `part_rows` rows.
fn live_writer_of(store: &Store, part_rows: usize) -> RunWriter {
    let mut w = store
        .begin_run(WriterOptions {
            part_rows,
            ..WriterOptions::default()
        })
        .unwrap();
    w.record_draft(&draft()).unwrap();
    w
}

/// Whether run `id` has a draft object.
fn has_draft(store: &Store, id: &RunId) -> bool {
    store.remote().unwrap().exists(&draft_key(id)).unwrap()
}

/// The draft object of run `id` as its writer last PUT it.
fn read_draft(store: &Store, id: &RunId) -> RemoteDraft {
    let bytes = store
        .remote()
        .unwrap()
        .get(&draft_key(id))
        .unwrap()
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn every_flushed_part_is_in_the_draft_before_it_is_acknowledged_and_commit_removes_the_draft() {
    let (_objects, store) = memory_store();
    let mut w = live_writer(&store);
    let id = w.run_id().clone();
    // Recorded at once, listing nothing yet: the run is being written, with no rows to show.
    assert!(read_draft(&store, &id).files.is_empty());
    assert!(store.is_being_written(&id).unwrap());
    assert_eq!(
        store.remote_live_parts().unwrap(),
        vec![(id.clone(), vec![])]
    );

    w.write(batch(0, &[10, 20, 30], &[true, false, true]))
        .unwrap();
    w.flush().unwrap();
    let recorded = read_draft(&store, &id);
    assert_eq!(recorded.files.len(), 1);
    assert_eq!(recorded.files[0].rows, 3);
    assert_eq!((recorded.totals.samples, recorded.totals.errors), (3, 1));
    assert!(!recorded.at_commit);
    let live = store.remote_live_parts().unwrap();
    assert_eq!(live[0].1, recorded.files);
    // Reports of the run while it is written: a stand-in manifest, its samples live.
    let (stand_in, live) = store.run_or_live(id.as_str(), now_ms()).unwrap();
    assert!(live);
    assert_eq!(
        stand_in.tags.get("live").map(String::as_str),
        Some("WRITING")
    );

    w.write(batch(3, &[40, 50], &[false, false])).unwrap();
    let m = w.commit(draft(), &[] as &[String]).unwrap();
    assert_eq!((m.samples, m.errors, m.parts), (5, 3, 2));
    assert_eq!(m.status, RunStatus::Complete);
    // The draft is gone with the commit; nothing is being written any more.
    assert!(!has_draft(&store, &id));
    assert!(store.remote_live_parts().unwrap().is_empty());
    assert!(!store.is_being_written(&id).unwrap());
    assert_eq!(store.runs().unwrap(), vec![m]);
}

#[test]
fn a_killed_writer_s_acknowledged_parts_are_committed_by_another_handle_once_its_draft_is_stale() {
    let (objects, store) = memory_store();
    let mut w = live_writer(&store);
    let id = w.run_id().clone();
    // Two acknowledged parts (7 rows, 2 failed), then rows never flushed (not acknowledged).
    w.write(batch(0, &[100, 200, 300, 400], &[true, true, false, true]))
        .unwrap();
    w.write(batch(4, &[500, 600, 700], &[false, true, true]))
        .unwrap();
    w.flush().unwrap();
    w.write(batch(7, &[800], &[false])).unwrap();
    w.simulate_crash();

    // Another process opens the bucket at once: the draft is fresh, so the run is still
    // being written for all it knows, and nothing is committed.
    let other = second_handle(&objects);
    assert!(other.runs().unwrap().is_empty());
    assert!(other.is_being_written(&id).unwrap());
    // Once the draft is stale (here: any age), recovery commits the acknowledged parts.
    let recovered = other.recover_remote(Duration::ZERO).unwrap();
    assert_eq!(recovered.len(), 1);
    let m = &recovered[0];
    assert_eq!(m.run_id, id);
    assert_eq!((m.samples, m.errors, m.parts), (7, 2, 2));
    assert_eq!(m.status, RunStatus::Incomplete);
    assert!(
        m.status_reason
            .as_deref()
            .is_some_and(|r| r.contains("every part it acknowledged is kept")),
        "{:?}",
        m.status_reason
    );
    assert_eq!((m.first_ts_ms, m.last_ts_ms), (Some(100), Some(710)));
    // Visible to the first handle too; the draft is gone; a second recovery does nothing.
    assert_eq!(store.runs().unwrap(), vec![m.clone()]);
    assert!(!has_draft(&store, &id));
    assert!(other.recover_remote(Duration::ZERO).unwrap().is_empty());
}

#[test]
fn a_writer_dropped_without_commit_commits_what_it_acknowledged_as_incomplete() {
    let (_objects, store) = memory_store();
    let mut w = live_writer(&store);
    let id = w.run_id().clone();
    w.write(batch(0, &[1, 2], &[true, false])).unwrap();
    w.flush().unwrap();
    drop(w);
    let m = store.run(id.as_str()).unwrap();
    assert_eq!(
        (m.samples, m.errors, m.status),
        (2, 1, RunStatus::Incomplete)
    );
    assert!(store.remote_live_parts().unwrap().is_empty());
}

#[test]
fn a_writer_thought_dead_and_its_recoverer_never_both_commit() {
    let (objects, store) = memory_store();
    let mut w = live_writer(&store);
    let id = w.run_id().clone();
    w.write(batch(0, &[1, 2, 3], &[true, true, true])).unwrap();
    w.flush().unwrap();
    // A recoverer that takes the slow writer for dead commits what was acknowledged…
    let recovered = second_handle(&objects)
        .recover_remote(Duration::ZERO)
        .unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!((&recovered[0].run_id, recovered[0].samples), (&id, 3));
    // …and the writer's own commit then loses the conditional create: one run, once.
    w.write(batch(3, &[4], &[true])).unwrap();
    let e = w.commit(draft(), &[] as &[String]).unwrap_err();
    assert!(matches!(e, StoreError::RunIdTaken(_)), "{e}");
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].samples, runs[0].status),
        (3, RunStatus::Incomplete)
    );
}

#[test]
fn garbage_collection_keeps_the_parts_a_live_run_acknowledged_and_removes_orphans() {
    let (_objects, store) = memory_store();
    let mut w = live_writer(&store);
    let id = w.run_id().clone();
    w.write(batch(0, &[1, 2], &[true, true])).unwrap();
    w.flush().unwrap();
    // An orphan of the same run: a part PUT by an attempt no draft or manifest lists.
    let orphan = crate::remote::part_key(&id, "0000000000000000", 0);
    store
        .remote()
        .unwrap()
        .put(
            &orphan,
            bytes::Bytes::from_static(b"x"),
            object_store::PutMode::Create,
        )
        .unwrap();
    // Every object counts as old: only the orphan goes.
    assert_eq!(store.collect_garbage(Duration::ZERO).unwrap(), 1);
    assert!(!store.remote().unwrap().exists(&orphan).unwrap());
    let m = w.commit(draft(), &[] as &[String]).unwrap();
    assert_eq!(m.samples, 2);
}

#[test]
fn live_status_and_stop_requests_travel_through_the_bucket() {
    let (objects, store) = memory_store();
    let other = second_handle(&objects);
    let id = "20261205-101010-abcd";
    let mut s = LiveStatus::created(id, "soak", 1_000);
    s.enter(LiveState::Running, 2_000);
    s.updated_ms = 3_000;
    store.write_live(&s).unwrap();
    assert_eq!(other.live(id, 4_000).unwrap(), Some(s.clone()));
    // Silent for more than LIVE_STALE_AFTER: lost, as locally.
    let lost = other.live(id, 3_000 + 10_001).unwrap().unwrap();
    assert_eq!(lost.state, LiveState::Failed);

    assert!(!store.stop_requested(id));
    other.request_stop(id, 4_000).unwrap();
    assert!(store.stop_requested(id));
    s.enter(LiveState::Stopped, 5_000);
    store.write_live(&s).unwrap();
    assert!(matches!(
        other.request_stop(id, 6_000),
        Err(StoreError::NotLive(_))
    ));
    store.remove_live(&RunId::parse(id).unwrap());
    assert_eq!(other.live(id, 6_000).unwrap(), None);
    assert!(!other.stop_requested(id));
}

#[test]
fn small_acknowledged_parts_are_merged_at_commit_and_then_removed() {
    let (objects, store) = memory_store();
    let mut w = live_writer_of(&store, 100);
    let id = w.run_id().clone();
    // Five acknowledged parts of 3 rows (a live run's seconds), timestamps interleaved
    // across them: the merged part must be sorted again.
    for k in 0..5i64 {
        let ts: Vec<i64> = (0..3).map(|j| 1_000 + j * 10 + k).collect();
        w.write(batch(k * 3, &ts, &[true, k != 2, true])).unwrap();
        w.flush().unwrap();
    }
    assert_eq!(read_draft(&store, &id).files.len(), 5);
    let m = w.commit(draft(), &[] as &[String]).unwrap();
    assert_eq!((m.samples, m.errors, m.parts), (15, 1, 1));
    assert_eq!(m.files.len(), 1);
    assert_eq!(m.files[0].rows, 15);
    // Only the merged part is left in the run's partition.
    let prefix = format!("lake/samples/run_id={id}");
    let left = crate::remote::run_io({
        let objects: Arc<dyn object_store::ObjectStore> = objects.clone();
        async move {
            use futures::TryStreamExt;
            let prefix = object_store::path::Path::from(prefix);
            objects.list(Some(&prefix)).try_collect::<Vec<_>>().await
        }
    })
    .unwrap()
    .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(
        format!("lake/{}", m.files[0].path),
        left[0].location.to_string()
    );
    // Its rows are the 15 written, in timestamp order.
    let bytes = store
        .remote()
        .unwrap()
        .get(&m.files[0].path)
        .unwrap()
        .unwrap();
    let rows: Vec<i64> =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
            .unwrap()
            .build()
            .unwrap()
            .flat_map(|b| {
                let b = b.unwrap();
                let ts = b.column_by_name(loadlake_schema::col::TS).unwrap().clone();
                arrow::array::AsArray::as_primitive::<arrow::datatypes::TimestampMillisecondType>(
                    &ts,
                )
                .values()
                .to_vec()
            })
            .collect();
    let mut want: Vec<i64> = (0..5)
        .flat_map(|k| (0..3).map(move |j| 1_000 + j * 10 + k))
        .collect();
    want.sort();
    assert_eq!(rows, want);
}
