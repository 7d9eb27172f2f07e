//! Deleting runs on object storage (`remote_deletion.rs`), on `object_store`'s `InMemory`:
//! gone from listings at once, objects kept for the grace and then removed (those of the
//! deleted run only), a deletion cut off after its tombstone finished by the purge, and the
//! orphan collection leaving a deleted run to its purge.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use loadlake_schema::{RunId, RunManifest};
use object_store::memory::InMemory;
use object_store::{ObjectStore, ObjectStoreExt, PutMode};

use super::*;
use crate::remote::run_io;
use crate::remote_tests::{keys, memory_store, writer_of};
use crate::tests::draft;

/// PUTs `body` at `key` (a full key, prefix included) behind the store's back.
fn put_raw(objects: &Arc<InMemory>, key: &str, body: &[u8]) {
    let objects: Arc<dyn ObjectStore> = objects.clone();
    let key = object_store::path::Path::from(key);
    let body = Bytes::copy_from_slice(body);
    run_io(async move { objects.put(&key, body.into()).await })
        .unwrap()
        .unwrap();
}

/// Run `id` committed with `rows` rows in parts of 10, and `rejects` rejected rows.
fn committed(store: &Store, id: &str, rows: i64, rejects: &[&str]) -> RunManifest {
    let id = RunId::parse(id).unwrap();
    writer_of(store, &id, rows, 10)
        .commit(draft(), rejects)
        .unwrap()
}

/// The full keys of `m`'s parts and manifest.
fn keys_of(m: &RunManifest) -> Vec<String> {
    let mut keys: Vec<String> = m
        .files
        .iter()
        .map(|f| format!("lake/ci/{}", f.path))
        .collect();
    keys.push(format!("lake/ci/runs/{}.json", m.run_id));
    keys
}

fn sorted(mut keys: Vec<String>) -> Vec<String> {
    keys.sort();
    keys
}

