//! Deleting runs on object storage: the same two steps as in a local directory
//! (`deletion.rs`), with objects.
//!
//! ```text
//! <prefix>/deleted/<id>    tombstone: {"run_id": "<id>", "deleted_at_ms": <epoch ms>}
//! ```
//!
//! 1. [`Store::delete_run`] PUTs the tombstone, then deletes the manifest `runs/<id>.json`, the
//!    rejects file and the run's live status objects (`live/<id>.json`, `live/<id>.stop`) if
//!    there are any. From the manifest's removal on, no reader lists the run (every server on
//!    the bucket reads the manifests afresh per listing) and no new query lists its parts or
//!    its rollup (crates/query's `hide_deleted.rs`: only parts of runs with a manifest, and
//!    nothing of a run with a tombstone).
//! 2. [`Store::purge_deleted`] (`loadlake serve` every minute, `loadlake import` after each
//!    import) deletes, for each tombstone older than the grace, every object under
//!    `samples/run_id=<id>/` and `rollups/run_id=<id>/`, then the tombstone. Before looking at
//!    the age it deletes a manifest a tombstone still has next to it: a deletion cut off between
//!    its two requests is finished at once.
//!
//! **Whose clock.** The tombstone's age is measured on the purging host's clock from the later
//! of the time written into it (the deleting host's clock) and its `last_modified` (the object
//! store's clock). Whichever of the two clocks is ahead, the purge waits for it: a host whose
//! clock runs behind only purges later. Only a purging host whose clock runs ahead of both
//! shortens the grace, by its lead (minutes at worst on NTP-synchronised hosts, against a
//! grace of [`crate::DELETED_RUN_GRACE`], 10 minutes). A tombstone whose content cannot be read
//! counts from its `last_modified` alone.
//!
//! **With the orphan collection** (`remote_gc.rs`): once its manifest is gone a deleted run's
//! parts are listed by no manifest, which is what an orphan looks like; the collection
//! therefore leaves alone every run that has a tombstone (it reads the manifests, then the
//! tombstones, so a deletion between the two is seen in one of them), and the purge alone
//! removes them, after the deletion's own grace rather than the parts' age.

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use loadlake_schema::RunId;
use object_store::PutMode;
use serde::{Deserialize, Serialize};

use crate::catalog::Store;
use crate::error::StoreError;
use crate::remote::{Remote, manifest_key, rejects_key};

/// What a tombstone holds.
#[derive(Debug, Serialize, Deserialize)]
struct Tombstone {
    run_id: String,
    /// When the run was deleted, on the deleting host's clock (Unix epoch, ms).
    deleted_at_ms: i64,
}

/// `deleted/<id>`.
pub(crate) fn tombstone_key(id: &RunId) -> String {
    format!("deleted/{id}")
}

/// Tombstoned run ids with each tombstone's `last_modified`.
fn tombstones(remote: &Remote) -> Result<Vec<(RunId, DateTime<Utc>)>, StoreError> {
    Ok(remote
        .list("deleted/")?
        .into_iter()
        .filter_map(|(rel, meta)| {
            let id = RunId::parse(rel.strip_prefix("deleted/")?).ok()?;
            Some((id, meta.last_modified))
        })
        .collect())
}

/// The ids of the runs with a tombstone on object storage.
pub(crate) fn deleted_run_ids(remote: &Remote) -> Result<BTreeSet<RunId>, StoreError> {
    Ok(tombstones(remote)?.into_iter().map(|(id, _)| id).collect())
}

/// Removes the run's objects that go at once: manifest, rejects file, live status.
fn remove_run_entries(remote: &Remote, id: &RunId) -> Result<(), StoreError> {
    remote.delete(&manifest_key(id))?;
    remote.forget_manifest(id);
    remote.delete(&rejects_key(id))?;
    for ext in ["json", "stop"] {
        remote.delete(&crate::live::live_key(id, ext))?;
    }
    Ok(())
}

/// Deletes every object under `rel` (a prefix ending in `/`); whether there was any.
fn remove_prefix(remote: &Remote, rel: &str) -> Result<bool, StoreError> {
    let listed = remote.list(rel)?;
    for (key, _) in &listed {
        remote.delete(key)?;
    }
    Ok(!listed.is_empty())
}

impl Store {
    /// [`Store::delete_run`] on object storage (see the module doc).
    pub(crate) fn delete_remote_run(&self, remote: &Remote, id: &str) -> Result<(), StoreError> {
        let id = self.run(id)?.run_id;
        let tombstone = Tombstone {
            run_id: id.to_string(),
            deleted_at_ms: Utc::now().timestamp_millis(),
        };
        let body = serde_json::to_vec(&tombstone).map_err(|source| StoreError::Manifest {
            path: remote.url_of(&tombstone_key(&id)).into(),
            source,
        })?;
        // A tombstone already there (a deletion cut off after it) keeps its earlier time.
        remote.put(&tombstone_key(&id), Bytes::from(body), PutMode::Create)?;
        remove_run_entries(remote, &id)
    }

    /// [`Store::purge_deleted`] on object storage (see the module doc).
    pub(crate) fn purge_remote_deleted(
        &self,
        remote: &Remote,
        grace: Duration,
    ) -> Result<usize, StoreError> {
        let now = Utc::now();
        let mut purged = 0;
        for (id, last_modified) in tombstones(remote)? {
            // A deletion cut off after its tombstone: finish it whatever the tombstone's age.
            remove_run_entries(remote, &id)?;
            let key = tombstone_key(&id);
            let Some(body) = remote.get(&key)? else {
                continue; // purged by another process since the listing
            };
            let written = match serde_json::from_slice::<Tombstone>(&body) {
                Ok(t) => DateTime::<Utc>::from_timestamp_millis(t.deleted_at_ms),
                Err(e) => {
                    tracing::warn!("{}: unreadable tombstone ({e})", remote.url_of(&key));
                    None
                }
            };
            let deleted_at = written.map_or(last_modified, |w| w.max(last_modified));
            let old_enough = (now - deleted_at).to_std().is_ok_and(|age| age >= grace);
            if !old_enough {
                continue;
            }
            remove_prefix(remote, &format!("rollups/run_id={id}/"))?;
            if remove_prefix(remote, &format!("samples/run_id={id}/"))? {
                purged += 1;
            }
            remote.delete(&key)?;
        }
        Ok(purged)
    }
}
