//! Runs whose samples are acknowledged as they arrive (a live `loadlake run`, a gRPC sample
//! stream) on a store on object storage: their drafts, the heartbeat that tells a writer at work
//! from a dead one, and the recovery of a dead writer's run.
//!
//! ```text
//! <prefix>/tmp/<id>.draft.json   the writer's draft: what to commit the run as, its write
//!                                attempt and every part acknowledged so far, with their counts
//! ```
//!
//! A local writer holds a lock file and its parts sit in `tmp/`; object storage has neither
//! locks nor renames. So a writer that [records a draft](crate::RunWriter::record_draft) PUTs
//! each part first and then the draft listing it — a sample is acknowledged only once both PUTs
//! returned — and re-PUTs the draft every [`DRAFT_HEARTBEAT`] while it lives. The draft is the
//! run's whole state: `live_samples` reads exactly the parts it lists, and the run's commit
//! writes the manifest (conditional create, as for imports) and then deletes the draft.
//!
//! A draft not rewritten for [`REMOTE_WRITER_STALE_AFTER`] (by the bucket's clock: the
//! object's `Last-Modified`) belongs to a writer that is gone: [`Store::recover`] — run by
//! every process that opens the store and by servers every minute, on any host — commits the
//! parts it lists as an `incomplete` run, with the same conditional create, so that two
//! recoverers (or a recoverer and a writer that was only slow) never both commit it. Parts PUT
//! but not yet listed were never acknowledged; the garbage collector removes them later
//! ([`crate::ORPHAN_GRACE`]), and it never removes a part a draft lists.

use std::collections::HashSet;
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use loadlake_schema::{PartFile, RejectSummary, RunId, RunManifest, RunStatus};
use object_store::PutMode;

use crate::catalog::Store;
use crate::error::StoreError;
use crate::remote::{Remote, manifest_key, rejects_key};
use crate::writer::{RunDraft, Totals, manifest_of};

/// How often a live writer on object storage rewrites its draft when nothing else does.
pub const DRAFT_HEARTBEAT: Duration = Duration::from_secs(5);

/// A draft on object storage not rewritten for this long belongs to a writer that is gone.
/// Generous against a slow bucket and clocks of hosts that differ by a few seconds: the bucket
/// stamps the draft, the recovering host compares with its own clock.
pub const REMOTE_WRITER_STALE_AFTER: Duration = Duration::from_secs(60);

/// The reason kept in the manifest of a run recovered from a draft on object storage.
const LOST_WRITER_REASON: &str =
    "its writer stopped (killed, crashed or cut off from the bucket) before committing it";

/// `tmp/<id>.draft.json`.
pub(crate) fn draft_key(id: &RunId) -> String {
    format!("tmp/{id}.draft.json")
}

/// The run a key under `tmp/` is the draft of.
fn draft_run(rel: &str) -> Option<RunId> {
    let stem = rel.strip_prefix("tmp/")?.strip_suffix(".draft.json")?;
    RunId::parse(stem).ok()
}

/// Every draft object on `remote`: its run, its key and what the bucket says of it.
fn drafts(remote: &Remote) -> Result<Vec<(RunId, String, object_store::ObjectMeta)>, StoreError> {
    Ok(remote
        .list("tmp/")?
        .into_iter()
        .filter_map(|(rel, meta)| Some((draft_run(&rel)?, rel, meta)))
        .collect())
}

/// What a writer on object storage has recorded of its run (`tmp/<id>.draft.json`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct RemoteDraft {
    pub(crate) draft: RunDraft,
    /// Written by `commit`: the samples are all there and the status is final (else the run
    /// is recovered as `incomplete`).
    pub(crate) at_commit: bool,
    /// The write attempt whose parts these are.
    pub(crate) attempt: String,
    /// Every part acknowledged so far, in order.
    pub(crate) files: Vec<PartFile>,
    /// The counts of those parts.
    pub(crate) totals: Totals,
}

