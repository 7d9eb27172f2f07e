//! Alibaba PTS scene statistics: AllSampleStat and SampleStatList
//! (GetJMeterSceneRunningData), from top-level samples.

use datafusion::scalar::ScalarValue;

use super::run_report::method_param;
use super::{f64_column, string_column};
use crate::error::QueryError;
use crate::functions::PercentileMethod;
use crate::{QueryEngine, TimeUnit};

/// One sampler's (or the whole scene's) statistics.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SampleStat {
    /// Sampler label (absent for AllSampleStat).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub count: u64,
    pub success_count: u64,
    pub fail_count: u64,
    pub tps: Option<f64>,
    pub success_tps: Option<f64>,
    pub fail_tps: Option<f64>,
    pub rt_avg: Option<f64>,
    pub rt_min: Option<f64>,
    pub rt_max: Option<f64>,
    pub success_rt_avg: Option<f64>,
    pub success_rt_min: Option<f64>,
    pub success_rt_max: Option<f64>,
    pub success_rt_sum: Option<f64>,
    pub fail_rt_avg: Option<f64>,
    pub fail_rt_min: Option<f64>,
    pub fail_rt_max: Option<f64>,
    pub fail_rt_sum: Option<f64>,
    pub rt_seg50: Option<f64>,
    pub rt_seg90: Option<f64>,
    pub rt_seg99: Option<f64>,
    /// Most active threads (of all groups for the scene, of the sampler's group otherwise).
    pub concurrency: Option<f64>,
    pub request_bytes_sum: Option<f64>,
    /// Seconds from the scene's first start to its last end.
    pub duration: Option<f64>,
}

/// The scene's statistics and one per sampler.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SceneStats {
    #[serde(rename = "AllSampleStat")]
    pub all: Option<SampleStat>,
    #[serde(rename = "SampleStatList")]
    pub samplers: Vec<SampleStat>,
    /// The unit of every `rt*` field: left out when ms (PTS's unit); `"us"` after
    /// [`QueryEngine::use_microseconds`].
    #[serde(rename = "TimeUnit", skip_serializing_if = "TimeUnit::is_ms")]
    pub time_unit: TimeUnit,
}

/// Computes the PTS statistics of `run_id`.
pub async fn scene_stats(
    engine: &QueryEngine,
    run_id: &str,
    method: PercentileMethod,
) -> Result<SceneStats, QueryError> {
    let params = vec![
        ScalarValue::Utf8(Some(run_id.to_string())),
        method_param(method),
    ];
    let (_, batches) = engine
        .sql_with_params(crate::queries::PTS_STATS, params)
        .await?;
    let mut stats = SceneStats {
        all: None,
        samplers: Vec::new(),
        time_unit: engine.time_unit(),
    };
    for b in &batches {
        let names = string_column(b, "name")?;
        let c = |name| f64_column(b, name);
        let cols = [
            c("all_row")?,
            c("count")?,
            c("success_count")?,
            c("rt_avg")?,
            c("rt_min")?,
            c("rt_max")?,
            c("success_rt_avg")?,
            c("success_rt_min")?,
            c("success_rt_max")?,
            c("success_rt_sum")?,
            c("fail_rt_avg")?,
            c("fail_rt_min")?,
            c("fail_rt_max")?,
            c("fail_rt_sum")?,
            c("rt_seg50")?,
            c("rt_seg90")?,
            c("rt_seg99")?,
            c("concurrency")?,
            c("request_bytes_sum")?,
            c("span_ms")?,
        ];
        for (i, name) in names.into_iter().enumerate() {
            let v = |k: usize| cols[k][i];
            let count = v(1).unwrap_or(0.0);
            let ok = v(2).unwrap_or(0.0);
            let per_second = |n: f64| v(19).filter(|ms| *ms > 0.0).map(|ms| n / ms * 1000.0);
            let stat = SampleStat {
                name: None,
                count: count as u64,
                success_count: ok as u64,
                fail_count: (count - ok) as u64,
                tps: per_second(count),
                success_tps: per_second(ok),
                fail_tps: per_second(count - ok),
                rt_avg: v(3),
                rt_min: v(4),
                rt_max: v(5),
                success_rt_avg: v(6),
                success_rt_min: v(7),
                success_rt_max: v(8),
                success_rt_sum: v(9),
                fail_rt_avg: v(10),
                fail_rt_min: v(11),
                fail_rt_max: v(12),
                fail_rt_sum: v(13),
                rt_seg50: v(14),
                rt_seg90: v(15),
                rt_seg99: v(16),
                concurrency: v(17),
                request_bytes_sum: v(18),
                duration: v(19).map(|ms| ms / 1000.0),
            };
            if v(0) == Some(1.0) {
                stats.all = Some(stat);
            } else {
                stats.samplers.push(SampleStat {
                    name: Some(name),
                    ..stat
                });
            }
        }
    }
    Ok(stats)
}
