//! SLA checkpoints: rules on a run, a case or a request (average / min / max response time, any
//! percentile, success and error rate, TPS, request and error-class counts), each checked against
//! the numbers of its scope (`queries/scope_metrics.sql`). The rule file format (YAML, parsed by
//! the CLI) is documented in docs/sla.md.

pub use loadlake_plan::sla::{
    CheckedRule, Metric, SlaError, SlaRule, SlaSpec, read_rules, rules_from_yaml,
};

use super::scope::{Scope, ScopeMetrics, scope_metrics};
use crate::error::QueryError;
use crate::functions::PercentileMethod;
use crate::{QueryEngine, TimeUnit};

/// The value of `metric` in `m`.
pub fn metric_value(metric: Metric, m: &ScopeMetrics) -> Option<f64> {
    let count = |n: u64| Some(n as f64);
    match metric {
        Metric::AvgRt => m.average_resp_time,
        Metric::MinRt => m.min,
        Metric::MaxRt => m.max,
        Metric::Percentile(_) => m.percentile,
        Metric::SuccessRate => m.success_rate,
        Metric::ErrorRate => m.error_rate,
        Metric::Tps => m.tps,
        Metric::Requests => count(m.requests),
        Metric::Errors => count(m.error_count),
        Metric::FailedAssert => count(m.failed_assert),
        Metric::FailedTimeout => count(m.failed_timeout),
        Metric::FailedRefused => count(m.failed_refused),
        Metric::FailedParsed => count(m.failed_parsed),
        Metric::FailedOthers => count(m.failed_others),
    }
}

/// One rule's outcome (CodeArts' checkpoint / check result pair).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaResult {
    pub name: String,
    #[serde(flatten)]
    pub scope: Scope,
    pub metric: String,
    /// The rule's bounds, in `unit` (response times in a µs session: the rule's ms × 1000).
    pub max: Option<f64>,
    pub min: Option<f64>,
    /// The unit of `actual`, `max` and `min`: `ms` or `µs` (response times), `%`, `/s`, or
    /// empty (counts).
    pub unit: String,
    /// The measured value (`None` when the scope has no samples).
    pub actual: Option<f64>,
    /// Samples in the scope.
    pub samples: u64,
    pub passed: bool,
    pub message: String,
}

impl SlaResult {
    /// `run`, a case, or `case / request`.
    pub fn scope_description(&self) -> String {
        self.scope.describe()
    }
}

/// Every rule's outcome; `passed` when all passed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaOutcome {
    pub passed: bool,
    pub results: Vec<SlaResult>,
}

/// Checks `rules` on `run_id`. A rule whose scope has no samples fails (a misspelt request must
/// not pass silently). In a µs session ([`QueryEngine::use_microseconds`]) response times are
/// compared in µs with the rule's ms thresholds converted exactly ([`TimeUnit::from_ms`]), and
/// the result's `actual`, `min`, `max` and message are in µs.
pub async fn evaluate(
    engine: &QueryEngine,
    run_id: &str,
    rules: &[CheckedRule],
    method: PercentileMethod,
) -> Result<SlaOutcome, QueryError> {
    let mut results = Vec::with_capacity(rules.len());
    for rule in rules {
        let percent = match rule.metric {
            Metric::Percentile(p) => p,
            _ => 50.0,
        };
        let m = scope_metrics(engine, run_id, &rule.scope, percent, method).await?;
        results.push(judge(rule, &m, engine.time_unit()));
    }
    Ok(SlaOutcome {
        passed: results.iter().all(|r| r.passed),
        results,
    })
}

