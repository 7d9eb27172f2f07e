//! loadlake's network face: tonic gRPC services over crates/query (reports), crates/store (runs,
//! live runs), crates/import (uploads), native sample streams written into the store, and the
//! controller of distributed runs (agents), Arrow Flight SQL over the same read-only SQL, the
//! standard health and reflection services, and bearer-token auth — all on one port. No report
//! logic lives here: every number is computed by crates/query, as for the CLI.

pub mod agents;
mod api;
mod api_across;
mod api_dashboard;
mod api_doc;
mod api_headlines;
mod api_sql;
mod api_upload;
mod auth;
mod conn;
mod console;
mod console_auth;
mod convert;
mod error;
mod flight;
mod ingest;
mod reports;
mod run_order;
mod runs;
mod stream;
#[cfg(test)]
mod tests;
mod worker;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use loadlake_cluster::{Workers, WorkersConfig};
use loadlake_query::reports::sla::CheckedRule;
use loadlake_query::{EngineOptions, QueryEngine};
use loadlake_schema::IpcLimits;
use loadlake_store::{Store, StoreLocation};
use tokio::net::TcpListener;
use tonic::transport::{Identity, Server, ServerTlsConfig};

pub use error::ServerError;
pub use worker::serve_worker_on;

/// The generated protobuf types and services (`proto/loadlake.proto`).
// A StartLoad (plan, data files) is larger than a StopLoad; commands are few, so no boxing.
#[allow(clippy::large_enum_variant)]
pub mod pb {
    tonic::include_proto!("loadlake.v1");

    /// The encoded descriptor set of loadlake.proto (served by reflection).
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/loadlake_descriptor.bin"));
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The store served: a local directory or a prefix on object storage (several servers may
    /// serve one bucket; what needs local files — live runs, streams, deletions — is refused
    /// there by the store, per call).
    pub store: StoreLocation,
    /// Address [`serve`] binds.
    pub listen: SocketAddr,
    /// Every call must carry `authorization: Bearer <token>` when set.
    pub token: Option<String>,
    /// PEM certificate chain and key for TLS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Longest a query may run.
    pub query_timeout: Duration,
    /// Memory one query may use (DataFusion memory pool), bytes.
    pub query_memory: usize,
    /// Largest message accepted or sent, bytes.
    pub max_message_bytes: usize,
    /// A connection silent this long is closed: HTTP/2 pings go out every half of it and each
    /// must be answered within the other half. This is how an agent cut off by the network
    /// (no FIN, no RST) ends up lost instead of holding its run open.
    pub peer_timeout: Duration,
    /// A connection that has not sent its first bytes (the HTTP/2 preface; with TLS, its
    /// ClientHello, and the TLS handshake must end) this long after it was accepted is closed.
    pub handshake_timeout: Duration,
    /// Connections open at once. At the limit a new connection evicts the oldest one still in
    /// its handshake, or is closed if every open connection is past it.
    pub max_connections: usize,
    /// What one `StreamSamples` message may decode to (bytes, rows).
    pub ipc_limits: IpcLimits,
    /// Bytes all `StreamSamples` messages being decoded and written at once may take decoded;
    /// a message waits for room (never below `ipc_limits.max_decoded_bytes`).
    pub stream_decode_budget: u64,
    /// Query workers to spread queries over (this server coordinates them), called with their
    /// own token if set, else this server's `token`. None: every query runs here.
    pub workers: Option<WorkersConfig>,
    /// SLA rules the console's run pages (and `/api/v1/runs/{id}/sla`) check each run
    /// against (`loadlake serve --sla FILE`); None: no SLA section.
    pub sla_rules: Option<Arc<Vec<CheckedRule>>>,
}

impl ServerConfig {
    /// Defaults for `store` (a directory, or a [`StoreLocation`]): loopback port 50051, no token, 60 s and 1 GiB per query,
    /// 16 MiB messages, peers dropped after 20 s of silence, 10 s for a connection's handshake,
    /// 512 connections, `StreamSamples` messages of at most 64 MiB and 1 000 000 rows decoded,
    /// 256 MiB of them decoded at once.
    pub fn new(store: impl Into<StoreLocation>) -> ServerConfig {
        ServerConfig {
            store: store.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            token: None,
            tls: None,
            query_timeout: Duration::from_secs(60),
            query_memory: 1 << 30,
            max_message_bytes: 16 << 20,
            peer_timeout: Duration::from_secs(20),
            handshake_timeout: Duration::from_secs(10),
            max_connections: 512,
            ipc_limits: IpcLimits::default(),
            stream_decode_budget: 256 << 20,
            workers: None,
            sla_rules: None,
        }
    }

