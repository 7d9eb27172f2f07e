//! Server errors, and how library errors become gRPC statuses.

use std::net::SocketAddr;
use std::path::PathBuf;

use loadlake_query::QueryError;
use loadlake_report::job::JobError;
use loadlake_schema::fault::{Fault, HasFault};
use loadlake_store::StoreError;
use tonic::{Code, Status};

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
    #[error(transparent)]
    Cluster(#[from] loadlake_cluster::ClusterError),
}

/// The status of a fault (docs/api.md "Statuses"): the caller's input `INVALID_ARGUMENT`, a
/// missing run `NOT_FOUND`, an exhausted resource (the query memory limit, a full disk)
/// `RESOURCE_EXHAUSTED`, the server's environment (a read-only store, permissions, a device
/// error) `UNAVAILABLE`, a failure of loadlake itself `INTERNAL`. Whose fault an error is, is
/// decided by the library that raised it ([`loadlake_schema::fault`]).
pub(crate) fn fault_status(fault: Fault, message: String) -> Status {
    let code = match fault {
        Fault::User => Code::InvalidArgument,
        Fault::NotFound => Code::NotFound,
        Fault::Exhausted => Code::ResourceExhausted,
        Fault::Environment => Code::Unavailable,
        Fault::Internal => Code::Internal,
    };
    if matches!(fault, Fault::Environment | Fault::Internal) {
        tracing::error!("{message}");
    }
    Status::new(code, message)
}

/// A query error as a status.
pub(crate) fn query_status(e: QueryError) -> Status {
    fault_status(e.fault(), e.to_string())
}

/// A report job's error as a status.
pub(crate) fn job_status(e: JobError) -> Status {
    fault_status(e.fault(), e.to_string())
}

/// A store error as a status.
pub(crate) fn store_status(e: &StoreError) -> Status {
    fault_status(e.fault(), e.to_string())
}

#[cfg(test)]
mod tests {
    use datafusion::error::DataFusionError;

    use super::*;

    #[test]
    fn statuses_of_query_errors() {
        let unknown_table = DataFusionError::Plan("table 'nosuchtable' not found".into());
        let in_context = DataFusionError::Context("planning".into(), Box::new(unknown_table));
        assert_eq!(
            query_status(QueryError::DataFusion(in_context)).code(),
            Code::InvalidArgument
        );
        let unsupported = DataFusionError::NotImplemented("LATERAL".into());
        assert_eq!(
            query_status(QueryError::DataFusion(unsupported)).code(),
            Code::InvalidArgument
        );
        let pool = DataFusionError::ResourcesExhausted("Failed to allocate".into());
        let shared = DataFusionError::Shared(std::sync::Arc::new(pool));
        assert_eq!(
            query_status(QueryError::DataFusion(shared)).code(),
            Code::ResourceExhausted
        );
        assert_eq!(
            store_status(&StoreError::NoSuchRun("x".into())).code(),
            Code::NotFound
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn statuses_of_os_errors() {
        let read_only = StoreError::Io {
            path: "/store/runs".into(),
            source: std::io::Error::from_raw_os_error(30), // EROFS
        };
        assert_eq!(store_status(&read_only).code(), Code::Unavailable);
        let full = StoreError::Io {
            path: "/store/tmp".into(),
            source: std::io::Error::from_raw_os_error(28), // ENOSPC
        };
        assert_eq!(store_status(&full).code(), Code::ResourceExhausted);
    }
}
