//! Headline numbers of one scope of a run (the whole run, a case, or one request / transaction
//! label), from `queries/scope_metrics.sql`: what SLA rules and trends read.

use datafusion::scalar::ScalarValue;

use super::f64_column;
use super::run_report::{method_param, rate, run_param, u};
use crate::QueryEngine;
use crate::error::QueryError;
use crate::functions::PercentileMethod;

pub use loadlake_plan::sla::Scope;

/// The numbers of one scope. Times in ms, rates in percent, `tps` per second of the scope's
/// own span (first start → last end), as in the report's details.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeMetrics {
    pub requests: u64,
    pub success_count: u64,
    pub error_count: u64,
    pub failed_assert: u64,
    pub failed_timeout: u64,
    pub failed_refused: u64,
    pub failed_parsed: u64,
    pub failed_others: u64,
    pub success_rate: Option<f64>,
    pub error_rate: Option<f64>,
    pub average_resp_time: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The percentile asked for.
    pub percentile: Option<f64>,
    pub tps: Option<f64>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
}

/// Computes the numbers of `scope` in `run_id`, with the `percentile` (0–100) by `method`.
pub async fn scope_metrics(
    engine: &QueryEngine,
    run_id: &str,
    scope: &Scope,
    percentile: f64,
    method: PercentileMethod,
) -> Result<ScopeMetrics, QueryError> {
    let text = |s: Option<&String>| ScalarValue::Utf8(s.cloned());
    let (case, request) = match scope {
        Scope::Run => (None, None),
        Scope::Case { case } => (Some(case), None),
        Scope::Request { case, request } => (case.as_ref(), Some(request)),
    };
    let params = vec![
        run_param(run_id),
        text(case),
        text(request),
        ScalarValue::Float64(Some(percentile)),
        method_param(method),
    ];
    let (_, batches) = engine
        .sql_with_params(crate::queries::SCOPE_METRICS, params)
        .await?;
    let value = |name: &str| -> Result<Option<f64>, QueryError> {
        Ok(match batches.iter().find(|b| b.num_rows() > 0) {
            Some(b) => f64_column(b, name)?[0],
            None => None,
        })
    };
    let requests = u(value("requests")?);
    let success_count = u(value("success_count")?);
    let error_count = requests - success_count.min(requests);
    let share = |n: u64| (requests > 0).then(|| n as f64 * 100.0 / requests as f64);
    let (start, end) = (value("start_ms")?, value("end_ms")?);
    Ok(ScopeMetrics {
        requests,
        success_count,
        error_count,
        failed_assert: u(value("failed_assert")?),
        failed_timeout: u(value("failed_timeout")?),
        failed_refused: u(value("failed_refused")?),
        failed_parsed: u(value("failed_parsed")?),
        failed_others: u(value("failed_others")?),
        success_rate: share(success_count),
        error_rate: share(error_count),
        average_resp_time: value("average_resp_time")?,
        min: value("min_resp_time")?,
        max: value("max_resp_time")?,
        percentile: value("percentile")?,
        tps: rate(requests as f64, start, end),
        start_time: start.map(|v| v as i64),
        end_time: end.map(|v| v as i64),
    })
}
