//! JTL XML decoding with quick-xml, streaming: `sample` / `httpSample` / `statSample` at any
//! nesting depth, every attribute, `assertionResult` failure messages, the URL child; all other
//! children are skipped unread. A top-level sample is emitted when its end tag is read, so a file
//! cut off by a killed JMeter keeps every complete sample and reports the cut as a warning.

use std::borrow::Cow;
use std::io::BufRead;

use loadlake_schema::{SampleBatchBuilder, SampleKind, SampleRecord, SampleSink};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use crate::error::IngestError;
use crate::options::DecodeOptions;
use crate::rejects::{Reject, RejectHandler};
use crate::{FileReport, flush_batch};

/// Sample attributes JMeter writes, in its order (jmeter-notes §2.3).
const KNOWN_ATTRIBUTES: [&str; 20] = [
    "t", "it", "lt", "ct", "ts", "s", "lb", "rc", "rs", "rm", "tn", "dt", "de", "by", "sby", "sc",
    "ec", "ng", "na", "hn",
];

/// One sample element with its attributes and completed children.
#[derive(Debug, Default)]
struct XmlSample {
    offset: u64,
    ts: Option<i64>,
    t: Option<i64>,
    it: Option<i64>,
    lt: Option<i64>,
    ct: Option<i64>,
    s: bool,
    lb: String,
    rc: Option<String>,
    rm: Option<String>,
    tn: Option<String>,
    dt: Option<String>,
    de: Option<String>,
    by: Option<i64>,
    sby: Option<i64>,
    sc: Option<i32>,
    ec: Option<i32>,
    ng: Option<i32>,
    na: Option<i32>,
    hn: Option<String>,
    vars: Vec<(String, String)>,
    url: Option<String>,
    failure_message: Option<String>,
    children: Vec<XmlSample>,
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
    /// Known attributes seen, one bit each (see [`KNOWN_ATTRIBUTES`]).
    known_attributes: u32,
    /// Other attributes seen (sample variables).
    attribute_names: Vec<String>,
    lossy_values: u64,
}

impl XmlDecoder<'_> {
    /// Records an attribute name for the manifest (known names by bit, others by list).
    fn note_attribute(&mut self, key: &str) {
        match KNOWN_ATTRIBUTES.iter().position(|k| *k == key) {
            Some(bit) => self.known_attributes |= 1 << bit,
            None => {
                if !self.attribute_names.iter().any(|n| n == key) {
                    self.attribute_names.push(key.to_string());
                }
            }
        }
    }

    /// Parses a sample element's attributes. Bad numbers reject the element.
    fn parse_sample(
        &mut self,
        e: &BytesStart<'_>,
        offset: u64,
    ) -> Result<XmlSample, (String, String)> {
        let mut s = XmlSample {
            offset,
            s: true,
            ..Default::default()
        };
        for attr in e.attributes().with_checks(false) {
            let attr = attr.map_err(|err| ("attributes".to_string(), err.to_string()))?;
            let key: &str = attr.key.as_ref();
            // Borrowed unless the value has entities or line breaks; numbers are parsed from it
            // without a copy, only text fields are turned into owned strings.
            let value: Cow<'_, str> = match attr.normalized_value(XmlVersion::Implicit1_0) {
                Ok(v) => v,
                Err(_) => {
                    self.lossy_values += 1;
                    attr.value.clone()
                }
            };
            self.note_attribute(key);
            let int = |v: &str| -> Result<Option<i64>, (String, String)> {
                if v.is_empty() {
                    return Ok(None);
                }
                crate::csv::parse_i64(v.as_bytes())
                    .map(Some)
                    .ok_or_else(|| (key.to_string(), format!("'{v}' is not a whole number")))
            };
            let int32 = |v: &str| -> Result<Option<i32>, (String, String)> {
                int(v)?
                    .map(|n| {
                        i32::try_from(n)
                            .map_err(|_| (key.to_string(), format!("{n} is out of range")))
                    })
                    .transpose()
            };
            match key {
                "t" => s.t = int(&value)?,
                "it" => s.it = int(&value)?,
                "lt" => s.lt = int(&value)?,
                "ct" => s.ct = int(&value)?,
                "ts" => s.ts = int(&value)?,
                "s" => {
                    s.s = match value.as_ref() {
                        "true" => true,
                        "false" => false,
                        other => {
                            return Err(("s".into(), format!("'{other}' is not true or false")));
                        }
                    }
                }
                "lb" => s.lb = value.into_owned(),
                "rc" | "rs" => s.rc = Some(value.into_owned()),
                "rm" => s.rm = Some(value.into_owned()),
                "tn" => s.tn = Some(value.into_owned()),
                "dt" => s.dt = (!value.is_empty()).then(|| value.into_owned()),
                "de" => s.de = (!value.is_empty()).then(|| value.into_owned()),
                "by" => s.by = int(&value)?,
                "sby" => s.sby = int(&value)?,
                "sc" => s.sc = int32(&value)?,
                "ec" => s.ec = int32(&value)?,
                "ng" => s.ng = int32(&value)?,
                "na" => s.na = int32(&value)?,
                "hn" => s.hn = (!value.is_empty()).then(|| value.into_owned()),
                _ => s.vars.push((key.to_string(), value.into_owned())),
            }
        }
        Ok(s)
    }

    /// Pushes a complete top-level sample and its descendants in pre-order.
    fn emit(&mut self, sample: &XmlSample, parent_row: Option<i64>) -> Result<(), IngestError> {
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
            failure_message: sample.failure_message.as_deref(),
            bytes_received: sample.by,
            bytes_sent: sample.sby,
            grp_threads: sample.ng,
            all_threads: sample.na,
            sample_count: sample.sc,
            error_count: sample.ec,
            url: sample.url.as_deref().filter(|u| *u != "null"),
            agent: sample.hn.as_deref(),
            data_type: sample.dt.as_deref(),
            encoding: sample.de.as_deref(),
            vars: sample
                .vars
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
        };
        let row = self
            .builder
            .push(&record)
            .map_err(|e| IngestError::arrow(self.file, e))?;
        self.report.samples += 1;
        for child in &sample.children {
            self.emit(child, Some(row))?;
        }
        Ok(())
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
            Event::GeneralRef(r) => match r.resolve_char_ref() {
                Ok(Some(c)) => out.push(c),
                Ok(None) => match quick_xml::escape::resolve_predefined_entity(&r) {
                    Some(s) => out.push_str(s),
                    None => {
                        out.push('&');
                        out.push_str(&r);
                        out.push(';');
                    }
                },
                Err(_) => out.push('\u{FFFD}'),
            },
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

