//! Streaming CSV rows → [`SampleRecord`]s → batches.

use std::io::{BufRead, BufReader};

use loadlake_schema::{SampleBatchBuilder, SampleRecord, SampleSink};

use super::header::Layout;
use super::parse_i64;
use super::split::{Fields, Records};
use crate::columns::JtlColumn;
use crate::error::IngestError;
use crate::options::DecodeOptions;
use crate::rejects::{Reject, RejectHandler};
use crate::subresults::SubResultTracker;
use crate::timestamp::TimestampParser;
use crate::{FileReport, flush_batch as flush};

/// Field positions of the columns a file has.
#[derive(Default)]
struct Positions {
    ts: Option<usize>,
    elapsed: Option<usize>,
    label: usize,
    code: Option<usize>,
    message: Option<usize>,
    thread: Option<usize>,
    data_type: Option<usize>,
    success: usize,
    failure: Option<usize>,
    bytes: Option<usize>,
    sent: Option<usize>,
    grp: Option<usize>,
    all: Option<usize>,
    url: Option<usize>,
    latency: Option<usize>,
    encoding: Option<usize>,
    sample_count: Option<usize>,
    error_count: Option<usize>,
    hostname: Option<usize>,
    idle: Option<usize>,
    connect: Option<usize>,
    vars: Vec<(String, usize)>,
}

impl Positions {
    fn of(columns: &[JtlColumn]) -> Positions {
        let mut p = Positions::default();
        for (i, c) in columns.iter().enumerate() {
            let slot = match c {
                JtlColumn::TimeStamp => &mut p.ts,
                JtlColumn::Elapsed => &mut p.elapsed,
                JtlColumn::Label => {
                    p.label = i;
                    continue;
                }
                JtlColumn::Success => {
                    p.success = i;
                    continue;
                }
                JtlColumn::ResponseCode => &mut p.code,
                JtlColumn::ResponseMessage => &mut p.message,
                JtlColumn::ThreadName => &mut p.thread,
                JtlColumn::DataType => &mut p.data_type,
                JtlColumn::FailureMessage => &mut p.failure,
                JtlColumn::Bytes => &mut p.bytes,
                JtlColumn::SentBytes => &mut p.sent,
                JtlColumn::GrpThreads => &mut p.grp,
                JtlColumn::AllThreads => &mut p.all,
                JtlColumn::Url => &mut p.url,
                JtlColumn::Latency => &mut p.latency,
                JtlColumn::Encoding => &mut p.encoding,
                JtlColumn::SampleCount => &mut p.sample_count,
                JtlColumn::ErrorCount => &mut p.error_count,
                JtlColumn::Hostname => &mut p.hostname,
                JtlColumn::IdleTime => &mut p.idle,
                JtlColumn::Connect => &mut p.connect,
                JtlColumn::Filename => continue,
                JtlColumn::Variable(name) => {
                    p.vars.push((name.clone(), i));
                    continue;
                }
            };
            *slot = Some(i);
        }
        p
    }
}

/// A row problem: the field at fault and why.
type RowError = (Option<&'static str>, String);

/// Reads field `i` as text (`None` when the column is absent).
fn text<'r>(
    rec: &Fields<'r>,
    i: Option<usize>,
    name: &'static str,
    max: usize,
) -> Result<Option<&'r str>, RowError> {
    let Some(i) = i else { return Ok(None) };
    // Nearly every field: text within the limit, taken with one look-up.
    match rec.str(i) {
        Some(Ok(t)) if t.len() <= max => return Ok(Some(t)),
        None => return Ok(Some("")),
        _ => {}
    }
    let raw = rec.get(i).unwrap_or_default();
    if raw.len() > max {
        return Err((
            Some(name),
            format!(
                "field is {} bytes, longer than the {} byte limit",
                raw.len(),
                max
            ),
        ));
    }
    rec.str(i).unwrap_or(Ok("")).map(Some).map_err(|e| {
        (
            Some(name),
            format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        )
    })
}

/// Reads field `i` as an integer; empty = `None`.
fn int(rec: &Fields<'_>, i: Option<usize>, name: &'static str) -> Result<Option<i64>, RowError> {
    let Some(i) = i else { return Ok(None) };
    let raw = rec.get(i).unwrap_or_default();
    if raw.is_empty() {
        return Ok(None);
    }
    parse_i64(raw).map(Some).ok_or_else(|| {
        (
            Some(name),
            format!("'{}' is not a whole number", String::from_utf8_lossy(raw)),
        )
    })
}

