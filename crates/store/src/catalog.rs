//! [`Store`]: opens a store directory, starts run writers, lists, finds and deletes runs, and
//! recovers or cleans up what crashed writers left behind.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use loadlake_schema::{RunId, RunManifest, RunStatus};
use object_store::ObjectStore;

use crate::deletion::DELETED_RUN_GRACE;
use crate::error::StoreError;
use crate::filter::RunFilter;
use crate::layout::Layout;
use crate::location::StoreLocation;
use crate::manifests::ManifestCache;
use crate::merged_rollups::MergedCache;
use crate::recover::{recover_run, remove_file_if_present};
use crate::remote::{ObjectStorage, Remote};
use crate::writer::{RunWriter, WriterOptions};

/// The reason kept in the manifest of a run recovered when the store is opened.
const DIED_REASON: &str = "its writer stopped (killed or crashed) before committing it";

/// A file to spool an upload into (`tmp/upload-*`), locked while it lives: the store never
/// removes it under its owner, and removes it once its owner is gone (a crash included).
pub(crate) type SpoolFile = tempfile::NamedTempFile;

/// A store: a local directory, or a prefix on object storage ([`crate::remote`]).
#[derive(Debug, Clone)]
pub struct Store {
    layout: Layout,
    manifests: ManifestCache,
    /// The newest consolidated rollup read (`merged_rollups.rs`).
    merged: Arc<MergedCache>,
    /// Set for a store on object storage; `layout` then holds keys relative to its prefix and
    /// is never used on the local file system.
    remote: Option<Arc<Remote>>,
}

impl Store {
    /// Opens (creating if needed) the store at `root`, and [recovers](Self::recover) what dead
    /// writers left. A recovery that fails (a read-only or full disk) is logged, not returned:
    /// the store can still be read, and the next open tries again.
    pub fn open(root: impl AsRef<Path>) -> Result<Store, StoreError> {
        let layout = Layout::new(root.as_ref());
        for dir in [
            layout.samples_dir(),
            layout.rollups_dir(),
            layout.runs_dir(),
            layout.tmp_dir(),
            layout.deleted_dir(),
        ] {
            fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        }
        let store = Store {
            layout,
            manifests: ManifestCache::default(),
            merged: Arc::default(),
            remote: None,
        };
        if let Err(e) = store.recover() {
            tracing::error!("recovering interrupted runs: {e}");
        }
        Ok(store)
    }

    /// Opens the store at `location`: a local directory ([`Store::open`]) or a prefix in an S3
    /// bucket, whose reachability (bucket, credentials) is checked at once.
    pub fn open_location(location: &StoreLocation) -> Result<Store, StoreError> {
        match (Remote::connect(location)?, location) {
            (Some(remote), _) => Store::with_remote(remote),
            (None, StoreLocation::Local(dir)) => Store::open(dir),
            (None, StoreLocation::S3 { .. }) => Err(StoreError::Runtime(
                "no client for an s3:// location".into(),
            )),
        }
    }

    /// Opens the store under `prefix` of `objects` (an `object_store` client known to
    /// DataFusion as `url`, e.g. `memory://test` for an `InMemory` store): tests, and object
    /// stores the CLI cannot name yet.
    pub fn open_object_store(
        objects: Arc<dyn ObjectStore>,
        url: &str,
        prefix: &str,
    ) -> Result<Store, StoreError> {
        Store::with_remote(Remote::new(objects, url, prefix))
    }

    fn with_remote(remote: Remote) -> Result<Store, StoreError> {
        remote.check()?;
        let store = Store {
            layout: Layout::new(""),
            manifests: ManifestCache::default(),
            merged: Arc::default(),
            remote: Some(Arc::new(remote)),
        };
        if let Err(e) = store.recover() {
            tracing::error!("recovering runs whose writers stopped: {e}");
        }
        Ok(store)
    }

    /// The newest consolidated rollup read, shared by the store's clones.
    pub(crate) fn merged_cache(&self) -> &MergedCache {
        &self.merged
    }

    /// The store on object storage, if it is one.
    pub(crate) fn remote(&self) -> Option<&Arc<Remote>> {
        self.remote.as_ref()
    }

    /// Whether the store is on object storage (else a local directory).
    pub fn is_remote(&self) -> bool {
        self.remote.is_some()
    }

    /// For a store on object storage, what its queries need (`None` for a local directory).
    pub fn object_storage(&self) -> Result<Option<ObjectStorage>, StoreError> {
        self.remote.as_ref().map(|r| r.storage()).transpose()
    }

    /// Where the store is, for messages: its directory or its `s3://bucket/prefix`.
    pub fn describe(&self) -> String {
        match &self.remote {
            Some(remote) => remote.display(),
            None => self.layout.root().display().to_string(),
        }
    }

    /// Where run `id`'s rejected rows are kept, for messages.
    pub fn rejects_location(&self, id: &RunId) -> String {
        match &self.remote {
            Some(remote) => remote.url_of(&crate::remote::rejects_key(id)),
            None => self.layout.rejects_path(id).display().to_string(),
        }
    }

