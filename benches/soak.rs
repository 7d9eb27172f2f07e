//! Soak benchmark of `loadlake serve` (`cargo bench --workspace --bench soak`; benches/README.md).
//!
//! Starts the `loadlake` binary (`LOADLAKE_BIN`, else the one in this bench's target profile
//! directory) on a temporary store, streams a 300 000-sample run to report on, then runs a mixed
//! load for `SOAK_SECS` (default 600): 2 stream clients (50 batches of 1 000 samples per stream,
//! each sent once the previous one is acknowledged), 1 upload client (`ImportFile` of
//! sample-data/checkout.jtl, force, a new connection each time), 2 report clients (`GetReport`,
//! `GetAwChart`, `ListRuns`) and 1 Flight SQL client. Every 5 s it samples the server's VmRSS and
//! open fds, printing that curve every 30 s; then latency per RPC and whether RSS and fds
//! flattened: the mean of the last minute within 10 % of the mean over 30–50 % of the run
//! (minutes 4–5 of 600 s). Fails when the server dies or does not stop cleanly on SIGTERM.
//!
//! The stream and upload clients keep their newest `SOAK_KEEP_RUNS` runs (default 20) and
//! delete older ones (`DeleteRun`), as a team's retention would: the store then reaches a steady
//! size and a growing curve means a leak, not a bigger store. `SOAK_KEEP_RUNS=0` keeps every run.
//!
//! `SOAK_HOSTILE=1` adds a hostile client (`soak_hostile.rs`: decompression bombs, deeply nested
//! XML, bad page tokens, idle connections that never speak); compare the other clients' p99
//! with a run without it.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Display;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow_flight::sql::client::FlightSqlServiceClient;
use futures::TryStreamExt;
use loadlake_server::pb;
use loadlake_server::pb::ingest_service_client::IngestServiceClient;
use loadlake_server::pb::report_service_client::ReportServiceClient;
use loadlake_server::pb::run_service_client::RunServiceClient;
use loadlake_server::pb::sample_stream_message::Message;
use tonic::transport::Channel;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[path = "bench_samples.rs"]
mod bench_samples;
use bench_samples::ipc_batch;
#[path = "soak_hostile.rs"]
mod soak_hostile;

const FLIGHT_SQL: &str = "select label, count(*), avg(elapsed_ms) from samples group by label";
/// p99 of the earlier 75 s mixed load (issue 14), seconds.
const PREVIOUS_P99: [(&str, f64); 5] = [
    ("GetReport", 3.0),
    ("GetAwChart", 1.3),
    ("ListRuns", 0.24),
    ("Flight SQL", 1.05),
    ("stream ack", 0.28),
];

/// Per RPC: (seconds into the load, latency) of each success; errors and the first one's text.
type Rec = (Vec<(f64, f64)>, u64, Option<String>);
/// Seconds into the load, server RSS MiB, server open fds.
type Point = (f64, f64, f64);

/// What the clients record, shared.
struct Stats {
    start: Instant,
    recs: Mutex<BTreeMap<&'static str, Rec>>,
    /// Requests, errors, samples acknowledged.
    counts: [AtomicU64; 3],
}

impl Stats {
    fn new() -> Stats {
        let (recs, counts) = Default::default();
        Stats {
            start: Instant::now(),
            recs,
            counts,
        }
    }

    fn record(&self, rpc: &'static str, started: Instant, error: Option<String>) {
        self.counts[0].fetch_add(1, Relaxed);
        let Ok(mut recs) = self.recs.lock() else {
            return;
        };
        let r = recs.entry(rpc).or_default();
        let at = self.start.elapsed().as_secs_f64();
        match error {
            None => r.0.push((at, started.elapsed().as_secs_f64())),
            Some(e) => {
                self.counts[1].fetch_add(1, Relaxed);
                r.1 += 1;
                r.2.get_or_insert(e);
            }
        }
    }

    /// Times `call`; on error records it and pauses 200 ms (a dead server must not spin us).
    async fn time<T, E: Display>(
        &self,
        rpc: &'static str,
        call: impl Future<Output = Result<T, E>>,
    ) -> Option<T> {
        let started = Instant::now();
        let result = call.await;
        self.record(rpc, started, result.as_ref().err().map(|e| e.to_string()));
        if result.is_err() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        result.ok()
    }
}

