//! Moving a run's parts into `samples/` at commit, merging small ones on the way.
//!
//! A live run writes a part about once a second and a gRPC stream one per acknowledged batch, so
//! a long run can end with thousands of small files. At commit, consecutive parts smaller than a
//! quarter of `part_rows` are merged (re-sorted, at most `part_rows` rows each) into
//! `tmp/<id>.compact/`, the parts worth keeping are hard-linked next to them, and that directory
//! is renamed into `samples/`. Until then the staging directory stays whole, so a reader of
//! `live_samples` never sees a row twice or misses one. On object storage the same groups are
//! merged into new objects before the manifest ([`merge_remote_parts`]).

use std::fs::{self, File};
use std::ops::Range;
use std::path::Path;

use arrow::array::RecordBatch;
use loadlake_schema::{PartFile, RunId};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use bytes::Bytes;
use object_store::PutMode;

use crate::error::StoreError;
use crate::layout::Layout;
use crate::part_encode::encode_sorted_part;
use crate::remote::{Remote, part_key};
use crate::writer::{WriterOptions, fsync_dir, part_name, write_sorted_part};

/// Moves run `id`'s staged parts (of `part_sizes` rows each, in order) into
/// `samples/run_id=<id>`; returns the rows of each part the run has there, in order.
pub(crate) fn move_into_place(
    layout: &Layout,
    id: &RunId,
    part_sizes: &[usize],
    options: &WriterOptions,
) -> Result<Vec<usize>, StoreError> {
    let staging = layout.staging_dir(id);
    let target = layout.run_samples_dir(id);
    let groups = merge_groups(part_sizes, options.part_rows);
    if groups.len() == part_sizes.len() {
        fs::rename(&staging, &target).map_err(|e| StoreError::io(&target, e))?;
        return Ok(part_sizes.to_vec());
    }
    let compact = layout.compact_dir(id);
    match merge_into(&staging, &compact, &groups, options) {
        Ok(()) => {
            fs::rename(&compact, &target).map_err(|e| StoreError::io(&target, e))?;
            fs::remove_dir_all(&staging).map_err(|e| StoreError::io(&staging, e))?;
            Ok(groups
                .iter()
                .map(|g| part_sizes[g.clone()].iter().sum())
                .collect())
        }
        // The parts as written are whole and sorted each: keep them rather than lose the run.
        Err(e) => {
            tracing::warn!(
                "run {id}: merging its small parts failed ({e}); keeping them as written"
            );
            let _ = fs::remove_dir_all(&compact);
            fs::rename(&staging, &target).map_err(|e| StoreError::io(&target, e))?;
            Ok(part_sizes.to_vec())
        }
    }
}

/// Writes the merged parts of `groups` (ranges of the parts in `staging`) into `compact`.
fn merge_into(
    staging: &Path,
    compact: &Path,
    groups: &[Range<usize>],
    options: &WriterOptions,
) -> Result<(), StoreError> {
    if compact.exists() {
        fs::remove_dir_all(compact).map_err(|e| StoreError::io(compact, e))?;
    }
    fs::create_dir_all(compact).map_err(|e| StoreError::io(compact, e))?;
    for (n, group) in groups.iter().enumerate() {
        let out = compact.join(part_name(n));
        if group.len() == 1 {
            let part = staging.join(part_name(group.start));
            fs::hard_link(&part, &out)
                .or_else(|_| fs::copy(&part, &out).map(|_| ()))
                .map_err(|e| StoreError::io(&out, e))?;
            continue;
        }
        let mut batches = Vec::new();
        for i in group.clone() {
            batches.extend(read_part(&staging.join(part_name(i)))?);
        }
        write_sorted_part(&out, batches, options)?;
    }
    fsync_dir(compact)
}

