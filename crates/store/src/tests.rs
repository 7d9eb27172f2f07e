//! Store behaviour: atomic commit, abandonment, crash leftovers, concurrent writers.

use std::collections::BTreeMap;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::TimestampMillisecondType;
use loadlake_schema::{RunStatus, SampleBatchBuilder, SampleRecord, col};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::*;

pub(crate) fn batch(first_row: i64, ts: &[i64], success: &[bool]) -> RecordBatch {
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

/// Nothing is left under `tmp/`: no staging dir, merge dir or lock.
fn assert_tmp_is_clean(store: &Store) {
    let left: Vec<_> = store.layout().tmp_dir().read_dir().unwrap().collect();
    assert!(left.is_empty(), "tmp is not clean: {left:?}");
}

pub(crate) fn draft() -> RunDraft {
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
            ..WriterOptions::default()
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
    // One part: the 5 rows pushed before the 4-row threshold, sorted by ts.
    let parts = rows_of(&store.layout().run_samples_dir(&id));
    assert_eq!(
        parts,
        vec![vec![(5, 3), (10, 1), (20, 2), (30, 0), (50, 4)]]
    );
    assert_tmp_is_clean(&store);
}

#[test]
fn dropped_writer_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut w = store.begin_run(WriterOptions::default()).unwrap();
    w.write(batch(0, &[1], &[true])).unwrap();
    drop(w);
    assert!(store.runs().unwrap().is_empty());
    assert_tmp_is_clean(&store);
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
    // A merge cut short, and the staging dir of an older version (`tmp/<id>`).
    std::fs::create_dir_all(l.compact_dir(&id)).unwrap();
    let old = l.tmp_dir().join("20260101-000002-abcd");
    std::fs::create_dir_all(&old).unwrap();
    // Atomic writes cut off before their rename: a draft, a manifest, a rejects file.
    let half_draft = l.tmp_dir().join(format!("{id}.draft.tmp-99"));
    let half_manifest = l.runs_dir().join(format!("{orphan}.tmp-99"));
    let half_rejects = l.runs_dir().join(format!("{orphan}.rejects.tmp-99"));
    for f in [&half_draft, &half_manifest, &half_rejects] {
        std::fs::write(f, b"{\"half").unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    for f in [&half_draft, &half_manifest, &half_rejects] {
        assert!(!f.exists(), "{f:?} left");
    }
    assert!(!store.layout().staging_dir(&id).exists());
    assert!(!store.layout().compact_dir(&id).exists());
    assert!(!old.exists());
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

/// The `*.parquet` files of a directory, sorted by name (what a reader listing it would open).
fn listed_parts(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".parquet"))
        .collect();
    names.sort();
    names
}

/// (ts, row) of every row of every part in `dir`, parts in name order.
fn rows_of(dir: &std::path::Path) -> Vec<Vec<(i64, i64)>> {
    listed_parts(dir)
        .iter()
        .map(|name| {
            let file = std::fs::File::open(dir.join(name)).unwrap();
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .unwrap()
                .build()
                .unwrap();
            let mut rows = Vec::new();
            for b in reader {
                let b = b.unwrap();
                let ts = b
                    .column_by_name(col::TS)
                    .unwrap()
                    .as_primitive::<TimestampMillisecondType>();
                let row = b
                    .column_by_name(col::ROW)
                    .unwrap()
                    .as_primitive::<arrow::datatypes::Int64Type>();
                rows.extend((0..b.num_rows()).map(|i| (ts.value(i), row.value(i))));
            }
            rows
        })
        .collect()
}

