//! Renderers of loadlake's report structs (computed by `loadlake-query`): one self-contained HTML
//! page per run, a batch index, comparisons and trends (minijinja templates with inlined styles,
//! scripts and the vendored uPlot), a Markdown summary, JUnit XML of SLA results, and the
//! comparison of two runs' reports. Nothing here computes a statistic from samples: the
//! [`job`] asks crates/query for the numbers a [`job::ReportRequest`] needs and renders them, and
//! [`across`] compares runs and follows trends, for the CLI and the server alike.

pub mod across;
pub mod compare;
mod error;
pub mod html;
pub mod job;
pub mod junit;
pub mod markdown;

pub use error::ReportError;