    /// Refuses to expose the store beyond this machine without a token.
    pub fn check_exposure(&self) -> Result<(), ServerError> {
        if !self.listen.ip().is_loopback() && self.token.is_none() {
            return Err(ServerError::NoTokenOnOpenAddress(self.listen));
        }
        Ok(())
    }
}

/// What every service shares.
pub(crate) struct Shared {
    pub store: Store,
    pub config: ServerConfig,
    /// Runs being fed by `StreamSamples`.
    pub live_runs: stream::LiveRuns,
    /// Room for `StreamSamples` messages being decoded.
    pub decode_budget: stream::DecodeBudget,
    /// Load generators joined to this server.
    pub agents: agents::AgentRegistry,
    /// The query workers this server coordinates, if any.
    pub workers: Option<Arc<Workers>>,
}

impl Shared {
    /// A query engine over the store as it is now (runs added since are visible).
    pub(crate) async fn engine(&self) -> Result<QueryEngine, tonic::Status> {
        let options = EngineOptions {
            memory_bytes: Some(self.config.query_memory),
            cluster: self
                .workers
                .clone()
                .map(|w| w as Arc<dyn loadlake_query::QueryCluster>),
        };
        QueryEngine::open_with(&self.store, &options)
            .await
            .map_err(error::query_status)
    }

    /// Runs `work` under the query timeout.
    pub(crate) async fn timed<T>(
        &self,
        work: impl Future<Output = Result<T, tonic::Status>>,
    ) -> Result<T, tonic::Status> {
        match tokio::time::timeout(self.config.query_timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(tonic::Status::deadline_exceeded(format!(
                "the query ran longer than {:?}",
                self.config.query_timeout
            ))),
        }
    }
}

/// Binds `config.listen` (after the exposure check) and serves until `shutdown` completes.
pub async fn serve(
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    config.check_exposure()?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| ServerError::Bind(config.listen, e))?;
    serve_on(listener, config, shutdown).await
}

/// Serves on an already bound listener (tests bind `127.0.0.1:0`).
pub async fn serve_on(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    serve_on_with_http(listener, None, config, shutdown).await
}

/// [`serve_on`], and the JSON API (`/api/v1/…`, src/api.rs) on `http` when given, until
/// `shutdown` completes. Like gRPC, an `http` listener off loopback needs a token.
pub async fn serve_on_with_http(
    listener: TcpListener,
    http: Option<TcpListener>,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    config.check_exposure()?;
    if let Some(http) = &http {
        let addr = http
            .local_addr()
            .map_err(|e| ServerError::Bind(config.listen, e))?;
        if !addr.ip().is_loopback() && config.token.is_none() {
            return Err(ServerError::NoTokenOnOpenAddress(addr));
        }
    }
    let shutdown = futures::FutureExt::shared(Box::pin(shutdown));
    let store = Store::open_location(&config.store)?;
    let local = listener
        .local_addr()
        .map_err(|e| ServerError::Bind(config.listen, e))?;
    let workers = match &config.workers {
        Some(workers) => {
            let workers = Workers::connect(WorkersConfig {
                token: workers.token.clone().or_else(|| config.token.clone()),
                ..workers.clone()
            })
            .await?;
            tracing::info!("coordinating query workers {:?}", workers.live());
            Some(Arc::new(workers))
        }
        None => None,
    };
    let shared = Arc::new(Shared {
        store,
        config: config.clone(),
        live_runs: stream::LiveRuns::default(),
        decode_budget: stream::DecodeBudget::new(
            config.stream_decode_budget,
            config.ipc_limits.max_decoded_bytes,
        ),
        agents: agents::AgentRegistry::default(),
        workers,
    });
    let recovery = tokio::spawn(recover_periodically(shared.clone()));
    let check = auth::BearerCheck::new(config.token.clone());
    let console = match http {
        Some(http) => {
            let router = api::router(shared.clone(), check.clone());
            let stop = shutdown.clone();
            tracing::info!("JSON API on {:?}", http.local_addr().ok());
            Some(tokio::spawn(async move {
                axum::serve(http, router).with_graceful_shutdown(stop).await
            }))
        }
        None => None,
    };
    let limit = config.max_message_bytes;

    let (health_reporter, health) = tonic_health::server::health_reporter();
    let reflection_v1 = reflection()
        .build_v1()
        .map_err(|e| ServerError::Setup(e.to_string()))?;
    // v1alpha too: grpcurl and grpcio's reflection client still ask that one.
    let reflection_alpha = reflection()
        .build_v1alpha()
        .map_err(|e| ServerError::Setup(e.to_string()))?;

    let reports =
        pb::report_service_server::ReportServiceServer::new(reports::Reports::new(shared.clone()))
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit);
    let runs = pb::run_service_server::RunServiceServer::new(runs::Runs::new(shared.clone()))
        .max_decoding_message_size(limit)
        .max_encoding_message_size(limit);
    let ingest =
        pb::ingest_service_server::IngestServiceServer::new(ingest::Ingest::new(shared.clone()))
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit);
    let agents =
        pb::agent_service_server::AgentServiceServer::new(agents::Agents::new(shared.clone()))
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit);
    let flight = arrow_flight::flight_service_server::FlightServiceServer::new(
        flight::FlightSql::new(shared.clone()),
    )
    .max_decoding_message_size(limit)
    .max_encoding_message_size(limit);
    mark_serving(&health_reporter).await;

    let connection_limits = conn::ConnLimits::of(&config);
    let mut builder = transport(&config)?;
    tracing::info!("serving {} on {local}", config.store);
    let served = builder
        .add_service(tonic::service::interceptor::InterceptedService::new(
            reports,
            check.clone(),
        ))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            runs,
            check.clone(),
        ))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            ingest,
            check.clone(),
        ))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            agents,
            check.clone(),
        ))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            flight,
            check.clone(),
        ))
        // Health stays open: orchestrators' probes (Kubernetes gRPC probes, grpc_health_probe)
        // carry no token, and it says nothing of the store. Reflection describes the whole API,
        // so it needs the token like every other service.
        .add_service(health)
        .add_service(tonic::service::interceptor::InterceptedService::new(
            reflection_v1,
            check.clone(),
        ))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            reflection_alpha,
            check,
        ))
        .serve_with_incoming_shutdown(conn::incoming(listener, connection_limits), shutdown)
        .await
        .map_err(|e| ServerError::Transport(e.to_string()));
    recovery.abort();
    if let Some(console) = console {
        match console.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(ServerError::Transport(format!("JSON API: {e}"))),
            Err(e) => return Err(ServerError::Transport(format!("JSON API: {e}"))),
        }
    }
    served
}