#[test]
fn a_live_writer_shows_whole_parts_while_it_runs_and_merges_them_at_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut w = store
        .begin_run(WriterOptions {
            part_rows: 8,
            visible_every: Some(std::time::Duration::ZERO),
            ..WriterOptions::default()
        })
        .unwrap();
    let id = w.run_id().clone();
    let staging = store.layout().staging_dir(&id);
    assert!(
        staging.ends_with(format!("run_id={id}")),
        "a Hive partition"
    );
    // Every write becomes a visible part at once (visible_every 0); nothing else is listed.
    w.write(batch(0, &[30, 10], &[true, true])).unwrap();
    assert_eq!(rows_of(&staging), vec![vec![(10, 1), (30, 0)]]);
    w.write(batch(2, &[20], &[false])).unwrap();
    w.write(batch(3, &[5], &[true])).unwrap();
    w.write(batch(4, &[1, 2, 3, 4, 6, 7, 8], &[true; 7]))
        .unwrap();
    w.write(batch(11, &[40], &[true])).unwrap();
    let all: Vec<String> = std::fs::read_dir(&staging)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(all.len(), 5, "no partial files left: {all:?}");
    assert_eq!(rows_of(&staging).concat().len(), 12);
    assert!(store.runs().unwrap().is_empty(), "not a committed run yet");

    // Parts of 2, 1, 1, 7, 1 rows with part_rows 8 ("small" < 2): the 1-row parts 2 and 3 merge;
    // the 2- and 7-row parts stay; the last 1-row part is alone.
    let m = w.commit(draft(), &[] as &[String]).unwrap();
    assert_eq!((m.samples, m.errors, m.parts), (12, 1, 4));
    let committed = rows_of(&store.layout().run_samples_dir(&id));
    assert_eq!(
        committed,
        vec![
            vec![(10, 1), (30, 0)],
            vec![(5, 3), (20, 2)],
            vec![(1, 4), (2, 5), (3, 6), (4, 7), (6, 8), (7, 9), (8, 10)],
            vec![(40, 11)],
        ]
    );
    assert_tmp_is_clean(&store);
}

/// A writer (16 rows a part) that wrote `n` parts of one row each, as a gRPC stream flushing
/// every batch does; row i has ts 1000 − i.
fn one_row_parts(store: &Store, n: i64) -> RunWriter {
    let mut w = store
        .begin_run(WriterOptions {
            part_rows: 16,
            ..WriterOptions::default()
        })
        .unwrap();
    for i in 0..n {
        w.write(batch(i, &[1000 - i], &[true])).unwrap();
        w.flush().unwrap();
    }
    w
}

#[test]
fn many_one_row_parts_become_few_sorted_parts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // A gRPC stream flushes after every batch: 40 parts of one row, ts descending.
    let w = one_row_parts(&store, 40);
    let id = w.run_id().clone();
    let m = w.commit(draft(), &[] as &[String]).unwrap();
    assert_eq!((m.samples, m.parts), (40, 3));
    let parts = rows_of(&store.layout().run_samples_dir(&id));
    assert_eq!(
        parts.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![16, 16, 8]
    );
    // Each part sorted by ts; together every row exactly once.
    for p in &parts {
        assert!(p.windows(2).all(|w| w[0] <= w[1]), "{p:?}");
    }
    let mut rows: Vec<i64> = parts.concat().into_iter().map(|(_, r)| r).collect();
    rows.sort();
    assert_eq!(rows, (0..40).collect::<Vec<_>>());
}

#[test]
fn a_merge_that_fails_keeps_the_parts_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let w = one_row_parts(&store, 3);
    let id = w.run_id().clone();
    // The merge cannot read part 1 (damaged on disk): the run is still committed, whole.
    let staging = store.layout().staging_dir(&id);
    std::fs::write(staging.join("part-1.parquet"), b"not parquet").unwrap();
    let m = w.commit(draft(), &[] as &[String]).unwrap();
    assert_eq!((m.samples, m.parts), (3, 3));
    let kept = listed_parts(&store.layout().run_samples_dir(&id));
    assert_eq!(kept, ["part-0.parquet", "part-1.parquet", "part-2.parquet"]);
    assert_tmp_is_clean(&store);
}

