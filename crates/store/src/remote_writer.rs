//! [`RemoteRun`]: the part of a [`crate::RunWriter`] that writes a run to object storage, and
//! the manifest-last commit ([`crate::remote`] has the layout and the protocol).

use std::sync::Arc;

use arrow::array::RecordBatch;
use bytes::Bytes;
use loadlake_schema::{PartFile, RejectSummary, RunId, RunManifest};
use object_store::PutMode;

use crate::error::StoreError;
use crate::part_encode::encode_sorted_part;
use crate::remote::{Remote, manifest_key, part_key, rejects_key};
use crate::remote_live::{DraftKeeper, RemoteDraft};
use crate::writer::{RunDraft, Totals, WriterOptions, manifest_of};

/// A run being written to object storage: its write attempt and the parts PUT so far.
#[derive(Debug)]
pub(crate) struct RemoteRun {
    pub(crate) remote: Arc<Remote>,
    /// Names this attempt's parts, so that they never collide with another writer's.
    pub(crate) attempt: String,
    /// The parts PUT so far, in order.
    pub(crate) files: Vec<PartFile>,
    /// For a run whose samples are acknowledged as they arrive: the draft it recorded and
    /// the keeper of its draft object ([`crate::remote_live`]).
    pub(crate) recorded: Option<(RunDraft, DraftKeeper)>,
    /// Parts replaced by merged ones at commit, deleted once the manifest is in.
    replaced: Vec<String>,
}

impl RemoteRun {
    /// A new write attempt of a run on `remote`.
    pub(crate) fn new(remote: Arc<Remote>) -> RemoteRun {
        RemoteRun {
            remote,
            attempt: crate::remote::attempt_id(),
            files: Vec::new(),
            recorded: None,
            replaced: Vec::new(),
        }
    }

    /// Records (or replaces) the run's draft: from now on every part is acknowledged only
    /// once the draft object lists it, and a writer that dies leaves a recoverable run.
    pub(crate) fn record_draft(
        &mut self,
        id: &RunId,
        draft: &RunDraft,
        totals: &Totals,
    ) -> Result<(), StoreError> {
        let state = self.draft_state(draft.clone(), totals, false);
        match self.recorded.take() {
            Some((_, keeper)) => {
                let published = keeper.publish(&state);
                self.recorded = Some((draft.clone(), keeper));
                published
            }
            None => {
                let keeper = DraftKeeper::start(Arc::clone(&self.remote), id, &state)?;
                self.recorded = Some((draft.clone(), keeper));
                Ok(())
            }
        }
    }

    /// After a part: the draft object lists it (a no-op for runs without a draft).
    pub(crate) fn acknowledge_parts(&self, totals: &Totals) -> Result<(), StoreError> {
        match &self.recorded {
            Some((draft, keeper)) => {
                keeper.publish(&self.draft_state(draft.clone(), totals, false))
            }
            None => Ok(()),
        }
    }

    fn draft_state(&self, draft: RunDraft, totals: &Totals, at_commit: bool) -> RemoteDraft {
        RemoteDraft {
            draft,
            at_commit,
            attempt: self.attempt.clone(),
            files: self.files.clone(),
            totals: totals.clone(),
        }
    }

    /// Encodes `batches` (`rows` rows) as the next part and PUTs it (atomically).
    pub(crate) fn put_part(
        &mut self,
        id: &RunId,
        batches: Vec<RecordBatch>,
        rows: usize,
        options: &WriterOptions,
    ) -> Result<(), StoreError> {
        let key = part_key(id, &self.attempt, self.files.len());
        let bytes = encode_sorted_part(Vec::new(), std::path::Path::new(&key), batches, options)?;
        let size_bytes = bytes.len() as u64;
        self.remote
            .put(&key, Bytes::from(bytes), PutMode::Overwrite)?;
        self.files.push(PartFile {
            path: key,
            size_bytes,
            rows: rows as u64,
        });
        Ok(())
    }

