//! SLA checkpoints: rules on a run, a case or a request (average / min / max response time, any
//! percentile, success and error rate, TPS, request and error-class counts), each checked against
//! the numbers of its scope (`queries/scope_metrics.sql`). The rule file format (YAML, parsed by
//! the CLI) is documented in docs/sla.md.

use std::fmt;

use super::scope::{Scope, ScopeMetrics, scope_metrics};
use crate::QueryEngine;
use crate::error::QueryError;
use crate::functions::PercentileMethod;

/// A rule file: `rules:` and, optionally, the percentile method of `tpNN` metrics.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaSpec {
    pub rules: Vec<SlaRule>,
}

/// One rule as written: a metric of a scope with an upper (`max`) and/or lower (`min`) bound.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaRule {
    /// Shown in reports and as the JUnit testcase name; made up from the rule if absent.
    pub name: Option<String>,
    /// Thread group (case) name; absent = every case.
    pub case: Option<String>,
    /// Sampler or transaction label; absent = the whole case (or run).
    pub request: Option<String>,
    /// `avg_rt`, `min_rt`, `max_rt`, `tp90` / `tp999` (99.9) / `p99.9`, `success_rate`,
    /// `error_rate`, `tps`, `requests`, `errors`, `failed_assert`, `failed_timeout`,
    /// `failed_refused`, `failed_parsed`, `failed_others`.
    pub metric: String,
    /// Passes when the value is at most this.
    pub max: Option<f64>,
    /// Passes when the value is at least this.
    pub min: Option<f64>,
}

/// A metric a rule can check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    AvgRt,
    MinRt,
    MaxRt,
    /// A percentile of the response time, 0–100.
    Percentile(f64),
    SuccessRate,
    ErrorRate,
    Tps,
    Requests,
    Errors,
    FailedAssert,
    FailedTimeout,
    FailedRefused,
    FailedParsed,
    FailedOthers,
}

impl Metric {
    /// Reads a metric name. `tpNN` follows CodeArts (`tp999` = 99.9, `tp9999` = 99.99);
    /// `pNN` takes the percent as written (`p99.9`).
    pub fn parse(name: &str) -> Result<Metric, String> {
        let named = match name {
            "avg_rt" | "averageRespTime" => Some(Metric::AvgRt),
            "min_rt" | "min" => Some(Metric::MinRt),
            "max_rt" | "max" => Some(Metric::MaxRt),
            "success_rate" | "successRate" => Some(Metric::SuccessRate),
            "error_rate" | "errorRate" => Some(Metric::ErrorRate),
            "tps" => Some(Metric::Tps),
            "requests" => Some(Metric::Requests),
            "errors" | "errorCount" => Some(Metric::Errors),
            "failed_assert" | "failedAssert" => Some(Metric::FailedAssert),
            "failed_timeout" | "failedTimeout" => Some(Metric::FailedTimeout),
            "failed_refused" | "failedRefused" => Some(Metric::FailedRefused),
            "failed_parsed" | "failedParsed" => Some(Metric::FailedParsed),
            "failed_others" | "failedOthers" => Some(Metric::FailedOthers),
            _ => None,
        };
        if let Some(m) = named {
            return Ok(m);
        }
        let percent = if let Some(digits) = name.strip_prefix("tp") {
            codearts_percent(digits)
        } else {
            name.strip_prefix('p').and_then(|p| p.parse::<f64>().ok())
        };
        match percent {
            Some(p) if (0.0..=100.0).contains(&p) => Ok(Metric::Percentile(p)),
            _ => Err(format!(
                "unknown metric '{name}' (avg_rt, min_rt, max_rt, tp50 … tp9999, p99.9, success_rate, \
                 error_rate, tps, requests, errors, failed_assert, failed_timeout, failed_refused, \
                 failed_parsed, failed_others)"
            )),
        }
    }

    /// This metric's value in `m`.
    pub fn value(self, m: &ScopeMetrics) -> Option<f64> {
        let count = |n: u64| Some(n as f64);
        match self {
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

    /// The unit values of this metric are in, for messages.
    fn unit(self) -> &'static str {
        match self {
            Metric::AvgRt | Metric::MinRt | Metric::MaxRt | Metric::Percentile(_) => " ms",
            Metric::SuccessRate | Metric::ErrorRate => " %",
            Metric::Tps => "/s",
            _ => "",
        }
    }
}

/// `tp` digits the CodeArts way: `50` … `99` are percents, `999` is 99.9, `9999` is 99.99
/// (longer forms must start with 99).
fn codearts_percent(digits: &str) -> Option<f64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return digits.parse().ok();
    }
    if digits.len() <= 2 || digits == "100" {
        return digits.parse().ok();
    }
    if !digits.starts_with("99") {
        return None;
    }
    format!("{}.{}", &digits[..2], &digits[2..]).parse().ok()
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Metric::Percentile(p) => write!(f, "p{p}"),
            other => write!(f, "{}", format!("{other:?}").to_lowercase()),
        }
    }
}

/// A rule that was read and checked for sense, ready to evaluate.
#[derive(Debug, Clone)]
pub struct CheckedRule {
    pub name: String,
    pub scope: Scope,
    pub metric: Metric,
    pub metric_name: String,
    pub max: Option<f64>,
    pub min: Option<f64>,
}