/// A writer that recorded its draft, with parts of `sizes` rows flushed (acknowledged).
fn acknowledging_writer(store: &Store, sizes: &[usize]) -> RunWriter {
    let mut w = store.begin_run(WriterOptions::default()).unwrap();
    w.record_draft(&draft()).unwrap();
    let mut row = 0i64;
    for &n in sizes {
        let ts: Vec<i64> = (row..row + n as i64).map(|r| 1_000 + r).collect();
        // Every third row fails.
        let ok: Vec<bool> = (row..row + n as i64).map(|r| r % 3 != 0).collect();
        w.write(batch(row, &ts, &ok)).unwrap();
        w.flush().unwrap();
        row += n as i64;
    }
    w
}

#[test]
fn acknowledged_parts_of_a_killed_writer_are_committed_as_incomplete_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut w = acknowledging_writer(&store, &[4, 3, 5]);
    let id = w.run_id().clone();
    // Accepted but never flushed, and a part cut off mid-write: neither was acknowledged.
    w.write(batch(12, &[5_000], &[true])).unwrap();
    let staging = store.layout().staging_dir(&id);
    std::fs::write(staging.join("part-3.parquet.partial"), b"half a part").unwrap();
    w.simulate_crash();
    assert!(store.runs().unwrap().is_empty(), "nothing visible before");

    let reopened = Store::open(dir.path()).unwrap();
    let runs = reopened.runs().unwrap();
    assert_eq!(runs.len(), 1);
    let m = &runs[0];
    assert_eq!(m.run_id, id);
    assert_eq!(m.status, RunStatus::Incomplete);
    assert!(
        m.status_reason
            .as_deref()
            .is_some_and(|r| r.contains("before committing")),
        "{:?}",
        m.status_reason
    );
    // 12 rows 0..12 at ts 1000..1011, elapsed 10; rows 0, 3, 6, 9 fail.
    assert_eq!((m.samples, m.errors), (12, 4));
    assert_eq!((m.first_ts_ms, m.last_ts_ms), (Some(1_000), Some(1_021)));
    assert_eq!(
        (m.name.as_str(), m.tags.get("env").map(String::as_str)),
        ("t", Some("ci"))
    );
    let rows: Vec<i64> = rows_of(&reopened.layout().run_samples_dir(&id))
        .concat()
        .into_iter()
        .map(|(_, row)| row)
        .collect();
    assert_eq!(
        rows,
        (0..12).collect::<Vec<_>>(),
        "every acknowledged row, once"
    );
    assert_tmp_is_clean(&reopened);
}

#[test]
fn a_dropped_acknowledging_writer_commits_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let w = acknowledging_writer(&store, &[2, 2]);
    let id = w.run_id().clone();
    drop(w);
    let m = store.run(id.as_str()).unwrap();
    assert_eq!(
        (m.status, m.samples, m.parts),
        (RunStatus::Incomplete, 4, 1)
    );
    assert_tmp_is_clean(&store);
    // An acknowledging writer with nothing written leaves no run.
    let empty = store.begin_run(WriterOptions::default()).unwrap();
    let mut empty = empty;
    empty.record_draft(&draft()).unwrap();
    drop(empty);
    assert_eq!(store.runs().unwrap().len(), 1);
    assert_tmp_is_clean(&store);
}

