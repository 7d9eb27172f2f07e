//! The commit protocol on object storage, on `object_store`'s `InMemory` (atomic conditional
//! creates, so races are real races): parts first, the manifest last with a conditional
//! create; one winner per run id; nothing of a loser, a dropped writer or a writer cut off
//! before its manifest is ever visible.

use std::sync::{Arc, Barrier};

use object_store::memory::InMemory;
use object_store::{ObjectStore, ObjectStoreExt};

use loadlake_schema::{RunId, RunManifest};

use super::*;
use crate::remote::run_io;
use crate::tests::{batch, draft};

pub(crate) fn memory_store() -> (Arc<InMemory>, Store) {
    let objects = Arc::new(InMemory::new());
    let store = Store::open_object_store(objects.clone(), "memory://test", "lake/ci").unwrap();
    (objects, store)
}

/// Every key in `objects` under `prefix`, sorted.
pub(crate) fn keys(objects: &Arc<InMemory>, prefix: &str) -> Vec<String> {
    let objects: Arc<dyn ObjectStore> = objects.clone();
    let prefix = object_store::path::Path::from(prefix);
    let mut keys: Vec<String> = run_io(async move {
        use futures::TryStreamExt;
        objects.list(Some(&prefix)).try_collect::<Vec<_>>().await
    })
    .unwrap()
    .unwrap()
    .into_iter()
    .map(|m| m.location.to_string())
    .collect();
    keys.sort();
    keys
}

/// A writer of run `id` (the same id for several writers: a race) with `rows` rows in parts
/// of `part_rows`.
pub(crate) fn writer_of(store: &Store, id: &RunId, rows: i64, part_rows: usize) -> RunWriter {
    let options = WriterOptions {
        part_rows,
        ..WriterOptions::default()
    };
    let remote = store.remote().unwrap().clone();
    let mut w = RunWriter::new_remote(remote, id.clone(), options);
    let mut first = 0;
    while first < rows {
        let end = (first + part_rows as i64).min(rows);
        let ts: Vec<i64> = (first..end).map(|r| 1_000 + r).collect();
        let ok: Vec<bool> = (first..end).map(|r| r % 4 != 0).collect();
        w.write(batch(first, &ts, &ok)).unwrap();
        first = end;
    }
    w
}

#[test]
fn a_committed_run_lists_its_parts_and_only_then_is_visible() {
    let (objects, store) = memory_store();
    let mut w = store.begin_run(WriterOptions::default()).unwrap();
    let id = w.run_id().clone();
    let ts: Vec<i64> = (0..10).map(|r| 5_000 - r).collect(); // out of order: sorted in the part
    let ok: Vec<bool> = (0..10).map(|r| r != 3).collect();
    w.write(batch(0, &ts, &ok)).unwrap();
    w.flush().unwrap();
    // The part is in the bucket, the run is not visible: no manifest yet.
    let parts = keys(&objects, &format!("lake/ci/samples/run_id={id}"));
    assert_eq!(parts.len(), 1, "{parts:?}");
    assert!(store.runs().unwrap().is_empty());
    assert!(matches!(
        store.run(id.as_str()),
        Err(StoreError::NoSuchRun(_))
    ));

    let m = w.commit(draft(), &["a rejected row"]).unwrap();
    assert_eq!((m.samples, m.errors, m.parts), (10, 1, 1));
    assert_eq!(m.format_version, 2);
    assert_eq!(m.files.len(), 1);
    assert_eq!(format!("lake/ci/{}", m.files[0].path), parts[0]);
    assert_eq!(m.files[0].rows, 10);
    // Starts 4 991 … 5 000, each 10 ms long (the test batches' `elapsed`).
    assert_eq!((m.first_ts_ms, m.last_ts_ms), (Some(4_991), Some(5_010)));
    let listed = store.runs().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0], m);
    assert_eq!(store.run(id.as_str()).unwrap(), m);
    // The size the manifest gives is the object's.
    let head = {
        let objects: Arc<dyn ObjectStore> = objects.clone();
        let key = object_store::path::Path::from(parts[0].as_str());
        run_io(async move { objects.head(&key).await })
            .unwrap()
            .unwrap()
    };
    assert_eq!(head.size, m.files[0].size_bytes);
    assert_eq!(
        keys(&objects, "lake/ci/runs"),
        [
            format!("lake/ci/runs/{id}.json"),
            format!("lake/ci/runs/{id}.rejects.jsonl")
        ]
    );
    assert_eq!(
        store.rejects_location(&id),
        format!("memory://test/lake/ci/runs/{id}.rejects.jsonl")
    );
}

#[test]
fn two_writers_of_one_run_id_one_wins_and_the_losers_parts_are_removed() {
    let (objects, store) = memory_store();
    let id = RunId::parse("20261205-010203-abcd").unwrap();
    let first = writer_of(&store, &id, 30, 10);
    let second = writer_of(&store, &id, 50, 10);
    let won = first.commit(draft(), &[] as &[String]).unwrap();
    let lost = second.commit(draft(), &[] as &[String]).unwrap_err();
    assert!(matches!(&lost, StoreError::RunIdTaken(taken) if *taken == id.to_string()));
    assert!(lost.to_string().contains("another writer"), "{lost}");
    // Only the winner's 3 parts remain, and they are the ones its manifest lists.
    let mut listed: Vec<String> = won
        .files
        .iter()
        .map(|f| format!("lake/ci/{}", f.path))
        .collect();
    listed.sort();
    assert_eq!(listed.len(), 3);
    assert_eq!(
        keys(&objects, &format!("lake/ci/samples/run_id={id}")),
        listed
    );
    assert_eq!(store.run(id.as_str()).unwrap().samples, 30);
}