#[test]
fn a_deleted_run_is_gone_at_once_and_only_its_objects_go_after_the_grace() {
    let (objects, store) = memory_store();
    let gone = committed(&store, "20261205-010203-aaaa", 20, &["a rejected row"]);
    let kept = committed(&store, "20261205-010203-bbbb", 15, &[]);
    let gone_id = gone.run_id.to_string();
    store
        .put_rollup(&gone.run_id, b"rollup a".to_vec())
        .unwrap();
    store
        .put_rollup(&kept.run_id, b"rollup b".to_vec())
        .unwrap();
    // Live status objects (written by `loadlake run` on a bucket) go with the run.
    put_raw(&objects, &format!("lake/ci/live/{gone_id}.json"), b"{}");
    put_raw(&objects, &format!("lake/ci/live/{gone_id}.stop"), b"stop\n");
    // 20 rows in parts of 10: 2 parts; 15 rows: 2 parts (10 + 5).
    assert_eq!((gone.files.len(), kept.files.len()), (2, 2));
    let mut kept_keys = keys_of(&kept);
    kept_keys.push(format!(
        "lake/ci/rollups/run_id={}/rollup.parquet",
        kept.run_id
    ));
    let kept_keys = sorted(kept_keys);
    let gone_parts: Vec<String> = gone
        .files
        .iter()
        .map(|f| format!("lake/ci/{}", f.path))
        .collect();
    let gone_rollup = format!("lake/ci/rollups/run_id={gone_id}/rollup.parquet");
    let before = keys(&objects, "lake/ci");
    // 2 parts, manifest, rejects, rollup and 2 live objects of one run; 4 objects of the other.
    assert_eq!(before.len(), 7 + 4, "{before:?}");

    let t0 = chrono::Utc::now().timestamp_millis();
    store.delete_run(&gone_id).unwrap();
    let t1 = chrono::Utc::now().timestamp_millis();
    assert_eq!(store.runs().unwrap(), std::slice::from_ref(&kept));
    assert!(matches!(store.run(&gone_id), Err(StoreError::NoSuchRun(_))));
    assert_eq!(
        store
            .deleted_runs()
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        std::slice::from_ref(&gone.run_id)
    );
    // Manifest, rejects and live objects are gone; parts and rollup stay, with a tombstone.
    let tombstone = format!("lake/ci/deleted/{gone_id}");
    let mut expected = kept_keys.clone();
    expected.extend(gone_parts.iter().cloned());
    expected.push(gone_rollup.clone());
    expected.push(tombstone.clone());
    let expected = sorted(expected);
    assert_eq!(keys(&objects, "lake/ci"), expected);
    let body = store
        .remote()
        .unwrap()
        .get(&format!("deleted/{gone_id}"))
        .unwrap()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["run_id"], gone_id.as_str());
    let at = json["deleted_at_ms"].as_i64().unwrap();
    assert!((t0..=t1).contains(&at), "{t0} <= {at} <= {t1}");

    // Within the grace nothing more goes, and the orphan collection, even with no grace,
    // leaves the deleted run's parts and rollup to the purge.
    assert_eq!(store.purge_deleted(DELETED_RUN_GRACE).unwrap(), 0);
    assert_eq!(store.collect_garbage(Duration::ZERO).unwrap(), 0);
    assert_eq!(keys(&objects, "lake/ci"), expected);

    // Past the grace: exactly the deleted run's objects and its tombstone go.
    assert_eq!(store.purge_deleted(Duration::ZERO).unwrap(), 1);
    assert_eq!(keys(&objects, "lake/ci"), kept_keys);
    assert!(store.deleted_runs().unwrap().is_empty());
    assert_eq!(store.run(kept.run_id.as_str()).unwrap(), kept);
    assert_eq!(store.purge_deleted(Duration::ZERO).unwrap(), 0);

    // Runs that are not there.
    for id in [gone_id.as_str(), "20261205-010203-zzzz", "not a run id"] {
        let e = store.delete_run(id).unwrap_err();
        assert!(matches!(e, StoreError::NoSuchRun(_)), "{id}: {e}");
    }
    assert_eq!(keys(&objects, "lake/ci"), kept_keys);
}

