//! Deleting runs without pulling files from under the queries reading them.
//!
//! A query lists a table's files when it is planned and opens them one by one as it runs, so
//! removing a run's Parquet parts at once fails every query that listed them and has not read
//! them yet (a full scan over the store while a retention job deletes old runs). Deletion is
//! therefore in two steps, the way object-store databases (InfluxDB 3, Delta Lake's vacuum) do
//! it:
//!
//! 1. [`Store::delete_run`] writes a **tombstone** (`deleted/<id>`) and removes the manifest:
//!    from then on the run is not listed, not found, and its samples are hidden from every new
//!    query (the query engine leaves out partitions whose run has a tombstone).
//! 2. [`Store::purge_deleted`], called by [`Store::recover`] (when a store is opened and every
//!    minute in a server), removes the samples of runs deleted more than [`DELETED_RUN_GRACE`]
//!    ago, then their tombstones.
//!
//! A crash between the two steps of `delete_run` leaves a tombstone next to a manifest; the
//! next purge finishes the deletion.
//!
//! A store on object storage deletes the same way, with objects (`remote_deletion.rs`: the
//! tombstone holds its deletion time; the server purges every minute).

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::time::{Duration, SystemTime};

use loadlake_schema::RunId;

use crate::catalog::Store;
use crate::error::StoreError;
use crate::recover::remove_file_if_present;
use crate::writer::fsync_dir;

/// How long the samples of a deleted run are kept for the queries planned before it was deleted.
pub const DELETED_RUN_GRACE: Duration = Duration::from_secs(10 * 60);

impl Store {
    /// Deletes a run: it disappears from listings and new queries at once; its samples are
    /// removed after [`DELETED_RUN_GRACE`] (see the module doc).
    pub fn delete_run(&self, id: &str) -> Result<(), StoreError> {
        if let Some(remote) = self.remote() {
            return self.delete_remote_run(remote, id);
        }
        let id = self.run(id)?.run_id;
        let layout = self.layout();
        let tombstone = layout.tombstone_path(&id);
        File::create(&tombstone)
            .and_then(|f| f.sync_all())
            .map_err(|e| StoreError::io(&tombstone, e))?;
        fsync_dir(&layout.deleted_dir())?;
        let manifest = layout.manifest_path(&id);
        fs::remove_file(&manifest).map_err(|e| StoreError::io(&manifest, e))?;
        remove_file_if_present(&layout.rejects_path(&id))?;
        self.remove_live(&id);
        Ok(())
    }

    /// The runs deleted whose samples are still kept (an empty set for stores written before
    /// deletions had tombstones).
    pub fn deleted_runs(&self) -> Result<BTreeSet<RunId>, StoreError> {
        if let Some(remote) = self.remote() {
            return crate::remote_deletion::deleted_run_ids(remote);
        }
        let dir = self.layout().deleted_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
            Err(e) => return Err(StoreError::io(&dir, e)),
        };
        let mut ids = BTreeSet::new();
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io(&dir, e))?;
            if let Ok(id) = RunId::parse(&entry.file_name().to_string_lossy()) {
                ids.insert(id);
            }
        }
        Ok(ids)
    }

    /// Removes the samples of the runs deleted at least `grace` ago, then their tombstones;
    /// finishes a deletion a crash interrupted. Returns how many runs' samples were removed.
    pub fn purge_deleted(&self, grace: Duration) -> Result<usize, StoreError> {
        if let Some(remote) = self.remote() {
            return self.purge_remote_deleted(remote, grace);
        }
        let layout = self.layout();
        let now = SystemTime::now();
        let mut purged = 0;
        for id in self.deleted_runs()? {
            // A crash after the tombstone and before the manifest was removed.
            remove_file_if_present(&layout.manifest_path(&id))?;
            let tombstone = layout.tombstone_path(&id);
            let deleted_at = match fs::metadata(&tombstone).and_then(|m| m.modified()) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(StoreError::io(&tombstone, e)),
            };
            if now.duration_since(deleted_at).unwrap_or_default() < grace {
                continue;
            }
            remove_dir_if_present(&layout.run_rollup_dir(&id))?;
            if remove_dir_if_present(&layout.run_samples_dir(&id))? {
                purged += 1;
            }
            remove_file_if_present(&tombstone)?;
        }
        Ok(purged)
    }
}

/// Removes `dir` with everything in it; `false` if it was not there.
fn remove_dir_if_present(dir: &std::path::Path) -> Result<bool, StoreError> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::io(dir, e)),
    }
}
