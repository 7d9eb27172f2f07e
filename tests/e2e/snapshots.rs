//! Pinned formats of the CLI: `loadlake runs --format json`, `loadlake report RUN --format json`
//! (the CodeArts ReportInfo shape), `loadlake report RUN --stats jmeter --format json` (JMeter's
//! `statistics.json`) and the manifest an import writes (`runs/<id>.json`, with a plan), as insta
//! snapshots (`snapshots/` beside this file).
//!
//! Other tools read these formats — CI jobs with `jq`, dashboards, JMeter-report tooling, other
//! versions of loadlake — so they must not change by accident. A snapshot fails on any renamed,
//! added, removed or retyped field; a deliberate change updates the snapshot in the same commit
//! (`INSTA_UPDATE=always` or `cargo insta review`, docs/schema.md "Pinned formats").
//!
//! The input is fixed (tests/data/jmeter213/header.csv and its plan shop.jmx, written by a real
//! JMeter 2.13); what differs between runs (run ids, import time, paths, version) is redacted
//! after checking its form. The numbers are checked against independent truth elsewhere
//! (jmeter213.rs, report.rs, fidelity.rs): here only the shape matters.

use insta::internals::{Content, ContentPath, Redaction};
use serde_json::Value;

use crate::common::*;

// The store's redactions (run ids, times, version); the live-status one is used there only.
#[allow(dead_code)]
#[path = "../../crates/store/src/snapshot_redactions.rs"]
mod snapshot_redactions;
use snapshot_redactions::{
    byte_size_redaction, created_by_redaction, part_path_redaction, rfc3339_redaction,
    run_id_redaction, settings,
};

/// A redaction that checks the value is a path ending in `/<file>` first.
fn path_to(file: &'static str) -> Redaction {
    insta::dynamic_redaction(move |value: Content, path: ContentPath<'_>| {
        let text = value.as_str().unwrap_or_default();
        assert!(
            text.ends_with(&format!("/{file}")),
            "{path}: {value:?} is not a path to {file}"
        );
        format!("[dir]/{file}")
    })
}

/// The fixed input imported into a fresh store; its run id.
fn import_header_csv(store: &TestStore) -> String {
    store.import(&[
        jmeter213("header.csv").to_str().unwrap(),
        "--plan",
        jmeter213("plans/shop.jmx").to_str().unwrap(),
        "--name",
        "shop",
        "--tag",
        "env=ci",
    ])
}

#[test]
fn snapshot_runs_json() {
    let store = TestStore::new();
    import_header_csv(&store);
    let runs = store.json(&["runs", "--format", "json"]);
    settings().bind(|| {
        insta::assert_json_snapshot!("runs_json", runs, {
            "[].run_id" => run_id_redaction(),
        });
    });
}

#[test]
fn snapshot_report_json() {
    let store = TestStore::new();
    let run = import_header_csv(&store);
    let report = store.json(&["report", &run, "--format", "json"]);
    assert_eq!(report["runId"], run.as_str());
    settings().bind(|| {
        insta::assert_json_snapshot!("report_json", report, {
            ".runId" => run_id_redaction(),
        });
    });
}

#[test]
fn snapshot_statistics_json() {
    let store = TestStore::new();
    let run = import_header_csv(&store);
    // statistics.json has no id, time or path: nothing to redact.
    let statistics = store.json(&["report", &run, "--stats", "jmeter", "--format", "json"]);
    settings().bind(|| {
        insta::assert_json_snapshot!("statistics_json", statistics);
    });
}

#[test]
fn snapshot_imported_run_manifest() {
    let store = TestStore::new();
    let run = import_header_csv(&store);
    let file = store.path().join("runs").join(format!("{run}.json"));
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(&file).expect("the run manifest")).expect("JSON");
    settings().bind(|| {
        insta::assert_json_snapshot!("imported_run_manifest", manifest, {
            ".run_id" => run_id_redaction(),
            ".imported_at" => rfc3339_redaction(),
            ".created_by" => created_by_redaction(),
            ".files[].path" => part_path_redaction(),
            ".files[].size_bytes" => byte_size_redaction(),
            ".sources[].path" => path_to("header.csv"),
            ".plan.path" => path_to("shop.jmx"),
        });
    });
}
