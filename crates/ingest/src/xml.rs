//! JTL XML decoding with quick-xml, streaming: `sample` / `httpSample` / `statSample` at any
//! nesting depth, every attribute, `assertionResult` failure messages, the URL child; all other
//! children are skipped unread. A top-level sample is emitted when its end tag is read, so a file
//! cut off by a killed JMeter keeps every complete sample and reports the cut as a warning.
//!
//! Nothing here recurses: a top-level sample and its sub-samples are held flat, in document
//! (pre-)order with parent indices, and emitted by one loop. Sample elements nest at most
//! [`MAX_SAMPLE_DEPTH`] levels and carry at most [`MAX_ATTRIBUTES`] attributes; past either limit
//! the top-level sample is rejected (file, line, limit), the elements are skipped by an iterative
//! read, and decoding goes on with the next sample.
//!
//! Top-level samples with no children, or with assertion results only (nearly every element
//! JMeter writes by default), take a fast path ([`flat`], [`children`]) that reads them straight
//! from the reader's buffer without quick-xml events or copies; everything else, and every
//! element the fast path is unsure of, goes through quick-xml as before.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::BufRead;

use attrs::{AttrError, Known, SampleAttrs};
use loadlake_schema::{SampleBatchBuilder, SampleKind, SampleRecord, SampleSink};
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use crate::FileReport;
use crate::error::IngestError;
use crate::options::DecodeOptions;
use crate::rejects::RejectHandler;

/// Most levels of sample elements (a top-level sample is level 1). JMeter nests sub-results a
/// few levels deep (transaction → page → redirect / embedded resource); deeper documents are
/// rejected instead of being held open (docs/import.md).
pub const MAX_SAMPLE_DEPTH: usize = 128;

/// Most attributes of one sample element. JMeter writes about 20 plus one per sample variable;
/// an element with more is rejected before any of its attributes is looked at.
pub const MAX_ATTRIBUTES: usize = 1024;

/// One sample element with its attributes, as part of a flat pre-order tree.
#[derive(Debug)]
struct XmlSample {
    offset: u64,
    /// Index of the enclosing sample in the tree; `None` for the top-level sample.
    parent: Option<usize>,
    attrs: SampleAttrs<'static>,
    url: Option<String>,
    failure_message: Option<String>,
}

/// What an `assertionResult` element said.
#[derive(Default)]
struct Assertion {
    failed: bool,
    message: Option<String>,
}

fn is_sample(name: &str) -> bool {
    matches!(name, "sample" | "httpSample" | "statSample")
}

/// Per-file decoding state.
struct XmlDecoder<'a> {
    file: &'a str,
    opts: &'a DecodeOptions,
    builder: SampleBatchBuilder,
    report: FileReport,
    /// Known attributes seen, one bit each ([`Known::bit`]).
    known_attributes: u32,
    /// Other attributes seen (sample variables), in order of first sight.
    attribute_names: Vec<String>,
    /// The same names, for a constant-time "seen before?" (a list scan made wide files quadratic).
    attribute_seen: HashSet<String>,
    lossy_values: u64,
}