/// The one writer of a run's draft object: PUTs it when the run changes and, from a thread of
/// its own, every [`DRAFT_HEARTBEAT`] while the run lives. Every PUT of the draft happens under
/// one lock, so a heartbeat never puts back an older draft over a newer one.
#[derive(Debug)]
pub(crate) struct DraftKeeper {
    shared: Arc<KeptDraft>,
    /// Dropped to stop the heartbeat.
    stop: Option<Sender<()>>,
    heartbeat: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct KeptDraft {
    remote: Arc<Remote>,
    key: String,
    /// The draft as last PUT; `None` once the run is finished (nothing more to PUT).
    latest: Mutex<Option<Bytes>>,
}

impl KeptDraft {
    fn latest(&self) -> std::sync::MutexGuard<'_, Option<Bytes>> {
        // Holds bytes only: a panicking holder leaves nothing half-updated.
        self.latest.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl DraftKeeper {
    /// Starts keeping the draft of run `id`: PUTs `draft` now, then beats.
    pub(crate) fn start(
        remote: Arc<Remote>,
        id: &RunId,
        draft: &RemoteDraft,
    ) -> Result<DraftKeeper, StoreError> {
        let shared = Arc::new(KeptDraft {
            remote,
            key: draft_key(id),
            latest: Mutex::new(None),
        });
        let keeper_shared = Arc::clone(&shared);
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let mut keeper = DraftKeeper {
            shared,
            stop: Some(stop),
            heartbeat: None,
        };
        keeper.publish(draft)?;
        let heartbeat = std::thread::Builder::new()
            .name(format!("loadlake-draft-{id}"))
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(DRAFT_HEARTBEAT) {
                    let latest = keeper_shared.latest();
                    let Some(bytes) = latest.as_ref() else {
                        break;
                    };
                    if let Err(e) = keeper_shared.remote.put(
                        &keeper_shared.key,
                        bytes.clone(),
                        PutMode::Overwrite,
                    ) {
                        tracing::warn!("the heartbeat of a run being written failed: {e}");
                    }
                }
            })
            .map_err(|e| StoreError::Runtime(format!("starting a draft heartbeat: {e}")))?;
        keeper.heartbeat = Some(heartbeat);
        Ok(keeper)
    }

    /// PUTs `draft` (and keeps it for the heartbeat). Returns once the bucket has it.
    pub(crate) fn publish(&self, draft: &RemoteDraft) -> Result<(), StoreError> {
        let json = serde_json::to_vec(draft).map_err(|source| StoreError::Manifest {
            path: self.shared.remote.url_of(&self.shared.key).into(),
            source,
        })?;
        let bytes = Bytes::from(json);
        let mut latest = self.shared.latest();
        self.shared
            .remote
            .put(&self.shared.key, bytes.clone(), PutMode::Overwrite)?;
        *latest = Some(bytes);
        Ok(())
    }

    /// The run is committed: stops the heartbeat and deletes the draft.
    pub(crate) fn finish(mut self) {
        {
            let mut latest = self.shared.latest();
            *latest = None;
            if let Err(e) = self.shared.remote.delete(&self.shared.key) {
                // Harmless: recovery finds the manifest and removes the draft.
                tracing::warn!("removing the draft of a committed run: {e}");
            }
        }
        self.stop_heartbeat();
    }

    fn stop_heartbeat(&mut self) {
        self.stop.take();
        if let Some(beat) = self.heartbeat.take() {
            let _ = beat.join();
        }
    }
}

impl Drop for DraftKeeper {
    fn drop(&mut self) {
        self.stop_heartbeat();
    }
}

impl Store {
    /// On object storage: commits the runs whose writers recorded a draft and went silent
    /// (see the module doc), and removes drafts of runs committed since. Returns the runs made
    /// visible. Drafts younger than `stale_after` belong to writers at work and are left.
    pub(crate) fn recover_remote(
        &self,
        stale_after: Duration,
    ) -> Result<Vec<RunManifest>, StoreError> {
        let Some(remote) = self.remote() else {
            return Ok(Vec::new());
        };
        let now = Utc::now();
        let mut recovered = Vec::new();
        for (id, rel, meta) in drafts(remote)? {
            let silent = (now - meta.last_modified).to_std().unwrap_or_default();
            if silent < stale_after {
                continue; // its writer is at work
            }
            match recover_from_draft(remote, &id, &rel) {
                Ok(Some(manifest)) => recovered.push(manifest),
                Ok(None) => {}
                Err(e) => tracing::error!("run {id}: recovery failed, kept for the next try: {e}"),
            }
        }
        Ok(recovered)
    }

