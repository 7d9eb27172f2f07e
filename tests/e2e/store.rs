//! Store behaviour through the binary: re-import detection, concurrent importers, a kill -9
//! in the middle of a large import.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::*;

/// Writes a JMeter 5.x CSV with `rows` rows (labels cycle over `label-0..9`).
pub(crate) fn generate_csv(path: &Path, rows: usize, seed: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect").unwrap();
    for i in 0..rows {
        let ok = !(i as u64 + seed).is_multiple_of(97);
        writeln!(
            f,
            "{},{},label-{},{},{},Users 1-{},text,{},,{},120,8,8,http://127.0.0.1/p{},{},0,{}",
            1_700_000_000_000u64 + i as u64 * 3,
            (i * 7 + seed as usize) % 500,
            i % 10,
            if ok { 200 } else { 500 },
            if ok { "OK" } else { "Internal Server Error" },
            i % 8 + 1,
            ok,
            1000 + i % 300,
            i % 10,
            (i * 3) % 200,
            i % 5
        )
        .unwrap();
    }
}

fn count(store: &TestStore, run: &str) -> u64 {
    store.sql(&format!(
        "select count(*) as n from samples where run_id = '{run}'"
    ))[0]["n"]
        .as_u64()
        .unwrap()
}

#[test]
fn reimport_of_the_same_bytes_is_refused_unless_forced() {
    for store in TestStore::every_kind("reimport") {
        reimport_of_the_same_bytes_is_refused_unless_forced_on(&store);
    }
}

fn reimport_of_the_same_bytes_is_refused_unless_forced_on(store: &TestStore) {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.csv");
    generate_csv(&a, 50, 1);
    let copy = dir.path().join("copy-of-a.csv");
    std::fs::copy(&a, &copy).unwrap();
    let first = store.import(&[a.to_str().unwrap(), "--name", "first"]);
    let out = store.run(&["import", copy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&first) && err.contains("--force") && err.contains("copy-of-a.csv"),
        "{err}"
    );
    let out = store.run(&[
        "import",
        a.to_str().unwrap(),
        copy.to_str().unwrap(),
        "--force",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("same bytes"));
    let second = store.import(&[copy.to_str().unwrap(), "--force"]);
    assert_ne!(first, second);
    assert_eq!(count(store, &first), 50);
    assert_eq!(count(store, &second), 50);
}

#[test]
fn several_files_make_one_run_with_continuous_rows() {
    for store in TestStore::every_kind("several") {
        several_files_make_one_run_with_continuous_rows_on(&store);
    }
}

fn several_files_make_one_run_with_continuous_rows_on(store: &TestStore) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    generate_csv(&a, 30, 1);
    generate_csv(&b, 20, 2);
    let run = store.import(&[
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--name",
        "checkout v2",
        "--tag",
        "env=staging",
    ]);
    let r = store.sql(&format!(
        "select count(*) as n, count(distinct \"row\") as distinct_rows, min(\"row\") as lo, max(\"row\") as hi from samples where run_id = '{run}'"
    ));
    assert_eq!(
        (r[0]["n"].as_u64(), r[0]["distinct_rows"].as_u64()),
        (Some(50), Some(50))
    );
    assert_eq!(
        (r[0]["lo"].as_u64(), r[0]["hi"].as_u64()),
        (Some(0), Some(49))
    );
    let runs = store.sql(&format!("select name, tags['env'] as env, cardinality(source_files) as files from runs where run_id = '{run}'"));
    assert_eq!(runs[0]["name"], "checkout v2");
    assert_eq!(runs[0]["env"], "staging");
    assert_eq!(runs[0]["files"], 2);
}

#[test]
fn concurrent_imports_into_one_store_both_succeed() {
    for store in TestStore::every_kind("concurrent") {
        concurrent_imports_into_one_store_both_succeed_on(&store);
    }
}