#[test]
fn a_deletion_cut_off_after_its_tombstone_is_finished_by_the_purge() {
    let (objects, store) = memory_store();
    let run = committed(&store, "20261205-010203-cccc", 12, &["a rejected row"]);
    let id = run.run_id.to_string();
    // The deleting process died between the tombstone and the manifest's removal.
    let now = chrono::Utc::now().timestamp_millis();
    put_raw(
        &objects,
        &format!("lake/ci/deleted/{id}"),
        format!(r#"{{"run_id":"{id}","deleted_at_ms":{now}}}"#).as_bytes(),
    );
    assert_eq!(store.runs().unwrap().len(), 1);

    // Within the grace: the deletion is finished (manifest and rejects), the parts stay.
    assert_eq!(store.purge_deleted(DELETED_RUN_GRACE).unwrap(), 0);
    assert!(store.runs().unwrap().is_empty());
    assert!(matches!(store.run(&id), Err(StoreError::NoSuchRun(_))));
    let mut parts: Vec<String> = run
        .files
        .iter()
        .map(|f| format!("lake/ci/{}", f.path))
        .collect();
    assert_eq!(parts.len(), 2); // 12 rows in parts of 10
    parts.push(format!("lake/ci/deleted/{id}"));
    assert_eq!(keys(&objects, "lake/ci"), sorted(parts));

    assert_eq!(store.purge_deleted(Duration::ZERO).unwrap(), 1);
    assert!(keys(&objects, "lake/ci").is_empty());
}

#[test]
fn the_grace_counts_from_the_later_of_the_tombstones_time_and_its_last_modified() {
    let (objects, store) = memory_store();
    let ahead = committed(&store, "20261205-010203-dddd", 5, &[]);
    let unreadable = committed(&store, "20261205-010203-eeee", 5, &[]);
    let behind = committed(&store, "20261205-010203-ffff", 5, &[]);
    let now = chrono::Utc::now().timestamp_millis();
    let hour = 3_600_000;
    // A deleting host whose clock runs an hour ahead: the purge waits for that time.
    let body = |id: &RunId, at: i64| format!(r#"{{"run_id":"{id}","deleted_at_ms":{at}}}"#);
    put_raw(
        &objects,
        &format!("lake/ci/deleted/{}", ahead.run_id),
        body(&ahead.run_id, now + hour).as_bytes(),
    );
    // An hour behind: the object store's clock (`last_modified`: now) counts.
    put_raw(
        &objects,
        &format!("lake/ci/deleted/{}", behind.run_id),
        body(&behind.run_id, now - hour).as_bytes(),
    );
    // Unreadable: `last_modified` alone.
    put_raw(
        &objects,
        &format!("lake/ci/deleted/{}", unreadable.run_id),
        b"not json",
    );
    assert_eq!(store.purge_deleted(DELETED_RUN_GRACE).unwrap(), 0);
    assert!(store.runs().unwrap().is_empty(), "every deletion finished");
    // With no grace, the runs whose times have passed go; the one deleted "in the future" not.
    assert_eq!(store.purge_deleted(Duration::ZERO).unwrap(), 2);
    let left = keys(&objects, "lake/ci");
    let expected: Vec<String> = ahead
        .files
        .iter()
        .map(|f| format!("lake/ci/{}", f.path))
        .chain([format!("lake/ci/deleted/{}", ahead.run_id)])
        .collect();
    assert_eq!(left, sorted(expected));
}

#[test]
fn a_run_deleted_through_one_store_is_gone_from_another_on_the_same_bucket() {
    let (objects, first) = memory_store();
    let second = Store::open_object_store(objects.clone(), "memory://test", "lake/ci").unwrap();
    let run = committed(&first, "20261205-010203-gggg", 8, &[]);
    let id = run.run_id.to_string();
    // The second store has read (and cached) the manifest.
    assert_eq!(second.runs().unwrap(), std::slice::from_ref(&run));
    assert_eq!(second.run(&id).unwrap(), run);
    first.delete_run(&id).unwrap();
    assert!(second.runs().unwrap().is_empty());
    assert!(matches!(second.run(&id), Err(StoreError::NoSuchRun(_))));
    assert_eq!(
        second
            .deleted_runs()
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        std::slice::from_ref(&run.run_id)
    );
    // Deleting it again through the second store: it is not there.
    assert!(matches!(
        second.delete_run(&id),
        Err(StoreError::NoSuchRun(_))
    ));
}

#[test]
fn the_orphan_collection_removes_a_rollup_of_no_run_but_not_of_a_deleted_one() {
    let (objects, store) = memory_store();
    let live = committed(&store, "20261205-010203-hhhh", 3, &[]);
    let deleted = committed(&store, "20261205-010203-jjjj", 3, &[]);
    store.put_rollup(&live.run_id, b"r".to_vec()).unwrap();
    store.put_rollup(&deleted.run_id, b"r".to_vec()).unwrap();
    store.delete_run(deleted.run_id.as_str()).unwrap();
    // A rollup written again after its run was purged (computed while it was being deleted).
    let stray = RunId::parse("20261205-010203-kkkk").unwrap();
    store
        .remote()
        .unwrap()
        .put(
            &format!("rollups/run_id={stray}/rollup.parquet"),
            Bytes::from_static(b"r"),
            PutMode::Overwrite,
        )
        .unwrap();
    assert_eq!(store.collect_garbage(crate::ORPHAN_GRACE).unwrap(), 0);
    assert_eq!(store.collect_garbage(Duration::ZERO).unwrap(), 1);
    assert_eq!(
        keys(&objects, "lake/ci/rollups"),
        [
            format!("lake/ci/rollups/run_id={}/rollup.parquet", live.run_id),
            format!("lake/ci/rollups/run_id={}/rollup.parquet", deleted.run_id),
        ]
    );
}
