//! The query layer: a DataFusion session over a loadlake store, with the `samples` table (every
//! run's Parquet parts, partition-pruned on `run_id`) and the `runs` table (one row per run
//! manifest). SQL that defines reports lives in `queries/` and is compiled in with
//! [`include_str!`]; ad-hoc SQL goes through [`QueryEngine::sql_read_only`].

mod engine;
mod error;
pub mod functions;
pub mod reports;
mod runs_table;

pub use engine::QueryEngine;
pub use error::QueryError;

/// The SQL files of `queries/`, by name.
pub mod queries {
    /// `loadlake runs`: the run listing.
    pub const RUNS: &str = include_str!("../../../queries/runs.sql");
    /// `loadlake report --stats jmeter`: JMeter's Statistics table, exact.
    pub const JMETER_STATISTICS: &str = include_str!("../../../queries/jmeter_statistics.sql");
    /// The same, as JMeter's dashboard computes it (`--percentile-method jmeter-dashboard`).
    pub const JMETER_STATISTICS_DASHBOARD: &str =
        include_str!("../../../queries/jmeter_statistics_dashboard.sql");
}
