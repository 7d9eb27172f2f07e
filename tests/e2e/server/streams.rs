//! `StreamSamples`: acknowledged batches, joined streams, broken-off and killed clients.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use loadlake_server::pb;
use loadlake_server::pb::ingest_service_client::IngestServiceClient;
use loadlake_server::pb::report_service_client::ReportServiceClient;
use loadlake_server::pb::run_service_client::RunServiceClient;
use serde_json::Value;
use tonic::Code;
use tonic::transport::Channel;

use super::{Served, channel, runtime};
use crate::common::*;

/// An Arrow IPC message of `n` samples labelled `label`, elapsed 10, 20, …, rows from `first`.
pub(super) fn ipc_samples(label: &str, first_row: i64, n: i64) -> Vec<u8> {
    let mut b = loadlake_schema::SampleBatchBuilder::new(first_row);
    for i in 0..n {
        let record = loadlake_schema::SampleRecord {
            ts_ms: Some(1_795_000_000_000 + (first_row + i) * 100),
            elapsed_ms: Some((i + 1) * 10),
            label,
            case_name: Some("Native"),
            thread: Some("Native 1-1"),
            response_code: Some("200"),
            success: true,
            ..Default::default()
        };
        b.push(&record).expect("push");
    }
    let batch = b.finish().expect("batch");
    let mut w = arrow::ipc::writer::StreamWriter::try_new(Vec::new(), &batch.schema()).unwrap();
    w.write(&batch).unwrap();
    w.finish().unwrap();
    w.into_inner().unwrap()
}

pub(super) fn open(run_id: &str, name: &str, agent: &str) -> pb::SampleStreamMessage {
    pb::SampleStreamMessage {
        message: Some(pb::sample_stream_message::Message::Open(pb::StreamOpen {
            run_id: run_id.into(),
            run_name: name.into(),
            agent: agent.into(),
            ..Default::default()
        })),
    }
}

pub(super) fn ipc(bytes: Vec<u8>) -> pb::SampleStreamMessage {
    pb::SampleStreamMessage {
        message: Some(pb::sample_stream_message::Message::ArrowIpc(bytes)),
    }
}

