//! The JSON API of `loadlake serve --http` (`/api/v1/…`), for curl, scripts and dashboards
//! (Grafana's JSON / Infinity data sources).
//!
//! Each endpoint calls the gRPC service's own method in process and answers with its message as
//! JSON, so the numbers and the field names are the gRPC API's (the proto's snake_case names;
//! enums as their numbers; 64-bit integers as JSON numbers). Query-string parameters fill the
//! request message by field name (`?percentile_method=linear&brokens_limit_count=60`); absent
//! ones take the proto defaults, as in gRPC. Errors are `{"code": "...", "message": "..."}` with
//! the HTTP status of the gRPC code. With a token, every endpoint but `/api/v1/health` and the
//! OpenAPI document needs `Authorization: Bearer <token>` (as every gRPC service but health
//! does) or the console's login cookie; changes also pass the CSRF rule (`console_auth.rs`).
//!
//! `/api/v1/compare` and `/api/v1/trend` (`api_across.rs`) have no gRPC method: they answer
//! what `loadlake compare` / `loadlake trend` print with `--format json`, with their names.
//! `POST /api/v1/runs` (`api_upload.rs`) takes a byte stream, which a client-streamed gRPC
//! method cannot be handed in process: it calls the function `ImportFile` itself runs
//! (`ingest::import_upload`) and answers `ImportFileResponse`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use futures::{Stream, StreamExt};
use serde::Serialize;
use tonic::{Code, Status};

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Shared;
use crate::api_doc::{ApiDoc, ApiErrors, OpenApiDocument};
use crate::auth::BearerCheck;
use crate::pb;
use crate::pb::report_service_server::ReportService;
use crate::pb::run_service_server::RunService;
use crate::reports::Reports;
use crate::runs::Runs;

/// What the handlers share: the gRPC services they answer through, and the server's state
/// for SQL (`api_sql.rs`).
#[derive(Clone)]
pub(crate) struct Api {
    runs: Arc<Runs>,
    reports: Arc<Reports>,
    shared: Arc<Shared>,
    /// The OpenAPI document as JSON (`/api/v1/openapi.json`).
    openapi: Arc<str>,
}

impl axum::extract::FromRef<Api> for Arc<Shared> {
    fn from_ref(api: &Api) -> Arc<Shared> {
        Arc::clone(&api.shared)
    }
}

/// The `/api/v1` routes over `shared`, behind `check`, and the console's pages.
pub(crate) fn router(shared: Arc<Shared>, check: BearerCheck) -> Router {
    let (routes, document) = documented(check.clone()).split_for_parts();
    // The document is written once; it cannot fail to serialise (maps with string keys).
    let openapi = document
        .to_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    let api = Api {
        runs: Arc::new(Runs::new(shared.clone())),
        reports: Arc::new(Reports::new(shared.clone())),
        shared,
        openapi: Arc::from(openapi),
    };
    routes
        .merge(crate::console::router(check))
        .fallback(not_found)
        .with_state(api)
}

/// Every `/api/v1` route with its OpenAPI description: the router serves what `routes!` lists,
/// and each handler's `#[utoipa::path]` says what its path is, so a route cannot be served
/// without being in the document (`api_doc.rs`). Routes of `/api/v1` go here only.
pub(crate) fn documented(check: BearerCheck) -> OpenApiRouter<Api> {
    let guarded = OpenApiRouter::new()
        .routes(routes!(list_runs, crate::api_upload::upload))
        .routes(routes!(get_run, delete_run))
        .routes(routes!(run_status))
        .routes(routes!(stop_run))
        .routes(routes!(live))
        .routes(routes!(report))
        .routes(routes!(cases))
        .routes(routes!(case_detail))
        .routes(routes!(aw_chart))
        .routes(routes!(scene_stats))
        .routes(routes!(crate::api_across::error_samples))
        .routes(routes!(crate::api_sql::sql))
        .routes(routes!(crate::api_across::compare))
        .routes(routes!(crate::api_across::trend))
        .routes(routes!(crate::api_headlines::run_headlines))
        .routes(routes!(crate::api_dashboard::jmeter))
        .routes(routes!(crate::api_dashboard::sla))
        .layer(middleware::from_fn_with_state(
            check,
            crate::console_auth::guard_api,
        ));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(openapi_json))
        .merge(guarded)
}

/// A gRPC status as an HTTP error: the status code of its gRPC code, the message as JSON.
pub(crate) struct ApiError(Status);