/// One `StreamSamples` call: `batches` batches of `per` samples, each sent once the previous one
/// is acknowledged (latency: "stream ack"), then `finish` ("stream finish"). Returns the run id.
async fn stream_run(ch: Channel, batches: i64, per: i64, stats: &Stats) -> Result<String, Error> {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    let msg = |m| pb::SampleStreamMessage { message: Some(m) };
    let open = pb::StreamOpen {
        run_name: "soak".into(),
        ..Default::default()
    };
    tx.send(msg(Message::Open(open))).await?;
    let mut client = IngestServiceClient::new(ch).max_encoding_message_size(64 << 20);
    let rx = tokio_stream::wrappers::ReceiverStream::new(rx);
    let mut acks = client.stream_samples(rx).await?.into_inner();
    let mut run_id = String::new();
    for i in 0..batches {
        let bytes = ipc_batch(i * per, per)?;
        let started = Instant::now();
        tx.send(msg(Message::ArrowIpc(bytes))).await?;
        loop {
            let ack = acks
                .message()
                .await?
                .ok_or("the server ended the stream early")?;
            run_id = ack.run_id;
            if ack.batches > i as u64 {
                break;
            }
        }
        stats.record("stream ack", started, None);
        stats.counts[2].fetch_add(per as u64, Relaxed);
    }
    let started = Instant::now();
    tx.send(msg(Message::Finish(pb::StreamFinish {}))).await?;
    drop(tx);
    while let Some(ack) = acks.message().await? {
        if !ack.run_status.is_empty() && ack.run_status != "streaming" {
            break;
        }
    }
    stats.record("stream finish", started, None);
    Ok(run_id)
}

async fn connect(url: &str) -> Result<Channel, Error> {
    Ok(Channel::from_shared(url.to_string())?.connect().await?)
}

/// What every client shares.
struct Ctx {
    url: String,
    run: String,
    /// The `ImportFile` messages of sample-data/checkout.jtl.
    upload: Vec<pb::ImportFileChunk>,
    stats: Stats,
    end: Instant,
    /// Runs each stream and upload client keeps (0: all).
    keep_runs: usize,
    /// The hostile client's zstd bomb and deeply nested XML.
    hostile: (Vec<u8>, Vec<u8>),
}

/// Deletes the oldest of `runs` (a client's own runs, oldest first) beyond the newest `keep`.
async fn apply_retention(ch: &Channel, runs: &mut VecDeque<String>, keep: usize, stats: &Stats) {
    while keep > 0 && runs.len() > keep {
        let Some(run_id) = runs.pop_front() else {
            return;
        };
        let mut client = RunServiceClient::new(ch.clone());
        let req = pb::DeleteRunRequest { run_id };
        stats.time("DeleteRun", client.delete_run(req)).await;
    }
}

#[derive(Clone, Copy)]
enum Client {
    Stream,
    Upload,
    Report,
    FlightSql,
    Hostile,
}

