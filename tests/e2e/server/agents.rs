//! Distributed runs: `loadlake agent` processes join a `loadlake serve` controller, and
//! `loadlake run --agents N` splits a plan across them into one run.

use std::collections::BTreeMap;
use std::process::{Child, Stdio};

use super::Served;
use crate::common::*;

/// Starts `loadlake agent --once` called `name` against `url`.
fn agent(store: &TestStore, url: &str, name: &str) -> Child {
    agent_in(store, url, name, &[], store.path())
}

/// [`agent`] with `extra` arguments, working in `dir`.
fn agent_in(
    store: &TestStore,
    url: &str,
    name: &str,
    extra: &[&str],
    dir: &std::path::Path,
) -> Child {
    store
        .cmd()
        .args(["agent", "--controller", url, "--name", name, "--once"])
        .args(extra)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start an agent")
}

/// Agents a1, a2 and a3 joined to `url`.
fn three_agents(store: &TestStore, url: &str) -> Vec<Child> {
    ["a1", "a2", "a3"]
        .iter()
        .map(|n| agent(store, url, n))
        .collect()
}

/// A stages file of one concurrency stage of `users` for `secs` seconds, in the store's dir.
fn hold(store: &TestStore, users: u32, secs: u32) -> String {
    let path = store.path().join(format!("hold-{users}-{secs}.yaml"));
    std::fs::write(
        &path,
        format!("stages:\n  - {{mode: concurrency, users: {users}, duration: {secs}s}}\n"),
    )
    .expect("write the stages file");
    path.to_string_lossy().into_owned()
}

