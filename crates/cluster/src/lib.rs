//! Distributed SQL for loadlake on [datafusion-distributed]: query workers and a coordinator's
//! link to them.
//!
//! - [`query_worker`]: the worker `loadlake serve --role worker` mounts on its tonic server. It
//!   runs the plan fragments coordinators send — DataFusion plans with loadlake's functions,
//!   resolved by name — reading the store's Parquet parts itself (a bucket, or a directory
//!   every host sees at the same path).
//! - [`Workers`]: a coordinator's set of workers (`--workers URL,…`), with the token they need
//!   and which of them answer; a [`loadlake_query::QueryCluster`], so a query engine opened
//!   with it plans every query with the distributed planner: plans worth spreading (scans of
//!   more than [`WorkersConfig::scan_bytes_per_partition`] per partition) run in stages on the
//!   workers, the rest on the coordinator alone.
//!
//! Coordinators and workers of one cluster run the same loadlake version: a worker reports
//! its version and a coordinator leaves out workers of another.
//!
//! [datafusion-distributed]: https://github.com/datafusion-contrib/datafusion-distributed

mod channels;
mod error;
mod worker;
mod workers;

pub use error::ClusterError;
pub use worker::{WorkerOptions, query_worker};
pub use workers::{PROBE_INTERVAL, Workers, WorkersConfig};

/// The version workers report and coordinators require: loadlake's own.
pub const CLUSTER_VERSION: &str = env!("CARGO_PKG_VERSION");