/// The outcome of `rule` on the numbers `m` of its scope, whose response times are in `time`.
fn judge(rule: &CheckedRule, m: &ScopeMetrics, time: TimeUnit) -> SlaResult {
    let actual = if m.requests == 0 {
        None
    } else {
        metric_value(rule.metric, m)
    };
    let (unit, max, min) = if rule.metric.is_response_time() && !time.is_ms() {
        let convert = |ms: Option<f64>| ms.map(|ms| time.from_ms(ms));
        (" µs", convert(rule.max), convert(rule.min))
    } else {
        (rule.metric.unit(), rule.max, rule.min)
    };
    let (passed, message) = match actual {
        None if m.requests == 0 => (false, format!("no samples in {}", rule.scope.describe())),
        None => (false, format!("{} has no value", rule.metric_name)),
        Some(v) => {
            let over = max.filter(|hi| v > *hi);
            let under = min.filter(|lo| v < *lo);
            match (over, under) {
                (Some(hi), _) => (
                    false,
                    format!("{} {v:.2}{unit} > max {hi}{unit}", rule.metric_name),
                ),
                (_, Some(lo)) => (
                    false,
                    format!("{} {v:.2}{unit} < min {lo}{unit}", rule.metric_name),
                ),
                _ => (
                    true,
                    format!("{} {v:.2}{unit} within bounds", rule.metric_name),
                ),
            }
        }
    };
    SlaResult {
        name: rule.name.clone(),
        scope: rule.scope.clone(),
        metric: rule.metric_name.clone(),
        max,
        min,
        unit: unit.trim_start().to_string(),
        actual,
        samples: m.requests,
        passed,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(requests: u64, avg: f64) -> ScopeMetrics {
        ScopeMetrics {
            requests,
            success_count: requests,
            success_rate: Some(100.0),
            error_rate: Some(0.0),
            average_resp_time: Some(avg),
            min: Some(avg),
            max: Some(avg),
            percentile: Some(avg),
            tps: Some(1.0),
            start_time: Some(0),
            end_time: Some(1000),
            ..ScopeMetrics::empty()
        }
    }

    #[test]
    fn bounds_are_inclusive_and_empty_scopes_fail() {
        let rules = rules_from_yaml(
            "rules:
  - { request: Login, metric: avg_rt, max: 200 }
  - { request: Login, metric: avg_rt, min: 200 }
  - { request: Login, metric: avg_rt, max: 199 }
",
            "sla.yaml",
        )
        .unwrap();
        let m = metrics(10, 200.0);
        assert!(judge(&rules[0], &m, TimeUnit::Ms).passed);
        assert!(judge(&rules[1], &m, TimeUnit::Ms).passed);
        let failed = judge(&rules[2], &m, TimeUnit::Ms);
        assert!(!failed.passed);
        assert_eq!(failed.message, "avg_rt 200.00 ms > max 199 ms");
        let empty = judge(&rules[0], &metrics(0, 0.0), TimeUnit::Ms);
        assert!(!empty.passed);
        assert_eq!(empty.message, "no samples in Login");
        assert_eq!(rules[0].name, "Login: avg_rt <= 200");
    }

    #[test]
    fn microsecond_sessions_compare_to_the_rules_ms_converted_exactly() {
        let rules = rules_from_yaml(
            "rules:
  - { request: Login, metric: avg_rt, max: 1.005 }
  - { request: Login, metric: avg_rt, max: 1.004 }
  - { request: Login, metric: success_rate, min: 99.5 }
",
            "sla.yaml",
        )
        .unwrap();
        // 1005 µs: within 1.005 ms (whose binary product by 1000 is 1004.9999999999999).
        let m = metrics(10, 1005.0);
        let within = judge(&rules[0], &m, TimeUnit::Us);
        assert!(within.passed, "{}", within.message);
        assert_eq!(within.max, Some(1005.0));
        assert_eq!(within.message, "avg_rt 1005.00 µs within bounds");
        let over = judge(&rules[1], &m, TimeUnit::Us);
        assert!(!over.passed);
        assert_eq!(over.message, "avg_rt 1005.00 µs > max 1004 µs");
        // Not a response time: as written.
        let rate = judge(&rules[2], &m, TimeUnit::Us);
        assert_eq!((rate.min, rate.passed), (Some(99.5), true));
        assert_eq!(rate.message, "success_rate 100.00 % within bounds");
    }
}