/// Opens a stream with `open` as its first message: the sender and the acknowledgements.
pub(super) async fn start_stream(
    client: &mut IngestServiceClient<Channel>,
    open: pb::SampleStreamMessage,
) -> (
    tokio::sync::mpsc::Sender<pb::SampleStreamMessage>,
    tonic::Streaming<pb::SampleStreamAck>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let acks = client
        .stream_samples(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .expect("StreamSamples")
        .into_inner();
    tx.send(open).await.expect("send open");
    (tx, acks)
}

pub(super) fn finish() -> pb::SampleStreamMessage {
    pb::SampleStreamMessage {
        message: Some(pb::sample_stream_message::Message::Finish(
            pb::StreamFinish {},
        )),
    }
}

#[test]
fn sample_streams_are_acknowledged_joined_and_kept_when_cut_off() {
    // On a directory and in the bucket: acknowledged batches are kept either way.
    for store in TestStore::every_kind("streams") {
        streams_on(&store);
    }
}

fn streams_on(store: &TestStore) {
    let served = Served::start(store, &[]);
    runtime().block_on(async {
        let mut ingest = IngestServiceClient::new(channel(&served).await);

        // Stream A opens a run; stream B joins it as another agent.
        let (tx_a, mut acks_a) = start_stream(&mut ingest, open("", "native", "agent-a")).await;
        tx_a.send(ipc(ipc_samples("GET /a", 0, 50))).await.unwrap();
        let ack = acks_a.message().await.unwrap().expect("ack");
        assert_eq!((ack.batches, ack.samples), (1, 50));
        let run_id = ack.run_id.clone();

        let (tx_b, mut acks_b) = start_stream(&mut ingest, open(&run_id, "", "agent-b")).await;
        tx_b.send(ipc(ipc_samples("GET /b", 0, 30))).await.unwrap();
        assert_eq!(acks_b.message().await.unwrap().expect("ack").samples, 30);
        tx_a.send(ipc(ipc_samples("GET /a", 50, 50))).await.unwrap();
        assert_eq!(acks_a.message().await.unwrap().expect("ack").samples, 100);
        // While streams are open the run is RUNNING (and not yet in the catalog).
        let mut runs = RunServiceClient::new(channel(&served).await);
        let status = runs
            .get_run_status(pb::GetRunRequest { run_id: run_id.clone() })
            .await
            .expect("GetRunStatus")
            .into_inner();
        assert_eq!(status.state, pb::run_status::State::Running as i32);
        assert_eq!(status.message, "2 stream(s) open, 130 samples acknowledged");
        // Its report meanwhile has exactly the acknowledged samples (each ack follows a part).
        let mut reports = ReportServiceClient::new(channel(&served).await);
        let report = reports
            .get_report(pb::GetReportRequest {
                run_id: run_id.clone(),
                ..Default::default()
            })
            .await
            .expect("GetReport of a run being streamed")
            .into_inner();
        assert_eq!(report.outline.as_ref().map(|o| o.requests), Some(130));
        tx_a.send(finish()).await.unwrap();
        let last_a = acks_a.message().await.unwrap().expect("last ack");
        assert_eq!(last_a.run_status, "streaming", "B is still open");
        tx_b.send(finish()).await.unwrap();
        let last_b = acks_b.message().await.unwrap().expect("last ack");
        assert_eq!(last_b.run_status, "complete");

        // A stream cut off after two acknowledged batches keeps them; the run is incomplete.
        let (tx_c, mut acks_c) = start_stream(&mut ingest, open("", "cut", "")).await;
        tx_c.send(ipc(ipc_samples("GET /c", 0, 20))).await.unwrap();
        tx_c.send(ipc(ipc_samples("GET /c", 20, 20))).await.unwrap();
        acks_c.message().await.unwrap().expect("ack 1");
        let cut_run = acks_c.message().await.unwrap().expect("ack 2").run_id;
        drop(tx_c);
        drop(acks_c);

        // A malformed message is refused; what came before stays.
        let (tx_d, mut acks_d) = start_stream(&mut ingest, open("", "bad", "")).await;
        tx_d.send(ipc(ipc_samples("GET /d", 0, 5))).await.unwrap();
        acks_d.message().await.unwrap().expect("ack");
        tx_d.send(ipc(b"not arrow at all".to_vec())).await.unwrap();
        drop(tx_d); // the client is done sending; the answer is the server's verdict
        let e = acks_d.message().await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{e}");

        // Wait (bounded) for the cut-off stream's run to be committed.
        let cut = poll(
            50,
            || store.sql(&format!("select status, samples from runs where run_id = '{cut_run}'")),
            |rows| !rows.is_empty(),
        );
        let cut = cut.first().expect("the cut-off run was committed");
        assert_eq!(cut["status"], "incomplete");
        assert_eq!(cut["samples"], 40);

        let rows = store.sql(&format!(
            "select agent, label, count(*) as n, count(distinct row) as rows, avg(elapsed_ms) as avg \
             from samples where run_id = '{run_id}' group by agent, label order by agent"
        ));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["agent"], "agent-a");
        assert_eq!(rows[0]["n"], 100);
        assert_eq!(rows[0]["rows"], 100);
        // Elapsed 10..=500 and 10..=500 again (two batches of 50): average 255.
        assert_eq!(rows[0]["avg"].as_f64(), Some(255.0));
        assert_eq!(rows[1]["agent"], "agent-b");
        assert_eq!(rows[1]["n"], 30);
        let manifest = store.json(&["runs", "--format", "json"]);
        let streamed = manifest
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["run_id"] == run_id.as_str())
            .expect("the joined run");
        assert_eq!(streamed["status"], "complete");
        assert_eq!(streamed["samples"], 130);
    });
}

