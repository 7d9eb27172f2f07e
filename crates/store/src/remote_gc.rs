//! Removing what writers that died left on object storage: parts (and rejects files) that no
//! manifest lists, once they are older than a grace period.
//!
//! A writer PUTs its parts before its manifest (crates/store's `remote.rs`), so a part no
//! manifest lists is either one of a writer still at work or an orphan (its writer was killed,
//! or lost the race for its run id and could not remove it). Only age tells them apart: an
//! object is removed when it is older than the grace period, which must exceed the longest
//! import ([`ORPHAN_GRACE`]: an hour; a 10 M-row import takes about a minute). Listed parts,
//! the parts of format-1 manifests (which list none), the parts a live writer's draft lists (a
//! live run lasts longer than the grace) and manifests themselves are never touched.
//!
//! A deleted run's parts are listed by no manifest either, but they are kept for the queries
//! planned before its deletion: every object of a run with a tombstone (`deleted/<id>`) is left
//! to the purge of deleted runs (`remote_deletion.rs`), which removes it after the deletion's
//! grace, whatever the object's age. The tombstones are listed after the manifests: a run
//! deleted in between is in one of the two lists. A rollup (`rollups/run_id=<id>/`) of a run
//! with neither manifest nor tombstone (written by a process that computed it while the run
//! was being deleted and purged) is an orphan too.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::Utc;

use crate::catalog::Store;
use crate::error::StoreError;

/// How old an unlisted object must be before [`Store::collect_garbage`] removes it.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(60 * 60);

impl Store {
    /// On object storage: removes the parts under `samples/`, the rejects files under `runs/`
    /// and the rollups under `rollups/` that no manifest lists and that are older than `grace`,
    /// except those of deleted runs (their purge removes them); returns how many objects were
    /// removed. A local store has nothing of the kind (its recovery finishes or removes
    /// what dead writers left): 0.
    pub fn collect_garbage(&self, grace: Duration) -> Result<usize, StoreError> {
        let Some(remote) = self.remote() else {
            return Ok(0);
        };
        // The drafts of runs being written first, then the manifests, then the objects: a
        // run committed between the first two had its draft read (a writer deletes its draft
        // only after its manifest), and a part listed since is younger than `grace`.
        let drafted = crate::remote_live::drafted_parts(remote)?;
        // A run committed between the manifests and the listing of objects has parts no
        // manifest read here lists, but they are younger than `grace` (it exceeds an import).
        let manifests = remote.manifests()?;
        let listed: HashMap<String, HashSet<String>> = manifests
            .iter()
            .map(|m| {
                let files = m.files.iter().map(|f| f.path.clone()).collect();
                (m.run_id.to_string(), files)
            })
            .collect();
        let deleted: HashSet<String> = crate::remote_deletion::deleted_run_ids(remote)?
            .iter()
            .map(|id| id.to_string())
            .collect();
        let now = Utc::now();
        let old = |meta: &object_store::ObjectMeta| {
            (now - meta.last_modified)
                .to_std()
                .is_ok_and(|age| age >= grace)
        };
        let mut removed = 0;
        for (rel, meta) in remote.list("samples/")? {
            let Some(run) = rel
                .strip_prefix("samples/run_id=")
                .and_then(|rest| rest.split_once('/'))
                .map(|(run, _)| run)
            else {
                continue;
            };
            let keep = drafted.contains(&rel)
                || match listed.get(run) {
                    Some(files) => files.is_empty() || files.contains(&rel),
                    None => deleted.contains(run),
                };
            if !keep && old(&meta) {
                tracing::info!("removing {}: no manifest lists it", remote.url_of(&rel));
                remote.delete(&rel)?;
                removed += 1;
            }
        }
        for (rel, meta) in remote.list("runs/")? {
            let Some(run) = rel
                .strip_prefix("runs/")
                .and_then(|name| name.strip_suffix(".rejects.jsonl"))
            else {
                continue;
            };
            if !listed.contains_key(run) && !deleted.contains(run) && old(&meta) {
                tracing::info!(
                    "removing {}: its run was never committed",
                    remote.url_of(&rel)
                );
                remote.delete(&rel)?;
                removed += 1;
            }
        }
        for (rel, meta) in remote.list("rollups/")? {
            let Some(run) = rel
                .strip_prefix("rollups/run_id=")
                .and_then(|rest| rest.split_once('/'))
                .map(|(run, _)| run)
            else {
                continue;
            };
            if !listed.contains_key(run) && !deleted.contains(run) && old(&meta) {
                tracing::info!("removing {}: its run is gone", remote.url_of(&rel));
                remote.delete(&rel)?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}
