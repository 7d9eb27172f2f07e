//! Distributed SQL with real processes: two `loadlake serve --role worker` on 127.0.0.1, a
//! coordinator that is the CLI (`--workers`) or a `loadlake serve --workers`. Answers equal
//! the single node's, on a local store and on the test bucket; workers refuse calls without
//! the cluster's token; a worker SIGKILLed mid-query fails that query with a clear error and
//! the next query runs on the one left.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Served, channel, checkout_run, flight_batches, runtime};
use crate::common::*;

/// A `loadlake serve --role worker` child on a free loopback port; killed when dropped.
struct Worker {
    child: Child,
    url: String,
}

impl Worker {
    fn start(store: &TestStore, token_file: &str) -> Worker {
        let mut child = store
            .cmd()
            .args(["serve", "--role", "worker", "--listen", "127.0.0.1:0"])
            .args(["--token-file", token_file])
            .stderr(Stdio::piped())
            .spawn()
            .expect("start a query worker");
        let mut reader = BufReader::new(child.stderr.take().expect("stderr"));
        let mut line = String::new();
        reader.read_line(&mut line).expect("read stderr");
        let addr = line
            .trim()
            .strip_prefix("loadlake query worker on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_string();
        std::thread::spawn(move || {
            for l in reader.lines().map_while(Result::ok) {
                eprintln!("[worker] {l}");
            }
        });
        Worker {
            child,
            url: format!("http://{addr}"),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A token file in `store`'s scratch directory.
fn token_file(store: &TestStore, token: &str) -> String {
    let path = store.path().join(format!("token-{token}"));
    std::fs::write(&path, format!("{token}\n")).expect("write the token");
    path.display().to_string()
}

/// `args` through the CLI coordinating `workers` (every scan split: one partition per byte).
fn with_workers(store: &TestStore, workers: &[&Worker], token: &str, args: &[&str]) -> Value {
    let urls = workers
        .iter()
        .map(|w| w.url.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let mut all = vec!["--workers", urls.as_str(), "--workers-scan-bytes", "1"];
    all.extend(["--workers-token-file", token]);
    all.extend_from_slice(args);
    store.json(&all)
}

const P95_BY_LABEL: &str = "select label, count(*) as n, \
    hist_percentile(ms_histogram(elapsed_ms), 0.95) as p95, avg(elapsed_ms) as mean \
    from samples group by label order by label";

#[test]
fn two_worker_processes_answer_as_one_node_does() {
    for store in TestStore::every_kind("cluster-equal") {
        let run = checkout_run(&store);
        let token = token_file(&store, "cluster-secret");
        let (w1, w2) = (Worker::start(&store, &token), Worker::start(&store, &token));
        let workers = [&w1, &w2];

        // The plan is spread: two stages, both workers' tasks.
        let explain = with_workers(
            &store,
            &workers,
            &token,
            &[
                "sql",
                &format!("explain {P95_BY_LABEL}"),
                "--format",
                "json",
            ],
        );
        let physical = explain
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["plan_type"] == "physical_plan"))
            .and_then(|r| r["plan"].as_str())
            .unwrap_or_else(|| panic!("no physical plan in {explain}"))
            .to_string();
        assert!(physical.contains("Stage 1"), "{physical}");
        assert!(physical.contains("tasks=2"), "{physical}");

        // Ad-hoc SQL, every report field, compare and trend: as on one node. The mean is a
        // float sum divided by a count; partial sums in another order may differ in the last
        // bits, so it is compared to 1e-9 relative; everything else exactly.
        let one = store.json(&["sql", P95_BY_LABEL, "--format", "json"]);
        let spread = with_workers(
            &store,
            &workers,
            &token,
            &["sql", P95_BY_LABEL, "--format", "json"],
        );
        assert_eq!(one.as_array().map(Vec::len), Some(5), "{one}");
        for (a, b) in one
            .as_array()
            .unwrap()
            .iter()
            .zip(spread.as_array().unwrap())
        {
            assert_eq!(
                (&a["label"], &a["n"], &a["p95"]),
                (&b["label"], &b["n"], &b["p95"])
            );
            let (x, y) = (a["mean"].as_f64().unwrap(), b["mean"].as_f64().unwrap());
            assert!((x - y).abs() <= 1e-9 * x.abs(), "{x} vs {y}");
        }
        for args in [
            vec!["report", run.as_str(), "--format", "json"],
            vec![
                "report",
                run.as_str(),
                "--stats",
                "jmeter",
                "--format",
                "json",
            ],
            vec!["compare", run.as_str(), run.as_str(), "--format", "json"],
            vec![
                "trend",
                "--name",
                "checkout.jtl",
                "--metric",
                "tp95",
                "--format",
                "json",
            ],
        ] {
            let one = store.json(&args);
            let spread = with_workers(&store, &workers, &token, &args);
            assert_eq!(one, spread, "{args:?} differs distributed");
        }
    }
}

#[test]
fn workers_refuse_calls_without_the_token() {
    let store = TestStore::new();
    checkout_run(&store);
    let token = token_file(&store, "right");
    let wrong = token_file(&store, "wrong");
    let worker = Worker::start(&store, &token);
    for extra in [vec![], vec!["--workers-token-file", wrong.as_str()]] {
        let mut args = vec!["--workers", worker.url.as_str()];
        args.extend(extra.iter().copied());
        args.extend(["sql", "select count(*) from samples"]);
        let out = store.run(&args);
        assert!(!out.status.success(), "{args:?} was let through");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&worker.url), "{stderr}");
        assert!(
            stderr.contains("needs `authorization: Bearer")
                || stderr.contains("wrong bearer token"),
            "{stderr}"
        );
    }
}

/// A query that keeps both workers busy for seconds: 720 samples × 20 000 values each,
/// grouped by label.
const SLOW: &str = "select label, count(*) as n from \
    (select label, unnest(range(0, 20000)) as x from samples) group by label";

#[test]
fn a_worker_killed_mid_query_fails_that_query_and_the_next_runs_on_the_other() {
    let store = TestStore::new();
    checkout_run(&store);
    let token = token_file(&store, "cluster-secret");
    let mut w1 = Worker::start(&store, &token);
    let w2 = Worker::start(&store, &token);
    let workers = format!("{},{}", w1.url, w2.url);
    let served = Served::start(
        &store,
        &[
            "--token-file",
            &token,
            "--workers",
            &workers,
            "--workers-scan-bytes",
            "1",
        ],
    );
    runtime().block_on(async {
        let mut client =
            arrow_flight::sql::client::FlightSqlServiceClient::new(channel(&served).await);
        client.set_token("cluster-secret".to_string());
        let started = Instant::now();
        let query = flight_batches(&mut client, SLOW);
        let kill = async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            w1.child.kill().expect("SIGKILL the first worker");
        };
        let (outcome, ()) =
            tokio::join!(tokio::time::timeout(Duration::from_secs(60), query), kill);
        let e = outcome
            .expect("the query ends (no hang) once a worker is killed")
            .expect_err("a query whose worker died cannot answer");
        let text = e.to_string();
        assert!(
            text.contains("stopped answering during the query")
                && text.contains(w1.url.trim_start_matches("http://"))
                && text.contains(&format!("the next query runs on {}/", w2.url)),
            "not a clear error: {text}"
        );
        eprintln!("failed after {:?}: {text}", started.elapsed());

        // The failure made the coordinator probe again: the next query is planned on the
        // worker left, at once.
        let batches = flight_batches(&mut client, "select count(*) from samples")
            .await
            .expect("the next query runs on the worker left");
        let count = arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(
            batches[0].column(0),
        )
        .value(0);
        // checkout.jtl: 720 samples under its header line.
        assert_eq!(count, 720);
    });
    drop(w2);
}
