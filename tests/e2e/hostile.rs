//! Hostile and broken clients (issue 14): Arrow IPC with lying length prefixes and compression
//! bombs, samples outside the plausible range by every way in (CSV, XML, `StreamSamples`), bad
//! page tokens, and silent sockets at the file-descriptor limit. Each gets a clear answer, and
//! the server keeps serving everyone else.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::array::{ArrayRef, StringArray};
use arrow::ipc::CompressionType;
use arrow::ipc::writer::{IpcWriteOptions, StreamWriter};
use arrow::record_batch::RecordBatch;
use loadlake_schema::{SampleBatchBuilder, SampleRecord, col, sample_schema};
use loadlake_server::pb;
use loadlake_server::pb::ingest_service_client::IngestServiceClient;
use loadlake_server::pb::run_service_client::RunServiceClient;
use loadlake_server::pb::sample_stream_message::Message;
use tonic::Code;
use tonic::transport::Channel;

use crate::common::*;

/// A `loadlake serve` child on a free loopback port (under `ulimit -n`, if given), its stderr
/// lines collected; killed when dropped.
struct Serve {
    child: Child,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    fn start(store: &TestStore, max_open_files: Option<u32>) -> Serve {
        Self::start_with(store, max_open_files, &[])
    }

    /// [`Serve::start`] with more arguments of `loadlake serve`.
    fn start_with(store: &TestStore, max_open_files: Option<u32>, extra: &[&str]) -> Serve {
        let mut cmd = match max_open_files {
            None => store.cmd(),
            Some(n) => {
                let mut c = std::process::Command::new("sh");
                c.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\"")])
                    .arg(env!("CARGO_BIN_EXE_loadlake"))
                    .arg("--store")
                    .arg(store.path());
                c
            }
        };
        let mut child = cmd
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start loadlake serve");
        let mut reader = BufReader::new(child.stderr.take().expect("stderr"));
        let mut line = String::new();
        reader.read_line(&mut line).expect("read stderr");
        let addr = line
            .trim()
            .strip_prefix("loadlake serving on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_string();
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            for l in reader.lines().map_while(Result::ok) {
                eprintln!("[serve] {l}");
                lines.lock().unwrap().push(l);
            }
        });
        Serve { child, addr, log }
    }

    async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect_timeout(Duration::from_secs(60))
            .connect()
            .await
            .expect("connect")
    }

    /// CPU time (user + system) the server used so far, in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // Fields after the command name (which ends with ')'): state is field 3, utime 14, stime 15.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("runtime")
}

/// `n` samples from row 0: ts 1 795 000 000 000 + 100·i, elapsed 10·(i+1).
fn samples(n: i64) -> RecordBatch {
    let mut b = SampleBatchBuilder::new(0);
    for i in 0..n {
        b.push(&SampleRecord {
            ts_ms: Some(1_795_000_000_000 + i * 100),
            elapsed_ms: Some((i + 1) * 10),
            label: "GET /",
            response_code: Some("200"),
            success: true,
            ..Default::default()
        })
        .expect("push");
    }
    b.finish().expect("batch")
}

/// `batch` with column `name` of row `at` set to `value` (an Int64 or timestamp column).
fn with_value(batch: &RecordBatch, name: &str, at: usize, value: i64) -> RecordBatch {
    use arrow::array::{Array, AsArray, Int64Array};
    use arrow::datatypes::{DataType, Int64Type};
    let i = batch.schema().index_of(name).unwrap();
    let column = batch.column(i);
    // As Int64 and back: a timestamp keeps its unit and time zone.
    let as_int = arrow::compute::cast(column, &DataType::Int64).unwrap();
    let old = as_int.as_primitive::<Int64Type>();
    let values: Int64Array = (0..old.len())
        .map(|r| {
            if r == at {
                Some(value)
            } else {
                old.is_valid(r).then(|| old.value(r))
            }
        })
        .collect();
    let replaced: ArrayRef = arrow::compute::cast(&values, column.data_type()).unwrap();
    let mut columns = batch.columns().to_vec();
    columns[i] = replaced;
    RecordBatch::try_new(batch.schema(), columns).unwrap()
}

