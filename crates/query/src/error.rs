//! Query errors.

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(
        "SQL here is read-only: {0}. DDL, DML, COPY, CREATE EXTERNAL TABLE and SET are refused; use SELECT (or EXPLAIN / SHOW / DESCRIBE)"
    )]
    ReadOnly(String),
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    #[error(transparent)]
    Store(#[from] loadlake_store::StoreError),
    #[error("building the runs table: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// A run rollup could not be kept in the store (a read-only store, say).
    #[error("writing a rollup: {0}")]
    RollupStore(#[source] loadlake_store::StoreError),
    /// A run rollup could not be encoded as Parquet.
    #[error("writing a rollup: {0}")]
    RollupParquet(#[from] datafusion::parquet::errors::ParquetError),
    /// Rollups asked for on a session whose latencies they do not hold.
    #[error(
        "rollups hold recorded latencies in whole ms; this session reads intended latencies or microseconds"
    )]
    RollupLatency,
    /// Intended latencies asked for on a session already in microseconds (the caller must ask
    /// for them first).
    #[error("intended latencies must be chosen before microsecond resolution")]
    MicrosWithIntended,
    /// A distributed query failed because query workers stopped answering while it ran.
    #[error("{lost} ({source})")]
    WorkerLost {
        /// Which workers, and what the next query does.
        lost: String,
        /// The error the query met.
        source: DataFusionError,
    },
}

use datafusion::error::DataFusionError;
use loadlake_schema::fault::{Fault, HasFault, io_fault, io_fault_in_chain};

impl HasFault for QueryError {
    fn fault(&self) -> Fault {
        match self {
            QueryError::ReadOnly(_) => Fault::User,
            QueryError::WorkerLost { .. } => Fault::Environment,
            QueryError::DataFusion(e) => datafusion_fault(e),
            QueryError::Store(e) => e.fault(),
            QueryError::Arrow(e) => arrow_fault(e),
            QueryError::RollupStore(e) => e.fault(),
            QueryError::RollupParquet(e) => io_fault_in_chain(e).unwrap_or(Fault::Internal),
            QueryError::RollupLatency => Fault::Internal,
            QueryError::MicrosWithIntended => Fault::Internal,
        }
    }
}

/// Whose fault a DataFusion error is, judged by its root cause (through `Context`,
/// `Diagnostic`, `Shared` and `External` wrappers): SQL that does not parse, plan or type-check,
/// or uses an unsupported feature, is the user's; running out of the query memory limit is
/// [`Fault::Exhausted`]; an OS error reading the store as the operating system says; the rest
/// (a failure while running) ours.
pub fn datafusion_fault(e: &DataFusionError) -> Fault {
    let root = e.find_root();
    match root {
        DataFusionError::SQL(..)
        | DataFusionError::Plan(_)
        | DataFusionError::SchemaError(..)
        | DataFusionError::NotImplemented(_)
        | DataFusionError::Configuration(_) => Fault::User,
        DataFusionError::ResourcesExhausted(_) => Fault::Exhausted,
        DataFusionError::ArrowError(a, _) => arrow_fault(a),
        DataFusionError::IoError(io) => io_fault(io),
        DataFusionError::Collection(all) => all
            .iter()
            .map(datafusion_fault)
            .reduce(Fault::most_telling)
            .unwrap_or(Fault::Internal),
        other => io_fault_in_chain(other).unwrap_or(Fault::Internal),
    }
}

fn arrow_fault(e: &arrow::error::ArrowError) -> Fault {
    match e {
        arrow::error::ArrowError::MemoryError(_) => Fault::Exhausted,
        other => io_fault_in_chain(other).unwrap_or(Fault::Internal),
    }
}

/// Whether `e` says that a file listed for the query was gone when it was read: a run deleted
/// (or committed) while the query ran. Planning the query again lists the store as it is now, so
/// callers retry such a query instead of failing it.
pub fn is_vanished_file(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(err) = cause {
        if let Some(datafusion::object_store::Error::NotFound { .. }) =
            err.downcast_ref::<datafusion::object_store::Error>()
        {
            return true;
        }
        if let Some(DataFusionError::ObjectStore(os)) = err.downcast_ref::<DataFusionError>()
            && matches!(**os, datafusion::object_store::Error::NotFound { .. })
        {
            return true;
        }
        cause = err.source();
    }
    false
}
