//! JMeter dashboard tables besides Statistics: APDEX, Errors, Top 5 errors by sampler, as
//! JMeter 5.6.3 computes them (`ApdexSummaryConsumer`, `ErrorsSummaryConsumer` and
//! `Top5ErrorsBySamplerConsumer` in apache/jmeter, package `org.apache.jmeter.report.processor`);
//! definitions in docs/metrics.md.

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int64Type;
use datafusion::scalar::ScalarValue;
use regex::Regex;

use super::{f64_column, string_column};
use crate::QueryEngine;
use crate::error::QueryError;

/// APDEX thresholds: global, and JMeter's per-label overrides (first match wins; the regex must
/// match the whole label).
#[derive(Debug, Clone)]
pub struct ApdexThresholds {
    pub satisfied_ms: i64,
    pub tolerated_ms: i64,
    pub per_label: Vec<(Regex, i64, i64)>,
}

impl ApdexThresholds {
    /// JMeter's default `jmeter.reportgenerator.apdex_satisfied_threshold`, ms.
    pub const JMETER_SATISFIED_MS: i64 = 500;
    /// JMeter's default `jmeter.reportgenerator.apdex_tolerated_threshold`, ms.
    pub const JMETER_TOLERATED_MS: i64 = 1500;

    /// JMeter's defaults ([`Self::JMETER_SATISFIED_MS`], [`Self::JMETER_TOLERATED_MS`]), no
    /// per-label overrides.
    pub fn jmeter_defaults() -> ApdexThresholds {
        ApdexThresholds {
            satisfied_ms: Self::JMETER_SATISFIED_MS,
            tolerated_ms: Self::JMETER_TOLERATED_MS,
            per_label: Vec::new(),
        }
    }

    /// Parses JMeter's `apdex_per_transaction` syntax: `name_or_regex:satisfied|tolerated;…`.
    pub fn parse_overrides(spec: &str) -> Result<Vec<(Regex, i64, i64)>, String> {
        spec.split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|entry| {
                let bad = || format!("'{entry}': expected name_or_regex:satisfied|tolerated");
                let (pattern, values) = entry.rsplit_once(':').ok_or_else(bad)?;
                let (s, t) = values.split_once('|').ok_or_else(bad)?;
                let s: i64 = s.trim().parse().map_err(|_| bad())?;
                let t: i64 = t.trim().parse().map_err(|_| bad())?;
                let re = Regex::new(&format!("^(?:{pattern})$"))
                    .map_err(|e| format!("'{pattern}': {e}"))?;
                Ok((re, s, t))
            })
            .collect()
    }

    fn for_label(&self, label: &str, total_row: bool) -> (i64, i64) {
        if total_row {
            return (self.satisfied_ms, self.tolerated_ms);
        }
        self.per_label
            .iter()
            .find(|(re, _, _)| re.is_match(label))
            .map(|(_, s, t)| (*s, *t))
            .unwrap_or((self.satisfied_ms, self.tolerated_ms))
    }
}

/// One APDEX row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApdexRow {
    pub label: String,
    /// (satisfied + tolerated / 2) / samples.
    pub apdex: f64,
    pub satisfied_threshold: i64,
    pub tolerated_threshold: i64,
    pub samples: u64,
}

/// One row of the Errors table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorRow {
    pub error: String,
    pub errors: u64,
    pub percent_in_errors: f64,
    pub percent_in_all_samples: f64,
}

/// One row of Top 5 errors by sampler.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Top5Row {
    pub label: String,
    pub samples: u64,
    pub errors: u64,
    pub top: Vec<(String, u64)>,
}