fn ipc(batch: &RecordBatch, compression: Option<CompressionType>) -> Vec<u8> {
    let options = IpcWriteOptions::default()
        .try_with_compression(compression)
        .unwrap();
    let mut w = StreamWriter::try_new_with_options(Vec::new(), &sample_schema(), options).unwrap();
    w.write(batch).unwrap();
    w.finish().unwrap();
    w.into_inner().unwrap()
}

/// Overwrites the first uncompressed-length prefix of `len` (followed by `magic`) with `to`.
fn patch_prefix(bytes: &mut [u8], len: u64, magic: [u8; 4], to: u64) {
    let mut needle = len.to_le_bytes().to_vec();
    needle.extend_from_slice(&magic);
    let at = bytes
        .windows(12)
        .position(|w| w == needle.as_slice())
        .expect("a compressed buffer of that length");
    bytes[at..at + 8].copy_from_slice(&to.to_le_bytes());
}

fn message(m: Message) -> pb::SampleStreamMessage {
    pb::SampleStreamMessage { message: Some(m) }
}

/// Streams `messages` after an `open` (a new run named `name`) and returns the acks received
/// and how the stream ended (the status of a refused message, or `None` when it finished).
async fn stream(
    serve: &Serve,
    name: &str,
    messages: Vec<Vec<u8>>,
) -> (Vec<pb::SampleStreamAck>, Option<tonic::Status>) {
    let mut client = IngestServiceClient::new(serve.channel().await)
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20);
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut acks = client
        .stream_samples(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .expect("StreamSamples")
        .into_inner();
    let open = pb::StreamOpen {
        run_name: name.into(),
        ..Default::default()
    };
    tx.send(message(Message::Open(open))).await.unwrap();
    let mut got = Vec::new();
    for bytes in messages {
        if tx.send(message(Message::ArrowIpc(bytes))).await.is_err() {
            break;
        }
        match acks.message().await {
            Ok(Some(ack)) => got.push(ack),
            Ok(None) => break,
            Err(status) => return (got, Some(status)),
        }
    }
    let _ = tx.send(message(Message::Finish(pb::StreamFinish {}))).await;
    drop(tx);
    loop {
        match acks.message().await {
            Ok(Some(ack)) => got.push(ack),
            Ok(None) => return (got, None),
            Err(status) => return (got, Some(status)),
        }
    }
}

const LZ4_MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

#[test]
fn lying_prefixes_and_compression_bombs_are_refused_and_the_server_stays_up() {
    let store = TestStore::new();
    let serve = Serve::start(&store, None);
    runtime().block_on(async {
        // 50 good samples, acknowledged; then 11 KB whose LZ4 prefix says 2^45 bytes.
        let good = ipc(&samples(50), Some(CompressionType::LZ4_FRAME));
        let mut lying = ipc(&samples(100), Some(CompressionType::LZ4_FRAME));
        patch_prefix(&mut lying, 800, LZ4_MAGIC, 1 << 45);
        let (acks, end) = stream(&serve, "lying", vec![good, lying]).await;
        assert_eq!(acks.iter().map(|a| a.samples).collect::<Vec<_>>(), vec![50]);
        let status = end.expect("the lying message is refused");
        assert_eq!(status.code(), Code::ResourceExhausted, "{status}");
        assert!(status.message().contains("67108864"), "{status}");
        let run = acks[0].run_id.clone();

        // A zstd bomb: 100 labels of 1 MiB of 'x', 100 MiB decoded, a few KB on the wire.
        let bomb = {
            let label = "x".repeat(1 << 20);
            let batch = samples(100);
            let i = batch.schema().index_of(col::LABEL).unwrap();
            let mut columns = batch.columns().to_vec();
            columns[i] = Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
                label.as_str(),
                100,
            )));
            ipc(
                &RecordBatch::try_new(batch.schema(), columns).unwrap(),
                Some(CompressionType::ZSTD),
            )
        };
        assert!(bomb.len() < 1 << 20, "the bomb is {} bytes", bomb.len());
        let mut declares = (100u64 << 20).to_le_bytes().to_vec();
        declares.extend_from_slice(&ZSTD_MAGIC);
        assert!(
            bomb.windows(12).any(|w| w == declares.as_slice()),
            "the labels' buffer declares 100 MiB"
        );
        let (acks, end) = stream(&serve, "bomb", vec![bomb]).await;
        assert!(acks.is_empty());
        let status = end.expect("the bomb is refused");
        assert_eq!(status.code(), Code::ResourceExhausted, "{status}");

        // The server is up and the first run keeps what was acknowledged.
        let mut runs = RunServiceClient::new(serve.channel().await);
        let got = runs
            .get_run(pb::GetRunRequest {
                run_id: run.clone(),
            })
            .await
            .expect("GetRun after the bombs")
            .into_inner();
        assert_eq!((got.samples, got.status.as_str()), (50, "incomplete"));
    });
}

