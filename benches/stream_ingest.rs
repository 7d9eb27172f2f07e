//! Stream ingest and GetReport benchmark (`cargo bench --workspace --bench stream_ingest`;
//! benches/README.md). In one process and one run:
//!
//! 1. `StreamSamples` over loopback gRPC into a fresh store, 1 M samples in batches of 1 000 and
//!    of 10 000 (each batch acknowledged when durable) → samples/s;
//! 2. the same 1 M samples as a JTL CSV through the CLI's import pipeline (crates/import) → samples/s;
//! 3. `GetReport` over gRPC on the 1 M-sample run, against `run_report` called directly (the CLI's
//!    path) → median latency of 5 each.
//!
//! Set `SAMPLES=n` for another size.

use std::io::Write;
use std::time::{Duration, Instant};

use loadlake_query::QueryEngine;
use loadlake_query::functions::PercentileMethod;
use loadlake_query::reports::run_report::{DEFAULT_RANGES, run_report};
use loadlake_server::pb;
use loadlake_server::pb::ingest_service_client::IngestServiceClient;
use loadlake_server::pb::report_service_client::ReportServiceClient;
use loadlake_server::pb::sample_stream_message::Message;
use tonic::transport::Channel;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[path = "bench_samples.rs"]
mod bench_samples;
use bench_samples::{ipc_batch, sample};

/// Streams `total` samples in batches of `batch`; returns (run id, seconds).
async fn stream(ch: Channel, total: i64, batch: i64) -> Result<(String, f64), Error> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut client = IngestServiceClient::new(ch).max_encoding_message_size(64 << 20);
    let started = Instant::now();
    let mut acks = client
        .stream_samples(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await?
        .into_inner();
    let msg = |m| pb::SampleStreamMessage { message: Some(m) };
    tx.send(msg(Message::Open(pb::StreamOpen {
        run_name: format!("stream-{batch}"),
        ..Default::default()
    })))
    .await?;
    // Encode the next batch while the previous one is in flight; keep 2 unacknowledged.
    let sender = tokio::spawn(async move {
        let mut first = 0;
        while first < total {
            let n = batch.min(total - first);
            let bytes = ipc_batch(first, n).map_err(|e| e.to_string())?;
            tx.send(msg(Message::ArrowIpc(bytes)))
                .await
                .map_err(|e| e.to_string())?;
            first += n;
        }
        tx.send(msg(Message::Finish(pb::StreamFinish {})))
            .await
            .map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    });
    let mut run_id = String::new();
    while let Some(ack) = acks.message().await? {
        run_id = ack.run_id;
        if !ack.run_status.is_empty() && ack.run_status != "streaming" {
            break;
        }
    }
    sender.await??;
    Ok((run_id, started.elapsed().as_secs_f64()))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let total: i64 = std::env::var("SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let config = loadlake_server::ServerConfig::new(dir.path().to_path_buf());
    tokio::spawn(loadlake_server::serve_on(
        listener,
        config,
        std::future::pending(),
    ));
    let ch = Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;

    println!("stream ingest and GetReport, {total} samples, loopback, release build");
    let mut run = String::new();
    for batch in [1_000, 10_000] {
        let (id, secs) = stream(ch.clone(), total, batch).await?;
        println!(
            "StreamSamples, batches of {batch:>6}: {secs:6.2} s  {:>10.0} samples/s",
            total as f64 / secs
        );
        run = id;
    }

    // The CLI path: the same samples as a JTL CSV through crates/import.
    let csv = dir.path().join("bench.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&csv)?);
    writeln!(
        f,
        "timeStamp,elapsed,label,responseCode,responseMessage,threadName,success,bytes,grpThreads,allThreads"
    )?;
    for i in 0..total {
        let (label, elapsed, success) = sample(i);
        let code = if success { 200 } else { 500 };
        writeln!(
            f,
            "{},{elapsed},{label},{code},,Bench 1-1,{success},1000,50,50",
            1_795_000_000_000 + i
        )?;
    }
    f.flush()?;
    drop(f);
    let store = loadlake_store::Store::open(dir.path())?;
    let started = Instant::now();
    let request = loadlake_import::ImportRequest {
        files: vec![csv],
        max_errors: 1000,
        ..Default::default()
    };
    loadlake_import::import_files(&store, &request)?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "CLI import of the same CSV:          {secs:6.2} s  {:>10.0} samples/s",
        total as f64 / secs
    );

    let mut grpc = Vec::new();
    let mut direct = Vec::new();
    let mut client = ReportServiceClient::new(ch.clone()).max_decoding_message_size(64 << 20);
    for _ in 0..5 {
        let t = Instant::now();
        client
            .get_report(pb::GetReportRequest {
                run_id: run.clone(),
                brokens_limit_count: 300,
                ..Default::default()
            })
            .await?;
        grpc.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let engine = QueryEngine::open(&store).await?;
        run_report(
            &engine,
            &run,
            PercentileMethod::NearestRank,
            &[],
            &DEFAULT_RANGES,
            None,
        )
        .await?;
        direct.push(t.elapsed().as_secs_f64());
    }
    let (g, d) = (median(grpc), median(direct));
    println!(
        "GetReport (gRPC, incl. 300-point curve): {:7.1} ms median;  run_report direct: {:7.1} ms;  ratio {:.2}",
        g * 1000.0,
        d * 1000.0,
        g / d
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(())
}