#[test]
fn the_server_outlives_the_reader_of_its_diagnostics() {
    let store = TestStore::new();
    let mut child = store
        .cmd()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start loadlake serve");
    let mut line = String::new();
    BufReader::new(child.stderr.take().expect("stderr"))
        .read_line(&mut line)
        .expect("read stderr"); // …and the pipe is closed here.
    let served = Served {
        child,
        addr: line
            .trim()
            .trim_start_matches("loadlake serving on ")
            .to_string(),
        http: None,
    };
    runtime().block_on(async {
        let mut ingest = IngestServiceClient::new(channel(&served).await);
        let (tx, mut acks) = start_stream(&mut ingest, open("", "x", "")).await;
        tx.send(ipc(b"garbage".to_vec())).await.unwrap();
        drop(tx);
        // The server logs a warning about this stream to its (closed) stderr.
        assert_eq!(
            acks.message().await.unwrap_err().code(),
            Code::InvalidArgument
        );
        let mut runs = RunServiceClient::new(channel(&served).await);
        assert!(
            runs.list_runs(pb::ListRunsRequest::default()).await.is_ok(),
            "still serving"
        );
    });
}

/// Not a test on its own: run as a child process by
/// `streams_into_two_runs_meanwhile_queries_and_a_killed_client` (which kills it mid-stream).
/// Streams 100-sample batches into a new run at `$LOADLAKE_STREAM_TO` until killed, printing
/// `ACK <run> <samples>` after every acknowledgement.
#[test]
#[ignore = "a helper process of streams_into_two_runs_meanwhile_queries_and_a_killed_client"]
fn stream_client_process() {
    use std::io::Write;
    let Ok(addr) = std::env::var("LOADLAKE_STREAM_TO") else {
        return;
    };
    runtime().block_on(async {
        let ch = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let (tx, mut acks) = start_stream(
            &mut IngestServiceClient::new(ch),
            open("", "killed", "child"),
        )
        .await;
        for i in 0.. {
            tx.send(ipc(ipc_samples("GET /k", i * 100, 100)))
                .await
                .unwrap();
            let ack = acks.message().await.unwrap().unwrap();
            println!("ACK {} {}", ack.run_id, ack.samples);
            std::io::stdout().flush().unwrap();
        }
    });
}

#[test]
fn streams_into_two_runs_meanwhile_queries_and_a_killed_client() {
    let store = TestStore::new();
    let served = Served::start(&store, &[]);
    // A client in its own process, killed (SIGKILL) once 300 samples were acknowledged.
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "server::streams::stream_client_process",
            "--ignored",
            "--nocapture",
        ])
        .env("LOADLAKE_STREAM_TO", &served.addr)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the client process");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut killed_run, mut acked) = (String::new(), 0u64);
    // Meanwhile a second stream into another run, and queries of the store.
    runtime().block_on(async {
        let mut ingest = IngestServiceClient::new(channel(&served).await);
        let (tx, mut acks) = start_stream(&mut ingest, open("", "parallel", "")).await;
        for i in 0..5 {
            tx.send(ipc(ipc_samples("GET /p", i * 200, 200)))
                .await
                .unwrap();
            acks.message().await.unwrap().expect("ack");
            // A query while both streams write.
            let rows = store.sql("select count(*) as n from runs");
            assert!(rows[0]["n"].as_u64().is_some());
        }
        tx.send(finish()).await.unwrap();
        assert_eq!(
            acks.message().await.unwrap().unwrap().run_status,
            "complete"
        );
    });
    for line in lines.by_ref() {
        let line = line.expect("child output");
        if let Some(rest) = line.strip_prefix("ACK ") {
            let (run, n) = rest.split_once(' ').unwrap();
            (killed_run, acked) = (run.to_string(), n.parse().unwrap());
            if acked >= 300 {
                break;
            }
        }
    }
    child.kill().expect("kill the client");
    child.wait().unwrap();
    assert!(acked >= 300, "the client was acknowledged {acked} samples");
    // The server notices the disconnect and commits what was acknowledged (bounded wait).
    let manifest = store.path().join(format!("runs/{killed_run}.json"));
    for _ in 0..100 {
        if manifest.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let m: Value = serde_json::from_slice(&std::fs::read(&manifest).expect("manifest")).unwrap();
    assert_eq!(m["status"], "incomplete");
    let kept = m["samples"].as_u64().unwrap();
    assert!(
        kept >= acked && kept.is_multiple_of(100),
        "kept {kept}, acknowledged {acked}"
    );
    let rows = store.sql(&format!(
        "select count(*) as n from samples where run_id = '{killed_run}'"
    ));
    assert_eq!(
        rows[0]["n"].as_u64(),
        Some(kept),
        "every kept sample is queryable"
    );
    let rows = store.sql("select name, samples, status from runs where name = 'parallel'");
    assert_eq!(rows[0]["samples"], 1000);
    assert_eq!(rows[0]["status"], "complete");
}

