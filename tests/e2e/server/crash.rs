//! Acknowledged means durable: `loadlake serve` SIGKILLed at random moments while two sample
//! streams, an upload and report clients run, and `loadlake run` SIGKILLed mid-run. After each
//! restart every acknowledged sample is queryable, no run is half visible (each manifest's count
//! is its Parquet rows), and nothing is left in `tmp/` (no staging, lock, draft or spool).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use loadlake_server::pb;
use loadlake_server::pb::ingest_service_client::IngestServiceClient;
use loadlake_server::pb::report_service_client::ReportServiceClient;
use loadlake_server::pb::run_service_client::RunServiceClient;
use tonic::transport::Channel;

use super::streams::{ipc, ipc_samples, open, start_stream};
use super::{Served, runtime};
use crate::common::*;

/// What the server acknowledged before it was killed: run id → samples.
#[derive(Default)]
struct Acked {
    streams: Mutex<BTreeMap<String, u64>>,
    uploads: Mutex<Vec<(String, u64)>>,
}

async fn connect(url: String) -> Option<Channel> {
    Channel::from_shared(url).ok()?.connect().await.ok()
}

/// Streams batches of 200 samples into a new run until the server goes away.
async fn stream_until_cut(url: String, name: String, acked: Arc<Acked>) {
    let Some(channel) = connect(url).await else {
        return;
    };
    let mut ingest = IngestServiceClient::new(channel);
    let (tx, mut acks) = start_stream(&mut ingest, open("", &name, "")).await;
    for n in 0.. {
        if tx
            .send(ipc(ipc_samples("GET /crash", n * 200, 200)))
            .await
            .is_err()
        {
            return;
        }
        match acks.message().await {
            Ok(Some(ack)) => {
                acked
                    .streams
                    .lock()
                    .expect("lock")
                    .insert(ack.run_id, ack.samples);
            }
            _ => return,
        }
    }
}

/// Uploads sample-data/checkout.jtl (720 samples) again and again until the server goes away.
async fn upload_until_cut(url: String, acked: Arc<Acked>) {
    let Some(channel) = connect(url).await else {
        return;
    };
    let mut ingest = IngestServiceClient::new(channel);
    let data = std::fs::read(repo_root().join("sample-data/checkout.jtl")).expect("fixture");
    loop {
        let chunks = super::upload_chunks(&data);
        match ingest.import_file(futures::stream::iter(chunks)).await {
            Ok(r) => {
                let r = r.into_inner();
                acked
                    .uploads
                    .lock()
                    .expect("lock")
                    .push((r.run_id, r.samples));
            }
            Err(_) => return,
        }
    }
}