#[test]
fn writers_racing_for_one_run_id_on_threads_have_exactly_one_winner() {
    let (objects, store) = memory_store();
    let id = RunId::parse("20261205-010203-wxyz").unwrap();
    let n = 6;
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let w = writer_of(&store, &id, 5 + i as i64, 4);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                w.commit(draft(), &[] as &[String])
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let winners: Vec<&RunManifest> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, StoreError::RunIdTaken(_)))
    );
    let winner = winners[0];
    assert_eq!(store.run(id.as_str()).unwrap(), *winner);
    let mut listed: Vec<String> = winner
        .files
        .iter()
        .map(|f| format!("lake/ci/{}", f.path))
        .collect();
    listed.sort();
    assert_eq!(
        keys(&objects, &format!("lake/ci/samples/run_id={id}")),
        listed
    );
}

#[test]
fn a_dropped_writer_removes_its_parts_and_a_killed_one_leaves_them_unlisted() {
    let (objects, store) = memory_store();
    let id = RunId::parse("20261205-010203-dddd").unwrap();
    // Two batches of `part_rows` (10): two parts PUT at once.
    let dropped = writer_of(&store, &id, 20, 10);
    assert_eq!(keys(&objects, "lake/ci/samples").len(), 2);
    drop(dropped);
    assert!(keys(&objects, "lake/ci/samples").is_empty());
    // A writer that dies between its parts and its manifest (simulated: its parts PUT, then
    // forgotten without cleanup) leaves parts no manifest lists: no run.
    let killed = writer_of(&store, &id, 20, 10);
    std::mem::forget(killed);
    assert_eq!(keys(&objects, "lake/ci/samples").len(), 2);
    assert!(store.runs().unwrap().is_empty());
    assert!(store.recover().unwrap().is_empty());
}

#[test]
fn a_run_never_generated_has_no_live_status_nor_stop_request() {
    let (_objects, store) = memory_store();
    let mut w = store.begin_run(WriterOptions::live()).unwrap();
    let m = {
        w.write(batch(0, &[1_000], &[true])).unwrap();
        w.commit(draft(), &[] as &[String]).unwrap()
    };
    assert!(store.live(m.run_id.as_str(), 0).unwrap().is_none());
    assert!(!store.stop_requested(m.run_id.as_str()));
    assert_eq!(store.describe(), "memory://test/lake/ci");
}

#[test]
fn a_format_1_manifest_without_a_file_list_still_opens() {
    let (objects, store) = memory_store();
    let v1 = serde_json::json!({
        "format_version": 1, "run_id": "20261101-000000-aaaa", "name": "old",
        "status": "complete", "sources": [], "samples": 5, "errors": 0,
        "first_ts_ms": null, "last_ts_ms": null, "imported_at": "2026-11-01T00:00:00Z",
        "parts": 1, "created_by": "loadlake 0.1.0"
    });
    let objects: Arc<dyn ObjectStore> = objects;
    let key = object_store::path::Path::from("lake/ci/runs/20261101-000000-aaaa.json");
    run_io(async move {
        objects
            .put(&key, serde_json::to_vec(&v1).unwrap().into())
            .await
    })
    .unwrap()
    .unwrap();
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].format_version, runs[0].samples), (1, 5));
    assert!(runs[0].files.is_empty());
}

#[test]
fn garbage_collection_removes_unlisted_objects_past_the_grace_and_nothing_else() {
    let (objects, store) = memory_store();
    let committed = writer_of(
        &store,
        &RunId::parse("20261205-010203-cccc").unwrap(),
        20,
        10,
    )
    .commit(draft(), &["a rejected row"])
    .unwrap();
    // A killed writer's parts, and the rejects file of a run that never got its manifest.
    let killed = writer_of(
        &store,
        &RunId::parse("20261205-010203-kkkk").unwrap(),
        15,
        10,
    );
    std::mem::forget(killed);
    store
        .remote()
        .unwrap()
        .put(
            "runs/20261205-010203-kkkk.rejects.jsonl",
            bytes::Bytes::from_static(b"{}\n"),
            object_store::PutMode::Create,
        )
        .unwrap();
    // The committed run's 2 parts, manifest and rejects file; the killed writer's one full
    // part (its last 5 rows were still buffered, never PUT); the orphan rejects file.
    let before = keys(&objects, "lake/ci");
    assert_eq!(before.len(), 2 + 2 + 1 + 1, "{before:?}");

    // Everything is younger than the grace: nothing goes.
    assert_eq!(store.collect_garbage(crate::ORPHAN_GRACE).unwrap(), 0);
    assert_eq!(keys(&objects, "lake/ci"), before);

    // Past the grace: the unlisted part and the orphan rejects file, and only they.
    assert_eq!(store.collect_garbage(std::time::Duration::ZERO).unwrap(), 2);
    let mut kept: Vec<String> = committed
        .files
        .iter()
        .map(|f| format!("lake/ci/{}", f.path))
        .collect();
    kept.push(format!("lake/ci/runs/{}.json", committed.run_id));
    kept.push(format!("lake/ci/runs/{}.rejects.jsonl", committed.run_id));
    kept.sort();
    assert_eq!(keys(&objects, "lake/ci"), kept);
    assert_eq!(store.run(committed.run_id.as_str()).unwrap(), committed);
    // A local store has nothing of the kind.
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        Store::open(dir.path())
            .unwrap()
            .collect_garbage(std::time::Duration::ZERO)
            .unwrap(),
        0
    );
}
