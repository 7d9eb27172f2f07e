//! Whose fault a [`StoreError`] is (the classification of `loadlake_schema::fault`): an unknown
//! run is [`Fault::NotFound`], a run that is not running the caller's mistake, an OS error
//! inside (writing a part, renaming a directory) as the operating system says — a full disk
//! [`Fault::Exhausted`], a read-only store [`Fault::Environment`] —, everything else ours.

use loadlake_schema::fault::{Fault, HasFault, io_fault, io_fault_in_chain};

use crate::StoreError;

impl HasFault for StoreError {
    fn fault(&self) -> Fault {
        match self {
            StoreError::Io { source, .. } => io_fault(source),
            StoreError::NoSuchRun(_) => Fault::NotFound,
            StoreError::NotLive(_) | StoreError::BadTag(_) | StoreError::Location(_) => Fault::User,
            // A bucket that is not there, credentials refused, an endpoint down: the environment.
            StoreError::Remote { .. } | StoreError::Runtime(_) => Fault::Environment,
            // Parquet and Arrow errors may carry the OS error of a write; a store we cannot
            // parse (a manifest), and variants added later, are ours.
            other => io_fault_in_chain(other).unwrap_or(Fault::Internal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn os_errors_of_the_store_say_what_the_system_said() {
        let full = StoreError::Io {
            path: "/store/tmp/run_id=x/part-0.parquet".into(),
            source: std::io::Error::from_raw_os_error(28), // ENOSPC
        };
        assert_eq!(full.fault(), Fault::Exhausted);
        let read_only = StoreError::Io {
            path: "/store/runs".into(),
            source: std::io::Error::from_raw_os_error(30), // EROFS
        };
        assert_eq!(read_only.fault(), Fault::Environment);
        let parquet = StoreError::Parquet {
            path: "/store/tmp/run_id=x/part-0.parquet".into(),
            source: parquet::errors::ParquetError::External(Box::new(
                std::io::Error::from_raw_os_error(122), // EDQUOT
            )),
        };
        assert_eq!(parquet.fault(), Fault::Exhausted);
    }

    #[test]
    fn unknown_runs_and_broken_manifests() {
        assert_eq!(
            StoreError::NoSuchRun("20260101-000000-abcd".into()).fault(),
            Fault::NotFound
        );
        let broken = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        let manifest = StoreError::Manifest {
            path: "/store/runs/x.json".into(),
            source: broken,
        };
        assert_eq!(manifest.fault(), Fault::Internal);
    }
}