    /// Runs being written to this store on object storage, with the parts acknowledged so far
    /// (what `live_samples` reads there): every draft of a run without a manifest. Empty for a
    /// local store.
    pub fn remote_live_parts(&self) -> Result<Vec<(RunId, Vec<PartFile>)>, StoreError> {
        let Some(remote) = self.remote() else {
            return Ok(Vec::new());
        };
        let mut live = Vec::new();
        for (id, rel, _) in drafts(remote)? {
            if let Some(draft) = read_draft(remote, &rel)?
                && !remote.exists(&manifest_key(&id))?
            {
                live.push((id, draft.files));
            }
        }
        Ok(live)
    }

    /// Whether a writer on object storage is at work on run `id` (its draft is fresh).
    pub(crate) fn remote_writer_alive(&self, id: &RunId) -> Result<bool, StoreError> {
        let Some(remote) = self.remote() else {
            return Ok(false);
        };
        let rel = draft_key(id);
        let Some(modified) = remote.head(&rel)?.map(|meta| meta.last_modified) else {
            return Ok(false);
        };
        let silent = (Utc::now() - modified).to_std().unwrap_or_default();
        Ok(silent < REMOTE_WRITER_STALE_AFTER)
    }
}

/// Every part the drafts on `remote` list (the garbage collector keeps them).
pub(crate) fn drafted_parts(remote: &Remote) -> Result<HashSet<String>, StoreError> {
    let mut parts = HashSet::new();
    for (_, rel, _) in drafts(remote)? {
        if let Some(draft) = read_draft(remote, &rel)? {
            parts.extend(draft.files.into_iter().map(|f| f.path));
        }
    }
    Ok(parts)
}

/// The draft at `rel`; `None` if it is gone or unreadable (logged).
fn read_draft(remote: &Remote, rel: &str) -> Result<Option<RemoteDraft>, StoreError> {
    let Some(bytes) = remote.get(rel)? else {
        return Ok(None);
    };
    match serde_json::from_slice(&bytes) {
        Ok(draft) => Ok(Some(draft)),
        Err(e) => {
            tracing::error!("{}: unreadable run draft: {e}", remote.url_of(rel));
            Ok(None)
        }
    }
}

/// Commits run `id` from its draft at `rel` (the writer is gone); removes the draft.
fn recover_from_draft(
    remote: &Remote,
    id: &RunId,
    rel: &str,
) -> Result<Option<RunManifest>, StoreError> {
    if remote.exists(&manifest_key(id))? {
        remote.delete(rel)?; // committed; the writer died before removing its draft
        return Ok(None);
    }
    let Some(recorded) = read_draft(remote, rel)? else {
        return Ok(None);
    };
    if recorded.files.is_empty() {
        remote.delete(rel)?; // nothing was acknowledged
        return Ok(None);
    }
    let mut draft = recorded.draft;
    let status_reason = if recorded.at_commit {
        None
    } else {
        draft.status = RunStatus::Incomplete;
        Some(format!(
            "recovered by loadlake: {LOST_WRITER_REASON}; every part it acknowledged is kept"
        ))
    };
    let rejects = match remote.get(&rejects_key(id))? {
        Some(text) => reject_summary_of(&String::from_utf8_lossy(&text)),
        None => RejectSummary::default(),
    };
    let parts = (recorded.files.len() as u32, recorded.files);
    let manifest = manifest_of(id, draft, status_reason, &recorded.totals, rejects, parts);
    let key = manifest_key(id);
    let json = serde_json::to_vec_pretty(&manifest).map_err(|source| StoreError::Manifest {
        path: remote.url_of(&key).into(),
        source,
    })?;
    let created = remote.put(&key, Bytes::from(json), PutMode::Create)?;
    remote.delete(rel)?;
    if !created {
        return Ok(None); // its writer (or another recoverer) committed it first
    }
    tracing::warn!(
        "recovered run {id}: {} samples in {} part(s), status {}",
        manifest.samples,
        manifest.parts,
        manifest.status.as_str()
    );
    Ok(Some(manifest))
}

/// The manifest's summary of a rejects file's text.
pub(crate) fn reject_summary_of(text: &str) -> RejectSummary {
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    RejectSummary {
        count: lines.len() as u64,
        first: lines.iter().take(5).map(|l| l.to_string()).collect(),
    }
}
