//! `loadlake import --follow` on the file real Apache JMeter 2.13 writes during a run
//! (`tests/data/follow/soak.jmx`: 4 threads × 25 loops × 3 HTTP samplers with a 40 ms
//! ConstantTimer, about 5 s, against the loopback fixture server). While JMeter runs, the live
//! row count must lie between the file's complete records some time before the query and just
//! after it; once JMeter has ended, the follower commits when JMeter says the run ended (its
//! log's end-of-test and final summary lines with `--jmeter-log` for CSV, the closing
//! `</testResults>` for XML), and the committed run must equal a plain `loadlake import` of the
//! finished file and Python's reading of it (csv module, ElementTree).
//!
//! Skipped, saying so on stderr, where JMeter 2.13 (`/usr/bin/jmeter`, Debian's `jmeter` and
//! `jmeter-http`) or its wrapper `../shared/tools/jmeter213` is absent (a user's own clone).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;
use crate::follow::{follow, live_rows, state, wait_exit};

/// JMeter's save properties: the runner fidelity corpus's list (a header and 19 columns for
/// CSV; the same fields as attributes for XML).
const SAVE_PROPS: [&str; 11] = [
    "-Jjmeter.save.saveservice.print_field_names=true",
    "-Jjmeter.save.saveservice.assertion_results_failure_message=true",
    "-Jjmeter.save.saveservice.bytes=true",
    "-Jjmeter.save.saveservice.thread_counts=true",
    "-Jjmeter.save.saveservice.url=true",
    "-Jjmeter.save.saveservice.latency=true",
    "-Jjmeter.save.saveservice.encoding=true",
    "-Jjmeter.save.saveservice.sample_count=true",
    "-Jjmeter.save.saveservice.idle_time=true",
    "-Jjmeter.save.saveservice.connect_time=true",
    "-Jjmeter.save.saveservice.autoflush=false",
];

/// How long rows may take to be visible in `live_samples` (the follower looks every 100 ms and
/// writes a part at most every 500 ms; a loaded machine gets the rest).
const SQL_LAG: Duration = Duration::from_millis(1500);

/// `status`'s counts are refreshed once a second on top of that.
const STATUS_LAG: Duration = Duration::from_millis(2500);

/// `../shared/tools/jmeter213/jmeter213` when it and `/usr/bin/jmeter` are both there.
fn jmeter_wrapper() -> Option<PathBuf> {
    let wrapper = repo_root().join("../shared/tools/jmeter213/jmeter213");
    let jmeter = Path::new("/usr/bin/jmeter");
    if wrapper.is_file() && jmeter.is_file() {
        return Some(wrapper);
    }
    eprintln!(
        "SKIP: real JMeter 2.13 is absent ({} or {}; apt-get install jmeter jmeter-http); \
         the --follow tests against real JMeter are skipped",
        jmeter.display(),
        wrapper.display()
    );
    None
}

/// A JMeter process, killed if the test ends before it does.
struct Jmeter(Child);

impl Drop for Jmeter {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Complete records in the file now: lines ended by a line break after the CSV header; for
/// XML, top-level sample elements whose end was written with its line break (JMeter 2.13
/// writes them from column 0: `<httpSample … />`, or `<httpSample …>` … `</httpSample>` when
/// it saves a URL or other child elements).
fn complete_records(path: &Path, xml: bool) -> u64 {
    let bytes = std::fs::read(path).unwrap_or_default();
    let end = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let lines = bytes[..end].split(|&b| b == b'\n');
    if xml {
        lines
            .filter(|l| {
                let one_line = (l.starts_with(b"<httpSample ") || l.starts_with(b"<sample "))
                    && l.ends_with(b"/>");
                one_line || *l == b"</httpSample>" || *l == b"</sample>"
            })
            .count() as u64
    } else {
        (lines.count() as u64).saturating_sub(2)
    }
}

/// Whether the file ends in the middle of a line now (JMeter's buffered writer flushes 8 KiB
/// blocks, cutting lines).
fn ends_mid_line(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.last().is_some_and(|&c| c != b'\n'))
}

/// The last count in `history` taken at least `lag` before now (0 if none is that old).
fn records_before(history: &[(Instant, u64)], lag: Duration) -> u64 {
    history
        .iter()
        .rev()
        .find(|(at, _)| at.elapsed() >= lag)
        .map_or(0, |(_, n)| *n)
}

/// Per-label aggregates of one run, compared between the followed and the plain import.
fn per_label(store: &TestStore, run: &str) -> Vec<Value> {
    store.sql(&format!(
        "select label, count(*) as n, sum(case when success then 0 else 1 end) as failed, \
         sum(elapsed_ms) as elapsed, sum(latency_ms) as latency, sum(connect_ms) as connect, \
         sum(bytes_received) as bytes, min(ts) as first_ts, max(ts) as last_ts, \
         count(distinct thread) as threads, count(distinct response_code) as codes, \
         min(response_code) as code, max(url) as url, count(distinct kind) as kinds \
         from samples where run_id = '{run}' group by label order by label"
    ))
}

