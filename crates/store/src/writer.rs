//! [`RunWriter`]: receives a run's sample batches (it is a [`SampleSink`]), writes them as sorted
//! Parquet parts in the run's staging directory and commits the run atomically.
//!
//! A part appears in the staging directory (`tmp/run_id=<id>/`) only once it is complete and
//! fsynced (written as `part-N.parquet.partial`, then renamed), so readers of the live table
//! (`live_samples`) see whole parts or nothing. A run written in many small parts — one per
//! second for a live run, one per acknowledged batch for a gRPC stream — has them merged at
//! commit ([`crate::compact`]).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Int64Type, TimestampMillisecondType};
use chrono::Utc;
use loadlake_schema::manifest::MANIFEST_FORMAT_VERSION;
use loadlake_schema::{
    PartFile, RejectSummary, RunId, RunManifest, RunStatus, SampleBatch, SampleSink, SinkError,
    SourceFile, col,
};

use crate::error::StoreError;
use crate::layout::Layout;
use crate::part_encode::encode_sorted_part;
use crate::remote::Remote;
use crate::remote_writer::RemoteRun;

/// Tuning of the Parquet output.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Rows per part file; each part is sorted by `ts` in memory, so this bounds memory.
    pub part_rows: usize,
    /// zstd level.
    pub zstd_level: i32,
    /// Write what is pending as a part at least this often (checked as batches arrive), so the
    /// samples of a run still being written can be queried (`live_samples`). `None`: parts are
    /// written only when `part_rows` are pending or the caller flushes.
    pub visible_every: Option<Duration>,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            part_rows: 256 * 1024,
            zstd_level: 3,
            visible_every: None,
        }
    }
}

impl WriterOptions {
    /// The defaults, with parts made visible to live queries about once a second.
    pub fn live() -> Self {
        WriterOptions {
            visible_every: Some(Duration::from_secs(1)),
            ..WriterOptions::default()
        }
    }
}

/// What the caller knows about a run when it commits it; the writer adds the counts.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunDraft {
    pub name: String,
    pub tags: BTreeMap<String, String>,
    pub status: RunStatus,
    pub sources: Vec<SourceFile>,
    pub plan: Option<serde_json::Value>,
}

/// Counts kept while batches stream through.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Totals {
    pub(crate) samples: u64,
    pub(crate) errors: u64,
    pub(crate) first_ts: Option<i64>,
    pub(crate) last_end: Option<i64>,
}

impl Totals {
    /// Adds the counts of `other`.
    pub(crate) fn merge(&mut self, other: Totals) {
        self.samples += other.samples;
        self.errors += other.errors;
        self.first_ts = min_of(self.first_ts, other.first_ts);
        self.last_end = self.last_end.max(other.last_end);
    }

    pub(crate) fn add(&mut self, batch: &RecordBatch) {
        self.samples += batch.num_rows() as u64;
        if let Some(success) = batch.column_by_name(col::SUCCESS) {
            let success = success.as_boolean();
            self.errors += (success.len() - success.true_count()) as u64;
        }
        let (Some(ts), Some(elapsed)) = (
            batch.column_by_name(col::TS),
            batch.column_by_name(col::ELAPSED_MS),
        ) else {
            return;
        };
        let ts = ts.as_primitive::<TimestampMillisecondType>();
        let elapsed = elapsed.as_primitive::<Int64Type>();
        for i in 0..ts.len() {
            if ts.is_null(i) {
                continue;
            }
            let start = ts.value(i);
            let end = start.saturating_add(if elapsed.is_null(i) {
                0
            } else {
                elapsed.value(i)
            });
            self.first_ts = min_of(self.first_ts, Some(start));
            self.last_end = self.last_end.max(Some(end));
        }
    }
}

