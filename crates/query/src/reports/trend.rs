//! Trends: one metric of one scope across the last runs that share a name or a tag, oldest
//! first, each run's value computed from its rollup (`queries/scope_metrics_rollups.sql`, one
//! query for every run), or from its samples (`queries/scope_metrics.sql`, run by run) on a
//! session that reads intended latencies or microseconds.
//!
//! **Microseconds read the samples.** Rollups keep exact histograms of whole ms only. A µs
//! histogram of the same group has a bucket per distinct µs value — up to 1 000 times as many —
//! so keeping one in every rollup would grow each rollup file and the consolidated one that
//! every ms trend reads, and the rollups already written would need migrating. `--resolution
//! us` is asked for rarely and on few runs, so a µs session computes each run from its samples
//! with the same query as SLA rules: exact, and the ms rollup path stays as it is.

use loadlake_schema::RunManifest;

use std::collections::HashMap;

use super::scope::{Scope, ScopeMetrics, scope_metrics, scope_metrics_of_runs};
use super::sla::Metric;
use crate::QueryEngine;
use crate::TimeUnit;
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
    /// The unit of `value` when the metric is a response time in µs (`timeUnit: "us"`);
    /// absent when it is in ms or is not a time.
    #[serde(skip_serializing_if = "TimeUnit::is_ms")]
    pub time_unit: TimeUnit,
    /// The unit of `value` as tables and charts show it: `ms` or `µs` (response times), `%`,
    /// `/s`, or empty (counts).
    #[serde(skip)]
    pub value_unit: &'static str,
    pub points: Vec<TrendPoint>,
}

impl Trend {
    /// The metric with the unit of its values, as charts and pages show it: `tp95 (µs)`,
    /// `error_rate (%)`, `tps (/s)`, or the bare metric for counts.
    pub fn value_label(&self) -> String {
        match self.value_unit {
            "" => self.metric.clone(),
            unit => format!("{} ({unit})", self.metric),
        }
    }
}

/// The trend of `metric` (named `metric_name`) of `scope` over `runs` (already selected), its
/// response times in the session's unit ([`QueryEngine::time_unit`]).
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
    let ids: Vec<String> = runs.iter().map(|r| r.run_id.to_string()).collect();
    let mut by_run = if engine.rollups_apply()? {
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        match scope_metrics_of_runs(engine, &refs, scope, percent, method).await {
            Ok(by_run) => by_run,
            // A store this process cannot write to (read-only) has no rollups to add.
            Err(e @ QueryError::RollupStore(_)) => {
                tracing::warn!("{e}; computing the trend from the samples");
                metrics_from_samples(engine, &ids, scope, percent, method).await?
            }
            Err(e) => return Err(e),
        }
    } else {
        metrics_from_samples(engine, &ids, scope, percent, method).await?
    };
    let mut points = Vec::with_capacity(runs.len());
    for (run, id) in runs.iter().zip(ids) {
        let m = by_run.remove(&id).unwrap_or_else(ScopeMetrics::empty);
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
    let (time_unit, value_unit) = if metric.is_response_time() {
        (engine.time_unit(), engine.time_unit().symbol())
    } else {
        (TimeUnit::Ms, metric.unit().trim_start())
    };
    Ok(Trend {
        metric: metric_name.to_string(),
        scope: scope.clone(),
        time_unit,
        value_unit,
        points,
    })
}

/// [`scope_metrics`] of each run of `ids`, one query per run over its samples.
async fn metrics_from_samples(
    engine: &QueryEngine,
    ids: &[String],
    scope: &Scope,
    percent: f64,
    method: PercentileMethod,
) -> Result<HashMap<String, ScopeMetrics>, QueryError> {
    let mut by_run = HashMap::with_capacity(ids.len());
    for id in ids {
        let m = scope_metrics(engine, id, scope, percent, method).await?;
        by_run.insert(id.clone(), m);
    }
    Ok(by_run)
}
