//! Every RPC of ReportService, RunService and ImportFile with tonic clients, Flight SQL, auth,
//! TLS, limits, and Python's grpcio / ADBC clients.

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int64Type;
use futures::TryStreamExt;
use loadlake_server::pb;
use loadlake_server::pb::ingest_service_client::IngestServiceClient;
use loadlake_server::pb::report_service_client::ReportServiceClient;
use loadlake_server::pb::run_service_client::RunServiceClient;
use serde_json::Value;
use tonic::Code;
use tonic::transport::Channel;

use super::{Served, channel, checkout_run, f, flight_batches, runtime};
use crate::common::*;

#[test]
fn report_rpcs_answer_what_the_cli_prints() {
    let store = TestStore::new();
    let run = checkout_run(&store);
    let cli_report = store.json(&["report", &run, "--format", "json"]);
    let cli_cases = store.json(&["cases", &run, "--format", "json"]);
    let cli_pts = store.json(&["report", &run, "--stats", "pts", "--format", "json"]);
    let served = Served::start(&store, &[]);
    runtime().block_on(async {
        let mut reports = ReportServiceClient::new(channel(&served).await);
        let r = reports
            .get_report(pb::GetReportRequest {
                run_id: run.clone(),
                brokens_limit_count: 10,
                page_size: 3,
                page_index: 2,
                ..Default::default()
            })
            .await
            .expect("GetReport")
            .into_inner();
        let o = r.outline.expect("outline");
        let co = &cli_report["outline"];
        assert_eq!(o.requests, co["requests"].as_u64().unwrap());
        assert_eq!(o.tps, f(&co["tps"]));
        assert!(close(
            o.average_resp_time.unwrap(),
            f(&co["averageRespTime"]).unwrap(),
            1e-12
        ));
        assert_eq!(o.vum, f(&co["vum"]));
        let cli_details = cli_report["details"].as_array().unwrap();
        assert_eq!(r.details_total as usize, cli_details.len());
        assert_eq!(r.details.len(), 3, "page 2 of 3 rows");
        for (d, want) in r.details.iter().zip(&cli_details[3..6]) {
            assert_eq!(d.name, want["name"].as_str().unwrap());
            assert_eq!(d.requests, want["requests"].as_u64().unwrap());
            assert_eq!(d.error_count, want["errorCount"].as_u64().unwrap());
            for (got, field) in [
                (d.average_resp_time, "averageRespTime"),
                (d.tp50, "tp50"),
                (d.tp90, "tp90"),
                (d.tp99, "tp99"),
                (d.tp9999, "tp9999"),
                (d.tps, "tps"),
                (d.max_network_traffic, "maxNetworkTraffic"),
            ] {
                // Sums of floats may add in another order in another process: 1e-12 apart.
                match (got, f(&want[field])) {
                    (Some(g), Some(w)) => {
                        assert!(close(g, w, 1e-12), "{} {field}: {g} vs {w}", d.name)
                    }
                    (g, w) => assert_eq!(g, w, "{} {field}", d.name),
                }
            }
        }
        assert!(r.brokens.expect("brokens").points.len() <= 10);
        assert_eq!(
            r.resp_time_range.len(),
            cli_report["respTimeRange"].as_array().unwrap().len()
        );
        assert_eq!(r.task_info.expect("taskInfo").vum, f(&co["vum"]));

        let cases = reports
            .list_cases(pb::ListCasesRequest {
                run_id: run.clone(),
            })
            .await
            .expect("ListCases")
            .into_inner()
            .case_aw_info_list;
        let cli_cases = cli_cases.as_array().unwrap();
        assert_eq!(cases.len(), cli_cases.len());
        for (c, want) in cases.iter().zip(cli_cases) {
            assert_eq!(c.case_name, want["caseName"].as_str().unwrap());
            assert_eq!(c.requests.len(), want["requests"].as_array().unwrap().len());
        }

        let case = &cases[0];
        let cli_detail = store.json(&[
            "detail",
            &run,
            "--case",
            &case.case_name,
            "--format",
            "json",
        ]);
        let detail = reports
            .get_case_detail(pb::GetCaseDetailRequest {
                run_id: run.clone(),
                case_id: case.case_id.to_string(),
                ..Default::default()
            })
            .await
            .expect("GetCaseDetail")
            .into_inner();
        let perf = detail.performance.expect("performance");
        assert_eq!(perf.tp95, f(&cli_detail["performance"]["tp95"]));
        assert_eq!(
            detail.detail_datas.len(),
            cli_detail["detailDatas"].as_array().unwrap().len()
        );

        let item = &case.requests[0];
        let chart = reports
            .get_aw_chart(pb::GetAwChartRequest {
                run_id: run.clone(),
                case_id: case.case_id.to_string(),
                detail_id: item.detail_id.clone(),
                ..Default::default()
            })
            .await
            .expect("GetAwChart")
            .into_inner();
        let cli_curve = store.json(&[
            "curve",
            &run,
            "--case",
            &case.case_name,
            "--request",
            &item.name,
            "--format",
            "json",
        ]);
        let points = chart.broken_list.expect("broken_list").points;
        let cli_tps = cli_curve["brokens"]["tps_brokens"]["tps"]
            .as_array()
            .unwrap();
        assert_eq!(points.len(), cli_tps.len());
        for (p, t) in points.iter().zip(cli_tps) {
            assert_eq!(Some(p.tps), t.as_f64());
        }
        let in_ranges: u64 = chart.resp_time_range.iter().map(|r| r.count).sum();
        assert_eq!(
            in_ranges, item.samples,
            "ranges of the request cover its samples"
        );

        let pts = reports
            .get_scene_stats(pb::GetSceneStatsRequest {
                run_id: run.clone(),
                ..Default::default()
            })
            .await
            .expect("GetSceneStats")
            .into_inner();
        let all = pts.all_sample_stat.expect("AllSampleStat");
        assert_eq!(
            all.count,
            cli_pts["AllSampleStat"]["count"].as_u64().unwrap()
        );
        assert_eq!(all.rt_seg99, f(&cli_pts["AllSampleStat"]["rtSeg99"]));

        // Bad input is INVALID_ARGUMENT / NOT_FOUND, never a crash.
        let e = reports
            .get_report(pb::GetReportRequest {
                run_id: "../../etc/passwd".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::NotFound, "{e}");
        let e = reports
            .get_report(pb::GetReportRequest {
                run_id: run.clone(),
                percentile_method: "guess".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
    });
}

#[test]
fn runs_page_stably_and_uploads_become_runs() {
    let store = TestStore::new();
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let mut ids: Vec<String> = (0..3)
        .map(|i| {
            store.import(&[
                jtl.to_str().unwrap(),
                "--force",
                "--name",
                &format!("r{i}"),
                "--tag",
                "env=ci",
            ])
        })
        .collect();
    let served = Served::start(&store, &[]);
    runtime().block_on(async {
        let mut runs = RunServiceClient::new(channel(&served).await);
        let first = runs
            .list_runs(pb::ListRunsRequest {
                max_results: 2,
                tags: vec!["env=ci".into()],
                ..Default::default()
            })
            .await
            .expect("ListRuns")
            .into_inner();
        ids.sort();
        ids.reverse(); // newest first
        assert_eq!(first.total, 3);
        let got: Vec<&str> = first.runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(got, [ids[0].as_str(), ids[1].as_str()]);
        assert!(!first.next_token.is_empty());

        // An upload between the pages: it is newer, so the next page is unchanged.
        let data = std::fs::read(&jtl).unwrap();
        let chunks = super::upload_chunks(&data);
        let mut ingest = IngestServiceClient::new(channel(&served).await);
        let uploaded = ingest
            .import_file(futures::stream::iter(chunks))
            .await
            .expect("ImportFile")
            .into_inner();
        assert_eq!(uploaded.samples, 720, "every row of checkout.jtl");
        let second = runs
            .list_runs(pb::ListRunsRequest {
                max_results: 2,
                tags: vec!["env=ci".into()],
                next_token: first.next_token.clone(),
                ..Default::default()
            })
            .await
            .expect("ListRuns page 2")
            .into_inner();
        assert_eq!(second.runs.len(), 1);
        assert_eq!(second.runs[0].run_id, ids[2]);
        assert!(second.next_token.is_empty());

        // Filters: name (substring), status, time range of the first sample.
        let list = |r: pb::ListRunsRequest| {
            let mut runs = runs.clone();
            async move { runs.list_runs(r).await.expect("ListRuns").into_inner() }
        };
        let by_name = list(pb::ListRunsRequest {
            name: "r1".into(),
            ..Default::default()
        })
        .await;
        assert_eq!(by_name.total, 1);
        assert_eq!(by_name.runs[0].name, "r1");
        let complete = list(pb::ListRunsRequest {
            status: "complete".into(),
            ..Default::default()
        })
        .await;
        assert_eq!(complete.total, 4, "three imports and the upload");
        let first_ts = by_name.runs[0].first_ts_ms.expect("first sample");
        let before = list(pb::ListRunsRequest {
            start_before_ms: first_ts,
            ..Default::default()
        })
        .await;
        assert_eq!(
            before.total, 0,
            "every run starts at checkout.jtl's first sample"
        );
        let from = list(pb::ListRunsRequest {
            start_after_ms: first_ts,
            ..Default::default()
        })
        .await;
        assert_eq!(from.total, 4);

        // The uploaded run reports like the imported one.
        let a = store.json(&["report", &ids[0], "--format", "json"]);
        let b = store.json(&["report", &uploaded.run_id, "--format", "json"]);
        assert_eq!(a["details"], b["details"]);
        let run = runs
            .get_run(pb::GetRunRequest {
                run_id: uploaded.run_id.clone(),
            })
            .await
            .expect("GetRun")
            .into_inner();
        assert_eq!(run.name, "uploaded");
        assert_eq!(run.sources, ["checkout.jtl"]);
        let status = runs
            .get_run_status(pb::GetRunRequest {
                run_id: uploaded.run_id.clone(),
            })
            .await
            .expect("GetRunStatus")
            .into_inner();
        assert_eq!(status.state, pb::run_status::State::Stopped as i32);
        runs.delete_run(pb::DeleteRunRequest {
            run_id: uploaded.run_id.clone(),
        })
        .await
        .expect("DeleteRun");
        let gone = runs
            .get_run(pb::GetRunRequest {
                run_id: uploaded.run_id.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(gone.code(), Code::NotFound);

        // A bad upload is refused cleanly, and the server keeps serving.
        let bad = ingest
            .import_file(futures::stream::iter(vec![pb::ImportFileChunk {
                options: Some(pb::ImportOptions::default()),
                data: b"\x00\x01\x02 not a jtl".to_vec(),
            }]))
            .await
            .unwrap_err();
        assert_eq!(bad.code(), Code::InvalidArgument, "{bad}");
        let e = runs
            .list_runs(pb::ListRunsRequest {
                next_token: "not-a-token".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
    });
}

#[test]
fn flight_sql_streams_read_only_queries() {
    let store = TestStore::new();
    let run = checkout_run(&store);
    let sql = format!(
        "select label, count(*) as n from samples where run_id = '{run}' group by label order by label"
    );
    let want = store.sql(&sql);
    let served = Served::start(&store, &[]);
    runtime().block_on(async {
        let mut client =
            arrow_flight::sql::client::FlightSqlServiceClient::new(channel(&served).await);
        let info = client.execute(sql.clone(), None).await.expect("execute");
        let mut got = Vec::new();
        for endpoint in info.endpoint {
            let ticket = endpoint.ticket.expect("ticket");
            let batches: Vec<_> = client
                .do_get(ticket)
                .await
                .expect("do_get")
                .try_collect()
                .await
                .expect("batches");
            for b in batches {
                let labels = b.column(0).as_string_view_opt().map(|a| {
                    (0..a.len())
                        .map(|i| a.value(i).to_string())
                        .collect::<Vec<_>>()
                });
                let labels = labels.unwrap_or_else(|| {
                    let a = b.column(0).as_string::<i32>();
                    (0..a.len()).map(|i| a.value(i).to_string()).collect()
                });
                let n = b.column(1).as_primitive::<Int64Type>();
                for (i, l) in labels.into_iter().enumerate() {
                    got.push((l, n.value(i)));
                }
            }
        }
        let want: Vec<(String, i64)> = want
            .iter()
            .map(|r| {
                (
                    r["label"].as_str().unwrap().to_string(),
                    r["n"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, want);
        for write in [
            "create table t as select 1",
            "insert into runs select * from runs",
            "copy (select 1) to '/tmp/loadlake-flight.csv'",
            "create external table e stored as csv location '/etc/passwd'",
        ] {
            let e = client.execute(write.to_string(), None).await.unwrap_err();
            assert!(
                e.to_string().contains("read-only") || e.to_string().contains("InvalidArgument"),
                "{write}: {e}"
            );
        }
        assert!(!std::path::Path::new("/tmp/loadlake-flight.csv").exists());

        // Prepared statements (the path JDBC / ODBC drivers take) give the same rows.
        let mut prepared = client.prepare(sql.clone(), None).await.expect("prepare");
        let schema = prepared.dataset_schema().expect("dataset schema");
        assert_eq!(schema.field(0).name(), "label");
        let info = prepared
            .execute()
            .await
            .expect("execute the prepared statement");
        let mut rows = 0;
        for endpoint in info.endpoint {
            let batches: Vec<_> = client
                .do_get(endpoint.ticket.expect("ticket"))
                .await
                .expect("do_get")
                .try_collect()
                .await
                .expect("batches");
            rows += batches.iter().map(|b| b.num_rows()).sum::<usize>();
        }
        assert_eq!(rows, want.len());
        prepared.close().await.expect("close");
        let refused = client.prepare("drop table samples".to_string(), None).await;
        assert!(refused.is_err_and(|e| e.to_string().contains("read-only")));

        let tables = client
            .get_tables(arrow_flight::sql::CommandGetTables {
                include_schema: false,
                ..Default::default()
            })
            .await
            .expect("GetTables");
        assert!(!tables.endpoint.is_empty());
    });
}

#[test]
fn tokens_guard_every_call_and_open_addresses_need_one() {
    let store = TestStore::new();
    let run = checkout_run(&store);
    let out = store.run(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("without a token"));

    let token_file = store.path().join("token");
    std::fs::write(&token_file, "s3cret\n").unwrap();
    let served = Served::start(&store, &["--token-file", token_file.to_str().unwrap()]);
    runtime().block_on(async {
        let mut reports = ReportServiceClient::new(channel(&served).await);
        let request = || pb::ListCasesRequest {
            run_id: run.clone(),
        };
        let e = reports.list_cases(request()).await.unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated);
        let mut wrong = tonic::Request::new(request());
        wrong
            .metadata_mut()
            .insert("authorization", "Bearer nope".parse().unwrap());
        assert_eq!(
            reports.list_cases(wrong).await.unwrap_err().code(),
            Code::Unauthenticated
        );
        let mut right = tonic::Request::new(request());
        right
            .metadata_mut()
            .insert("authorization", "Bearer s3cret".parse().unwrap());
        assert!(reports.list_cases(right).await.is_ok());
    });
}

#[test]
fn python_grpc_and_adbc_clients_work() {
    if !interop_available() {
        return;
    }
    let ok = std::process::Command::new(python())
        .args([
            "-c",
            "import grpc, grpc_reflection, grpc_health, adbc_driver_flightsql",
        ])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var("LOADLAKE_REQUIRE_INTEROP").as_deref() != Ok("1"),
            "grpcio / adbc-driver-flightsql are required (LOADLAKE_REQUIRE_INTEROP=1)"
        );
        eprintln!("SKIP: grpcio / adbc_driver_flightsql not importable");
        return;
    }
    let store = TestStore::new();
    let run = checkout_run(&store);
    let token_file = store.path().join("token");
    std::fs::write(&token_file, "tok").unwrap();
    let served = Served::start(&store, &["--token-file", token_file.to_str().unwrap()]);
    let sql = format!(
        "select label, count(*) as n, sum(elapsed_ms) as total from samples where run_id = '{run}' group by label order by label"
    );
    let seen = py_json(
        "grpc_clients.py",
        &[&served.addr, &sql, store.path().to_str().unwrap(), "tok"],
    );
    // Calls built from reflection alone answer like the CLI.
    assert_eq!(seen["runs"]["runs"][0]["run_id"], run.as_str());
    let cli = store.json(&["report", &run, "--format", "json"]);
    assert_eq!(
        seen["report"]["outline"]["requests"]
            .as_str()
            .and_then(|n| n.parse::<u64>().ok()),
        cli["outline"]["requests"].as_u64(),
        "uint64 travels as a JSON string in protobuf's JSON mapping"
    );
    assert_eq!(
        seen["report"]["details"].as_array().unwrap().len(),
        cli["details"].as_array().unwrap().len()
    );
    // Flight SQL (ADBC) equals DuckDB reading the same Parquet files.
    assert_eq!(seen["adbc_rows"], seen["duckdb_rows"], "{seen}");
    let services: Vec<&str> = seen["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // Flight SQL clients know their protocol; reflection lists loadlake's own services.
    for s in [
        "loadlake.v1.ReportService",
        "loadlake.v1.RunService",
        "loadlake.v1.IngestService",
        "grpc.health.v1.Health",
    ] {
        assert!(services.contains(&s), "reflection lists {s}: {services:?}");
    }
    assert_eq!(seen["health"], "SERVING");
    let want: Vec<Value> = store
        .sql(&sql)
        .iter()
        .map(|r| serde_json::json!([r["label"], r["n"], r["total"]]))
        .collect();
    assert_eq!(seen["adbc_rows"].as_array().unwrap(), &want);
    assert!(
        seen["adbc_write_error"]
            .as_str()
            .is_some_and(|e| e.contains("read-only")),
        "{seen}"
    );
}

#[test]
fn tls_timeouts_and_oversized_messages_fail_cleanly() {
    let store = TestStore::new();
    let run = checkout_run(&store);
    // A test CA and a server certificate for localhost / 127.0.0.1 signed by it, by openssl.
    let dir = store.path();
    let (ca, cert, key) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    let (ca_key, csr, ext) = (
        dir.join("ca.key"),
        dir.join("server.csr"),
        dir.join("san.ext"),
    );
    std::fs::write(&ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n").unwrap();
    let s = |p: &std::path::PathBuf| p.to_str().unwrap().to_string();
    let steps: [Vec<String>; 3] = [
        [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=test CA",
        ]
        .map(String::from)
        .into_iter()
        .chain(["-keyout".into(), s(&ca_key), "-out".into(), s(&ca)])
        .collect(),
        [
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
        ]
        .map(String::from)
        .into_iter()
        .chain(["-keyout".into(), s(&key), "-out".into(), s(&csr)])
        .collect(),
        ["x509", "-req", "-CAcreateserial", "-days", "1"]
            .map(String::from)
            .into_iter()
            .chain([
                "-in".into(),
                s(&csr),
                "-CA".into(),
                s(&ca),
                "-CAkey".into(),
                s(&ca_key),
            ])
            .chain(["-extfile".into(), s(&ext), "-out".into(), s(&cert)])
            .collect(),
    ];
    for args in steps {
        let made = std::process::Command::new("openssl")
            .args(&args)
            .output()
            .expect("openssl");
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
    }
    let served = Served::start(
        &store,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    runtime().block_on(async {
        let pem = std::fs::read(&ca).unwrap();
        let tls = tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(pem))
            .domain_name("localhost");
        let ch = Channel::from_shared(format!("https://{}", served.addr))
            .unwrap()
            .tls_config(tls)
            .unwrap()
            .connect()
            .await
            .expect("TLS connect");
        let mut reports = ReportServiceClient::new(ch);
        let cases = reports
            .list_cases(pb::ListCasesRequest {
                run_id: run.clone(),
            })
            .await
            .expect("ListCases over TLS");
        assert_eq!(cases.into_inner().case_aw_info_list.len(), 2);
        // Plain text to a TLS port fails; it does not get an answer.
        let plain = Channel::from_shared(served.url()).unwrap().connect().await;
        if let Ok(ch) = plain {
            let e = ReportServiceClient::new(ch)
                .list_cases(pb::ListCasesRequest {
                    run_id: run.clone(),
                })
                .await;
            assert!(e.is_err());
        }
    });
    drop(served);

    let served = Served::start(&store, &["--query-timeout", "1ms"]);
    runtime().block_on(async {
        let mut reports = ReportServiceClient::new(channel(&served).await);
        let e = reports
            .get_report(pb::GetReportRequest {
                run_id: run.clone(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::DeadlineExceeded, "{e}");

        // One message over the 16 MiB limit is refused, and the server goes on serving.
        let mut ingest = IngestServiceClient::new(channel(&served).await);
        let huge = pb::ImportFileChunk {
            options: Some(pb::ImportOptions::default()),
            data: vec![b'x'; 17 << 20],
        };
        let e = ingest
            .import_file(futures::stream::iter(vec![huge]))
            .await
            .unwrap_err();
        assert!(
            matches!(e.code(), Code::OutOfRange | Code::ResourceExhausted),
            "{e}"
        );
        let mut runs = RunServiceClient::new(channel(&served).await);
        assert!(runs.list_runs(pb::ListRunsRequest::default()).await.is_ok());
    });
}

#[test]
fn a_query_over_its_memory_budget_fails_alone() {
    let store = TestStore::new();
    let run = checkout_run(&store);
    let served = Served::start(&store, &["--query-memory-mib", "1"]);
    runtime().block_on(async {
        let mut client =
            arrow_flight::sql::client::FlightSqlServiceClient::new(channel(&served).await);
        // 720 × 720 labels collected into lists: far more than 1 MiB, and array_agg cannot spill.
        let sql = format!(
            "select a.label, array_agg(b.label) as l from samples a, samples b \
             where a.run_id = '{run}' and b.run_id = '{run}' group by a.label"
        );
        let outcome = flight_batches(&mut client, &sql).await;
        let e = outcome.expect_err("1 MiB is not enough for this query");
        assert!(
            e.to_string().to_lowercase().contains("resources exhausted"),
            "{e}"
        );
        // A small query still works.
        let info = client
            .execute("select count(*) from runs".to_string(), None)
            .await
            .expect("the server still answers");
        assert!(!info.endpoint.is_empty());
    });
}
