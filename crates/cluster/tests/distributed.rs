//! Distributed queries equal the hand-computed answers: every `.slt` file of crates/query
//! (every query of `queries/` over its hand-written fixture) runs on a coordinator spreading
//! its scans over four query workers, each a real gRPC server on 127.0.0.1 in this process,
//! with one partition per byte so that every scan is split.

#[path = "../../query/tests/slt/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::sync::Arc;

use arrow::array::AsArray;
use loadlake_cluster::{WorkerOptions, Workers, WorkersConfig, query_worker};
use loadlake_query::{EngineOptions, QueryEngine};
use loadlake_store::Store;
use tokio::net::TcpListener;

/// Starts `n` workers over `store` on loopback ports; returns their URLs.
async fn start_workers(store: &Store, n: usize) -> Vec<String> {
    let mut urls = Vec::new();
    for _ in 0..n {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        urls.push(format!("http://{}", listener.local_addr().unwrap()));
        let worker = query_worker(store, &WorkerOptions::default()).unwrap();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(worker.into_worker_server())
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
    }
    urls
}

/// A coordinator's engine over `store`, spreading every scan over `urls`.
async fn coordinator(store: &Store, urls: Vec<String>) -> QueryEngine {
    let workers = Workers::connect(WorkersConfig {
        scan_bytes_per_partition: 1,
        ..WorkersConfig::new(urls, None)
    })
    .await
    .unwrap();
    assert_eq!(workers.live().len(), 4);
    let options = EngineOptions {
        cluster: Some(Arc::new(workers)),
        ..EngineOptions::default()
    };
    QueryEngine::open_with(store, &options).await.unwrap()
}

/// The text of `EXPLAIN sql`'s physical plan.
async fn physical_plan(engine: &QueryEngine, sql: &str) -> String {
    let batches = engine
        .sql_read_only(&format!("EXPLAIN {sql}"))
        .await
        .unwrap();
    let mut text = String::new();
    for b in &batches {
        let kinds = b.column(0).as_string::<i32>();
        let plans = b.column(1).as_string::<i32>();
        for i in 0..b.num_rows() {
            if kinds.value(i) == "physical_plan" {
                text.push_str(plans.value(i));
            }
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_slt_file_passes_distributed_over_four_workers() {
    let dir = tempfile::tempdir().unwrap();
    // Parts of 4 rows: the fixture run in 4 Parquet files, split further by byte ranges.
    let (store, vars) = harness::build_store(dir.path(), 4);
    let urls = start_workers(&store, 4).await;
    let engine = coordinator(&store, urls).await;

    // The plan really is spread: stages over the network, not one node.
    let plan = physical_plan(
        &engine,
        "select label, hist_percentile(ms_histogram(elapsed_ms), 0.9) from samples group by label",
    )
    .await;
    assert!(plan.contains("Stage"), "not distributed:\n{plan}");
    assert!(plan.contains("Network"), "no network boundary:\n{plan}");

    let (failures, files) = harness::run_every_slt_file(engine, vars).await;
    assert!(
        failures.is_empty(),
        "{} of {files} .slt files failed distributed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}
