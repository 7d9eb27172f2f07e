//! The JSON API of `loadlake serve --http` (`/api/v1/…`) with Python's urllib as the client:
//! its answers are the gRPC services' answers to the same request (compared field by field with
//! a tonic client's), its counts are the JTL's rows as Python's csv module counts them, the
//! token guards it as it guards gRPC, and errors carry the HTTP status of their gRPC code.

use loadlake_server::pb;
use loadlake_server::pb::report_service_client::ReportServiceClient;
use loadlake_server::pb::run_service_client::RunServiceClient;
use serde_json::Value;

use super::{Served, channel, checkout_run, runtime};
use crate::common::*;

/// Fetches `paths` (`POST:` / `DELETE:` in front for those) from the served JSON API with `token`.
pub(super) fn fetch(served: &Served, token: Option<&str>, paths: &[String]) -> Vec<Value> {
    let base = served.http.as_deref().expect("started with --http");
    let mut args = vec![base, token.unwrap_or("-")];
    args.extend(paths.iter().map(String::as_str));
    let out = py_json("http_json.py", &args);
    out.as_array().expect("a list of answers").clone()
}

/// `a` and `b` are the same JSON, numbers equal within a relative 1e-12 (float sums may add
/// in another order in another request); `at` names the place for the failure message.
/// Each answer's HTTP status and the `code` of its JSON error body (fetched by [`fetch`]).
fn statuses_and_codes<'a>(answers: impl IntoIterator<Item = &'a Value>) -> Vec<(u64, &'a str)> {
    answers
        .into_iter()
        .map(|a| {
            (
                a["status"].as_u64().unwrap(),
                a["body"]["code"].as_str().unwrap_or("no JSON body"),
            )
        })
        .collect()
}

