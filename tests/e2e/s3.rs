//! A store on S3 (`$LOADLAKE_TEST_S3`, a moto server scripts/test starts): the same run
//! imported into a local directory and into the bucket gives the same reports, what lies in
//! the bucket is plain Parquet that pyarrow reads, and a bucket that is not there is a clear
//! error. (The store's commit races are tested on `InMemory`: crates/store's remote_tests.rs.)

use serde_json::Value;

use crate::common::{TestStore, interop_available, py_inline, python, repo_root};

/// `value` without the keys that name the run (its id, when it was imported).
fn without_identity(mut value: Value) -> Value {
    if let Some(object) = value.as_object_mut() {
        for key in ["runId", "run_id", "importedAt", "imported_at"] {
            object.remove(key);
        }
    }
    value
}

#[test]
fn a_run_imported_into_the_bucket_reports_what_it_reports_from_a_local_directory() {
    let Some(s3) = TestStore::s3("same-report") else {
        return;
    };
    let local = TestStore::new();
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let jtl = jtl.to_str().expect("utf-8 path");
    let in_s3 = s3.import(&[jtl, "--name", "checkout"]);
    let in_local = local.import(&[jtl, "--name", "checkout"]);

    // Counted by hand: sample-data/checkout.jtl has 720 samples (its header line aside).
    let text = std::fs::read_to_string(jtl).expect("the fixture");
    assert_eq!(text.lines().count() - 1, 720);
    for store in [&s3, &local] {
        let run = if store.url.is_some() {
            &in_s3
        } else {
            &in_local
        };
        let n = store.sql(&format!(
            "select count(*) as n from samples where run_id = '{run}'"
        ));
        assert_eq!(n[0]["n"], 720, "{}", store.location());
    }

    for args in [
        &["report", "latest", "--format", "json"][..],
        &["report", "latest", "--stats", "jmeter", "--format", "json"],
    ] {
        let from_s3 = without_identity(s3.json(args));
        let from_local = without_identity(local.json(args));
        assert_eq!(from_s3, from_local, "{args:?}");
    }
    let entry = |store: &TestStore, id: &str| {
        let mut e = without_identity(store.run_entry(id));
        e.as_object_mut().map(|o| o.remove("files"));
        e
    };
    assert_eq!(entry(&s3, &in_s3), entry(&local, &in_local));
    // Cross-run SQL over the bucket: `runs` and `samples` agree.
    let joined = s3.sql(
        "select r.samples, count(*) as n from runs r join samples s on s.run_id = r.run_id \
         group by r.samples",
    );
    assert_eq!(joined.len(), 1);
    assert_eq!(
        (&joined[0]["samples"], &joined[0]["n"]),
        (&720.into(), &720.into())
    );

    // Re-importing the same bytes into the bucket is refused, as locally.
    let again = s3.run(&["import", jtl]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains(&in_s3),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[test]
fn pyarrow_reads_the_parts_a_manifest_lists_straight_from_the_bucket() {
    let Some(s3) = TestStore::s3("pyarrow") else {
        return;
    };
    if !interop_available() {
        return;
    }
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let run = s3.import(&[jtl.to_str().expect("utf-8 path")]);
    let url = s3.url.clone().expect("an s3 store");
    let (bucket_and_prefix, endpoint) = (
        url.trim_start_matches("s3://").to_string(),
        std::env::var("AWS_ENDPOINT").expect("AWS_ENDPOINT with LOADLAKE_TEST_S3"),
    );
    // docs/object-storage.md shows this: the manifest names the parts; pyarrow reads them.
    let program = format!(
        r#"
import json, os, pyarrow.fs as fs, pyarrow.parquet as pq
s3 = fs.S3FileSystem(endpoint_override="{endpoint}", scheme="http",
    access_key=os.environ["AWS_ACCESS_KEY_ID"], secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
root = "{bucket_and_prefix}"
with s3.open_input_stream(f"{{root}}/runs/{run}.json") as f:
    manifest = json.load(f)
table = pq.read_table([f"{{root}}/" + p["path"] for p in manifest["files"]], filesystem=s3)
print(json.dumps({{"rows": table.num_rows, "listed_rows": sum(p["rows"] for p in manifest["files"]),
    "samples": manifest["samples"], "labels": len(set(table.column("label").to_pylist()))}}))
"#
    );
    let got = py_inline(&program);
    assert_eq!(got["rows"], 720, "{got}");
    assert_eq!(got["listed_rows"], 720, "{got}");
    assert_eq!(got["samples"], 720, "{got}");
    let labels = s3.sql(&format!(
        "select count(distinct label) as n from samples where run_id = '{run}'"
    ));
    assert_eq!(got["labels"], labels[0]["n"], "{got}");
}

#[test]
fn a_bucket_that_does_not_exist_is_a_clear_error_not_a_panic() {
    if TestStore::s3("no-bucket").is_none() {
        return;
    }
    let store = TestStore {
        dir: tempfile::tempdir().expect("temp dir"),
        url: Some("s3://no-such-bucket-loadlake/x".into()),
    };
    let out = store.run(&["runs"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Exit 3: the environment (docs/cli.md), not the user's input nor a bug.
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("s3://no-such-bucket-loadlake/x") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[test]
fn kill_9_between_parts_and_manifest_leaves_no_half_run_in_the_bucket() {
    let Some(s3) = TestStore::s3("kill-9") else {
        return;
    };
    let big = s3.path().join("big.csv");
    let rows = 900_000;
    crate::store::generate_csv(&big, rows, 3);
    let mut child = s3
        .cmd()
        .arg("import")
        .arg(&big)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the import");
    // An independent S3 client (boto3) watches the bucket until the writer's first part is
    // there; the import is then killed hard, between its parts and its manifest.
    let url = s3.url.clone().expect("an s3 store");
    let (bucket, prefix) = url
        .trim_start_matches("s3://")
        .split_once('/')
        .expect("s3://bucket/prefix");
    let program = format!(
        r#"
import json, os, time, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT"])
keys, deadline = None, time.time() + 120
while time.time() < deadline:
    listed = s3.list_objects_v2(Bucket="{bucket}", Prefix="{prefix}/")
    found = [o["Key"] for o in listed.get("Contents", [])]
    if any("/samples/" in k for k in found):
        keys = found
        break
    time.sleep(0.02)
print(json.dumps({{"keys": keys}}))
"#
    );
    let seen = py_inline(&program);
    assert!(
        child.try_wait().expect("the import").is_none(),
        "the import finished before it could be killed; use a larger file"
    );
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let keys = seen["keys"].as_array().expect("a part within 120 s");
    assert!(
        keys.iter()
            .all(|k| !k.as_str().unwrap_or_default().ends_with(".json")),
        "no manifest before the kill: {keys:?}"
    );
    // No half run: the part is in the bucket, but no manifest lists it, so nothing reads it.
    assert!(s3.sql("select run_id from runs").is_empty());
    // A retry of the same file commits every row (the dead writer had committed nothing, so
    // this is no re-import).
    let run = s3.import(&[big.to_str().expect("utf-8 path")]);
    let n = s3.sql(&format!(
        "select count(*) as n from samples where run_id = '{run}'"
    ));
    assert_eq!(n[0]["n"], rows as u64);
    let runs = s3.sql("select run_id from runs");
    assert_eq!(runs.len(), 1, "{runs:?}");
}

/// tests/e2e/py/s3_fault_proxy.py in front of the test bucket's server, injecting `mode`'s
/// faults; it stops when dropped (its stdin closes).
struct FaultProxy {
    child: std::process::Child,
    endpoint: String,
    /// `<n> <method> <path> <status>` per request, as the proxy saw them.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl FaultProxy {
    fn start(mode: &str) -> FaultProxy {
        use std::io::{BufRead, BufReader};
        let upstream = std::env::var("AWS_ENDPOINT").expect("AWS_ENDPOINT beside LOADLAKE_TEST_S3");
        let mut child = std::process::Command::new(python())
            .arg(repo_root().join("tests/e2e/py/s3_fault_proxy.py"))
            .args([&upstream, mode])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start the fault proxy");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("the proxy's port");
        let port = first
            .trim()
            .strip_prefix("port ")
            .expect("`port N`")
            .to_string();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let lines = BufReader::new(child.stderr.take().expect("stderr"));
        let sink = log.clone();
        std::thread::spawn(move || {
            for l in lines.lines().map_while(Result::ok) {
                sink.lock().expect("log").push(l);
            }
        });
        FaultProxy {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// `loadlake --store <store> args…` with S3 requests going through the proxy.
    fn run(&self, store: &TestStore, args: &[&str]) -> std::process::Output {
        store
            .cmd()
            .env("AWS_ENDPOINT", &self.endpoint)
            .args(args)
            .output()
            .expect("run loadlake")
    }

    /// Requests answered with `status`.
    fn answered(&self, status: u16) -> usize {
        let suffix = format!(" {status}");
        self.log
            .lock()
            .expect("log")
            .iter()
            .filter(|l| l.ends_with(&suffix))
            .count()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn throttled_requests_are_retried_and_the_import_commits_whole() {
    let Some(s3) = TestStore::s3("throttled") else {
        return;
    };
    let proxy = FaultProxy::start("flaky");
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let out = proxy.run(&s3, &["import", jtl.to_str().expect("utf-8 path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One request in three was refused with 503 SlowDown; the client retried them.
    assert!(
        proxy.answered(503) >= 2,
        "{:?}",
        proxy.log.lock().expect("log")
    );
    // Read straight from the server, not through the proxy: one run, every row.
    let runs = s3.sql("select run_id, samples from runs");
    assert_eq!(runs.len(), 1, "{runs:?}");
    // checkout.jtl: 720 samples under its header line (counted by hand).
    assert_eq!(runs[0]["samples"], 720);
    let n = s3.sql("select count(*) as n from samples");
    assert_eq!(n[0]["n"], 720);
}

#[test]
fn an_endpoint_that_keeps_failing_is_a_clear_error_within_the_retry_budget() {
    let Some(s3) = TestStore::s3("down") else {
        return;
    };
    let proxy = FaultProxy::start("down");
    let started = std::time::Instant::now();
    let out = proxy.run(&s3, &["runs"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Exit 3: the environment, not the user's input nor a bug; the store and the answer named.
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(s3.url.as_deref().expect("s3"))
            || stderr.contains(&s3.url.as_deref().expect("s3")["s3://".len()..]),
        "{stderr}"
    );
    assert!(
        stderr.contains("503") || stderr.contains("Service"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Retried (5 times at most), then given up well within the 30 s retry budget.
    assert!(proxy.answered(503) >= 2, "not retried");
    assert!(started.elapsed() < std::time::Duration::from_secs(40));
}

#[test]
fn wrong_credentials_are_reported_as_such_and_nothing_is_written() {
    let Some(s3) = TestStore::s3("denied") else {
        return;
    };
    let proxy = FaultProxy::start("denied");
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let out = proxy.run(&s3, &["import", jtl.to_str().expect("utf-8 path")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("InvalidAccessKeyId") || stderr.contains("403"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // A 403 is not retried: one refusal is the answer.
    assert_eq!(proxy.answered(403), proxy.log.lock().expect("log").len());
    assert!(s3.sql("select run_id from runs").is_empty());
}

#[test]
fn a_slow_bucket_is_waited_for_and_the_import_commits_whole() {
    let Some(s3) = TestStore::s3("slow") else {
        return;
    };
    let proxy = FaultProxy::start("slow");
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let started = std::time::Instant::now();
    let out = proxy.run(&s3, &["import", jtl.to_str().expect("utf-8 path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every request waited 250 ms at the proxy, one after the other.
    let requests = proxy.log.lock().expect("log").len();
    assert!(requests >= 4, "{requests} requests");
    assert!(started.elapsed() >= std::time::Duration::from_millis(250 * requests as u64 / 2));
    // checkout.jtl: 720 samples under its header line (counted by hand), read straight from
    // the server.
    let runs = s3.sql("select samples from runs");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["samples"], 720);
}

#[test]
fn a_manifest_put_that_never_answers_fails_the_import_clearly_and_commits_nothing() {
    let Some(s3) = TestStore::s3("stall") else {
        return;
    };
    let proxy = FaultProxy::start("stall");
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let started = std::time::Instant::now();
    let out = proxy.run(&s3, &["import", jtl.to_str().expect("utf-8 path")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The client's request timeout and retry budget end the wait with an error that names the
    // manifest, not a hang and not a panic.
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("runs/") && stderr.contains(".json"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
    let stalled = proxy
        .log
        .lock()
        .expect("log")
        .iter()
        .filter(|l| l.ends_with("stalled"))
        .count();
    assert!(stalled >= 1);
    // Nothing is committed: read straight from the server, no run (its parts are unlisted).
    assert!(s3.sql("select run_id from runs").is_empty());
    assert_eq!(s3.sql("select count(*) as n from samples")[0]["n"], 0);
}
