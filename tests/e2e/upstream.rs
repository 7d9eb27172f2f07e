//! Every result file of JMeter's own repository imports, with the counts an independent reader
//! finds; the must-fail file fails the way JMeter's does.

use crate::common::*;

/// Header-less upstream files and their columns (from their writers' saveConfig, SOURCES.md).
fn headerless_columns(name: &str) -> Option<&'static str> {
    match name {
        "Bug52968.csv" => Some(
            "label,responseCode,responseMessage,threadName,dataType,success,grpThreads,allThreads,SampleCount,ErrorCount",
        ),
        "TEST_HTTP_HttpClient4.csv" => Some("label,responseCode,threadName,dataType,success"),
        _ => None,
    }
}

#[test]
fn every_upstream_result_file_imports_with_independent_counts() {
    let Some(fixtures) = upstream_fixtures() else {
        return;
    };
    let store = TestStore::new();
    let mut imported = 0;
    let mut entries: Vec<_> = std::fs::read_dir(fixtures.join("results"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let p = path.to_str().unwrap();
        if name == "HTMLReportFalseTestFile.csv" {
            let out = store.run(&["import", p]);
            assert!(!out.status.success());
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("HTMLReportFalseTestFile.csv") && err.contains("responseCode"),
                "{err}"
            );
            continue;
        }
        let is_xml = std::fs::read(&path)
            .unwrap()
            .trim_ascii_start()
            .starts_with(b"<");
        let (run, truth) = if is_xml {
            (store.import(&[p]), py_json("jtl_stats.py", &["xml", p]))
        } else if let Some(cols) = headerless_columns(&name) {
            (
                store.import(&[p, "--columns", cols]),
                py_json("jtl_stats.py", &["csv", p, ",", "no", cols]),
            )
        } else {
            (
                store.import(&[p]),
                py_json("jtl_stats.py", &["csv", p, ",", "yes"]),
            )
        };
        assert!(truth["total"].as_u64().unwrap() > 0, "{name}");
        assert_same_label_stats(&store, &run, &truth);
        imported += 1;
    }
    assert_eq!(imported, 20, "every file but the must-fail one");
}

#[test]
fn upstream_sub_results_and_transactions_are_classified() {
    let Some(fixtures) = upstream_fixtures() else {
        return;
    };
    let store = TestStore::new();
    // Bug56811.xml: parent-mode transaction controllers with nested samples (read by eye).
    let run = store.import(&[fixtures.join("results/Bug56811.xml").to_str().unwrap()]);
    let rows = store.sql(&format!(
        "select label, kind, parent_row from samples where run_id = '{run}' and \"row\" < 7 order by \"row\""
    ));
    let got: Vec<(String, String, Option<i64>)> = rows
        .iter()
        .map(|r| {
            (
                r["label"].as_str().unwrap().into(),
                r["kind"].as_str().unwrap().into(),
                r["parent_row"].as_i64(),
            )
        })
        .collect();
    let want = [
        ("01 Transaction Controller", "transaction", None),
        ("Transaction Controller1", "subsample", Some(0)),
        ("Transaction Controller2", "subsample", Some(1)),
        ("Samp 1", "subsample", Some(2)),
        ("Samp 2", "subsample", Some(2)),
        ("BeanShell Sampler", "subsample", Some(2)),
        ("Samp 4", "subsample", Some(2)),
    ];
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.0.as_str(), g.1.as_str(), g.2), w);
    }
    // HTMLParserTestFile_2.xml: an embedded-resource page, children renamed `<label>-N`.
    let run = store.import(&[fixtures
        .join("results/HTMLParserTestFile_2.xml")
        .to_str()
        .unwrap()]);
    let rows = store.sql(&format!(
        "select kind, count(*) as n from samples where run_id = '{run}' group by kind order by kind"
    ));
    let top = rows
        .iter()
        .find(|r| r["kind"] == "sample")
        .expect("top-level samples");
    let subs = rows
        .iter()
        .find(|r| r["kind"] == "subsample")
        .expect("sub-samples");
    let text = std::fs::read_to_string(fixtures.join("results/HTMLParserTestFile_2.xml")).unwrap();
    let all = text.matches("<httpSample ").count() as u64 + text.matches("<sample ").count() as u64;
    assert_eq!(
        top["n"].as_u64().unwrap() + subs["n"].as_u64().unwrap(),
        all
    );
    assert!(subs["n"].as_u64().unwrap() > 0);
}

#[test]
fn sample_variables_become_the_vars_map() {
    let Some(fixtures) = upstream_fixtures() else {
        return;
    };
    let store = TestStore::new();
    for f in ["Bug54685.csv", "Bug54685.xml"] {
        let run = store.import(&[fixtures.join("results").join(f).to_str().unwrap()]);
        let rows = store.sql(&format!(
            "select vars['REFERENCE'] as r, vars['JSESSIONID'] as j, label from samples where run_id = '{run}'"
        ));
        assert_eq!(rows.len(), 1, "{f}");
        assert_eq!(rows[0]["r"], "reference", "{f}");
        assert_eq!(rows[0]["j"], "jsessionId", "{f}");
        assert_eq!(
            rows[0]["label"],
            "sample_variables=REFERENCE,JSESSIONID REFERENCE=reference JSESSIONID=jsessionId"
        );
    }
}