/// The reflection service's builder: loadlake's API and the health service described.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
}

/// Tells the health service that every loadlake service is serving.
async fn mark_serving(health: &tonic_health::server::HealthReporter) {
    for name in [
        "loadlake.v1.ReportService",
        "loadlake.v1.RunService",
        "loadlake.v1.IngestService",
        "loadlake.v1.AgentService",
    ] {
        health
            .set_service_status(name, tonic_health::ServingStatus::Serving)
            .await;
    }
}

/// The HTTP/2 transport of `config`: keepalive pings that find dead peers within the peer
/// timeout, and TLS when a certificate is configured.
pub(crate) fn transport(config: &ServerConfig) -> Result<Server, ServerError> {
    let half = config.peer_timeout / 2;
    let builder = Server::builder()
        .http2_keepalive_interval(Some(half))
        .http2_keepalive_timeout(Some(half));
    let Some((cert, key)) = &config.tls else {
        return Ok(builder);
    };
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| ServerError::Tls(p.clone(), e));
    let identity = Identity::from_pem(read(cert)?, read(key)?);
    builder
        .tls_config(
            ServerTlsConfig::new()
                .identity(identity)
                .timeout(config.handshake_timeout),
        )
        .map_err(|e| ServerError::Setup(e.to_string()))
}

/// How often a running server finishes runs left behind (see [`recover_periodically`]).
const RECOVER_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs [`Store::recover`] every [`RECOVER_EVERY`]: a run whose commit failed (a full disk)
/// is finished once space is back, and runs of another process on this store that died are
/// finished, without a restart. Runs written by this server hold their locks and are skipped.
/// On object storage the runs of writers whose drafts went silent are committed (on any host
/// sharing the bucket), [`Store::purge_deleted`] removes the objects of runs deleted more than
/// [`loadlake_store::DELETED_RUN_GRACE`] ago (and finishes deletions cut off half way), and
/// [`Store::collect_garbage`] what other killed writers left, once older than
/// [`loadlake_store::ORPHAN_GRACE`].
async fn recover_periodically(shared: Arc<Shared>) {
    let mut every = tokio::time::interval(RECOVER_EVERY);
    every.tick().await; // opening the store just recovered
    loop {
        every.tick().await;
        let store = shared.store.clone();
        if store.is_remote() {
            // Runs of silent writers are committed; deleted runs are purged after their grace;
            // what killed writers left that nobody acknowledged is removed once old enough.
            match tokio::task::spawn_blocking(move || {
                if let Err(e) = store.recover() {
                    tracing::warn!("recovering runs whose writers stopped: {e}");
                }
                let purged = store.purge_deleted(loadlake_store::DELETED_RUN_GRACE);
                (purged, store.collect_garbage(loadlake_store::ORPHAN_GRACE))
            })
            .await
            {
                Ok((purged, collected)) => {
                    match purged {
                        Ok(0) => {}
                        Ok(n) => tracing::info!("removed the objects of {n} deleted run(s)"),
                        Err(e) => tracing::warn!("removing the objects of deleted runs: {e}"),
                    }
                    match collected {
                        Ok(0) => {}
                        Ok(n) => tracing::info!("removed {n} object(s) no manifest lists"),
                        Err(e) => tracing::warn!("removing orphaned objects: {e}"),
                    }
                }
                Err(e) => tracing::warn!("garbage collection task: {e}"),
            }
            continue;
        }
        match tokio::task::spawn_blocking(move || store.recover()).await {
            Ok(Ok(runs)) => {
                for run in runs {
                    tracing::warn!("recovered run {} ({} samples)", run.run_id, run.samples);
                }
            }
            Ok(Err(e)) => tracing::warn!("recovering interrupted runs: {e}"),
            Err(e) => tracing::warn!("recovery task: {e}"),
        }
    }
}
