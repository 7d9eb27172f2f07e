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
}
