//! Headline numbers of one scope of a run (the whole run, a case, or one request / transaction
//! label), from `queries/scope_metrics.sql`: what SLA rules and trends read.

use std::collections::HashMap;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::DataType;
use datafusion::scalar::ScalarValue;
use loadlake_schema::col;

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
    let params = scope_params(run_param(run_id), scope, percentile, method);
    let (_, batches) = engine
        .sql_with_params(crate::queries::SCOPE_METRICS, params)
        .await?;
    match batches.iter().find(|b| b.num_rows() > 0) {
        Some(b) => Ok(metrics_of_batch(b)?.swap_remove(0)),
        None => Ok(ScopeMetrics::empty()),
    }
}

/// [`scope_metrics`] of each of the committed runs `run_ids` at once, from their rollups
/// (written first where missing): the same numbers, without reading their samples. A run with
/// no rows in the scope is absent from the map.
pub async fn scope_metrics_of_runs(
    engine: &QueryEngine,
    run_ids: &[&str],
    scope: &Scope,
    percentile: f64,
    method: PercentileMethod,
) -> Result<HashMap<String, ScopeMetrics>, QueryError> {
    engine.ensure_rollups(run_ids).await?;
    let ids: Vec<ScalarValue> = run_ids
        .iter()
        .map(|id| ScalarValue::Utf8(Some(id.to_string())))
        .collect();
    let ids = ScalarValue::List(ScalarValue::new_list_nullable(&ids, &DataType::Utf8));
    let params = scope_params(ids, scope, percentile, method);
    let (_, batches) = engine
        .sql_with_params(crate::queries::SCOPE_METRICS_ROLLUPS, params)
        .await?;
    let mut by_run = HashMap::new();
    for batch in &batches {
        let runs = batch
            .column_by_name(col::RUN_ID)
            .and_then(|c| arrow::compute::cast(c, &DataType::Utf8).ok())
            .ok_or_else(|| no_column(col::RUN_ID))?;
        let runs = runs.as_string::<i32>();
        for (row, m) in metrics_of_batch(batch)?.into_iter().enumerate() {
            by_run.insert(runs.value(row).to_string(), m);
        }
    }
    Ok(by_run)
}

/// The parameters `$2`… of the scope queries after `run` (`$1`).
fn scope_params(
    run: ScalarValue,
    scope: &Scope,
    percentile: f64,
    method: PercentileMethod,
) -> Vec<ScalarValue> {
    let text = |s: Option<&String>| ScalarValue::Utf8(s.cloned());
    let (case, request) = match scope {
        Scope::Run => (None, None),
        Scope::Case { case } => (Some(case), None),
        Scope::Request { case, request } => (case.as_ref(), Some(request)),
    };
    vec![
        run,
        text(case),
        text(request),
        ScalarValue::Float64(Some(percentile)),
        method_param(method),
    ]
}

fn no_column(name: &str) -> QueryError {
    QueryError::Arrow(arrow::error::ArrowError::SchemaError(format!(
        "scope query has no column {name}"
    )))
}

/// The numbers of every row of a result of the scope queries, in row order (each column read
/// once).
fn metrics_of_batch(batch: &RecordBatch) -> Result<Vec<ScopeMetrics>, QueryError> {
    let column = |name: &str| f64_column(batch, name);
    let requests = column("requests")?;
    let success_count = column("success_count")?;
    let failed_assert = column("failed_assert")?;
    let failed_timeout = column("failed_timeout")?;
    let failed_refused = column("failed_refused")?;
    let failed_parsed = column("failed_parsed")?;
    let failed_others = column("failed_others")?;
    let average = column("average_resp_time")?;
    let min = column("min_resp_time")?;
    let max = column("max_resp_time")?;
    let percentile = column("percentile")?;
    let start = column("start_ms")?;
    let end = column("end_ms")?;
    Ok((0..batch.num_rows())
        .map(|row| {
            let requests_n = u(requests[row]);
            let success_n = u(success_count[row]);
            let error_count = requests_n - success_n.min(requests_n);
            let share = |n: u64| (requests_n > 0).then(|| n as f64 * 100.0 / requests_n as f64);
            ScopeMetrics {
                requests: requests_n,
                success_count: success_n,
                error_count,
                failed_assert: u(failed_assert[row]),
                failed_timeout: u(failed_timeout[row]),
                failed_refused: u(failed_refused[row]),
                failed_parsed: u(failed_parsed[row]),
                failed_others: u(failed_others[row]),
                success_rate: share(success_n),
                error_rate: share(error_count),
                average_resp_time: average[row],
                min: min[row],
                max: max[row],
                percentile: percentile[row],
                tps: rate(requests_n as f64, start[row], end[row]),
                start_time: start[row].map(|v| v as i64),
                end_time: end[row].map(|v| v as i64),
            }
        })
        .collect())
}

impl ScopeMetrics {
    /// The numbers of a scope without samples.
    pub fn empty() -> ScopeMetrics {
        ScopeMetrics {
            requests: 0,
            success_count: 0,
            error_count: 0,
            failed_assert: 0,
            failed_timeout: 0,
            failed_refused: 0,
            failed_parsed: 0,
            failed_others: 0,
            success_rate: None,
            error_rate: None,
            average_resp_time: None,
            min: None,
            max: None,
            percentile: None,
            tps: None,
            start_time: None,
            end_time: None,
        }
    }
}