/// The smaller of two optional values (`None` only if both are).
fn min_of(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The draft a writer recorded for recovery (`tmp/<id>.draft.json`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct RecordedDraft {
    pub(crate) draft: RunDraft,
    /// Written by `commit` (the run's samples are all there and its status is final) rather
    /// than while the run was being written (the run is then recovered as `incomplete`).
    #[serde(default)]
    pub(crate) at_commit: bool,
}

/// Writes one run. Dropping it without [`commit`](Self::commit) abandons the run: its staging
/// files are removed (or, after a crash, by the next opener of the store) — unless the writer
/// [recorded a draft](Self::record_draft): then what it wrote is committed as `incomplete`
/// (at once if possible, else by the next opener; see [`crate::Store::recover`]).
pub struct RunWriter {
    layout: Layout,
    /// Set when the run goes to object storage ([`crate::remote`]): parts are PUT there as they
    /// are written, and `commit` writes the manifest last with a conditional create.
    remote: Option<RemoteRun>,
    id: RunId,
    lock: Option<File>,
    options: WriterOptions,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    /// Rows of each part written so far, in order.
    part_sizes: Vec<usize>,
    last_part_at: Instant,
    /// Counts of the rows in written parts.
    totals: Totals,
    /// Counts of the pending rows (they join `totals` once their part is written).
    pending_totals: Totals,
    /// Whether a draft was recorded: the parts must survive this writer.
    draft_recorded: bool,
    committed: bool,
}

impl RunWriter {
    pub(crate) fn new(layout: Layout, id: RunId, lock: File, options: WriterOptions) -> Self {
        Self::with(layout, None, id, Some(lock), options)
    }

    /// A writer of run `id` on object storage (no lock: the manifest's conditional create
    /// settles who owns the id).
    pub(crate) fn new_remote(remote: Arc<Remote>, id: RunId, options: WriterOptions) -> Self {
        Self::with(
            Layout::new(""),
            Some(RemoteRun::new(remote)),
            id,
            None,
            options,
        )
    }

    fn with(
        layout: Layout,
        remote: Option<RemoteRun>,
        id: RunId,
        lock: Option<File>,
        options: WriterOptions,
    ) -> Self {
        RunWriter {
            layout,
            remote,
            id,
            lock,
            options,
            pending: Vec::new(),
            pending_rows: 0,
            part_sizes: Vec::new(),
            last_part_at: Instant::now(),
            totals: Totals::default(),
            pending_totals: Totals::default(),
            draft_recorded: false,
            committed: false,
        }
    }

    /// The id the run will have.
    pub fn run_id(&self) -> &RunId {
        &self.id
    }

    /// Samples accepted so far (written in parts, or pending).
    pub fn samples(&self) -> u64 {
        self.totals.samples + self.pending_totals.samples
    }

    /// Declares that this run's samples are acknowledged to someone as they are flushed (a
    /// sample stream, a live run): if the writer dies or is dropped before
    /// [`commit`](Self::commit), the parts it wrote are committed as an `incomplete` run made
    /// from `draft` (by the next [`crate::Store::open`]) instead of being removed. Call it
    /// again when the draft changes (tags); it is written atomically to `tmp/<id>.draft.json`
    /// (on object storage: PUT there, listing the parts acknowledged so far, and kept fresh
    /// by a heartbeat; see `remote_live.rs`).
    pub fn record_draft(&mut self, draft: &RunDraft) -> Result<(), StoreError> {
        if let Some(run) = &mut self.remote {
            run.record_draft(&self.id, draft, &self.totals)?;
            self.draft_recorded = true;
            return Ok(());
        }
        self.write_draft(draft, false)?;
        self.draft_recorded = true;
        Ok(())
    }

    fn write_draft(&self, draft: &RunDraft, at_commit: bool) -> Result<(), StoreError> {
        let path = self.layout.draft_path(&self.id);
        let recorded = RecordedDraft {
            draft: draft.clone(),
            at_commit,
        };
        let json = serde_json::to_vec_pretty(&recorded).map_err(|source| StoreError::Manifest {
            path: path.clone(),
            source,
        })?;
        write_atomically(&path, &json)
    }

    /// Sorts the pending batches by (ts, row) and writes them as the next part. On failure
    /// (a full disk, say) the pending rows are dropped, counted nowhere, and no part is left.
    fn write_part(&mut self) -> Result<(), StoreError> {
        self.last_part_at = Instant::now();
        if self.pending_rows == 0 {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let rows = std::mem::take(&mut self.pending_rows);
        let totals = std::mem::take(&mut self.pending_totals);
        if let Some(run) = &mut self.remote {
            run.put_part(&self.id, pending, rows, &self.options)?;
            self.part_sizes.push(rows);
            self.totals.merge(totals);
            // Acknowledged once the draft lists the part (runs with a draft only).
            return run.acknowledge_parts(&self.totals);
        }
        let dir = self.layout.staging_dir(&self.id);
        let path = dir.join(part_name(self.part_sizes.len()));
        write_sorted_part(&path, pending, &self.options)?;
        self.part_sizes.push(rows);
        self.totals.merge(totals);
        Ok(())
    }

    /// Adds a batch (in the canonical schema).
    pub fn write(&mut self, batch: RecordBatch) -> Result<(), StoreError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.pending_totals.add(&batch);
        self.pending_rows += batch.num_rows();
        self.pending.push(batch);
        let due = self
            .options
            .visible_every
            .is_some_and(|every| self.last_part_at.elapsed() >= every);
        if self.pending_rows >= self.options.part_rows || due {
            self.write_part()?;
        }
        Ok(())
    }

    /// Writes what is pending as a part and fsyncs it: every sample written so far survives a
    /// crash of this process (and becomes visible with the run's commit). Streams acknowledge
    /// batches after this.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        self.write_part()
    }

    /// Makes the run visible: flush the last part, record the final draft and the rejects
    /// file, move the parts into `samples/`, write the manifest (atomically), release the lock.
    ///
    /// A crash or failure (a full disk) part way leaves everything a later
    /// [`crate::Store::recover`] needs to finish the commit: the parts (in `tmp/` or already
    /// in `samples/`) and the final draft. The error says so and is logged.
    pub fn commit(
        mut self,
        draft: RunDraft,
        rejects: &[impl serde::Serialize],
    ) -> Result<RunManifest, StoreError> {
        if self.remote.is_some() {
            self.write_part()?;
            let lines = reject_lines(rejects, &self.id)?;
            let run = self.remote.take();
            self.committed = true; // from here on `run` cleans up after itself
            return match run {
                Some(run) => run.commit(
                    &self.id,
                    draft,
                    (&self.totals, None),
                    reject_summary(rejects),
                    lines,
                    &self.options,
                ),
                None => Err(StoreError::Runtime("the run's object store is gone".into())),
            };
        }
        let error = match self.commit_inner(draft, rejects) {
            Ok(manifest) => return Ok(manifest),
            Err(e) => e,
        };
        tracing::error!("run {}: commit failed: {error}", self.id);
        if !self.draft_recorded {
            return Err(error); // dropping the writer removes what it wrote
        }
        // Acknowledged samples: finish the way recovery would, if the disk lets us now.
        match self.finish_by_recovery(&format!("its commit failed ({error})")) {
            Some(manifest) => Ok(manifest),
            None => Err(error),
        }
    }

    /// Commits what was written the way [`crate::Store::recover`] would (this writer still
    /// holds the lock); if that fails too, it is left for the next opener of the store.
    fn finish_by_recovery(&mut self, reason: &str) -> Option<RunManifest> {
        self.pending.clear();
        self.pending_rows = 0;
        let recovered = crate::recover::recover_run(&self.layout, &self.id, reason)
            .inspect_err(|e| {
                tracing::error!(
                    "run {}: could not commit its written samples ({e}); they are kept under \
                     {} and committed when the store is next opened",
                    self.id,
                    self.layout.tmp_dir().display()
                )
            })
            .ok()
            .flatten();
        self.committed = true;
        self.release_lock();
        recovered
    }

    fn commit_inner(
        &mut self,
        draft: RunDraft,
        rejects: &[impl serde::Serialize],
    ) -> Result<RunManifest, StoreError> {
        self.write_part()?;
        fsync_dir(&self.layout.staging_dir(&self.id))?;
        // From here on the run is worth finishing: every sample is in a fsynced part.
        self.write_draft(&draft, true)?;
        self.draft_recorded = true;

        let reject_summary = reject_summary(rejects);
        if !rejects.is_empty() {
            let path = self.layout.rejects_path(&self.id);
            write_atomically(&path, reject_lines(rejects, &self.id)?.as_bytes())?;
        }
        let rows = crate::compact::move_into_place(
            &self.layout,
            &self.id,
            &self.part_sizes,
            &self.options,
        )?;
        fsync_dir(&self.layout.samples_dir())?;
        let files = crate::compact::local_part_files(&self.layout, &self.id, &rows)?;
        let manifest = manifest_of(
            &self.id,
            draft,
            None,
            &self.totals,
            reject_summary,
            (rows.len() as u32, files),
        );
        write_manifest(&self.layout, &manifest)?;
        self.committed = true;
        let _ = fs::remove_file(self.layout.draft_path(&self.id));
        self.release_lock();
        Ok(manifest)
    }

    /// Test only: what a SIGKILL leaves — the lock released by the kernel, every file as it is.
    #[cfg(test)]
    pub(crate) fn simulate_crash(mut self) {
        self.lock.take();
        self.committed = true;
    }

    fn release_lock(&mut self) {
        if self.lock.take().is_some() {
            let _ = fs::remove_file(self.layout.lock_path(&self.id));
        }
    }
}

impl Drop for RunWriter {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        if let Some(run) = self.remote.take() {
            match run.recorded.as_ref().map(|(draft, _)| draft.clone()) {
                // Acknowledged samples: commit what was written as `incomplete` now (if that
                // fails, the draft left in the bucket lets a later recovery do it).
                Some(mut draft) => {
                    draft.status = RunStatus::Incomplete;
                    let reason = "its writer stopped before committing it".to_string();
                    let totals = self.totals.clone();
                    let _ = run.commit(
                        &self.id,
                        draft,
                        (&totals, Some(reason)),
                        RejectSummary::default(),
                        String::new(),
                        &self.options,
                    );
                }
                None => run.abandon(&self.id),
            }
            return;
        }
        if !self.draft_recorded {
            let _ = fs::remove_dir_all(self.layout.staging_dir(&self.id));
            let _ = fs::remove_file(self.layout.draft_path(&self.id));
            self.release_lock();
            return;
        }
        // Its samples were acknowledged: commit what was written as `incomplete`, now if the
        // disk lets us, else at the next open of the store.
        let _ = self.finish_by_recovery("its writer stopped before committing it");
    }
}