#[test]
fn a_commit_cut_off_after_moving_the_parts_is_finished_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let w = acknowledging_writer(&store, &[3, 3]);
    let id = w.run_id().clone();
    // The manifest cannot be written (as on a disk that just filled up).
    let manifest = store.layout().manifest_path(&id);
    std::fs::create_dir_all(&manifest).unwrap();
    let mut final_draft = draft();
    final_draft.name = "final name".into();
    assert!(w.commit(final_draft, &["one reject"]).is_err());
    assert!(store.layout().run_samples_dir(&id).exists(), "parts moved");
    assert!(
        store.runs().unwrap().is_empty(),
        "no manifest, nothing listed"
    );

    std::fs::remove_dir(&manifest).unwrap(); // space freed
    let reopened = Store::open(dir.path()).unwrap();
    let m = reopened.run(id.as_str()).unwrap();
    // The draft given to commit is final: its status and name, no reason, the reject kept.
    assert_eq!(
        (m.status, m.name.as_str()),
        (RunStatus::Complete, "final name")
    );
    assert_eq!(m.status_reason, None);
    assert_eq!((m.samples, m.errors, m.rejects.count), (6, 2, 1));
    assert_tmp_is_clean(&reopened);
}

#[test]
fn a_part_that_fails_to_write_is_counted_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut w = acknowledging_writer(&store, &[3]);
    let id = w.run_id().clone();
    // Part 1 cannot be created (as when the disk is full): the batch is refused.
    let blocked = store
        .layout()
        .staging_dir(&id)
        .join("part-1.parquet.partial");
    std::fs::create_dir_all(&blocked).unwrap();
    w.write(batch(3, &[2_000, 2_001], &[false, false])).unwrap();
    assert!(w.flush().is_err());
    std::fs::remove_dir(&blocked).unwrap();
    w.write(batch(5, &[3_000], &[true])).unwrap();
    w.flush().unwrap();
    let m = w.commit(draft(), &[] as &[String]).unwrap();
    let rows: usize = rows_of(&store.layout().run_samples_dir(&id))
        .iter()
        .map(Vec::len)
        .sum();
    assert_eq!((m.samples, rows), (4, 4), "manifest and Parquet agree");
    assert_eq!(
        m.errors, 1,
        "row 0 of the first batch; the refused batch is not counted"
    );
    assert_eq!(m.last_ts_ms, Some(3_010));
}

#[test]
fn spools_nobody_holds_are_removed_and_held_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let held = store.spool_file().unwrap();
    let crashed = store.layout().tmp_dir().join("upload-crashed");
    std::fs::write(&crashed, b"spooled bytes").unwrap();
    let _again = Store::open(dir.path()).unwrap();
    assert!(!crashed.exists(), "nobody holds it: removed");
    assert!(held.path().exists(), "held by its upload: kept");
    drop(held);
    assert_tmp_is_clean(&store);
}

/// Replaces the manifest of `id` the way the store does (a new file renamed over the old one),
/// with `edit` applied to its JSON.
fn rewrite_manifest(
    store: &Store,
    id: &loadlake_schema::RunId,
    edit: impl Fn(&mut serde_json::Value),
) {
    let path = store.layout().manifest_path(id);
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut json);
    let tmp = path.with_extension("json.tmp-test");
    std::fs::write(&tmp, serde_json::to_vec(&json).unwrap()).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
}

#[test]
fn listed_runs_follow_manifests_replaced_or_removed_behind_the_stores_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let mut w = store.begin_run(WriterOptions::default()).unwrap();
        w.write(batch(0, &[1, 2], &[true, true])).unwrap();
        ids.push(w.commit(draft(), &[] as &[&str]).unwrap().run_id);
    }
    // Listed by id (ids made in the same second need not sort in the order they were made).
    ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let names = |runs: Vec<loadlake_schema::RunManifest>| {
        runs.into_iter().map(|m| m.name).collect::<Vec<_>>()
    };
    assert_eq!(names(store.runs().unwrap()), ["t", "t", "t"]);

    // Another process (a second server on the store) renames a run: both ways of reading see it.
    rewrite_manifest(&store, &ids[1], |m| m["name"] = "renamed".into());
    assert_eq!(names(store.runs().unwrap()), ["t", "renamed", "t"]);
    assert_eq!(store.run(ids[1].as_str()).unwrap().name, "renamed");
    // A clone of the store shares what was read, and sees later changes the same.
    let clone = store.clone();
    rewrite_manifest(&store, &ids[1], |m| m["name"] = "again".into());
    assert_eq!(clone.run(ids[1].as_str()).unwrap().name, "again");

    // A manifest that turns unreadable is skipped, one removed disappears.
    std::fs::write(store.layout().manifest_path(&ids[0]), b"{ not json").unwrap();
    store.delete_run(ids[2].as_str()).unwrap();
    assert_eq!(names(store.runs().unwrap()), ["again"]);
}

