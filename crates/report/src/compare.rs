//! Comparison of two runs' reports: per case / request / transaction, each headline metric's
//! delta and relative change, judged with a noise threshold and a minimum sample count.
//! Percentiles compared are each run's exact ones (from its full histogram), never estimates.
//! Times are in the unit both reports were computed in (ms, or µs in a µs session), which the
//! comparison names ([`Comparison::time_unit`]).

use loadlake_query::TimeUnit;
use loadlake_query::reports::run_report::{DetailData, RunReport};

/// How changes are judged.
#[derive(Debug, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompareOptions {
    /// A time or throughput change smaller than this (percent of the baseline) is noise.
    pub threshold_pct: f64,
    /// A success-rate change smaller than this many percentage points is noise.
    pub rate_threshold_points: f64,
    /// Rows with fewer samples than this in either run are not judged.
    pub min_samples: u64,
}

/// A run as the comparison names it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRef {
    pub run_id: String,
    pub name: String,
}

/// What a change means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Worse by more than the threshold.
    Regression,
    /// Better by more than the threshold.
    Improvement,
    /// Within the threshold.
    Same,
    /// Too few samples in one of the runs (or no value) to judge.
    Insufficient,
    /// The row exists in one run only.
    Missing,
}

/// One metric of one row.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompareRow {
    pub level: String,
    pub case_name: String,
    pub name: String,
    pub metric: &'static str,
    pub baseline: Option<f64>,
    pub candidate: Option<f64>,
    /// candidate − baseline.
    pub delta: Option<f64>,
    /// delta / baseline × 100 (`None` when the baseline is 0 or absent).
    pub delta_pct: Option<f64>,
    pub verdict: Verdict,
    pub baseline_samples: u64,
    pub candidate_samples: u64,
}

/// The comparison of two runs.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    pub baseline: RunRef,
    pub candidate: RunRef,
    #[serde(flatten)]
    pub options: CompareOptions,
    pub regressions: usize,
    pub improvements: usize,
    /// The unit of the time metrics (`averageRespTime`, `tp50` … `tp99`) and their deltas:
    /// the reports'; `timeUnit` in JSON, absent in ms (as the run report's).
    #[serde(skip_serializing_if = "TimeUnit::is_ms")]
    pub time_unit: TimeUnit,
    pub rows: Vec<CompareRow>,
}

impl Comparison {
    /// Whether `metric` (a [`CompareRow::metric`]) is a response time, in [`Comparison::time_unit`].
    pub fn is_time(metric: &str) -> bool {
        METRICS
            .iter()
            .any(|(name, _, better)| *name == metric && matches!(better, Better::Lower))
    }

    /// `metric` with its unit if it is a time (`tp95 (µs)`, `tp95 (ms)`), else as it is: what
    /// the HTML page shows.
    pub fn metric_with_unit(&self, metric: &str) -> String {
        if Comparison::is_time(metric) {
            format!("{metric} ({})", self.time_unit.symbol())
        } else {
            metric.to_string()
        }
    }

    /// `metric` as the text table shows it: with its unit when that is not ms (ms tables read
    /// as before).
    pub fn metric_label(&self, metric: &str) -> String {
        if self.time_unit.is_ms() {
            metric.to_string()
        } else {
            self.metric_with_unit(metric)
        }
    }
}

/// Which way is better.
#[derive(Clone, Copy)]
enum Better {
    Lower,
    Higher,
    /// Higher, judged in percentage points.
    HigherPoints,
}

type Getter = fn(&DetailData) -> Option<f64>;

/// The metrics compared, in order.
const METRICS: [(&str, Getter, Better); 7] = [
    ("averageRespTime", |d| d.average_resp_time, Better::Lower),
    ("tp50", |d| d.tp50, Better::Lower),
    ("tp90", |d| d.tp90, Better::Lower),
    ("tp95", |d| d.tp95, Better::Lower),
    ("tp99", |d| d.tp99, Better::Lower),
    ("tps", |d| d.tps, Better::Higher),
    ("successRate", |d| d.success_rate, Better::HigherPoints),
];

