//! Consolidated rollups: the rollups of many runs in one Parquet file, so that a trend over a
//! thousand runs opens one file instead of a thousand (issue 16).
//!
//! ```text
//! rollups/run_id=<id>/rollup.parquet          per-run rollup: the source of truth (rollup_files.rs)
//! rollups/merged/<generation>-<attempt>.parquet  the rows of many per-run rollups, with run_id
//! rollups/merged/<generation>.json               commits that generation: its file, size, runs
//! ```
//!
//! **Why a numbered descriptor.** A store on object storage is shared by servers and CLI
//! processes with no locks, only atomic PUTs and conditional creates. A consolidation PUTs its
//! Parquet file under a name no one else uses (the generation and a random attempt id), then
//! commits it by creating `<generation>.json` with `PutMode::Create` (locally: a hard link,
//! which fails if the name exists). The descriptor names the file and lists the runs it covers
//! (runs with no rows included, so they are not read again from their own files). Readers list
//! `rollups/merged/` and take the **highest committed generation only**: a run is read from
//! that one file if it covers the run, else from its per-run file — never from both, so nothing
//! is counted twice. Two writers that consolidate at once both aim at `last + 1`: one create
//! wins; the other removes its file and gives up (the winner's file is as correct as its own).
//! A writer that dies leaves at most an unreferenced Parquet file (never read; removed by
//! [`Store::collect_merged_rollups`] after [`ORPHAN_GRACE`](crate::ORPHAN_GRACE)) or a
//! temporary file locally (not `*.json`/`*.parquet` names readers look at).
//!
//! **Deleted runs.** A consolidated file keeps the rows of runs deleted after it was written;
//! readers keep only the rows of runs that still exist (the store's runs minus
//! [`Store::deleted_runs`], see [`Store::rollup_snapshot`]), whether deletion removes the files
//! or only tombstones them. The next consolidation leaves them out.
//!
//! **Old generations.** A generation superseded for longer than
//! [`DELETED_RUN_GRACE`](crate::DELETED_RUN_GRACE) (queries planned before still read it) is
//! removed with its file by [`Store::collect_merged_rollups`], which consolidations call.

use std::collections::{BTreeSet, HashSet};
use std::fs::{self, File};
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use chrono::Utc;
use loadlake_schema::RunId;
use object_store::PutMode;
use serde::{Deserialize, Serialize};

use crate::catalog::Store;
use crate::error::StoreError;
use crate::remote::{attempt_id, rollup_key};
use crate::writer::fsync_dir;

/// `rollups/merged`, relative to the store.
const MERGED_DIR: &str = "rollups/merged";

/// Above this many runs to look up, a store on object storage lists `rollups/` once rather
/// than asking for each run's rollup (one request each).
const HEADS_BEFORE_LISTING: usize = 16;

/// A rollup file as a query engine reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupObject {
    /// Its key relative to the store (`rollups/…`): under the store's directory, or under its
    /// prefix on object storage.
    pub rel: String,
    /// Its size, bytes.
    pub size: u64,
}

/// A committed consolidated rollup (one generation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedRollup {
    /// Its generation: readers take the highest.
    pub generation: u64,
    /// Its Parquet file.
    pub file: RollupObject,
    /// The runs whose rollups it holds (with or without rows).
    pub runs: Arc<BTreeSet<RunId>>,
}

/// What the `rollups` table reads at one moment.
#[derive(Debug, Clone, Default)]
pub struct RollupSnapshot {
    /// The newest consolidated rollup, if any.
    pub merged: Option<MergedRollup>,
    /// The runs that exist (committed, not deleted).
    pub live: HashSet<RunId>,
    /// The per-run rollup files of the runs that exist, that the consolidated rollup does not
    /// cover (and that were asked for, if [`Store::rollup_snapshot`] was given a list).
    pub per_run: Vec<(RunId, RollupObject)>,
}

impl RollupSnapshot {
    /// The runs of the consolidated rollup that still exist (empty without one).
    pub fn merged_live(&self) -> BTreeSet<RunId> {
        match &self.merged {
            Some(m) => m
                .runs
                .iter()
                .filter(|r| self.live.contains(*r))
                .cloned()
                .collect(),
            None => BTreeSet::new(),
        }
    }

