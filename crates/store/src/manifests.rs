//! [`ManifestCache`]: the parsed manifests of `runs/`, re-read only when their file changes.
//!
//! Listing runs is on the path of every report, upload (duplicate check) and `ListRuns` of a
//! server, and a store holds thousands of runs: parsing every manifest each time made each
//! request slower as history grew. A manifest is only ever replaced by an atomic rename, which
//! gives it a new inode, so (inode, length, mtime) tells a changed file from a known one.

use std::collections::HashMap;
use std::fs::{self, Metadata};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use loadlake_schema::RunManifest;

use crate::error::StoreError;

/// What identifies one version of a manifest file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    ino: u64,
    len: u64,
    mtime_ns: i128,
}

impl Stamp {
    fn of(meta: &Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        Stamp {
            ino: meta.ino(),
            len: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        }
    }
}

/// Manifest file name → the version last read and what it said.
type Entries = HashMap<String, (Stamp, Arc<RunManifest>)>;

/// Parsed manifests by file name, shared by the clones of a store.
#[derive(Debug, Default, Clone)]
pub(crate) struct ManifestCache {
    entries: Arc<Mutex<Entries>>,
}

impl ManifestCache {
    /// The manifest at `path` (a file named `name` in `runs/`), parsed again only if the file
    /// changed since it was last read.
    pub(crate) fn read(&self, name: &str, path: &Path) -> Result<Arc<RunManifest>, StoreError> {
        let meta = fs::metadata(path).map_err(|e| StoreError::io(path, e))?;
        self.read_with(name, path, &meta)
    }

    fn read_with(
        &self,
        name: &str,
        path: &Path,
        meta: &Metadata,
    ) -> Result<Arc<RunManifest>, StoreError> {
        let stamp = Stamp::of(meta);
        if let Some((known, manifest)) = self.lock().get(name)
            && *known == stamp
        {
            return Ok(Arc::clone(manifest));
        }
        let manifest = Arc::new(read_manifest(path)?);
        self.lock()
            .insert(name.to_string(), (stamp, Arc::clone(&manifest)));
        Ok(manifest)
    }

    /// Every manifest of `dir` whose name passes `is_manifest`, with a warning for each that
    /// cannot be read; entries of files gone from `dir` are dropped.
    pub(crate) fn read_dir(
        &self,
        dir: &Path,
        is_manifest: impl Fn(&str) -> bool,
    ) -> Result<Vec<Arc<RunManifest>>, StoreError> {
        let mut seen = Vec::new();
        let mut manifests = Vec::new();
        for entry in fs::read_dir(dir)
            .map_err(|e| StoreError::io(dir, e))?
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !is_manifest(&name) {
                continue;
            }
            let path = entry.path();
            // A manifest deleted between the listing and now is simply not there.
            let Ok(meta) = fs::metadata(&path) else {
                continue;
            };
            match self.read_with(&name, &path, &meta) {
                Ok(m) => manifests.push(m),
                Err(e) => tracing::warn!("skipping {e}"),
            }
            seen.push(name);
        }
        let mut entries = self.lock();
        if entries.len() > seen.len() {
            let seen: std::collections::HashSet<String> = seen.into_iter().collect();
            entries.retain(|name, _| seen.contains(name));
        }
        Ok(manifests)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // The map holds no invariant a panicking holder could break half way.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Parses the manifest at `path`.
pub(crate) fn read_manifest(path: &Path) -> Result<RunManifest, StoreError> {
    let bytes = fs::read(path).map_err(|e| StoreError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|source| StoreError::Manifest {
        path: path.to_path_buf(),
        source,
    })
}
