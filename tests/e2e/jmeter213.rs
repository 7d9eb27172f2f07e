//! Real JMeter 2.13 output produced for this project (tests/data/jmeter213/README.md):
//! statistics, timestamps, variables, sub-samples, killed runs and error classes, each checked
//! against an independent reader.

use crate::common::*;

/// Successful 200 rows, from the per-label truth (count − errors of the labels that answered 200).
fn codes_ok(truth: &serde_json::Value) -> u64 {
    truth["ok_200"].as_u64().unwrap()
}

const COLS_213: &str = "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,bytes,grpThreads,allThreads,Latency";

fn p(name: &str) -> String {
    jmeter213(name).to_str().unwrap().to_string()
}

#[test]
fn default_headerless_csv_uses_the_213_preset() {
    let store = TestStore::new();
    let truth = py_json(
        "jtl_stats.py",
        &["csv", &p("default.csv"), ",", "no", COLS_213],
    );
    assert_eq!(truth["total"], 80);
    let auto = store.import(&[&p("default.csv")]);
    assert_same_label_stats(&store, &auto, &truth);
    let explicit = store.import(&[&p("default.csv"), "--jmeter-version", "2.13", "--force"]);
    assert_same_label_stats(&store, &explicit, &truth);
    let listed = store.import(&[&p("default.csv"), "--columns", COLS_213, "--force"]);
    assert_same_label_stats(&store, &listed, &truth);
}

#[test]
fn header_csv_statistics_and_error_classes() {
    let store = TestStore::new();
    let truth = py_json("jtl_stats.py", &["csv", &p("header.csv"), ",", "yes"]);
    let run = store.import(&[&p("header.csv")]);
    assert_same_label_stats(&store, &run, &truth);
    let codes = truth["codes"].as_object().unwrap();
    let count = |pred: &dyn Fn(&str) -> bool| -> u64 {
        codes
            .iter()
            .filter(|(c, _)| pred(c))
            .map(|(_, n)| n.as_u64().unwrap())
            .sum()
    };
    let classes = store.sql(&format!(
        "select error_class, count(*) as n from samples where run_id = '{run}' group by error_class"
    ));
    let class = |c: &str| {
        classes
            .iter()
            .find(|r| r["error_class"] == c)
            .map(|r| r["n"].as_u64().unwrap())
            .unwrap_or(0)
    };
    assert_eq!(
        class("timeout"),
        count(&|c| c.contains("SocketTimeoutException"))
    );
    assert_eq!(class("refused"), count(&|c| c.contains("ConnectException")));
    assert_eq!(class("http_4xx"), count(&|c| c == "404"));
    assert_eq!(class("http_5xx"), count(&|c| c == "500"));
    assert!(class("timeout") > 0 && class("refused") > 0 && class("assertion") > 0);
    // Failed 200s (assertions; transactions whose first failing child failed one) are assertions.
    assert_eq!(
        class("assertion"),
        count(&|c| c == "200") - codes_ok(&truth)
    );
}

#[test]
fn tab_delimited_formatted_timestamps_in_a_time_zone() {
    let store = TestStore::new();
    let truth = py_json(
        "jtl_stats.py",
        &["csv", &p("tab-formatted.csv"), "tab", "yes"],
    );
    let utc = store.import(&[
        &p("tab-formatted.csv"),
        "--timestamp-format",
        "yyyy/MM/dd HH:mm:ss.SSS",
        "--timezone",
        "UTC",
    ]);
    assert_same_label_stats(&store, &utc, &truth);
    // Detected without options too (JMeter's fallback formats), and with the delimiter given.
    let auto = store.import(&[&p("tab-formatted.csv"), "--force", "--delimiter", "\\t"]);
    let paris = store.import(&[
        &p("tab-formatted.csv"),
        "--force",
        "--timezone",
        "Europe/Paris",
    ]);
    // Independent: the first line's timestamp parsed by Python's datetime, as UTC.
    let first = std::fs::read_to_string(jmeter213("tab-formatted.csv")).unwrap();
    let ts_text = first
        .lines()
        .nth(1)
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_string();
    let out = std::process::Command::new(python())
        .args(["-c", &format!(
            "import datetime; d = datetime.datetime.strptime('{ts_text}', '%Y/%m/%d %H:%M:%S.%f').replace(tzinfo=datetime.timezone.utc); print(int(d.timestamp() * 1000))"
        )])
        .output()
        .unwrap();
    let expected: i64 = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    for (run, shift) in [(&utc, 0), (&auto, 0), (&paris, 3_600_000)] {
        let rows = store.sql(&format!(
            "select cast(ts as bigint) as ms from samples where run_id = '{run}' and \"row\" = 0"
        ));
        // November: Paris is UTC+1, so the same wall-clock text is one hour earlier in UTC.
        assert_eq!(rows[0]["ms"].as_i64().unwrap(), expected - shift, "{run}");
    }
}

