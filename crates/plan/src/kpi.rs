//! KPI rules for the peak-seeking modes (CodeArts `peak_load_kpis`): `avg_rt<=200ms`,
//! `p95<500ms`, `success_rate>=99.5%`, `error_rate<=1%`, `tps>=100`. A rule is met by one window
//! of samples (a step of the ramp) when the metric compares as written. A [`StopRule`] is the
//! same comparison read the other way — the run stops when it holds — over a sustained time:
//! `p95>500ms for 10s`.

use std::fmt;
use std::str::FromStr;

/// What a rule measures over a window of samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KpiMetric {
    /// Mean elapsed time, ms.
    AvgRt,
    /// Exact percentile of the elapsed time (50, 90, 95, 99), ms.
    Percentile(u8),
    /// Largest elapsed time, ms.
    MaxRt,
    /// Successful samples over all, percent.
    SuccessRate,
    /// Failed samples over all, percent.
    ErrorRate,
    /// Samples per second.
    Tps,
}

impl KpiMetric {
    fn parse(name: &str) -> Option<KpiMetric> {
        Some(match name {
            "avg_rt" | "rt" => KpiMetric::AvgRt,
            "max_rt" => KpiMetric::MaxRt,
            "success_rate" => KpiMetric::SuccessRate,
            "error_rate" => KpiMetric::ErrorRate,
            "tps" => KpiMetric::Tps,
            p => match p.strip_prefix('p')?.parse::<u8>().ok()? {
                n @ (50 | 90 | 95 | 99) => KpiMetric::Percentile(n),
                _ => return None,
            },
        })
    }

    fn is_time(self) -> bool {
        matches!(
            self,
            KpiMetric::AvgRt | KpiMetric::Percentile(_) | KpiMetric::MaxRt
        )
    }

    fn is_rate(self) -> bool {
        matches!(self, KpiMetric::SuccessRate | KpiMetric::ErrorRate)
    }
}

/// How the measured value must compare with the rule's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    AtMost,
    Below,
    AtLeast,
    Above,
}

impl Comparison {
    /// Whether `measured` passes against `limit`.
    pub fn holds(self, measured: f64, limit: f64) -> bool {
        match self {
            Comparison::AtMost => measured <= limit,
            Comparison::Below => measured < limit,
            Comparison::AtLeast => measured >= limit,
            Comparison::Above => measured > limit,
        }
    }
}

/// One rule, e.g. `p95<=500ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct Kpi {
    pub metric: KpiMetric,
    pub comparison: Comparison,
    /// The limit in the metric's unit (ms, percent, per second).
    pub limit: f64,
    /// The rule as written.
    pub text: String,
}

impl fmt::Display for Kpi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Kpi {
    type Err = String;

    fn from_str(text: &str) -> Result<Kpi, String> {
        let s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let (at, op_len, comparison) = [
            ("<=", Comparison::AtMost),
            (">=", Comparison::AtLeast),
            ("<", Comparison::Below),
            (">", Comparison::Above),
        ]
        .iter()
        .find_map(|(op, c)| s.find(op).map(|i| (i, op.len(), *c)))
        .ok_or_else(|| format!("KPI '{text}': expected NAME<=VALUE (or <, >=, >)"))?;
        let (name, value) = (&s[..at], &s[at + op_len..]);
        let metric = KpiMetric::parse(&name.to_ascii_lowercase()).ok_or_else(|| {
            format!(
                "KPI '{text}': unknown metric '{name}' (avg_rt, p50, p90, p95, p99, max_rt, \
                 success_rate, error_rate, tps)"
            )
        })?;
        let (number, scale) = if metric.is_time() {
            if let Some(n) = value.strip_suffix("ms") {
                (n, 1.0)
            } else if let Some(n) = value.strip_suffix('s') {
                (n, 1000.0)
            } else {
                (value, 1.0)
            }
        } else if metric.is_rate() {
            (value.strip_suffix('%').unwrap_or(value), 1.0)
        } else {
            (value, 1.0)
        };
        let limit = number
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("KPI '{text}': '{value}' is not a number ≥ 0"))?
            * scale;
        if metric.is_rate() && limit > 100.0 {
            return Err(format!("KPI '{text}': a rate is a percentage, at most 100"));
        }
        Ok(Kpi {
            metric,
            comparison,
            limit,
            text: text.trim().to_string(),
        })
    }
}

/// A live stop rule: when `condition` holds in every one-second window for `sustained`, the
/// run stops (`p95>500ms for 10s`, `error_rate>5%`; without `for`, one second).
#[derive(Debug, Clone, PartialEq)]
pub struct StopRule {
    pub condition: Kpi,
    /// Whole seconds, at least 1.
    pub sustained_secs: u32,
    /// The rule as written.
    pub text: String,
}

impl fmt::Display for StopRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for StopRule {
    type Err = String;

    fn from_str(text: &str) -> Result<StopRule, String> {
        let (condition, sustained) = match text.split_once(" for ") {
            Some((c, d)) => (c, Some(d.trim())),
            None => (text, None),
        };
        let sustained_secs = match sustained {
            Some(d) => {
                let d = crate::parse_duration(d).map_err(|e| format!("stop rule '{text}': {e}"))?;
                u32::try_from(d.as_secs().max(1)).unwrap_or(u32::MAX)
            }
            None => 1,
        };
        Ok(StopRule {
            condition: condition
                .parse()
                .map_err(|e: String| e.replacen("KPI", "stop rule", 1))?,
            sustained_secs,
            text: text.trim().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_with_units() {
        let k: Kpi = "avg_rt <= 200ms".parse().unwrap();
        assert_eq!(
            (k.metric, k.comparison, k.limit),
            (KpiMetric::AvgRt, Comparison::AtMost, 200.0)
        );
        let k: Kpi = "p95<0.5s".parse().unwrap();
        assert_eq!((k.metric, k.limit), (KpiMetric::Percentile(95), 500.0));
        let k: Kpi = "success_rate>=99.5%".parse().unwrap();
        assert_eq!(
            (k.metric, k.comparison, k.limit),
            (KpiMetric::SuccessRate, Comparison::AtLeast, 99.5)
        );
        assert_eq!("tps>100".parse::<Kpi>().unwrap().limit, 100.0);
        assert!(Comparison::AtMost.holds(200.0, 200.0));
        assert!(!Comparison::Below.holds(200.0, 200.0));
    }

    #[test]
    fn stop_rules_have_a_sustained_time() {
        let r: StopRule = "p95 > 500ms for 10s".parse().unwrap();
        assert_eq!(
            (
                r.condition.metric,
                r.condition.comparison,
                r.condition.limit,
                r.sustained_secs
            ),
            (KpiMetric::Percentile(95), Comparison::Above, 500.0, 10)
        );
        assert_eq!(
            "error_rate>5%".parse::<StopRule>().unwrap().sustained_secs,
            1
        );
        let e = "p95>1s for ever".parse::<StopRule>().unwrap_err();
        assert!(e.starts_with("stop rule 'p95>1s for ever': 'ever'"), "{e}");
        assert!(
            "rt?1"
                .parse::<StopRule>()
                .unwrap_err()
                .starts_with("stop rule 'rt?1'")
        );
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        let e = |t: &str| t.parse::<Kpi>().unwrap_err();
        assert!(e("avg_rt=200").contains("expected NAME<=VALUE"));
        assert!(e("p97<=1s").contains("unknown metric 'p97'"));
        assert!(e("avg_rt<=fast").contains("'fast' is not a number"));
        assert!(e("error_rate<=101%").contains("at most 100"));
    }
}
