//! SLA rule files (`loadlake report --sla rules.yaml`, docs/sla.md): the YAML format, its metric
//! names (CodeArts' `tp999`, `p99.9`, `avg_rt` …) and the scopes rules apply to, read and checked
//! for sense before any query runs. Evaluating rules on a run's numbers is the query crate's job
//! (`loadlake_query::reports::sla`); this module has no query engine, so fuzzing it is cheap.

use std::fmt;
use std::path::Path;

/// An SLA rule file that could not be read, parsed or checked; messages name the file and the
/// rule (`rules[2].metric`) or the YAML line.
#[derive(Debug, thiserror::Error)]
pub enum SlaError {
    /// The file could not be read.
    #[error("reading SLA rules {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not YAML of the rule-file shape (the message has the line and column).
    #[error("{path}: not a valid SLA rule file: {message}")]
    Syntax {
        /// The file (or what the text came from).
        path: String,
        /// The YAML parser's message.
        message: String,
    },
    /// A rule that makes no sense (unknown metric, no bounds, min above max …).
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// `rules[i].field: why`.
        message: String,
    },
}

/// Reads and checks the rule file at `path`.
pub fn read_rules(path: &Path) -> Result<Vec<CheckedRule>, SlaError> {
    let text = std::fs::read_to_string(path).map_err(|source| SlaError::Io {
        path: path.display().to_string(),
        source,
    })?;
    rules_from_yaml(&text, &path.display().to_string())
}

/// Parses and checks rule-file text; `origin` names it in errors.
pub fn rules_from_yaml(text: &str, origin: &str) -> Result<Vec<CheckedRule>, SlaError> {
    let spec: SlaSpec = serde_saphyr::from_str(text).map_err(|e| SlaError::Syntax {
        path: origin.to_string(),
        message: e.to_string(),
    })?;
    spec.check().map_err(|message| SlaError::Invalid {
        path: origin.to_string(),
        message,
    })
}

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

    /// Whether this metric is a response time (avg, min, max, a percentile): its thresholds
    /// are ms in a rule file.
    pub fn is_response_time(self) -> bool {
        matches!(
            self,
            Metric::AvgRt | Metric::MinRt | Metric::MaxRt | Metric::Percentile(_)
        )
    }

    /// The unit values of this metric are in, for messages (response times: ms as in rule
    /// files).
    pub fn unit(self) -> &'static str {
        match self {
            _ if self.is_response_time() => " ms",
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

/// Which rows of a run a number is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(tag = "scope", rename_all = "camelCase")]
pub enum Scope {
    /// Every top-level sample (the report's outline).
    Run,
    /// A thread group's top-level samples (the report's `case` row).
    Case { case: String },
    /// One sampler or transaction label, in one case or in all (the `request` /
    /// `transaction` rows).
    Request {
        case: Option<String>,
        request: String,
    },
}

impl Scope {
    /// The scope of an optional case and an optional request.
    pub fn of(case: Option<&str>, request: Option<&str>) -> Scope {
        match (case, request) {
            (case, Some(request)) => Scope::Request {
                case: case.map(str::to_string),
                request: request.to_string(),
            },
            (Some(case), None) => Scope::Case {
                case: case.to_string(),
            },
            (None, None) => Scope::Run,
        }
    }

    /// `run`, `Thread Group`, `Thread Group / Login`, `Login`.
    pub fn describe(&self) -> String {
        match self {
            Scope::Run => "run".to_string(),
            Scope::Case { case } => case.clone(),
            Scope::Request {
                case: Some(case),
                request,
            } => format!("{case} / {request}"),
            Scope::Request {
                case: None,
                request,
            } => request.clone(),
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

    #[test]
    fn a_file_with_a_bad_rule_names_the_file_and_the_rule() {
        let text = "rules:\n  - request: Login\n    metric: tp95\n    max: 500\n  - metric: speed\n    max: 1\n";
        let e = rules_from_yaml(text, "sla.yaml").unwrap_err().to_string();
        assert!(
            e.starts_with("sla.yaml: rules[1].metric: unknown metric 'speed'"),
            "{e}"
        );
        let ok = rules_from_yaml("rules:\n  - metric: tp999\n    max: 800\n", "s").unwrap();
        assert_eq!(ok[0].metric, Metric::Percentile(99.9));
        assert_eq!(ok[0].scope, Scope::Run);
        assert_eq!(ok[0].name, "run: tp999 <= 800");
        let e = rules_from_yaml("rules:\n  - metric: tp95\n    maxx: 1\n", "s").unwrap_err();
        assert!(matches!(e, SlaError::Syntax { .. }), "{e}");
    }
}