#[test]
fn samples_outside_the_plausible_range_are_refused_by_every_way_in() {
    let store = TestStore::new();
    let dir = tempfile::tempdir().unwrap();
    // CSV: an 18-digit timestamp and a 12.7-year elapsed (both read as numbers before), and a
    // negative elapsed of 5 ms, which stays accepted.
    let header = "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect\n";
    let row = |ts: &str, elapsed: &str, label: &str| {
        format!("{ts},{elapsed},{label},200,OK,T 1-1,text,true,,1,1,1,1,u,0,0,0\n")
    };
    let csv = format!(
        "{header}{}{}{}{}",
        row("1700000000000", "100", "ok"),
        row("999999999999999999", "100", "far-ts"),
        row("1700000000002", "400000000000", "long"),
        row("1700000000003", "-5", "negative"),
    );
    let path = dir.path().join("range.csv");
    std::fs::write(&path, csv).unwrap();
    let run = store.import(&[path.to_str().unwrap()]);
    let labels = store.sql(&format!(
        "select label from samples where run_id = '{run}' order by \"row\""
    ));
    assert_eq!(
        labels,
        vec![
            serde_json::json!({"label": "ok"}),
            serde_json::json!({"label": "negative"})
        ]
    );
    let rejects = rejects_of(&store, &run);
    assert_eq!(
        rejects,
        vec![(3, "timeStamp".into()), (4, "elapsed".into())]
    );

    // XML: the same values as attributes.
    let xml = "<testResults version=\"1.2\">\n\
        <sample t=\"5\" ts=\"1700000000000\" lb=\"ok\" s=\"true\"/>\n\
        <sample t=\"5\" ts=\"999999999999999999\" lb=\"far-ts\" s=\"true\"/>\n\
        <sample t=\"400000000000\" ts=\"1700000000002\" lb=\"long\" s=\"true\"/>\n\
        </testResults>\n";
    let path = dir.path().join("range.xml");
    std::fs::write(&path, xml).unwrap();
    let run = store.import(&[path.to_str().unwrap()]);
    let rows = store.sql(&format!("select label from samples where run_id = '{run}'"));
    assert_eq!(rows, vec![serde_json::json!({"label": "ok"})]);
    assert_eq!(
        rejects_of(&store, &run),
        vec![(3, "ts".into()), (4, "t".into())]
    );

    // StreamSamples: a good batch, then one with ts = i64::MAX at row 2 (the run keeps only
    // the good one); another stream with elapsed = 2^62.
    let serve = Serve::start(&store, None);
    runtime().block_on(async {
        let bad_ts = with_value(&samples(5), col::TS, 2, i64::MAX);
        let (acks, end) = stream(
            &serve,
            "range",
            vec![ipc(&samples(20), None), ipc(&bad_ts, None)],
        )
        .await;
        assert_eq!(acks.len(), 1);
        let status = end.expect("the out-of-range batch is refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{status}");
        assert!(
            status.message().contains("row 2 of the batch") && status.message().contains("ts "),
            "{status}"
        );
        let run = acks[0].run_id.clone();
        let long = with_value(&samples(3), col::ELAPSED_MS, 0, 1 << 62);
        let (acks, end) = stream(&serve, "range 2", vec![ipc(&long, None)]).await;
        assert!(acks.is_empty());
        let status = end.expect("2^62 ms is refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{status}");
        assert!(status.message().contains("row 0 of the batch") && status.message().contains("elapsed_ms"), "{status}");
        drop(serve);
        // Nothing of the refused message was written: 20 rows, the last at 1 795 000 001 900.
        let got = store.sql(&format!(
            "select count(*) as n, cast(max(ts) as bigint) as last from samples where run_id = '{run}'"
        ));
        assert_eq!(got, vec![serde_json::json!({"n": 20, "last": 1_795_000_001_900i64})]);
    });
}

