//! Two `loadlake serve` processes on one store in the test bucket (`$LOADLAKE_TEST_S3`, the
//! moto server scripts/test starts): a run uploaded through one is listed and reported by the
//! other at once, with the same numbers; a run deleted through one is gone from the other at
//! once.

use loadlake_server::pb;
use loadlake_server::pb::ingest_service_client::IngestServiceClient;
use loadlake_server::pb::report_service_client::ReportServiceClient;
use loadlake_server::pb::run_service_client::RunServiceClient;
use tonic::Code;

use super::{Served, channel, runtime, upload_chunks};
use crate::common::*;

/// GetReport of `run` through `served`, as JSON.
pub(super) async fn report_of(served: &Served, run: &str) -> serde_json::Value {
    let mut reports = ReportServiceClient::new(channel(served).await);
    let report = reports
        .get_report(pb::GetReportRequest {
            run_id: run.to_string(),
            ..Default::default()
        })
        .await
        .expect("GetReport")
        .into_inner();
    serde_json::to_value(report).expect("a report as JSON")
}

#[test]
fn two_servers_on_one_bucket_serve_each_others_runs() {
    let Some(store) = TestStore::s3("two-servers") else {
        return;
    };
    let a = Served::start(&store, &[]);
    let b = Served::start(&store, &[]);
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let data = std::fs::read(&jtl).expect("the fixture");
    // Counted by hand: checkout.jtl has 720 samples under its header line.
    assert_eq!(String::from_utf8_lossy(&data).lines().count() - 1, 720);
    runtime().block_on(async {
        let mut ingest = IngestServiceClient::new(channel(&a).await);
        let uploaded = ingest
            .import_file(futures::stream::iter(upload_chunks(&data)))
            .await
            .expect("ImportFile through the first server")
            .into_inner();
        assert_eq!(uploaded.samples, 720);

        // The second server lists and reports it at once, with the same numbers.
        let mut runs_b = RunServiceClient::new(channel(&b).await);
        let listed = runs_b
            .list_runs(pb::ListRunsRequest::default())
            .await
            .expect("ListRuns through the second server")
            .into_inner();
        let ids: Vec<&str> = listed.runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, [uploaded.run_id.as_str()]);
        assert_eq!(listed.runs[0].samples, 720);
        let (from_a, from_b) = (
            report_of(&a, &uploaded.run_id).await,
            report_of(&b, &uploaded.run_id).await,
        );
        assert_eq!(from_a, from_b);
        // …and what the CLI reads from the bucket itself.
        let cli = store.json(&["report", &uploaded.run_id, "--format", "json"]);
        assert_eq!(
            from_b["outline"]["requests"], cli["outline"]["requests"],
            "{cli}"
        );

        // Deleting through the second server: the first no longer lists or reports it.
        let deleted = runs_b
            .delete_run(pb::DeleteRunRequest {
                run_id: uploaded.run_id.clone(),
            })
            .await
            .expect("DeleteRun through the second server")
            .into_inner();
        assert!(deleted.deleted);
        let mut runs_a = RunServiceClient::new(channel(&a).await);
        let listed = runs_a
            .list_runs(pb::ListRunsRequest::default())
            .await
            .expect("ListRuns through the first server")
            .into_inner();
        assert!(listed.runs.is_empty(), "{:?}", listed.runs);
        let missing = runs_a
            .get_run(pb::GetRunRequest {
                run_id: uploaded.run_id.clone(),
            })
            .await
            .expect_err("GetRun of the deleted run");
        assert_eq!(missing.code(), Code::NotFound, "{missing}");
        let mut reports_a = ReportServiceClient::new(channel(&a).await);
        let unreported = reports_a
            .get_report(pb::GetReportRequest {
                run_id: uploaded.run_id.clone(),
                ..Default::default()
            })
            .await
            .expect_err("GetReport of the deleted run");
        assert_eq!(unreported.code(), Code::NotFound, "{unreported}");
        // Deleting it again (through either server): there is no such run.
        let again = runs_a
            .delete_run(pb::DeleteRunRequest {
                run_id: uploaded.run_id.clone(),
            })
            .await
            .expect_err("DeleteRun of a deleted run");
        assert_eq!(again.code(), Code::NotFound, "{again}");
        // …and the CLI reading the bucket itself lists no run and reports none.
        let runs = store.json(&["runs", "--format", "json"]);
        assert_eq!(runs.as_array().map(Vec::len), Some(0), "{runs}");
        let report = store.run(&["report", &uploaded.run_id]);
        assert!(!report.status.success());
        assert!(
            String::from_utf8_lossy(&report.stderr).contains("no run"),
            "{}",
            String::from_utf8_lossy(&report.stderr)
        );
    });
}