/// Reads field `i` as a duration in ms within the plausible range (`loadlake_schema::range`).
fn duration(
    rec: &Fields<'_>,
    i: Option<usize>,
    name: &'static str,
) -> Result<Option<i64>, RowError> {
    int(rec, i, name)?
        .map(|v| loadlake_schema::check_duration(v).map_err(|e| (Some(name), e.to_string())))
        .transpose()
}

fn int32(rec: &Fields<'_>, i: Option<usize>, name: &'static str) -> Result<Option<i32>, RowError> {
    int(rec, i, name)?
        .map(|v| i32::try_from(v).map_err(|_| (Some(name), format!("{v} is out of range"))))
        .transpose()
}

fn boolean(rec: &Fields<'_>, i: usize) -> Result<bool, RowError> {
    match rec.get(i).unwrap_or_default() {
        b"true" | b"TRUE" | b"True" => Ok(true),
        b"false" | b"FALSE" | b"False" => Ok(false),
        other => Err((
            Some("success"),
            format!("'{}' is not true or false", String::from_utf8_lossy(other)),
        )),
    }
}

/// The state of one file's decode.
struct RowDecoder<'o> {
    pos: Positions,
    ncols: usize,
    ts: TimestampParser,
    /// The open parents, also those a previous chunk of the file left (`import --follow`).
    subresults: &'o mut SubResultTracker,
    opts: &'o DecodeOptions,
}

impl RowDecoder<'_> {
    /// Maps one record to a sample (row numbers come from `builder`) and pushes it.
    fn push(&mut self, rec: &Fields<'_>, builder: &mut SampleBatchBuilder) -> Result<(), RowError> {
        if rec.len() < self.ncols {
            return Err((
                None,
                format!("expected {} fields, found {}", self.ncols, rec.len()),
            ));
        }
        let max = self.opts.max_field_bytes;
        let p = &self.pos;
        let label = text(rec, Some(p.label), "label", max)?.unwrap_or_default();
        let thread = text(rec, p.thread, "threadName", max)?;
        let ts_ms = match text(rec, p.ts, "timeStamp", max)? {
            None | Some("") => None,
            Some(t) => Some(
                self.ts
                    .parse(t)
                    .and_then(|ms| loadlake_schema::check_ts(ms).map_err(|e| e.to_string()))
                    .map_err(|e| (Some("timeStamp"), e))?,
            ),
        };
        let mut vars = Vec::with_capacity(p.vars.len());
        for (name, i) in &p.vars {
            if let Some(v) = text(rec, Some(*i), "sample variable", max)? {
                vars.push((name.as_str(), v));
            }
        }
        let row = builder.next_row();
        let case = self.opts.cases.resolve(thread, label);
        let mut record = SampleRecord {
            ts_ms,
            elapsed_ms: duration(rec, p.elapsed, "elapsed")?,
            latency_ms: duration(rec, p.latency, "Latency")?,
            connect_ms: duration(rec, p.connect, "Connect")?,
            idle_ms: duration(rec, p.idle, "IdleTime")?,
            intended_elapsed_ms: None,
            label,
            case_name: case.as_deref(),
            thread,
            kind: None,
            parent_row: None,
            response_code: text(rec, p.code, "responseCode", max)?,
            response_message: text(rec, p.message, "responseMessage", max)?,
            success: boolean(rec, p.success)?,
            failure_message: text(rec, p.failure, "failureMessage", max)?.filter(|m| !m.is_empty()),
            bytes_received: int(rec, p.bytes, "bytes")?,
            bytes_sent: int(rec, p.sent, "sentBytes")?,
            grp_threads: int32(rec, p.grp, "grpThreads")?,
            all_threads: int32(rec, p.all, "allThreads")?,
            sample_count: int32(rec, p.sample_count, "SampleCount")?,
            error_count: int32(rec, p.error_count, "ErrorCount")?,
            url: text(rec, p.url, "URL", max)?.filter(|u| !u.is_empty() && *u != "null"),
            agent: text(rec, p.hostname, "Hostname", max)?.filter(|h| !h.is_empty()),
            data_type: text(rec, p.data_type, "dataType", max)?.filter(|d| !d.is_empty()),
            encoding: text(rec, p.encoding, "Encoding", max)?.filter(|e| !e.is_empty()),
            vars,
            // JMeter writes whole ms.
            elapsed_us: None,
            latency_us: None,
            connect_us: None,
        };
        // Only a row whose every field is good takes part in the sub-result structure: a
        // rejected row must not become the parent of the rows after it (they would link to
        // whichever row takes its number).
        let parent_row = self
            .subresults
            .observe(row, label, thread.unwrap_or_default());
        record.parent_row = parent_row;
        record.kind = parent_row.map(|_| loadlake_schema::SampleKind::Subsample);
        if let Err(e) = builder.push(&record) {
            self.subresults.forget(row, parent_row.is_some());
            return Err((None, e.to_string()));
        }
        Ok(())
    }
}

