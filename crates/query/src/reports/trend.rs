//! Trends: one metric of one scope across the last runs that share a name or a tag, each run's
//! value computed from its samples (`queries/scope_metrics.sql`), oldest first.

use loadlake_schema::RunManifest;

use super::scope::{Scope, scope_metrics};
use super::sla::Metric;
use crate::QueryEngine;
use crate::error::QueryError;
use crate::functions::PercentileMethod;

/// One run's value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrendPoint {
    pub run_id: String,
    pub name: String,
    /// The run's first sample, ms since the epoch.
    pub start_time: Option<i64>,
    /// `None` when the scope has no samples in this run.
    pub value: Option<f64>,
    /// Samples in the scope.
    pub samples: u64,
}

/// A metric across runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trend {
    pub metric: String,
    #[serde(flatten)]
    pub scope: Scope,
    pub points: Vec<TrendPoint>,
}

/// The trend of `metric` (named `metric_name`) of `scope` over `runs` (already selected).
pub async fn trend(
    engine: &QueryEngine,
    runs: &[&RunManifest],
    scope: &Scope,
    metric: Metric,
    metric_name: &str,
    method: PercentileMethod,
) -> Result<Trend, QueryError> {
    let percent = match metric {
        Metric::Percentile(p) => p,
        _ => 50.0,
    };
    let mut points = Vec::with_capacity(runs.len());
    for run in runs {
        let id = run.run_id.to_string();
        let m = scope_metrics(engine, &id, scope, percent, method).await?;
        points.push(TrendPoint {
            value: if m.requests == 0 {
                None
            } else {
                super::sla::metric_value(metric, &m)
            },
            samples: m.requests,
            run_id: id,
            name: run.name.clone(),
            start_time: run.first_ts_ms,
        });
    }
    Ok(Trend {
        metric: metric_name.to_string(),
        scope: scope.clone(),
        points,
    })
}
