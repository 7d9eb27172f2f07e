//! `loadlake import --follow` (issue 18): a JTL CSV or XML still being written, followed by the
//! real binary while this test appends to it as JMeter would (whole lines, and a line or an
//! element cut in the middle by a buffered writer). Expected samples are counted by hand and
//! read back by Python's csv module and ElementTree (`jtl_stats.py`) from the file so far and
//! the finished file.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;

/// Row `i` of the followed file: label `page-(i % 3)`, elapsed `10 + i`, every 7th failed.
fn row(i: u64) -> String {
    let ok = !i.is_multiple_of(7);
    format!(
        "{},{},page-{},{},{ok}\n",
        1_700_000_000_000 + i * 10,
        10 + i,
        i % 3,
        if ok { 200 } else { 500 }
    )
}

pub(crate) fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// Starts `loadlake import --follow FILE ARGS…` and returns it with the run id it announces.
pub(crate) fn follow(store: &TestStore, file: &Path, args: &[&str]) -> (Child, String) {
    let mut child = store
        .cmd()
        .args(["import", "--follow", file.to_str().unwrap()])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn loadlake");
    let mut line = String::new();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    stderr.read_line(&mut line).unwrap();
    let run = line
        .split_whitespace()
        .skip_while(|w| *w != "run")
        .nth(1)
        .unwrap_or_else(|| panic!("no run id in {line:?}"))
        .to_string();
    // Keep draining stderr so the child never blocks on it.
    let mut rest = String::new();
    std::thread::spawn(move || {
        let _ = std::io::Read::read_to_string(&mut stderr, &mut rest);
        eprint!("{rest}");
    });
    (child, run)
}

/// Rows of `run` in `live_samples` (the samples of runs being written).
pub(crate) fn live_rows(store: &TestStore, run: &str) -> u64 {
    let rows = store.sql(&format!(
        "select count(*) as n from live_samples where run_id = '{run}'"
    ));
    rows[0]["n"].as_u64().unwrap()
}

