//! Errors that stop the decoding of a file (row-level problems are [`crate::Reject`]s instead).

/// A file could not be decoded at all, or the reject policy stopped the import.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: the file is empty")]
    Empty { file: String },
    #[error("{file}: not a JMeter result file: {reason}")]
    NotJtl { file: String, reason: String },
    #[error(
        "{file}: missing required column(s) {missing} (found: {found}); JMeter's report generator needs them too"
    )]
    MissingColumns {
        file: String,
        missing: String,
        found: String,
    },
    #[error("{file}: {reason}")]
    Layout { file: String, reason: String },
    #[error("{file}:{line}: {reason} (--strict stops at the first bad row)")]
    Strict {
        file: String,
        line: u64,
        reason: String,
    },
    #[error(
        "{file}: more than {max} rows could not be imported (last: line {line}: {reason}); raise --max-errors to keep going"
    )]
    TooManyRejects {
        file: String,
        max: u64,
        line: u64,
        reason: String,
    },
    #[error("{file}: could not hand samples to the store: {source}")]
    Sink {
        file: String,
        #[source]
        source: loadlake_schema::SinkError,
    },
    #[error("{file}: {source}")]
    Arrow {
        file: String,
        #[source]
        source: arrow::error::ArrowError,
    },
}

impl IngestError {
    /// An I/O error on `file`.
    pub fn io(file: &str, source: std::io::Error) -> Self {
        IngestError::Io {
            file: file.to_string(),
            source,
        }
    }

    pub(crate) fn layout(file: &str, reason: impl Into<String>) -> Self {
        IngestError::Layout {
            file: file.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn arrow(file: &str, source: arrow::error::ArrowError) -> Self {
        IngestError::Arrow {
            file: file.to_string(),
            source,
        }
    }

    pub(crate) fn sink(file: &str, source: loadlake_schema::SinkError) -> Self {
        IngestError::Sink {
            file: file.to_string(),
            source,
        }
    }
}

impl loadlake_schema::fault::HasFault for IngestError {
    /// A file the user named that is missing, unreadable or malformed is the user's; a full
    /// disk or a failing device while reading it, or the store failing to take the samples, is
    /// as the operating system says; building Arrow batches failing is ours.
    fn fault(&self) -> loadlake_schema::fault::Fault {
        use loadlake_schema::fault::{Fault, input_io_fault, io_fault_in_chain};
        match self {
            IngestError::Io { source, .. } => input_io_fault(source),
            IngestError::Sink { source, .. } => {
                io_fault_in_chain(source.0.as_ref()).unwrap_or(Fault::Internal)
            }
            IngestError::Arrow { source, .. } => {
                io_fault_in_chain(source).unwrap_or(Fault::Internal)
            }
            // Empty, not a JTL, missing columns, bad layout, the reject policy: the input.
            _ => Fault::User,
        }
    }
}

#[cfg(test)]
mod fault_tests {
    use loadlake_schema::SinkError;
    use loadlake_schema::fault::{Fault, HasFault};

    use super::IngestError;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_behind_the_sink_is_not_the_users_input() {
        let full = IngestError::sink(
            "big.jtl",
            SinkError::new(std::io::Error::from_raw_os_error(28)), // ENOSPC
        );
        assert_eq!(full.fault(), Fault::Exhausted);
        let read_only = IngestError::sink(
            "big.jtl",
            SinkError::new(std::io::Error::from_raw_os_error(30)), // EROFS
        );
        assert_eq!(read_only.fault(), Fault::Environment);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_users_file_is_the_users() {
        let missing = IngestError::io("nosuch.jtl", std::io::Error::from_raw_os_error(2));
        assert_eq!(missing.fault(), Fault::User);
        let empty = IngestError::Empty {
            file: "empty.jtl".into(),
        };
        assert_eq!(empty.fault(), Fault::User);
    }
}
