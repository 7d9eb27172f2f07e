//! `GET /api/v1/compare` and `GET /api/v1/trend` of the JSON API: what `loadlake compare … --format
//! json` and `loadlake trend … --format json` print, computed by the same jobs
//! ([`loadlake_report::across`]) and serialised by the same structs, so the numbers and field
//! names (camelCase, as the CLI's JSON) are the CLI's. The queries run as the report service's
//! do: the server's query engine under its query timeout. Only committed runs, as in the CLI.
//!
//! `GET /api/v1/runs/{run_id}/samples?error_class=…` pages through the samples behind one of a
//! report's error classes (crates/query's `error_samples`), for the run page's drill-down.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use loadlake_query::reports::samples::{
    DEFAULT_PAGE, ErrorSamplePage, error_samples as samples_page, parse_page_token,
};
use loadlake_query::reports::trend::Trend;
use loadlake_report::across::{TrendRequest, compare_job, trend_job};
use loadlake_report::compare::{CompareOptions, Comparison};
use loadlake_store::now_ms;
use serde::Deserialize;
use tonic::Status;

use crate::Shared;
use crate::api::ApiError;
use crate::api_doc::{ApiErrors, CompareAnswer, SamplesAnswer, TrendAnswer};
use crate::error::{job_status, query_status, store_status};
use crate::reports::{in_unit, method, micros};

/// The metric of a trend whose request names none.
pub(crate) const DEFAULT_TREND_METRIC: &str = "tp95";

/// The query string of `/api/v1/compare` (the options of `loadlake compare`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompareQuery {
    /// The reference run's id (`loadlake compare`'s BASELINE).
    base: String,
    /// The run judged against it (CANDIDATE).
    target: String,
    /// Percent of the baseline below which time and TPS changes are noise (default 10).
    threshold: Option<f64>,
    /// Success-rate points below which changes are noise (default 1).
    rate_threshold: Option<f64>,
    /// Rows with fewer samples in either run are not judged (default 30).
    min_samples: Option<u64>,
    /// `nearest-rank` (default), `linear` or `jmeter-aggregate`.
    #[serde(default)]
    percentile_method: String,
    /// `ms` (default) or `us`: response times in microseconds where the runs measured them,
    /// ms × 1000 elsewhere (`timeUnit: "us"` in the answer).
    #[serde(default)]
    resolution: String,
}

/// The query string of `/api/v1/trend` (the options of `loadlake trend`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrendQuery {
    /// Runs with exactly this name.
    name: Option<String>,
    /// Runs with this tag, `key=value`.
    tag: Option<String>,
    /// The metric (default `tp95`): `avg_rt`, `tp50` … `tp9999`, `p99.9`, `error_rate`, `tps`, …
    metric: Option<String>,
    /// Only this case (thread group).
    case: Option<String>,
    /// Only this request or transaction label.
    request: Option<String>,
    /// The newest this many runs (default 50); `limit` is the same.
    #[serde(alias = "limit")]
    last: Option<usize>,
    /// `nearest-rank` (default), `linear` or `jmeter-aggregate`.
    #[serde(default)]
    percentile_method: String,
    /// `ms` (default) or `us`: a response-time metric in microseconds where the runs measured
    /// them, ms × 1000 elsewhere, computed from the samples (`timeUnit: "us"` in the answer).
    #[serde(default)]
    resolution: String,
}

/// The query string as `T`, or a 400 that says what is wrong with it.
pub(crate) fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query.map(|Query(q)| q).map_err(|e| {
        ApiError::from(Status::invalid_argument(format!(
            "query string: {}",
            e.body_text()
        )))
    })
}

/// `""` → `None`: a form's empty field is an absent option.
fn given(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// `GET /api/v1/compare?base=ID&target=ID&threshold=&rate_threshold=&min_samples=&percentile_method=&resolution=`
#[utoipa::path(get, path = "/api/v1/compare", tag = "across", params(CompareQuery),
    responses((status = 200, description = "The comparison", body = CompareAnswer), ApiErrors))]