/// Decodes every record after the layout's header into `sink`; sub-results are linked to the
/// parents `subresults` holds open (from the rows before, also those of an earlier chunk).
#[allow(clippy::too_many_arguments)]
pub(super) fn decode_rows<R: BufRead>(
    file: &str,
    reader: R,
    layout: &Layout,
    len_and_terminated: Option<(u64, bool)>,
    opts: &DecodeOptions,
    first_row: i64,
    sink: &mut dyn SampleSink,
    rejects: &mut dyn RejectHandler,
    subresults: &mut SubResultTracker,
) -> Result<FileReport, IngestError> {
    // No bigger a buffer than the file needs (a back-fill reads thousands of small files).
    let capacity = len_and_terminated.map_or(1 << 20, |(len, _)| {
        len.saturating_add(1).clamp(8192, 1 << 20) as usize
    });
    let mut records = Records::new(BufReader::with_capacity(capacity, reader), layout.delimiter);
    let mut dec = RowDecoder {
        pos: Positions::of(&layout.columns),
        ncols: layout.columns.len(),
        ts: TimestampParser::new(opts.timestamp_format.as_deref(), opts.timezone)
            .map_err(|e| IngestError::layout(file, e))?,
        subresults,
        opts,
    };
    let mut report = FileReport {
        columns: layout.columns.iter().map(|c| c.header_name()).collect(),
        has_header: Some(layout.has_header),
        delimiter: Some(layout.delimiter),
        warnings: layout.warnings.clone(),
        ..Default::default()
    };
    let mut builder = SampleBatchBuilder::new(first_row);
    let mut header_record: Option<Vec<Vec<u8>>> = None;
    let (mut extra_fields, mut repeated_headers) = (0u64, 0u64);
    let mut first = true;
    loop {
        let record = match records.next_record() {
            Ok(Some(record)) => record,
            Ok(None) => break,
            Err(e) => {
                // As the csv crate reported it: no line, the records end here.
                let e = csv::Error::from(e);
                report.rejected += 1;
                rejects.reject(Reject::new(file, 0, None, e.to_string(), None))?;
                continue;
            }
        };
        let (line, rec) = (record.line, &record.fields);
        if first {
            first = false;
            if layout.has_header {
                header_record = Some(rec.to_owned());
                continue;
            }
        }
        // A repeated header (runs appended to one file); the first-field check keeps this cheap.
        if let Some(h) = &header_record
            && h.first().map(Vec::as_slice) == rec.get(0)
            && rec.equals(h)
        {
            repeated_headers += 1;
            continue;
        }
        let is_cut_tail = len_and_terminated
            .is_some_and(|(len, terminated)| !terminated && record.end_byte >= len);
        let result = if is_cut_tail {
            Err((None, "incomplete last line (the file does not end with a line break: cut off by a killed JMeter?)".to_string()))
        } else {
            dec.push(rec, &mut builder)
        };
        match result {
            Ok(()) => {
                report.samples += 1;
                if rec.len() > dec.ncols {
                    extra_fields += 1;
                }
                if builder.len() >= opts.batch_rows {
                    flush(file, &mut builder, sink)?;
                }
            }
            Err((field, reason)) => {
                if is_cut_tail {
                    report
                        .warnings
                        .push(format!("line {line}: {reason}; it was not imported"));
                }
                report.rejected += 1;
                let raw = rec.raw();
                rejects.reject(Reject::new(file, line, field, reason, Some(&raw)))?;
            }
        }
    }
    flush(file, &mut builder, sink)?;
    if extra_fields > 0 {
        report.warnings.push(format!(
            "{extra_fields} rows had more fields than the {} columns; the extra fields were ignored (as JMeter does)",
            dec.ncols
        ));
    }
    if repeated_headers > 0 {
        report.warnings.push(format!(
            "{repeated_headers} repeated header lines were skipped"
        ));
    }
    Ok(report)
}
