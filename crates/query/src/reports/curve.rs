//! Curves (CodeArts brokens / AW chart): per-interval TPS, response times with exact
//! percentiles, users, bytes and outcome classes, for a run, a case or one request.

use datafusion::scalar::ScalarValue;

use super::{f64_column, run_report::method_param};
use crate::QueryEngine;
use crate::error::QueryError;
use crate::functions::PercentileMethod;

/// What to draw.
#[derive(Debug, Clone)]
pub struct CurveOptions {
    /// Width of one point, ms.
    pub interval_ms: i64,
    /// At most this many points: adjacent intervals are merged (exactly) when there are more.
    pub max_points: Option<usize>,
    pub case: Option<String>,
    pub request: Option<String>,
    pub method: PercentileMethod,
}

/// One interval.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CurvePoint {
    /// Interval start, ms since the epoch.
    pub t: i64,
    pub requests: u64,
    /// Requests per second in the interval.
    pub tps: f64,
    pub success: u64,
    pub error: u64,
    pub timeout: u64,
    pub refused_failed: u64,
    pub parsed_failed: u64,
    pub check_point_failed: u64,
    pub others_failed: u64,
    pub avg_rt: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub vusers: Option<f64>,
    pub rec_bytes: Option<f64>,
    pub sent_bytes: Option<f64>,
}

/// A curve: points at a fixed interval.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Curve {
    pub interval_ms: i64,
    pub points: Vec<CurvePoint>,
}

/// Points that intervals of `width` ms cut `[first, last]` into (aligned to the epoch).
fn buckets(first: i64, last: i64, width: i64) -> i64 {
    last.div_euclid(width) - first.div_euclid(width) + 1
}

/// The smallest multiple of `base` giving at most `max_points` points over `[first, last]`.
pub fn merged_interval(first: i64, last: i64, base: i64, max_points: usize) -> i64 {
    let max_points = max_points.max(1) as i64;
    let needed = buckets(first, last, base);
    let mut k = ((needed + max_points - 1) / max_points).max(1);
    while buckets(first, last, base * k) > max_points {
        k += 1;
    }
    base * k
}

fn text(v: &Option<String>) -> ScalarValue {
    ScalarValue::Utf8(v.clone())
}

/// Computes the curve of `run_id`.
pub async fn curve(
    engine: &QueryEngine,
    run_id: &str,
    o: &CurveOptions,
) -> Result<Curve, QueryError> {
    let run = ScalarValue::Utf8(Some(run_id.to_string()));
    let mut interval = o.interval_ms.max(1);
    if let Some(max_points) = o.max_points {
        let (_, batches) = engine
            .sql_with_params(
                crate::queries::CURVE_SPAN,
                vec![run.clone(), text(&o.case), text(&o.request)],
            )
            .await?;
        if let Some(b) = batches.first() {
            let first = f64_column(b, "first_ms")?.first().copied().flatten();
            let last = f64_column(b, "last_ms")?.first().copied().flatten();
            if let (Some(f), Some(l)) = (first, last) {
                interval = merged_interval(f as i64, l as i64, interval, max_points);
            }
        }
    }
    let params = vec![
        run,
        ScalarValue::Int64(Some(interval)),
        text(&o.case),
        text(&o.request),
        method_param(o.method),
    ];
    let (_, batches) = engine
        .sql_with_params(crate::queries::CURVE, params)
        .await?;
    let mut points = Vec::new();
    for b in &batches {
        let c = |name| f64_column(b, name);
        let cols = [
            c("t")?,
            c("requests")?,
            c("success")?,
            c("error")?,
            c("timeout")?,
            c("refused_failed")?,
            c("parsed_failed")?,
            c("check_point_failed")?,
            c("others_failed")?,
            c("avg_rt")?,
            c("p50")?,
            c("p90")?,
            c("p95")?,
            c("p99")?,
            c("vusers")?,
            c("rec_bytes")?,
            c("sent_bytes")?,
        ];
        points.extend((0..b.num_rows()).map(|i| {
            let v = |k: usize| cols[k][i];
            let n = |k: usize| v(k).unwrap_or(0.0) as u64;
            CurvePoint {
                t: v(0).unwrap_or(0.0) as i64,
                requests: n(1),
                tps: n(1) as f64 * 1000.0 / interval as f64,
                success: n(2),
                error: n(3),
                timeout: n(4),
                refused_failed: n(5),
                parsed_failed: n(6),
                check_point_failed: n(7),
                others_failed: n(8),
                avg_rt: v(9),
                p50: v(10),
                p90: v(11),
                p95: v(12),
                p99: v(13),
                vusers: v(14),
                rec_bytes: v(15),
                sent_bytes: v(16),
            }
        }));
    }
    Ok(Curve {
        interval_ms: interval,
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::merged_interval;

    #[test]
    fn merged_interval_gives_at_most_the_points_asked() {
        // 0..=9 999 ms at 1 s: 10 points; at most 3 → 4 s wide (0-3, 4-7, 8-9 s).
        assert_eq!(merged_interval(0, 9_999, 1000, 3), 4000);
        assert_eq!(merged_interval(0, 9_999, 1000, 10), 1000);
        // Unaligned start: 500..=2 500 touches 3 one-second intervals; 2 points need 2 s? 0-1 s, 2-3 s → 2.
        assert_eq!(merged_interval(500, 2_500, 1000, 2), 2000);
        assert_eq!(merged_interval(500, 2_500, 1000, 1), 3000);
    }
}
