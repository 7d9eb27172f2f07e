//! `loadlake import --follow` (issue 18): a JTL CSV still being written, followed by the real
//! binary while this test appends to it as JMeter would (whole lines, and a line cut in the
//! middle by a buffered writer). Expected samples are counted by hand and read back by
//! Python's csv module (`jtl_stats.py`) from the finished file.

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

#[test]
fn ctrl_c_commits_and_a_truncated_deleted_or_xml_file_is_refused_clearly() {
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

    // XML is not followed.
    let xml = jmeter213("subsamples.xml");
    let out = store.run(&["import", "--follow", xml.to_str().unwrap(), "--idle", "1s"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--follow reads JTL CSV"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
