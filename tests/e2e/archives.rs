//! Zip archives and back-fills (issue 18): `loadlake import archive.zip` and
//! `loadlake import --each PATTERN`. Archives and compressed members are made by Python's
//! zipfile and gzip; the expected samples come from Python's csv and XML readers of the same
//! files (`jtl_stats.py`), or are counted by hand.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::*;

/// Runs a Python program (zipfile, gzip) that writes fixtures; panics with its stderr.
fn python_writes(program: &str) {
    py_inline(&format!("{program}\nprint('null')"));
}

/// `jtl_stats.py`'s truth for one of the files this module zips.
fn truth_of(file: &Path) -> Value {
    let f = file.to_str().unwrap();
    if f.ends_with(".xml") {
        py_json("jtl_stats.py", &["xml", f])
    } else {
        py_json("jtl_stats.py", &["csv", f, ",", "yes"])
    }
}

/// Several files' per-label truths as one (the samples of one run made of them all).
fn merged(truths: &[Value]) -> Value {
    let mut labels = serde_json::Map::new();
    for t in truths {
        for (label, s) in t["labels"].as_object().unwrap() {
            let m = labels.entry(label.clone()).or_insert_with(|| {
                json!({"count": 0, "errors": 0, "min": null, "max": null, "sum": 0, "n_elapsed": 0})
            });
            for k in ["count", "errors", "sum", "n_elapsed"] {
                m[k] = json!(m[k].as_i64().unwrap() + s[k].as_i64().unwrap());
            }
            for (k, pick) in [("min", i64::min as fn(i64, i64) -> i64), ("max", i64::max)] {
                m[k] = match (m[k].as_i64(), s[k].as_i64()) {
                    (Some(a), Some(b)) => json!(pick(a, b)),
                    (a, b) => json!(a.or(b)),
                };
            }
        }
    }
    json!({ "labels": labels })
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn sample_data() -> PathBuf {
    repo_root().join("sample-data/checkout.jtl")
}

#[test]
fn a_zip_archive_imports_every_jtl_member_as_one_run() {
    let store = TestStore::new();
    let work = tempfile::tempdir().unwrap();
    let zip = work.path().join("artifacts.zip");
    let (csv, xml, header) = (
        sample_data(),
        jmeter213("subsamples.xml"),
        jmeter213("header.csv"),
    );
    // A CSV (deflated), an XML (stored), a gzip'd CSV named like nothing in particular, a
    // directory, a text file and a binary file: told apart by content, not by name.
    python_writes(&format!(
        "import zipfile, gzip\n\
         z = zipfile.ZipFile({zip:?}, 'w', zipfile.ZIP_DEFLATED)\n\
         z.write({csv:?}, 'runs/checkout.jtl')\n\
         z.write({xml:?}, 'runs/xml/results.dat', compress_type=zipfile.ZIP_STORED)\n\
         z.writestr('nested/header.jtl.gz', gzip.compress(open({header:?}, 'rb').read()))\n\
         z.writestr('empty-dir/', '')\n\
         z.writestr('README.txt', 'Results of build 12.\\nSee the wiki.\\n')\n\
         z.writestr('logo.png', b'\\x89PNG\\r\\n\\x1a\\n\\x00\\x00\\x00\\rIHDR')\n\
         z.close()\n",
        zip = zip.to_str().unwrap(),
        csv = csv.to_str().unwrap(),
        xml = xml.to_str().unwrap(),
        header = header.to_str().unwrap(),
    ));
    let out = store.run(&["import", zip.to_str().unwrap(), "--format", "json"]);
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    let manifest: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = manifest["run_id"].as_str().unwrap().to_string();

    // One run (as several files on the command line make one) with every JTL's samples.
    let truth = merged(&[truth_of(&csv), truth_of(&xml), truth_of(&header)]);
    assert_same_label_stats(&store, &run, &truth);
    let z = zip.to_str().unwrap();
    let mut sources: Vec<&str> = manifest["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    sources.sort();
    let want = [
        format!("{z}:nested/header.jtl.gz"),
        format!("{z}:runs/checkout.jtl"),
        format!("{z}:runs/xml/results.dat"),
    ];
    assert_eq!(sources, want.iter().map(String::as_str).collect::<Vec<_>>());
    // The members that are not JTLs are skipped with a note naming archive and member.
    for member in ["README.txt", "logo.png"] {
        assert!(
            stderr.contains(&format!("{z}: skipped {member}, not a JMeter result file")),
            "{stderr}"
        );
    }
    assert!(!stderr.contains("empty-dir"), "{stderr}");

    // The same archive again is a re-import, refused as for a plain file.
    let again = store.run(&["import", z]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr_of(&again).contains("already imported"),
        "{}",
        stderr_of(&again)
    );
}

#[test]
fn a_bad_member_is_reported_with_archive_member_line_and_field() {
    let store = TestStore::new();
    let work = tempfile::tempdir().unwrap();
    let zip = work.path().join("bad.zip");
    python_writes(&format!(
        "import zipfile\n\
         z = zipfile.ZipFile({zip:?}, 'w', zipfile.ZIP_DEFLATED)\n\
         z.writestr('good.csv', 'timeStamp,elapsed,label,responseCode,success\\n1700000000000,10,a,200,true\\n1700000000001,20,a,200,true\\n')\n\
         z.writestr('dir/bad.csv', 'timeStamp,elapsed,label,responseCode,success\\n1700000000002,30,b,200,true\\n1700000000003,oops,b,200,true\\n1700000000004,50,b,500,false\\n')\n\
         z.close()\n",
        zip = zip.to_str().unwrap()
    ));
    let out = store.run(&["import", zip.to_str().unwrap()]);
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    let run = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let z = zip.to_str().unwrap();
    assert!(
        stderr.contains(&format!("{z}:dir/bad.csv:3: field elapsed")),
        "{stderr}"
    );
    let rejects = store.rejects(&run);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["file"], format!("{z}:dir/bad.csv"));
    assert_eq!(rejects[0]["line"], 3);
    assert_eq!(rejects[0]["field"], "elapsed");
    // Every good row of both members is kept: 2 + 2, by hand.
    let rows = store.sql(&format!(
        "select label, count(*) as n, sum(elapsed_ms) as total from samples \
         where run_id = '{run}' group by label order by label"
    ));
    assert_eq!(
        rows,
        vec![
            json!({"label": "a", "n": 2, "total": 30}),
            json!({"label": "b", "n": 2, "total": 80})
        ]
    );
}

#[test]
fn archives_without_jtl_zip_bombs_and_broken_archives_are_refused() {
    let store = TestStore::new();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().to_str().unwrap();
    // 16 MB of one repeated row deflate to about 16 KB (a ratio near 1 000), directly and as a
    // gzip'd member stored in the archive.
    python_writes(&format!(
        "import zipfile, gzip\n\
         d = {dir:?}\n\
         z = zipfile.ZipFile(d + '/nojtl.zip', 'w', zipfile.ZIP_DEFLATED)\n\
         z.writestr('notes.txt', 'nothing here\\n'); z.writestr('pic.bin', bytes(range(256)))\n\
         z.close()\n\
         body = b'timeStamp,elapsed,label,responseCode,success\\n' + b'1700000000000,1,a,200,true\\n' * 600000\n\
         z = zipfile.ZipFile(d + '/bomb.zip', 'w', zipfile.ZIP_DEFLATED)\n\
         z.writestr('big.jtl', body); z.close()\n\
         z = zipfile.ZipFile(d + '/nested-bomb.zip', 'w', zipfile.ZIP_STORED)\n\
         z.writestr('big.jtl.gz', gzip.compress(body)); z.close()\n\
         z = zipfile.ZipFile(d + '/whole.zip', 'w', zipfile.ZIP_DEFLATED)\n\
         z.write({csv:?}, 'checkout.jtl'); z.close()\n\
         data = open(d + '/whole.zip', 'rb').read()\n\
         open(d + '/cut.zip', 'wb').write(data[: len(data) // 2])\n",
        csv = sample_data().to_str().unwrap()
    ));
    for (file, needle) in [
        (
            "nojtl.zip",
            "holds no JMeter result file (skipped: notes.txt, pic.bin)",
        ),
        ("bomb.zip", "big.jtl expands past"),
        ("nested-bomb.zip", "big.jtl.gz expands past"),
        ("cut.zip", "not a readable zip archive"),
    ] {
        let path = format!("{dir}/{file}");
        let out = store.run(&["import", &path]);
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(stderr.contains(&path), "{file}: {stderr}");
        assert!(stderr.contains(needle), "{file}: {stderr}");
        if file.contains("bomb") {
            assert!(stderr.contains("zip bomb"), "{stderr}");
        }
    }
    // Nothing was committed, and no run is half there.
    assert_eq!(store.json(&["runs", "--format", "json"]), json!([]));
    let leftovers: Vec<_> = std::fs::read_dir(store.path().join("tmp"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