impl XmlDecoder<'_> {
    /// Records a sample variable's name for the manifest, once, in order of first sight.
    fn note_variable(&mut self, key: &str) {
        if !self.attribute_seen.contains(key) {
            self.attribute_seen.insert(key.to_string());
            self.attribute_names.push(key.to_string());
        }
    }

    /// Records the attribute names of a sample read by the flat fast path: the known ones by
    /// their bits (`seen`), the variables by name.
    fn note_flat(&mut self, seen: u32, vars: &[(Cow<'_, str>, Cow<'_, str>)]) {
        self.known_attributes |= seen;
        for (key, _) in vars {
            self.note_variable(key);
        }
    }

    /// Parses a sample element's attributes. Bad numbers, or more than [`MAX_ATTRIBUTES`]
    /// attributes, reject the element.
    fn parse_sample(
        &mut self,
        e: &BytesStart<'_>,
        offset: u64,
        parent: Option<usize>,
    ) -> Result<XmlSample, AttrError> {
        // Counted first, so a hostile element costs one linear scan and nothing else. No
        // duplicate checks (quick-xml's are quadratic): a repeated JMeter attribute's last value
        // wins, a repeated variable is kept as written.
        if e.attributes()
            .with_checks(false)
            .nth(MAX_ATTRIBUTES)
            .is_some()
        {
            return Err((
                "attributes".to_string(),
                format!(
                    "the element has more than {MAX_ATTRIBUTES} attributes (the limit; JMeter writes about 20)"
                ),
            ));
        }
        let mut attrs = SampleAttrs::default();
        for attr in e.attributes().with_checks(false) {
            let attr = attr.map_err(|err| ("attributes".to_string(), err.to_string()))?;
            let key: &str = attr.key.as_ref();
            // Borrowed unless the value has entities or line breaks; numbers are parsed from it
            // without a copy.
            let value: Cow<'_, str> = match attr.normalized_value(XmlVersion::Implicit1_0) {
                Ok(v) => v,
                Err(_) => {
                    self.lossy_values += 1;
                    attr.value.clone()
                }
            };
            match Known::of(key) {
                Some(k) => {
                    self.known_attributes |= k.bit();
                    attrs.set(k, value)?;
                }
                None => {
                    self.note_variable(key);
                    attrs.vars.push((Cow::Owned(key.to_string()), value));
                }
            }
        }
        Ok(XmlSample {
            offset,
            parent,
            attrs: attrs.into_owned(),
            url: None,
            failure_message: None,
        })
    }

    /// Pushes a complete top-level sample and its descendants, held flat in pre-order (every
    /// parent before its children), in one loop.
    fn emit_tree(&mut self, tree: &[XmlSample]) -> Result<(), IngestError> {
        let mut rows: Vec<i64> = Vec::with_capacity(tree.len());
        for sample in tree {
            let parent_row = sample.parent.and_then(|p| rows.get(p).copied());
            let row = self.emit(
                &sample.attrs,
                sample.url.as_deref(),
                sample.failure_message.as_deref(),
                parent_row,
            )?;
            rows.push(row);
        }
        Ok(())
    }

    /// Pushes one sample (with its URL child's text and its failed assertion's message, if
    /// any); returns its row number.
    fn emit(
        &mut self,
        sample: &SampleAttrs<'_>,
        url: Option<&str>,
        failure_message: Option<&str>,
        parent_row: Option<i64>,
    ) -> Result<i64, IngestError> {
        // Nested elements are sub-samples. A top-level element is a transaction by JMeter's own
        // rule (its message), not by having children: a page with embedded resources has
        // children too, and they are not always renamed `<label>-N` (JMeter 2.13 keeps URLs).
        let kind = if parent_row.is_some() {
            SampleKind::Subsample
        } else {
            SampleRecord {
                response_message: sample.rm.as_deref(),
                ..Default::default()
            }
            .effective_kind()
        };
        let case = self.opts.cases.resolve(sample.tn.as_deref(), &sample.lb);
        let record = SampleRecord {
            ts_ms: sample.ts,
            elapsed_ms: sample.t,
            latency_ms: sample.lt,
            connect_ms: sample.ct,
            idle_ms: sample.it,
            intended_elapsed_ms: None,
            label: &sample.lb,
            case_name: case.as_deref(),
            thread: sample.tn.as_deref(),
            kind: Some(kind),
            parent_row,
            response_code: sample.rc.as_deref(),
            response_message: sample.rm.as_deref(),
            success: sample.s,
            failure_message,
            bytes_received: sample.by,
            bytes_sent: sample.sby,
            grp_threads: sample.ng,
            all_threads: sample.na,
            sample_count: sample.sc,
            error_count: sample.ec,
            url: url.filter(|u| *u != "null"),
            agent: sample.hn.as_deref(),
            data_type: sample.dt.as_deref(),
            encoding: sample.de.as_deref(),
            vars: sample
                .vars
                .iter()
                .map(|(k, v)| (k.as_ref(), v.as_ref()))
                .collect(),
            // JMeter writes whole ms.
            elapsed_us: None,
            latency_us: None,
            connect_us: None,
        };
        let row = self
            .builder
            .push(&record)
            .map_err(|e| IngestError::arrow(self.file, e))?;
        self.report.samples += 1;
        Ok(row)
    }
}

/// Reads the text content of the element just opened, up to its end tag.
fn read_text<R: BufRead>(reader: &mut Reader<R>, buf: &mut Vec<u8>) -> quick_xml::Result<String> {
    let mut out = String::new();
    let mut depth = 0usize;
    loop {
        buf.clear();
        match reader.read_event_into(buf)? {
            Event::Text(t) => out.push_str(&t.xml_content(XmlVersion::Implicit1_0)),
            Event::CData(t) => out.push_str(&t.xml_content(XmlVersion::Implicit1_0)),
            Event::GeneralRef(r) => push_reference(&mut out, &r),
            Event::Start(_) => depth += 1,
            Event::End(_) if depth == 0 => return Ok(out),
            Event::End(_) => depth -= 1,
            Event::Eof => {
                return Err(quick_xml::Error::Syntax(
                    quick_xml::errors::SyntaxError::UnclosedTag,
                ));
            }
            _ => {}
        }
    }
}

/// Appends the text of the reference `r` (`&name;` in element text): a character reference
/// as its character (U+FFFD when it names none), one of XML's five entities as its character,
/// any other entity as written. The one rule for references in text, whichever read found it.
fn push_reference(out: &mut String, r: &BytesRef<'_>) {
    match r.resolve_char_ref() {
        Ok(Some(c)) => out.push(c),
        Ok(None) => match quick_xml::escape::resolve_predefined_entity(r) {
            Some(s) => out.push_str(s),
            None => {
                out.push('&');
                out.push_str(r);
                out.push(';');
            }
        },
        Err(_) => out.push('\u{FFFD}'),
    }
}

