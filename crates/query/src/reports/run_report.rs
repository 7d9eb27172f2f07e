//! The run report (CodeArts ReportInfo shape): outline, details per case / request /
//! transaction, response-time ranges and error classes. Field names follow CodeArts PerfTest
//! (`averageRespTime`, `tp90`, `successRate`, `respTimeRange`…); definitions in docs/metrics.md.

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int64Type;
use datafusion::scalar::ScalarValue;

use super::{f64_column, string_column};
use crate::error::QueryError;
use crate::functions::{PercentileMethod, SortedCounts};
use crate::{QueryEngine, TimeUnit};

/// Default response-time range boundaries (ms): 0~50ms … 4~5s, >5s.
pub const DEFAULT_RANGES: [i64; 8] = [50, 200, 500, 1000, 2000, 3000, 4000, 5000];

/// ReportoutlineInfo.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outline {
    /// First sample start, ms since the epoch.
    pub start_time: Option<i64>,
    /// Last sample end, ms since the epoch.
    pub end_time: Option<i64>,
    /// Seconds from start to end.
    pub duration: Option<f64>,
    pub max_users: Option<i64>,
    pub requests: u64,
    pub tps: Option<f64>,
    /// Percent of successful requests.
    pub success_rate: Option<f64>,
    pub average_resp_time: Option<f64>,
    pub total_cases: u64,
    pub executed_cases: u64,
    pub pass_cases: u64,
    /// Virtual-user minutes.
    pub vum: Option<f64>,
}

/// DetailDataInfo: one case, request (AW) or transaction.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DetailData {
    /// `case`, `request` or `transaction`.
    pub level: String,
    pub case_name: String,
    /// Request or transaction label (empty for a case).
    pub name: String,
    pub requests: u64,
    pub success_count: u64,
    pub error_count: u64,
    pub failed_assert: u64,
    pub failed_timeout: u64,
    pub failed_refused: u64,
    pub failed_parsed: u64,
    pub failed_others: u64,
    pub success_rate: Option<f64>,
    pub average_resp_time: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub tp50: Option<f64>,
    pub tp75: Option<f64>,
    pub tp85: Option<f64>,
    pub tp90: Option<f64>,
    pub tp95: Option<f64>,
    pub tp99: Option<f64>,
    pub tp999: Option<f64>,
    pub tp9999: Option<f64>,
    /// Extra percentiles asked for (`--percentiles`), keyed by the percent as written (`99.9`).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub percentiles: std::collections::BTreeMap<String, Option<f64>>,
    /// Requests per second over this row's own span (first start → last end).
    pub tps: Option<f64>,
    /// Transaction rows only.
    pub transactions: Option<u64>,
    #[serde(rename = "tranTPS")]
    pub tran_tps: Option<f64>,
    pub avg_rec_bytes: Option<f64>,
    pub max_rec_bytes: Option<f64>,
    pub avg_sent_bytes: Option<f64>,
    pub max_sent_bytes: Option<f64>,
    /// Bytes received + sent per second over the row's span.
    pub avg_network_traffic: Option<f64>,
    /// The busiest second's bytes received + sent.
    pub max_network_traffic: Option<f64>,
    pub sum1xx: u64,
    pub sum2xx: u64,
    pub sum3xx: u64,
    pub sum4xx: u64,
    pub sum5xx: u64,
    /// Most active threads of the row's thread group.
    pub current_thread_num: Option<f64>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
}

/// One response-time range.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RespTimeRange {
    /// `0~50ms`, `500ms~1s`, `>5s`…
    pub range: String,
    /// Inclusive lower bound, ms.
    pub from_ms: i64,
    /// Exclusive upper bound, ms (`None`: open).
    pub to_ms: Option<i64>,
    pub count: u64,
    pub percent: f64,
}

/// Samples of one error class.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorClassCount {
    pub error_class: String,
    pub samples: u64,
}