    /// Whether run `id`'s rollup is readable (in the consolidated file or its own).
    pub fn covers(&self, id: &RunId) -> bool {
        self.merged.as_ref().is_some_and(|m| m.runs.contains(id))
            || self.per_run.iter().any(|(r, _)| r == id)
    }
}

/// What `<generation>.json` holds.
#[derive(Debug, Serialize, Deserialize)]
struct Descriptor {
    format: u32,
    /// The Parquet file's name inside `rollups/merged/`.
    file: String,
    size: u64,
    runs: Vec<RunId>,
}

/// The last descriptor read, by generation (descriptors never change once created).
#[derive(Debug, Default)]
pub(crate) struct MergedCache(Mutex<Option<MergedRollup>>);

fn descriptor_name(generation: u64) -> String {
    format!("{generation:020}.json")
}

/// The generation of descriptor `name` (`<20 digits>.json`), if it is one.
fn generation_of(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".json")?;
    (stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()))
        .then(|| stem.parse().ok())
        .flatten()
}

/// A file of `rollups/merged/` as listed: name and age.
struct Listed {
    name: String,
    age: Duration,
}

impl Store {
    /// Lists `rollups/merged/` (nothing there: empty).
    fn list_merged(&self) -> Result<Vec<Listed>, StoreError> {
        if let Some(remote) = self.remote() {
            let now = Utc::now();
            return Ok(remote
                .list(&format!("{MERGED_DIR}/"))?
                .into_iter()
                .filter_map(|(rel, meta)| {
                    let name = rel.strip_prefix(&format!("{MERGED_DIR}/"))?.to_string();
                    let age = (now - meta.last_modified).to_std().unwrap_or_default();
                    Some(Listed { name, age })
                })
                .collect());
        }
        let dir = self.layout().merged_rollups_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::io(&dir, e)),
        };
        let now = SystemTime::now();
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io(&dir, e))?;
            let Ok(meta) = entry.metadata() else {
                continue; // removed since the listing
            };
            let age = meta
                .modified()
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .unwrap_or_default();
            out.push(Listed {
                name: entry.file_name().to_string_lossy().into_owned(),
                age,
            });
        }
        Ok(out)
    }

    /// Reads `rollups/merged/<name>`, `None` if it is not there.
    fn read_merged(&self, name: &str) -> Result<Option<Bytes>, StoreError> {
        if let Some(remote) = self.remote() {
            return remote.get(&format!("{MERGED_DIR}/{name}"));
        }
        let path = self.layout().merged_rollups_dir().join(name);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(Bytes::from(bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io(&path, e)),
        }
    }

    /// The newest committed consolidated rollup, if any.
    pub fn merged_rollup(&self) -> Result<Option<MergedRollup>, StoreError> {
        let listed = self.list_merged()?;
        self.newest_merged(&listed)
    }

    fn newest_merged(&self, listed: &[Listed]) -> Result<Option<MergedRollup>, StoreError> {
        let mut generations: Vec<u64> = listed
            .iter()
            .filter_map(|l| generation_of(&l.name))
            .collect();
        generations.sort_unstable_by_key(|g| std::cmp::Reverse(*g));
        let cache = &self.merged_cache().0;
        for generation in generations {
            if let Some(m) = cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                && m.generation == generation
            {
                return Ok(Some(m.clone()));
            }
            let name = descriptor_name(generation);
            let Some(bytes) = self.read_merged(&name)? else {
                continue; // removed since the listing: an older one
            };
            let d: Descriptor = match serde_json::from_slice(&bytes) {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!("skipping consolidated rollup {MERGED_DIR}/{name}: {e}");
                    continue;
                }
            };
            let merged = MergedRollup {
                generation,
                file: RollupObject {
                    rel: format!("{MERGED_DIR}/{}", d.file),
                    size: d.size,
                },
                runs: Arc::new(d.runs.into_iter().collect()),
            };
            *cache.lock().unwrap_or_else(PoisonError::into_inner) = Some(merged.clone());
            return Ok(Some(merged));
        }
        Ok(None)
    }

    /// What the `rollups` table reads now: the newest consolidated rollup, the runs that exist,
    /// and the per-run rollup files of the existing runs it does not cover — of the runs in
    /// `wanted` only, if given (a query that names its runs).
    pub fn rollup_snapshot(
        &self,
        wanted: Option<&HashSet<RunId>>,
    ) -> Result<RollupSnapshot, StoreError> {
        let deleted = self.deleted_runs()?;
        let live: HashSet<RunId> = self
            .visible_manifests()?
            .iter()
            .map(|m| m.run_id.clone())
            .filter(|id| !deleted.contains(id))
            .collect();
        let merged = self.merged_rollup()?;
        let mut missing: Vec<&RunId> = live
            .iter()
            .filter(|id| wanted.is_none_or(|w| w.contains(*id)))
            .filter(|id| !merged.as_ref().is_some_and(|m| m.runs.contains(*id)))
            .collect();
        missing.sort();
        let per_run = self.rollup_files(&missing)?;
        Ok(RollupSnapshot {
            merged,
            live,
            per_run,
        })
    }

    /// The per-run rollup files of `ids` that exist.
    fn rollup_files(&self, ids: &[&RunId]) -> Result<Vec<(RunId, RollupObject)>, StoreError> {
        let mut out = Vec::new();
        match self.remote() {
            Some(remote) if ids.len() > HEADS_BEFORE_LISTING => {
                let want: HashSet<&str> = ids.iter().map(|id| id.as_str()).collect();
                for (rel, meta) in remote.list("rollups/")? {
                    let Some(id) = rel
                        .strip_prefix("rollups/run_id=")
                        .and_then(|r| r.strip_suffix("/rollup.parquet"))
                    else {
                        continue;
                    };
                    if want.contains(id)
                        && let Ok(id) = RunId::parse(id)
                    {
                        out.push((
                            id,
                            RollupObject {
                                rel,
                                size: meta.size,
                            },
                        ));
                    }
                }
                out.sort_by(|a, b| a.0.cmp(&b.0));
            }
            Some(remote) => {
                for id in ids {
                    let rel = rollup_key(id.as_str());
                    if let Some(size) = remote.head(&rel)?.map(|meta| meta.size) {
                        out.push(((*id).clone(), RollupObject { rel, size }));
                    }
                }
            }
            None => {
                for id in ids {
                    let rel = rollup_key(id.as_str());
                    let path = self.layout().root().join(&rel);
                    match fs::metadata(&path) {
                        Ok(meta) => out.push((
                            (*id).clone(),
                            RollupObject {
                                rel,
                                size: meta.len(),
                            },
                        )),
                        // No file, or something else where its directory would be.
                        Err(e)
                            if matches!(
                                e.kind(),
                                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                            ) => {}
                        Err(e) => return Err(StoreError::io(&path, e)),
                    }
                }
            }
        }
        Ok(out)
    }

    /// Commits `bytes` (Parquet with a `run_id` column) as the consolidated rollup of `runs`,
    /// generation `after + 1` (`after`: the generation it was computed from, `None` for the
    /// first). Returns it, or `None` if another writer committed that generation first (then
    /// nothing of this one is kept).
    pub fn put_merged_rollup(
        &self,
        after: Option<u64>,
        runs: &BTreeSet<RunId>,
        bytes: Vec<u8>,
    ) -> Result<Option<MergedRollup>, StoreError> {
        let generation = after.map_or(1, |g| g + 1);
        let file = format!("{generation:020}-{}.parquet", attempt_id());
        let size = bytes.len() as u64;
        let descriptor = serde_json::to_vec(&Descriptor {
            format: 1,
            file: file.clone(),
            size,
            runs: runs.iter().cloned().collect(),
        })
        .map_err(|e| StoreError::Runtime(format!("encoding a rollup descriptor: {e}")))?;
        let name = descriptor_name(generation);
        let committed = match self.remote() {
            Some(remote) => {
                remote.put(
                    &format!("{MERGED_DIR}/{file}"),
                    Bytes::from(bytes),
                    PutMode::Overwrite,
                )?;
                let created = remote.put(
                    &format!("{MERGED_DIR}/{name}"),
                    Bytes::from(descriptor),
                    PutMode::Create,
                )?;
                if !created {
                    remote.delete(&format!("{MERGED_DIR}/{file}"))?;
                }
                created
            }
            None => self.put_merged_locally(&file, &bytes, &name, &descriptor)?,
        };
        if !committed {
            return Ok(None);
        }
        let merged = MergedRollup {
            generation,
            file: RollupObject {
                rel: format!("{MERGED_DIR}/{file}"),
                size,
            },
            runs: Arc::new(runs.clone()),
        };
        *self
            .merged_cache()
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(merged.clone());
        Ok(Some(merged))
    }

    /// The local commit: the Parquet file by temporary file, fsync and rename (its name is this
    /// attempt's own), the descriptor by a hard link of a fsynced temporary file, which fails if
    /// another writer created it first. `false`: that happened.
    fn put_merged_locally(
        &self,
        file: &str,
        bytes: &[u8],
        name: &str,
        descriptor: &[u8],
    ) -> Result<bool, StoreError> {
        let dir = self.layout().merged_rollups_dir();
        fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        let parquet = dir.join(file);
        let tmp = dir.join(format!(".{file}.tmp"));
        write_synced(&tmp, bytes)?;
        if let Err(e) = fs::rename(&tmp, &parquet) {
            let _ = fs::remove_file(&tmp);
            return Err(StoreError::io(&parquet, e));
        }
        let tmp = dir.join(format!(".{file}.json.tmp"));
        write_synced(&tmp, descriptor)?;
        let target = dir.join(name);
        let linked = fs::hard_link(&tmp, &target);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                fsync_dir(&dir)?;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let _ = fs::remove_file(&parquet);
                Ok(false)
            }
            Err(e) => {
                let _ = fs::remove_file(&parquet);
                Err(StoreError::io(&target, e))
            }
        }
    }

    /// Removes superseded generations (once the next one is older than `grace`: queries planned
    /// before may still read them), Parquet files no descriptor names and temporary files
    /// older than `orphan_grace` (their writer died or lost). Returns how many files it removed.
    pub fn collect_merged_rollups(
        &self,
        grace: Duration,
        orphan_grace: Duration,
    ) -> Result<usize, StoreError> {
        let listed = self.list_merged()?;
        let mut generations: Vec<(u64, Duration)> = listed
            .iter()
            .filter_map(|l| generation_of(&l.name).map(|g| (g, l.age)))
            .collect();
        generations.sort_unstable_by_key(|g| std::cmp::Reverse(g.0));
        // Generations superseded long enough: every one below the newest whose successor (any
        // newer committed one) is older than `grace`.
        let mut oldest_newer: Option<Duration> = None;
        let mut keep: HashSet<u64> = HashSet::new();
        let mut drop: HashSet<u64> = HashSet::new();
        for &(generation, age) in &generations {
            match oldest_newer {
                Some(newer_age) if newer_age >= grace => {
                    drop.insert(generation);
                }
                _ => {
                    keep.insert(generation);
                }
            }
            oldest_newer = Some(oldest_newer.map_or(age, |a| a.max(age)));
        }
        let generation_of_file = |name: &str| -> Option<u64> {
            name.split_once('-').and_then(|(g, rest)| {
                (g.len() == 20 && rest.ends_with(".parquet"))
                    .then(|| g.parse().ok())
                    .flatten()
            })
        };
        // The files the kept descriptors name.
        let mut named: HashSet<String> = HashSet::new();
        for generation in &keep {
            if let Some(bytes) = self.read_merged(&descriptor_name(*generation))?
                && let Ok(d) = serde_json::from_slice::<Descriptor>(&bytes)
            {
                named.insert(d.file);
            }
        }
        let mut removed = 0;
        for l in &listed {
            let remove = if let Some(g) = generation_of(&l.name) {
                drop.contains(&g)
            } else if let Some(g) = generation_of_file(&l.name) {
                !named.contains(&l.name) && (drop.contains(&g) || l.age >= orphan_grace)
            } else {
                l.name.starts_with('.') && l.age >= orphan_grace
            };
            if remove {
                self.remove_merged(&l.name)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn remove_merged(&self, name: &str) -> Result<(), StoreError> {
        if let Some(remote) = self.remote() {
            return remote.delete(&format!("{MERGED_DIR}/{name}"));
        }
        let path = self.layout().merged_rollups_dir().join(name);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io(&path, e)),
        }
    }
}