    /// Commits the run: the rejects file (if any) and then the manifest, each with a
    /// conditional create. Whatever fails, nothing of the attempt stays visible: its parts
    /// (and a rejects file it created) are removed, and a lost race is
    /// [`StoreError::RunIdTaken`].
    ///
    /// A run with a recorded draft is different: its parts were acknowledged, so a failed
    /// commit keeps them, with the final draft, for [`crate::Store::recover`] to commit (or,
    /// when another process committed the run id, for the garbage collector).
    ///
    /// Such a run was written in many small parts (one a second, one per acknowledged batch):
    /// they are merged as locally (`compact.rs`) into new parts the manifest lists instead;
    /// the small ones are deleted after the manifest (`options.part_rows` sizes the merge).
    pub(crate) fn commit(
        mut self,
        id: &RunId,
        draft: RunDraft,
        (totals, status_reason): (&Totals, Option<String>),
        rejects: RejectSummary,
        reject_lines: String,
        options: &WriterOptions,
    ) -> Result<RunManifest, StoreError> {
        let keeper = match self.recorded.take() {
            Some((_, keeper)) => {
                keeper.publish(&self.draft_state(draft.clone(), totals, true))?;
                // From here the draft lists the parts as written: recovery needs nothing else.
                (self.files, self.replaced) = crate::compact::merge_remote_parts(
                    &self.remote,
                    id,
                    &self.attempt,
                    &self.files,
                    options,
                );
                Some(keeper)
            }
            None => None,
        };
        let mut created_rejects = false;
        let result = self.publish(
            id,
            draft,
            (totals, status_reason),
            rejects,
            reject_lines,
            &mut created_rejects,
        );
        match (&result, keeper) {
            (Ok(_), Some(keeper)) => {
                keeper.finish();
                for key in &self.replaced {
                    if let Err(e) = self.remote.delete(key) {
                        // An orphan now (no manifest or draft lists it): the GC's.
                        tracing::warn!("run {id}: removing a part merged at commit: {e}");
                    }
                }
            }
            (Ok(_), None) => {}
            (Err(e), Some(_)) => tracing::error!(
                "run {id}: commit failed ({e}); its acknowledged parts and final draft are \
                 kept in the bucket and committed by the next recovery"
            ),
            (Err(_), None) => {
                if created_rejects && let Err(e) = self.remote.delete(&rejects_key(id)) {
                    tracing::warn!("run {id}: removing the rejects of a failed commit: {e}");
                }
                self.abandon(id);
            }
        }
        result
    }

    fn publish(
        &self,
        id: &RunId,
        draft: RunDraft,
        (totals, status_reason): (&Totals, Option<String>),
        rejects: RejectSummary,
        reject_lines: String,
        created_rejects: &mut bool,
    ) -> Result<RunManifest, StoreError> {
        if !reject_lines.is_empty() {
            if !self
                .remote
                .put(&rejects_key(id), Bytes::from(reject_lines), PutMode::Create)?
            {
                return Err(StoreError::RunIdTaken(id.to_string()));
            }
            *created_rejects = true;
        }
        let parts = (self.files.len() as u32, self.files.clone());
        let manifest = manifest_of(id, draft, status_reason, totals, rejects, parts);
        let key = manifest_key(id);
        let json = serde_json::to_vec_pretty(&manifest).map_err(|source| StoreError::Manifest {
            path: self.remote.url_of(&key).into(),
            source,
        })?;
        match self.remote.put(&key, Bytes::from(json), PutMode::Create) {
            Ok(true) => Ok(manifest),
            Ok(false) => Err(StoreError::RunIdTaken(id.to_string())),
            // The PUT may have landed and only its answer been lost: then the run is ours.
            Err(e) => match self.remote.manifest(id) {
                Ok(Some(found)) if found.files == manifest.files => Ok(found),
                _ => Err(e),
            },
        }
    }

    /// Removes the parts of this attempt (a writer dropped before its commit, or one whose
    /// commit failed). A part left behind (the process died) is never read: no manifest lists it.
    pub(crate) fn abandon(self, id: &RunId) {
        if self.recorded.is_some() {
            return; // acknowledged: the caller commits them
        }
        for part in &self.files {
            if let Err(e) = self.remote.delete(&part.path) {
                tracing::warn!("run {id}: removing an abandoned part: {e}");
            }
        }
    }
}
