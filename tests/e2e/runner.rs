//! `loadlake run`: tests/data/runner/shop.jmx executed by the native runner (counts, --jtl,
//! --validate, progress, --duration) against
//! scripts/fixture-server.py on 127.0.0.1; the server's own access log is the truth for what was
//! sent, and the run's report must count the same.

use std::process::Command;

use crate::common::*;

fn plan() -> String {
    repo_root()
        .join("tests/data/runner/shop.jmx")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_plan_runs_natively_and_reports_what_the_server_saw() {
    let server = FixtureServer::start(60);
    let store = TestStore::new();
    let port = format!("-Jport={}", server.port);
    let jtl = store.path().join("native.jtl");
    let out = store.run(&[
        "run",
        &plan(),
        &port,
        "-Jusers=3",
        "-Jloops=4",
        "--name",
        "native",
        "--tag",
        "env=test",
        "--jtl",
        jtl.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = String::from_utf8(out.stdout).unwrap().trim().to_string();

    // Give the server's log a moment to arrive, then count what it received.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut seen = Vec::new();
    let (ok, missing, json) = (
        server.count(&mut seen, "/ok"),
        server.count(&mut seen, "/notfound"),
        server.count(&mut seen, "/json"),
    );
    assert_eq!(
        (ok, missing, json),
        (24, 12, 12),
        "3 users x 4 loops; /ok twice per loop"
    );

    let report = store.json(&["report", &run, "--format", "json"]);
    let detail = |name: &str| {
        report["details"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("no detail {name}"))
            .clone()
    };
    assert_eq!(detail("Home")["requests"], 12);
    assert_eq!(detail("Pay")["requests"], 12);
    assert_eq!(detail("Item")["requests"], json as u64);
    let m = detail("Missing");
    assert_eq!(
        (
            m["requests"].as_u64(),
            m["errorCount"].as_u64(),
            m["sum4xx"].as_u64()
        ),
        (Some(12), Some(12), Some(12))
    );
    let checkout = detail("Checkout");
    assert_eq!(checkout["level"], "transaction");
    assert_eq!(checkout["requests"], 12);
    // The outline counts samples, not transactions: 4 samplers x 12.
    assert_eq!(report["outline"]["requests"], (ok + missing + json) as u64);
    assert_eq!(report["outline"]["maxUsers"], 3);
    let runs = store.sql("select name, status, tags from runs where name = 'native'");
    assert_eq!(runs[0]["name"], "native");
    assert_eq!(runs[0]["status"], "complete");
    // --jtl wrote JMeter's CSV: Python's csv module reads the header and 60 rows (48 samples and
    // 12 transactions); imported back, it reports exactly like the native run.
    let rows = py_inline(&format!(
        "import csv, json\nr = list(csv.reader(open({:?}, newline='')))\n\
         print(json.dumps({{'header': r[0], 'rows': len(r) - 1, \
         'tx': sum(1 for x in r[1:] if x[4].startswith('Number of samples in transaction'))}}))",
        jtl.to_str().unwrap()
    ));
    assert_eq!(rows["header"][0], "timeStamp");
    assert_eq!(rows["header"].as_array().unwrap().len(), 17);
    assert_eq!(
        (rows["rows"].as_u64(), rows["tx"].as_u64()),
        (Some(60), Some(12))
    );
    let again = store.import(&[jtl.to_str().unwrap(), "--name", "from-jtl"]);
    let imported = store.json(&["report", &again, "--format", "json"]);
    assert_eq!(
        imported["details"], report["details"],
        "the JTL carries every number"
    );

    // Thread names are JMeter's: `<group> 1-<n>`.
    let threads = store.sql(&format!(
        "select count(distinct thread) as n, min(thread) as first from samples where run_id = '{run}'"
    ));
    assert_eq!(threads[0]["n"], 3);
    assert_eq!(threads[0]["first"], "Shoppers 1-1");
}

#[test]
fn validate_explains_and_sends_nothing_and_unsupported_plans_are_refused() {
    let server = FixtureServer::start(60);
    let store = TestStore::new();
    let port = format!("-Jport={}", server.port);
    let out = store.run(&["run", &plan(), &port, "--validate"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Thread group \"Shoppers\": 2 thread(s)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("GET http://127.0.0.1:{}/notfound", server.port)),
        "{text}"
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    let mut seen = Vec::new();
    assert_eq!(
        server.count(&mut seen, "/ok"),
        0,
        "--validate sends nothing"
    );
    assert!(store.sql("select count(*) as n from runs")[0]["n"] == 0);

    let jmx = std::fs::read_to_string(plan())
        .unwrap()
        .replace(
            "<TransactionController ",
            "<CSVDataSet testname=\"users.csv\" ",
        )
        .replace("</TransactionController>", "</CSVDataSet>")
        .replace(
            "testclass=\"TransactionController\"",
            "testclass=\"CSVDataSet\"",
        );
    let bad = store.path().join("bad.jmx");
    std::fs::write(&bad, jmx).unwrap();
    let out = store.run(&["run", bad.to_str().unwrap(), &port]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.jmx") && err.contains("CSVDataSet"),
        "{err}"
    );
}

#[test]
fn a_bounded_forever_run_prints_progress_and_keeps_every_sample() {
    let server = FixtureServer::start(60);
    let store = TestStore::new();
    let port = format!("-Jport={}", server.port);
    // Loops forever, bounded by --duration: about two seconds of traffic on loopback.
    let out = store.run(&["run", &plan(), &port, "-Jloops=-1", "--duration", "2200ms"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let err = String::from_utf8_lossy(&out.stderr);
    let counts: Vec<u64> = err
        .lines()
        .filter(|l| l.contains("samples") && l.contains("TPS") && l.contains("p95"))
        .filter_map(|l| {
            l.split("samples")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert!(!counts.is_empty(), "a progress line every second:\n{err}");
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    let total = store.sql(&format!(
        "select count(*) as n from samples where run_id = '{run}'"
    ));
    let total = total[0]["n"].as_u64().unwrap();
    assert!(
        total >= *counts.last().unwrap(),
        "{total} kept, {counts:?} shown"
    );
    let span = store.sql(&format!(
        "select (max(cast(ts as bigint)) - min(cast(ts as bigint))) as ms from samples where run_id = '{run}'"
    ));
    let ms = span[0]["ms"].as_i64().unwrap();
    assert!(
        (1500..=3500).contains(&ms),
        "the run lasted {ms} ms of --duration 2200ms"
    );
}

/// The JMeter 2.13 wrapper of ../shared (XStream shim), when JMeter is installed.
fn jmeter213() -> Option<std::path::PathBuf> {
    let wrapper = repo_root().join("../shared/tools/jmeter213/jmeter213");
    let installed =
        std::path::Path::new("/usr/share/jmeter/lib/ext/ApacheJMeter_http.jar").exists();
    if wrapper.exists() && installed {
        Some(wrapper)
    } else {
        eprintln!(
            "SKIP: JMeter 2.13 (apt jmeter jmeter-http + ../shared/tools/jmeter213) is not here"
        );
        None
    }
}

#[test]
fn the_runner_and_jmeter_2_13_agree_on_the_same_plan() {
    let Some(jmeter) = jmeter213() else {
        return;
    };
    let server = FixtureServer::start(60);
    let store = TestStore::new();
    let port = format!("-Jport={}", server.port);
    let jmeter_jtl = store.path().join("jmeter.jtl");
    let s = "jmeter.save.saveservice";
    let out = Command::new(&jmeter)
        .args(["-n", "-t", &plan(), &port, "-Jusers=3", "-Jloops=4", "-l"])
        .arg(&jmeter_jtl)
        .arg("-j")
        .arg(store.path().join("jmeter.log"))
        .args([
            format!("-J{s}.output_format=csv"),
            format!("-J{s}.print_field_names=true"),
        ])
        .output()
        .expect("run JMeter 2.13");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let theirs = store.import(&[jmeter_jtl.to_str().unwrap(), "--name", "jmeter"]);
    let out = store.run(&[
        "run",
        &plan(),
        &port,
        "-Jusers=3",
        "-Jloops=4",
        "--name",
        "loadlake",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = String::from_utf8(out.stdout).unwrap().trim().to_string();
    // What does not depend on timing: per label and kind, the samples, their outcomes and codes,
    // the thread names and the cases.
    let outcome = |run: &str| {
        store.sql(&format!(
            "select case_name, label, kind, response_code, response_message, success, error_class, \
             count(*) as n, count(distinct thread) as threads \
             from samples where run_id = '{run}' \
             group by case_name, label, kind, response_code, response_message, success, error_class \
             order by label, kind, response_code"
        ))
    };
    let (jm, ll) = (outcome(&theirs), outcome(&ours));
    assert!(jm.len() >= 5, "{jm:?}");
    assert_eq!(
        ll, jm,
        "loadlake's samples differ from JMeter 2.13's on the same plan"
    );
}

#[test]
fn the_open_model_keeps_its_rate_and_records_the_intended_latency() {
    let t = Tick::new();
    let store = &t.store;
    // 50 iterations a second for 2 s: due at k/50 s for k = 0…99, one GET /ok each.
    let run = t.run_ok(&["--mode", "tps", "--tps", "50", "--duration", "2s"]);
    let mut seen = Vec::new();
    // The server's own log is the truth for what was sent (its lines may lag on a busy machine).
    assert_eq!(t.server.count_at_least(&mut seen, "/ok", 100), 100);
    let rows = store.sql(&format!(
        "select count(*) as n, count(intended_elapsed_ms) as corrected, \
         sum(case when intended_elapsed_ms >= elapsed_ms then 1 else 0 end) as not_below \
         from samples where run_id = '{run}'"
    ));
    assert_eq!(
        (
            rows[0]["n"].as_u64(),
            rows[0]["corrected"].as_u64(),
            rows[0]["not_below"].as_u64()
        ),
        (Some(100), Some(100), Some(100))
    );
    // An open model has no loop count: it needs a duration.
    let out = t.run(&["--mode", "tps", "--tps", "50"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("needs --duration"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn stages_files_drive_the_users_and_bad_load_options_are_named() {
    let t = Tick::new();
    let store = &t.store;
    let dir = tempfile::tempdir().unwrap();
    let stages = dir.path().join("stages.yaml");
    // 3 users for 1 s, then 1 user for 1 s (the plan's 2 threads × 5 loops no longer apply).
    std::fs::write(
        &stages,
        "stages:\n  - {mode: concurrency, users: 3, duration: 1s}\n  - {mode: concurrency, users: 1, duration: 1s}\n",
    )
    .unwrap();
    // Each user pauses 20 ms between requests: a few hundred requests, not a flood.
    let run = t.run_ok(&["-Jthink=20", "--stages", stages.to_str().unwrap()]);
    let rows = store.sql(&format!(
        "select count(distinct thread) as users, max(all_threads) as most, \
         cast(max(ts) as bigint) - cast(min(ts) as bigint) as span_ms, count(*) as n \
         from samples where run_id = '{run}'"
    ));
    assert_eq!(rows[0]["users"].as_u64(), Some(3), "{rows:?}");
    assert_eq!(rows[0]["most"].as_u64(), Some(3), "{rows:?}");
    let span = rows[0]["span_ms"].as_i64().unwrap();
    assert!((1500..=2100).contains(&span), "{rows:?}");
    // In the second second only the first user is left.
    let late = store.sql(&format!(
        "select distinct thread from samples where run_id = '{run}' \
         and cast(ts as bigint) >= \
         (select min(cast(ts as bigint)) from samples where run_id = '{run}') + 1300"
    ));
    assert_eq!(late.len(), 1, "{late:?}");

    // A file of arrival rates (open model): 0 → 20 per second over 1 s, then 20 per second for
    // 1 s. Iterations are the integral of the rate, 10 + 20, each one request, each with the
    // latency from its intended start; the file's max_vus caps the users.
    std::fs::write(
        &stages,
        "max_vus: 3\nstages:\n  - {mode: tps, tps: 20, ramp_up: 1s, duration: 2s}\n",
    )
    .unwrap();
    let run = t.run_ok(&["--stages", stages.to_str().unwrap()]);
    let rows = store.sql(&format!(
        "select count(*) as n, count(intended_elapsed_ms) as corrected, \
         count(distinct thread) as users from samples where run_id = '{run}'"
    ));
    assert_eq!(rows[0]["n"].as_u64(), Some(30), "{rows:?}");
    assert_eq!(rows[0]["corrected"].as_u64(), Some(30), "{rows:?}");
    assert!(
        rows[0]["users"]
            .as_u64()
            .is_some_and(|u| (1..=3).contains(&u)),
        "{rows:?}"
    );

    // The last stage of users can end after a count of iterations: 3 users begin 20 in all.
    std::fs::write(
        &stages,
        "stages:\n  - {mode: concurrency, users: 3, count: 20, max_duration: 30s}\n",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let run = t.run_ok(&["-Jthink=20", "--stages", stages.to_str().unwrap()]);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let rows = store.sql(&format!(
        "select count(*) as n, count(distinct thread) as users from samples \
         where run_id = '{run}'"
    ));
    assert_eq!(rows[0]["n"].as_u64(), Some(20), "{rows:?}");
    assert_eq!(rows[0]["users"].as_u64(), Some(3), "{rows:?}");

    let fails_with = |args: &[&str], needle: &str| {
        let out = t.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(needle),
            "{args:?}: {err}"
        );
    };
    std::fs::write(
        &stages,
        "stages:\n  - {mode: surge, min: 5, max: 2, base: 1s, burst: 1s}\n",
    )
    .unwrap();
    fails_with(
        &["--stages", stages.to_str().unwrap()],
        "stage 1 (surge): max: must be ≥ min (5) and ≥ 1, not 2",
    );
    std::fs::write(
        &stages,
        "stages:\n  - {mode: concurrency, users: 1, duration: 1s}\n  - {mode: tps, tps: 5, duration: 1s}\n",
    )
    .unwrap();
    fails_with(
        &["--stages", stages.to_str().unwrap()],
        "stage 2 (tps): mode: stage 1 is concurrency, this one tps",
    );
    let ramp = [
        "--start",
        "1",
        "--step",
        "1",
        "--step-duration",
        "1s",
        "--max",
        "3",
    ];
    fails_with(
        &[&["--mode", "peak"], &ramp[..]].concat(),
        "needs at least one --kpi rule",
    );
    fails_with(
        &[&["--mode", "peak", "--kpi", "p97<=1s"], &ramp[..]].concat(),
        "unknown metric 'p97'",
    );
    fails_with(&["--kpi", "avg_rt<=1s"], "need --mode peak or smart-peak");
    // Peak-seeking is not split across agents: refused before any controller is asked.
    fails_with(
        &[
            &["--mode", "peak", "--kpi", "p95<=1s", "--agents", "2"],
            &ramp[..],
        ]
        .concat(),
        "cannot be split across agents",
    );
    fails_with(
        &["--stop-when", "p95>1s for ever"],
        "stop rule 'p95>1s for ever': 'ever' is not a duration",
    );
}

#[test]
fn a_peak_run_prints_its_steps_and_keeps_the_peak_as_tags() {
    let t = Tick::new();
    let store = &t.store;
    // 1 then 2 users, 700 ms each; a loopback server meets the rule at both.
    let out = t.run(&[
        "-Jthink=20",
        "--mode",
        "peak",
        "--start",
        "1",
        "--step",
        "1",
        "--step-duration",
        "700ms",
        "--max",
        "2",
        "--kpi",
        "success_rate>=99%",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("peak: at least 2 users") && err.contains("every step met the rules"),
        "{err}"
    );
    let run = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let ours = store.run_entry(&run);
    assert_eq!(ours["tags"]["peak_users"], "2", "{ours}");
    let users = store.sql(&format!(
        "select count(distinct thread) as n from samples where run_id = '{run}'"
    ));
    assert_eq!(users[0]["n"].as_u64(), Some(2));
}

#[test]
fn status_shows_the_lifecycle_and_stop_ends_the_run_keeping_its_samples() {
    // On a directory and in the bucket: the live status, the stop request and the parts
    // written so far travel through the store, between processes.
    for store in TestStore::every_kind("status_and_stop") {
        status_and_stop_on(Tick::on(store));
    }
}

fn status_and_stop_on(t: Tick) {
    let store = &t.store;
    let (mut child, run) = t.start_held_run();
    let status = |store: &TestStore| store.json(&["status", &run, "--format", "json"]);
    // RUNNING, with numbers, within a few seconds.
    let live = poll(
        100,
        || status(store),
        |live| live["state"] == "RUNNING" && live["all"]["count"].as_u64().unwrap_or(0) > 0,
    );
    assert_eq!(live["state"], "RUNNING", "{live}");
    assert_eq!(live["concurrency"], 2, "{live}");
    assert_eq!(live["agents"], serde_json::json!(["local"]));
    assert!(
        live["stage"]
            .as_str()
            .unwrap()
            .starts_with("hold (concurrency, 2 users)")
    );
    assert_eq!(live["samplers"][0]["name"], "Home", "{live}");

    // Its samples are queryable by SQL while it runs (`live_samples`: the parts written so far,
    // about one a second), and are not in `samples` before the run is committed.
    let rows_of = |table: &str| {
        store.sql(&format!(
            "select row, ts, elapsed_ms, label, thread from {table} \
             where run_id = '{run}' order by row"
        ))
    };
    let seen = poll(50, || rows_of("live_samples"), |seen| !seen.is_empty());
    assert!(!seen.is_empty(), "no live samples within 5 s");
    assert!(rows_of("samples").is_empty(), "committed before its end");
    let later = poll(
        50,
        || rows_of("live_samples"),
        |later| later.len() > seen.len(),
    );
    assert!(later.len() > seen.len(), "live samples do not grow");
    let out = store.run(&["stop", &run]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exit = child.wait().unwrap();
    assert!(exit.success());
    // The run is kept, with every sample the live numbers counted, and what SQL saw live is
    // what it kept, unchanged.
    assert_stopped_on_request(store, &run);
    let kept = rows_of("samples");
    for row in &later {
        assert!(kept.contains(row), "{row} seen live but not kept");
    }
    assert!(
        rows_of("live_samples").is_empty(),
        "still live after its end"
    );
    // A second stop is refused: the run is over.
    let again = store.run(&["stop", &run]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not running"));
}

#[test]
fn reports_show_the_service_or_the_corrected_latency() {
    let t = Tick::new();
    // One user that needs ~40 ms per iteration (think time) for 50 iterations a second: the
    // iterations fall behind their schedule, so the corrected latency grows past the service
    // time.
    let run = t.run_ok(&[
        "-Jusers=1",
        "-Jthink=40",
        "--mode",
        "tps",
        "--tps",
        "50",
        "--duration",
        "1s",
    ]);
    let store = &t.store;
    // Either latency in the report: `--latency intended` is the corrected one, as SQL over the
    // recorded columns computes it.
    let truth = store.sql(&format!(
        "select avg(elapsed_ms) as service, max(elapsed_ms) as service_max, \
         avg(intended_elapsed_ms) as intended, max(intended_elapsed_ms) as intended_max \
         from samples where run_id = '{run}'"
    ));
    for (latency, avg, max) in [
        ("service", "service", "service_max"),
        ("intended", "intended", "intended_max"),
    ] {
        let report = store.json(&["report", &run, "--format", "json", "--latency", latency]);
        let case = &report["details"][0];
        let want = truth[0][avg].as_f64().unwrap();
        let got = case["averageRespTime"].as_f64().unwrap();
        assert!(
            (got - want).abs() <= 0.006,
            "{latency}: report {got}, SQL {want}"
        );
        assert_eq!(case["max"].as_f64(), truth[0][max].as_f64(), "{latency}");
    }
    assert!(
        truth[0]["intended"].as_f64().unwrap() > truth[0]["service"].as_f64().unwrap() + 50.0,
        "{truth:?}"
    );
    // In µs: each HTTP sample's µs service time plus its lateness, recorded in whole ms
    // (`intended_elapsed_ms - elapsed_ms`); samples without µs: the intended ms × 1000.
    let truth = store.sql(&format!(
        "select avg(us) as avg, max(us) as max, count(measured) as measured, count(*) as n \
         from (select coalesce(elapsed_us + (intended_elapsed_ms - elapsed_ms) * 1000, \
         intended_elapsed_ms * 1000) as us, elapsed_us as measured \
         from samples where run_id = '{run}' and kind = 'sample')"
    ));
    assert_eq!(
        truth[0]["measured"], truth[0]["n"],
        "every HTTP sample has µs: {truth:?}"
    );
    let report = store.json(&[
        "report",
        &run,
        "--format",
        "json",
        "--latency",
        "intended",
        "--resolution",
        "us",
    ]);
    assert_eq!(report["timeUnit"], "us");
    let case = &report["details"][0];
    let (want, got) = (
        truth[0]["avg"].as_f64().unwrap(),
        case["averageRespTime"].as_f64().unwrap(),
    );
    assert!(
        (got - want).abs() <= 0.006,
        "report {got} µs, SQL {want} µs"
    );
    assert_eq!(case["max"].as_f64(), truth[0]["max"].as_f64());
}

#[test]
fn a_run_being_written_is_reported_and_gated_on_its_samples_so_far() {
    // On a directory and in the bucket (where the parts so far are the ones the writer's
    // draft lists).
    for store in TestStore::every_kind("live_report") {
        live_report_on(Tick::on(store));
    }
}

fn live_report_on(t: Tick) {
    let store = &t.store;
    let (mut child, run) = t.start_held_run();
    let written = || {
        store.sql(&format!(
            "select count(*) as n from live_samples where run_id = '{run}'"
        ))[0]["n"]
            .as_u64()
            .unwrap_or(0)
    };
    poll(50, written, |n| *n > 0);
    // The report of a live run counts the rows written when it ran: between what SQL saw just
    // before and just after.
    let before = written();
    assert!(before > 0, "no live samples within 5 s");
    let out = store.run(&["report", &run, "--format", "json"]);
    let after = written();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("is still being written (RUNNING)"), "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let requests = report["outline"]["requests"].as_u64().unwrap();
    assert!(
        (before..=after).contains(&requests),
        "{before} ≤ {requests} ≤ {after}"
    );
    // So does the per-second curve (its points' requests add up to the rows it read), and the
    // cases are there.
    let before = written();
    let out = store.run(&["curve", &run, "--format", "csv"]);
    let after = written();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == "requests").unwrap();
    let plotted: u64 = lines
        .map(|l| l.split(',').nth(at).unwrap().parse::<u64>().unwrap())
        .sum();
    assert!(
        (before..=after).contains(&plotted),
        "{before} ≤ {plotted} ≤ {after}"
    );
    let cases = store.json(&["cases", &run, "--format", "json"]);
    assert!(cases.to_string().contains("Tickers"), "{cases}");
    // SLA rules judge the samples so far: one every sample meets passes, one none can meet fails
    // the gate (exit code 1), and the JUnit file says which.
    let sla = store.path().join("live-sla.yaml");
    let junit = store.path().join("live-sla.xml");
    let html = store.path().join("live.html");
    std::fs::write(&sla, "rules:\n  - {metric: avg_rt, max: 60000}\n").unwrap();
    let out = store.run(&[
        "report",
        &run,
        "--sla",
        sla.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The page of a live run carries its name from the live status.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("tick.jmx") && page.contains(&run),
        "no name or id in the page"
    );
    std::fs::write(
        &sla,
        "rules:\n  - {metric: avg_rt, max: 60000}\n  - {name: impossible, metric: tps, min: 1000000}\n",
    )
    .unwrap();
    let out = store.run(&[
        "report",
        &run,
        "--sla",
        sla.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("impossible") && xml.contains("<failure"),
        "{xml}"
    );

    assert!(store.run(&["stop", &run]).status.success());
    assert!(child.wait().unwrap().success());
    // Once committed, the report is the committed run's, with every row.
    let out = store.run(&["report", &run, "--format", "json"]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("still being written"));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = store.sql(&format!(
        "select count(*) as n from samples where run_id = '{run}'"
    ));
    assert_eq!(report["outline"]["requests"], rows[0]["n"]);
}

#[test]
fn the_runner_keeps_microseconds_beside_whole_milliseconds() {
    let t = Tick::new();
    let run = t.run_ok(&["-Jusers=2", "-Jloops=25"]);
    let rows = t.store.sql(&format!(
        "select count(*) as n, count(elapsed_us) as timed, \
         sum(case when elapsed_us >= elapsed_ms * 1000 and elapsed_us < (elapsed_ms + 1) * 1000 \
             then 1 else 0 end) as same_ms, \
         sum(case when latency_us <= elapsed_us and connect_us <= elapsed_us then 1 else 0 end) \
             as ordered, \
         sum(case when elapsed_ms = 0 then 1 else 0 end) as zero_ms, \
         sum(case when elapsed_ms = 0 and elapsed_us > 0 then 1 else 0 end) as zero_ms_timed, \
         sum(case when elapsed_us % 1000 <> 0 then 1 else 0 end) as finer \
         from samples where run_id = '{run}' and kind = 'sample'"
    ));
    let r = &rows[0];
    // 2 users × 25 loops of one GET (the plan), each timed in µs.
    assert_eq!(r["n"], 50, "{r}");
    assert_eq!(r["timed"], 50, "{r}");
    // The whole ms are the µs truncated (JMeter truncates), and latency and connect fit in
    // the elapsed time.
    assert_eq!(r["same_ms"], 50, "{r}");
    assert_eq!(r["ordered"], 50, "{r}");
    // On loopback most requests take under a millisecond: 0 ms, yet a measured time in µs;
    // and the µs are not whole ms in disguise.
    assert_eq!(r["zero_ms_timed"], r["zero_ms"], "{r}");
    assert!(r["finer"].as_u64() > Some(0), "{r}");
}