/// Writes `bytes` to a new file at `path` and fsyncs it.
fn write_synced(path: &std::path::Path, bytes: &[u8]) -> Result<(), StoreError> {
    let written = File::create(path).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    written.map_err(|e| {
        let _ = fs::remove_file(path);
        StoreError::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_names_order_by_generation() {
        assert_eq!(descriptor_name(7), "00000000000000000007.json");
        assert_eq!(generation_of(&descriptor_name(12)), Some(12));
        assert_eq!(generation_of("00000000000000000007-ab.parquet"), None);
        assert_eq!(generation_of("7.json"), None);
        assert!(descriptor_name(9) < descriptor_name(10));
    }

    fn run(n: u8) -> RunId {
        RunId::parse(&format!("20261205-1200{n:02}-abcd")).unwrap()
    }

    /// Generations on `store` (any bytes will do: the store does not read them): a lost race
    /// keeps nothing, readers see the newest, and the cleanup keeps what the newest needs.
    fn generations_commit_once_and_superseded_ones_go(open: &dyn Fn() -> Store) {
        let store = &open();
        assert_eq!(store.merged_rollup().unwrap(), None);
        let runs: BTreeSet<RunId> = [run(1), run(2)].into();
        let first = store
            .put_merged_rollup(None, &runs, b"first".to_vec())
            .unwrap()
            .unwrap();
        assert_eq!(first.generation, 1);
        // Another writer that also started from no generation loses, and leaves nothing.
        assert_eq!(
            store
                .put_merged_rollup(None, &runs, b"late".to_vec())
                .unwrap(),
            None
        );
        let names = |store: &Store| {
            let mut n: Vec<String> = store
                .list_merged()
                .unwrap()
                .into_iter()
                .map(|l| l.name)
                .collect();
            n.sort();
            n
        };
        assert_eq!(names(store).len(), 2, "{:?}", names(store));
        let more: BTreeSet<RunId> = [run(1), run(2), run(3)].into();
        let second = store
            .put_merged_rollup(Some(1), &more, b"second".to_vec())
            .unwrap()
            .unwrap();
        assert_eq!(second.generation, 2);
        // Readers take the newest, this handle (which wrote it) and a fresh one alike.
        assert_eq!(store.merged_rollup().unwrap(), Some(second.clone()));
        assert_eq!(open().merged_rollup().unwrap(), Some(second.clone()));
        assert_eq!(*second.runs, more);
        // Superseded just now: kept for the grace period, removed after.
        assert_eq!(
            store
                .collect_merged_rollups(Duration::from_secs(600), Duration::from_secs(600))
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .collect_merged_rollups(Duration::ZERO, Duration::ZERO)
                .unwrap(),
            2
        );
        let rest = names(store);
        assert_eq!(rest.len(), 2);
        assert!(rest.contains(&descriptor_name(2)), "{rest:?}");
        assert!(rest.contains(&second.file.rel.rsplit('/').next().unwrap().to_string()));
        assert_eq!(store.merged_rollup().unwrap(), Some(second));
    }

    #[test]
    fn generations_on_a_local_directory() {
        let dir = tempfile::tempdir().unwrap();
        generations_commit_once_and_superseded_ones_go(&|| Store::open(dir.path()).unwrap());
    }

    #[test]
    fn generations_on_object_storage() {
        let objects = Arc::new(object_store::memory::InMemory::new());
        generations_commit_once_and_superseded_ones_go(&|| {
            Store::open_object_store(objects.clone(), "memory://merged", "lake").unwrap()
        });
    }
}
