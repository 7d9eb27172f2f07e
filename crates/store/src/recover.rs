//! Recovery: finishing what dead writers left in `tmp/`.
//!
//! A writer that acknowledges samples as they are flushed (a gRPC stream, a live run) records
//! a draft of its run (`tmp/<id>.draft.json`) when it starts, and `commit` records the final
//! draft before it moves anything. When such a writer dies — SIGKILL, a power cut, a disk that
//! filled up during the commit — its run is not lost: [`recover_run`] commits the complete
//! parts it left, from wherever the commit had got to:
//!
//! | what is on disk | what recovery does |
//! |---|---|
//! | `samples/run_id=<id>/` without a manifest (the commit moved the parts, then died) | writes the manifest |
//! | `tmp/run_id=<id>/` (the writer died while writing, or before moving) | drops `*.partial`, moves the complete parts (merging small ones), writes the manifest |
//! | no draft (an import: nothing was acknowledged) | removes the leftovers, as before |
//!
//! A run recovered from a draft recorded while it was written is `incomplete`, with a
//! `status_reason`; one recovered from a final draft gets the status its writer gave it.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use loadlake_schema::{RejectSummary, RunId, RunManifest, RunStatus, col};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::StoreError;
use crate::layout::Layout;
use crate::writer::{
    RecordedDraft, Totals, WriterOptions, fsync_dir, manifest_of, part_name, write_manifest,
};

/// Finishes run `id` whose writer is gone (the caller holds or owns its lock): commits its
/// complete parts if its writer recorded a draft, else removes what it left. `reason` says
/// why the run stopped (kept in the manifest of a run recovered as `incomplete`). Returns the
/// manifest of the run made visible, if one was.
pub(crate) fn recover_run(
    layout: &Layout,
    id: &RunId,
    reason: &str,
) -> Result<Option<RunManifest>, StoreError> {
    let staging = layout.staging_dir(id);
    let moved = layout.run_samples_dir(id);
    remove_dir_if_present(&layout.compact_dir(id))?;
    remove_dir_if_present(&layout.legacy_staging_dir(id))?;
    remove_half_written_files(layout, id)?;
    if layout.manifest_path(id).is_file() {
        // Committed already; only tmp/ leftovers remain.
        remove_dir_if_present(&staging)?;
        remove_file_if_present(&layout.draft_path(id))?;
        return Ok(None);
    }
    let Some(recorded) = read_draft(layout, id) else {
        remove_dir_if_present(&staging)?;
        remove_dir_if_present(&moved)?;
        return Ok(None);
    };
    // The rename into samples/ is atomic: if it happened, that directory is the whole run.
    let (dir, in_place) = if moved.exists() {
        remove_dir_if_present(&staging)?;
        (moved, true)
    } else if staging.exists() {
        (staging, false)
    } else {
        remove_file_if_present(&layout.draft_path(id))?;
        return Ok(None);
    };
    let scan = scan_parts(&dir)?;
    if scan.sizes.is_empty() {
        remove_dir_if_present(&dir)?;
        remove_file_if_present(&layout.draft_path(id))?;
        return Ok(None);
    }
    let rows = if in_place {
        scan.sizes.clone()
    } else {
        fsync_dir(&dir)?;
        let rows =
            crate::compact::move_into_place(layout, id, &scan.sizes, &WriterOptions::default())?;
        fsync_dir(&layout.samples_dir())?;
        rows
    };
    let parts = rows.len() as u32;
    let mut notes = Vec::new();
    if !recorded.at_commit {
        notes.push(reason.to_string());
    }
    if scan.damaged > 0 {
        notes.push(format!(
            "{} damaged part(s) could not be read and were dropped",
            scan.damaged
        ));
    }
    let mut draft = recorded.draft;
    if !recorded.at_commit {
        draft.status = RunStatus::Incomplete;
    }
    let status_reason = (!notes.is_empty()).then(|| {
        format!(
            "recovered by loadlake after a crash: {}; every complete part written is kept",
            notes.join("; ")
        )
    });
    let rejects = read_reject_summary(&layout.rejects_path(id));
    let files = crate::compact::local_part_files(layout, id, &rows)?;
    let manifest = manifest_of(
        id,
        draft,
        status_reason,
        &scan.totals,
        rejects,
        (parts, files),
    );
    write_manifest(layout, &manifest)?;
    remove_file_if_present(&layout.draft_path(id))?;
    tracing::warn!(
        "recovered run {id}: {} samples in {parts} part(s), status {}",
        manifest.samples,
        manifest.status.as_str()
    );
    Ok(Some(manifest))
}