#[test]
fn all_optional_fields_and_sample_variables() {
    let store = TestStore::new();
    let truth = py_json("jtl_stats.py", &["csv", &p("all-fields.csv"), ",", "yes"]);
    let run = store.import(&[&p("all-fields.csv")]);
    assert_same_label_stats(&store, &run, &truth);
    // Independent: Python's csv module reads the variables, agent, connect and multi-line messages.
    let script = format!(
        "import csv, json\nrows = list(csv.DictReader(open('{}', encoding='utf-8', newline='')))\n\
         print(json.dumps({{'orders': sorted({{r['\"ORDER_ID\"'] if '\"ORDER_ID\"' in r else r['ORDER_ID'] for r in rows}}),\
         'multiline': sum(1 for r in rows if '\\n' in r['failureMessage']),\
         'connect': sum(int(r['Connect']) for r in rows), 'hosts': sorted({{r['Hostname'] for r in rows}})}}))",
        p("all-fields.csv")
    );
    let want = py_inline(&script);
    let got = store.sql(&format!(
        "select array_agg(distinct vars['ORDER_ID']) as orders, \
         sum(case when strpos(failure_message, chr(10)) > 0 then 1 else 0 end) as multiline, \
         sum(connect_ms) as connect, array_agg(distinct agent) as hosts \
         from samples where run_id = '{run}'"
    ));
    let mut orders: Vec<String> = got[0]["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    orders.sort();
    let want_orders: Vec<String> = want["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(orders, want_orders);
    assert!(
        orders.iter().any(|o| o.contains(", \"gift wrap\"")),
        "quoted value with comma and quotes"
    );
    assert_eq!(got[0]["multiline"], want["multiline"]);
    assert!(want["multiline"].as_u64().unwrap() > 0);
    assert_eq!(got[0]["connect"], want["connect"]);
    assert_eq!(
        got[0]["hosts"].as_array().unwrap().len(),
        want["hosts"].as_array().unwrap().len()
    );
}

#[test]
fn xml_sub_samples_and_assertion_messages() {
    let store = TestStore::new();
    let truth = py_json("jtl_stats.py", &["xml", &p("subsamples.xml")]);
    let run = store.import(&[&p("subsamples.xml")]);
    assert_same_label_stats(&store, &run, &truth);
    // Independent: ElementTree counts nested elements and failing assertion messages.
    let script = format!(
        "import json, xml.etree.ElementTree as ET\nroot = ET.parse('{}').getroot()\n\
         tags = ('sample', 'httpSample')\n\
         top = [e for e in root if e.tag in tags]\n\
         nested = sum(1 for t in top for e in t.iter() if e.tag in tags) - len(top)\n\
         tx = sum(1 for e in top if (e.get('rm') or '').startswith('Number of samples in transaction'))\n\
         def first_fail(e):\n  for a in e.findall('assertionResult'):\n    if a.findtext('failure') == 'true' or a.findtext('error') == 'true':\n      return a.findtext('failureMessage')\n\
         msgs = sorted(set(m for t in top for e in t.iter() if e.tag in tags for m in [first_fail(e)] if m))\n\
         print(json.dumps({{'nested': nested, 'tx': tx, 'msgs': msgs}}))",
        p("subsamples.xml")
    );
    let want = py_inline(&script);
    let kinds = store.sql(&format!(
        "select sum(case when kind = 'subsample' then 1 else 0 end) as nested, \
         sum(case when kind = 'transaction' then 1 else 0 end) as tx, \
         sum(case when kind = 'subsample' and parent_row is null then 1 else 0 end) as orphans \
         from samples where run_id = '{run}'"
    ));
    assert_eq!(kinds[0]["nested"], want["nested"]);
    assert_eq!(kinds[0]["tx"], want["tx"]);
    assert_eq!(kinds[0]["orphans"], 0);
    let msgs = store.sql(&format!(
        "select distinct failure_message as m from samples where run_id = '{run}' and failure_message is not null order by m"
    ));
    let got: Vec<&str> = msgs.iter().map(|r| r["m"].as_str().unwrap()).collect();
    let want_msgs: Vec<&str> = want["msgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(got, want_msgs);
    assert!(!got.is_empty());
}

#[test]
fn killed_xml_keeps_every_complete_sample_with_a_warning() {
    let store = TestStore::new();
    let truth = py_json("jtl_stats.py", &["xml", &p("killed.xml")]);
    let out = store.run(&["import", &p("killed.xml")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without </testResults>"), "{err}");
    let run = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_same_label_stats(&store, &run, &truth);
    assert_eq!(truth["total"], 695);
}

#[test]
fn killed_csv_drops_only_the_cut_last_line() {
    let store = TestStore::new();
    let truth = py_json("jtl_stats.py", &["csv", &p("killed.csv"), ",", "yes"]);
    assert_eq!(truth["total"], 936);
    let out = store.run(&["import", &p("killed.csv")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("incomplete last line") && err.contains("1 rows rejected"),
        "{err}"
    );
    let run = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_same_label_stats(&store, &run, &truth);
}

#[test]
fn plan_thread_groups_become_case_names() {
    let store = TestStore::new();
    let plan = p("plans/shop.jmx");
    let run = store.import(&[&p("header.csv"), "--plan", &plan]);
    // Independent: thread-group names read from the JMX with ElementTree.
    let out = std::process::Command::new(python())
        .args(["-c", &format!(
            "import xml.etree.ElementTree as ET; print('\\n'.join(sorted(e.get('testname') for e in ET.parse('{plan}').iter() if e.tag.endswith('ThreadGroup') and e.get('enabled', 'true') == 'true')))"
        )])
        .output()
        .unwrap();
    let groups: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        groups,
        vec!["Browse Users".to_string(), "Checkout Flow".to_string()]
    );
    let cases = store.sql(&format!(
        "select distinct case_name from samples where run_id = '{run}' order by case_name"
    ));
    let cases: Vec<String> = cases
        .iter()
        .map(|r| r["case_name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(cases, groups);
    let runs = store.sql(&format!("select has_plan from runs where run_id = '{run}'"));
    assert_eq!(runs[0]["has_plan"], true);
}