/// On object storage, at the commit of a run written in many small parts (a live run, a
/// stream): merges the runs of small consecutive parts of `files` as [`merge_groups`] says
/// into new parts of the same write attempt (numbered after the existing ones, so no key is
/// reused). Returns the files the manifest lists and the keys of the parts they replace (to be
/// deleted once the manifest is in: until then the draft still lists them). A failure keeps
/// the parts as written; a merged part already PUT is then an orphan for the GC.
pub(crate) fn merge_remote_parts(
    remote: &Remote,
    id: &RunId,
    attempt: &str,
    files: &[PartFile],
    options: &WriterOptions,
) -> (Vec<PartFile>, Vec<String>) {
    let sizes: Vec<usize> = files.iter().map(|f| f.rows as usize).collect();
    let groups = merge_groups(&sizes, options.part_rows);
    if groups.len() == files.len() {
        return (files.to_vec(), Vec::new());
    }
    let merge = || -> Result<(Vec<PartFile>, Vec<String>), StoreError> {
        let (mut merged, mut replaced) = (Vec::new(), Vec::new());
        for (n, group) in groups.iter().enumerate() {
            if group.len() == 1 {
                merged.push(files[group.start].clone());
                continue;
            }
            let mut batches = Vec::new();
            for part in &files[group.clone()] {
                let bytes = remote.get(&part.path)?.ok_or_else(|| StoreError::Remote {
                    location: remote.url_of(&part.path),
                    source: object_store::Error::NotFound {
                        path: part.path.clone(),
                        source: "a part the draft lists is gone".into(),
                    },
                })?;
                batches.extend(read_part_bytes(&part.path, bytes)?);
            }
            let key = part_key(id, attempt, files.len() + n);
            let encoded = encode_sorted_part(Vec::new(), Path::new(&key), batches, options)?;
            let size_bytes = encoded.len() as u64;
            remote.put(&key, Bytes::from(encoded), PutMode::Overwrite)?;
            merged.push(PartFile {
                path: key,
                size_bytes,
                rows: files[group.clone()].iter().map(|f| f.rows).sum(),
            });
            replaced.extend(files[group.clone()].iter().map(|f| f.path.clone()));
        }
        Ok((merged, replaced))
    };
    merge().unwrap_or_else(|e| {
        tracing::warn!("run {id}: merging its small parts failed ({e}); keeping them as written");
        (files.to_vec(), Vec::new())
    })
}

/// Every batch of one part's bytes (`key` names it in errors).
fn read_part_bytes(key: &str, bytes: Bytes) -> Result<Vec<RecordBatch>, StoreError> {
    let parquet_err = |source| StoreError::Parquet {
        path: key.into(),
        source,
    };
    ParquetRecordBatchReaderBuilder::try_new(bytes)
        .map_err(parquet_err)?
        .build()
        .map_err(parquet_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::from)
}

/// Which parts become one: runs of consecutive parts under a quarter of `part_rows` are merged
/// while they fit in `part_rows`; any other part stays as it is.
fn merge_groups(part_sizes: &[usize], part_rows: usize) -> Vec<Range<usize>> {
    let small = (part_rows / 4).max(1);
    let mut groups: Vec<Range<usize>> = Vec::new();
    let mut rows_in_last = 0;
    for (i, &rows) in part_sizes.iter().enumerate() {
        let joins_last = rows < small
            && groups.last().is_some_and(|g| {
                part_sizes[g.start] < small && g.end == i && rows_in_last + rows <= part_rows
            });
        match groups.last_mut() {
            Some(last) if joins_last => {
                last.end = i + 1;
                rows_in_last += rows;
            }
            _ => {
                groups.push(i..i + 1);
                rows_in_last = rows;
            }
        }
    }
    groups
}

/// The parts of committed run `id` in `samples/run_id=<id>/` (`part-0`, `part-1` …, of `rows`
/// rows each) as its manifest lists them, with their sizes.
pub(crate) fn local_part_files(
    layout: &Layout,
    id: &RunId,
    rows: &[usize],
) -> Result<Vec<PartFile>, StoreError> {
    let dir = layout.run_samples_dir(id);
    rows.iter()
        .enumerate()
        .map(|(n, &rows)| {
            let name = part_name(n);
            let path = dir.join(&name);
            let size_bytes = fs::metadata(&path)
                .map_err(|e| StoreError::io(&path, e))?
                .len();
            Ok(PartFile {
                path: format!("samples/run_id={id}/{name}"),
                size_bytes,
                rows: rows as u64,
            })
        })
        .collect()
}

/// Every batch of one part file.
fn read_part(path: &Path) -> Result<Vec<RecordBatch>, StoreError> {
    let parquet_err = |source| StoreError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(|e| StoreError::io(path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(parquet_err)?
        .build()
        .map_err(parquet_err)?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::from)
}

#[cfg(test)]
mod tests {
    use super::merge_groups;

    #[test]
    fn only_runs_of_small_parts_are_merged_and_never_past_part_rows() {
        // part_rows 100: "small" is under 25 rows.
        assert!(merge_groups(&[], 100).is_empty());
        assert_eq!(merge_groups(&[100, 30, 90], 100), vec![0..1, 1..2, 2..3]);
        assert_eq!(merge_groups(&[10, 10, 10], 100), vec![0..3]);
        // A big part interrupts a run of small ones; a full group starts the next.
        assert_eq!(
            merge_groups(&[24, 24, 60, 24, 24, 24, 24, 24], 100),
            vec![0..2, 2..3, 3..7, 7..8]
        );
        assert_eq!(merge_groups(&[5], 100), vec![0..1]);
    }
}