/// `rejects` as JSON lines (the rejects file).
fn reject_lines(rejects: &[impl serde::Serialize], id: &RunId) -> Result<String, StoreError> {
    let mut text = String::new();
    for r in rejects {
        let line = serde_json::to_string(r).map_err(|source| StoreError::Manifest {
            path: format!("{id}.rejects.jsonl").into(),
            source,
        })?;
        text.push_str(&line);
        text.push('\n');
    }
    Ok(text)
}

/// The summary of `rejects` kept in the manifest.
fn reject_summary(rejects: &[impl serde::Serialize]) -> RejectSummary {
    RejectSummary {
        count: rejects.len() as u64,
        first: rejects
            .iter()
            .take(5)
            .filter_map(|r| serde_json::to_string(r).ok())
            .collect(),
    }
}

/// The manifest of run `id` made of its draft and the counts of its parts.
pub(crate) fn manifest_of(
    id: &RunId,
    draft: RunDraft,
    status_reason: Option<String>,
    totals: &Totals,
    rejects: RejectSummary,
    (parts, files): (u32, Vec<PartFile>),
) -> RunManifest {
    RunManifest {
        format_version: MANIFEST_FORMAT_VERSION,
        run_id: id.clone(),
        name: draft.name,
        tags: draft.tags,
        status: draft.status,
        status_reason,
        sources: draft.sources,
        samples: totals.samples,
        errors: totals.errors,
        first_ts_ms: totals.first_ts,
        last_ts_ms: totals.last_end,
        imported_at: Utc::now(),
        rejects,
        parts,
        files,
        plan: draft.plan,
        created_by: format!("loadlake {}", env!("CARGO_PKG_VERSION")),
    }
}

