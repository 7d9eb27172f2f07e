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
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }
}