/// (line, field) of each reject of `run`.
fn rejects_of(store: &TestStore, run: &str) -> Vec<(u64, String)> {
    store
        .rejects(run)
        .into_iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["field"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn bad_page_tokens_are_invalid_argument() {
    let store = TestStore::new();
    let serve = Serve::start(&store, None);
    runtime().block_on(async {
        let mut runs = RunServiceClient::new(serve.channel().await);
        let good_hex_of_no_run_id: String = "hello".bytes().map(|b| format!("{b:02x}")).collect();
        for token in [
            "aéa",
            "é",
            "zz",
            "abc",
            "+1",
            "ff",
            good_hex_of_no_run_id.as_str(),
        ] {
            let e = runs
                .list_runs(pb::ListRunsRequest {
                    next_token: token.into(),
                    ..Default::default()
                })
                .await
                .expect_err(token);
            assert_eq!(e.code(), Code::InvalidArgument, "{token:?}: {e}");
        }
        let page = runs
            .list_runs(pb::ListRunsRequest::default())
            .await
            .expect("the server still answers")
            .into_inner();
        assert_eq!(page.total, 0);
    });
}

#[test]
fn silent_sockets_at_the_file_descriptor_limit_neither_spin_nor_lock_clients_out() {
    let store = TestStore::new();
    // 64 descriptors: the server runs out of them long before its 512-connection limit.
    let serve = Serve::start_with(&store, Some(64), &["--handshake-timeout", "3s"]);
    let silent: Vec<TcpStream> = (0..70)
        .map(|_| TcpStream::connect(&serve.addr).expect("connect"))
        .collect();
    let out_of_fds = poll(
        50,
        || {
            serve
                .log
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.contains("Too many open files"))
        },
        |&seen| seen,
    );
    assert!(out_of_fds, "the server never ran out of file descriptors");
    // Out of descriptors with connections waiting, the accept loop backs off instead of
    // retrying at once: over 2 s it uses well under half a second of CPU (a spin uses all 2 s).
    let ticks_per_s = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    let before = serve.cpu_ticks();
    std::thread::sleep(Duration::from_secs(2));
    let used = serve.cpu_ticks() - before;
    assert!(used < ticks_per_s / 2, "{used} ticks of CPU in 2 s");
    // Silent sockets are closed after the handshake timeout (3 s here, `--handshake-timeout`):
    // the first one reads end-of-file (or a reset), and a real client gets in.
    let mut first = &silent[0];
    first
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    // (The server may first send its own HTTP/2 SETTINGS: read past them.)
    let mut buf = [0u8; 256];
    loop {
        match std::io::Read::read(&mut first, &mut buf) {
            Ok(0) => break,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("a silent socket was not closed by the server: {e}"),
        }
    }
    runtime().block_on(async {
        let call = async {
            let mut runs = RunServiceClient::new(serve.channel().await);
            runs.list_runs(pb::ListRunsRequest::default()).await
        };
        let page = tokio::time::timeout(Duration::from_secs(60), call)
            .await
            .expect("a client is served once the silent sockets are closed")
            .expect("ListRuns")
            .into_inner();
        assert_eq!(page.total, 0);
    });
    drop(silent);
}