/// The next message of a running-data stream (`None` at its end), waited for 10 s at most.
async fn next(stream: &mut tonic::Streaming<pb::RunningData>) -> Option<pb::RunningData> {
    tokio::time::timeout(std::time::Duration::from_secs(10), stream.message())
        .await
        .expect("a message within 10 s")
        .expect("no stream error")
}

#[test]
fn running_data_streams_the_lifecycle_and_stop_run_ends_the_run() {
    use pb::run_status::State;
    let t = Tick::new();
    let served = Served::start(&t.store, &[]);
    let (mut child, run_id) = t.start_held_run();
    runtime().block_on(async {
        let mut runs = RunServiceClient::new(channel(&served).await);
        let request = pb::GetRunRequest {
            run_id: run_id.clone(),
        };
        let mut stream = runs
            .get_running_data(request.clone())
            .await
            .expect("GetRunningData")
            .into_inner();
        let mut observed = Vec::new();
        let running = loop {
            let msg = next(&mut stream)
                .await
                .expect("the stream goes on while running");
            let state = msg.status.as_ref().unwrap().state;
            observed.push(state);
            if state == State::Running as i32 && msg.all_sample_stat.as_ref().unwrap().count > 0 {
                break msg;
            }
        };
        assert_eq!(running.concurrency, 2, "{running:?}");
        assert_eq!(
            (running.agent_count, running.agent_ids.clone()),
            (1, vec!["local".to_string()])
        );
        assert!(
            running.stage.starts_with("hold (concurrency, 2 users)"),
            "{running:?}"
        );
        assert_eq!(running.sample_stat_list[0].name.as_deref(), Some("Home"));
        // The report of the run while it runs: the samples written so far, under its name.
        let mut reports = ReportServiceClient::new(channel(&served).await);
        let mut report = None;
        for _ in 0..50 {
            let r = reports
                .get_report(pb::GetReportRequest {
                    run_id: run_id.clone(),
                    ..Default::default()
                })
                .await
                .expect("GetReport of a live run")
                .into_inner();
            if r.outline.as_ref().is_some_and(|o| o.requests > 0) {
                report = Some(r);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let report = report.expect("a live report with samples within 5 s");
        assert_eq!(report.task_info.as_ref().unwrap().name, "tick.jmx");
        assert_eq!(report.details[0].case_name, "Tickers", "{report:?}");

        let stopping = runs
            .stop_run(request.clone())
            .await
            .expect("StopRun")
            .into_inner();
        assert_eq!(stopping.state, State::Running as i32);
        let mut last = running;
        while let Some(msg) = next(&mut stream).await {
            observed.push(msg.status.as_ref().unwrap().state);
            last = msg;
        }
        let status = last.status.as_ref().unwrap();
        assert_eq!(status.state, State::Stopped as i32, "{last:?}");
        assert_eq!(status.message, "stopped by request (loadlake stop)");
        let order = [
            State::Created,
            State::Preparing,
            State::Ready,
            State::Running,
            State::Stopping,
            State::Stopped,
        ]
        .map(|s| s as i32);
        let history: Vec<i32> = last.history.iter().map(|c| c.state).collect();
        assert_eq!(history, order);
        // What the stream showed came in the same order.
        let mut rank = observed
            .iter()
            .map(|s| order.iter().position(|o| o == s).unwrap());
        let first = rank.next().unwrap();
        assert!(
            rank.try_fold(first, |a, b| (b >= a).then_some(b)).is_some(),
            "{observed:?}"
        );
        assert_eq!(last.concurrency, 0);

        let again = runs.stop_run(request).await.unwrap_err();
        assert_eq!(again.code(), Code::FailedPrecondition);
    });
    assert!(child.wait().unwrap().success());
}
