//! A store on object storage (S3-compatible, or any `object_store` implementation): where its
//! objects live and how the store's sync API reaches them.
//!
//! ```text
//! <prefix>/samples/run_id=<id>/part-<attempt>-<n>.parquet   parts, PUT first (each PUT atomic)
//! <prefix>/runs/<id>.rejects.jsonl                         rows not imported (conditional create)
//! <prefix>/runs/<id>.json                                  the manifest, PUT last, conditional create
//! <prefix>/rollups/run_id=<id>/rollup.parquet              per-run rollup (written when needed)
//! <prefix>/tmp/<id>.draft.json                             a writer's draft, if it acknowledges
//!                                                          samples as they arrive (`remote_live.rs`)
//! <prefix>/live/<id>.json, live/<id>.stop                   live status, stop request (`live.rs`)
//! <prefix>/deleted/<id>                                    tombstone of a deleted run (`remote_deletion.rs`)
//! <prefix>/rollups/merged/<gen>-<attempt>.parquet          consolidated rollups (one PUT)
//! <prefix>/rollups/merged/<gen>.json                       commits them (conditional create)
//! ```
//!
//! S3 has no rename, so a run is committed by writing its manifest **last** with
//! `PutMode::Create` (`If-None-Match: *`): the manifest lists the run's parts, readers take a
//! run's samples from that list only, and a second writer of the same run id gets
//! `AlreadyExists`, removes its parts and reports it ([`StoreError::RunIdTaken`]). A part no
//! manifest lists (a writer that died or lost) is never read.
//!
//! The store's API is synchronous (the CLI and the import pipeline call it from plain
//! threads, the server from async code); `object_store` is async. Every request is therefore
//! spawned on one process-wide runtime of the store's own ([`run_io`]), and the caller waits
//! for its answer on a channel: this never nests a `block_on` in a tokio worker, works from any
//! thread, and the runtime is never dropped inside an async context (it lives for the process).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt;
use loadlake_schema::{RunId, RunManifest};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutMode, PutOptions, RetryConfig};
use tokio::runtime::Runtime;

use crate::error::StoreError;
use crate::location::StoreLocation;

/// The runtime every object-storage request of the store runs on, started once.
fn io_runtime() -> Result<&'static Runtime, StoreError> {
    static IO: OnceLock<Result<Runtime, String>> = OnceLock::new();
    IO.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("loadlake-store-io")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| StoreError::Runtime(e.clone()))
}

/// Runs `fut` on the store's I/O runtime and waits for it (see the module doc).
pub(crate) fn run_io<T: Send + 'static>(
    fut: impl Future<Output = T> + Send + 'static,
) -> Result<T, StoreError> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    io_runtime()?.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv()
        .map_err(|_| StoreError::Runtime("a request stopped without an answer".into()))
}

/// How requests are retried: the crate's backoff, but giving up after 30 s rather than its
/// default 3 minutes, so a dead endpoint is reported while the user still waits for it.
fn retry_config() -> RetryConfig {
    RetryConfig {
        max_retries: 5,
        retry_timeout: Duration::from_secs(30),
        ..RetryConfig::default()
    }
}

/// A client for `bucket` from the standard AWS environment (`AWS_ENDPOINT`, `AWS_ALLOW_HTTP`,
/// keys, region, profile/web-identity/instance credentials). Path-style requests (the
/// builder's default), conditional creates by `If-None-Match: *` (its default too).
pub(crate) fn s3_client(bucket: &str) -> Result<Arc<dyn ObjectStore>, StoreError> {
    let s3 = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_retry(retry_config())
        .build()
        .map_err(|source| StoreError::Remote {
            location: format!("s3://{bucket}"),
            source,
        })?;
    Ok(Arc::new(s3))
}

/// What a store on object storage needs for its queries: the object store's URL as DataFusion
/// registers it, the store's key prefix, and a client.
#[derive(Debug, Clone)]
pub struct ObjectStorage {
    /// The object store's URL, `s3://bucket` (or `memory://name`): register `objects` under it.
    pub url: String,
    /// The store's prefix inside it, without leading or trailing `/` (may be empty).
    pub prefix: String,
    /// A client. For S3 a new one for each call, so that its connections belong to the
    /// caller's runtime; an in-memory store is shared (it has no connections).
    pub objects: Arc<dyn ObjectStore>,
}

impl ObjectStorage {
    /// The URL of the store-relative key `rel` (`s3://bucket/prefix/samples/`).
    pub fn url_of(&self, rel: &str) -> String {
        join_url(&self.url, &self.prefix, rel)
    }

