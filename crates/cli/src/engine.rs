//! The query engine every command opens: on the store, spread over the query workers of
//! `--workers` when given (connected once per process, on first use).

use std::sync::{Arc, OnceLock};

use anyhow::Context;
use loadlake_cluster::{Workers, WorkersConfig};
use loadlake_query::{EngineOptions, QueryCluster, QueryEngine};
use loadlake_store::Store;

/// `--workers`, as `main` read it.
static CONFIG: OnceLock<Option<WorkersConfig>> = OnceLock::new();

/// The workers once connected.
static CONNECTED: tokio::sync::OnceCell<Option<Workers>> = tokio::sync::OnceCell::const_new();

/// Records the process's `--workers` (call once, before any command opens an engine).
pub(crate) fn use_workers(config: Option<WorkersConfig>) {
    let _ = CONFIG.set(config);
}

/// A query engine over `store`, on the workers of `--workers` if any.
pub(crate) async fn open_engine(store: &Store) -> anyhow::Result<QueryEngine> {
    let workers = CONNECTED
        .get_or_try_init(|| async {
            match CONFIG.get().cloned().flatten() {
                Some(config) => Workers::connect(config)
                    .await
                    .map(Some)
                    .context("connecting to the query workers (--workers)"),
                None => Ok(None),
            }
        })
        .await?;
    let options = EngineOptions {
        cluster: workers
            .clone()
            .map(|w| Arc::new(w) as Arc<dyn QueryCluster>),
        ..EngineOptions::default()
    };
    QueryEngine::open_with(store, &options)
        .await
        .context("opening the query engine")
}