/// The whole run report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    pub run_id: String,
    /// The unit of every response time below (`timeUnit: "us"` in JSON; left out when ms).
    #[serde(skip_serializing_if = "TimeUnit::is_ms")]
    pub time_unit: TimeUnit,
    pub outline: Outline,
    pub details: Vec<DetailData>,
    pub resp_time_range: Vec<RespTimeRange>,
    pub error_classes: Vec<ErrorClassCount>,
}

fn ms_label(ms: i64) -> String {
    if ms >= 1000 && ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// `0~50ms`, `500ms~1s`, `1~2s`, `>5s`.
fn range_label(from: i64, to: Option<i64>) -> String {
    match to {
        None => format!(">{}", ms_label(from)),
        Some(to) => {
            let (a, b) = (ms_label(from), ms_label(to));
            let same_unit =
                |s: &str, unit: &str| s.ends_with(unit) && !(unit == "s" && s.ends_with("ms"));
            if from == 0 || (same_unit(&a, "ms") && same_unit(&b, "ms")) {
                format!("{}~{b}", from)
            } else if same_unit(&a, "s") && same_unit(&b, "s") {
                format!("{}~{b}", from / 1000)
            } else {
                format!("{a}~{b}")
            }
        }
    }
}

/// The SQL parameter naming a percentile method.
pub(crate) fn method_param(m: PercentileMethod) -> ScalarValue {
    ScalarValue::Utf8(Some(m.as_str().to_string()))
}

pub(crate) fn run_param(run_id: &str) -> ScalarValue {
    ScalarValue::Utf8(Some(run_id.to_string()))
}

pub(crate) fn u(v: Option<f64>) -> u64 {
    v.unwrap_or(0.0) as u64
}

pub(crate) fn rate(n: f64, from: Option<f64>, to: Option<f64>) -> Option<f64> {
    match (from, to) {
        (Some(f), Some(t)) if t > f => Some(n / (t - f) * 1000.0),
        _ => None,
    }
}

async fn outline(
    engine: &QueryEngine,
    run_id: &str,
    planned_cases: Option<u64>,
) -> Result<Outline, QueryError> {
    let (_, batches) = engine
        .sql_with_params(crate::queries::OUTLINE, vec![run_param(run_id)])
        .await?;
    let b = batches.first().ok_or_else(|| {
        QueryError::Arrow(arrow::error::ArrowError::ComputeError(
            "outline returned no row".into(),
        ))
    })?;
    let get = |name| -> Result<Option<f64>, QueryError> {
        Ok(f64_column(b, name)?.first().copied().flatten())
    };
    let (start, end, requests, ok) = (
        get("start_ms")?,
        get("end_ms")?,
        u(get("requests")?),
        get("success_count")?,
    );
    let executed = u(get("executed_cases")?);
    Ok(Outline {
        start_time: start.map(|v| v as i64),
        end_time: end.map(|v| v as i64),
        duration: match (start, end) {
            (Some(s), Some(e)) => Some((e - s) / 1000.0),
            _ => None,
        },
        max_users: get("max_users")?.map(|v| v as i64),
        requests,
        tps: rate(requests as f64, start, end),
        success_rate: (requests > 0).then(|| ok.unwrap_or(0.0) * 100.0 / requests as f64),
        average_resp_time: get("average_resp_time")?,
        total_cases: planned_cases.unwrap_or(executed).max(executed),
        executed_cases: executed,
        pass_cases: u(get("pass_cases")?),
        vum: get("vum")?,
    })
}

/// The fixed percentiles of every details row: tp50 … tp9999.
const TP_PERCENTS: [f64; 8] = [50.0, 75.0, 85.0, 90.0, 95.0, 99.0, 99.9, 99.99];

/// Details per case, request and transaction of `run_id`, with `extra` percentiles (0–100).
pub async fn details(
    engine: &QueryEngine,
    run_id: &str,
    method: PercentileMethod,
    extra: &[f64],
) -> Result<Vec<DetailData>, QueryError> {
    let (_, batches) = engine
        .sql_with_params(crate::queries::DETAILS, vec![run_param(run_id)])
        .await?;
    let mut out = Vec::new();
    for b in &batches {
        let (levels, cases, names) = (
            string_column(b, "level")?,
            string_column(b, "case_name")?,
            string_column(b, "name")?,
        );
        let c = |name| f64_column(b, name);
        let (requests, ok, err) = (c("requests")?, c("success_count")?, c("error_count")?);
        let (fa, ft, fr, fp, fo) = (
            c("failed_assert")?,
            c("failed_timeout")?,
            c("failed_refused")?,
            c("failed_parsed")?,
            c("failed_others")?,
        );
        let (avg, min, max) = (
            c("average_resp_time")?,
            c("min_resp_time")?,
            c("max_resp_time")?,
        );
        let histograms = b
            .column_by_name("histogram")
            .map(|h| h.as_list::<i32>().clone())
            .ok_or_else(|| {
                QueryError::Arrow(arrow::error::ArrowError::SchemaError(
                    "details has no histogram".into(),
                ))
            })?;
        let (start, end) = (c("start_ms")?, c("end_ms")?);
        let (arb, mrb, asb, msb) = (
            c("avg_rec_bytes")?,
            c("max_rec_bytes")?,
            c("avg_sent_bytes")?,
            c("max_sent_bytes")?,
        );
        let (traffic, peak) = (c("traffic")?, c("max_traffic_per_second")?);
        let sums = [
            c("sum1xx")?,
            c("sum2xx")?,
            c("sum3xx")?,
            c("sum4xx")?,
            c("sum5xx")?,
        ];
        let threads = c("current_thread_num")?;
        for i in 0..levels.len() {
            let n = u(requests[i]);
            let tps = rate(n as f64, start[i], end[i]);
            let is_tx = levels[i] == "transaction";
            let pairs = histograms.value(i);
            let counts = SortedCounts::new(pairs.as_primitive::<Int64Type>().values());
            let tp = |k: usize| counts.percentile(TP_PERCENTS[k], method);
            out.push(DetailData {
                level: levels[i].clone(),
                case_name: cases[i].clone(),
                name: names[i].clone(),
                requests: n,
                success_count: u(ok[i]),
                error_count: u(err[i]),
                failed_assert: u(fa[i]),
                failed_timeout: u(ft[i]),
                failed_refused: u(fr[i]),
                failed_parsed: u(fp[i]),
                failed_others: u(fo[i]),
                success_rate: (n > 0).then(|| ok[i].unwrap_or(0.0) * 100.0 / n as f64),
                average_resp_time: avg[i],
                min: min[i],
                max: max[i],
                tp50: tp(0),
                tp75: tp(1),
                tp85: tp(2),
                tp90: tp(3),
                tp95: tp(4),
                tp99: tp(5),
                tp999: tp(6),
                tp9999: tp(7),
                percentiles: extra
                    .iter()
                    .map(|p| (p.to_string(), counts.percentile(*p, method)))
                    .collect(),
                tps,
                transactions: is_tx.then_some(n),
                tran_tps: if is_tx { tps } else { None },
                avg_rec_bytes: arb[i],
                max_rec_bytes: mrb[i],
                avg_sent_bytes: asb[i],
                max_sent_bytes: msb[i],
                avg_network_traffic: traffic[i].and_then(|t| rate(t, start[i], end[i])),
                max_network_traffic: peak[i],
                sum1xx: u(sums[0][i]),
                sum2xx: u(sums[1][i]),
                sum3xx: u(sums[2][i]),
                sum4xx: u(sums[3][i]),
                sum5xx: u(sums[4][i]),
                current_thread_num: threads[i],
                start_time: start[i].map(|v| v as i64),
                end_time: end[i].map(|v| v as i64),
            });
        }
    }
    Ok(out)
}

/// Response-time ranges of a run's top-level samples, or of one case's and/or one request
/// label's (`None` = all).
pub async fn resp_time_ranges(
    engine: &QueryEngine,
    run_id: &str,
    boundaries: &[i64],
    case: Option<&str>,
    request: Option<&str>,
) -> Result<Vec<RespTimeRange>, QueryError> {
    let text = |s: Option<&str>| ScalarValue::Utf8(s.map(str::to_string));
    // The boundaries are ms; the session's times may be µs.
    let scale = engine.time_scale();
    let list = ScalarValue::List(ScalarValue::new_list_nullable(
        &boundaries
            .iter()
            .map(|b| ScalarValue::Int64(Some(b.saturating_mul(scale))))
            .collect::<Vec<_>>(),
        &arrow::datatypes::DataType::Int64,
    ));
    let (_, batches) = engine
        .sql_with_params(
            crate::queries::RESP_TIME_RANGES,
            vec![run_param(run_id), list, text(case), text(request)],
        )
        .await?;
    let Some(b) = batches.first() else {
        return Ok(Vec::new());
    };
    let total = u(f64_column(b, "total")?.first().copied().flatten());
    let counts_col = b
        .column_by_name("counts")
        .map(|c| c.as_list::<i32>().clone());
    let counts: Vec<i64> = match counts_col {
        Some(list) if list.len() > 0 && list.is_valid(0) => {
            list.value(0).as_primitive::<Int64Type>().values().to_vec()
        }
        _ => vec![0; boundaries.len() + 1],
    };
    let mut from = 0;
    Ok(counts
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let to = boundaries.get(i).copied();
            let r = RespTimeRange {
                range: range_label(from, to),
                from_ms: from,
                to_ms: to,
                count: *n as u64,
                percent: if total > 0 {
                    *n as f64 * 100.0 / total as f64
                } else {
                    0.0
                },
            };
            from = to.unwrap_or(from);
            r
        })
        .collect())
}

