//! [`HideDeletedRuns`]: the store's files as the query engine lists them, without the samples of
//! deleted runs.
//!
//! A deleted run keeps its Parquet parts for a while ([`loadlake_store::DELETED_RUN_GRACE`]) so
//! that queries planned before the deletion can still read what they listed. New queries must
//! not see them: this wrapper leaves every partition `run_id=<id>` of a run with a tombstone out
//! of listings, and passes every other call (reads included) to the file system unchanged.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use loadlake_schema::RunId;
use loadlake_store::Store;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};

/// An object store that hides the partitions of deleted runs from listings.
#[derive(Debug)]
pub(crate) struct HideDeletedRuns {
    inner: Arc<dyn ObjectStore>,
    store: Store,
}

impl HideDeletedRuns {
    /// Wraps `inner`, hiding the runs `store` has tombstones for.
    pub(crate) fn new(inner: Arc<dyn ObjectStore>, store: Store) -> Self {
        HideDeletedRuns { inner, store }
    }

    /// The partition names (`run_id=<id>`) to hide, read afresh for every listing.
    fn hidden_partitions(&self) -> Result<BTreeSet<String>> {
        let deleted = self
            .store
            .deleted_runs()
            .map_err(|e| object_store::Error::Generic {
                store: "loadlake",
                source: Box::new(e),
            })?;
        Ok(deleted.iter().map(partition_name).collect())
    }
}

fn partition_name(id: &RunId) -> String {
    format!("run_id={id}")
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
        let hidden = match self.hidden_partitions() {
            Ok(hidden) => hidden,
            Err(e) => return stream::once(async move { Err(e) }).boxed(),
        };
        self.inner
            .list(prefix)
            .filter(move |item| {
                let keep = !matches!(item, Ok(meta) if is_hidden(&meta.location, &hidden));
                futures::future::ready(keep)
            })
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let hidden = self.hidden_partitions()?;
        let mut listing = self.inner.list_with_delimiter(prefix).await?;
        listing.common_prefixes.retain(|p| !is_hidden(p, &hidden));
        listing.objects.retain(|o| !is_hidden(&o.location, &hidden));
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
