//! Decoders that turn load-test result files (JMeter's JTL CSV of every version and save
//! setting, JTL XML including files cut off by a killed run; k6's `--out json` and `--out csv`;
//! Gatling's `simulation.log`, text 3.0–3.12 and binary 3.13+)
//! into canonical [`SampleBatch`]es pushed into a
//! [`SampleSink`]. Bad rows become [`Reject`]s naming file, line, field and reason; what is good
//! is kept. Decoders never hold a whole file in memory.
//!
//! This crate never opens the store: the import pipeline (crates/import, behind `loadlake import`
//! and the gRPC `ImportFile`) runs these decoders into the store's writer. The gRPC
//! `IngestService`'s other call, `StreamSamples`, receives samples already decoded and does not
//! use this crate (docs/glossary.md: "ingest", "import").
//!
//! [`SampleBatch`]: loadlake_schema::SampleBatch
//! [`SampleSink`]: loadlake_schema::SampleSink

pub mod cases;
pub mod columns;
pub mod csv;
pub mod error;
pub mod gatling;
pub mod k6;
pub mod options;
mod record_output;
pub mod rejects;
pub mod sniff;
pub mod subresults;
#[cfg(test)]
mod test_support;
pub mod timestamp;
pub mod xml;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use bzip2::bufread::MultiBzDecoder;
use flate2::bufread::MultiGzDecoder;

use loadlake_schema::SampleSink;

pub use cases::CaseResolver;
pub use columns::JtlColumn;
pub use error::IngestError;
pub use options::DecodeOptions;
pub use rejects::{Reject, RejectHandler, RejectLog};
pub use sniff::JtlFormat;

/// What decoding one file found (everything but the samples themselves).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileReport {
    pub format: Option<JtlFormat>,
    /// Column names in file order (CSV) or the attribute names seen (XML).
    pub columns: Vec<String>,
    pub has_header: Option<bool>,
    pub delimiter: Option<u8>,
    /// Samples pushed to the sink.
    pub samples: u64,
    /// Rows or elements rejected.
    pub rejected: u64,
    pub warnings: Vec<String>,
    /// The load tool that wrote the file, when the format says (`gatling`).
    pub tool: Option<String>,
    /// The tool's version, when the file says it (Gatling's RUN record).
    pub tool_version: Option<String>,
}

/// Decodes one JTL file (compression and format sniffed) into `sink`, numbering samples from
/// `first_row`. A gzip, zstd or bzip2 file (told by its magic bytes, not its name) is
/// decompressed as it is read; a big plain k6 JSON file is read from memory
/// ([`decode_open_file`]).
///
/// Rows that cannot be decoded go to `rejects`, which decides whether the import goes on.
pub fn decode_file(
    path: &Path,
    opts: &DecodeOptions,
    first_row: i64,
    sink: &mut dyn SampleSink,
    rejects: &mut dyn RejectHandler,
) -> Result<FileReport, IngestError> {
    let display = path.display().to_string();
    let file = File::open(path).map_err(|e| IngestError::io(&display, e))?;
    let len = file
        .metadata()
        .map_err(|e| IngestError::io(&display, e))?
        .len();
    decode_open_file(
        &display,
        file,
        len,
        &mut |_| {},
        opts,
        first_row,
        sink,
        rejects,
    )
}

/// [`decode_file`] of the open file `file` (named `display`, `len` bytes long), `on_bytes`
/// hearing its bytes in order as they are read — all of them unless the decoding stopped early
/// (a content hash, then finished from where it stopped). A plain k6 JSON file of 8 MiB or more
/// is read from memory, mapped window by window, rather than copied (`k6/json/mapped.rs`).
#[allow(clippy::too_many_arguments)]
pub fn decode_open_file(
    display: &str,
    file: File,
    len: u64,
    on_bytes: &mut dyn FnMut(&[u8]),
    opts: &DecodeOptions,
    first_row: i64,
    sink: &mut dyn SampleSink,
    rejects: &mut dyn RejectHandler,
) -> Result<FileReport, IngestError> {
    if let Some(first) = k6::json::mapped::first_window_if_k6(&file, len, display, opts) {
        return k6::json::mapped::decode_k6_json_file(
            display, &file, len, first, on_bytes, opts, first_row, sink, rejects,
        );
    }
    let input = Heard {
        inner: file,
        on_bytes,
    };
    decode_read(display, input, len, opts, first_row, sink, rejects)
}

/// A reader that hands every byte it reads to `on_bytes`.
struct Heard<'h, R> {
    inner: R,
    on_bytes: &'h mut dyn FnMut(&[u8]),
}

impl<R: std::io::Read> std::io::Read for Heard<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.on_bytes)(&buf[..n]);
        Ok(n)
    }
}

