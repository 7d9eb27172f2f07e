//! A bad-input corpus: no panic, a clear error naming file / line / field, good rows kept.

use std::path::PathBuf;

use crate::common::*;

const HEADER: &str = "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect\n";

fn row(ts: i64, label: &str) -> String {
    format!("{ts},100,{label},200,OK,Users 1-1,text,true,,512,100,1,1,http://127.0.0.1/,50,0,5\n")
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn runs(store: &TestStore) -> Vec<serde_json::Value> {
    store.sql("select run_id, samples, rejected from runs")
}

/// Asserts a failed import with a message containing every `needle`, and no run left behind.
fn assert_refused(store: &TestStore, args: &[&str], needles: &[&str]) {
    let mut all = vec!["import"];
    all.extend_from_slice(args);
    let out = store.run(&all);
    assert_eq!(
        out.status.code(),
        Some(2),
        "exit code (101 would be a panic)"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    for n in needles {
        assert!(err.contains(n), "expected '{n}' in: {err}");
    }
    assert!(runs(store).is_empty(), "no run may be left behind");
}

/// Imports, expects success, returns (run id, rejects file lines).
fn import_with_rejects(
    store: &TestStore,
    path: &std::path::Path,
) -> (String, Vec<serde_json::Value>) {
    let run = store.import(&[path.to_str().unwrap()]);
    let rejects = store.rejects(&run);
    (run, rejects)
}

#[test]
fn empty_binary_and_foreign_files_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::new();
    let empty = write(&dir, "empty.jtl", b"");
    assert_refused(&store, &[empty.to_str().unwrap()], &["empty.jtl", "empty"]);
    let blank = write(&dir, "blank.jtl", b"\n\n  \n");
    assert_refused(&store, &[blank.to_str().unwrap()], &["blank.jtl", "empty"]);
    let mut garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    garbage[10] = 0;
    let bin = write(&dir, "garbage.bin", &garbage);
    assert_refused(
        &store,
        &[bin.to_str().unwrap()],
        &["garbage.bin", "not a JMeter result file"],
    );
    let foreign = write(&dir, "people.csv", b"name,age,city\nann,31,Oslo\n");
    assert_refused(
        &store,
        &[foreign.to_str().unwrap()],
        &["people.csv", "--columns"],
    );
    let html = write(&dir, "page.xml", b"<html><body>hi</body></html>");
    assert_refused(&store, &[html.to_str().unwrap()], &["page.xml", "<html>"]);
    assert_refused(
        &store,
        &["/nonexistent/x.jtl"],
        &["/nonexistent/x.jtl", "no such file"],
    );
}

#[test]
fn bad_rows_are_rejected_with_line_and_field_and_good_rows_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::new();
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend(row(1_700_000_000_000, "ok-1").as_bytes()); // line 2
    bytes.extend(b"1700000000001,100,caf\xe9,200,OK,Users 1-1,text,true,,512,100,1,1,u,50,0,5\n"); // line 3: Latin-1
    bytes.extend(row(1_700_000_000_002, "ok-2").as_bytes()); // line 4
    bytes.extend(
        b"1700000000003,abc,bad-elapsed,200,OK,Users 1-1,text,true,,512,100,1,1,u,50,0,5\n",
    ); // line 5
    bytes.extend(b"1700000000004,100,short\n"); // line 6
    bytes.extend(
        b"1700000000005,100,bad-success,200,OK,Users 1-1,text,maybe,,512,100,1,1,u,50,0,5\n",
    ); // line 7
    bytes.extend(row(1_700_000_000_006, &"x".repeat(10 << 20)).as_bytes()); // line 8: a 10 MB label
    bytes.extend(row(1_700_000_000_007, "\"ok, \"\"quoted\"\"\nlabel\"").as_bytes()); // lines 9-10
    bytes.extend(row(1_700_000_000_008, "ok-3").as_bytes()); // line 11
    let path = write(&dir, "mixed.csv", &bytes);
    let (run, rejects) = import_with_rejects(&store, &path);
    let labels = store.sql(&format!(
        "select label from samples where run_id = '{run}' order by \"row\""
    ));
    let labels: Vec<&str> = labels
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        vec!["ok-1", "ok-2", "ok, \"quoted\"\nlabel", "ok-3"]
    );
    let got: Vec<(u64, Option<&str>)> = rejects
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["field"].as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (3, Some("label")),
            (5, Some("elapsed")),
            (6, None),
            (7, Some("success")),
            (8, Some("label"))
        ]
    );
    assert!(
        rejects
            .iter()
            .all(|r| r["file"].as_str().unwrap().ends_with("mixed.csv"))
    );
    assert!(rejects[0]["reason"].as_str().unwrap().contains("UTF-8"));
    assert!(
        rejects[2]["reason"]
            .as_str()
            .unwrap()
            .contains("expected 17 fields, found 3")
    );
    assert!(
        rejects[4]["reason"]
            .as_str()
            .unwrap()
            .contains("byte limit")
    );
    assert!(
        rejects[4]["raw"].as_str().unwrap().len() <= 512,
        "raw excerpts are bounded"
    );
    assert_eq!(runs(&store)[0]["rejected"], 5);
}

