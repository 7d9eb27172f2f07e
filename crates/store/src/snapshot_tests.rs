//! Pinned formats of the store: the run manifest (`runs/<id>.json`) and the live status file
//! (`live/<id>.json`), as insta snapshots (`snapshots/` beside this file).
//!
//! Other programs read these files — the gRPC server of another version, `jq` in a CI job,
//! scripts of our users — so their shape must not change by accident. A snapshot fails on any
//! renamed, added, removed or retyped field; a deliberate change updates the snapshot in the
//! same commit (`INSTA_UPDATE=always` or `cargo insta review`, docs/schema.md "Pinned formats"),
//! and bumps `MANIFEST_FORMAT_VERSION` when old readers would misread the new manifest.
//!
//! Input is fixed; what differs from run to run (ids, clocks, the process id, the version) is
//! redacted, after checking that it has the expected form. The numbers are tested against
//! independent truth elsewhere (tests.rs, the e2e tests): here only the shape matters.

use std::collections::BTreeMap;
use std::time::Duration;

use arrow::array::RecordBatch;
use insta::internals::{Content, ContentPath};
use loadlake_schema::{RunStatus, SampleBatchBuilder, SampleRecord, SourceFile};

use super::*;
use crate::snapshot_redactions::*;

/// The JSON file at `path`.
fn read_json(path: &std::path::Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("a JSON file")
}

/// Three samples (one failed), at fixed epoch-ms times.
fn three_samples() -> RecordBatch {
    let mut b = SampleBatchBuilder::new(0);
    for (ts, elapsed, label, ok) in [
        (1_795_320_736_882_i64, 116_i64, "Home", true),
        (1_795_320_736_884, 120, "Login", true),
        (1_795_320_737_031, 3, "Search", false),
    ] {
        b.push(&SampleRecord {
            ts_ms: Some(ts),
            elapsed_ms: Some(elapsed),
            label,
            success: ok,
            response_code: Some(if ok { "200" } else { "500" }),
            ..Default::default()
        })
        .unwrap();
    }
    b.finish().unwrap()
}

fn draft(status: RunStatus) -> RunDraft {
    RunDraft {
        name: "shop".into(),
        tags: BTreeMap::from([
            ("branch".to_string(), "main".to_string()),
            ("env".to_string(), "ci".to_string()),
        ]),
        status,
        sources: vec![SourceFile {
            path: "results/shop.csv".into(),
            size_bytes: 4_096,
            content_hash: "xxh3-128:00112233445566778899aabbccddeeff".into(),
            format: "csv".into(),
            columns: vec!["timeStamp".into(), "elapsed".into(), "label".into()],
            has_header: Some(true),
            delimiter: Some(",".into()),
            samples: 3,
            rejected: 1,
            warnings: vec!["the last line has no newline".into()],
            tool: None,
            tool_version: None,
        }],
        plan: None,
    }
}

#[test]
fn snapshot_run_manifest_of_a_committed_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut w = store.begin_run(WriterOptions::default()).unwrap();
    let id = w.run_id().clone();
    w.write(three_samples()).unwrap();
    let rejects = [serde_json::json!({
        "file": "results/shop.csv",
        "line": 5,
        "field": "elapsed",
        "reason": "not an integer",
        "raw": "1795320737100,abc,Home"
    })];
    w.commit(draft(RunStatus::Complete), &rejects).unwrap();
    let manifest = read_json(&store.layout().manifest_path(&id));
    settings().bind(|| {
        insta::assert_json_snapshot!("run_manifest_committed", manifest, {
            ".run_id" => run_id_redaction(),
            ".imported_at" => rfc3339_redaction(),
            ".created_by" => created_by_redaction(),
            ".files[].path" => part_path_redaction(),
            ".files[].size_bytes" => byte_size_redaction(),
        });
    });
}

#[test]
fn snapshot_run_manifest_of_a_recovered_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut w = store.begin_run(WriterOptions::default()).unwrap();
    let id = w.run_id().clone();
    w.record_draft(&draft(RunStatus::Complete)).unwrap();
    w.write(three_samples()).unwrap();
    w.flush().unwrap();
    // Dropped without a commit after acknowledging its samples: committed as `incomplete`.
    drop(w);
    let manifest = read_json(&store.layout().manifest_path(&id));
    settings().bind(|| {
        insta::assert_json_snapshot!("run_manifest_recovered", manifest, {
            ".run_id" => run_id_redaction(),
            ".imported_at" => rfc3339_redaction(),
            ".created_by" => created_by_redaction(),
            ".files[].path" => part_path_redaction(),
            ".files[].size_bytes" => byte_size_redaction(),
        });
    });
}

#[test]
fn snapshot_live_status_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = "20261201-101010-abcd";
    let mut live = LivePublisher::created(&store, id, "shop");
    live.set_agents(vec!["local".into(), "agent-2".into()]);
    live.enter(LiveState::Preparing, "");
    live.enter(LiveState::Ready, "");
    live.enter(LiveState::Running, "");
    live.follow_stages(
        now_ms(),
        Box::new(|_since: Duration| Some("ramp".to_string())),
    );
    live.refresh(|status, _seconds| {
        status.concurrency = 4;
        status.vum = 1.5;
        status.all = LiveStat {
            name: "all".into(),
            count: 30,
            success_count: 27,
            fail_count: 3,
            tps: 12.5,
            rt_avg: 42.25,
            rt_min: 3,
            rt_max: 120,
        };
        status.samplers = vec![
            LiveStat {
                name: "Home".into(),
                count: 20,
                success_count: 20,
                fail_count: 0,
                tps: 8.0,
                rt_avg: 50.5,
                rt_min: 10,
                rt_max: 120,
            },
            LiveStat {
                name: "Search".into(),
                count: 10,
                success_count: 7,
                fail_count: 3,
                tps: 4.5,
                rt_avg: 25.75,
                rt_min: 3,
                rt_max: 90,
            },
        ];
    });
    let file = store
        .layout()
        .root()
        .join("live")
        .join(format!("{id}.json"));
    let running = read_json(&file);
    live.enter(LiveState::Stopping, STOPPED_BY_REQUEST);
    live.enter(LiveState::Stopped, "");
    let stopped = read_json(&file);
    let pid = |value: Content, path: ContentPath<'_>| {
        assert_eq!(
            value.as_u64(),
            Some(u64::from(std::process::id())),
            "{path}"
        );
        "[pid]"
    };
    settings().bind(|| {
        insta::assert_json_snapshot!("live_status_running", running, {
            ".run_id" => run_id_redaction(),
            ".updated_ms" => epoch_ms_redaction(),
            ".history[].at_ms" => epoch_ms_redaction(),
            ".pid" => insta::dynamic_redaction(pid),
        });
        insta::assert_json_snapshot!("live_status_stopped", stopped, {
            ".run_id" => run_id_redaction(),
            ".updated_ms" => epoch_ms_redaction(),
            ".history[].at_ms" => epoch_ms_redaction(),
            ".pid" => insta::dynamic_redaction(pid),
        });
    });
}