/// [`decode_file`] of the bytes of the file named `display` (`len` bytes long) read from
/// `input`.
fn decode_read<R: std::io::Read>(
    display: &str,
    input: R,
    len: u64,
    opts: &DecodeOptions,
    first_row: i64,
    sink: &mut dyn SampleSink,
    rejects: &mut dyn RejectHandler,
) -> Result<FileReport, IngestError> {
    // No bigger than the file needs (a back-fill reads thousands of small files).
    let capacity = len.saturating_add(1).clamp(8192, 1 << 20) as usize;
    let mut reader = BufReader::with_capacity(capacity, input);
    let head = reader.fill_buf().map_err(|e| IngestError::io(display, e))?;
    if Compression::of(head).is_none() {
        return decode_plain(display, reader, Some(len), opts, first_row, sink, rejects);
    }
    let plain = decompressed(display, reader)?;
    decode_plain(display, plain, None, opts, first_row, sink, rejects)
}

/// The plain text of `input`: decompressed while it is read when it starts with gzip's, zstd's
/// or bzip2's magic bytes, `input` itself otherwise. `display` names the input in errors. For
/// inputs that are not files of their own (a member of a zip archive, crates/import).
pub fn decompressed<'a, R: BufRead + 'a>(
    display: &str,
    mut input: R,
) -> Result<Box<dyn BufRead + 'a>, IngestError> {
    let head = input.fill_buf().map_err(|e| IngestError::io(display, e))?;
    Ok(match Compression::of(head) {
        None => Box::new(input),
        Some(Compression::Gzip) => Box::new(BufReader::with_capacity(
            1 << 20,
            MultiGzDecoder::new(input),
        )),
        Some(Compression::Zstd) => {
            let decoder = zstd::stream::read::Decoder::with_buffer(input)
                .map_err(|e| IngestError::io(display, e))?;
            Box::new(BufReader::with_capacity(1 << 20, decoder))
        }
        Some(Compression::Bzip2) => Box::new(BufReader::with_capacity(
            1 << 20,
            MultiBzDecoder::new(input),
        )),
    })
}

/// Whether a file starting with `head` (its first 4 bytes or more) is gzip, zstd or bzip2
/// compressed, as [`decode_file`] tells it.
pub fn is_compressed(head: &[u8]) -> bool {
    Compression::of(head).is_some()
}

/// A compression a JTL file may come in, told by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    /// gzip (`1f 8b`), one or several members (`cat a.gz b.gz`).
    Gzip,
    /// zstd (`28 b5 2f fd`).
    Zstd,
    /// bzip2 (`BZh` and the block size, `1`–`9`), one or several streams.
    Bzip2,
}

impl Compression {
    /// The compression whose magic bytes `head` starts with, if any.
    fn of(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else if head.len() >= 4 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
            Some(Compression::Bzip2)
        } else {
            None
        }
    }
}

/// Decodes the plain (decompressed) JTL text of `reader`, its format sniffed; `display` names
/// it in rejects and errors. `len` is the length of the file at the path `display` when the text
/// is that whole file (a CSV's cut last line is then recognised), `None` for any other input.
pub fn decode_plain<R: BufRead>(
    display: &str,
    mut reader: R,
    len: Option<u64>,
    opts: &DecodeOptions,
    first_row: i64,
    sink: &mut dyn SampleSink,
    rejects: &mut dyn RejectHandler,
) -> Result<FileReport, IngestError> {
    let format = sniff::sniff(display, &mut reader, opts.format)?;
    let mut report = match format {
        JtlFormat::Csv => csv::decode_csv(
            display,
            reader,
            len,
            opts,
            first_row,
            sink,
            rejects,
            &mut subresults::SubResultTracker::default(),
        )?,
        JtlFormat::Xml => xml::decode_xml(display, reader, opts, first_row, sink, rejects)?,
        JtlFormat::K6Json => k6::decode_k6_json(display, reader, opts, first_row, sink, rejects)?,
        JtlFormat::K6Csv => k6::decode_k6_csv(display, reader, opts, first_row, sink, rejects)?,
        JtlFormat::Gatling => {
            gatling::decode_gatling(display, reader, opts, first_row, sink, rejects)?
        }
    };
    report.format = Some(format);
    Ok(report)
}

/// Hands the builder's buffered samples to the sink as one batch (nothing if empty).
pub(crate) fn flush_batch(
    file: &str,
    builder: &mut loadlake_schema::SampleBatchBuilder,
    sink: &mut dyn SampleSink,
) -> Result<(), IngestError> {
    if builder.is_empty() {
        return Ok(());
    }
    let batch = builder.finish().map_err(|e| IngestError::arrow(file, e))?;
    sink.write_batch(batch)
        .map_err(|e| IngestError::sink(file, e))
}
