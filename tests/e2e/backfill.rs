//! Back-fills (issue 18): `loadlake import --each PATTERN`, one run per file, run as a real
//! process over a tree of good, duplicate, compressed, zipped and bad files. Expected samples
//! come from Python's csv reader (`jtl_stats.py`) or are counted by hand.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::common::*;

/// A small JTL CSV written by hand: `rows` of (elapsed, success).
fn hand_csv(rows: &[(&str, &str)]) -> String {
    let mut text = String::from("timeStamp,elapsed,label,responseCode,success\n");
    for (i, (elapsed, success)) in rows.iter().enumerate() {
        let code = if *success == "true" { "200" } else { "500" };
        text.push_str(&format!(
            "{},{elapsed},page,{code},{success}\n",
            1_700_000_000_000u64 + i as u64
        ));
    }
    text
}

/// The tree of a CI artifact folder: good files, the same bytes under another name, a gzip'd
/// file, a zip, a file with one bad row, a file with no good row, and a file the pattern leaves.
fn artifact_tree(root: &Path) {
    let write = |rel: &str, bytes: &[u8]| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    let checkout = std::fs::read(repo_root().join("sample-data/checkout.jtl")).unwrap();
    write("ci/b1/results.jtl", &checkout);
    write("ci/b2/shop/renamed-copy.jtl", &checkout);
    write(
        "ci/b4/partly-bad.jtl",
        hand_csv(&[("10", "true"), ("x1", "true"), ("30", "false")]).as_bytes(),
    );
    write("ci/b5/all-bad.jtl", hand_csv(&[("zz", "true")]).as_bytes());
    write("ci/b6/notes.txt", b"not matched by the pattern\n");
    for dir in ["ci/b3", "ci/b7"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    let header = jmeter213("header.csv");
    let zip = root.join("ci/b7/archive.jtl.zip");
    py_inline(&format!(
        "import gzip, zipfile\n\
         open({gz:?}, 'wb').write(gzip.compress(open({header:?}, 'rb').read()))\n\
         z = zipfile.ZipFile({zip:?}, 'w', zipfile.ZIP_DEFLATED)\n\
         z.writestr('r.csv', {csv:?}); z.close()\n\
         print('null')\n",
        gz = root.join("ci/b3/header.jtl.gz").to_str().unwrap(),
        header = header.to_str().unwrap(),
        zip = zip.to_str().unwrap(),
        csv = hand_csv(&[("5", "true"), ("7", "true")]),
    ));
}

/// Runs `loadlake import ARGS` in `dir`.
fn import_in(store: &TestStore, dir: &Path, args: &[&str]) -> std::process::Output {
    store
        .cmd()
        .current_dir(dir)
        .arg("import")
        .args(args)
        .output()
        .expect("run loadlake")
}

#[test]
fn each_file_becomes_a_run_duplicates_are_skipped_and_a_bad_file_fails_alone() {
    let store = TestStore::new();
    let work = tempfile::tempdir().unwrap();
    artifact_tree(work.path());
    let args = [
        "--each",
        "ci/**/*.jtl*",
        "--name-from",
        "path",
        "--tag",
        "team=shop",
    ];
    let out = import_in(&store, work.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    // The bad file is reported with its line and field; the summary counts every file.
    assert!(
        stderr.contains("ci/b5/all-bad.jtl:2: field elapsed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("imported 4, skipped 1 already imported, failed 1 (of 6 files"),
        "{stderr}"
    );
    // No progress bar in a pipe.
    assert!(!stderr.contains("ETA"), "{stderr}");
    let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(ids.len(), 4, "{ids:?}");

    // The runs, named from their paths under ci/, each tagged.
    let runs = store.json(&["runs", "--format", "json"]);
    let by_name: BTreeMap<String, Value> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap().to_string(), r.clone()))
        .collect();
    assert_eq!(
        by_name.keys().collect::<Vec<_>>(),
        [
            "b1/results.jtl",
            "b3/header.jtl.gz",
            "b4/partly-bad.jtl",
            "b7/archive.jtl.zip"
        ]
    );
    for run in by_name.values() {
        assert_eq!(run["tags"]["team"], "shop", "{run}");
        assert!(ids.contains(&run["run_id"].as_str().unwrap().to_string()));
    }
    let id = |name: &str| by_name[name]["run_id"].as_str().unwrap().to_string();

    // No good data lost: each run holds its file's samples.
    let checkout = repo_root().join("sample-data/checkout.jtl");
    let truth = py_json(
        "jtl_stats.py",
        &["csv", checkout.to_str().unwrap(), ",", "yes"],
    );
    assert_same_label_stats(&store, &id("b1/results.jtl"), &truth);
    let header = jmeter213("header.csv");
    let truth = py_json(
        "jtl_stats.py",
        &["csv", header.to_str().unwrap(), ",", "yes"],
    );
    assert_same_label_stats(&store, &id("b3/header.jtl.gz"), &truth);
    // By hand: partly-bad keeps rows 1 and 3 (10 ms, 30 ms), the archive's member 2 rows.
    let sums = store
        .sql("select run_id, count(*) as n, sum(elapsed_ms) as total from samples group by run_id");
    let of = |run: String| {
        sums.iter()
            .find(|r| r["run_id"] == run.as_str())
            .map(|r| (r["n"].as_u64().unwrap(), r["total"].as_u64().unwrap()))
    };
    assert_eq!(of(id("b4/partly-bad.jtl")), Some((2, 40)));
    assert_eq!(of(id("b7/archive.jtl.zip")), Some((2, 12)));
    assert!(
        stderr.contains("ci/b4/partly-bad.jtl:3: field elapsed"),
        "{stderr}"
    );

    // Again: every good file is already imported; the bad one fails again.
    let out = import_in(&store, work.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("imported 0, skipped 5 already imported, failed 1 (of 6 files"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(
        store
            .json(&["runs", "--format", "json"])
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn names_from_file_and_stem_and_a_pattern_matching_nothing() {
    let store = TestStore::new();
    let work = tempfile::tempdir().unwrap();
    artifact_tree(work.path());
    let out = import_in(
        &store,
        work.path(),
        &[
            "--each",
            "ci/b[37]/*",
            "--name-from",
            "stem",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifests: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut names: Vec<&str> = manifests
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["archive", "header"]);

    let out = import_in(
        &store,
        work.path(),
        &["--each", "ci/b1/*.jtl", "--name-from", "file", "--force"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = store.json(&["runs", "--format", "json"]);
    assert!(
        runs.as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "results.jtl"),
        "{runs}"
    );

    let out = import_in(&store, work.path(), &["--each", "nowhere/**/*.jtl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("matches no file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A file of the parallel back-fill: `rows` samples whose elapsed times are `base + j`.
fn numbered_csv(base: u64, rows: u64) -> String {
    let mut text = String::from("timeStamp,elapsed,label,responseCode,success\n");
    for j in 0..rows {
        text.push_str(&format!(
            "{},{},page,200,true\n",
            1_700_000_000_000u64 + j,
            base + j
        ));
    }
    text
}

#[test]
fn a_parallel_backfill_reports_in_file_order_and_settles_duplicates_in_flight() {
    let store = TestStore::new();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("many");
    std::fs::create_dir_all(&dir).unwrap();
    // f-NN: NN % 5 + 1 rows, elapsed 100·NN + j; f-07 and f-08 have f-03's bytes (met while
    // f-03 may still be in flight), f-20 and f-21 the same bad bytes (both fail).
    let bad = hand_csv(&[("zz", "true")]);
    let mut expected = Vec::new(); // (stem, rows, sum of elapsed), imported files in order
    for n in 0..30u64 {
        let text = match n {
            7 | 8 => numbered_csv(300, 4), // f-03: 3 % 5 + 1 rows
            20 | 21 => bad.clone(),
            _ => {
                let rows = n % 5 + 1;
                expected.push((
                    format!("f-{n:02}"),
                    rows,
                    (0..rows).map(|j| 100 * n + j).sum::<u64>(),
                ));
                numbered_csv(100 * n, rows)
            }
        };
        std::fs::write(dir.join(format!("f-{n:02}.jtl")), text).unwrap();
    }
    let out = import_in(
        &store,
        work.path(),
        &["--each", "many/*.jtl", "--name-from", "stem", "--jobs", "4"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("imported 26, skipped 2 already imported, failed 2 (of 30 files"),
        "{stderr}"
    );
    let (bad20, bad21) = (
        stderr.find("many/f-20.jtl:2: field elapsed"),
        stderr.find("many/f-21.jtl:2: field elapsed"),
    );
    assert!(bad20.is_some() && bad21 > bad20, "{stderr}");

    // The ids on stdout are in file order; each run holds its own file's samples.
    let runs = store.json(&["runs", "--format", "json"]);
    let name_of: BTreeMap<String, String> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let field = |k: &str| r[k].as_str().unwrap().to_string();
            (field("run_id"), field("name"))
        })
        .collect();
    let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let names: Vec<&str> = ids.iter().map(|id| name_of[id].as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|(stem, ..)| stem.as_str()).collect();
    assert_eq!(names, want);
    let sums = store
        .sql("select run_id, count(*) as n, sum(elapsed_ms) as total from samples group by run_id");
    let mut got: Vec<(String, u64, u64)> = sums
        .iter()
        .map(|r| {
            let id = r["run_id"].as_str().unwrap();
            (
                name_of[id].clone(),
                r["n"].as_u64().unwrap(),
                r["total"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, expected);
}