fn concurrent_imports_into_one_store_both_succeed_on(store: &TestStore) {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = (0..3)
        .map(|i| dir.path().join(format!("c{i}.csv")))
        .collect();
    for (i, f) in files.iter().enumerate() {
        generate_csv(f, 20_000, i as u64 + 10);
    }
    let children: Vec<_> = files
        .iter()
        .map(|f| {
            store
                .cmd()
                .arg("import")
                .arg(f)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ids = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ids.push(String::from_utf8(out.stdout).unwrap().trim().to_string());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    for id in &ids {
        assert_eq!(count(store, id), 20_000);
    }
}

#[test]
fn kill_9_during_a_large_import_leaves_no_half_run_and_a_retry_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::new();
    let big = dir.path().join("big.csv");
    let rows = 900_000;
    generate_csv(&big, rows, 3);
    let mut child = store
        .cmd()
        .arg("import")
        .arg(&big)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the writer has flushed its first part into staging, then kill it hard.
    let tmp = store.path().join("tmp");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let staged = std::fs::read_dir(&tmp)
            .map(|d| {
                d.flatten()
                    .any(|e| e.path().join("part-0.parquet").exists())
            })
            .unwrap_or(false);
        if staged {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "import finished before it could be killed; use a larger file"
        );
        assert!(Instant::now() < deadline, "no part was staged in time");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        store
            .path()
            .join("tmp")
            .read_dir()
            .unwrap()
            .next()
            .is_some(),
        "the killed writer left staging files"
    );
    assert!(
        store.sql("select run_id from runs").is_empty(),
        "no half run is visible"
    );
    // Opening the store (any command) removed the dead writer's leftovers.
    assert!(
        store
            .path()
            .join("tmp")
            .read_dir()
            .unwrap()
            .next()
            .is_none()
    );
    assert!(
        store
            .path()
            .join("samples")
            .read_dir()
            .unwrap()
            .next()
            .is_none()
    );
    let run = store.import(&[big.to_str().unwrap()]);
    assert_eq!(count(&store, &run), rows as u64);
}

#[test]
fn an_unsupported_store_url_is_refused_not_taken_for_a_local_folder() {
    let work = tempfile::tempdir().expect("temp dir");
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let loadlake = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_loadlake"));
        c.current_dir(work.path()).env_remove("LOADLAKE_HOME");
        c
    };
    let out = loadlake()
        .args(["--store", "gs://perf-results/team-a", "import"])
        .arg(&jtl)
        .output()
        .expect("run loadlake");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("gs://perf-results/team-a") && stderr.contains("not supported"),
        "{stderr}"
    );
    let out = loadlake()
        .env("LOADLAKE_HOME", "gs://bucket/x")
        .arg("runs")
        .output()
        .expect("run loadlake");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("LOADLAKE_HOME"), "{stderr}");
    let made: Vec<_> = std::fs::read_dir(work.path()).unwrap().collect();
    assert!(made.is_empty(), "a local folder was made: {made:?}");

    // A file:// URL is the directory it names.
    let dir = work.path().join("store");
    let url = format!("file://{}", dir.display());
    let out = loadlake()
        .args(["--store", &url, "import"])
        .arg(&jtl)
        .output()
        .expect("run loadlake");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("runs").is_dir());
}