/// Writes `manifest` atomically: from then on the run is visible.
pub(crate) fn write_manifest(layout: &Layout, manifest: &RunManifest) -> Result<(), StoreError> {
    let path = layout.manifest_path(&manifest.run_id);
    let json = serde_json::to_vec_pretty(manifest).map_err(|source| StoreError::Manifest {
        path: path.clone(),
        source,
    })?;
    write_atomically(&path, &json)
}

impl SampleSink for RunWriter {
    fn write_batch(&mut self, batch: SampleBatch) -> Result<(), SinkError> {
        self.write(batch).map_err(SinkError::new)
    }
}

/// The file name of part `n`.
pub(crate) fn part_name(n: usize) -> String {
    format!("part-{n}.parquet")
}

/// Writes `batches` sorted by (ts, row) as one Parquet file at `path`: first under a
/// `.partial` name, fsynced, then renamed, so that a reader listing `*.parquet` never opens a
/// part being written.
pub(crate) fn write_sorted_part(
    path: &Path,
    batches: Vec<RecordBatch>,
    options: &WriterOptions,
) -> Result<(), StoreError> {
    let partial = path.with_extension("parquet.partial");
    let written = write_partial(&partial, batches, options);
    if written.is_err() {
        let _ = fs::remove_file(&partial);
    }
    written?;
    fs::rename(&partial, path).map_err(|e| StoreError::io(path, e))?;
    Ok(())
}

/// The body of [`write_sorted_part`]: the sorted batches into `partial`, fsynced.
fn write_partial(
    partial: &Path,
    batches: Vec<RecordBatch>,
    options: &WriterOptions,
) -> Result<(), StoreError> {
    let file = File::create(partial).map_err(|e| StoreError::io(partial, e))?;
    let file = encode_sorted_part(file, partial, batches, options)?;
    file.sync_all().map_err(|e| StoreError::io(partial, e))
}

/// fsyncs a directory so that renames inside it are durable.
pub(crate) fn fsync_dir(dir: &std::path::Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}

/// Writes `bytes` to `path` via a temporary file, fsync and rename.
pub(crate) fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp: PathBuf = path.with_extension(format!("tmp-{}", std::process::id()));
    let result = (|| {
        use std::io::Write;
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(StoreError::io(path, e));
    }
    if let Some(parent) = path.parent() {
        fsync_dir(parent)?;
    }
    Ok(())
}
