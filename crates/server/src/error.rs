//! Server errors, and how library errors become gRPC statuses.

use std::net::SocketAddr;
use std::path::PathBuf;

use loadlake_query::QueryError;
use loadlake_store::StoreError;
use tonic::Status;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(
        "refusing to listen on {0} without a token: anyone who can reach it could read every run. \
         Pass --token-file FILE, or listen on 127.0.0.1"
    )]
    NoTokenOnOpenAddress(SocketAddr),
    #[error("binding {0}: {1}")]
    Bind(SocketAddr, #[source] std::io::Error),
    #[error("reading TLS file {0}: {1}")]
    Tls(PathBuf, #[source] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("setting up the server: {0}")]
    Setup(String),
    #[error("serving: {0}")]
    Transport(String),
}

/// A query error as a status: the caller's SQL or arguments are `INVALID_ARGUMENT`, a missing run
/// `NOT_FOUND`, the rest `INTERNAL`.
pub(crate) fn query_status(e: QueryError) -> Status {
    use datafusion::error::DataFusionError as D;
    match &e {
        QueryError::ReadOnly(_) => Status::invalid_argument(e.to_string()),
        QueryError::Store(s) => store_status(s),
        QueryError::DataFusion(d) => match d {
            D::SQL(..) | D::Plan(_) | D::SchemaError(..) | D::NotImplemented(_) => {
                Status::invalid_argument(d.to_string())
            }
            D::ResourcesExhausted(_) => Status::resource_exhausted(d.to_string()),
            _ => Status::internal(d.to_string()),
        },
        QueryError::Arrow(_) => Status::internal(e.to_string()),
    }
}

/// A store error as a status.
pub(crate) fn store_status(e: &StoreError) -> Status {
    match e {
        StoreError::NoSuchRun(_) => Status::not_found(e.to_string()),
        _ => Status::internal(e.to_string()),
    }
}
