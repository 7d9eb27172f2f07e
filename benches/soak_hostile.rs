//! The hostile client of the soak (`SOAK_HOSTILE=1`, benches/README.md "Soak"): while the mixed
//! load runs it keeps sending what issue 14 found could take a server down — a zstd
//! decompression bomb, an XML upload nested 3 000 levels deep, a page token cut inside a
//! character — and holds idle TCP connections that never send the HTTP/2 preface. Each request
//! must get its clear status (an unexpected answer is recorded as an error of rpc `hostile`);
//! the point is the other clients' p99 next to a run without it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{RecordBatch, StringArray};
use arrow::ipc::CompressionType;
use arrow::ipc::writer::{IpcWriteOptions, StreamWriter};
use loadlake_schema::{SampleBatchBuilder, SampleRecord, col};
use loadlake_server::pb;
use loadlake_server::pb::ingest_service_client::IngestServiceClient;
use loadlake_server::pb::run_service_client::RunServiceClient;
use loadlake_server::pb::sample_stream_message::Message;
use tonic::Code;
use tonic::transport::Channel;

use super::{Error, Stats};

/// Idle connections the hostile client keeps open (re-opened when the server closes them).
const IDLE_CONNECTIONS: usize = 50;

/// 100 samples whose labels are 1 MiB of `x` each, zstd: 100 MiB decoded, a few KB sent.
pub(crate) fn zstd_bomb() -> Result<Vec<u8>, Error> {
    let mut b = SampleBatchBuilder::new(0);
    for i in 0..100 {
        b.push(&SampleRecord {
            ts_ms: Some(1_795_000_000_000 + i),
            elapsed_ms: Some(10),
            label: "x",
            success: true,
            ..Default::default()
        })?;
    }
    let batch = b.finish()?;
    let label = "x".repeat(1 << 20);
    let i = batch.schema().index_of(col::LABEL)?;
    let mut columns = batch.columns().to_vec();
    columns[i] = Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
        label.as_str(),
        100,
    )));
    let batch = RecordBatch::try_new(batch.schema(), columns)?;
    let options = IpcWriteOptions::default().try_with_compression(Some(CompressionType::ZSTD))?;
    let mut w = StreamWriter::try_new_with_options(Vec::new(), &batch.schema(), options)?;
    w.write(&batch)?;
    w.finish()?;
    Ok(w.into_inner()?)
}

/// A JTL XML file whose samples nest `depth` levels deep.
pub(crate) fn deep_xml(depth: usize) -> Vec<u8> {
    let open = r#"<httpSample t="1" ts="1795000000000" s="true" lb="x" rc="200">"#;
    let mut xml = String::from("<?xml version=\"1.0\"?>\n<testResults version=\"1.2\">\n");
    xml.push_str(&open.repeat(depth));
    xml.push_str(&"</httpSample>".repeat(depth));
    xml.push_str("</testResults>\n");
    xml.into_bytes()
}

/// Whether `result` is the refusal expected (`code`), else what happened instead.
fn refused_with<T>(result: Result<T, tonic::Status>, code: Code) -> Result<(), String> {
    match result {
        Err(status) if status.code() == code => Ok(()),
        Err(status) => Err(format!("expected {code:?}, got {status}")),
        Ok(_) => Err(format!("expected {code:?}, the request was accepted")),
    }
}

/// One round of hostile requests, each timed and checked as rpc `hostile`.
pub(crate) async fn hostile_round(ch: &Channel, bomb: &[u8], xml: &[u8], stats: &Stats) {
    // The bomb, in a stream of its own.
    let started = Instant::now();
    let outcome = async {
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let msg = |m| pb::SampleStreamMessage { message: Some(m) };
        let open = pb::StreamOpen {
            run_name: "hostile".into(),
            ..Default::default()
        };
        let _ = tx.send(msg(Message::Open(open))).await;
        let _ = tx.send(msg(Message::ArrowIpc(bomb.to_vec()))).await;
        let mut client = IngestServiceClient::new(ch.clone());
        let rx = tokio_stream::wrappers::ReceiverStream::new(rx);
        let mut acks = client
            .stream_samples(rx)
            .await
            .map_err(|s| format!("StreamSamples: {s}"))?
            .into_inner();
        let first = acks.message().await;
        drop(tx);
        refused_with(first, Code::ResourceExhausted)
    }
    .await;
    stats.record("hostile", started, outcome.err());

    // The deep XML, uploaded.
    let started = Instant::now();
    let chunks = vec![pb::ImportFileChunk {
        options: Some(pb::ImportOptions {
            file_name: "deep.xml".into(),
            run_name: "hostile".into(),
            ..Default::default()
        }),
        data: xml.to_vec(),
    }];
    let mut ingest = IngestServiceClient::new(ch.clone());
    let outcome = refused_with(
        ingest.import_file(futures::stream::iter(chunks)).await,
        Code::InvalidArgument,
    );
    stats.record("hostile", started, outcome.err());

    // A page token cut inside a character.
    let started = Instant::now();
    let mut runs = RunServiceClient::new(ch.clone());
    let request = pb::ListRunsRequest {
        next_token: "aéa".into(),
        ..Default::default()
    };
    let outcome = refused_with(runs.list_runs(request).await, Code::InvalidArgument);
    stats.record("hostile", started, outcome.err());
}

/// Keeps [`IDLE_CONNECTIONS`] bare TCP connections to `addr` open until `end`, never sending a
/// byte; one the server closes is opened again.
pub(crate) async fn hold_idle_connections(addr: String, end: Instant) {
    let mut held = Vec::new();
    while Instant::now() < end {
        held.retain(|c: &tokio::net::TcpStream| c.peer_addr().is_ok());
        while held.len() < IDLE_CONNECTIONS {
            match tokio::net::TcpStream::connect(&addr).await {
                Ok(c) => held.push(c),
                Err(_) => break,
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