/// Line numbers of rejected elements, counted by a second, forward-only read of the file (or of
/// the text decoded, when it is in memory), opened only when something is rejected. Rejects come
/// in document order, so the file is read at most once however many there are (a rare look
/// back, at the start of the top-level sample a deeper reject belongs to, reads it again from
/// the start).
struct LineCounter<'a> {
    file: &'a str,
    /// The text decoded, when it is not the file at `file` (a growing file's part).
    text: Option<&'a [u8]>,
    reader: Option<Box<dyn BufRead + 'a>>,
    /// Added to the lines (and byte offsets of messages) of `text`: the file's lines and bytes
    /// before the part of it `text` holds.
    shift_lines: u64,
    shift_bytes: u64,
    pos: u64,
    line: u64,
    /// The offset asked for last.
    last: u64,
}

impl<'a> LineCounter<'a> {
    /// Lines of the file at `file`.
    fn new(file: &'a str) -> Self {
        LineCounter {
            file,
            text: None,
            reader: None,
            shift_lines: 0,
            shift_bytes: 0,
            pos: 0,
            line: 1,
            last: 0,
        }
    }

    /// Lines of `text`, in memory, shifted by `lines` (and byte offsets by `bytes`).
    fn of_text(file: &'a str, text: &'a [u8], lines: u64, bytes: u64) -> Self {
        LineCounter {
            text: Some(text),
            shift_lines: lines,
            shift_bytes: bytes,
            ..LineCounter::new(file)
        }
    }

    /// A byte offset of the text as an offset in the file.
    fn file_offset(&self, at: u64) -> u64 {
        at + self.shift_bytes
    }

    /// 1-based line of the first non-blank byte at or after `offset` (event offsets point before
    /// the whitespace that precedes an element); 0 if the file cannot be read again.
    fn line_at(&mut self, offset: u64) -> u64 {
        match self.text_line_at(offset) {
            0 => 0,
            line => line + self.shift_lines,
        }
    }

    fn text_line_at(&mut self, offset: u64) -> u64 {
        if offset < self.last {
            self.reader = None;
            self.pos = 0;
            self.line = 1;
        }
        self.last = offset;
        if self.reader.is_none() {
            self.reader = match self.text {
                Some(text) => Some(Box::new(text)),
                None => match std::fs::File::open(self.file) {
                    Ok(f) => Some(Box::new(std::io::BufReader::new(f))),
                    Err(_) => return 0,
                },
            };
        }
        let Some(r) = self.reader.as_mut() else {
            return 0;
        };
        loop {
            let Ok(buf) = r.fill_buf() else {
                return self.line;
            };
            if buf.is_empty() {
                return self.line;
            }
            let mut used = 0;
            let mut found = false;
            for &b in buf {
                if self.pos >= offset && !b.is_ascii_whitespace() {
                    found = true;
                    break;
                }
                if b == b'\n' {
                    self.line += 1;
                }
                self.pos += 1;
                used += 1;
            }
            r.consume(used);
            if found {
                return self.line;
            }
        }
    }
}

/// Skips the element just opened by `e`, with everything in it (quick-xml's loop, no recursion).
fn skip_element<R: BufRead>(
    reader: &mut Reader<R>,
    e: &BytesStart<'_>,
    buf: &mut Vec<u8>,
) -> quick_xml::Result<()> {
    let end = e.to_end().into_owned();
    reader.read_to_end_into(end.name(), buf).map(|_| ())
}

/// Decodes an XML JTL from `reader` into `sink`.
pub fn decode_xml<R: BufRead>(
    file: &str,
    reader: R,
    opts: &DecodeOptions,
    first_row: i64,
    sink: &mut dyn SampleSink,
    rejects: &mut dyn RejectHandler,
) -> Result<FileReport, IngestError> {
    let dec = XmlDecoder::new(file, opts, first_row);
    let lines = LineCounter::new(file);
    // No trim_text: it would also trim text next to entity references inside messages.
    events::EventLoop::new(dec, Reader::from_reader(reader), sink, rejects, lines).run()
}

impl<'a> XmlDecoder<'a> {
    fn new(file: &'a str, opts: &'a DecodeOptions, first_row: i64) -> Self {
        XmlDecoder {
            file,
            opts,
            builder: SampleBatchBuilder::new(first_row),
            report: FileReport::default(),
            known_attributes: 0,
            attribute_names: Vec::new(),
            attribute_seen: HashSet::new(),
            lossy_values: 0,
        }
    }
}

impl XmlDecoder<'_> {
    /// The file's report, once every sample is written: the warnings of the whole file and the
    /// columns seen.
    fn into_report(mut self) -> FileReport {
        if self.lossy_values > 0 {
            self.report.warnings.push(format!(
                "{} attribute values had invalid character references and were kept as written",
                self.lossy_values
            ));
        }
        self.report.columns = Known::ALL
            .iter()
            .filter(|k| self.known_attributes & k.bit() != 0)
            .map(|k| k.name().to_string())
            .chain(self.attribute_names)
            .collect();
        self.report
    }
}

mod attrs;
mod children;
mod events;
mod flat;
mod growing;

pub use growing::{XmlPart, XmlSplit, decode_xml_samples, split_whole_samples};
#[cfg(test)]
mod fast_path_tests;
#[cfg(test)]
mod tests;