/// Line numbers of rejected elements, counted by a second, forward-only read of the file,
/// opened only when something is rejected. Rejects come in document order, so the file is read
/// at most once however many there are.
struct LineCounter<'a> {
    file: &'a str,
    reader: Option<std::io::BufReader<std::fs::File>>,
    pos: u64,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(file: &'a str) -> Self {
        LineCounter {
            file,
            reader: None,
            pos: 0,
            line: 1,
        }
    }

    /// 1-based line of the first non-blank byte at or after `offset` (event offsets point before
    /// the whitespace that precedes an element); 0 if the file cannot be read again.
    fn line_at(&mut self, offset: u64) -> u64 {
        if self.reader.is_none() {
            match std::fs::File::open(self.file) {
                Ok(f) => self.reader = Some(std::io::BufReader::new(f)),
                Err(_) => return 0,
            }
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

/// Decodes an XML JTL from `reader` into `sink`.
pub fn decode_xml<R: BufRead>(
    file: &str,
    reader: R,
    opts: &DecodeOptions,
    first_row: i64,
    sink: &mut dyn SampleSink,
    rejects: &mut dyn RejectHandler,
) -> Result<FileReport, IngestError> {
    let mut reader = Reader::from_reader(reader);
    // No trim_text: it would also trim text next to entity references inside messages.
    let mut dec = XmlDecoder {
        file,
        opts,
        builder: SampleBatchBuilder::new(first_row),
        report: FileReport::default(),
        known_attributes: 0,
        attribute_names: Vec::new(),
        lossy_values: 0,
    };
    let mut lines = LineCounter::new(file);
    let mut stack: Vec<XmlSample> = Vec::new();
    let mut assertion: Option<Assertion> = None;
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut text_buf = Vec::new();
    let mut root_seen = false;
    let mut closed = false;
    loop {
        buf.clear();
        let offset = reader.buffer_position();
        let event = match reader.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(e) => {
                let at = reader.buffer_position();
                if !root_seen {
                    return Err(IngestError::NotJtl {
                        file: file.to_string(),
                        reason: format!("not well-formed XML at byte {at}: {e}"),
                    });
                }
                let line = lines.line_at(offset);
                let dropped = stack.len();
                dec.report.warnings.push(format!(
                    "XML breaks off at line {line} (byte {at}): {e}; every complete sample before it was imported{}",
                    if dropped > 0 { ", the incomplete one was dropped" } else { "" }
                ));
                dec.report.rejected += 1;
                rejects.reject(Reject::new(
                    file,
                    line,
                    None,
                    format!("malformed or cut-off XML: {e}"),
                    None,
                ))?;
                break;
            }
        };
        match event {
            Event::DocType(_) => {
                return Err(IngestError::NotJtl {
                    file: file.to_string(),
                    reason: "it has a DOCTYPE (entity declarations are refused; JMeter never writes one)".into(),
                });
            }
            Event::Start(e) | Event::Empty(e) if !root_seen => {
                let qname = e.name();
                let name: &str = qname.as_ref();
                if name != "testResults" {
                    return Err(IngestError::NotJtl {
                        file: file.to_string(),
                        reason: format!("the root element is <{name}>, expected <testResults>"),
                    });
                }
                root_seen = true;
                if let Ok(Some(v)) = e.try_get_attribute("version")
                    && &*v.value == "1.0"
                {
                    dec.report.warnings.push(
                        "testResults version 1.0 URL-encodes attribute values; they were imported as written".into(),
                    );
                }
            }
            Event::Start(e) => {
                let qname = e.name();
                let name: &str = qname.as_ref();
                if is_sample(name) {
                    match dec.parse_sample(&e, offset) {
                        Ok(s) => stack.push(s),
                        Err((field, reason)) => {
                            let end = e.to_end().into_owned();
                            reader
                                .read_to_end_into(end.name(), &mut text_buf)
                                .map_err(|err| {
                                    IngestError::layout(file, format!("byte {offset}: {err}"))
                                })?;
                            dec.report.rejected += 1;
                            rejects.reject(Reject::new(
                                file,
                                lines.line_at(offset),
                                Some(&field),
                                reason,
                                None,
                            ))?;
                        }
                    }
                } else if stack.is_empty() {
                    // Unknown element between samples: skip it whole.
                    let end = e.to_end().into_owned();
                    reader
                        .read_to_end_into(end.name(), &mut text_buf)
                        .map_err(|err| {
                            IngestError::layout(file, format!("byte {offset}: {err}"))
                        })?;
                } else if name == "assertionResult" {
                    assertion = Some(Assertion::default());
                } else if let Some(a) = assertion.as_mut() {
                    let text = read_text(&mut reader, &mut text_buf).ok();
                    match name {
                        "failure" | "error" => a.failed |= text.as_deref() == Some("true"),
                        "failureMessage" => a.message = text,
                        _ => {}
                    }
                } else if name == "java.net.URL" || name == "url" {
                    let text = read_text(&mut reader, &mut text_buf).ok();
                    if let Some(top) = stack.last_mut() {
                        top.url = text;
                    }
                } else {
                    let end = e.to_end().into_owned();
                    reader
                        .read_to_end_into(end.name(), &mut text_buf)
                        .map_err(|err| {
                            IngestError::layout(file, format!("byte {offset}: {err}"))
                        })?;
                }
            }
            Event::Empty(e) => {
                let qname = e.name();
                let name: &str = qname.as_ref();
                if is_sample(name) {
                    match dec.parse_sample(&e, offset) {
                        Ok(s) => match stack.last_mut() {
                            Some(parent) => parent.children.push(s),
                            None => {
                                dec.emit(&s, None)?;
                                if dec.builder.len() >= opts.batch_rows {
                                    flush_batch(file, &mut dec.builder, sink)?;
                                }
                            }
                        },
                        Err((field, reason)) => {
                            dec.report.rejected += 1;
                            rejects.reject(Reject::new(
                                file,
                                lines.line_at(offset),
                                Some(&field),
                                reason,
                                None,
                            ))?;
                        }
                    }
                }
            }
            Event::End(e) => {
                let qname = e.name();
                let name: &str = qname.as_ref();
                if is_sample(name) {
                    if let Some(done) = stack.pop() {
                        match stack.last_mut() {
                            Some(parent) => parent.children.push(done),
                            None => {
                                dec.emit(&done, None)?;
                                if dec.builder.len() >= opts.batch_rows {
                                    flush_batch(file, &mut dec.builder, sink)?;
                                }
                            }
                        }
                    }
                } else if name == "assertionResult" {
                    if let (Some(a), Some(top)) = (assertion.take(), stack.last_mut())
                        && a.failed
                        && top.failure_message.is_none()
                    {
                        top.failure_message = a.message.filter(|m| !m.is_empty());
                    }
                } else if name == "testResults" {
                    closed = true;
                }
            }
            Event::Eof => {
                if !root_seen {
                    return Err(IngestError::NotJtl {
                        file: file.to_string(),
                        reason: "no <testResults> element".into(),
                    });
                }
                if !closed {
                    let line = stack.first().map(|s| lines.line_at(s.offset));
                    dec.report.warnings.push(match line {
                        Some(l) => format!(
                            "the file ends without </testResults> (JMeter killed?): the unfinished sample at line {l} was dropped, every complete one imported"
                        ),
                        None => "the file ends without </testResults> (JMeter killed?); every complete sample was imported".into(),
                    });
                    if let Some(l) = line {
                        dec.report.rejected += 1;
                        rejects.reject(Reject::new(
                            file,
                            l,
                            None,
                            "unfinished sample at the end of a cut-off file",
                            None,
                        ))?;
                    }
                }
                break;
            }
            _ => {}
        }
    }
    flush_batch(file, &mut dec.builder, sink)?;
    if dec.lossy_values > 0 {
        dec.report.warnings.push(format!(
            "{} attribute values had invalid character references and were kept as written",
            dec.lossy_values
        ));
    }
    dec.report.columns = KNOWN_ATTRIBUTES
        .iter()
        .enumerate()
        .filter(|(bit, _)| dec.known_attributes & (1 << bit) != 0)
        .map(|(_, k)| k.to_string())
        .chain(dec.attribute_names)
        .collect();
    Ok(dec.report)
}
