//! The query layer: a DataFusion session over a loadlake store, with the `samples` table (every
//! run's Parquet parts, partition-pruned on `run_id`), `live_samples` (the parts written so far
//! of runs still being written) and the `runs` table (one row per run
//! manifest). SQL that defines reports lives in `queries/` and is compiled in with
//! [`include_str!`]; ad-hoc SQL goes through [`QueryEngine::sql_read_only`].

mod cluster;
mod engine;
mod error;
pub mod functions;
mod hide_deleted;
mod keyed_aggregate;
pub mod reports;
mod rollups;
mod rollups_table;
mod runs_table;
mod time_unit;
#[cfg(test)]
mod vanished_tests;

pub use cluster::QueryCluster;
pub use engine::{EngineOptions, QueryEngine, VANISHED_FILE_RETRIES};
pub use error::{QueryError, datafusion_fault, is_vanished_file};
pub use rollups::{CONSOLIDATE_AFTER, Consolidation};
pub use time_unit::TimeUnit;

/// The SQL files of `queries/`, by name.
pub mod queries {
    /// `loadlake runs`: the run listing.
    pub const RUNS: &str = include_str!("../../../queries/runs.sql");
    /// `loadlake report --stats jmeter`: JMeter's Statistics table, exact.
    pub const JMETER_STATISTICS: &str = include_str!("../../../queries/jmeter_statistics.sql");
    /// `loadlake report --stats jmeter`: APDEX inputs.
    pub const JMETER_APDEX: &str = include_str!("../../../queries/jmeter_apdex.sql");
    /// `loadlake report --stats jmeter`: Errors and Top 5 errors by sampler.
    pub const JMETER_ERRORS: &str = include_str!("../../../queries/jmeter_errors.sql");
    /// `loadlake report --stats pts`: PTS AllSampleStat and SampleStatList.
    pub const PTS_STATS: &str = include_str!("../../../queries/pts_stats.sql");
    /// `loadlake cases`: cases with their requests and transactions.
    pub const CASES: &str = include_str!("../../../queries/cases.sql");
    /// `loadlake curve`: one point per interval.
    pub const CURVE: &str = include_str!("../../../queries/curve.sql");
    /// `loadlake curve --points`: the span to cut into points.
    pub const CURVE_SPAN: &str = include_str!("../../../queries/curve_span.sql");
    /// `loadlake report`: the outline.
    pub const OUTLINE: &str = include_str!("../../../queries/outline.sql");
    /// `loadlake report`: details per case, request and transaction.
    pub const DETAILS: &str = include_str!("../../../queries/details.sql");
    /// `loadlake report`: response-time ranges.
    pub const RESP_TIME_RANGES: &str = include_str!("../../../queries/resp_time_ranges.sql");
    /// `loadlake report`: error classes.
    pub const ERROR_CLASSES: &str = include_str!("../../../queries/error_classes.sql");
    /// One page of the samples of an error class (the console's drill-down).
    pub const ERROR_SAMPLES: &str = include_str!("../../../queries/error_samples.sql");
    /// JMeter's Statistics table as its dashboard computes it (`--percentile-method jmeter-dashboard`).
    pub const JMETER_STATISTICS_DASHBOARD: &str =
        include_str!("../../../queries/jmeter_statistics_dashboard.sql");
    /// Headline numbers of a run, a case or a label (SLA rules, trends).
    pub const SCOPE_METRICS: &str = include_str!("../../../queries/scope_metrics.sql");
    /// A committed run's rollup: counters and exact histograms per case, label and kind.
    pub const ROLLUP: &str = include_str!("../../../queries/rollup.sql");
    /// [`SCOPE_METRICS`] of many runs at once, from their rollups (trends).
    pub const SCOPE_METRICS_ROLLUPS: &str =
        include_str!("../../../queries/scope_metrics_rollups.sql");
}
