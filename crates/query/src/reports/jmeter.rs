//! JMeter dashboard parity: the Statistics table (`statistics.json`), computed exactly by
//! default or exactly as JMeter does (`jmeter-dashboard`: file order, streaming mean, LEGACY
//! percentiles over a sliding window).

use datafusion::scalar::ScalarValue;

use super::run_report::method_param;
use super::{f64_column, string_column};
use crate::error::QueryError;
use crate::functions::PercentileMethod;
use crate::{QueryEngine, TimeUnit};

/// How percentiles (and the mean) are computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StatisticsMethod {
    /// Whole-run exact distribution read with the given method.
    Exact(PercentileMethod),
    /// JMeter's dashboard: last-`window` values in file order, LEGACY estimator, streaming mean.
    Dashboard { window: i64 },
}

/// Writes a 32-bit float with the fewest digits that read back as it, as Java writes a `float`
/// (serde would widen it to a 64-bit number first when the row becomes a JSON value).
fn as_shortest_f32<S: serde::Serializer>(v: &f32, s: S) -> Result<S::Ok, S::Error> {
    match v.to_string().parse::<f64>() {
        Ok(shortest) if v.is_finite() => s.serialize_f64(shortest),
        _ => s.serialize_f32(*v),
    }
}

/// One row of `statistics.json` (field names as JMeter writes them).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JmeterStatRow {
    pub transaction: String,
    pub sample_count: u64,
    pub error_count: u64,
    /// JMeter computes it as a 32-bit float, and writes it as one (`43.939392`, not the
    /// widened `43.93939208984375`).
    #[serde(serialize_with = "as_shortest_f32")]
    pub error_pct: f32,
    pub mean_res_time: Option<f64>,
    pub median_res_time: Option<f64>,
    pub min_res_time: Option<f64>,
    pub max_res_time: Option<f64>,
    pub pct1_res_time: Option<f64>,
    pub pct2_res_time: Option<f64>,
    pub pct3_res_time: Option<f64>,
    pub throughput: Option<f64>,
    pub received_k_bytes_per_sec: Option<f64>,
    pub sent_k_bytes_per_sec: Option<f64>,
    /// The unit of the `*ResTime` fields: left out when ms (JMeter's unit); `"us"` after
    /// [`QueryEngine::use_microseconds`].
    #[serde(skip_serializing_if = "TimeUnit::is_ms")]
    pub time_unit: TimeUnit,
}

/// Computes the Statistics table of `run_id`; the last row is "Total".
pub async fn jmeter_statistics(
    engine: &QueryEngine,
    run_id: &str,
    percentiles: [f64; 3],
    method: StatisticsMethod,
) -> Result<Vec<JmeterStatRow>, QueryError> {
    let mut params = vec![ScalarValue::Utf8(Some(run_id.to_string()))];
    params.extend(percentiles.iter().map(|p| ScalarValue::Float64(Some(*p))));
    let sql = match method {
        StatisticsMethod::Exact(m) => {
            params.push(method_param(m));
            crate::queries::JMETER_STATISTICS
        }
        StatisticsMethod::Dashboard { window } => {
            params.push(ScalarValue::Int64(Some(window)));
            crate::queries::JMETER_STATISTICS_DASHBOARD
        }
    };
    let (_, batches) = engine.sql_with_params(sql, params).await?;
    let mut rows = Vec::new();
    for b in &batches {
        let labels = string_column(b, "transaction")?;
        let col = |name| f64_column(b, name);
        let (count, errors, mean, median) = (
            col("sample_count")?,
            col("error_count")?,
            col("mean_res_time")?,
            col("median_res_time")?,
        );
        let (min, max, p1, p2, p3) = (
            col("min_res_time")?,
            col("max_res_time")?,
            col("pct1_res_time")?,
            col("pct2_res_time")?,
            col("pct3_res_time")?,
        );
        let (first, last, received, sent) = (
            col("first_start")?,
            col("last_end")?,
            col("bytes_received")?,
            col("bytes_sent")?,
        );
        for (i, label) in labels.into_iter().enumerate() {
            let n = count[i].unwrap_or(0.0);
            let e = errors[i].unwrap_or(0.0);
            // ms between the first start and the last end of this row's samples; the operation
            // order is JMeter's (StatisticsSummaryData), so results agree to the last bit.
            let millis = match (first[i], last[i]) {
                (Some(f), Some(l)) if l > f => Some(l - f),
                _ => None,
            };
            let kb_per_second = |bytes: Option<f64>| Some(bytes? / (millis? / 1000.0) / 1024.0);
            rows.push(JmeterStatRow {
                transaction: label,
                sample_count: n as u64,
                error_count: e as u64,
                error_pct: if n > 0.0 { (e * 100.0 / n) as f32 } else { 0.0 },
                mean_res_time: mean[i],
                median_res_time: median[i],
                min_res_time: min[i],
                max_res_time: max[i],
                pct1_res_time: p1[i],
                pct2_res_time: p2[i],
                pct3_res_time: p3[i],
                throughput: millis.map(|ms| n / ms * 1000.0),
                received_k_bytes_per_sec: kb_per_second(received[i]),
                sent_k_bytes_per_sec: kb_per_second(sent[i]),
                time_unit: engine.time_unit(),
            });
        }
    }
    Ok(rows)
}
