//! Paths inside a store root.

use std::path::{Path, PathBuf};

use loadlake_schema::RunId;

/// Where everything of a store lives.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Layout { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/samples`: the Hive-partitioned table of all runs.
    pub fn samples_dir(&self) -> PathBuf {
        self.root.join("samples")
    }

    /// `<root>/samples/run_id=<id>`.
    pub fn run_samples_dir(&self, id: &RunId) -> PathBuf {
        self.samples_dir().join(format!("run_id={id}"))
    }

    /// `<root>/rollups`: per committed run, its rollup (counters and exact histograms per case,
    /// label and kind, computed from its samples once, by the query layer), Hive-partitioned
    /// like `samples/`.
    pub fn rollups_dir(&self) -> PathBuf {
        self.root.join("rollups")
    }

    /// `<root>/rollups/run_id=<id>`.
    pub fn run_rollup_dir(&self, id: &RunId) -> PathBuf {
        self.rollups_dir().join(format!("run_id={id}"))
    }

    /// `<root>/rollups/merged`: consolidated rollups of many runs (crate's `merged_rollups.rs`).
    pub fn merged_rollups_dir(&self) -> PathBuf {
        self.rollups_dir().join("merged")
    }

    /// `<root>/runs`.
    pub fn runs_dir(&self) -> PathBuf {
        self.root.join("runs")
    }

    /// `<root>/runs/<id>.json`.
    pub fn manifest_path(&self, id: &RunId) -> PathBuf {
        self.runs_dir().join(format!("{id}.json"))
    }

    /// `<root>/runs/<id>.rejects.jsonl`.
    pub fn rejects_path(&self, id: &RunId) -> PathBuf {
        self.runs_dir().join(format!("{id}.rejects.jsonl"))
    }

    /// `<root>/deleted`: one tombstone per run deleted whose samples are still kept for the
    /// queries that may be reading them ([`crate::Store::delete_run`]).
    pub fn deleted_dir(&self) -> PathBuf {
        self.root.join("deleted")
    }

    /// `<root>/deleted/<id>`: the tombstone of run `id`.
    pub fn tombstone_path(&self, id: &RunId) -> PathBuf {
        self.deleted_dir().join(id.as_str())
    }

    /// `<root>/tmp`.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// `<root>/tmp/run_id=<id>`: parts of a run being written. Named like a Hive partition so
    /// that `tmp/` is itself a table of the runs being written (`live_samples`).
    pub fn staging_dir(&self, id: &RunId) -> PathBuf {
        self.tmp_dir().join(format!("run_id={id}"))
    }

    /// `<root>/tmp/<id>`: the staging dir of versions before `run_id=<id>` (only removed).
    pub fn legacy_staging_dir(&self, id: &RunId) -> PathBuf {
        self.tmp_dir().join(id.as_str())
    }

    /// `<root>/tmp/<id>.compact`: a run's merged parts, built at commit (not a partition, so
    /// `live_samples` never reads them).
    pub fn compact_dir(&self, id: &RunId) -> PathBuf {
        self.tmp_dir().join(format!("{id}.compact"))
    }

    /// `<root>/tmp/<id>.draft.json`: what a writer that acknowledges samples wants its run to be
    /// committed as if it dies first ([`crate::RunWriter::record_draft`]).
    pub fn draft_path(&self, id: &RunId) -> PathBuf {
        self.tmp_dir().join(format!("{id}.draft.json"))
    }

    /// The run a name in `tmp/` belongs to: `run_id=<id>`, or `<id>` followed by nothing (the
    /// staging dirs of older versions) or by `.lock`, `.compact`, `.draft.json` or the
    /// temporary name of a file being written atomically (`<id>.draft.tmp-<pid>`).
    pub fn tmp_entry_run(name: &str) -> Option<RunId> {
        let id = match name.strip_prefix("run_id=") {
            Some(id) => id,
            None => name.split_once('.').map_or(name, |(id, _)| id),
        };
        RunId::parse(id).ok()
    }

    /// The run a half-written file belongs to: the temporary name of an atomic write cut off
    /// before its rename (`<id>.tmp-<pid>`, `<id>.rejects.tmp-<pid>` in `runs/`,
    /// `<id>.draft.tmp-<pid>` in `tmp/`).
    pub fn half_written_run(name: &str) -> Option<RunId> {
        let (id, rest) = name.split_once('.')?;
        rest.contains("tmp-").then(|| RunId::parse(id).ok())?
    }

    /// Prefix of the spool files of uploads (`tmp/upload-*`), held locked while in use.
    pub const SPOOL_PREFIX: &'static str = "upload-";

    /// `<root>/tmp/<id>.lock`: held by the run's writer until the run is visible.
    pub fn lock_path(&self, id: &RunId) -> PathBuf {
        self.tmp_dir().join(format!("{id}.lock"))
    }
}