    /// The URL under which a query engine registers the same objects a second time, for the
    /// parts of runs still being written (`live_samples`): `s3-live://bucket`. Its listings
    /// show other parts than those under [`ObjectStorage::url`], its reads the same objects.
    pub fn live_url(&self) -> String {
        self.url.replacen("://", "-live://", 1)
    }

    /// [`ObjectStorage::url_of`] under [`ObjectStorage::live_url`].
    pub fn live_url_of(&self, rel: &str) -> String {
        join_url(&self.live_url(), &self.prefix, rel)
    }
}

fn join_url(url: &str, prefix: &str, rel: &str) -> String {
    match (prefix.is_empty(), rel.is_empty()) {
        (true, _) => format!("{url}/{rel}"),
        (false, true) => format!("{url}/{prefix}"),
        (false, false) => format!("{url}/{prefix}/{rel}"),
    }
}

/// A manifest as last read, with the object version it came from.
type CachedManifest = (Option<String>, u64, Arc<RunManifest>);

/// A store's objects on object storage.
#[derive(Debug)]
pub(crate) struct Remote {
    objects: Arc<dyn ObjectStore>,
    /// `s3://bucket`, `memory://name`.
    url: String,
    prefix: String,
    /// The S3 bucket, to make clients for query engines (`None`: share `objects`).
    bucket: Option<String>,
    /// Parsed manifests by file name, re-read when their ETag or size changes.
    manifests: Mutex<HashMap<String, CachedManifest>>,
}

impl Remote {
    /// The store at `location` (an `s3://` one).
    pub(crate) fn connect(location: &StoreLocation) -> Result<Option<Remote>, StoreError> {
        let StoreLocation::S3 { bucket, prefix } = location else {
            return Ok(None);
        };
        let objects = s3_client(bucket)?;
        let mut remote = Remote::new(objects, &format!("s3://{bucket}"), prefix);
        remote.bucket = Some(bucket.clone());
        Ok(Some(remote))
    }

    /// A store under `prefix` of `objects`, known to DataFusion as `url`.
    pub(crate) fn new(objects: Arc<dyn ObjectStore>, url: &str, prefix: &str) -> Remote {
        Remote {
            objects,
            url: url.trim_end_matches('/').to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            bucket: None,
            manifests: Mutex::default(),
        }
    }

    /// For a query engine: see [`ObjectStorage::objects`].
    pub(crate) fn storage(&self) -> Result<ObjectStorage, StoreError> {
        let objects = match &self.bucket {
            Some(bucket) => s3_client(bucket)?,
            None => Arc::clone(&self.objects),
        };
        Ok(ObjectStorage {
            url: self.url.clone(),
            prefix: self.prefix.clone(),
            objects,
        })
    }

    /// `s3://bucket/prefix` (what users named).
    pub(crate) fn display(&self) -> String {
        join_url(&self.url, &self.prefix, "")
            .trim_end_matches('/')
            .to_string()
    }

    /// The URL of `rel`, for messages.
    pub(crate) fn url_of(&self, rel: &str) -> String {
        join_url(&self.url, &self.prefix, rel)
    }

    fn key(&self, rel: &str) -> Path {
        if self.prefix.is_empty() {
            Path::from(rel)
        } else {
            Path::from(format!("{}/{rel}", self.prefix))
        }
    }