    /// Paths of this store (a local one; for a store on object storage, keys relative to its
    /// prefix: see [`Store::is_remote`]).
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Starts a new run with a fresh id; the run is invisible until committed.
    pub fn begin_run(&self, options: WriterOptions) -> Result<RunWriter, StoreError> {
        if let Some(remote) = &self.remote {
            return begin_remote_run(remote, options);
        }
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
            // A recovery may have claimed the new lock file before we locked it, and removed it:
            // then our lock guards nothing, and the id is not ours.
            if !same_file(&lock, &lock_path)
                || self.layout.manifest_path(&id).exists()
                || self.layout.run_samples_dir(&id).exists()
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

    /// Whether run `id` is being written now by a writer whose samples can be read before
    /// its commit (`live_samples`): one that holds the run's lock and has staged parts, or, on
    /// object storage, one whose draft is fresh.
    pub fn is_being_written(&self, id: &RunId) -> Result<bool, StoreError> {
        if self.remote.is_some() {
            return self.remote_writer_alive(id);
        }
        Ok(self.writer_alive(id) && self.layout.staging_dir(id).exists())
    }

    /// True if a live writer holds the lock of run `id`.
    pub(crate) fn writer_alive(&self, id: &RunId) -> bool {
        if self.remote.is_some() {
            return false; // no locks on object storage
        }
        let Ok(f) = File::open(self.layout.lock_path(id)) else {
            return false;
        };
        match f.try_lock() {
            Ok(()) => false,
            Err(std::fs::TryLockError::WouldBlock) => true,
            Err(std::fs::TryLockError::Error(_)) => false,
        }
    }

    /// Finishes what dead writers left: runs whose writer recorded a draft (streams, live
    /// runs: their samples were acknowledged) are committed with their complete parts, as
    /// `incomplete` with a `status_reason`; leftovers of the others (imports) are removed, as
    /// are spool files nobody holds. Runs whose writer is alive are not touched. Returns the
    /// runs made visible. [`open`](Self::open) calls it; a long-lived server may call it again.
    pub fn recover(&self) -> Result<Vec<RunManifest>, StoreError> {
        if self.remote.is_some() {
            // Runs whose writers acknowledged samples and went silent are committed; what
            // other dead writers left is never read (the garbage collector removes it).
            return self.recover_remote(crate::remote_live::REMOTE_WRITER_STALE_AFTER);
        }
        let tmp = self.layout.tmp_dir();
        let mut ids = BTreeSet::new();
        for entry in fs::read_dir(&tmp).map_err(|e| StoreError::io(&tmp, e))? {
            let entry = entry.map_err(|e| StoreError::io(&tmp, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(Layout::SPOOL_PREFIX) {
                self.remove_stale_spool(&entry.path());
            } else if let Some(id) = Layout::tmp_entry_run(&name) {
                ids.insert(id);
            }
        }
        // A crash while writing a manifest or rejects file leaves its temporary file.
        let runs = self.layout.runs_dir();
        for entry in fs::read_dir(&runs).map_err(|e| StoreError::io(&runs, e))? {
            let entry = entry.map_err(|e| StoreError::io(&runs, e))?;
            if let Some(id) = Layout::half_written_run(&entry.file_name().to_string_lossy()) {
                ids.insert(id);
            }
        }
        // A crash between moving the samples and writing the manifest leaves an unlisted dir.
        let samples = self.layout.samples_dir();
        for entry in fs::read_dir(&samples).map_err(|e| StoreError::io(&samples, e))? {
            let entry = entry.map_err(|e| StoreError::io(&samples, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(id) = name
                .strip_prefix("run_id=")
                .and_then(|s| RunId::parse(s).ok())
                && !self.layout.manifest_path(&id).exists()
                && !self.layout.tombstone_path(&id).exists()
            {
                ids.insert(id);
            }
        }
        let mut recovered = Vec::new();
        let mut first_error = None;
        for id in ids {
            let Some(claim) = self.claim_dead_run(&id)? else {
                continue; // its writer is alive
            };
            match recover_run(&self.layout, &id, DIED_REASON) {
                Ok(Some(manifest)) => recovered.push(manifest),
                Ok(None) => {}
                Err(e) => {
                    tracing::error!("run {id}: recovery failed, kept for the next try: {e}");
                    first_error.get_or_insert(e);
                }
            }
            drop(claim);
            remove_file_if_present(&self.layout.lock_path(&id))?;
        }
        if let Err(e) = self.purge_deleted(DELETED_RUN_GRACE) {
            tracing::error!("removing the samples of deleted runs: {e}");
            first_error.get_or_insert(e);
        }
        match first_error {
            Some(e) if recovered.is_empty() => Err(e),
            _ => Ok(recovered),
        }
    }

    /// Locks run `id` if its writer is gone (creating its lock file if the writer removed it);
    /// `None` if a live writer holds it.
    fn claim_dead_run(&self, id: &RunId) -> Result<Option<File>, StoreError> {
        let path = self.layout.lock_path(id);
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(StoreError::io(&path, e)),
        }
    }

    /// Removes spool file `path` if no one holds it.
    fn remove_stale_spool(&self, path: &Path) {
        let Ok(file) = File::open(path) else {
            return;
        };
        if file.try_lock().is_ok() {
            tracing::info!(
                "removing the spool of an interrupted upload: {}",
                path.display()
            );
            let _ = fs::remove_file(path);
        }
    }

    /// A new spool file for an upload under `tmp/`, locked until dropped.
    pub fn spool_file(&self) -> Result<SpoolFile, StoreError> {
        if self.remote.is_some() {
            // The spool is local scratch space; the system's temporary directory holds it.
            let tmp = std::env::temp_dir();
            return tempfile::Builder::new()
                .prefix("loadlake-upload-")
                .tempfile()
                .map_err(|e| StoreError::io(&tmp, e));
        }
        let tmp = self.layout.tmp_dir();
        for _ in 0..16 {
            let spool = tempfile::Builder::new()
                .prefix(Layout::SPOOL_PREFIX)
                .tempfile_in(&tmp)
                .map_err(|e| StoreError::io(&tmp, e))?;
            spool
                .as_file()
                .lock()
                .map_err(|e| StoreError::io(spool.path(), e))?;
            // A cleanup may have taken it for a dead upload's between creation and lock.
            if same_file(spool.as_file(), spool.path()) {
                return Ok(spool);
            }
        }
        Err(StoreError::IdExhausted(tmp))
    }

    /// Every visible run, oldest first. Unreadable manifests are skipped with a warning.
    pub fn runs(&self) -> Result<Vec<RunManifest>, StoreError> {
        let mut runs: Vec<RunManifest> = self
            .visible_manifests()?
            .into_iter()
            .map(|m| RunManifest::clone(&m))
            .collect();
        runs.sort_by(|a, b| a.run_id.cmp(&b.run_id));
        Ok(runs)
    }

    /// The manifests of the runs [`Store::runs`] lists, as cached (unsorted, not cloned).
    pub(crate) fn visible_manifests(&self) -> Result<Vec<Arc<RunManifest>>, StoreError> {
        let is_manifest = |name: &str| {
            name.strip_suffix(".json")
                .is_some_and(|stem| RunId::parse(stem).is_ok())
        };
        let mut manifests = match &self.remote {
            Some(remote) => remote.manifests()?,
            None => self
                .manifests
                .read_dir(&self.layout.runs_dir(), is_manifest)?,
        };
        manifests.retain(|m| m.status != RunStatus::Importing);
        Ok(manifests)
    }

    /// The runs `filter` takes, oldest first (see [`RunFilter::select`]).
    pub fn select_runs(&self, filter: &RunFilter) -> Result<Vec<RunManifest>, StoreError> {
        Ok(filter.select(self.runs()?))
    }

    /// The runs `filter` takes by every condition but `last`, unsorted, as cached: not
    /// copied, so that a listing of thousands of runs copies only the page it shows.
    pub fn matching_runs(&self, filter: &RunFilter) -> Result<Vec<Arc<RunManifest>>, StoreError> {
        let mut runs = self.visible_manifests()?;
        runs.retain(|m| filter.matches(m));
        Ok(runs)
    }

    /// The manifest of run `id`.
    pub fn run(&self, id: &str) -> Result<RunManifest, StoreError> {
        let id = RunId::parse(id).map_err(|_| StoreError::NoSuchRun(id.to_string()))?;
        if let Some(remote) = &self.remote {
            return remote
                .manifest(&id)?
                .ok_or_else(|| StoreError::NoSuchRun(id.to_string()));
        }
        let path = self.layout.manifest_path(&id);
        let name = format!("{id}.json");
        match self.manifests.read(&name, &path) {
            Ok(manifest) => Ok(RunManifest::clone(&manifest)),
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Err(StoreError::NoSuchRun(id.to_string()))
            }
            Err(e) => Err(e),
        }
    }

    /// The visible run that already holds a source with this content hash, if any.
    pub fn find_source_hash(&self, hash: &str) -> Result<Option<RunManifest>, StoreError> {
        Ok(self
            .runs()?
            .into_iter()
            .find(|m| m.sources.iter().any(|s| s.content_hash == hash)))
    }
}

/// A writer of a new run on object storage: a fresh id (not taken yet; the manifest's
/// conditional create settles a race) and a fresh write attempt.
fn begin_remote_run(remote: &Arc<Remote>, options: WriterOptions) -> Result<RunWriter, StoreError> {
    for _ in 0..16 {
        let id = RunId::generate(Utc::now());
        if !remote.exists(&crate::remote::manifest_key(&id))? {
            return Ok(RunWriter::new_remote(Arc::clone(remote), id, options));
        }
    }
    Err(StoreError::IdExhausted(remote.display().into()))
}

/// Whether the open `file` is still the file at `path` (same device and inode).
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}
