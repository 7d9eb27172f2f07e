//! Shared helpers: a temporary store, running the binary, independent Python readers, the
//! loopback fixture server.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// The repository root.
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared/fixtures/jmeter-upstream` beside the checkout, if present (it is on CI).
pub(crate) fn upstream_fixtures() -> Option<PathBuf> {
    shared_fixtures("jmeter-upstream", "upstream conformance")
}

/// `../shared/fixtures/<rel>` beside the checkout, if present (it is on CI); `None`, saying
/// on stderr that the `what` tests are skipped, otherwise (a user's own clone).
fn shared_fixtures(rel: &str, what: &str) -> Option<PathBuf> {
    let dir = repo_root().join("../shared/fixtures").join(rel);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIP: {} is absent (a user's own clone); {what} tests skipped",
            dir.display()
        );
        None
    }
}

/// Our own JMeter 2.13 files.
pub(crate) fn jmeter213(name: &str) -> PathBuf {
    repo_root().join("tests/data/jmeter213").join(name)
}

/// A fresh store in a temporary directory, or under a fresh prefix of the test bucket.
pub(crate) struct TestStore {
    /// The store's directory (for a store in the bucket: scratch space of the test).
    pub dir: tempfile::TempDir,
    /// `s3://bucket/prefix/<fresh>` for a store in the test bucket.
    pub url: Option<String>,
}

impl TestStore {
    pub(crate) fn new() -> Self {
        TestStore {
            dir: tempfile::tempdir().expect("temp dir"),
            url: None,
        }
    }