/// APDEX per label and Total. The thresholds are ms whatever the session's unit (the rows
/// show them in ms); in a µs session samples are judged to the µs.
pub async fn apdex(
    engine: &QueryEngine,
    run_id: &str,
    t: &ApdexThresholds,
) -> Result<Vec<ApdexRow>, QueryError> {
    let (_, batches) = engine
        .sql_with_params(
            crate::queries::JMETER_APDEX,
            vec![ScalarValue::Utf8(Some(run_id.to_string()))],
        )
        .await?;
    // The thresholds are ms; the session's times may be µs (then a 500.4 ms sample is not
    // satisfied by 500 ms, as it is in whole ms).
    let scale = engine.time_scale();
    let mut out = Vec::new();
    for b in &batches {
        let labels = string_column(b, "label")?;
        let totals = f64_column(b, "total_row")?;
        let samples = f64_column(b, "samples")?;
        let Some(ok) = b.column_by_name("ok") else {
            continue;
        };
        let ok = ok.as_list::<i32>();
        for (i, label) in labels.into_iter().enumerate() {
            let (sat, tol) = t.for_label(&label, totals[i] == Some(1.0));
            let n = samples[i].unwrap_or(0.0);
            let (mut satisfied, mut tolerated) = (0i64, 0i64);
            if ok.is_valid(i) {
                let pairs = ok.value(i);
                for pair in pairs.as_primitive::<Int64Type>().values().chunks_exact(2) {
                    if pair[0] <= sat.saturating_mul(scale) {
                        satisfied += pair[1];
                    } else if pair[0] <= tol.saturating_mul(scale) {
                        tolerated += pair[1];
                    }
                }
            }
            out.push(ApdexRow {
                label,
                apdex: if n > 0.0 {
                    (satisfied as f64 + tolerated as f64 / 2.0) / n
                } else {
                    0.0
                },
                satisfied_threshold: sat,
                tolerated_threshold: tol,
                samples: n as u64,
            });
        }
    }
    Ok(out)
}

/// The Errors table and the Top 5 errors by sampler (with its Total row last).
pub async fn errors(
    engine: &QueryEngine,
    run_id: &str,
) -> Result<(Vec<ErrorRow>, Vec<Top5Row>), QueryError> {
    let (_, batches) = engine
        .sql_with_params(
            crate::queries::JMETER_ERRORS,
            vec![ScalarValue::Utf8(Some(run_id.to_string()))],
        )
        .await?;
    // (label, error, count, label samples), in descending count order.
    let mut rows: Vec<(String, String, u64, u64)> = Vec::new();
    let mut all_samples = 0u64;
    for b in &batches {
        let (labels, keys) = (string_column(b, "label")?, string_column(b, "error")?);
        let (counts, per_label, all) = (
            f64_column(b, "errors")?,
            f64_column(b, "label_samples")?,
            f64_column(b, "all_samples")?,
        );
        for i in 0..labels.len() {
            all_samples = all[i].unwrap_or(0.0) as u64;
            rows.push((
                labels[i].clone(),
                keys[i].clone(),
                counts[i].unwrap_or(0.0) as u64,
                per_label[i].unwrap_or(0.0) as u64,
            ));
        }
    }
    let total_errors: u64 = rows.iter().map(|r| r.2).sum();
    let mut by_error: Vec<(String, u64)> = Vec::new();
    for (_, key, n, _) in &rows {
        match by_error.iter_mut().find(|(k, _)| k == key) {
            Some(e) => e.1 += n,
            None => by_error.push((key.clone(), *n)),
        }
    }
    by_error.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let pct = |n: u64, of: u64| {
        if of > 0 {
            n as f64 * 100.0 / of as f64
        } else {
            0.0
        }
    };
    let table = by_error
        .iter()
        .map(|(error, n)| ErrorRow {
            error: error.clone(),
            errors: *n,
            percent_in_errors: pct(*n, total_errors),
            percent_in_all_samples: pct(*n, all_samples),
        })
        .collect();
    let mut labels: Vec<Top5Row> = Vec::new();
    for (label, key, n, samples) in &rows {
        let entry = match labels.iter_mut().position(|r| &r.label == label) {
            Some(i) => &mut labels[i],
            None => {
                labels.push(Top5Row {
                    label: label.clone(),
                    samples: *samples,
                    errors: 0,
                    top: Vec::new(),
                });
                let last = labels.len() - 1;
                &mut labels[last]
            }
        };
        entry.errors += n;
        if entry.top.len() < 5 {
            entry.top.push((key.clone(), *n));
        }
    }
    labels.sort_by(|a, b| a.label.cmp(&b.label));
    labels.push(Top5Row {
        label: "Total".into(),
        samples: all_samples,
        errors: total_errors,
        top: by_error.into_iter().take(5).collect(),
    });
    Ok((table, labels))
}