/// An error answer: the gRPC code's name and its message, with the HTTP status of the code.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody<'a> {
    /// The gRPC code: `INVALID_ARGUMENT`, `UNAUTHENTICATED`, `NOT_FOUND`, …
    code: &'a str,
    /// What went wrong.
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = http_status(self.0.code());
        let body = ErrorBody {
            code: grpc_code_name(self.0.code()),
            message: self.0.message(),
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<Status> for ApiError {
    fn from(status: Status) -> ApiError {
        ApiError(status)
    }
}

/// The HTTP status of a gRPC code (the mapping of grpc-gateway and Google's APIs).
fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::OutOfRange | Code::FailedPrecondition => {
            StatusCode::BAD_REQUEST
        }
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The gRPC name of `code` (`INVALID_ARGUMENT`, …).
fn grpc_code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

async fn not_found() -> ApiError {
    ApiError(Status::not_found(
        "no such endpoint (the JSON API is under /api/v1/)",
    ))
}

/// `GET /api/v1/health`'s answer.
#[derive(Serialize, utoipa::ToSchema)]
struct Health {
    /// `SERVING`.
    status: &'static str,
}

/// `GET /api/v1/health`: open, like the gRPC health service.
#[utoipa::path(get, path = "/api/v1/health", tag = "meta", security(()),
    responses((status = 200, description = "The server serves", body = Health)))]
async fn health() -> Json<Health> {
    Json(Health { status: "SERVING" })
}

/// `GET /api/v1/openapi.json`: this API's OpenAPI document, open without the token (it
/// describes the API, not the store).
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI document", body = OpenApiDocument)))]
async fn openapi_json(State(api): State<Api>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        api.openapi.to_string(),
    )
        .into_response()
}

/// A query string that does not fit the request message.
fn bad_query(e: impl std::fmt::Display) -> ApiError {
    ApiError(Status::invalid_argument(format!("query string: {e}")))
}

/// The request message `T` from the query string, with `run_id` from the path.
fn message<T>(
    query: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    query
        .map(|Query(m)| m)
        .map_err(|e| bad_query(e.body_text()))
}

/// `GET /api/v1/runs?name=&tags=k=v&tags=…&status=&start_after_ms=&max_results=&next_token=&order_by=&ascending=`
#[utoipa::path(get, path = "/api/v1/runs", tag = "runs",
    params(
        ("name" = Option<String>, Query, description = "Runs with exactly this name"),
        ("tags" = Option<Vec<String>>, Query, explode = true, description = "`key=value`, repeatable; every one must match"),
        ("status" = Option<String>, Query, description = "Runs with this status"),
        ("start_after_ms" = Option<i64>, Query, description = "Runs started after this time (ms since the epoch)"),
        ("start_before_ms" = Option<i64>, Query, description = "Runs started before this time (ms since the epoch)"),
        ("max_results" = Option<u32>, Query, description = "Runs per page (default 20, at most 100)"),
        ("next_token" = Option<String>, Query, description = "The previous page's `next_token`"),
        ("order_by" = Option<String>, Query, description = "`run` (default: newest first), `name`, `status`, `samples`, `errors`, `error_pct`, `start` or `duration`"),
        ("ascending" = Option<bool>, Query, description = "Ascending instead of descending"),
    ),
    responses((status = 200, description = "One page of runs, newest first unless ordered otherwise", body = pb::ListRunsResponse), ApiErrors))]
async fn list_runs(
    State(api): State<Api>,
    uri: axum::http::Uri,
) -> ApiResult<pb::ListRunsResponse> {
    // `tags` repeats, which a flat query-string reader cannot put in a message: it is read
    // from the pairs, the rest into the message.
    let raw = uri.query().unwrap_or("");
    let pairs: Vec<(String, String)> = Query::try_from_uri(&uri)
        .map(|Query(p)| p)
        .map_err(|e| bad_query(e.body_text()))?;
    let rest: Vec<&str> = raw
        .split('&')
        .filter(|kv| !kv.is_empty() && kv.split('=').next() != Some("tags"))
        .collect();
    let rest_uri: axum::http::Uri = format!("/?{}", rest.join("&")).parse().map_err(bad_query)?;
    let mut request: pb::ListRunsRequest = message(Query::try_from_uri(&rest_uri))?;
    request.tags = pairs
        .into_iter()
        .filter(|(k, _)| k == "tags")
        .map(|(_, v)| v)
        .collect();
    let answer = api.runs.list_runs(tonic::Request::new(request)).await?;
    Ok(Json(answer.into_inner()))
}

/// `GET /api/v1/runs/{run_id}`
#[utoipa::path(get, path = "/api/v1/runs/{run_id}", tag = "runs", params(("run_id" = String, Path, description = "The run's id")),
    responses((status = 200, description = "The run (GetRun)", body = pb::Run), ApiErrors))]
async fn get_run(State(api): State<Api>, Path(run_id): Path<String>) -> ApiResult<pb::Run> {
    let answer = api
        .runs
        .get_run(tonic::Request::new(pb::GetRunRequest { run_id }))
        .await?;
    Ok(Json(answer.into_inner()))
}

