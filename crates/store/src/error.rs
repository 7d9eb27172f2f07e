//! Store errors.

use std::path::PathBuf;

/// Something the store could not do, with the path involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid run manifest: {source}")]
    Manifest {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("writing Parquet {path}: {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("sorting samples: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("no run '{0}' in this store (see `loadlake runs`)")]
    NoSuchRun(String),
    #[error("run '{0}' is not running (see `loadlake status {0}`)")]
    NotLive(String),
    #[error("tag '{0}' is not KEY=VALUE")]
    BadTag(String),
    #[error("could not allocate a run id after several attempts in {0}")]
    IdExhausted(PathBuf),
    /// An object-storage request failed (after the retries the `object_store` crate makes).
    #[error("{location}: {source}")]
    Remote {
        /// The object or prefix, as a URL (`s3://bucket/prefix/runs/<id>.json`).
        location: String,
        #[source]
        source: object_store::Error,
    },
    /// Another writer committed a run with the same id first (its manifest's conditional
    /// create won); this writer's parts were removed.
    #[error(
        "run '{0}' was committed by another writer at the same moment; this attempt was removed, nothing of it is visible (repeat the import)"
    )]
    RunIdTaken(String),
    /// The runtime that drives object-storage requests could not start or stopped.
    #[error("object storage I/O: {0}")]
    Runtime(String),
    /// A store location that names no store.
    #[error(transparent)]
    Location(#[from] crate::location::LocationError),
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }
}