    /// A fresh store under `$LOADLAKE_TEST_S3` (an S3 protocol server that scripts/test
    /// starts: moto), named after `test`; `None`, said on stderr, when that is unset — and a
    /// failure instead when `LOADLAKE_REQUIRE_S3=1` (scripts/test sets it).
    pub(crate) fn s3(test: &str) -> Option<Self> {
        let Ok(base) = std::env::var("LOADLAKE_TEST_S3") else {
            assert!(
                std::env::var("LOADLAKE_REQUIRE_S3").as_deref() != Ok("1"),
                "LOADLAKE_TEST_S3 is required (LOADLAKE_REQUIRE_S3=1) but unset"
            );
            eprintln!("SKIP (s3): LOADLAKE_TEST_S3 is unset; {test} ran on a local store only");
            return None;
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let url = format!(
            "{}/{test}-{}-{nanos}",
            base.trim_end_matches('/'),
            std::process::id()
        );
        Some(TestStore {
            dir: tempfile::tempdir().expect("temp dir"),
            url: Some(url),
        })
    }

    /// The stores a test that holds on any store runs on: a local directory, and a store in
    /// the test bucket when there is one ([`TestStore::s3`]).
    pub(crate) fn every_kind(test: &str) -> Vec<Self> {
        std::iter::once(TestStore::new())
            .chain(TestStore::s3(test))
            .collect()
    }

    /// What `--store` says: the directory or the `s3://` URL.
    pub(crate) fn location(&self) -> String {
        match &self.url {
            Some(url) => url.clone(),
            None => self.path().display().to_string(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `loadlake --store <dir or url>`.
    pub(crate) fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_loadlake"));
        c.arg("--store").arg(self.location());
        c
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run loadlake")
    }

    /// The rejected rows kept with local run `run` (its `runs/<id>.rejects.jsonl`; none when
    /// the file is absent).
    pub(crate) fn rejects(&self, run: &str) -> Vec<Value> {
        let path = self
            .path()
            .join("runs")
            .join(format!("{run}.rejects.jsonl"));
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON reject"))
            .collect()
    }

    /// Imports and returns the run id; panics with stderr on failure.
    pub(crate) fn import(&self, args: &[&str]) -> String {
        let mut all = vec!["import"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "import {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf8")
            .trim()
            .to_string()
    }

    /// Runs a command that prints JSON; panics with stderr when it fails.
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json output")
    }

    /// The entry of run `id` in `loadlake runs --format json` (its manifest as listed).
    pub(crate) fn run_entry(&self, id: &str) -> Value {
        let runs = self.json(&["runs", "--format", "json"]);
        runs.as_array()
            .and_then(|all| all.iter().find(|r| r["run_id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("{id} not in {runs}"))
    }

    /// Runs SQL and parses `--format json`.
    pub(crate) fn sql(&self, query: &str) -> Vec<Value> {
        let out = self.run(&["sql", query, "--format", "json"]);
        assert!(
            out.status.success(),
            "sql failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        match serde_json::from_slice(&out.stdout).expect("json array") {
            Value::Array(rows) => rows,
            other => panic!("expected an array, got {other}"),
        }
    }
}

/// The Python interpreter for truth computations (`LOADLAKE_TEST_PYTHON`, else python3).
pub(crate) fn python() -> String {
    std::env::var("LOADLAKE_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Runs one of `tests/e2e/py/*.py` and parses its JSON output.
pub(crate) fn py_json(script: &str, args: &[&str]) -> Value {
    let path = repo_root().join("tests/e2e/py").join(script);
    let out = Command::new(python())
        .arg(path)
        .args(args)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python json")
}

/// Runs an inline Python program and parses the JSON it prints.
pub(crate) fn py_inline(program: &str) -> Value {
    let out = Command::new(python())
        .args(["-c", program])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python json")
}

/// Whether `a` and `b` are equal within a relative tolerance.
pub(crate) fn close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a - b).abs() <= rel * a.abs().max(b.abs())
}

/// Asserts that every field of `want` is in `got` with the same value (numbers within 1e-12).
pub(crate) fn assert_fields_close(what: &str, got: &Value, want: &Value) {
    for (field, w) in want.as_object().expect("object") {
        let g = &got[field];
        match (w.as_f64(), g.as_f64()) {
            (Some(w), Some(g)) => assert!(
                close(w, g, 1e-12),
                "{what}.{field}: truth {w}, loadlake {g}"
            ),
            _ => assert_eq!(w, g, "{what}.{field}"),
        }
    }
}

/// Whether DuckDB and pyarrow are importable; when `LOADLAKE_REQUIRE_INTEROP=1` (scripts/test
/// sets it) their absence is a failure, otherwise the interop test is skipped loudly.
pub(crate) fn interop_available() -> bool {
    let ok = Command::new(python())
        .args(["-c", "import duckdb, pyarrow"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var("LOADLAKE_REQUIRE_INTEROP").as_deref() != Ok("1"),
            "duckdb/pyarrow are required (LOADLAKE_REQUIRE_INTEROP=1) but not importable by {}",
            python()
        );
        eprintln!(
            "SKIP: duckdb/pyarrow not importable by {}; run scripts/test",
            python()
        );
    }
    ok
}

/// Per-label count / errors / min / max / mean of a run, as loadlake computes them.
pub(crate) fn loadlake_label_stats(store: &TestStore, run: &str) -> Vec<Value> {
    store.sql(&format!(
        "select label, count(*) as n, sum(case when success then 0 else 1 end) as errors, \
         min(elapsed_ms) as min, max(elapsed_ms) as max, avg(elapsed_ms) as mean \
         from samples where run_id = '{run}' group by label order by label"
    ))
}

/// Asserts that loadlake's per-label statistics equal the independent ones from `jtl_stats.py`.
pub(crate) fn assert_same_label_stats(store: &TestStore, run: &str, truth: &Value) {
    let ours = loadlake_label_stats(store, run);
    let labels = truth["labels"].as_object().expect("labels");
    assert_eq!(
        ours.len(),
        labels.len(),
        "label sets differ: ours {ours:?}\ntruth {labels:?}"
    );
    for row in &ours {
        let label = row["label"].as_str().expect("label");
        let t = &labels[label];
        assert_eq!(row["n"], t["count"], "{label}: count");
        assert_eq!(row["errors"], t["errors"], "{label}: errors");
        assert_eq!(row["min"], t["min"], "{label}: min");
        assert_eq!(row["max"], t["max"], "{label}: max");
        if let (Some(mean), Some(sum), Some(n)) = (
            row["mean"].as_f64(),
            t["sum"].as_f64(),
            t["n_elapsed"].as_f64(),
        ) {
            assert!(
                (mean - sum / n).abs() < 1e-9,
                "{label}: mean {mean} vs {}",
                sum / n
            );
        }
    }
}

/// A copy of checkout.jtl with `label`'s elapsed times × `factor`, shifted by `shift_ms`.
pub(crate) fn checkout_variant(
    dir: &Path,
    name: &str,
    label: &str,
    factor: f64,
    shift_ms: i64,
) -> PathBuf {
    let dst = dir.join(name);
    let out = std::process::Command::new(python())
        .arg(repo_root().join("tests/e2e/py/jtl_variant.py"))
        .arg(repo_root().join("sample-data/checkout.jtl"))
        .arg(&dst)
        .args([label, &factor.to_string(), &shift_ms.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dst
}

/// scripts/fixture-server.py on a free loopback port, logging every request to stderr; killed when dropped.
pub(crate) struct FixtureServer {
    child: Child,
    /// Its loopback port.
    pub port: u16,
    log: std::sync::mpsc::Receiver<String>,
}

impl FixtureServer {
    /// Starts it; it exits by itself after `lifetime_s` seconds at the latest.
    pub(crate) fn start(lifetime_s: u32) -> FixtureServer {
        Self::start_on("127.0.0.1", lifetime_s)
    }

    /// [`FixtureServer::start`] listening on `host` (an address of this machine).
    pub(crate) fn start_on(host: &str, lifetime_s: u32) -> FixtureServer {
        let mut child = Command::new(python())
            .arg(repo_root().join("scripts/fixture-server.py"))
            .args(["0".to_string(), lifetime_s.to_string()])
            .env("FIXTURE_SERVER_VERBOSE", "1")
            .env("FIXTURE_SERVER_HOST", host)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the fixture server");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let first = lines.next().expect("a first line").expect("utf-8");
        let port = first
            .split(&format!("http://{host}:"))
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {first}"));
        let (tx, log) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        FixtureServer { child, port, log }
    }

    /// Requests logged so far for `path` (lines like `"GET /ok HTTP/1.1" 200 -`).
    pub(crate) fn count(&self, seen: &mut Vec<String>, path: &str) -> usize {
        seen.extend(self.log.try_iter());
        let needle = format!("\"GET {path} HTTP/1.1\"");
        seen.iter().filter(|l| l.contains(&needle)).count()
    }

    /// [`FixtureServer::count`] once it reaches `n`, or after 3 s (its log may lag on a busy
    /// machine); the count either way.
    pub(crate) fn count_at_least(&self, seen: &mut Vec<String>, path: &str, n: usize) -> usize {
        for _ in 0..60 {
            if self.count(seen, path) >= n {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        self.count(seen, path)
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `read` until `done` holds of what it read, at most `retries` more times 100 ms apart;
/// returns the last reading (the caller asserts on it).
pub(crate) fn poll<T>(retries: u32, mut read: impl FnMut() -> T, done: impl Fn(&T) -> bool) -> T {
    let mut last = read();
    for _ in 0..retries {
        if done(&last) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        last = read();
    }
    last
}

/// Starts `loadlake run` in the background; returns the child and the run id it announces.
pub(crate) fn start_run(store: &TestStore, args: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = store
        .cmd()
        .arg("run")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start loadlake run");
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stderr).lines();
    let first = lines.next().unwrap().unwrap();
    // "run <id>: <plan>"
    let run = first
        .strip_prefix("run ")
        .and_then(|r| r.split(':').next())
        .unwrap_or_else(|| panic!("no run id in {first}"))
        .to_string();
    // Keep reading stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, run)
}

/// What the runner's CLI tests start from: the fixture server, a fresh store, `-Jport=<its
/// port>` and tests/data/runner/tick.jmx (users × loops GETs of /ok, `-Jthink` ms apart).
pub(crate) struct Tick {
    pub server: FixtureServer,
    pub store: TestStore,
    pub port: String,
    pub plan: String,
}

impl Tick {
    pub(crate) fn new() -> Tick {
        Tick::on(TestStore::new())
    }

    /// [`Tick::new`] writing into `store` (a directory or a prefix of the test bucket).
    pub(crate) fn on(store: TestStore) -> Tick {
        let server = FixtureServer::start(60);
        let port = format!("-Jport={}", server.port);
        let plan = repo_root()
            .join("tests/data/runner/tick.jmx")
            .to_string_lossy()
            .into_owned();
        Tick {
            server,
            store,
            port,
            plan,
        }
    }

    /// `loadlake run <tick.jmx> -Jport=<port> ARGS…` on the store.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["run", self.plan.as_str(), self.port.as_str()];
        all.extend_from_slice(args);
        self.store.run(&all)
    }

    /// [`Tick::run`] that must succeed; returns the run id it prints.
    pub(crate) fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_string()
    }

    /// Starts a run that holds 2 users (50 ms think time) for up to 30 s in the background, for
    /// tests that watch and stop it; returns the child and the run id.
    pub(crate) fn start_held_run(&self) -> (std::process::Child, String) {
        let stages = self.store.path().join("hold.yaml");
        std::fs::write(
            &stages,
            "stages:\n  - {mode: concurrency, users: 2, duration: 30s, name: hold}\n",
        )
        .expect("write the stages file");
        start_run(
            &self.store,
            &[
                &self.plan,
                &self.port,
                "-Jthink=50",
                "--stages",
                stages.to_str().expect("utf-8 path"),
            ],
        )
    }
}

/// After `loadlake stop RUN` and its end: the run's states went CREATED … STOPPED in order, it
/// says why, and its live count is the rows it kept. Returns the final status.
pub(crate) fn assert_stopped_on_request(store: &TestStore, run: &str) -> Value {
    let done = store.json(&["status", run, "--format", "json"]);
    let states: Vec<&str> = done["history"]
        .as_array()
        .expect("a history")
        .iter()
        .filter_map(|c| c["state"].as_str())
        .collect();
    assert_eq!(
        states,
        [
            "CREATED",
            "PREPARING",
            "READY",
            "RUNNING",
            "STOPPING",
            "STOPPED"
        ]
    );
    assert_eq!(done["message"], "stopped by request (loadlake stop)");
    let rows = store.sql(&format!(
        "select count(*) as n from samples where run_id = '{run}'"
    ));
    assert_eq!(rows[0]["n"], done["all"]["count"], "{done}");
    done
}

/// `../shared/fixtures/peers/<tool>` (real result files of other load tools, SOURCES.md
/// there), if present.
pub(crate) fn peer_fixtures(tool: &str) -> Option<PathBuf> {
    shared_fixtures(&format!("peers/{tool}"), &format!("{tool} fixture"))
}

/// The first source entry of local run `run`'s manifest.
pub(crate) fn first_source(store: &TestStore, run: &str) -> Value {
    let text =
        std::fs::read_to_string(store.path().join("runs").join(format!("{run}.json"))).unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    manifest["sources"][0].clone()
}

/// Asserts that `report RUN --format json` has, per request name, the count, failures, min
/// and max of `truth["names"]` and, in its outline, `truth["total"]` requests (the shape
/// py/k6_stats.py and py/gatling_stats.py print).
pub(crate) fn assert_report_requests_equal(store: &TestStore, run: &str, truth: &Value) {
    let names = truth["names"].as_object().unwrap();
    let report = store.json(&["report", run, "--format", "json"]);
    let details = report["details"].as_array().unwrap();
    for (name, t) in names {
        let d = details
            .iter()
            .find(|d| d["level"] == "request" && d["name"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} not in the report: {details:?}"));
        assert_eq!(d["requests"], t["count"], "{name}: report requests");
        assert_eq!(d["errorCount"], t["failures"], "{name}: report errors");
        assert_eq!(d["min"].as_f64(), t["min"].as_f64(), "{name}: report min");
        assert_eq!(d["max"].as_f64(), t["max"].as_f64(), "{name}: report max");
    }
    assert_eq!(
        report["outline"]["requests"], truth["total"],
        "outline requests"
    );
}