    fn err(&self, rel: &str) -> impl Fn(object_store::Error) -> StoreError + '_ {
        let location = self.url_of(rel);
        move |source| StoreError::Remote {
            location: location.clone(),
            source,
        }
    }

    /// Checks that the store can be listed (the bucket exists, the credentials work).
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        self.list("runs/").map(|_| ())
    }

    /// PUTs `bytes` at `rel` (atomic). With [`PutMode::Create`], an existing object gives
    /// `Ok(false)`.
    pub(crate) fn put(&self, rel: &str, bytes: Bytes, mode: PutMode) -> Result<bool, StoreError> {
        let objects = Arc::clone(&self.objects);
        let key = self.key(rel);
        let opts = PutOptions::from(mode);
        match run_io(async move { objects.put_opts(&key, bytes.into(), opts).await })? {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(e) => Err(self.err(rel)(e)),
        }
    }

    /// The object at `rel`, `None` if there is none.
    pub(crate) fn get(&self, rel: &str) -> Result<Option<Bytes>, StoreError> {
        let objects = Arc::clone(&self.objects);
        let key = self.key(rel);
        match run_io(async move { objects.get(&key).await?.bytes().await })? {
            Ok(bytes) => Ok(Some(bytes)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err(rel)(e)),
        }
    }

    /// Whether there is an object at `rel`.
    pub(crate) fn exists(&self, rel: &str) -> Result<bool, StoreError> {
        let objects = Arc::clone(&self.objects);
        let key = self.key(rel);
        match run_io(async move { objects.head(&key).await })? {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.err(rel)(e)),
        }
    }

    /// What the bucket says of the object at `rel` (size, last modified by its clock, ETag),
    /// `None` if there is none.
    pub(crate) fn head(&self, rel: &str) -> Result<Option<ObjectMeta>, StoreError> {
        let objects = Arc::clone(&self.objects);
        let key = self.key(rel);
        match run_io(async move { objects.head(&key).await })? {
            Ok(meta) => Ok(Some(meta)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err(rel)(e)),
        }
    }

    /// Every object under `rel` (a prefix ending in `/`), keys made store-relative.
    pub(crate) fn list(&self, rel: &str) -> Result<Vec<(String, ObjectMeta)>, StoreError> {
        let objects = Arc::clone(&self.objects);
        let key = self.key(rel.trim_end_matches('/'));
        let listed = run_io(async move { objects.list(Some(&key)).try_collect::<Vec<_>>().await })?
            .map_err(self.err(rel))?;
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        Ok(listed
            .into_iter()
            .filter_map(|meta| {
                let rel = meta.location.as_ref().strip_prefix(&strip)?.to_string();
                Some((rel, meta))
            })
            .collect())
    }

    /// Deletes `rel`; nothing there is fine.
    pub(crate) fn delete(&self, rel: &str) -> Result<(), StoreError> {
        let objects = Arc::clone(&self.objects);
        let key = self.key(rel);
        match run_io(async move { objects.delete(&key).await })? {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err(rel)(e)),
        }
    }

    /// Run `id`'s manifest, `None` if it has none.
    pub(crate) fn manifest(&self, id: &RunId) -> Result<Option<RunManifest>, StoreError> {
        let rel = manifest_key(id);
        let Some(bytes) = self.get(&rel)? else {
            return Ok(None);
        };
        parse_manifest(&self.url_of(&rel), &bytes).map(Some)
    }

    /// Every readable manifest under `runs/` (a warning for each unreadable one).
    pub(crate) fn manifests(&self) -> Result<Vec<Arc<RunManifest>>, StoreError> {
        let listed = self.list("runs/")?;
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for (rel, meta) in listed {
            let Some(name) = rel.strip_prefix("runs/") else {
                continue;
            };
            if name
                .strip_suffix(".json")
                .is_none_or(|stem| RunId::parse(stem).is_err())
            {
                continue;
            }
            seen.push(name.to_string());
            if let Some((etag, size, m)) = self.cache().get(name)
                && *etag == meta.e_tag
                && *size == meta.size
                && etag.is_some()
            {
                out.push(Arc::clone(m));
                continue;
            }
            let parsed = self
                .get(&rel)?
                .map(|bytes| parse_manifest(&self.url_of(&rel), &bytes));
            match parsed {
                Some(Ok(m)) => {
                    let m = Arc::new(m);
                    self.cache()
                        .insert(name.to_string(), (meta.e_tag, meta.size, Arc::clone(&m)));
                    out.push(m);
                }
                Some(Err(e)) => tracing::warn!("skipping {e}"),
                None => {} // deleted since the listing
            }
        }
        self.cache().retain(|name, _| seen.contains(name));
        Ok(out)
    }

    /// Drops run `id`'s manifest from the cache (the run was deleted).
    pub(crate) fn forget_manifest(&self, id: &RunId) {
        self.cache().remove(&format!("{id}.json"));
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedManifest>> {
        // The map holds no invariant a panicking holder could break half way.
        self.manifests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn parse_manifest(location: &str, bytes: &[u8]) -> Result<RunManifest, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Manifest {
        path: location.into(),
        source,
    })
}

/// `runs/<id>.json`.
pub(crate) fn manifest_key(id: &RunId) -> String {
    format!("runs/{id}.json")
}

/// `runs/<id>.rejects.jsonl`.
pub(crate) fn rejects_key(id: &RunId) -> String {
    format!("runs/{id}.rejects.jsonl")
}

/// `samples/run_id=<id>/part-<attempt>-<n>.parquet`: named by the write attempt, so that two
/// writers of one run id never overwrite each other's parts.
pub(crate) fn part_key(id: &RunId, attempt: &str, n: usize) -> String {
    format!("samples/run_id={id}/part-{attempt}-{n}.parquet")
}

/// `rollups/run_id=<id>/rollup.parquet`.
pub(crate) fn rollup_key(id: &str) -> String {
    format!("rollups/run_id={id}/rollup.parquet")
}

/// A fresh write-attempt id (16 hex digits).
pub(crate) fn attempt_id() -> String {
    format!("{:016x}", fastrand::u64(..))
}
