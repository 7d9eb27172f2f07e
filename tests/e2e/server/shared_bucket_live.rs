//! A sample stream through one `loadlake serve` on a bucket, watched through another server on
//! the same bucket: RUNNING there while the stream is open, its report exactly the samples
//! acknowledged so far (each acknowledgement follows the PUT of its part and of the draft
//! that lists it), and the committed run once the stream finishes.

use loadlake_server::pb;
use loadlake_server::pb::ingest_service_client::IngestServiceClient;
use loadlake_server::pb::run_service_client::RunServiceClient;

use super::shared_bucket::report_of;
use super::streams::{finish, ipc, ipc_samples, open, start_stream};
use super::{Served, channel, runtime};
use crate::common::*;

/// `requests` of the report of `run` through `served`.
async fn requests_of(served: &Served, run: &str) -> Option<u64> {
    report_of(served, run).await["outline"]["requests"].as_u64()
}

#[test]
fn a_stream_through_one_server_is_running_and_reported_on_the_other() {
    let Some(store) = TestStore::s3("stream-two-servers") else {
        return;
    };
    let a = Served::start(&store, &[]);
    let b = Served::start(&store, &[]);
    runtime().block_on(async {
        let mut ingest = IngestServiceClient::new(channel(&a).await);
        let (tx, mut acks) = start_stream(&mut ingest, open("", "shared", "agent-a")).await;
        tx.send(ipc(ipc_samples("GET /a", 0, 40))).await.unwrap();
        let ack = acks.message().await.unwrap().expect("ack");
        assert_eq!(ack.samples, 40);
        let run_id = ack.run_id.clone();

        let mut runs_b = RunServiceClient::new(channel(&b).await);
        let status = runs_b
            .get_run_status(pb::GetRunRequest {
                run_id: run_id.clone(),
            })
            .await
            .expect("GetRunStatus through the other server")
            .into_inner();
        assert_eq!(
            status.state,
            pb::run_status::State::Running as i32,
            "{status:?}"
        );
        // Acknowledged means readable by the other server: 40, then 40 + 25.
        assert_eq!(requests_of(&b, &run_id).await, Some(40));
        tx.send(ipc(ipc_samples("GET /a", 40, 25))).await.unwrap();
        assert_eq!(acks.message().await.unwrap().expect("ack").samples, 65);
        assert_eq!(requests_of(&b, &run_id).await, Some(65));
        // SQL through the CLI reads the same parts from the bucket.
        let live = store.sql(&format!(
            "select count(*) as n from live_samples where run_id = '{run_id}'"
        ));
        assert_eq!(live[0]["n"].as_u64(), Some(65));

        // The stream finishes: the run is committed before the last acknowledgement.
        tx.send(finish()).await.unwrap();
        let last = acks.message().await.unwrap().expect("last ack");
        assert_eq!(last.run_status, "complete");
        let committed = store.sql(&format!(
            "select samples, status from runs where run_id = '{run_id}'"
        ));
        assert_eq!(committed[0]["samples"].as_u64(), Some(65), "{committed:?}");
        assert_eq!(committed[0]["status"], "complete");
        let status = runs_b
            .get_run_status(pb::GetRunRequest {
                run_id: run_id.clone(),
            })
            .await
            .expect("GetRunStatus after the commit")
            .into_inner();
        assert_ne!(
            status.state,
            pb::run_status::State::Running as i32,
            "{status:?}"
        );
        let gone = store.sql(&format!(
            "select count(*) as n from live_samples where run_id = '{run_id}'"
        ));
        assert_eq!(gone[0]["n"].as_u64(), Some(0));
    });
}