/// Compares every row (case, request, transaction) of `candidate` with the same row of
/// `baseline`; rows of only one run are listed as `missing`. Times are in the baseline report's
/// unit (both reports come from one session, so one unit).
pub fn compare(
    baseline: (&RunRef, &RunReport),
    candidate: (&RunRef, &RunReport),
    options: CompareOptions,
) -> Comparison {
    let key = |d: &DetailData| (d.level.clone(), d.case_name.clone(), d.name.clone());
    let mut rows = Vec::new();
    for b in &baseline.1.details {
        let c = candidate.1.details.iter().find(|c| key(c) == key(b));
        for (metric, get, better) in METRICS {
            rows.push(judge(b, c, metric, get, better, &options));
        }
    }
    for c in &candidate.1.details {
        if !baseline.1.details.iter().any(|b| key(b) == key(c)) {
            for (metric, get, _) in METRICS {
                rows.push(row(
                    c,
                    metric,
                    None,
                    get(c),
                    Verdict::Missing,
                    0,
                    c.requests,
                ));
            }
        }
    }
    Comparison {
        baseline: baseline.0.clone(),
        candidate: candidate.0.clone(),
        options,
        regressions: rows
            .iter()
            .filter(|r| r.verdict == Verdict::Regression)
            .count(),
        improvements: rows
            .iter()
            .filter(|r| r.verdict == Verdict::Improvement)
            .count(),
        time_unit: baseline.1.time_unit,
        rows,
    }
}

fn judge(
    b: &DetailData,
    c: Option<&DetailData>,
    metric: &'static str,
    get: Getter,
    better: Better,
    o: &CompareOptions,
) -> CompareRow {
    let Some(c) = c else {
        return row(b, metric, get(b), None, Verdict::Missing, b.requests, 0);
    };
    let (bv, cv) = (get(b), get(c));
    let verdict = match (bv, cv) {
        (Some(bv), Some(cv)) if b.requests >= o.min_samples && c.requests >= o.min_samples => {
            // Positive `worse` means the candidate is worse, in the unit the threshold is in.
            let (worse, threshold) = match better {
                Better::Lower => (relative(bv, cv), o.threshold_pct),
                Better::Higher => (relative(bv, cv).map(|r| -r), o.threshold_pct),
                Better::HigherPoints => (Some(bv - cv), o.rate_threshold_points),
            };
            match worse {
                Some(w) if w > threshold => Verdict::Regression,
                Some(w) if w < -threshold => Verdict::Improvement,
                Some(_) => Verdict::Same,
                // A zero baseline: any change of a time is a regression of unknown size.
                None if cv > bv && matches!(better, Better::Lower) => Verdict::Regression,
                None => Verdict::Same,
            }
        }
        _ => Verdict::Insufficient,
    };
    row(b, metric, bv, cv, verdict, b.requests, c.requests)
}

/// (candidate − baseline) / baseline × 100; `None` for a zero baseline.
fn relative(baseline: f64, candidate: f64) -> Option<f64> {
    (baseline != 0.0).then(|| (candidate - baseline) / baseline * 100.0)
}

fn row(
    d: &DetailData,
    metric: &'static str,
    baseline: Option<f64>,
    candidate: Option<f64>,
    verdict: Verdict,
    baseline_samples: u64,
    candidate_samples: u64,
) -> CompareRow {
    let delta = baseline.zip(candidate).map(|(b, c)| c - b);
    CompareRow {
        level: d.level.clone(),
        case_name: d.case_name.clone(),
        name: d.name.clone(),
        metric,
        baseline,
        candidate,
        delta,
        delta_pct: baseline.zip(candidate).and_then(|(b, c)| relative(b, c)),
        verdict,
        baseline_samples,
        candidate_samples,
    }
}
