//! Options of a decode, as the CLI and the gRPC import receive them.

use chrono_tz::Tz;

use crate::cases::CaseResolver;
use crate::sniff::JtlFormat;

/// How to read the files of one import.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// Force a format instead of sniffing it.
    pub format: Option<JtlFormat>,
    /// Column names of a header-less CSV (JMeter header names, `"var"` for sample variables).
    pub columns: Option<Vec<String>>,
    /// JMeter version whose default columns a header-less CSV has (`2.13`, `3.0`, `3.1`, `5.0`…).
    pub jmeter_version: Option<String>,
    /// CSV field delimiter; detected when `None`.
    pub delimiter: Option<u8>,
    /// `SimpleDateFormat` pattern of CSV timestamps (JMeter's `timestamp_format`); `None` = epoch ms,
    /// with JMeter's fallback formats tried when a value is not a number.
    pub timestamp_format: Option<String>,
    /// Time zone of formatted timestamps without an offset (JMeter wrote them in its JVM's zone).
    pub timezone: Tz,
    /// Thread name / label → case name.
    pub cases: CaseResolver,
    /// Samples per batch handed to the sink.
    pub batch_rows: usize,
    /// Longest accepted field, in bytes; longer fields reject their row.
    pub max_field_bytes: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            format: None,
            columns: None,
            jmeter_version: None,
            delimiter: None,
            timestamp_format: None,
            timezone: Tz::UTC,
            cases: CaseResolver::default(),
            batch_rows: 64 * 1024,
            max_field_bytes: 1 << 20,
        }
    }
}
