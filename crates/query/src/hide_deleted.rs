//! [`HideDeletedRuns`]: the store's files as the query engine lists them, without the samples of
//! deleted runs, and — on object storage — with only the parts that runs' manifests list.
//!
//! A deleted run keeps its Parquet parts for a while ([`loadlake_store::DELETED_RUN_GRACE`]) so
//! that queries planned before the deletion can still read what they listed. New queries must
//! not see them: this wrapper leaves every partition `run_id=<id>` of a run with a tombstone out
//! of listings, and passes every other call (reads included) to the file system unchanged.
//!
//! On object storage a run is committed by its manifest, written after its parts
//! (crates/store's `remote.rs`): a part being written, one of a writer that died or lost the
//! race for its run id, is in the bucket with no manifest listing it. Listings of `samples/`
//! there keep only the partitions of runs with a manifest, and in each only the files that
//! manifest lists, so `samples` (a `ListingTable`, with its partition pruning) never reads them.
//! Listings of `rollups/` keep only the partitions of runs with a manifest: a deleted run's
//! rollup is hidden by its tombstone, and also once the tombstone is purged, should a process
//! that computed the rollup while the run was being deleted have written it again.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use loadlake_schema::{PartFile, RunId};
use loadlake_store::Store;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};

/// An object store that hides the partitions of deleted runs from listings.
#[derive(Debug, Clone)]
pub(crate) struct HideDeletedRuns {
    inner: Arc<dyn ObjectStore>,
    store: Store,
    /// On object storage: list the parts of runs still being written (the ones their
    /// writers' drafts list) instead of committed ones — the `live_samples` table there.
    live: bool,
}

impl HideDeletedRuns {
    /// Wraps `inner`, hiding the runs `store` has tombstones for.
    pub(crate) fn new(inner: Arc<dyn ObjectStore>, store: Store) -> Self {
        HideDeletedRuns {
            inner,
            store,
            live: false,
        }
    }

    /// Wraps `inner` (a store on object storage) so that listings of `samples/` show exactly
    /// the parts acknowledged so far of the runs being written (crates/store's
    /// `remote_live.rs`), and nothing of committed runs.
    pub(crate) fn live_runs(inner: Arc<dyn ObjectStore>, store: Store) -> Self {
        HideDeletedRuns {
            inner,
            store,
            live: true,
        }
    }

    /// What listings show, read afresh for every listing (the manifests of a store on object
    /// storage are read off the async threads: each is a request).
    async fn visibility(&self) -> Result<Visibility> {
        let store = self.store.clone();
        let live = self.live;
        let read = move || -> std::result::Result<Visibility, loadlake_store::StoreError> {
            // A run being written has no manifest, so it cannot have been deleted: the live
            // listing needs no tombstones.
            let hidden = if live {
                BTreeSet::new()
            } else {
                store.deleted_runs()?.iter().map(partition_name).collect()
            };
            let committed = if live {
                let being_written = store.remote_live_parts()?;
                Some(
                    being_written
                        .into_iter()
                        // No part acknowledged yet: nothing to show (an empty list would
                        // mean the whole partition).
                        .filter(|(_, files)| !files.is_empty())
                        .map(|(id, files)| (partition_name(&id), file_names(&files)))
                        .collect(),
                )
            } else if store.is_remote() {
                let runs = store.runs()?;
                Some(
                    runs.into_iter()
                        .map(|m| (partition_name(&m.run_id), file_names(&m.files)))
                        .collect(),
                )
            } else {
                None
            };
            Ok(Visibility { hidden, committed })
        };
        let generic = |e: Box<dyn std::error::Error + Send + Sync>| object_store::Error::Generic {
            store: "loadlake",
            source: e,
        };
        if !self.store.is_remote() {
            return read().map_err(|e| generic(Box::new(e)));
        }
        tokio::task::spawn_blocking(read)
            .await
            .map_err(|e| generic(Box::new(e)))?
            .map_err(|e| generic(Box::new(e)))
    }
}

/// The file names (last path segment) of `files`, as listings of their partition show them.
fn file_names(files: &[PartFile]) -> HashSet<String> {
    files
        .iter()
        .filter_map(|f| f.path.rsplit('/').next().map(str::to_string))
        .collect()
}

fn partition_name(id: &RunId) -> String {
    format!("run_id={id}")
}

/// What the listings of one query show.
#[derive(Debug, Default)]
struct Visibility {
    /// Partitions (`run_id=<id>`) of deleted runs.
    hidden: BTreeSet<String>,
    /// On object storage: per committed run's partition, the file names its manifest lists
    /// (empty: a format-1 manifest, whose partition is shown whole). `None` for a local store.
    committed: Option<HashMap<String, HashSet<String>>>,
}

impl Visibility {
    /// Whether a listing shows `path`.
    fn shows(&self, path: &Path) -> bool {
        if is_hidden(path, &self.hidden) {
            return false;
        }
        let Some(committed) = &self.committed else {
            return true;
        };
        let parts: Vec<_> = path.parts().collect();
        let Some(i) = parts.windows(2).position(|w| {
            matches!(w[0].as_ref(), "samples" | "rollups") && w[1].as_ref().starts_with("run_id=")
        }) else {
            return true;
        };
        let Some(files) = committed.get(parts[i + 1].as_ref()) else {
            return false; // no manifest: not committed, or deleted
        };
        if parts[i].as_ref() == "rollups" {
            return true; // manifests list no rollups
        }
        match parts.get(i + 2) {
            Some(file) => files.is_empty() || files.contains(file.as_ref()),
            None => true,
        }
    }
}

/// Whether `path` lies in (or is) one of the `hidden` partitions.
fn is_hidden(path: &Path, hidden: &BTreeSet<String>) -> bool {
    !hidden.is_empty() && path.parts().any(|part| hidden.contains(part.as_ref()))
}

impl fmt::Display for HideDeletedRuns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HideDeletedRuns({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for HideDeletedRuns {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        let (this, lister) = (self.clone(), self.clone());
        let prefix = prefix.cloned();
        stream::once(async move { this.visibility().await })
            .flat_map(move |visibility| match visibility {
                Err(e) => stream::once(async move { Err(e) }).boxed(),
                Ok(visibility) => lister
                    .inner
                    .list(prefix.as_ref())
                    .filter(move |item| {
                        let keep = !matches!(item, Ok(meta) if !visibility.shows(&meta.location));
                        futures::future::ready(keep)
                    })
                    .boxed(),
            })
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let visibility = self.visibility().await?;
        let mut listing = self.inner.list_with_delimiter(prefix).await?;
        listing.common_prefixes.retain(|p| visibility.shows(p));
        listing.objects.retain(|o| visibility.shows(&o.location));
        Ok(listing)
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_partitions_of_deleted_runs_are_hidden() {
        let hidden: BTreeSet<String> = ["run_id=a1".to_string()].into();
        let path = |s: &str| Path::from(s);
        assert!(is_hidden(
            &path("s/samples/run_id=a1/part-0.parquet"),
            &hidden
        ));
        assert!(is_hidden(&path("s/samples/run_id=a1"), &hidden));
        assert!(!is_hidden(
            &path("s/samples/run_id=b2/part-0.parquet"),
            &hidden
        ));
        assert!(!is_hidden(
            &path("s/samples/run_id=a12/part-0.parquet"),
            &hidden
        ));
        assert!(!is_hidden(&path("s/samples/run_id=a1.parquet"), &hidden));
        assert!(!is_hidden(&path("s/samples/run_id=a1/x"), &BTreeSet::new()));
    }
}
