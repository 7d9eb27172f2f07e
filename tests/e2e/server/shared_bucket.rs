//! Two `loadlake serve` processes on one store in the test bucket (`$LOADLAKE_TEST_S3`, the
//! moto server scripts/test starts): a run uploaded through one is listed and reported by the
//! other at once, with the same numbers; what needs local files (deleting a run) is refused
//! with a clear status instead of half done.

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

        // Deleting needs the local store's tombstones: refused, nothing removed.
        let refused = runs_b
            .delete_run(pb::DeleteRunRequest {
                run_id: uploaded.run_id.clone(),
            })
            .await
            .expect_err("DeleteRun on object storage");
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused}");
        assert!(
            refused.message().contains("object storage"),
            "{}",
            refused.message()
        );
        let still = runs_b
            .get_run(pb::GetRunRequest {
                run_id: uploaded.run_id.clone(),
            })
            .await
            .expect("the run is still there")
            .into_inner();
        assert_eq!(still.samples, 720);
    });
}