#[test]
fn three_agents_split_a_plan_into_one_run() {
    let t = Tick::new();
    let store = &t.store;
    let served = Served::start(store, &[]);
    let url = served.url();
    let agents = three_agents(store, &url);
    // 6 users × 5 loops: each agent runs 2 users, 10 requests.
    let out = t.run(&[
        "-Jusers=6",
        "-Jloops=5",
        "--agents",
        "3",
        "--controller",
        &url,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("ran 30 samples on 3 agent(s)"), "{err}");
    let run = String::from_utf8(out.stdout).unwrap().trim().to_string();
    // What each agent says it streamed (its last acknowledgement).
    let mut streamed = BTreeMap::new();
    for child in agents {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let line = String::from_utf8(out.stdout).unwrap();
        let parts: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(parts[0], run, "{line}");
        streamed.insert(parts[1].to_string(), parts[2].parse::<u64>().unwrap());
    }
    let expected: BTreeMap<String, u64> = [("a1", 10), ("a2", 10), ("a3", 10)]
        .map(|(a, n)| (a.to_string(), n))
        .into();
    assert_eq!(streamed, expected);
    // The run holds exactly those samples, told apart by the agent column, with 6 distinct
    // thread names (each agent numbered its own block of the group).
    let rows = store.sql(&format!(
        "select agent, count(*) as n, count(distinct thread) as users \
         from samples where run_id = '{run}' group by agent order by agent"
    ));
    let in_run: BTreeMap<String, u64> = rows
        .iter()
        .map(|r| {
            (
                r["agent"].as_str().unwrap().to_string(),
                r["n"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(in_run, streamed);
    assert!(rows.iter().all(|r| r["users"] == 2), "{rows:?}");
    let threads = store.sql(&format!(
        "select count(distinct thread) as n from samples where run_id = '{run}'"
    ));
    assert_eq!(threads[0]["n"], 6);
    // Per second, the run's totals are the sum of the agents' samples in that second.
    let per_second = store.sql(&format!(
        "select cast(ts as bigint) / 1000 as s, count(*) as n, \
         sum(case when agent = 'a1' then 1 else 0 end) + \
         sum(case when agent = 'a2' then 1 else 0 end) + \
         sum(case when agent = 'a3' then 1 else 0 end) as by_agents \
         from samples where run_id = '{run}' group by 1"
    ));
    assert!(
        per_second.iter().all(|r| r["n"] == r["by_agents"]),
        "{per_second:?}"
    );
    // And the server under test saw every request.
    let mut seen = Vec::new();
    assert_eq!(t.server.count_at_least(&mut seen, "/ok", 30), 30);
}

#[test]
fn arrival_rate_stages_are_split_across_agents() {
    let t = Tick::new();
    let store = &t.store;
    let served = Served::start(store, &[]);
    let url = served.url();
    let agents = three_agents(store, &url);
    // 30 iterations a second for 2 s over 3 agents: each agent 10 a second, 20 in all.
    let stages = store.path().join("tps.yaml");
    std::fs::write(&stages, "stages:\n  - {mode: tps, tps: 30, duration: 2s}\n").unwrap();
    let out = t.run(&[
        "--agents",
        "3",
        "--controller",
        &url,
        "--stages",
        stages.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("ran 60 samples on 3 agent(s)"), "{err}");
    let run = String::from_utf8(out.stdout).unwrap().trim().to_string();
    for child in agents {
        assert!(child.wait_with_output().unwrap().status.success());
    }
    let rows = store.sql(&format!(
        "select agent, count(*) as n, count(intended_elapsed_ms) as corrected \
         from samples where run_id = '{run}' group by agent order by agent"
    ));
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows.iter().all(|r| r["n"] == 20 && r["corrected"] == 20),
        "{rows:?}"
    );
    let mut seen = Vec::new();
    assert_eq!(t.server.count_at_least(&mut seen, "/ok", 60), 60);
}

#[test]
fn a_lost_agent_keeps_its_samples_and_the_others_go_on() {
    let t = Tick::new();
    let store = &t.store;
    let served = Served::start(store, &[]);
    let url = served.url();
    let mut agents = three_agents(store, &url);
    // 3 users (one per agent) for 3 s, 50 ms apart.
    let stages = hold(store, 3, 3);
    let run = store
        .cmd()
        .args([
            "run",
            &t.plan,
            &t.port,
            "-Jthink=50",
            "--agents",
            "3",
            "--controller",
            &url,
        ])
        .args(["--stages", &stages])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The agents start 1 s after the run is handed out; a2 dies half a second into its part.
    std::thread::sleep(std::time::Duration::from_millis(1800));
    agents[1].kill().unwrap();
    let out = run.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("agent a2 lost"), "{err}");
    assert!(err.contains("(incomplete); lost agent(s): a2"), "{err}");
    let run_id = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let ours = store.run_entry(&run_id);
    assert_eq!(ours["tags"]["lost_agents"], "a2", "{ours}");
    assert_eq!(ours["status"], "incomplete", "{ours}");
    // a2's acknowledged samples stay; the others ran to the end of the 3 s.
    let spans = store.sql(&format!(
        "select agent, count(*) as n, \
         cast(max(ts) as bigint) - cast(min(ts) as bigint) as span_ms \
         from samples where run_id = '{run_id}' group by agent order by agent"
    ));
    let span = |i: usize| spans[i]["span_ms"].as_i64().unwrap();
    assert_eq!(spans.len(), 3, "{spans:?}");
    assert!(spans[1]["n"].as_u64().unwrap() > 0, "{spans:?}");
    assert!(span(1) < 1500, "a2 ran on after it was killed: {spans:?}");
    assert!(span(0) >= 2500 && span(2) >= 2500, "{spans:?}");
    for mut a in agents {
        let _ = a.kill();
        let _ = a.wait();
    }
}

#[test]
fn a_distributed_run_has_live_status_and_stops_on_request() {
    let t = Tick::new();
    let served = Served::start(&t.store, &[]);
    let url = served.url();
    let agents = three_agents(&t.store, &url);
    // 6 users (2 per agent) for up to 30 s: `loadlake stop` ends it long before.
    let stages = hold(&t.store, 6, 30);
    let (mut run, run_id) = start_run(
        &t.store,
        &[
            &t.plan,
            &t.port,
            "-Jthink=50",
            "--agents",
            "3",
            "--controller",
            &url,
            "--stages",
            &stages,
        ],
    );
    let status = || t.store.json(&["status", &run_id, "--format", "json"]);
    let live = poll(100, status, |live| {
        live["state"] == "RUNNING" && live["concurrency"] == 6
    });
    assert_eq!(live["state"], "RUNNING", "{live}");
    assert_eq!(live["concurrency"], 6, "{live}");
    let mut ids: Vec<&str> = live["agents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    ids.sort();
    assert_eq!(ids, ["a1", "a2", "a3"], "{live}");
    assert!(live["all"]["count"].as_u64().unwrap() > 0, "{live}");
    assert!(
        live["stage"]
            .as_str()
            .is_some_and(|s| s.starts_with("stage 1 (concurrency, 6 users)")),
        "{live}"
    );
    // SQL sees the samples the agents streamed so far (each acknowledged batch is a part of the
    // run being written), from all three agents.
    let agents_live = || {
        t.store.sql(&format!(
            "select count(distinct agent) as agents, count(*) as n from live_samples \
             where run_id = '{run_id}'"
        ))
    };
    let seen = poll(50, agents_live, |seen| seen[0]["agents"] == 3);
    assert_eq!(seen[0]["agents"], 3, "{seen:?}");

    let out = t.store.run(&["stop", &run_id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(run.wait().unwrap().success());
    let done = assert_stopped_on_request(&t.store, &run_id);
    assert!(
        done["all"]["count"].as_u64() >= seen[0]["n"].as_u64(),
        "{done}"
    );
    for a in agents {
        assert!(a.wait_with_output().unwrap().status.success());
    }
}

#[test]
fn fleet_wide_stop_rules_judge_the_merged_samples() {
    let t = Tick::new();
    let served = Served::start(&t.store, &[]);
    let url = served.url();
    let agents = three_agents(&t.store, &url);
    // 3 users (one per agent), 20 ms apart: ~45 requests a second each, ~135 together.
    let stages = hold(&t.store, 3, 30);
    let out = t.run(&[
        "-Jthink=20",
        "--agents",
        "3",
        "--controller",
        &url,
        "--stages",
        &stages,
        "--stop-when",
        "tps>90 for 2s",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // No single agent reaches 90 a second: only the merged samples can break the rule.
    assert!(err.contains("stop rule tps>90 for 2s (measured 1"), "{err}");
    let run_id = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let per_agent = t.store.sql(&format!(
        "select agent, count(*) * 1000.0 / \
         (cast(max(ts) as bigint) - cast(min(ts) as bigint) + 1) as tps, \
         cast(max(ts) as bigint) - cast(min(ts) as bigint) as span_ms \
         from samples where run_id = '{run_id}' group by agent"
    ));
    assert_eq!(per_agent.len(), 3, "{per_agent:?}");
    for a in &per_agent {
        assert!(a["tps"].as_f64().unwrap() < 90.0, "{per_agent:?}");
        // Stopped after a few seconds, not 30.
        assert!(a["span_ms"].as_i64().unwrap() < 8000, "{per_agent:?}");
    }
    let ours = t.store.run_entry(&run_id);
    assert!(
        ours["tags"]["stopped_by"]
            .as_str()
            .unwrap()
            .starts_with("stop rule tps>90 for 2s"),
        "{ours}"
    );
    for a in agents {
        assert!(a.wait_with_output().unwrap().status.success());
    }
}

#[test]
fn a_bad_distributed_run_is_refused_before_any_agent_or_run() {
    use loadlake_server::pb;
    use loadlake_server::pb::agent_service_client::AgentServiceClient;
    let store = TestStore::new();
    let served = Served::start(&store, &[]);
    super::runtime().block_on(async {
        let mut client = AgentServiceClient::new(super::channel(&served).await);
        let request = |load: pb::LoadSpec| pb::DistributedRunRequest {
            plan_jmx: "<jmeterTestPlan/>".into(),
            load: Some(load),
            agents: 2,
            ..pb::DistributedRunRequest::default()
        };
        // No agent has joined: a valid request would wait for them; these fail at once.
        let bad_rule = client
            .start_distributed_run(request(pb::LoadSpec {
                stop_when: vec!["p95>1s for ever".into()],
                ..pb::LoadSpec::default()
            }))
            .await
            .unwrap_err();
        assert_eq!(bad_rule.code(), tonic::Code::InvalidArgument);
        assert!(
            bad_rule.message().contains("'ever' is not a duration"),
            "{bad_rule:?}"
        );
        let bad_stages = client
            .start_distributed_run(request(pb::LoadSpec {
                stages_yaml: "stages:\n  - {mode: surge, min: 5, max: 2, base: 1s, burst: 1s}\n"
                    .into(),
                ..pb::LoadSpec::default()
            }))
            .await
            .unwrap_err();
        assert_eq!(bad_stages.code(), tonic::Code::InvalidArgument);
        assert!(
            bad_stages.message().contains("stage 1 (surge): max"),
            "{bad_stages:?}"
        );
    });
    // Nothing was opened: no run, no live file.
    assert!(!store.path().join("live").exists());
    assert_eq!(
        store.json(&["runs", "--format", "json"]),
        serde_json::json!([])
    );
}

/// tick.jmx with a CSV Data Set (`users.csv`, column `name`) whose value each request sends:
/// `GET /ok?u=<name>`.
fn csv_tick_plan(dir: &std::path::Path) -> String {
    let tick = std::fs::read_to_string(repo_root().join("tests/data/runner/tick.jmx")).unwrap();
    let csv = r#"<CSVDataSet guiclass="TestBeanGUI" testclass="CSVDataSet" testname="users" enabled="true">
          <stringProp name="filename">users.csv</stringProp>
          <stringProp name="variableNames"></stringProp>
          <stringProp name="delimiter">,</stringProp>
          <boolProp name="recycle">true</boolProp>
          <boolProp name="stopThread">false</boolProp>
          <stringProp name="shareMode">shareMode.all</stringProp>
        </CSVDataSet>
        <hashTree/>
        <HTTPSamplerProxy "#;
    let plan = tick.replacen("<HTTPSamplerProxy ", csv, 1).replace(
        r#"<stringProp name="HTTPSampler.path">/ok</stringProp>"#,
        r#"<stringProp name="HTTPSampler.path">/ok?u=${name}</stringProp>"#,
    );
    assert!(plan.contains("CSVDataSet") && plan.contains("u=${name}"));
    let path = dir.join("csv-tick.jmx");
    std::fs::write(&path, plan).unwrap();
    std::fs::write(dir.join("users.csv"), "name\nalice\nbob\n").unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn agents_get_the_plans_data_files_and_need_the_controllers_token() {
    let t = Tick::new();
    let store = &t.store;
    let token_file = store.path().join("token");
    std::fs::write(&token_file, "s3cret\n").unwrap();
    let token = token_file.to_str().unwrap();
    let served = Served::start(store, &["--token-file", token]);
    let url = served.url();
    // Agents work in a directory of their own: the CSV file is not there, nor is the plan's
    // directory sent; they can only have it from the controller.
    let data = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let plan = csv_tick_plan(data.path());

    // Without the token, or with a wrong one, an agent cannot join.
    let wrong = store.path().join("wrong");
    std::fs::write(&wrong, "guess\n").unwrap();
    for extra in [&[][..], &["--token-file", wrong.to_str().unwrap()][..]] {
        let out = agent_in(store, &url, "intruder", extra, elsewhere.path())
            .wait_with_output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(err.contains("joining the controller"), "{err}");
        assert!(err.to_lowercase().contains("token"), "{err}");
    }

    let agents: Vec<Child> = ["a1", "a2", "a3"]
        .iter()
        .map(|n| agent_in(store, &url, n, &["--token-file", token], elsewhere.path()))
        .collect();
    // 3 users × 2 loops, one user per agent: each agent reads its own copy of the file, as
    // JMeter's remote engines do, so each sends alice, then bob.
    let out = store.run(&[
        "run",
        &plan,
        &t.port,
        "-Jusers=3",
        "-Jloops=2",
        "--agents",
        "3",
        "--controller",
        &url,
        "--token-file",
        token,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    for a in agents {
        let out = a.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut seen = Vec::new();
    t.server.count_at_least(&mut seen, "/ok?u=bob", 3);
    assert_eq!(t.server.count(&mut seen, "/ok?u=alice"), 3, "{seen:?}");
    assert_eq!(t.server.count(&mut seen, "/ok?u=bob"), 3, "{seen:?}");
    // The client without the token is refused too.
    let out = store.run(&["run", &plan, &t.port, "--agents", "1", "--controller", &url]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.to_lowercase().contains("token"), "{err}");
}
