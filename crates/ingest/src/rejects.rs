//! Rejected rows: what could not be imported, where, and why; and the policy that decides
//! whether an import goes on (`--strict`, `--max-errors`).

use crate::error::IngestError;

/// Longest raw excerpt kept with a reject.
const RAW_EXCERPT: usize = 512;

/// One row (CSV) or element (XML) that could not be imported.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Reject {
    pub file: String,
    /// 1-based line where the row starts.
    pub line: u64,
    /// The JMeter column or XML attribute at fault, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub reason: String,
    /// The start of the raw row, lossily decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

impl Reject {
    /// A reject with a raw excerpt of at most 512 bytes.
    pub fn new(
        file: &str,
        line: u64,
        field: Option<&str>,
        reason: impl Into<String>,
        raw: Option<&[u8]>,
    ) -> Self {
        Reject {
            file: file.to_string(),
            line,
            field: field.map(str::to_string),
            reason: reason.into(),
            raw: raw.map(|r| String::from_utf8_lossy(&r[..r.len().min(RAW_EXCERPT)]).into_owned()),
        }
    }

    /// `line N, field F: reason`.
    pub fn describe(&self) -> String {
        match &self.field {
            Some(f) => format!("{}:{}: field {f}: {}", self.file, self.line, self.reason),
            None => format!("{}:{}: {}", self.file, self.line, self.reason),
        }
    }
}

/// Receives rejects; returning an error stops the import. `Send`: a decoder may run its
/// assembling on a thread of its own (k6 JSON does).
pub trait RejectHandler: Send {
    fn reject(&mut self, r: Reject) -> Result<(), IngestError>;
}

/// The standard policy: keep every reject, stop on the first with `strict`, or once more than
/// `max_errors` rows were rejected.
#[derive(Debug, Default)]
pub struct RejectLog {
    pub strict: bool,
    pub max_errors: u64,
    pub rejects: Vec<Reject>,
}

impl RejectLog {
    pub fn new(strict: bool, max_errors: u64) -> Self {
        RejectLog {
            strict,
            max_errors,
            rejects: Vec::new(),
        }
    }
}

impl RejectHandler for RejectLog {
    fn reject(&mut self, r: Reject) -> Result<(), IngestError> {
        tracing::warn!("{}", r.describe());
        let stop = if self.strict {
            Some(IngestError::Strict {
                file: r.file.clone(),
                line: r.line,
                reason: r.describe(),
            })
        } else if self.rejects.len() as u64 >= self.max_errors {
            Some(IngestError::TooManyRejects {
                file: r.file.clone(),
                max: self.max_errors,
                line: r.line,
                reason: r.reason.clone(),
            })
        } else {
            None
        };
        self.rejects.push(r);
        match stop {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