/// `DELETE /api/v1/runs/{run_id}`: DeleteRun — the run's samples and its entry leave the store.
#[utoipa::path(delete, path = "/api/v1/runs/{run_id}", tag = "runs", params(("run_id" = String, Path, description = "The run's id")),
    responses((status = 200, description = "The run is deleted (DeleteRun)", body = pb::DeleteRunResponse), ApiErrors))]
async fn delete_run(
    State(api): State<Api>,
    Path(run_id): Path<String>,
) -> ApiResult<pb::DeleteRunResponse> {
    let answer = api
        .runs
        .delete_run(tonic::Request::new(pb::DeleteRunRequest { run_id }))
        .await?;
    Ok(Json(answer.into_inner()))
}

/// `GET /api/v1/runs/{run_id}/status`
#[utoipa::path(get, path = "/api/v1/runs/{run_id}/status", tag = "runs", params(("run_id" = String, Path, description = "The run's id")),
    responses((status = 200, description = "Its lifecycle state (GetRunStatus)", body = pb::RunStatus), ApiErrors))]
async fn run_status(
    State(api): State<Api>,
    Path(run_id): Path<String>,
) -> ApiResult<pb::RunStatus> {
    let answer = api
        .runs
        .get_run_status(tonic::Request::new(pb::GetRunRequest { run_id }))
        .await?;
    Ok(Json(answer.into_inner()))
}

/// `GET /api/v1/runs/{run_id}/live`: `GetRunningData` as server-sent events — one `data:`
/// event (a `RunningData` message as JSON) about once a second while the run is live, the
/// last one with its final state; a committed run gets one event. An error after the start is
/// an `event: error` with the message.
#[utoipa::path(get, path = "/api/v1/runs/{run_id}/live", tag = "runs", params(("run_id" = String, Path, description = "The run's id")),
    responses((status = 200, description = "Server-sent events: each `data:` a RunningData as JSON; `event: error` with a message if it fails after the start",
        content_type = "text/event-stream", body = pb::RunningData), ApiErrors))]
async fn live(
    State(api): State<Api>,
    Path(run_id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let answer = api
        .runs
        .get_running_data(tonic::Request::new(pb::GetRunRequest { run_id }))
        .await?;
    let events = answer.into_inner().map(|item| {
        Ok(match item {
            Ok(data) => Event::default()
                .json_data(&data)
                .unwrap_or_else(|e| Event::default().event("error").data(e.to_string())),
            Err(status) => Event::default().event("error").data(status.message()),
        })
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// `POST /api/v1/runs/{run_id}/stop`: what `loadlake stop` does.
#[utoipa::path(post, path = "/api/v1/runs/{run_id}/stop", tag = "runs", params(("run_id" = String, Path, description = "The run's id")),
    responses((status = 200, description = "The stop is requested (StopRun)", body = pb::RunStatus), ApiErrors))]
async fn stop_run(State(api): State<Api>, Path(run_id): Path<String>) -> ApiResult<pb::RunStatus> {
    let answer = api
        .runs
        .stop_run(tonic::Request::new(pb::GetRunRequest { run_id }))
        .await?;
    Ok(Json(answer.into_inner()))
}

/// `GET /api/v1/runs/{run_id}/report?case_name=&brokens_limit_count=&page_index=&page_size=&percentile_method=&resolution=`
#[utoipa::path(get, path = "/api/v1/runs/{run_id}/report", tag = "reports",
    params(
        ("run_id" = String, Path, description = "The run's id"),
        ("case_name" = Option<String>, Query, description = "Only this case's rows"),
        ("brokens_limit_count" = Option<u32>, Query, description = "Merge the 1 s curve to at most this many points (0 = every second)"),
        ("page_index" = Option<u32>, Query, description = "The page of details, from 1"),
        ("page_size" = Option<u32>, Query, description = "Details per page (default 100, at most 1000)"),
        ("percentile_method" = Option<String>, Query, description = "`nearest-rank` (default), `linear` or `jmeter-aggregate`"),
        ("resolution" = Option<String>, Query, description = "`ms` (default) or `us`: response times in microseconds where the run measured them, ms × 1000 elsewhere"),
    ),
    responses((status = 200, description = "The report (GetReport)", body = pb::ReportInfo), ApiErrors))]