async fn error_classes(
    engine: &QueryEngine,
    run_id: &str,
) -> Result<Vec<ErrorClassCount>, QueryError> {
    let (_, batches) = engine
        .sql_with_params(crate::queries::ERROR_CLASSES, vec![run_param(run_id)])
        .await?;
    let mut out = Vec::new();
    for b in &batches {
        let classes = string_column(b, "error_class")?;
        let counts = f64_column(b, "samples")?;
        for (c, n) in classes.into_iter().zip(counts) {
            out.push(ErrorClassCount {
                error_class: c,
                samples: u(n),
            });
        }
    }
    Ok(out)
}

/// Computes the run report. `planned_cases`: thread groups of the attached plan, if any.
pub async fn run_report(
    engine: &QueryEngine,
    run_id: &str,
    method: PercentileMethod,
    extra_percentiles: &[f64],
    boundaries: &[i64],
    planned_cases: Option<u64>,
) -> Result<RunReport, QueryError> {
    Ok(RunReport {
        run_id: run_id.to_string(),
        time_unit: engine.time_unit(),
        outline: outline(engine, run_id, planned_cases).await?,
        details: details(engine, run_id, method, extra_percentiles).await?,
        resp_time_range: resp_time_ranges(engine, run_id, boundaries, None, None).await?,
        error_classes: error_classes(engine, run_id).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::range_label;

    #[test]
    fn range_labels_read_like_codearts() {
        assert_eq!(range_label(0, Some(50)), "0~50ms");
        assert_eq!(range_label(50, Some(200)), "50~200ms");
        assert_eq!(range_label(500, Some(1000)), "500ms~1s");
        assert_eq!(range_label(1000, Some(2000)), "1~2s");
        assert_eq!(range_label(5000, None), ">5s");
        assert_eq!(range_label(1500, Some(2500)), "1500~2500ms");
    }
}
