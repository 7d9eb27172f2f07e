//! `loadlake serve` with real clients: tonic clients of every RPC compared with the CLI's JSON
//! for the same run, Arrow Flight SQL (arrow-flight's client, and Python's ADBC driver), grpcio
//! reflection and health, uploads, paging, auth and the read-only rule (`rpc`); native sample
//! streams (`streams`); the JSON API of `--http` with Python's urllib (`api`). This module holds the shared pieces: a served store and clients.

mod agents;
pub(super) mod api;
mod cluster;
mod console;
mod console_auth;
mod console_micros;
mod console_write;
mod crash;
mod dashboard;
mod disk_full;
mod headlines;
mod k6_upload;
mod netns;
mod openapi;
mod rpc;
mod shared_bucket;
mod shared_bucket_live;
mod streams;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use serde_json::Value;
use tonic::transport::Channel;

use crate::common::*;

/// A `loadlake serve` child on 127.0.0.1 with a free port; killed when dropped.
pub(super) struct Served {
    pub child: Child,
    pub addr: String,
    /// `http://ADDR` of the JSON API, when started with `--http`.
    pub http: Option<String>,
}

impl Served {
    pub(crate) fn start(store: &TestStore, extra: &[&str]) -> Served {
        Self::start_on(store, "127.0.0.1:0", extra)
    }

    /// [`Served::start`] listening on `listen` (an address of this machine).
    pub(crate) fn start_on(store: &TestStore, listen: &str, extra: &[&str]) -> Served {
        let mut child = store
            .cmd()
            .args(["serve", "--listen", listen])
            .args(extra)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start loadlake serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut reader = BufReader::new(stderr);
        // `--http` prints its address first; the gRPC line comes last.
        let mut http = None;
        let mut line = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line).expect("read stderr");
            match line.trim().strip_prefix("JSON API on ") {
                Some(url) => http = Some(url.trim_end_matches("/api/v1/").to_string()),
                None => break,
            }
        }
        // Keep reading: a closed pipe would kill the server (SIGPIPE) at its next diagnostic.
        // Its later lines go to the test's stderr (shown when a test fails).
        std::thread::spawn(move || {
            for l in reader.lines().map_while(Result::ok) {
                eprintln!("[serve] {l}");
            }
        });
        let addr = line
            .trim()
            .strip_prefix("loadlake serving on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_string();
        Served { child, addr, http }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(super) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("runtime")
}

pub(super) async fn channel(s: &Served) -> Channel {
    Channel::from_shared(s.url())
        .unwrap()
        .connect()
        .await
        .expect("connect")
}

/// Runs `sql` through Flight SQL (execute, then every endpoint's ticket) and collects the
/// batches; the first error, from planning or from the stream, is returned.
pub(super) async fn flight_batches(
    client: &mut arrow_flight::sql::client::FlightSqlServiceClient<Channel>,
    sql: &str,
) -> Result<Vec<arrow::record_batch::RecordBatch>, Box<dyn std::error::Error>> {
    use futures::TryStreamExt;
    let info = client.execute(sql.to_string(), None).await?;
    let mut batches = Vec::new();
    for endpoint in info.endpoint {
        let ticket = endpoint.ticket.ok_or("an endpoint without a ticket")?;
        let got: Vec<_> = client.do_get(ticket).await?.try_collect().await?;
        batches.extend(got);
    }
    Ok(batches)
}

pub(super) fn checkout_run(store: &TestStore) -> String {
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let plan = repo_root().join("sample-data/checkout.jmx");
    store.import(&[jtl.to_str().unwrap(), "--plan", plan.to_str().unwrap()])
}

/// Three runs named "nightly" of sample-data/checkout.jtl (with its plan), an hour apart,
/// Home's response times ×1, ×2 and ×1.5: (run id, the CSV imported), oldest first. For the
/// compare and trend tests.
pub(super) fn nightly_runs(store: &TestStore) -> Vec<(String, std::path::PathBuf)> {
    let plan = repo_root().join("sample-data/checkout.jmx");
    let hour = 3_600_000;
    [(0, 1.0), (1, 2.0), (2, 1.5)]
        .into_iter()
        .map(|(i, factor)| {
            let csv = checkout_variant(
                store.path(),
                &format!("nightly{i}.csv"),
                "Home",
                factor,
                i * hour,
            );
            let run = store.import(&[
                csv.to_str().unwrap(),
                "--plan",
                plan.to_str().unwrap(),
                "--name",
                "nightly",
            ]);
            (run, csv)
        })
        .collect()
}

/// An `ImportFile` upload of `data` as `checkout.jtl` named "uploaded" (re-imports forced),
/// in chunks of 4 KiB after the options.
pub(super) fn upload_chunks(data: &[u8]) -> Vec<loadlake_server::pb::ImportFileChunk> {
    use loadlake_server::pb::{ImportFileChunk, ImportOptions};
    let mut chunks = vec![ImportFileChunk {
        options: Some(ImportOptions {
            file_name: "checkout.jtl".into(),
            run_name: "uploaded".into(),
            force: true,
            ..Default::default()
        }),
        data: Vec::new(),
    }];
    chunks.extend(data.chunks(4096).map(|c| ImportFileChunk {
        options: None,
        data: c.to_vec(),
    }));
    chunks
}

pub(super) fn f(v: &Value) -> Option<f64> {
    v.as_f64()
}