impl SlaSpec {
    /// Checks every rule; errors name the rule (`rules[2]`) and the field.
    pub fn check(&self) -> Result<Vec<CheckedRule>, String> {
        if self.rules.is_empty() {
            return Err("rules: the list is empty".to_string());
        }
        self.rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let at = |field: &str, why: String| format!("rules[{i}].{field}: {why}");
                let metric = Metric::parse(&r.metric).map_err(|e| at("metric", e))?;
                if r.max.is_none() && r.min.is_none() {
                    return Err(at("max", "give `max`, `min` or both".to_string()));
                }
                if let (Some(lo), Some(hi)) = (r.min, r.max)
                    && lo > hi
                {
                    return Err(at("min", format!("{lo} is above max {hi}")));
                }
                for (field, v) in [("max", r.max), ("min", r.min)] {
                    if v.is_some_and(|v| !v.is_finite()) {
                        return Err(at(field, "must be a finite number".to_string()));
                    }
                }
                let scope = Scope::of(r.case.as_deref(), r.request.as_deref());
                let bounds = match (r.min, r.max) {
                    (Some(lo), Some(hi)) => format!("{lo} <= {} <= {hi}", r.metric),
                    (None, Some(hi)) => format!("{} <= {hi}", r.metric),
                    (Some(lo), _) => format!("{} >= {lo}", r.metric),
                    (None, None) => unreachable!("checked above"),
                };
                Ok(CheckedRule {
                    name: r
                        .name
                        .clone()
                        .unwrap_or_else(|| format!("{}: {bounds}", scope.describe())),
                    scope,
                    metric,
                    metric_name: r.metric.clone(),
                    max: r.max,
                    min: r.min,
                })
            })
            .collect()
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
    pub max: Option<f64>,
    pub min: Option<f64>,
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
/// not pass silently).
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
        results.push(judge(rule, &m));
    }
    Ok(SlaOutcome {
        passed: results.iter().all(|r| r.passed),
        results,
    })
}

/// The outcome of `rule` on the numbers `m` of its scope.
fn judge(rule: &CheckedRule, m: &ScopeMetrics) -> SlaResult {
    let actual = if m.requests == 0 {
        None
    } else {
        rule.metric.value(m)
    };
    let unit = rule.metric.unit();
    let (passed, message) = match actual {
        None if m.requests == 0 => (false, format!("no samples in {}", rule.scope.describe())),
        None => (false, format!("{} has no value", rule.metric_name)),
        Some(v) => {
            let over = rule.max.filter(|hi| v > *hi);
            let under = rule.min.filter(|lo| v < *lo);
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
        max: rule.max,
        min: rule.min,
        actual,
        samples: m.requests,
        passed,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_parse_codearts_and_percent_forms() {
        assert_eq!(Metric::parse("tp95"), Ok(Metric::Percentile(95.0)));
        assert_eq!(Metric::parse("tp999"), Ok(Metric::Percentile(99.9)));
        assert_eq!(Metric::parse("tp9999"), Ok(Metric::Percentile(99.99)));
        assert_eq!(Metric::parse("p99.9"), Ok(Metric::Percentile(99.9)));
        assert_eq!(Metric::parse("avg_rt"), Ok(Metric::AvgRt));
        assert!(Metric::parse("tp101").is_err());
        assert!(Metric::parse("latency").is_err());
    }

    fn spec(yamlish: Vec<SlaRule>) -> SlaSpec {
        SlaSpec { rules: yamlish }
    }

    fn rule(metric: &str, max: Option<f64>, min: Option<f64>) -> SlaRule {
        SlaRule {
            name: None,
            case: None,
            request: Some("Login".into()),
            metric: metric.into(),
            max,
            min,
        }
    }

    #[test]
    fn rules_without_bounds_or_with_unknown_metrics_are_refused_by_index() {
        let e = spec(vec![
            rule("tp95", Some(1.0), None),
            rule("tp95", None, None),
        ])
        .check()
        .unwrap_err();
        assert!(e.starts_with("rules[1].max"), "{e}");
        let e = spec(vec![rule("speed", Some(1.0), None)])
            .check()
            .unwrap_err();
        assert!(
            e.starts_with("rules[0].metric: unknown metric 'speed'"),
            "{e}"
        );
        let e = spec(vec![rule("tps", Some(1.0), Some(2.0))])
            .check()
            .unwrap_err();
        assert!(e.starts_with("rules[0].min"), "{e}");
    }

    fn metrics(requests: u64, avg: f64) -> ScopeMetrics {
        ScopeMetrics {
            requests,
            success_count: requests,
            error_count: 0,
            failed_assert: 0,
            failed_timeout: 0,
            failed_refused: 0,
            failed_parsed: 0,
            failed_others: 0,
            success_rate: Some(100.0),
            error_rate: Some(0.0),
            average_resp_time: Some(avg),
            min: Some(avg),
            max: Some(avg),
            percentile: Some(avg),
            tps: Some(1.0),
            start_time: Some(0),
            end_time: Some(1000),
        }
    }

    #[test]
    fn bounds_are_inclusive_and_empty_scopes_fail() {
        let rules = spec(vec![
            rule("avg_rt", Some(200.0), None),
            rule("avg_rt", None, Some(200.0)),
            rule("avg_rt", Some(199.0), None),
        ])
        .check()
        .unwrap();
        let m = metrics(10, 200.0);
        assert!(judge(&rules[0], &m).passed);
        assert!(judge(&rules[1], &m).passed);
        let failed = judge(&rules[2], &m);
        assert!(!failed.passed);
        assert_eq!(failed.message, "avg_rt 200.00 ms > max 199 ms");
        let empty = judge(&rules[0], &metrics(0, 0.0));
        assert!(!empty.passed);
        assert_eq!(empty.message, "no samples in Login");
        assert_eq!(rules[0].name, "Login: avg_rt <= 200");
    }
}