async fn report(
    State(api): State<Api>,
    Path(run_id): Path<String>,
    query: Result<Query<pb::GetReportRequest>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<pb::ReportInfo> {
    let request = pb::GetReportRequest {
        run_id,
        ..message(query)?
    };
    let answer = api.reports.get_report(tonic::Request::new(request)).await?;
    Ok(Json(answer.into_inner()))
}

/// `GET /api/v1/runs/{run_id}/cases`
#[utoipa::path(get, path = "/api/v1/runs/{run_id}/cases", tag = "reports", params(("run_id" = String, Path, description = "The run's id")),
    responses((status = 200, description = "Cases with their requests and transactions (ListCases)", body = pb::ListCasesResponse), ApiErrors))]
async fn cases(
    State(api): State<Api>,
    Path(run_id): Path<String>,
) -> ApiResult<pb::ListCasesResponse> {
    let answer = api
        .reports
        .list_cases(tonic::Request::new(pb::ListCasesRequest { run_id }))
        .await?;
    Ok(Json(answer.into_inner()))
}

/// `GET /api/v1/runs/{run_id}/cases/{case_id}?percentile_method=&resolution=`
#[utoipa::path(get, path = "/api/v1/runs/{run_id}/cases/{case_id}", tag = "reports",
    params(
        ("run_id" = String, Path, description = "The run's id"),
        ("case_id" = String, Path, description = "The case's id or name"),
        ("percentile_method" = Option<String>, Query, description = "`nearest-rank` (default), `linear` or `jmeter-aggregate`"),
        ("resolution" = Option<String>, Query, description = "`ms` (default) or `us`: response times in microseconds where the run measured them, ms × 1000 elsewhere"),
    ),
    responses((status = 200, description = "One case (GetCaseDetail)", body = pb::CaseReportDetail), ApiErrors))]
async fn case_detail(
    State(api): State<Api>,
    Path((run_id, case_id)): Path<(String, String)>,
    query: Result<Query<pb::GetCaseDetailRequest>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<pb::CaseReportDetail> {
    let request = pb::GetCaseDetailRequest {
        run_id,
        case_id,
        ..message(query)?
    };
    let answer = api
        .reports
        .get_case_detail(tonic::Request::new(request))
        .await?;
    Ok(Json(answer.into_inner()))
}

/// `GET /api/v1/runs/{run_id}/aw-chart?case_id=&detail_id=&brokens_limit_count=&percentile_method=&resolution=`
#[utoipa::path(get, path = "/api/v1/runs/{run_id}/aw-chart", tag = "reports",
    params(
        ("run_id" = String, Path, description = "The run's id"),
        ("case_id" = Option<String>, Query, description = "A case's id or name (else the whole run)"),
        ("detail_id" = Option<String>, Query, description = "One of its requests, by id (`2-3`) or name"),
        ("brokens_limit_count" = Option<u32>, Query, description = "Merge the 1 s curve to at most this many points (0 = every second)"),
        ("percentile_method" = Option<String>, Query, description = "`nearest-rank` (default), `linear` or `jmeter-aggregate`"),
        ("resolution" = Option<String>, Query, description = "`ms` (default) or `us`: response times in microseconds where the run measured them, ms × 1000 elsewhere"),
        ("curve_only" = Option<bool>, Query, description = "`true`: the curve alone, `resp_time_range` empty (one scan of the run fewer)"),
    ),
    responses((status = 200, description = "The curve and response-time ranges (GetAwChart)", body = pb::AwChart), ApiErrors))]
async fn aw_chart(
    State(api): State<Api>,
    Path(run_id): Path<String>,
    query: Result<Query<pb::GetAwChartRequest>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<pb::AwChart> {
    let request = pb::GetAwChartRequest {
        run_id,
        ..message(query)?
    };
    let answer = api
        .reports
        .get_aw_chart(tonic::Request::new(request))
        .await?;
    Ok(Json(answer.into_inner()))
}

/// `GET /api/v1/runs/{run_id}/scene-stats?percentile_method=&resolution=`
#[utoipa::path(get, path = "/api/v1/runs/{run_id}/scene-stats", tag = "reports",
    params(
        ("run_id" = String, Path, description = "The run's id"),
        ("percentile_method" = Option<String>, Query, description = "`nearest-rank` (default), `linear` or `jmeter-aggregate`"),
        ("resolution" = Option<String>, Query, description = "`ms` (default) or `us`: response times in microseconds where the run measured them, ms × 1000 elsewhere"),
    ),
    responses((status = 200, description = "PTS sample statistics (GetSceneStats)", body = pb::SceneStats), ApiErrors))]
async fn scene_stats(
    State(api): State<Api>,
    Path(run_id): Path<String>,
    query: Result<Query<pb::GetSceneStatsRequest>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<pb::SceneStats> {
    let request = pb::GetSceneStatsRequest {
        run_id,
        ..message(query)?
    };
    let answer = api
        .reports
        .get_scene_stats(tonic::Request::new(request))
        .await?;
    Ok(Json(answer.into_inner()))
}