/// What a dead writer's part directory holds.
struct PartScan {
    /// Rows of each readable part, in order, after renumbering them `part-0 …`.
    sizes: Vec<usize>,
    totals: Totals,
    /// Parts that could not be read (removed).
    damaged: usize,
}

/// Removes unfinished parts (`*.partial`) of `dir`, counts the rows of each complete part,
/// drops damaged ones, and renames the rest to `part-0 … part-<n-1>` in their order.
fn scan_parts(dir: &Path) -> Result<PartScan, StoreError> {
    let mut numbered: Vec<(u64, PathBuf)> = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))? {
        let entry = entry.map_err(|e| StoreError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let number = name
            .strip_prefix("part-")
            .and_then(|rest| rest.strip_suffix(".parquet"))
            .and_then(|n| n.parse::<u64>().ok());
        match number {
            Some(n) => numbered.push((n, entry.path())),
            // Never completed (and so never acknowledged): `.partial`, anything else.
            None => remove_file_if_present(&entry.path())?,
        }
    }
    numbered.sort();
    let mut scan = PartScan {
        sizes: Vec::new(),
        totals: Totals::default(),
        damaged: 0,
    };
    for (_, path) in numbered {
        match part_totals(&path) {
            Ok(totals) if totals.samples > 0 => {
                let target = dir.join(part_name(scan.sizes.len()));
                if target != path {
                    fs::rename(&path, &target).map_err(|e| StoreError::io(&target, e))?;
                }
                scan.sizes.push(totals.samples as usize);
                scan.totals.merge(totals);
            }
            Ok(_) => remove_file_if_present(&path)?,
            Err(e) => {
                tracing::error!("dropping a damaged part: {e}");
                scan.damaged += 1;
                remove_file_if_present(&path)?;
            }
        }
    }
    Ok(scan)
}

/// The counts of one part file (reading only the columns they need).
fn part_totals(path: &Path) -> Result<Totals, StoreError> {
    let parquet_err = |source| StoreError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(|e| StoreError::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_err)?;
    let wanted: Vec<usize> = builder
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| [col::TS, col::ELAPSED_MS, col::SUCCESS].contains(&f.name().as_str()))
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), wanted);
    let reader = builder.with_projection(mask).build().map_err(parquet_err)?;
    let mut totals = Totals::default();
    for batch in reader {
        let batch: RecordBatch = batch?;
        totals.add(&batch);
    }
    Ok(totals)
}

/// The recorded draft of run `id`, if its writer recorded a readable one.
fn read_draft(layout: &Layout, id: &RunId) -> Option<RecordedDraft> {
    let path = layout.draft_path(id);
    let bytes = fs::read(&path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(draft) => Some(draft),
        Err(e) => {
            tracing::error!("{}: unreadable run draft: {e}", path.display());
            None
        }
    }
}

/// The summary of a rejects file written before the crash (empty if there is none).
fn read_reject_summary(path: &Path) -> RejectSummary {
    match fs::read_to_string(path) {
        Ok(text) => crate::remote_live::reject_summary_of(&text),
        Err(_) => RejectSummary::default(),
    }
}

/// Removes the temporary files of atomic writes of run `id` (its draft in `tmp/`, its
/// manifest or rejects in `runs/`) cut off before their rename: they never counted.
fn remove_half_written_files(layout: &Layout, id: &RunId) -> Result<(), StoreError> {
    for dir in [layout.tmp_dir(), layout.runs_dir()] {
        for entry in fs::read_dir(&dir).map_err(|e| StoreError::io(&dir, e))? {
            let entry = entry.map_err(|e| StoreError::io(&dir, e))?;
            let name = entry.file_name();
            if Layout::half_written_run(&name.to_string_lossy()).as_ref() == Some(id) {
                remove_file_if_present(&entry.path())?;
            }
        }
    }
    Ok(())
}

/// `remove_dir_all` that is fine with nothing there.
pub(crate) fn remove_dir_if_present(dir: &Path) -> Result<(), StoreError> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::io(dir, e)),
        _ => Ok(()),
    }
}

/// `remove_file` that is fine with nothing there.
pub(crate) fn remove_file_if_present(path: &Path) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::io(path, e)),
        _ => Ok(()),
    }
}