fn assert_same(a: &Value, b: &Value, at: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(close(x, y, 1e-12), "{at}: {x} vs {y}");
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}: lengths");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                assert_same(x, y, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            let keys = |m: &serde_json::Map<String, Value>| {
                m.keys().cloned().collect::<std::collections::BTreeSet<_>>()
            };
            assert_eq!(keys(x), keys(y), "{at}: fields");
            for (k, v) in x {
                assert_same(v, &y[k], &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

/// `loadlake serve` of `store` with the JSON API on a free port and the token `s3cret`.
pub(super) fn serve_with_token(store: &TestStore) -> Served {
    serve_with_token_and(store, &[])
}

/// [`serve_with_token`] with more arguments for `serve`.
pub(super) fn serve_with_token_and(store: &TestStore, extra: &[&str]) -> Served {
    let token_file = store.path().join("token");
    std::fs::write(&token_file, "s3cret\n").unwrap();
    let mut args = vec!["--http", "127.0.0.1:0", "--token-file"];
    args.push(token_file.to_str().unwrap());
    args.extend_from_slice(extra);
    Served::start(store, &args)
}

/// `message` with the tests' token.
fn authorized<T>(message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut()
        .insert("authorization", "Bearer s3cret".parse().unwrap());
    r
}

#[test]
fn the_json_api_answers_what_grpc_answers_behind_the_token() {
    let store = TestStore::new();
    let run = checkout_run(&store);
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let jtl = jtl.to_str().unwrap();
    let tagged = store.import(&[jtl, "--force", "--name", "tagged", "--tag", "team=shop"]);
    let truth = py_json("jtl_stats.py", &["csv", jtl, ",", "yes"]);
    let rows = truth["total"].as_u64().unwrap();
    // checkout.jmx's one Transaction Controller, "Checkout": its rows are transactions, the
    // others requests.
    let requests = rows - truth["labels"]["Checkout"]["count"].as_u64().unwrap();
    let served = serve_with_token(&store);
    let report_query = "page_size=3&page_index=2&brokens_limit_count=10";
    let paths = [
        format!("/api/v1/runs/{run}/report?{report_query}"),
        format!("/api/v1/runs/{run}"),
        format!("/api/v1/runs/{run}/cases"),
        "/api/v1/runs?tags=team=shop".to_string(),
        "/api/v1/runs?max_results=1".to_string(),
    ];
    let got = fetch(&served, Some("s3cret"), &paths);
    for answer in &got {
        assert_eq!(answer["status"], 200, "{answer}");
        assert_eq!(answer["content_type"], "application/json", "{answer}");
    }
    let (report, one_run, cases) = (&got[0]["body"], &got[1]["body"], &got[2]["body"]);

    // The rows Python's csv module counts, through the report and the run.
    assert_eq!(report["outline"]["requests"].as_u64(), Some(requests));
    assert_eq!(one_run["samples"].as_u64(), Some(rows));
    assert_eq!(one_run["run_id"], run.as_str());
    // The tag filter: only the tagged run; paging: one run and a token for the next.
    let by_tag: Vec<&str> = got[3]["body"]["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(by_tag, [tagged.as_str()]);
    assert_eq!(got[4]["body"]["runs"].as_array().unwrap().len(), 1);
    assert_eq!(got[4]["body"]["total"], 2);
    assert!(!got[4]["body"]["next_token"].as_str().unwrap().is_empty());

    // The same requests through gRPC give the same messages.
    runtime().block_on(async {
        let mut reports = ReportServiceClient::new(channel(&served).await);
        let grpc_report = reports
            .get_report(authorized(pb::GetReportRequest {
                run_id: run.clone(),
                page_size: 3,
                page_index: 2,
                brokens_limit_count: 10,
                ..Default::default()
            }))
            .await
            .expect("GetReport")
            .into_inner();
        assert_same(
            report,
            &serde_json::to_value(grpc_report).unwrap(),
            "report",
        );
        let grpc_cases = reports
            .list_cases(authorized(pb::ListCasesRequest {
                run_id: run.clone(),
            }))
            .await
            .expect("ListCases")
            .into_inner();
        assert_same(cases, &serde_json::to_value(grpc_cases).unwrap(), "cases");
        let mut runs = RunServiceClient::new(channel(&served).await);
        let grpc_run = runs
            .get_run(authorized(pb::GetRunRequest {
                run_id: run.clone(),
            }))
            .await
            .expect("GetRun")
            .into_inner();
        assert_same(one_run, &serde_json::to_value(grpc_run).unwrap(), "run");
    });
}

#[test]
fn the_json_api_refuses_without_the_token_and_maps_errors_to_http() {
    let store = TestStore::new();
    let run = checkout_run(&store);
    let served = serve_with_token(&store);
    let guarded = [
        format!("/api/v1/runs/{run}/report"),
        "/api/v1/runs".to_string(),
        format!("POST:/api/v1/runs/{run}/stop"),
    ];
    for (token, code) in [
        (None, "UNAUTHENTICATED"),
        (Some("wrong"), "UNAUTHENTICATED"),
    ] {
        for answer in fetch(&served, token, &guarded) {
            assert_eq!(answer["status"], 401, "{answer}");
            assert_eq!(answer["www_authenticate"], "Bearer", "{answer}");
            assert_eq!(answer["body"]["code"], code, "{answer}");
        }
    }
    // Health is open, as the gRPC health service is.
    let health = fetch(&served, None, &["/api/v1/health".to_string()]);
    assert_eq!(health[0]["status"], 200);
    assert_eq!(health[0]["body"]["status"], "SERVING");

    let errors = fetch(
        &served,
        Some("s3cret"),
        &[
            "/api/v1/runs/no-such-run/report".to_string(),
            format!("/api/v1/runs/{run}/report?page_size=many"),
            format!("/api/v1/runs/{run}/cases/no-such-case"),
            "/api/v1/no-such-endpoint".to_string(),
        ],
    );
    let got = statuses_and_codes(&errors);
    assert_eq!(
        got,
        [
            (404, "NOT_FOUND"),
            (400, "INVALID_ARGUMENT"),
            (404, "NOT_FOUND"),
            (404, "NOT_FOUND"),
        ],
        "{errors:?}"
    );
    for a in &errors {
        assert!(!a["body"]["message"].as_str().unwrap().is_empty(), "{a}");
    }
}

#[test]
fn an_open_http_address_without_a_token_is_refused() {
    // As for gRPC's --listen: off loopback, a token is required.
    let store = TestStore::new();
    let out = store.run(&["serve", "--listen", "127.0.0.1:0", "--http", "0.0.0.0:0"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("without a token"), "{stderr}");
}

/// The row of `metric` of request `name` in a comparison's JSON.
fn compare_row<'a>(c: &'a Value, name: &str, metric: &str) -> &'a Value {
    c["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["level"] == "request" && r["name"] == name && r["metric"] == metric)
        .unwrap_or_else(|| panic!("no row {name} {metric}: {c}"))
}

#[test]
fn compare_and_trend_answer_what_the_cli_prints_behind_the_token() {
    let store = TestStore::new();
    let runs = super::nightly_runs(&store);
    let (a, b) = (runs[0].0.as_str(), runs[1].0.as_str());
    let served = serve_with_token(&store);
    let cli = [
        store.json(&["compare", a, b, "--format", "json"]),
        store.json(&[
            "compare",
            a,
            b,
            "--format",
            "json",
            "--threshold",
            "5",
            "--rate-threshold",
            "0.5",
            "--min-samples",
            "300",
            "--percentile-method",
            "linear",
        ]),
        // The API's default metric is tp95.
        store.json(&[
            "trend", "--name", "nightly", "--metric", "tp95", "--format", "json",
        ]),
        store.json(&[
            "trend",
            "--name",
            "nightly",
            "--metric",
            "tp99",
            "--request",
            "Home",
            "--last",
            "2",
            "--format",
            "json",
        ]),
    ];
    let answers = fetch(
        &served,
        Some("s3cret"),
        &[
            format!("/api/v1/compare?base={a}&target={b}"),
            format!(
                "/api/v1/compare?base={a}&target={b}&threshold=5&rate_threshold=0.5&min_samples=300&percentile_method=linear"
            ),
            "/api/v1/trend?name=nightly".to_string(),
            "/api/v1/trend?name=nightly&metric=tp99&request=Home&limit=2".to_string(),
        ],
    );
    for (i, (answer, want)) in answers.iter().zip(&cli).enumerate() {
        assert_eq!(answer["status"], 200, "{answer}");
        assert_same(&answer["body"], want, &format!("answer {i}"));
    }
    let [compare, _, trend, home] = &cli;
    assert_eq!(trend["points"].as_array().unwrap().len(), 3, "{trend}");
    assert_eq!(home["points"].as_array().unwrap().len(), 2, "{home}");

    // The numbers themselves, against Python's csv module over the imported CSVs: Home's
    // nearest-rank p95 and mean in each run, the whole run's p95 in the trend.
    let truth: Vec<Value> = runs
        .iter()
        .map(|(_, csv)| {
            py_json(
                "label_percentiles.py",
                &[csv.to_str().unwrap(), "nearest-rank", "95,99"],
            )
        })
        .collect();
    for (metric, field) in [("tp95", "pct1ResTime"), ("averageRespTime", "meanResTime")] {
        let r = compare_row(compare, "Home", metric);
        let (tb, tc) = (
            truth[0]["Home"][field].as_f64().unwrap(),
            truth[1]["Home"][field].as_f64().unwrap(),
        );
        assert!(close(r["baseline"].as_f64().unwrap(), tb, 1e-12), "{r}");
        assert!(close(r["candidate"].as_f64().unwrap(), tc, 1e-12), "{r}");
        assert_eq!(r["verdict"], "regression", "{r}");
        assert_eq!(compare_row(compare, "Search", metric)["verdict"], "same");
    }
    for (p, t) in home["points"].as_array().unwrap().iter().zip(&truth[1..]) {
        assert_eq!(
            p["value"].as_f64(),
            t["Home"]["pct2ResTime"].as_f64(),
            "{p}"
        );
        assert_eq!(p["samples"], t["Home"]["sampleCount"], "{p}");
    }

    // Errors as the other routes answer them; nothing without the token.
    let refused = fetch(
        &served,
        Some("s3cret"),
        &[
            format!("/api/v1/compare?base={a}&target=20990101-000000-zzzz"),
            format!("/api/v1/compare?base={a}"),
            "/api/v1/trend?name=no-such-name".to_string(),
            "/api/v1/trend?name=nightly&metric=speed".to_string(),
            "/api/v1/trend?metric=tp95".to_string(),
        ],
    );
    let anonymous = fetch(
        &served,
        None,
        &[
            format!("/api/v1/compare?base={a}&target={b}"),
            "/api/v1/trend?name=nightly".to_string(),
        ],
    );
    let got = statuses_and_codes(refused.iter().chain(&anonymous));
    assert_eq!(
        got,
        [
            (404, "NOT_FOUND"),
            (400, "INVALID_ARGUMENT"),
            (404, "NOT_FOUND"),
            (400, "INVALID_ARGUMENT"),
            (400, "INVALID_ARGUMENT"),
            (401, "UNAUTHENTICATED"),
            (401, "UNAUTHENTICATED"),
        ],
        "{refused:?} {anonymous:?}"
    );
}

#[test]
fn the_report_api_answers_in_microseconds_what_the_cli_does() {
    let store = TestStore::new();
    let run = checkout_run(&store);
    let served = serve_with_token(&store);
    let got = fetch(
        &served,
        Some("s3cret"),
        &[
            format!("/api/v1/runs/{run}/report?resolution=us&page_size=1000"),
            format!("/api/v1/runs/{run}/report?page_size=1000"),
            format!("/api/v1/runs/{run}/report?resolution=ns"),
        ],
    );
    let (us, ms) = (&got[0]["body"], &got[1]["body"]);
    assert_eq!(
        (us["time_unit"].as_str(), ms["time_unit"].as_str()),
        (Some("us"), Some("ms"))
    );
    assert_eq!(got[2]["status"], 400, "{}", got[2]);
    // Every detail's times as `loadlake report --resolution us` prints them.
    let cli = store.json(&["report", &run, "--format", "json", "--resolution", "us"]);
    let cli_details = cli["details"].as_array().unwrap();
    let api_details = us["details"].as_array().unwrap();
    assert_eq!(api_details.len(), cli_details.len());
    for (a, c) in api_details.iter().zip(cli_details) {
        assert_eq!(a["name"], c["name"]);
        for (api_key, cli_key) in [
            ("average_resp_time", "averageRespTime"),
            ("tp50", "tp50"),
            ("tp95", "tp95"),
            ("tp99", "tp99"),
            ("max", "max"),
        ] {
            assert_eq!(
                a[api_key].as_f64(),
                c[cli_key].as_f64(),
                "{} {api_key}",
                a["name"]
            );
        }
    }
    // A JMeter file has whole ms: the µs average is 1 000 times the ms one.
    let (avg_us, avg_ms) = (
        us["outline"]["average_resp_time"].as_f64().unwrap(),
        ms["outline"]["average_resp_time"].as_f64().unwrap(),
    );
    assert!(
        close(avg_us, avg_ms * 1000.0, 1e-12),
        "{avg_us} vs {avg_ms}"
    );

    // The case detail, the chart and the PTS statistics take `resolution` too.
    let case = us["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["level"] == "case")
        .unwrap()["case_name"]
        .as_str()
        .unwrap()
        .to_string();
    let q = |s: &str| s.replace(' ', "%20");
    let got = fetch(
        &served,
        Some("s3cret"),
        &[
            format!("/api/v1/runs/{run}/cases/{}?resolution=us", q(&case)),
            format!(
                "/api/v1/runs/{run}/aw-chart?case_id={}&resolution=us",
                q(&case)
            ),
            format!("/api/v1/runs/{run}/scene-stats?resolution=us"),
            format!("/api/v1/runs/{run}/scene-stats?resolution=s"),
        ],
    );
    let (detail, chart, pts) = (&got[0]["body"], &got[1]["body"], &got[2]["body"]);
    for answer in [detail, chart, pts] {
        assert_eq!(answer["time_unit"], "us", "{answer}");
    }
    assert_eq!(got[3]["status"], 400, "{}", got[3]);
    let cli_case = cli_details
        .iter()
        .find(|d| d["level"] == "case" && d["caseName"] == case.as_str())
        .unwrap();
    assert_eq!(
        detail["performance"]["tp95"].as_f64(),
        cli_case["tp95"].as_f64()
    );
    let cli_curve = store.json(&[
        "curve",
        &run,
        "--case",
        &case,
        "--format",
        "json",
        "--resolution",
        "us",
    ]);
    let points = chart["broken_list"]["points"].as_array().unwrap();
    let cli_p95 = cli_curve["brokens"]["percentile_brokens"]["p95"]
        .as_array()
        .unwrap();
    assert_eq!(points.len(), cli_p95.len());
    for (p, c) in points.iter().zip(cli_p95) {
        assert_eq!(p["p95"].as_f64(), c.as_f64());
    }
    let cli_pts = store.json(&[
        "report",
        &run,
        "--stats",
        "pts",
        "--format",
        "json",
        "--resolution",
        "us",
    ]);
    assert_eq!(cli_pts["TimeUnit"], "us");
    assert_eq!(
        pts["all_sample_stat"]["rt_seg99"].as_f64(),
        cli_pts["AllSampleStat"]["rtSeg99"].as_f64()
    );
}

#[test]
fn runs_are_ordered_by_a_column_and_paged_in_that_order() {
    let store = TestStore::new();
    // Names and sizes chosen by hand: the orders below follow from them alone.
    let mut ids = std::collections::BTreeMap::new();
    for (name, rows) in [("b", 30), ("d", 10), ("a", 40), ("c", 20)] {
        let csv = store.path().join(format!("{name}.csv"));
        crate::store::generate_csv(&csv, rows, rows as u64);
        let id = store.import(&[csv.to_str().unwrap(), "--name", name]);
        ids.insert(name, id);
    }
    let served = serve_with_token(&store);
    let names = |query: &str| -> Vec<String> {
        // Every page of one run, following the tokens: the order across pages.
        let (mut got, mut token) = (Vec::new(), String::new());
        loop {
            let path = format!("/api/v1/runs?max_results=1&{query}&next_token={token}");
            let answer = &fetch(&served, Some("s3cret"), &[path])[0];
            assert_eq!(answer["status"], 200, "{answer}");
            let body = &answer["body"];
            assert_eq!(body["total"], 4, "{body}");
            for run in body["runs"].as_array().unwrap() {
                got.push(run["name"].as_str().unwrap().to_string());
            }
            token = body["next_token"].as_str().unwrap().to_string();
            if token.is_empty() {
                return got;
            }
        }
    };
    assert_eq!(names("order_by=samples"), ["a", "b", "c", "d"]);
    assert_eq!(
        names("order_by=samples&ascending=true"),
        ["d", "c", "b", "a"]
    );
    assert_eq!(names("order_by=name&ascending=true"), ["a", "b", "c", "d"]);
    // The default: newest first, i.e. by run id, largest first (ids made in one second sort
    // by their random suffix, so the order is the ids', not always the imports').
    let mut by_id: Vec<(&String, &str)> = ids.iter().map(|(name, id)| (id, *name)).collect();
    by_id.sort();
    let oldest_first: Vec<&str> = by_id.iter().map(|(_, name)| *name).collect();
    let newest_first: Vec<&str> = oldest_first.iter().rev().copied().collect();
    assert_eq!(names(""), newest_first);
    assert_eq!(names("order_by=run&ascending=true"), oldest_first);
    let bad = &fetch(
        &served,
        Some("s3cret"),
        &["/api/v1/runs?order_by=p99".into()],
    )[0];
    assert_eq!(bad["status"], 400, "{bad}");
    assert!(
        bad["body"]["message"]
            .as_str()
            .unwrap()
            .contains("order_by"),
        "{bad}"
    );
}

/// `resolution=us` on `/api/v1/compare` and `/api/v1/trend`: the CLI's `--resolution us`
/// answers, in µs (two k6 runs: `fast`'s p95 is 1004 µs in the first and, the second's `fast`
/// taking micros_reports.rs's slow durations, 2000001 µs in the second); `ns` is refused.
#[test]
fn compare_and_trend_answer_in_microseconds() {
    use crate::micros_reports::{FAST_US, SLOW_US, k6_file_of};
    let store = TestStore::new();
    let a = k6_file_of(store.path(), "a.json", 0, &FAST_US, &SLOW_US);
    let b = k6_file_of(store.path(), "b.json", 1, &SLOW_US, &FAST_US);
    let a = store.import(&[a.to_str().unwrap(), "--name", "micros"]);
    let b = store.import(&[b.to_str().unwrap(), "--name", "micros"]);
    let served = serve_with_token(&store);
    let cli = [
        store.json(&["compare", &a, &b, "--resolution", "us", "--format", "json"]),
        store.json(&[
            "trend",
            "--name",
            "micros",
            "--metric",
            "tp95",
            "--request",
            "fast",
            "--resolution",
            "us",
            "--format",
            "json",
        ]),
    ];
    let answers = fetch(
        &served,
        Some("s3cret"),
        &[
            format!("/api/v1/compare?base={a}&target={b}&resolution=us"),
            "/api/v1/trend?name=micros&request=fast&resolution=us".to_string(),
            format!("/api/v1/compare?base={a}&target={b}&resolution=ns"),
            "/api/v1/trend?name=micros&resolution=ns".to_string(),
        ],
    );
    for (i, (answer, want)) in answers.iter().zip(&cli).enumerate() {
        assert_eq!(answer["status"], 200, "{answer}");
        assert_same(&answer["body"], want, &format!("answer {i}"));
        assert_eq!(answer["body"]["timeUnit"], "us", "{answer}");
    }
    let tp95 = compare_row(&answers[0]["body"], "fast", "tp95");
    assert_eq!(
        (tp95["baseline"].as_f64(), tp95["candidate"].as_f64()),
        (Some(1004.0), Some(2_000_001.0)),
        "{tp95}"
    );
    let values: Vec<Option<f64>> = answers[1]["body"]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64())
        .collect();
    assert_eq!(values, [Some(1004.0), Some(2_000_001.0)]);
    assert_eq!(
        statuses_and_codes(&answers[2..]),
        [(400, "INVALID_ARGUMENT"), (400, "INVALID_ARGUMENT")]
    );
}
