//! [`ClusterError`]: what can go wrong setting up a worker or a coordinator's workers.

/// A cluster that cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// A worker address that is not an http(s) URL.
    #[error("query worker `{0}`: not an http:// or https:// URL")]
    BadUrl(String),
    /// `--workers` named no worker.
    #[error("no query worker given")]
    NoWorkers,
    /// A worker refused the token (or its absence): a setup mistake, reported at once.
    #[error("query worker {url} refused this coordinator: {message}")]
    Refused {
        /// The worker.
        url: String,
        /// Its answer.
        message: String,
    },
    /// Not one worker answered.
    #[error("no query worker answers: {0}")]
    NoneAnswer(String),
    /// The token cannot be sent as an HTTP header.
    #[error("the token cannot be sent in an HTTP header (control characters?)")]
    BadToken,
    /// DataFusion refused the worker's or the coordinator's session.
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// The store's objects are unreachable.
    #[error(transparent)]
    Store(#[from] loadlake_store::StoreError),
}
