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