pub(crate) async fn compare(
    State(shared): State<Arc<Shared>>,
    q: Result<Query<CompareQuery>, QueryRejection>,
) -> Result<Json<Comparison>, ApiError> {
    let q = query(q)?;
    let method = method(&q.percentile_method)?;
    let micros = micros(&q.resolution)?;
    let defaults = CompareOptions::DEFAULT;
    let options = CompareOptions {
        threshold_pct: q.threshold.unwrap_or(defaults.threshold_pct),
        rate_threshold_points: q.rate_threshold.unwrap_or(defaults.rate_threshold_points),
        min_samples: q.min_samples.unwrap_or(defaults.min_samples),
    };
    let baseline = shared.store.run(&q.base).map_err(|e| store_status(&e))?;
    let candidate = shared.store.run(&q.target).map_err(|e| store_status(&e))?;
    let comparison = shared
        .timed(async {
            let engine = in_unit(shared.engine().await?, micros).await?;
            compare_job(&engine, &baseline, &candidate, method, options)
                .await
                .map_err(job_status)
        })
        .await?;
    Ok(Json(comparison))
}

/// `GET /api/v1/trend?name=&tag=&metric=&case=&request=&last=&percentile_method=&resolution=`
#[utoipa::path(get, path = "/api/v1/trend", tag = "across", params(TrendQuery),
    responses((status = 200, description = "The trend", body = TrendAnswer), ApiErrors))]
pub(crate) async fn trend(
    State(shared): State<Arc<Shared>>,
    q: Result<Query<TrendQuery>, QueryRejection>,
) -> Result<Json<Trend>, ApiError> {
    let q = query(q)?;
    let request = TrendRequest {
        name: given(q.name),
        tag: given(q.tag),
        metric: given(q.metric).unwrap_or_else(|| DEFAULT_TREND_METRIC.to_string()),
        case: given(q.case),
        request: given(q.request),
        last: q.last.unwrap_or(TrendRequest::DEFAULT_LAST),
        method: method(&q.percentile_method)?,
    };
    let micros = micros(&q.resolution)?;
    let trend = shared
        .timed(async {
            let engine = in_unit(shared.engine().await?, micros).await?;
            trend_job(&engine, &shared.store, &request)
                .await
                .map_err(job_status)
        })
        .await?;
    Ok(Json(trend))
}

/// The query string of `/api/v1/runs/{run_id}/samples`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct SamplesQuery {
    /// The error class (`timeout`, `http_5xx`, `assertion`, … as the report's `error_classes`).
    error_class: String,
    /// The `next_page_token` of the page before; absent for the first page.
    #[serde(default)]
    page_token: String,
    /// Samples per page (default 50, at most 1000).
    page_size: Option<usize>,
}

/// `GET /api/v1/runs/{run_id}/samples?error_class=&page_token=&page_size=`: one page of the
/// samples of an error class, in source order (a run still being written: the samples so far).
#[utoipa::path(get, path = "/api/v1/runs/{run_id}/samples", tag = "reports",
    params(("run_id" = String, Path, description = "The run's id"), SamplesQuery),
    responses((status = 200, description = "One page of samples", body = SamplesAnswer), ApiErrors))]
pub(crate) async fn error_samples(
    State(shared): State<Arc<Shared>>,
    Path(run_id): Path<String>,
    q: Result<Query<SamplesQuery>, QueryRejection>,
) -> Result<Json<ErrorSamplePage>, ApiError> {
    let q = query(q)?;
    let after =
        parse_page_token(&q.page_token).map_err(|e| Status::invalid_argument(e.to_string()))?;
    let (manifest, live) = shared
        .store
        .run_or_live(&run_id, now_ms())
        .map_err(|e| store_status(&e))?;
    let run_id = manifest.run_id.to_string();
    let page = shared
        .timed(async {
            let engine = shared.engine().await?;
            if live {
                engine.include_live_runs().await.map_err(query_status)?;
            }
            let size = q.page_size.unwrap_or(DEFAULT_PAGE);
            samples_page(&engine, &run_id, &q.error_class, after, size)
                .await
                .map_err(query_status)
        })
        .await?;
    Ok(Json(page))
}
