//! `loadlake serve`: the gRPC and Flight SQL server of crates/server on the chosen store, until
//! Ctrl-C or SIGTERM, with the JSON API on `--http`. It binds first so that it can print the
//! ports (`--listen 127.0.0.1:0`).

use std::time::Duration;

use anyhow::Context;
use anyhow::bail;
use loadlake_cluster::WorkersConfig;
use loadlake_server::ServerConfig;
use loadlake_store::StoreLocation;

use crate::args::{ServeArgs, ServeRole, read_token};

/// Serves `store` as `args.role` says; a server coordinates `workers` when given.
pub(crate) async fn serve(
    store: StoreLocation,
    args: &ServeArgs,
    workers: Option<WorkersConfig>,
) -> anyhow::Result<()> {
    let mut config = ServerConfig::new(store);
    config.listen = args.listen;
    config.token = args.token_file.as_deref().map(read_token).transpose()?;
    config.tls = args.tls_cert.clone().zip(args.tls_key.clone());
    config.query_timeout = Duration::from_millis(args.query_timeout as u64);
    config.query_memory = args.query_memory_mib.saturating_mul(1 << 20);
    config.peer_timeout = Duration::from_millis(args.peer_timeout as u64);
    config.handshake_timeout = Duration::from_millis(args.handshake_timeout as u64);
    config.max_connections = args.max_connections;
    config.workers = workers;
    config.sla_rules = args
        .sla
        .as_deref()
        .map(loadlake_query::reports::sla::read_rules)
        .transpose()?
        .map(std::sync::Arc::new);
    config.check_exposure()?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let local = listener.local_addr()?;
    if args.role == ServeRole::Worker {
        if args.http.is_some() || config.workers.is_some() {
            bail!("a query worker (--role worker) serves neither --http nor --workers");
        }
        eprintln!("loadlake query worker on {local}");
        loadlake_server::serve_worker_on(listener, config, stop_signal()).await?;
        tracing::info!("stopped");
        return Ok(());
    }
    let http = match args.http {
        Some(addr) => {
            let http = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("listening on {addr} (--http)"))?;
            eprintln!("JSON API on http://{}/api/v1/", http.local_addr()?);
            Some(http)
        }
        None => None,
    };
    // The one line scripts and tests wait for (port 0 picks a free port); it comes last.
    eprintln!("loadlake serving on {local}");
    loadlake_server::serve_on_with_http(listener, http, config, stop_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        return;
    }
    let _ = tokio::signal::ctrl_c().await;
}