/// Runs soak.jmx with JMeter 2.13 writing `format` (`csv` or `xml`), follows the file with
/// `loadlake import --follow --idle 60s` (plus `--jmeter-log` with JMeter's log when
/// `with_log`), and checks the live counts during the run and the committed run after it.
/// What ends following is JMeter's word that the run ended (the log, or the XML file's
/// closing tag), not the idle time: the follower must end within 15 s of JMeter.
fn follow_real_jmeter(format: &str, with_log: bool) {
    let Some(wrapper) = jmeter_wrapper() else {
        return;
    };
    let xml = format == "xml";
    let store = TestStore::new();
    let server = FixtureServer::start(180);
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join(format!("soak.{format}.jtl"));
    let plan = repo_root().join("tests/data/follow/soak.jmx");
    let log = work.path().join("jmeter.log");
    let mut jmeter = Jmeter(
        Command::new(&wrapper)
            .args([
                "-n",
                "-t",
                plan.to_str().unwrap(),
                "-l",
                file.to_str().unwrap(),
            ])
            .arg("-j")
            .arg(&log)
            .arg(format!("-Jfixture.port={}", server.port))
            .arg(format!("-Jjmeter.save.saveservice.output_format={format}"))
            .args(SAVE_PROPS)
            .current_dir(work.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start JMeter 2.13"),
    );
    // JMeter creates its results file when the test starts (after the JVM's start-up).
    let start = Instant::now();
    while !file.exists() {
        assert!(
            jmeter.0.try_wait().unwrap().is_none(),
            "JMeter ended without writing {}",
            file.display()
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "JMeter did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut args = vec!["--idle", "60s", "--name", "soak"];
    if with_log {
        args.extend(["--jmeter-log", log.to_str().unwrap()]);
    }
    let (mut follower, run) = follow(&store, &file, &args);

    // While JMeter runs: every live count lies between the file's complete records `lag`
    // before the query and right after it.
    let mut history = vec![(Instant::now(), complete_records(&file, xml))];
    let mut checks = Vec::new();
    let mut last_query = Instant::now();
    let mut saw_cut = false;
    while jmeter.0.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "JMeter ran over 120 s"
        );
        std::thread::sleep(Duration::from_millis(100));
        history.push((Instant::now(), complete_records(&file, xml)));
        saw_cut |= ends_mid_line(&file);
        if last_query.elapsed() < Duration::from_millis(700) {
            continue;
        }
        last_query = Instant::now();
        let (sql_low, status_low) = (
            records_before(&history, SQL_LAG),
            records_before(&history, STATUS_LAG),
        );
        // JMeter's process outlives its results file a little: once the follower has seen the
        // end and committed, the run is no longer live and its rows are no longer in
        // live_samples. Only counts taken while the run was RUNNING before and after are checked.
        let running = || state(&store, &run) == "RUNNING";
        if !running() {
            break;
        }
        let live = live_rows(&store, &run);
        let status = store.json(&["status", &run, "--format", "json"]);
        let after = complete_records(&file, xml);
        history.push((Instant::now(), after));
        if status["state"] != "RUNNING" {
            break;
        }
        let counted = status["all"]["count"].as_u64().unwrap_or(0);
        assert!(
            sql_low <= live && live <= after,
            "live_samples has {live} rows; the file had {sql_low} complete records {SQL_LAG:?} \
             before and {after} right after"
        );
        assert!(
            status_low <= counted && counted <= after,
            "status counts {counted}; the file had {status_low} complete records \
             {STATUS_LAG:?} before and {after} right after: {status}"
        );
        checks.push((sql_low, live, after));
    }
    let jmeter_status = jmeter.0.wait().unwrap();
    let jmeter_ended = Instant::now();
    assert!(jmeter_status.success(), "JMeter: {jmeter_status:?}");
    let total = complete_records(&file, xml);
    eprintln!(
        "{format}: live checks (file before, live_samples, file after): {checks:?}; {total} records"
    );
    assert!(
        saw_cut,
        "the file never ended mid-line while JMeter wrote it (buffered writer not exercised)"
    );
    assert!(
        checks.iter().any(|&(_, live, _)| live > 0 && live < total),
        "no check saw the run part-way: {checks:?} of {total}"
    );

    // JMeter has ended, and says so: the follower commits at once, not after --idle.
    let status = wait_exit(&mut follower, Duration::from_secs(15));
    assert!(status.success(), "{status:?}");
    eprintln!(
        "{format}: waited {:?} for the follower after JMeter's process ended",
        jmeter_ended.elapsed()
    );
    let entry = store.run_entry(&run);
    assert_eq!(entry["status"], "complete", "{entry}");
    assert_eq!(state(&store, &run), "STOPPED");

    // The committed run equals a plain import of the finished file (the same bytes: `--force`,
    // or the import would say the file is already imported as the followed run), and Python's
    // reading of it.
    let plain = store.import(&[file.to_str().unwrap(), "--name", "plain", "--force"]);
    let truth = if xml {
        py_json("jtl_stats.py", &["xml", file.to_str().unwrap()])
    } else {
        py_json("jtl_stats.py", &["csv", file.to_str().unwrap(), ",", "yes"])
    };
    // 4 threads × 25 loops × 3 samplers.
    assert_eq!(truth["total"], 300, "{truth}");
    assert_eq!(total, 300);
    assert_eq!(entry["samples"], 300, "{entry}");
    assert_same_label_stats(&store, &run, &truth);
    assert_same_label_stats(&store, &plain, &truth);
    let (followed, imported) = (per_label(&store, &run), per_label(&store, &plain));
    assert_eq!(followed.len(), 3, "{followed:?}");
    assert_eq!(followed, imported);
    assert_eq!(store.rejects(&run), store.rejects(&plain));
    assert!(store.rejects(&run).is_empty(), "{:?}", store.rejects(&run));
    drop(server);
}

#[test]
fn follow_a_csv_that_real_jmeter_2_13_is_writing_until_its_log_says_the_run_ended() {
    follow_real_jmeter("csv", true);
}

#[test]
fn follow_an_xml_file_that_real_jmeter_2_13_is_writing_until_its_closing_tag() {
    follow_real_jmeter("xml", false);
}