#[test]
fn strict_and_max_errors_stop_the_import_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::new();
    let mut text = HEADER.to_string();
    text.push_str(&row(1, "a"));
    for i in 0..3 {
        text.push_str(&format!(
            "{i},x,bad,200,OK,T 1-1,text,true,,1,1,1,1,u,1,0,1\n"
        ));
    }
    let path = write(&dir, "bad.csv", text.as_bytes());
    let p = path.to_str().unwrap();
    assert_refused(
        &store,
        &[p, "--strict"],
        &["bad.csv:3", "elapsed", "--strict"],
    );
    assert_refused(
        &store,
        &[p, "--max-errors", "2"],
        &["bad.csv", "more than 2 rows", "--max-errors"],
    );
    let run = store.import(&[p, "--max-errors", "3"]);
    assert_eq!(
        store.sql(&format!(
            "select count(*) as n from samples where run_id = '{run}'"
        ))[0]["n"],
        1
    );
}

#[test]
fn hostile_and_broken_xml() {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::new();
    let bomb = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<testResults version="1.2"><httpSample t="1" lb="&lol2;" s="true" rc="200"/></testResults>"#;
    let p = write(&dir, "bomb.xml", bomb);
    assert_refused(&store, &[p.to_str().unwrap()], &["bomb.xml", "DOCTYPE"]);

    // Cut in the middle of an element, after one complete sample.
    let cut = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testResults version=\"1.2\">\n<httpSample t=\"5\" lb=\"a\" s=\"true\" rc=\"200\" ts=\"1\"/>\n<httpSample t=\"7\" lb=\"b\" s=\"tr";
    let p = write(&dir, "cut.xml", cut);
    let out = store.run(&["import", p.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 4"));
    let run = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let rows = store.sql(&format!(
        "select label, elapsed_ms from samples where run_id = '{run}'"
    ));
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0]["label"].as_str(), rows[0]["elapsed_ms"].as_i64()),
        (Some("a"), Some(5))
    );

    // A bad attribute rejects its element only.
    let bad_attr = b"<testResults version=\"1.2\">\n<sample t=\"x\" lb=\"bad\" s=\"true\"/>\n<sample t=\"3\" lb=\"good\" s=\"false\" rc=\"500\"/>\n</testResults>\n";
    let p = write(&dir, "attr.xml", bad_attr);
    let (run, rejects) = import_with_rejects(&store, &p);
    assert_eq!(rejects.len(), 1);
    assert_eq!(
        (rejects[0]["line"].as_u64(), rejects[0]["field"].as_str()),
        (Some(2), Some("t"))
    );
    let rows = store.sql(&format!(
        "select label, error_class from samples where run_id = '{run}'"
    ));
    assert_eq!(
        (rows[0]["label"].as_str(), rows[0]["error_class"].as_str()),
        (Some("good"), Some("http_5xx"))
    );
}

#[test]
fn mutated_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::new();
    let mut base = HEADER.as_bytes().to_vec();
    for i in 0..20 {
        base.extend(row(1_700_000_000_000 + i, &format!("l{i}")).as_bytes());
    }
    let xml = std::fs::read(jmeter213("subsamples.xml")).unwrap();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for case in 0..24 {
        let mut bytes = if case % 2 == 0 {
            base.clone()
        } else {
            xml.clone()
        };
        for _ in 0..8 {
            let at = (next() as usize) % bytes.len();
            match next() % 3 {
                0 => bytes[at] = next() as u8,
                1 => bytes.truncate(at.max(1)),
                _ => bytes.insert(at, b"\",<>\n\0"[(next() % 6) as usize]),
            }
        }
        let p = write(&dir, &format!("m{case}.jtl"), &bytes);
        let out = store.run(&[
            "import",
            p.to_str().unwrap(),
            "--force",
            "--max-errors",
            "100000",
        ]);
        assert!(
            matches!(out.status.code(), Some(0) | Some(2)),
            "case {case}: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// CRLF line ends (Windows JMeter), a UTF-8 BOM, and two runs appended to one file with the
/// header repeated: every data row is kept, the repeated header is skipped with a warning.
#[test]
fn crlf_bom_and_appended_runs() {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::new();
    let mut text = String::from("\u{feff}");
    text.push_str(&HEADER.replace('\n', "\r\n"));
    text.push_str(&row(1_700_000_000_000, "first").replace('\n', "\r\n"));
    text.push_str(&HEADER.replace('\n', "\r\n"));
    text.push_str(&row(1_700_000_000_001, "second").replace('\n', "\r\n"));
    let path = write(&dir, "appended.csv", text.as_bytes());
    let out = store.run(&["import", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("repeated header"));
    let run = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let rows = store.sql(&format!(
        "select label, response_message from samples where run_id = '{run}' order by \"row\""
    ));
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["label"].as_str().unwrap(),
                r["response_message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![("first", "OK"), ("second", "OK")],
        "no \\r left in the last field"
    );
    assert_eq!(runs(&store)[0]["rejected"], 0);
}

/// Several bad elements and a cut tail in one XML file: each reject names its own line (the
/// line counter reads forward once, so later rejects must not reuse earlier positions).
#[test]
fn every_xml_reject_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::new();
    let xml = b"<testResults version=\"1.2\">\n<sample t=\"x\" lb=\"bad1\" s=\"true\"/>\n<sample t=\"1\" lb=\"ok\" s=\"true\"/>\n\n<sample t=\"2\" lb=\"bad2\" s=\"maybe\"/>\n<sample t=\"3\" lb=\"ok2\" s=\"true\"/>\n<sample t=\"4\" lb=\"cut";
    let p = write(&dir, "many.xml", xml);
    let (run, rejects) = import_with_rejects(&store, &p);
    let lines: Vec<u64> = rejects
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![2, 5, 7]);
    let n = store.sql(&format!(
        "select count(*) as n from samples where run_id = '{run}'"
    ));
    assert_eq!(n[0]["n"], 2);
}
