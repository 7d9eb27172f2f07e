//! Whose fault an [`ImportError`] is (the classification of `loadlake_schema::fault`): the
//! files and options the user gave are the user's; the store failing to take the samples (a
//! full disk, a read-only store) is as the operating system says, never "bad input".

use loadlake_schema::fault::{Fault, HasFault, first_io_error, input_io_fault, io_fault_in_chain};

use crate::ImportError;

impl HasFault for ImportError {
    fn fault(&self) -> Fault {
        match self {
            ImportError::Ingest(e) => e.fault(),
            ImportError::Store(e) => e.fault(),
            ImportError::Sink(e) => io_fault_in_chain(e.0.as_ref()).unwrap_or(Fault::Internal),
            ImportError::Plan { source, .. } => {
                // The plan is a file the user named.
                first_io_error(source).map_or(Fault::User, input_io_fault)
            }
            // Missing or repeated files, a re-import, nothing importable: the input.
            _ => Fault::User,
        }
    }
}

#[cfg(test)]
mod tests {
    use loadlake_ingest::IngestError;
    use loadlake_schema::SinkError;
    use loadlake_store::StoreError;

    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_or_read_only_store_is_not_bad_input() {
        let full = ImportError::Ingest(IngestError::Sink {
            file: "big.jtl".into(),
            source: SinkError::new(StoreError::Io {
                path: "/store/tmp/run_id=x/part-3.parquet".into(),
                source: std::io::Error::from_raw_os_error(28), // ENOSPC
            }),
        });
        assert_eq!(full.fault(), Fault::Exhausted);
        let read_only = ImportError::Store(StoreError::Io {
            path: "/store/tmp/x.lock".into(),
            source: std::io::Error::from_raw_os_error(30), // EROFS
        });
        assert_eq!(read_only.fault(), Fault::Environment);
        let at_commit = ImportError::Sink(SinkError::new(StoreError::Io {
            path: "/store/runs".into(),
            source: std::io::Error::from_raw_os_error(122), // EDQUOT
        }));
        assert_eq!(at_commit.fault(), Fault::Exhausted);
    }

    #[test]
    fn the_users_files_are_the_users() {
        let missing = ImportError::NoSuchFile("nosuch.jtl".into());
        assert_eq!(missing.fault(), Fault::User);
        let again = ImportError::SameBytes {
            first: "a.jtl".into(),
            second: "b.jtl".into(),
        };
        assert_eq!(again.fault(), Fault::User);
    }
}
