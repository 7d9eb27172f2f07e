//! `loadlake serve --role worker`: a query worker (crates/cluster) behind the server's bearer
//! token, connection limits and TLS, with the health service for probes.

use std::future::Future;

use loadlake_cluster::{WorkerOptions, query_worker};
use loadlake_store::Store;
use tokio::net::TcpListener;

use crate::{ServerConfig, ServerError, auth, conn, transport};

/// Serves a query worker over `config.store` on `listener` until `shutdown` completes: it runs
/// the plan fragments coordinators send (`--workers`), each call carrying `config.token`.
/// Off loopback it needs a token, as every service does.
pub async fn serve_worker_on(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    config.check_exposure()?;
    let store = Store::open_location(&config.store)?;
    let worker = query_worker(
        &store,
        &WorkerOptions {
            memory_bytes: Some(config.query_memory),
            token: config.token.clone(),
        },
    )?;
    let check = auth::BearerCheck::new(config.token.clone());
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("worker.WorkerService", tonic_health::ServingStatus::Serving)
        .await;
    let limits = conn::ConnLimits::of(&config);
    tracing::info!(
        "query worker over {} on {:?}",
        config.store,
        listener.local_addr().ok()
    );
    transport(&config)?
        .add_service(tonic::service::interceptor::InterceptedService::new(
            worker.into_worker_server(),
            check,
        ))
        .add_service(health)
        .serve_with_incoming_shutdown(conn::incoming(listener, limits), shutdown)
        .await
        .map_err(|e| ServerError::Transport(e.to_string()))
}
