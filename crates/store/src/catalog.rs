//! [`Store`]: opens a store directory, starts run writers, lists, finds and deletes runs, and
//! cleans up what crashed writers left behind.

use std::fs::{self, File, OpenOptions};
use std::path::Path;

use chrono::Utc;
use loadlake_schema::{RunId, RunManifest, RunStatus};

use crate::error::StoreError;
use crate::layout::Layout;
use crate::writer::{RunWriter, WriterOptions};

/// A store rooted at a directory.
#[derive(Debug, Clone)]
pub struct Store {
    layout: Layout,
}

impl Store {
    /// Opens (creating if needed) the store at `root`, and removes leftovers of dead writers.
    pub fn open(root: impl AsRef<Path>) -> Result<Store, StoreError> {
        let layout = Layout::new(root.as_ref());
        for dir in [layout.samples_dir(), layout.runs_dir(), layout.tmp_dir()] {
            fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        }
        let store = Store { layout };
        store.remove_leftovers()?;
        Ok(store)
    }

    /// Paths of this store.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Starts a new run with a fresh id; the run is invisible until committed.
    pub fn begin_run(&self, options: WriterOptions) -> Result<RunWriter, StoreError> {
        for _ in 0..16 {
            let id = RunId::generate(Utc::now());
            let lock_path = self.layout.lock_path(&id);
            let lock = match OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&lock_path)
            {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(StoreError::io(&lock_path, e)),
            };
            lock.lock().map_err(|e| StoreError::io(&lock_path, e))?;
            if self.layout.manifest_path(&id).exists() || self.layout.run_samples_dir(&id).exists()
            {
                drop(lock);
                let _ = fs::remove_file(&lock_path);
                continue;
            }
            let staging = self.layout.staging_dir(&id);
            fs::create_dir_all(&staging).map_err(|e| StoreError::io(&staging, e))?;
            return Ok(RunWriter::new(self.layout.clone(), id, lock, options));
        }
        Err(StoreError::IdExhausted(self.layout.tmp_dir()))
    }

    /// True if a live writer holds the lock of run `id`.
    pub(crate) fn writer_alive(&self, id: &RunId) -> bool {
        let Ok(f) = File::open(self.layout.lock_path(id)) else {
            return false;
        };
        match f.try_lock() {
            Ok(()) => false,
            Err(std::fs::TryLockError::WouldBlock) => true,
            Err(std::fs::TryLockError::Error(_)) => false,
        }
    }

    /// Removes staging dirs, locks and unlisted sample dirs whose writer is gone.
    fn remove_leftovers(&self) -> Result<(), StoreError> {
        let tmp = self.layout.tmp_dir();
        let entries = fs::read_dir(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(id) = Layout::tmp_entry_run(&name) else {
                continue;
            };
            if self.writer_alive(&id) {
                continue;
            }
            tracing::info!("removing leftovers of interrupted run {id}: tmp/{name}");
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = fs::remove_dir_all(entry.path());
            }
            if !self.layout.manifest_path(&id).exists() {
                let _ = fs::remove_dir_all(self.layout.run_samples_dir(&id));
            }
            let _ = fs::remove_file(self.layout.lock_path(&id));
        }
        // A crash between moving the samples and writing the manifest leaves an unlisted dir.
        let samples = self.layout.samples_dir();
        for entry in fs::read_dir(&samples)
            .map_err(|e| StoreError::io(&samples, e))?
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(id) = name
                .strip_prefix("run_id=")
                .and_then(|s| RunId::parse(s).ok())
            else {
                continue;
            };
            if !self.layout.manifest_path(&id).exists() && !self.writer_alive(&id) {
                tracing::info!("removing unlisted samples of interrupted run {id}");
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        Ok(())
    }

    /// Every visible run, oldest first. Unreadable manifests are skipped with a warning.
    pub fn runs(&self) -> Result<Vec<RunManifest>, StoreError> {
        let dir = self.layout.runs_dir();
        let mut runs = Vec::new();
        for entry in fs::read_dir(&dir)
            .map_err(|e| StoreError::io(&dir, e))?
            .flatten()
        {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".json") else {
                continue;
            };
            if RunId::parse(stem).is_err() {
                continue;
            }
            match read_manifest(&path) {
                Ok(m) if m.status != RunStatus::Importing => runs.push(m),
                Ok(_) => {}
                Err(e) => tracing::warn!("skipping {e}"),
            }
        }
        runs.sort_by(|a, b| a.run_id.cmp(&b.run_id));
        Ok(runs)
    }

    /// The manifest of run `id`.
    pub fn run(&self, id: &str) -> Result<RunManifest, StoreError> {
        let id = RunId::parse(id).map_err(|_| StoreError::NoSuchRun(id.to_string()))?;
        let path = self.layout.manifest_path(&id);
        if !path.exists() {
            return Err(StoreError::NoSuchRun(id.to_string()));
        }
        read_manifest(&path)
    }

    /// The visible run that already holds a source with this content hash, if any.
    pub fn find_source_hash(&self, hash: &str) -> Result<Option<RunManifest>, StoreError> {
        Ok(self
            .runs()?
            .into_iter()
            .find(|m| m.sources.iter().any(|s| s.content_hash == hash)))
    }

    /// Deletes a run: its manifest first (so it disappears at once), then its files.
    pub fn delete_run(&self, id: &str) -> Result<(), StoreError> {
        let manifest = self.run(id)?;
        let id = manifest.run_id;
        let path = self.layout.manifest_path(&id);
        fs::remove_file(&path).map_err(|e| StoreError::io(&path, e))?;
        let _ = fs::remove_file(self.layout.rejects_path(&id));
        self.remove_live(&id);
        let dir = self.layout.run_samples_dir(&id);
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        }
        Ok(())
    }
}

fn read_manifest(path: &Path) -> Result<RunManifest, StoreError> {
    let bytes = fs::read(path).map_err(|e| StoreError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|source| StoreError::Manifest {
        path: path.to_path_buf(),
        source,
    })
}
