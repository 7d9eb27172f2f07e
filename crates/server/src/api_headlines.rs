//! `GET /api/v1/run-headlines?run_ids=A,B,…`: the headline numbers of a page of runs — the
//! whole run's p95, mean response time and request count — for the runs page's p95 column.
//!
//! The numbers are [`scope_metrics_of_runs`] of the run scope: the rule `loadlake trend` and
//! SLA gates use for "the whole run" (samples, not transactions), read from the runs' rollups
//! (each written the first time a run is asked for, then kept), so a page of runs costs one
//! small query once their rollups exist. The listing (`/api/v1/runs`) stays a read of the
//! manifests; the console asks for these numbers after it has drawn the page.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use loadlake_query::reports::scope::{Scope, scope_metrics_of_runs};
use loadlake_schema::RunStatus;
use serde::{Deserialize, Serialize};
use tonic::Status;

use crate::Shared;
use crate::api::ApiError;
use crate::api_across::query;
use crate::api_doc::ApiErrors;
use crate::error::query_status;
use crate::reports::method;

/// Runs one call may ask for: two pages of the runs listing.
pub(crate) const MAX_HEADLINE_RUNS: usize = 200;

/// The percentile of the headline.
const HEADLINE_PERCENTILE: f64 = 95.0;

/// The query string of `/api/v1/run-headlines`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct HeadlinesQuery {
    /// Run ids, comma-separated (at most 200).
    run_ids: String,
    /// `nearest-rank` (default), `linear` or `jmeter-aggregate`.
    #[serde(default)]
    percentile_method: String,
}

/// The headline numbers of one run (times in ms).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RunHeadline {
    /// The run's id.
    run_id: String,
    /// Samples (requests; transactions are not counted), as the report's outline.
    requests: u64,
    /// Their mean response time (ms).
    average_resp_time: Option<f64>,
    /// Their 95th percentile response time (ms), exact, by the method asked for.
    tp95: Option<f64>,
}

/// `/api/v1/run-headlines`' answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct HeadlinesAnswer {
    /// One entry per committed run asked for that has samples, in the order asked. Unknown
    /// ids and runs still being written are left out.
    runs: Vec<RunHeadline>,
}

/// `GET /api/v1/run-headlines?run_ids=A,B&percentile_method=`
#[utoipa::path(get, path = "/api/v1/run-headlines", tag = "runs", params(HeadlinesQuery),
    responses((status = 200, description = "The runs' headline numbers", body = HeadlinesAnswer),
        ApiErrors))]
pub(crate) async fn run_headlines(
    State(shared): State<Arc<Shared>>,
    q: Result<Query<HeadlinesQuery>, QueryRejection>,
) -> Result<Json<HeadlinesAnswer>, ApiError> {
    let q = query(q)?;
    let method = method(&q.percentile_method)?;
    let asked = run_ids(&q.run_ids)?;
    let committed = {
        let shared = shared.clone();
        // A manifest read per id (a GET on a bucket): off the runtime's workers.
        tokio::task::spawn_blocking(move || committed_runs(&shared, asked))
            .await
            .map_err(|e| Status::internal(format!("listing the runs: {e}")))?
    };
    let ids: Vec<&str> = committed.iter().map(String::as_str).collect();
    let by_run = shared
        .timed(async {
            let engine = shared.engine().await?;
            scope_metrics_of_runs(&engine, &ids, &Scope::Run, HEADLINE_PERCENTILE, method)
                .await
                .map_err(query_status)
        })
        .await?;
    let runs = committed
        .iter()
        .filter_map(|id| {
            by_run.get(id).map(|m| RunHeadline {
                run_id: id.clone(),
                requests: m.requests,
                average_resp_time: m.average_resp_time,
                tp95: m.percentile,
            })
        })
        .collect();
    Ok(Json(HeadlinesAnswer { runs }))
}

/// The ids of `run_ids` (comma-separated, blanks ignored, each once), or a 400.
fn run_ids(run_ids: &str) -> Result<Vec<String>, Status> {
    let mut ids: Vec<String> = Vec::new();
    for id in run_ids.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !ids.iter().any(|seen| seen == id) {
            ids.push(id.to_string());
        }
    }
    if ids.is_empty() {
        return Err(Status::invalid_argument("run_ids: name at least one run"));
    }
    if ids.len() > MAX_HEADLINE_RUNS {
        return Err(Status::invalid_argument(format!(
            "run_ids: at most {MAX_HEADLINE_RUNS} runs per call, got {}",
            ids.len()
        )));
    }
    Ok(ids)
}

/// The ids of `asked` that name committed runs (complete or incomplete), in order.
fn committed_runs(shared: &Shared, asked: Vec<String>) -> Vec<String> {
    asked
        .into_iter()
        .filter(|id| {
            shared
                .store
                .run(id)
                .is_ok_and(|m| matches!(m.status, RunStatus::Complete | RunStatus::Incomplete))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_split_trimmed_and_deduplicated() {
        let ids = run_ids(" a, b,,a ,c").unwrap_or_default();
        assert_eq!(ids, ["a", "b", "c"]);
    }

    #[test]
    fn no_id_or_too_many_ids_are_refused() {
        assert!(run_ids(" , ").is_err());
        let many: Vec<String> = (0..=MAX_HEADLINE_RUNS).map(|i| format!("r{i}")).collect();
        let err = run_ids(&many.join(","))
            .err()
            .map(|e| e.message().to_string());
        assert_eq!(
            err.as_deref(),
            Some("run_ids: at most 200 runs per call, got 201")
        );
        assert_eq!(
            run_ids(&many[1..].join(",")).map(|v| v.len()).ok(),
            Some(200)
        );
    }
}
