//! loadlake's SQL functions, registered on every session:
//!
//! - `ms_histogram(elapsed_ms)` (aggregate): the exact distribution of integer values as a
//!   histogram — `List<Int64>` of sorted `(value, count)` pairs, flattened.
//! - `hist_merge(histogram)` (aggregate): the sum of histograms (exact; curves merge intervals,
//!   runs merge partitions).
//! - `hist_percentile(histogram, fraction, method)` (scalar): a percentile of a histogram,
//!   `fraction` in [0, 1] like `percentile_cont` (0.95: the 95th; a percent is refused), `method`
//!   one of `nearest-rank` (default), `linear`, `jmeter-aggregate`, `legacy`.
//! - `jmeter_window_percentile(values, fraction, window)` and `jmeter_mean(values)` (scalar): JMeter
//!   dashboard compatibility over `array_agg(elapsed_ms ORDER BY "row")` (file order).
//! - `hist_range_counts(histogram, boundaries)` (scalar): counts per response-time range.
//! - `is_empty_transaction(response_message)` (scalar): whether a row is an empty transaction
//!   (JMeter's "Number of samples in transaction : 0, …"), which reports leave out.
//! - `error_family(error_class)` (scalar): the reports' error breakdown — `assertion`, `timeout`,
//!   `refused`, `parse` or `others` (`http_4xx`, `http_5xx`, `other`), NULL for a success.
//!
//! On a session with a query memory limit, the built-ins whose output can be much larger than
//! their input (`repeat`, `lpad`, `range`, `array_repeat`, …) are replaced by guarded wrappers
//! of the same names (`guard.rs`).

mod bounds;
mod error_family;
pub(crate) mod guard;
mod histogram;
mod udaf;
mod udf;

pub use histogram::{Histogram, PercentileMethod, SortedCounts, UnknownPercentileMethod};

use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

/// Registers every loadlake function on `ctx` and, with a query memory limit, the guarded
/// built-ins: what every session needs, coordinator or worker, before it plans or runs a query.
pub fn register_session_functions(ctx: &SessionContext, memory_limit: Option<usize>) {
    register_all(ctx);
    if let Some(bytes) = memory_limit {
        guard::register_guards(ctx, bytes);
    }
}

/// Registers every loadlake function on `ctx`.
pub fn register_all(ctx: &SessionContext) {
    ctx.register_udaf(AggregateUDF::from(udaf::HistogramUdaf::new(
        "ms_histogram",
        false,
    )));
    ctx.register_udaf(AggregateUDF::from(udaf::HistogramUdaf::new(
        "hist_merge",
        true,
    )));
    ctx.register_udf(ScalarUDF::from(udf::HistPercentile::new()));
    ctx.register_udf(ScalarUDF::from(udf::JmeterWindowPercentile::new()));
    ctx.register_udf(ScalarUDF::from(udf::JmeterMean::new()));
    ctx.register_udf(ScalarUDF::from(udf::HistRangeCounts::new()));
    ctx.register_udf(ScalarUDF::from(udf::IsEmptyTransaction::new()));
    ctx.register_udf(ScalarUDF::from(error_family::ErrorFamily::new()));
    ctx.register_udf(time_scale::time_scale_udf(1));
}

#[cfg(test)]
mod guard_tests;
pub(crate) mod time_scale;
#[cfg(test)]
mod udf_tests;