#[test]
fn a_deleted_run_keeps_its_samples_for_the_grace_and_a_cut_off_deletion_is_finished() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut w = store.begin_run(WriterOptions::default()).unwrap();
    w.write(batch(0, &[1, 2], &[true, true])).unwrap();
    let m = w.commit(draft(), &[] as &[String]).unwrap();
    let samples = store.layout().run_samples_dir(&m.run_id);

    // A crash right after the tombstone was written: the manifest is still there.
    std::fs::write(store.layout().tombstone_path(&m.run_id), b"").unwrap();
    let reopened = Store::open(dir.path()).unwrap();
    assert!(reopened.runs().unwrap().is_empty(), "deletion not finished");
    assert!(samples.exists(), "samples removed within the grace");
    assert_eq!(
        reopened
            .deleted_runs()
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        vec![m.run_id.clone()]
    );

    // Past the grace the samples go, then the tombstone.
    assert_eq!(
        reopened.purge_deleted(std::time::Duration::ZERO).unwrap(),
        1
    );
    assert!(!samples.exists());
    assert!(reopened.deleted_runs().unwrap().is_empty());
    assert!(matches!(
        reopened.delete_run(m.run_id.as_str()),
        Err(StoreError::NoSuchRun(_))
    ));
}

#[test]
fn matching_runs_are_the_runs_the_filter_takes_as_their_manifests_say_now() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // Three runs: "a" env=ci, "b" env=ci, "a" env=prod.
    let mut ids = Vec::new();
    for (name, env) in [("a", "ci"), ("b", "ci"), ("a", "prod")] {
        let mut w = store.begin_run(WriterOptions::default()).unwrap();
        w.write(batch(0, &[1, 2], &[true, true])).unwrap();
        let mut d = draft();
        d.name = name.into();
        d.tags = BTreeMap::from([("env".to_string(), env.to_string())]);
        ids.push(w.commit(d, &[] as &[&str]).unwrap().run_id.to_string());
    }
    let matching = |filter: RunFilter| {
        let mut got: Vec<String> = store
            .matching_runs(&filter)
            .unwrap()
            .iter()
            .map(|m| m.run_id.to_string())
            .collect();
        got.sort();
        got
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(matching(RunFilter::default()), sorted(ids.clone()));
    let named_a = RunFilter {
        name: Some(NameMatch::Exact("a".into())),
        ..RunFilter::default()
    };
    assert_eq!(
        matching(named_a.clone()),
        sorted(vec![ids[0].clone(), ids[2].clone()])
    );
    let ci = RunFilter {
        tags: vec![("env".into(), "ci".into())],
        ..RunFilter::default()
    };
    assert_eq!(
        matching(ci.clone()),
        sorted(vec![ids[0].clone(), ids[1].clone()])
    );
    // `last` is not applied: every run named "a", not the newest one.
    let last = RunFilter {
        last: Some(1),
        ..named_a.clone()
    };
    assert_eq!(matching(last).len(), 2);
    // A manifest replaced behind the store's back (another process renames run 1) is read again.
    let run1 = loadlake_schema::RunId::parse(&ids[1]).unwrap();
    rewrite_manifest(&store, &run1, |m| m["name"] = "a".into());
    assert_eq!(matching(named_a), sorted(ids.clone()));
    // A deleted run is no longer listed.
    store.delete_run(&ids[0]).unwrap();
    assert_eq!(matching(ci), vec![ids[1].clone()]);
}
