//! The rest of what a run's HTML report shows, for the console's run page: JMeter's dashboard
//! tables (`GET /api/v1/runs/{run_id}/jmeter`: Statistics, APDEX, Errors, Top 5 — crates/
//! report's [`jmeter_section`](loadlake_report::job::jmeter_section), the HTML report's own) and
//! the SLA outcome of the server's rule file (`GET /api/v1/runs/{run_id}/sla`, `loadlake serve
//! --sla FILE`; `{"outcome": null}` without one). Committed runs and runs still being written
//! (on the samples so far), as the other report routes.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use loadlake_query::reports::sla::SlaOutcome;
use loadlake_report::html::JmeterSection;
use serde::{Deserialize, Serialize};

use crate::Shared;
use crate::api::ApiError;
use crate::api_across::query;
use crate::api_doc::{ApiErrors, JmeterAnswer, SlaAnswer};
use crate::reports::{Reports, method};

/// The query string of both routes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct DashboardQuery {
    /// `nearest-rank` (default), `linear` or `jmeter-aggregate`.
    #[serde(default)]
    percentile_method: String,
}

/// `/api/v1/runs/{run_id}/sla`'s answer.
#[derive(Debug, Serialize)]
pub(crate) struct SlaBody {
    /// Every rule's result (`loadlake report --sla`'s JSON), or null when the server has no
    /// rules.
    outcome: Option<SlaOutcome>,
}

/// The percentile method of the query string, or a 400.
fn method_of(
    q: Result<Query<DashboardQuery>, QueryRejection>,
) -> Result<loadlake_query::functions::PercentileMethod, ApiError> {
    Ok(method(&query(q)?.percentile_method)?)
}

/// `GET /api/v1/runs/{run_id}/jmeter?percentile_method=`
#[utoipa::path(get, path = "/api/v1/runs/{run_id}/jmeter", tag = "reports",
    params(("run_id" = String, Path, description = "The run's id"), DashboardQuery),
    responses((status = 200, description = "JMeter's dashboard tables of the run", body = JmeterAnswer), ApiErrors))]
pub(crate) async fn jmeter(
    State(shared): State<Arc<Shared>>,
    Path(run_id): Path<String>,
    q: Result<Query<DashboardQuery>, QueryRejection>,
) -> Result<Json<JmeterSection>, ApiError> {
    let method = method_of(q)?;
    let tables = Reports::new(shared).jmeter_tables(&run_id, method).await?;
    Ok(Json(tables))
}

/// `GET /api/v1/runs/{run_id}/sla?percentile_method=`
#[utoipa::path(get, path = "/api/v1/runs/{run_id}/sla", tag = "reports",
    params(("run_id" = String, Path, description = "The run's id"), DashboardQuery),
    responses((status = 200, description = "The SLA outcome of the server's rules", body = SlaAnswer), ApiErrors))]
pub(crate) async fn sla(
    State(shared): State<Arc<Shared>>,
    Path(run_id): Path<String>,
    q: Result<Query<DashboardQuery>, QueryRejection>,
) -> Result<Json<SlaBody>, ApiError> {
    let method = method_of(q)?;
    let outcome = Reports::new(shared).sla(&run_id, method).await?;
    Ok(Json(SlaBody { outcome }))
}