/// Polls `live_rows` until it is `want` (or `limit` passes); returns the time it took.
pub(crate) fn wait_live(store: &TestStore, run: &str, want: u64, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let n = live_rows(store, run);
        assert!(
            n <= want,
            "{n} live rows, more than the {want} whole lines written"
        );
        if n == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "{n} of {want} rows visible after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            start.elapsed() < limit,
            "loadlake did not finish in {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn state(store: &TestStore, run: &str) -> String {
    store.json(&["status", run, "--format", "json"])["state"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_growing_csv_is_a_live_run_committed_when_it_stops_growing() {
    let store = TestStore::new();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("soak.jtl");
    let header = "timeStamp,elapsed,label,responseCode,success\n";
    std::fs::write(
        &file,
        format!("{header}{}", (0..20).map(row).collect::<String>()),
    )
    .unwrap();
    let (mut child, run) = follow(
        &store,
        &file,
        &["--idle", "2s", "--name", "soak", "--tag", "env=soak"],
    );
    wait_live(&store, &run, 20, Duration::from_secs(5));
    assert_eq!(state(&store, &run), "RUNNING");

    // 30 more lines and half of the next one, as JMeter's buffered writer leaves them: the
    // whole lines are visible within about a second, the half line waits for its end.
    let next = row(50);
    let (head, tail) = next.split_at(next.len() / 2);
    append(
        &file,
        &format!("{}{head}", (20..50).map(row).collect::<String>()),
    );
    let took = wait_live(&store, &run, 50, Duration::from_secs(3));
    assert!(
        took < Duration::from_millis(1500),
        "rows took {took:?} to be visible"
    );
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(
        live_rows(&store, &run),
        50,
        "the half-written line was taken"
    );
    append(
        &file,
        &format!("{tail}{}", (51..61).map(row).collect::<String>()),
    );
    wait_live(&store, &run, 61, Duration::from_secs(3));

    // The file stops growing: after --idle the run is committed, equal to the whole file.
    let status = wait_exit(&mut child, Duration::from_secs(15));
    assert!(status.success(), "{status:?}");
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert_eq!(out.trim(), run);
    let entry = store.run_entry(&run);
    assert_eq!(entry["name"], "soak");
    assert_eq!(entry["tags"]["env"], "soak");
    assert_eq!(entry["status"], "complete");
    assert_eq!(entry["samples"], 61);
    // By hand: elapsed 10 + i for i in 0..61, failures every 7th row (0, 7, …, 56: 9).
    let totals = store.sql(&format!(
        "select sum(elapsed_ms) as total, sum(case when success then 0 else 1 end) as failed \
         from samples where run_id = '{run}'"
    ));
    assert_eq!(totals[0]["total"], (0..61).map(|i| 10 + i).sum::<u64>());
    assert_eq!(totals[0]["failed"], 9);
    let truth = py_json("jtl_stats.py", &["csv", file.to_str().unwrap(), ",", "yes"]);
    assert_same_label_stats(&store, &run, &truth);
    // `status` reports the committed run from now on.
    assert_eq!(state(&store, &run), "STOPPED");
}

/// JMeter 5 writes a sample's sub-results (`<label>-N`, pre-order) right after it, and its
/// buffered writer may flush between them: a sub-result whose parent was read in an earlier
/// chunk is still linked to it, and the committed run equals a plain import of the finished
/// file. The parents are worked out by hand from JMeter's naming (docs/import.md).
#[test]
fn sub_results_after_a_chunk_boundary_keep_their_parent() {
    let store = TestStore::new();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("subresults.jtl");
    let line = |ms: u64, label: &str| format!("{ms},{},{label},200,Shop 1-1,true\n", ms % 97);
    std::fs::write(
        &file,
        format!(
            "timeStamp,elapsed,label,responseCode,threadName,success\n{}",
            line(1000, "Buy")
        ),
    )
    .unwrap();
    let (mut child, run) = follow(&store, &file, &["--idle", "2s", "--name", "subs"]);
    wait_live(&store, &run, 1, Duration::from_secs(5));
    // The next chunk starts with Buy's sub-results; the one after with Pay's.
    let chunk = ["Buy-0", "Buy-0-0", "Buy-1", "Pay"]
        .iter()
        .zip(1001..)
        .map(|(label, ms)| line(ms, label))
        .collect::<String>();
    append(&file, &chunk);
    wait_live(&store, &run, 5, Duration::from_secs(5));
    append(
        &file,
        &format!("{}{}", line(1005, "Pay-0"), line(1006, "Home")),
    );
    wait_live(&store, &run, 7, Duration::from_secs(5));
    let status = wait_exit(&mut child, Duration::from_secs(15));
    assert!(status.success(), "{status:?}");

    let links = |run: &str| -> Vec<(String, String, Option<u64>)> {
        store
            .sql(&format!(
                "select label, kind, parent_row from samples where run_id = '{run}' order by row"
            ))
            .iter()
            .map(|r| {
                (
                    r["label"].as_str().unwrap().to_string(),
                    r["kind"].as_str().unwrap().to_string(),
                    r["parent_row"].as_u64(),
                )
            })
            .collect()
    };
    let want: Vec<(String, String, Option<u64>)> = [
        ("Buy", "sample", None),
        ("Buy-0", "subsample", Some(0)),
        ("Buy-0-0", "subsample", Some(1)),
        ("Buy-1", "subsample", Some(0)),
        ("Pay", "sample", None),
        ("Pay-0", "subsample", Some(4)),
        ("Home", "sample", None),
    ]
    .iter()
    .map(|&(l, k, p)| (l.to_string(), k.to_string(), p))
    .collect();
    assert_eq!(links(&run), want);
    let plain = store.import(&[file.to_str().unwrap(), "--force", "--name", "plain"]);
    assert_eq!(links(&plain), want);
}

#[test]
fn ctrl_c_commits_and_a_truncated_deleted_or_k6_file_is_refused_clearly() {
    let store = TestStore::new();
    let work = tempfile::tempdir().unwrap();
    let header = "timeStamp,elapsed,label,responseCode,success\n";
    let new_file = |name: &str, rows: u64| {
        let path = work.path().join(name);
        std::fs::write(
            &path,
            format!("{header}{}", (0..rows).map(row).collect::<String>()),
        )
        .unwrap();
        path
    };

    // Ctrl-C: what was read is committed, complete.
    let file = new_file("interrupted.jtl", 12);
    let (mut child, run) = follow(&store, &file, &["--idle", "60s"]);
    wait_live(&store, &run, 12, Duration::from_secs(5));
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    let entry = store.run_entry(&run);
    assert_eq!(
        (entry["samples"].as_u64(), entry["status"].as_str()),
        (Some(12), Some("complete"))
    );

    // Truncated (a new JMeter run over the same file) or deleted while followed: exit 2 naming
    // the file; the rows read before are kept as an incomplete run.
    for (name, damage) in [("truncated.jtl", "truncated"), ("deleted.jtl", "deleted")] {
        let file = new_file(name, 8);
        let mut child = store
            .cmd()
            .args([
                "import",
                "--follow",
                file.to_str().unwrap(),
                "--idle",
                "60s",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        if damage == "truncated" {
            std::fs::write(&file, header).unwrap();
        } else {
            std::fs::remove_file(&file).unwrap();
        }
        let status = wait_exit(&mut child, Duration::from_secs(10));
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(file.to_str().unwrap()), "{stderr}");
        assert!(stderr.contains(damage), "{stderr}");
        let runs = store.json(&["runs", "--format", "json"]);
        let kept: Vec<&Value> = runs
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["name"] == name)
            .collect();
        assert_eq!(kept.len(), 1, "{runs}");
        assert_eq!(kept[0]["samples"], 8);
        assert_eq!(kept[0]["status"], "incomplete");
    }

    // A k6 file is not followed (JMeter's JTL only).
    let k6 = work.path().join("k6.json");
    std::fs::write(
        &k6,
        "{\"type\":\"Point\",\"metric\":\"http_req_duration\",\"data\":{\"time\":\
         \"2026-01-01T00:00:00Z\",\"value\":1.5,\"tags\":{\"name\":\"home\"}}}\n",
    )
    .unwrap();
    let out = store.run(&["import", "--follow", k6.to_str().unwrap(), "--idle", "1s"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--follow reads JMeter JTL files"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Complete samples (top-level and nested) of the XML text `bytes` by Python's ElementTree
/// pull parser (`jtl_stats.py xml`, which keeps only whole top-level samples).
fn python_xml_samples(dir: &Path, bytes: &[u8]) -> u64 {
    let copy = dir.join("so-far.xml");
    std::fs::write(&copy, bytes).unwrap();
    py_json("jtl_stats.py", &["xml", copy.to_str().unwrap()])["total"]
        .as_u64()
        .unwrap()
}

#[test]
fn a_growing_xml_file_is_followed_element_by_element_and_committed_at_its_closing_tag() {
    let store = TestStore::new();
    let work = tempfile::tempdir().unwrap();
    // Real JMeter 2.13 XML: transactions with nested sub-samples, assertion results, response
    // data; written in three steps, each ending inside an element.
    let whole = std::fs::read(jmeter213("subsamples.xml")).unwrap();
    let starts: Vec<usize> = (0..whole.len())
        .filter(|&i| {
            whole[i..].starts_with(b"\n<sample ") || whole[i..].starts_with(b"\n<httpSample ")
        })
        .collect();
    assert!(starts.len() > 10, "{}", starts.len());
    // Inside the 5th top-level start tag (in an attribute value), then inside the 12th's
    // nested elements.
    let first = starts[4] + 40;
    let second = starts[11] + 400;
    let file = work.path().join("growing.xml");
    std::fs::write(&file, &whole[..first]).unwrap();
    let (mut child, run) = follow(&store, &file, &["--idle", "60s", "--name", "xml"]);
    for (from, to) in [(first, second), (second, whole.len())] {
        let want = python_xml_samples(work.path(), &whole[..from]);
        assert!(want > 0);
        wait_live(&store, &run, want, Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(700));
        assert_eq!(live_rows(&store, &run), want, "a cut element was taken");
        assert_eq!(state(&store, &run), "RUNNING");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .unwrap();
        f.write_all(&whole[from..to]).unwrap();
    }
    // `</testResults>` ends the run at once (the idle time is a minute).
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    let entry = store.run_entry(&run);
    assert_eq!(entry["status"], "complete", "{entry}");
    assert_eq!(state(&store, &run), "STOPPED");
    let truth = py_json("jtl_stats.py", &["xml", file.to_str().unwrap()]);
    assert_eq!(entry["samples"], truth["total"], "{entry}");
    assert_same_label_stats(&store, &run, &truth);
    let plain = store.import(&[file.to_str().unwrap(), "--name", "plain", "--force"]);
    let rows = |run: &str| {
        store.sql(&format!(
            "select row, parent_row, kind, label, elapsed_ms, success, response_code, \
             failure_message, url, bytes_received from samples where run_id = '{run}' order by row"
        ))
    };
    assert_eq!(rows(&run), rows(&plain));
    assert_eq!(store.rejects(&run), store.rejects(&plain));
    assert_eq!(first_source(&store, &run)["format"], "xml");

    // Without its closing tag (JMeter killed, or still running), an idle file is committed with
    // every whole sample; the element cut off is rejected at the line a plain import names.
    let cut = work.path().join("cut.xml");
    std::fs::write(&cut, &whole[..second]).unwrap();
    let (mut child, run) = follow(&store, &cut, &["--idle", "1s"]);
    let status = wait_exit(&mut child, Duration::from_secs(15));
    assert!(status.success(), "{status:?}");
    let entry = store.run_entry(&run);
    assert_eq!(
        entry["samples"],
        python_xml_samples(work.path(), &whole[..second])
    );
    let plain = store.import(&[cut.to_str().unwrap(), "--name", "plain-cut", "--force"]);
    assert_eq!(rows(&run), rows(&plain));
    let line_of = |run: &str| {
        store
            .rejects(run)
            .iter()
            .map(|r| r["line"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(line_of(&run).len(), 1, "{:?}", store.rejects(&run));
    assert_eq!(line_of(&run), line_of(&plain));
    assert_eq!(
        first_source(&store, &run)["warnings"],
        first_source(&store, &plain)["warnings"]
    );
}