/// `tool -c file` (gzip, zstd, bzip2): the compressed bytes, or `None` if the tool is missing.
fn compressed_with(tool: &str, file: &Path) -> Option<Vec<u8>> {
    let out = std::process::Command::new(tool)
        .arg("-c")
        .arg(file)
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

#[test]
fn gzip_zstd_bzip2_and_standard_input_import_the_same_samples_as_the_plain_file() {
    let store = TestStore::new();
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let plain = store.import(&[jtl.to_str().unwrap(), "--name", "plain"]);
    let n = count(&store, &plain);
    assert!(n > 0);

    let work = tempfile::tempdir().unwrap();
    let mut compressed = 0;
    for (tool, name) in [
        ("gzip", "results.jtl.gz"),
        ("zstd", "old-name.csv"),
        ("bzip2", "results.xml.bz2"),
    ] {
        let Some(bytes) = compressed_with(tool, &jtl) else {
            eprintln!("skipped {tool}: the {tool} command is missing");
            continue;
        };
        // Told by content: the zstd file is named like a plain CSV, the bzip2 one like XML.
        let path = work.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let run = store.import(&[path.to_str().unwrap()]);
        assert_eq!(count(&store, &run), n, "{tool}");
        compressed += 1;

        // Cut short (a copy interrupted): the rows decoded before the cut are kept, as for a
        // JTL cut by a killed JMeter, and the cut is a rejected row naming the file; when not
        // one block could be decoded (zstd and bzip2 decode whole blocks) it is an error naming
        // it.
        let cut = work.path().join(format!("cut-{name}"));
        std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
        let out = store.run(&["import", cut.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("cut-{name}")), "{stderr}");
        if out.status.success() {
            let run = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let kept = count(&store, &run);
            assert!(0 < kept && kept < n, "{tool}: {kept} of {n} rows kept");
            assert!(stderr.contains("1 rows rejected"), "{stderr}");
        } else {
            assert_eq!(out.status.code(), Some(2), "{tool}: {stderr}");
            // zstd: "… incomplete frame"; bzip2: "decompression not finished but EOF reached".
            assert!(
                stderr.contains("incomplete") || stderr.contains("not finished"),
                "{stderr}"
            );
        }
    }
    assert!(compressed > 0, "none of gzip, zstd and bzip2 is installed");

    // Standard input, as `zcat old.jtl.gz | loadlake import - --name nightly` sends it.
    let pipe = |args: &[&str]| {
        let mut child = store
            .cmd()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn loadlake");
        let bytes = std::fs::read(&jtl).unwrap();
        child.stdin.take().unwrap().write_all(&bytes).unwrap();
        child.wait_with_output().expect("wait")
    };
    let out = pipe(&["import", "-", "--name", "nightly", "--force"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(count(&store, &run), n);
    let named = store.sql(&format!("select name from runs where run_id = '{run}'"));
    assert_eq!(named[0]["name"], "nightly");
    // The same bytes again are a duplicate, as for a file.
    let again = pipe(&["import", "-"]);
    assert_eq!(again.status.code(), Some(2));
    let spools: Vec<_> = std::fs::read_dir(store.path().join("tmp"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("upload-"))
        .collect();
    assert!(
        spools.is_empty(),
        "a spool of standard input was left: {spools:?}"
    );
}

#[test]
fn delete_removes_runs_from_listings_and_queries_on_every_store() {
    for store in TestStore::every_kind("delete") {
        delete_removes_runs_on(&store);
    }
}

fn delete_removes_runs_on(store: &TestStore) {
    let (kept_csv, gone_csv) = (store.path().join("kept.csv"), store.path().join("gone.csv"));
    generate_csv(&kept_csv, 300, 1);
    generate_csv(&gone_csv, 500, 2);
    let kept = store.import(&[kept_csv.to_str().unwrap(), "--name", "kept"]);
    let gone = store.import(&[gone_csv.to_str().unwrap(), "--name", "gone"]);
    let total = || store.sql("select count(*) as n from samples")[0]["n"].as_u64();
    assert_eq!(total(), Some(800));

    // One unknown id among the runs: an error naming it (exit 2), and nothing is deleted.
    let out = store.run(&["delete", &gone, "20990101-000000-nosuch"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("20990101-000000-nosuch"),
        "{out:?}"
    );
    assert_eq!(total(), Some(800));

    let out = store.run(&["delete", &gone]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), gone);
    let runs = store.json(&["runs", "--format", "json"]);
    let ids: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["run_id"].as_str())
        .collect();
    assert_eq!(ids, [kept.as_str()]);
    // The 500 rows of the deleted run are hidden from new queries at once (kept on disk for
    // the grace); the other run's 300 are all there.
    assert_eq!(total(), Some(300));
    assert_eq!(count(store, &kept), 300);
    assert_eq!(store.run(&["report", &gone]).status.code(), Some(2));
    // Deleting it again: it is no longer there.
    assert_eq!(store.run(&["delete", &gone]).status.code(), Some(2));
}