/// Lists runs and asks for the report of the newest until the server goes away.
async fn report_until_cut(url: String) {
    let Some(channel) = connect(url).await else {
        return;
    };
    let mut runs = RunServiceClient::new(channel.clone());
    let mut reports = ReportServiceClient::new(channel);
    loop {
        let Ok(listed) = runs.list_runs(pb::ListRunsRequest::default()).await else {
            return;
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        if let Some(run) = listed.into_inner().runs.last()
            && reports
                .get_report(pb::GetReportRequest {
                    run_id: run.run_id.clone(),
                    ..Default::default()
                })
                .await
                .is_err()
        {
            return;
        }
    }
}

/// A small random generator (xorshift), seeded from the clock; the seed is printed.
struct Dice(u64);

impl Dice {
    fn new() -> Dice {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64 | 1);
        eprintln!("crash test seed: {seed}");
        Dice(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Every run's manifest count against its Parquet rows; returns run id → (samples, status).
pub(super) fn assert_every_run_whole(store: &TestStore) -> BTreeMap<String, (u64, String)> {
    let rows = store.sql(
        "select r.run_id, r.samples, r.status, coalesce(c.n, 0) as n from runs r \
         left join (select run_id, count(*) as n from samples group by run_id) c \
         on r.run_id = c.run_id",
    );
    let mut runs = BTreeMap::new();
    for row in rows {
        let id = row["run_id"].as_str().expect("run_id").to_string();
        let (m, n) = (row["samples"].as_u64(), row["n"].as_u64());
        assert_eq!(m, n, "run {id}: its manifest and its Parquet rows disagree");
        let status = row["status"].as_str().expect("status").to_string();
        runs.insert(id, (m.unwrap_or(0), status));
    }
    runs
}

/// Nothing left under the store's tmp/ (every writer is gone, so every run was finished).
pub(super) fn assert_tmp_empty(store: &TestStore) {
    let left: Vec<String> = std::fs::read_dir(store.path().join("tmp"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "left in tmp/: {left:?}");
}

#[test]
fn serve_killed_at_random_moments_keeps_every_acknowledged_sample() {
    let cycles: u32 = std::env::var("LOADLAKE_CRASH_CYCLES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(8);
    let store = TestStore::new();
    let mut dice = Dice::new();
    let rt = runtime();
    let (mut streamed, mut uploaded) = (0u64, 0u64);
    for cycle in 0..cycles {
        let acked = Arc::new(Acked::default());
        let served = Served::start(&store, &[]);
        let url = served.url();
        let clients = vec![
            rt.spawn(stream_until_cut(
                url.clone(),
                format!("a{cycle}"),
                acked.clone(),
            )),
            rt.spawn(stream_until_cut(
                url.clone(),
                format!("b{cycle}"),
                acked.clone(),
            )),
            rt.spawn(upload_until_cut(url.clone(), acked.clone())),
            rt.spawn(report_until_cut(url.clone())),
        ];
        std::thread::sleep(Duration::from_millis(150 + dice.below(1200)));
        drop(served); // SIGKILL, then wait for the process to end
        rt.block_on(async {
            for c in clients {
                let _ = tokio::time::timeout(Duration::from_secs(10), c).await;
            }
        });

        // The next opener of the store (this query) recovers what the server left.
        let runs = assert_every_run_whole(&store);
        for (id, n) in acked.streams.lock().expect("lock").iter() {
            let (kept, status) = runs
                .get(id)
                .unwrap_or_else(|| panic!("cycle {cycle}: streamed run {id} ({n} acked) is gone"));
            assert!(
                kept >= n,
                "cycle {cycle}: run {id} kept {kept} of {n} acked"
            );
            assert_eq!(status, "incomplete", "cycle {cycle}: run {id}");
            streamed += n;
        }
        for (id, n) in acked.uploads.lock().expect("lock").iter() {
            assert_eq!(runs.get(id).map(|r| r.0), Some(720), "upload {id}");
            assert_eq!(*n, 720);
            uploaded += 1;
        }
        assert_tmp_empty(&store);
    }
    eprintln!(
        "{cycles} kills: {streamed} streamed samples and {uploaded} uploads acknowledged, all kept"
    );
    assert!(
        streamed > 0,
        "no stream was ever acknowledged: the test tested nothing"
    );
}

#[test]
fn loadlake_run_killed_mid_run_keeps_its_written_parts() {
    // On a directory the next opener recovers the run at once (the dead writer's lock is
    // free); in the bucket once the writer's draft has been silent for
    // REMOTE_WRITER_STALE_AFTER (a minute), by any process that opens the store.
    for store in TestStore::every_kind("killed_run") {
        killed_run_on(Tick::on(store));
    }
}

fn killed_run_on(tick: Tick) {
    let (mut child, run) = tick.start_held_run();
    // Wait until at least two parts are visible to live queries (about one a second).
    let live = poll(
        200,
        || {
            let out = tick.store.run(&[
                "sql",
                &format!("select count(*) as n from live_samples where run_id = '{run}'"),
                "--format",
                "json",
            ]);
            serde_json::from_slice::<serde_json::Value>(&out.stdout)
                .ok()
                .and_then(|v| v[0]["n"].as_u64())
                .unwrap_or(0)
        },
        |n| *n >= 20,
    );
    assert!(live >= 20, "the run never showed samples");
    child.kill().expect("SIGKILL loadlake run");
    child.wait().expect("reap");

    if tick.store.url.is_some() {
        let stale = loadlake_store::REMOTE_WRITER_STALE_AFTER;
        // Not before the draft is stale: the writer might only be slow.
        let listed =
            |store: &TestStore| store.sql(&format!("select 1 from runs where run_id = '{run}'"));
        assert!(
            listed(&tick.store).is_empty(),
            "recovered while its draft was fresh"
        );
        std::thread::sleep(stale);
        let found = poll(300, || listed(&tick.store), |rows| !rows.is_empty());
        assert!(!found.is_empty(), "not recovered {stale:?} after the kill");
    }
    let runs = assert_every_run_whole(&tick.store);
    let (kept, status) = runs.get(&run).expect("the killed run was recovered");
    assert!(
        *kept >= live,
        "kept {kept}, {live} were visible before the kill"
    );
    assert_eq!(status, "incomplete");
    let reason = tick.store.sql(&format!(
        "select status_reason from runs where run_id = '{run}'"
    ));
    assert!(
        reason[0]["status_reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("recovered by loadlake")),
        "{reason:?}"
    );
    let live = tick.store.sql(&format!(
        "select count(*) as n from live_samples where run_id = '{run}'"
    ));
    assert_eq!(live[0]["n"].as_u64(), Some(0), "still live after recovery");
    if tick.store.url.is_none() {
        assert_tmp_empty(&tick.store);
    }
}
