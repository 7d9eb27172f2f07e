//! The jobs across runs: the comparison of two runs ([`compare_job`]) and the trend of one
//! metric over the runs that share a name or a tag ([`trend_job`]), from typed requests.
//! `loadlake compare` / `loadlake trend` and the JSON API's `/api/v1/compare` /
//! `/api/v1/trend` both call these, so a comparison or a trend is computed (and serialised:
//! [`Comparison`] and [`Trend`] are the JSON both print) one way whichever front end asks.

use loadlake_query::QueryEngine;
use loadlake_query::functions::PercentileMethod;
use loadlake_query::reports::run_report::{DEFAULT_RANGES, RunReport, run_report};
use loadlake_query::reports::scope::Scope;
use loadlake_query::reports::sla::Metric;
use loadlake_query::reports::trend::{Trend, trend};
use loadlake_schema::RunManifest;
use loadlake_store::{NameMatch, RunFilter, Store, parse_tag};

use crate::compare::{CompareOptions, Comparison, RunRef, compare};
use crate::job::JobError;

impl CompareOptions {
    /// The defaults of `loadlake compare` and `/api/v1/compare`: 10 % for times and TPS,
    /// 1 point of success rate, 30 samples.
    pub const DEFAULT: CompareOptions = CompareOptions {
        threshold_pct: 10.0,
        rate_threshold_points: 1.0,
        min_samples: 30,
    };

    /// Refuses thresholds that are negative or not numbers.
    pub fn check(&self) -> Result<(), JobError> {
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        if !ok(self.threshold_pct) || !ok(self.rate_threshold_points) {
            return Err(JobError::Request(
                "the thresholds must be numbers of 0 or more".into(),
            ));
        }
        Ok(())
    }
}

impl Default for CompareOptions {
    fn default() -> CompareOptions {
        CompareOptions::DEFAULT
    }
}

/// Refuses a percentile method that is not exact (JMeter's dashboard estimate).
fn exact(method: PercentileMethod) -> Result<PercentileMethod, JobError> {
    if method == PercentileMethod::Legacy {
        return Err(JobError::Request(
            "the percentile method must be nearest-rank, linear or jmeter-aggregate".into(),
        ));
    }
    Ok(method)
}

/// Compares run `candidate` with run `baseline` (both committed runs of the engine's store):
/// each run's report with `method`, then [`compare`] with `options`.
pub async fn compare_job(
    engine: &QueryEngine,
    baseline: &RunManifest,
    candidate: &RunManifest,
    method: PercentileMethod,
    options: CompareOptions,
) -> Result<Comparison, JobError> {
    let method = exact(method)?;
    options.check()?;
    let base = side(engine, baseline, method).await?;
    let cand = side(engine, candidate, method).await?;
    Ok(compare((&base.0, &base.1), (&cand.0, &cand.1), options))
}

/// One side of a comparison: the run as named, and its report.
async fn side(
    engine: &QueryEngine,
    run: &RunManifest,
    method: PercentileMethod,
) -> Result<(RunRef, RunReport), JobError> {
    let run_id = run.run_id.to_string();
    let report = run_report(engine, &run_id, method, &[], &DEFAULT_RANGES, None).await?;
    let reference = RunRef {
        run_id,
        name: run.name.clone(),
    };
    Ok((reference, report))
}

/// What a trend is asked for: the runs (by name and / or tag, the newest `last`), the metric
/// and the scope.
#[derive(Debug, Clone)]
pub struct TrendRequest {
    /// Runs with exactly this name.
    pub name: Option<String>,
    /// Runs with this tag, `KEY=VALUE`.
    pub tag: Option<String>,
    /// The metric's name as SLA rules write it (`avg_rt`, `tp95`, `p99.9`, `error_rate`, …).
    pub metric: String,
    /// Only this case (thread group).
    pub case: Option<String>,
    /// Only this request or transaction label.
    pub request: Option<String>,
    /// The newest this many matching runs.
    pub last: usize,
    /// The exact percentile method of a percentile metric.
    pub method: PercentileMethod,
}

impl TrendRequest {
    /// Runs a trend covers when the caller does not say.
    pub const DEFAULT_LAST: usize = 50;

    /// The scope the request names (the run, a case, or a request).
    pub fn scope(&self) -> Scope {
        Scope::of(self.case.as_deref(), self.request.as_deref())
    }
}

/// The trend `request` asks for, over the committed runs of `store` (oldest first).
pub async fn trend_job(
    engine: &QueryEngine,
    store: &Store,
    request: &TrendRequest,
) -> Result<Trend, JobError> {
    let metric =
        Metric::parse(&request.metric).map_err(|e| JobError::Request(format!("metric: {e}")))?;
    let method = exact(request.method)?;
    if request.last == 0 {
        return Err(JobError::Request(
            "the number of runs must be at least 1".into(),
        ));
    }
    if request.name.is_none() && request.tag.is_none() {
        return Err(JobError::Request(
            "a trend needs a run name or a tag".into(),
        ));
    }
    let tags = match request.tag.as_deref() {
        Some(tag) => vec![parse_tag(tag).map_err(|e| JobError::Request(e.to_string()))?],
        None => Vec::new(),
    };
    let filter = RunFilter {
        name: request.name.clone().map(NameMatch::Exact),
        tags,
        last: Some(request.last),
        ..RunFilter::default()
    };
    let runs = store.select_runs(&filter)?;
    if runs.is_empty() {
        return Err(JobError::NoRuns(
            "no run matches the name / tag (see `loadlake runs`)".into(),
        ));
    }
    let runs: Vec<&RunManifest> = runs.iter().collect();
    let scope = request.scope();
    Ok(trend(engine, &runs, &scope, metric, &request.metric, method).await?)
}
