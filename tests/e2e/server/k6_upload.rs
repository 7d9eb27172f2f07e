//! gRPC `ImportFile` takes k6 results and Gatling logs as `loadlake import` does: sniffed, or
//! forced with the format names `k6-json` / `k6-csv` / `gatling`; an unknown format name is
//! refused naming the valid ones.

use loadlake_server::pb;
use loadlake_server::pb::ingest_service_client::IngestServiceClient;
use tonic::Code;

use super::{Served, channel, runtime};
use crate::common::*;

/// An upload of `data` named `name` with `format`.
fn chunks(name: &str, format: &str, data: &[u8]) -> Vec<pb::ImportFileChunk> {
    let mut chunks = vec![pb::ImportFileChunk {
        options: Some(pb::ImportOptions {
            file_name: name.into(),
            format: format.into(),
            force: true,
            ..Default::default()
        }),
        data: Vec::new(),
    }];
    chunks.extend(data.chunks(4096).map(|c| pb::ImportFileChunk {
        options: None,
        data: c.to_vec(),
    }));
    chunks
}

#[test]
fn k6_uploads_import_like_the_cli() {
    let Some(dir) = peer_fixtures("k6") else {
        return;
    };
    let json = std::fs::read(dir.join("elmars369_sample_k6_test_result_2020-02.json")).unwrap();
    let csv = std::fs::read(dir.join("taurus_k6_kpi_2021-01.csv")).unwrap();
    let store = TestStore::new();
    let served = Served::start(&store, &[]);
    runtime().block_on(async {
        let mut ingest = IngestServiceClient::new(channel(&served).await);
        // 99 requests and 148 groups (SOURCES.md, k6_stats.py); 4 requests, 2 failed.
        for (name, format, data, samples, errors) in [
            ("k6.json", "", &json, 247, 0),
            ("k6.json", "k6-json", &json, 247, 0),
            ("k6.csv", "k6-csv", &csv, 4, 2),
        ] {
            let r = ingest
                .import_file(futures::stream::iter(chunks(name, format, data)))
                .await
                .unwrap_or_else(|e| panic!("{format}: {e}"))
                .into_inner();
            assert_eq!(
                (r.samples, r.errors, r.rejected),
                (samples, errors, 0),
                "{format}"
            );
            let formats = store.sql(&format!(
                "select source_formats[1] as f from runs where run_id = '{}'",
                r.run_id
            ));
            let want = if name.ends_with("json") {
                "k6-json"
            } else {
                "k6-csv"
            };
            assert_eq!(formats[0]["f"], want);
        }
        let e = ingest
            .import_file(futures::stream::iter(chunks("k6.json", "locust", &json)))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert!(e.message().contains("k6-json"), "{}", e.message());
        assert!(e.message().contains("gatling"), "{}", e.message());
        // A Gatling binary log (39 requests, SOURCES.md), sniffed and forced.
        let Some(gatling) = peer_fixtures("gatling") else {
            return;
        };
        let log =
            std::fs::read(gatling.join("taurus_gatling-3.14.3_binary.simulation.log")).unwrap();
        for format in ["", "gatling"] {
            let r = ingest
                .import_file(futures::stream::iter(chunks(
                    "simulation.log",
                    format,
                    &log,
                )))
                .await
                .unwrap_or_else(|e| panic!("gatling {format}: {e}"))
                .into_inner();
            assert_eq!((r.samples, r.errors, r.rejected), (39, 0, 0), "{format}");
            let f = store.sql(&format!(
                "select source_formats[1] as f, tool_version from runs where run_id = '{}'",
                r.run_id
            ));
            assert_eq!(f[0]["f"], "gatling");
            assert_eq!(f[0]["tool_version"], "3.14.3");
        }
    });
}