/// Runs one client of the mixed load until `ctx.end`.
async fn client(kind: Client, ctx: Arc<Ctx>) {
    let (stats, run) = (&ctx.stats, &ctx.run);
    let Some(mut ch) = stats.time("connect", connect(&ctx.url)).await else {
        return;
    };
    let mut own_runs = VecDeque::new();
    while Instant::now() < ctx.end {
        match kind {
            Client::Stream => match stream_run(ch.clone(), 50, 1_000, stats).await {
                Ok(run_id) => {
                    own_runs.push_back(run_id);
                    apply_retention(&ch, &mut own_runs, ctx.keep_runs, stats).await;
                }
                Err(e) => {
                    stats.record("stream ack", Instant::now(), Some(e.to_string()));
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            },
            Client::Upload => {
                let mut ingest = IngestServiceClient::new(ch.clone());
                let chunks = futures::stream::iter(ctx.upload.clone());
                if let Some(done) = stats.time("ImportFile", ingest.import_file(chunks)).await {
                    own_runs.push_back(done.into_inner().run_id);
                    apply_retention(&ch, &mut own_runs, ctx.keep_runs, stats).await;
                }
                // A new connection for every upload, as a CLI or a CI job would open.
                if let Some(next) = stats.time("connect", connect(&ctx.url)).await {
                    ch = next;
                }
            }
            Client::Report => {
                let mut reports =
                    ReportServiceClient::new(ch.clone()).max_decoding_message_size(64 << 20);
                let req = pb::GetReportRequest {
                    run_id: run.clone(),
                    brokens_limit_count: 300,
                    ..Default::default()
                };
                stats.time("GetReport", reports.get_report(req)).await;
                let req = pb::GetAwChartRequest {
                    run_id: run.clone(),
                    case_id: "Bench".into(),
                    detail_id: "login".into(),
                    brokens_limit_count: 300,
                    ..Default::default()
                };
                stats.time("GetAwChart", reports.get_aw_chart(req)).await;
                let mut runs =
                    RunServiceClient::new(ch.clone()).max_decoding_message_size(64 << 20);
                stats
                    .time("ListRuns", runs.list_runs(pb::ListRunsRequest::default()))
                    .await;
            }
            Client::Hostile => {
                let (bomb, xml) = &ctx.hostile;
                soak_hostile::hostile_round(&ch, bomb, xml, stats).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Client::FlightSql => {
                let mut client = FlightSqlServiceClient::new(ch.clone());
                let query = async {
                    let info = client.execute(FLIGHT_SQL.to_string(), None).await?;
                    let mut rows = 0;
                    for ticket in info.endpoint.into_iter().filter_map(|e| e.ticket) {
                        let batches: Vec<_> = client.do_get(ticket).await?.try_collect().await?;
                        rows += batches.iter().map(|b| b.num_rows()).sum::<usize>();
                    }
                    if rows == 0 {
                        Err("no rows".into())
                    } else {
                        Ok::<_, Error>(rows)
                    }
                };
                stats.time("Flight SQL", query).await;
            }
        }
    }
}

/// The loadlake binary: `LOADLAKE_BIN`, else `loadlake` in this bench's profile directory.
fn find_binary() -> Result<PathBuf, Error> {
    let (bin, from) = match std::env::var_os("LOADLAKE_BIN") {
        Some(p) => (PathBuf::from(p), "LOADLAKE_BIN"),
        None => {
            let exe = std::env::current_exe()?;
            let profile = exe
                .parent()
                .and_then(Path::parent)
                .ok_or("no profile directory")?;
            (profile.join("loadlake"), "next to the bench")
        }
    };
    if !bin.is_file() {
        let d = bin.display();
        return Err(format!("no loadlake binary at {d} ({from}): build it with `cargo build --release --workspace` (or in the bench's profile), or set LOADLAKE_BIN").into());
    }
    println!("loadlake binary ({from}): {}", bin.display());
    Ok(bin)
}

/// Starts `loadlake serve`; returns the child and its address. Its stderr is forwarded.
fn start_server(bin: &Path, store: &Path) -> Result<(Child, String), Error> {
    let mut child = Command::new(bin)
        .arg("--store")
        .arg(store)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()?;
    let mut reader = BufReader::new(child.stderr.take().ok_or("no stderr")?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    // Keep draining: a closed pipe would kill the server (SIGPIPE) at its next diagnostic.
    std::thread::spawn(move || {
        for l in reader.lines().map_while(Result::ok) {
            eprintln!("[serve] {l}");
        }
    });
    match line.trim().strip_prefix("loadlake serving on ") {
        Some(addr) => Ok((child, addr.to_string())),
        None => {
            let _ = child.kill();
            Err(format!("unexpected first line of loadlake serve: {line:?}").into())
        }
    }
}

/// (VmRSS MiB, open fds) of a process.
fn proc_usage(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let kib: f64 = kib.trim().trim_end_matches("kB").trim().parse().ok()?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
    Some((kib / 1024.0, fds as f64))
}

/// (MiB, files) under `dir`.
fn dir_size(dir: &Path) -> (f64, u64) {
    let mut total = (0.0, 0);
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        match e.metadata() {
            Ok(m) if m.is_dir() => {
                let (b, f) = dir_size(&e.path());
                total = (total.0 + b, total.1 + f);
            }
            Ok(m) => total = (total.0 + m.len() as f64 / (1 << 20) as f64, total.1 + 1),
            Err(_) => {}
        }
    }
    total
}

/// Nearest-rank p50, p99 and max of the latencies recorded from `lo` to `hi` s into the load.
fn percentiles(lat: &[(f64, f64)], lo: f64, hi: f64) -> [f64; 3] {
    let mut v: Vec<f64> = lat
        .iter()
        .filter(|l| l.0 >= lo && l.0 <= hi)
        .map(|l| l.1)
        .collect();
    v.sort_by(f64::total_cmp);
    let at = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    match v.last() {
        Some(&max) => [at(0.5), at(0.99), max],
        None => [f64::NAN; 3],
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(|_| "?".into(), |s| s.trim().to_string())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let secs: u64 = std::env::var("SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let keep_runs: usize = std::env::var("SOAK_KEEP_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let hostile = std::env::var("SOAK_HOSTILE").is_ok_and(|v| v == "1");
    let bin = find_binary()?;
    let jtl_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-data/checkout.jtl");
    let jtl = std::fs::read(&jtl_path).map_err(|e| format!("{}: {e}", jtl_path.display()))?;
    let dir = tempfile::tempdir()?;
    let (mut child, addr) = start_server(&bin, dir.path())?;
    let (pid, url) = (child.id(), format!("http://{addr}"));
    let store = dir.path().display();
    println!(
        "serve pid {pid} on {addr}, store {store}; load average {}",
        load_average()
    );

    let t = Instant::now();
    let run = stream_run(connect(&url).await?, 30, 10_000, &Stats::new()).await?;
    println!(
        "preloaded run {run}: 300000 samples in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let options = pb::ImportOptions {
        file_name: "checkout.jtl".into(),
        run_name: "soak-upload".into(),
        force: true,
        ..Default::default()
    };
    let first = pb::ImportFileChunk {
        options: Some(options),
        data: Vec::new(),
    };
    let rest = jtl.chunks(64 << 10).map(|c| pb::ImportFileChunk {
        options: None,
        data: c.to_vec(),
    });
    let upload = std::iter::once(first).chain(rest).collect();
    let stats = Stats::new();
    let (start, end) = (stats.start, stats.start + Duration::from_secs(secs));
    let ctx = Arc::new(Ctx {
        url: url.clone(),
        run,
        upload,
        stats,
        end,
        keep_runs,
        hostile: (soak_hostile::zstd_bomb()?, soak_hostile::deep_xml(3_000)),
    });
    use Client::*;
    let mut clients = vec![Stream, Stream, Upload, Report, Report, FlightSql];
    if hostile {
        clients.push(Hostile);
        tokio::spawn(soak_hostile::hold_idle_connections(addr.clone(), end));
    }
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|k| tokio::spawn(client(k, ctx.clone())))
        .collect();
    let stats = &ctx.stats;
    println!("{secs} s of mixed load: 2 stream, 1 upload, 2 report, 1 Flight SQL clients");
    if hostile {
        println!("and a hostile client (bombs, deep XML, bad page tokens, 50 idle connections)");
    }
    match keep_runs {
        0 => println!("every run is kept: the store grows all along"),
        n => println!("stream and upload clients keep their newest {n} runs each"),
    }
    println!("  t s  RSS MiB   fds  requests errors samples ack store MiB  files  load average");
    let mut curve: Vec<Point> = Vec::new();
    let mut died = None;
    for tick in 0..=secs / 5 {
        tokio::time::sleep_until((start + Duration::from_secs(tick * 5)).into()).await;
        let t = (tick * 5) as f64;
        if let Ok(Some(status)) = child.try_wait() {
            died = Some(format!("the server exited at t = {t:.0} s: {status}"));
            break;
        }
        let (rss, fds) = proc_usage(pid).unwrap_or((f64::NAN, f64::NAN));
        curve.push((t, rss, fds));
        if tick % 6 == 0 || tick == secs / 5 {
            let (mib, files) = dir_size(dir.path());
            let [n, e, s] = stats.counts.each_ref().map(|c| c.load(Relaxed));
            let load = load_average();
            println!("{t:5.0} {rss:8.1} {fds:5} {n:9} {e:6} {s:11} {mib:9.1} {files:6}  {load}");
        }
    }
    let drain = tokio::time::timeout(Duration::from_secs(120), futures::future::join_all(tasks));
    if drain.await.is_err() {
        println!("clients still busy 120 s after the end (a hung RPC?)");
    }

    let total = curve.last().map_or(0.0, |p| p.0);
    let (last, ref_lo, ref_hi) = (total - 60.0, 0.3 * total, 0.5 * total);
    println!(
        "\nrpc            count errors    p50 s    p99 s    max s  p99 1st m p99 last m p99 75s run"
    );
    let recs = std::mem::take(&mut *stats.recs.lock().map_err(|_| "stats poisoned")?);
    for (rpc, (lat, errors, _)) in recs.iter() {
        let [p50, p99, max] = percentiles(lat, 0.0, f64::INFINITY);
        let (first, end) = (
            percentiles(lat, 0.0, 60.0)[1],
            percentiles(lat, last, f64::INFINITY)[1],
        );
        let n = lat.len();
        let prev = PREVIOUS_P99
            .iter()
            .find(|p| p.0 == *rpc)
            .map_or(String::new(), |p| p.1.to_string());
        println!(
            "{rpc:<13} {n:>6} {errors:>6} {p50:>8.3} {p99:>8.3} {max:>8.3} {first:>10.3} {end:>10.3} {prev:>11}"
        );
    }
    for (rpc, (_, _, e)) in recs.iter() {
        if let Some(e) = e {
            println!("first error of {rpc}: {e}");
        }
    }

    let mean = |lo: f64, hi: f64, f: fn(&Point) -> f64| {
        let v = curve.iter().filter(|p| p.0 >= lo && p.0 <= hi);
        v.clone().map(f).sum::<f64>() / v.count() as f64
    };
    let (rss, fds): (fn(&Point) -> f64, _) = (|p| p.1, |p: &Point| p.2);
    println!("\nwindow                  RSS MiB      fds");
    let reference = format!("{ref_lo:.0}-{ref_hi:.0} s");
    for (name, lo, hi) in [
        ("first minute", 0.0, 60.0),
        (&reference, ref_lo, ref_hi),
        ("last minute", last, total),
    ] {
        println!(
            "{name:<22} {:>8.1} {:>8.1}",
            mean(lo, hi, rss),
            mean(lo, hi, fds)
        );
    }
    for (what, f) in [("RSS", rss), ("fds", fds)] {
        let (reference, end) = (mean(ref_lo, ref_hi, f), mean(last, total, f));
        let verdict = match end <= reference * 1.10 {
            _ if reference.is_nan() => "n/a (too short)",
            true => "flattened",
            false => "STILL GROWING",
        };
        let change = (end / reference - 1.0) * 100.0;
        println!("{what}: last minute {end:.1} vs {reference:.1} ({change:+.1} %): {verdict}");
    }

    let mut runs = RunServiceClient::new(connect(&url).await?);
    let list = runs.list_runs(pb::ListRunsRequest::default()).await;
    let runs = list.map_or_else(|e| format!("? ({e})"), |l| l.into_inner().total.to_string());
    let (mib, load) = (dir_size(dir.path()), load_average());
    println!(
        "\nstore at the end: {runs} runs, {:.1} MiB in {} files; load average {load}",
        mib.0, mib.1
    );
    if let Some(died) = died {
        return Err(died.into());
    }
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()?;
    for _ in 0..300 {
        std::thread::sleep(Duration::from_millis(100));
        match child.try_wait()? {
            Some(status) if !status.success() => Err(format!("exit on SIGTERM: {status}"))?,
            Some(_) => return Ok(()),
            None => {}
        }
    }
    child.kill()?;
    Err("the server did not stop within 30 s of SIGTERM".into())
}
