//! The XML decoder's event loop: one handler per quick-xml event (the root element, a start tag,
//! an empty element, an end tag, the end of the file, a read error), over the state of the
//! document read so far — the open top-level sample with its sub-samples, the assertion being
//! read, whether the root was seen and closed. A sample is written when its top-level element
//! ends; a document that breaks off keeps every complete sample before it.

use std::io::BufRead;

use loadlake_schema::SampleSink;
use quick_xml::Reader;
use quick_xml::events::{BytesEnd, BytesStart, Event};

use super::flat;
use super::{
    Assertion, LineCounter, MAX_SAMPLE_DEPTH, XmlDecoder, XmlSample, is_sample, read_text,
    skip_element,
};
use crate::error::IngestError;
use crate::rejects::{Reject, RejectHandler};
use crate::{FileReport, flush_batch};

/// Whether the loop reads on after an event.
enum Next {
    Read,
    Stop,
}

/// One decoding pass over an XML JTL.
pub(super) struct EventLoop<'a, 'r, R> {
    dec: XmlDecoder<'a>,
    reader: Reader<R>,
    sink: &'r mut dyn SampleSink,
    rejects: &'r mut dyn RejectHandler,
    lines: LineCounter<'a>,
    /// Text of elements read whole (messages, URLs), and elements skipped.
    text_buf: Vec<u8>,
    /// The open top-level sample and its sub-samples read so far, flat in pre-order.
    tree: Vec<XmlSample>,
    /// Indices in `tree` of the sample elements open now, outermost first.
    open: Vec<usize>,
    /// The open top-level sample went past [`MAX_SAMPLE_DEPTH`]: it is rejected, and the rest
    /// of it is read only to find its end.
    too_deep: bool,
    /// The `assertionResult` being read.
    assertion: Option<Assertion>,
    root_seen: bool,
    closed: bool,
    /// The last event read was a tag (quick-xml is between markup, in text): the fast path may
    /// take the flat samples that follow straight from the reader's buffer.
    after_tag: bool,
    /// Whether the fast path ([`super::flat`]) is used (tests turn it off to compare with
    /// quick-xml's reading of the same document).
    fast_path: bool,
}

impl<'a, 'r, R: BufRead> EventLoop<'a, 'r, R> {
    pub(super) fn new(
        dec: XmlDecoder<'a>,
        reader: Reader<R>,
        sink: &'r mut dyn SampleSink,
        rejects: &'r mut dyn RejectHandler,
        lines: LineCounter<'a>,
    ) -> Self {
        EventLoop {
            dec,
            reader,
            sink,
            rejects,
            lines,
            text_buf: Vec::new(),
            tree: Vec::new(),
            open: Vec::new(),
            too_deep: false,
            assertion: None,
            root_seen: false,
            closed: false,
            after_tag: false,
            fast_path: true,
        }
    }

    /// The same loop reading every element with quick-xml: the second implementation the fast
    /// path is tested against.
    #[cfg(test)]
    pub(super) fn without_fast_path(mut self) -> Self {
        self.fast_path = false;
        self
    }

    /// Reads the whole document, writes its samples and returns the file's report.
    pub(super) fn run(mut self) -> Result<FileReport, IngestError> {
        let mut buf = Vec::with_capacity(64 * 1024);
        loop {
            if self.fast_path
                && self.after_tag
                && self.root_seen
                && !self.closed
                && self.open.is_empty()
            {
                self.read_flat()?;
            }
            buf.clear();
            let offset = self.reader.buffer_position();
            let event = self.reader.read_event_into(&mut buf);
            // quick-xml stops right after a tag's `>`, and the handlers of start tags read
            // nested content up to an end tag: the reader is between markup again.
            self.after_tag = matches!(event, Ok(Event::Start(_) | Event::Empty(_) | Event::End(_)));
            let next = match event {
                Err(e) => self.read_error(offset, &e)?,
                Ok(Event::DocType(_)) => {
                    return Err(self.not_jtl(
                        "it has a DOCTYPE (entity declarations are refused; JMeter never writes one)",
                    ));
                }
                Ok(Event::Start(e) | Event::Empty(e)) if !self.root_seen => self.root(&e)?,
                Ok(Event::Start(e)) => self.start(&e, offset)?,
                Ok(Event::Empty(e)) => self.empty(&e, offset)?,
                Ok(Event::End(e)) => self.end(&e)?,
                Ok(Event::Eof) => self.eof()?,
                Ok(_) => Next::Read,
            };
            if let Next::Stop = next {
                break;
            }
        }
        flush_batch(self.dec.file, &mut self.dec.builder, self.sink)?;
        Ok(self.dec.into_report())
    }

    /// Decodes the flat top-level samples at the reader's position ([`super::flat`]) straight
    /// from its buffer, buffer after buffer, up to the first thing the fast path does not take
    /// (left to quick-xml, with the reader's position kept exact for line numbers).
    fn read_flat(&mut self) -> Result<(), IngestError> {
        loop {
            let mut stream = self.reader.stream();
            let bytes = match stream.fill_buf() {
                Ok(b) if !b.is_empty() => b,
                // The end, or an error quick-xml reports on its next read.
                _ => return Ok(()),
            };
            let mut used = 0;
            while let Some(sample) = bytes.get(used..).and_then(flat::read_sample) {
                self.dec.note_flat(sample.seen, &sample.attrs.vars);
                let message = sample.failure_message.as_deref();
                self.dec.emit(&sample.attrs, None, message, None)?;
                used += sample.len;
                if self.dec.builder.len() >= self.dec.opts.batch_rows {
                    flush_batch(self.dec.file, &mut self.dec.builder, self.sink)?;
                }
            }
            let whole = used == bytes.len();
            stream.consume(used);
            if !whole {
                return Ok(());
            }
        }
    }

    fn not_jtl(&self, reason: impl Into<String>) -> IngestError {
        IngestError::NotJtl {
            file: self.dec.file.to_string(),
            reason: reason.into(),
        }
    }

    /// Malformed XML: before the root the file is not a JTL; after it the document breaks off.
    fn read_error(&mut self, offset: u64, err: &quick_xml::Error) -> Result<Next, IngestError> {
        let at = self.reader.buffer_position();
        if !self.root_seen {
            return Err(self.not_jtl(format!("not well-formed XML at byte {at}: {err}")));
        }
        self.break_off(offset, at, err, !self.open.is_empty())?;
        Ok(Next::Stop)
    }

    /// The first element: it must be `<testResults>`.
    fn root(&mut self, e: &BytesStart<'_>) -> Result<Next, IngestError> {
        let qname = e.name();
        let name: &str = qname.as_ref();
        if name != "testResults" {
            return Err(self.not_jtl(format!(
                "the root element is <{name}>, expected <testResults>"
            )));
        }
        self.root_seen = true;
        if let Ok(Some(v)) = e.try_get_attribute("version")
            && &*v.value == "1.0"
        {
            self.dec.report.warnings.push(
                "testResults version 1.0 URL-encodes attribute values; they were imported as written".into(),
            );
        }
        Ok(Next::Read)
    }

    /// A start tag below the root: a sample opens, an assertion or a URL is read, or the
    /// element is skipped whole.
    fn start(&mut self, e: &BytesStart<'_>, offset: u64) -> Result<Next, IngestError> {
        let qname = e.name();
        let name: &str = qname.as_ref();
        let skip = if is_sample(name) {
            if self.too_deep {
                true
            } else if self.open.len() >= MAX_SAMPLE_DEPTH {
                self.start_too_deep(name, offset)?;
                true
            } else {
                match self.dec.parse_sample(e, offset, self.open.last().copied()) {
                    Ok(s) => {
                        self.open.push(self.tree.len());
                        self.tree.push(s);
                        false
                    }
                    Err((field, reason)) => {
                        // Skipped first: the reject handler may stop the import.
                        if let Err(err) = skip_element(&mut self.reader, e, &mut self.text_buf) {
                            let at = self.reader.buffer_position();
                            self.break_off(offset, at, &err, true)?;
                            return Ok(Next::Stop);
                        }
                        self.reject_attribute(offset, &field, reason)?;
                        false
                    }
                }
            }
        } else if self.open.is_empty() {
            // Unknown element between samples: skip it whole.
            true
        } else if name == "assertionResult" {
            self.assertion = Some(Assertion::default());
            false
        } else if let Some(a) = self.assertion.as_mut() {
            let text = read_text(&mut self.reader, &mut self.text_buf).ok();
            match name {
                "failure" | "error" => a.failed |= text.as_deref() == Some("true"),
                "failureMessage" => a.message = text,
                _ => {}
            }
            false
        } else if name == "java.net.URL" || name == "url" {
            let text = read_text(&mut self.reader, &mut self.text_buf).ok();
            if let Some(top) = self.open.last().and_then(|&i| self.tree.get_mut(i)) {
                top.url = text;
            }
            false
        } else {
            true
        };
        if skip && let Err(err) = skip_element(&mut self.reader, e, &mut self.text_buf) {
            let at = self.reader.buffer_position();
            self.break_off(offset, at, &err, !self.open.is_empty())?;
            return Ok(Next::Stop);
        }
        Ok(Next::Read)
    }

    /// An empty element: a sample without sub-samples (written at once when top-level).
    fn empty(&mut self, e: &BytesStart<'_>, offset: u64) -> Result<Next, IngestError> {
        let qname = e.name();
        let name: &str = qname.as_ref();
        if !is_sample(name) || self.too_deep {
            return Ok(Next::Read);
        }
        if self.open.len() >= MAX_SAMPLE_DEPTH {
            self.start_too_deep(name, offset)?;
            return Ok(Next::Read);
        }
        match self.dec.parse_sample(e, offset, self.open.last().copied()) {
            Ok(s) if self.open.is_empty() => {
                self.dec.emit_tree(std::slice::from_ref(&s))?;
                self.flush_if_full()?;
            }
            Ok(s) => self.tree.push(s),
            Err((field, reason)) => self.reject_attribute(offset, &field, reason)?,
        }
        Ok(Next::Read)
    }

    /// An end tag: a top-level sample is complete and written; an assertion is applied to the
    /// sample it belongs to; the root closes.
    fn end(&mut self, e: &BytesEnd<'_>) -> Result<Next, IngestError> {
        let qname = e.name();
        let name: &str = qname.as_ref();
        if is_sample(name) {
            if self.open.pop().is_some() && self.open.is_empty() {
                if self.too_deep {
                    self.too_deep = false;
                } else {
                    self.dec.emit_tree(&self.tree)?;
                    self.flush_if_full()?;
                }
                self.tree.clear();
            }
        } else if name == "assertionResult" {
            if let (Some(a), Some(top)) = (
                self.assertion.take(),
                self.open.last().and_then(|&i| self.tree.get_mut(i)),
            ) && a.failed
                && top.failure_message.is_none()
            {
                top.failure_message = a.message.filter(|m| !m.is_empty());
            }
        } else if name == "testResults" {
            self.closed = true;
        }
        Ok(Next::Read)
    }

    /// The end of the file: without `</testResults>` the run was cut off, and an open sample
    /// is dropped and rejected.
    fn eof(&mut self) -> Result<Next, IngestError> {
        if !self.root_seen {
            return Err(self.not_jtl("no <testResults> element"));
        }
        if self.closed {
            return Ok(Next::Stop);
        }
        let line = self
            .tree
            .first()
            .filter(|_| !self.open.is_empty())
            .map(|s| s.offset);
        let line = line.map(|offset| self.lines.line_at(offset));
        self.dec.report.warnings.push(match line {
            Some(l) => format!(
                "the file ends without </testResults> (JMeter killed?): the unfinished sample at line {l} was dropped, every complete one imported"
            ),
            None => "the file ends without </testResults> (JMeter killed?); every complete sample was imported".into(),
        });
        if let Some(l) = line {
            self.dec.report.rejected += 1;
            self.rejects.reject(Reject::new(
                self.dec.file,
                l,
                None,
                "unfinished sample at the end of a cut-off file",
                None,
            ))?;
        }
        Ok(Next::Stop)
    }

    /// Hands a full batch of written samples to the sink.
    fn flush_if_full(&mut self) -> Result<(), IngestError> {
        if self.dec.builder.len() >= self.dec.opts.batch_rows {
            flush_batch(self.dec.file, &mut self.dec.builder, self.sink)?;
        }
        Ok(())
    }

    /// The sample element `name` at `offset` is one level past [`MAX_SAMPLE_DEPTH`]: the open
    /// top-level sample and all its sub-samples are rejected.
    fn start_too_deep(&mut self, name: &str, offset: u64) -> Result<(), IngestError> {
        self.too_deep = true;
        let top_offset = self.tree.first().map_or(offset, |s| s.offset);
        let top_line = self.lines.line_at(top_offset);
        let line = self.lines.line_at(offset);
        self.dec.report.rejected += 1;
        self.rejects.reject(Reject::new(
            self.dec.file,
            line,
            None,
            format!(
                "<{name}> is nested more than {MAX_SAMPLE_DEPTH} sample elements deep (the limit; \
                 JMeter nests a few): the sample at line {top_line} and all its sub-samples were \
                 not imported"
            ),
            None,
        ))
    }

    /// Records a document that breaks off (malformed, or cut off by a killed JMeter) at the
    /// element or event starting at `offset`: one warning and one reject. Every complete sample
    /// before it stays imported; `unfinished` says whether an open top-level sample is dropped.
    fn break_off(
        &mut self,
        offset: u64,
        at: u64,
        err: &quick_xml::Error,
        unfinished: bool,
    ) -> Result<(), IngestError> {
        let line = self.lines.line_at(offset);
        let at = self.lines.file_offset(at);
        self.dec.report.warnings.push(format!(
            "XML breaks off at line {line} (byte {at}): {err}; every complete sample before it was imported{}",
            if unfinished {
                ", the incomplete one was dropped"
            } else {
                ""
            }
        ));
        self.dec.report.rejected += 1;
        self.rejects.reject(Reject::new(
            self.dec.file,
            line,
            None,
            format!("malformed or cut-off XML: {err}"),
            None,
        ))
    }

    /// Rejects a sample element whose attribute `field` is bad.
    fn reject_attribute(
        &mut self,
        offset: u64,
        field: &str,
        reason: String,
    ) -> Result<(), IngestError> {
        self.dec.report.rejected += 1;
        self.rejects.reject(Reject::new(
            self.dec.file,
            self.lines.line_at(offset),
            Some(field),
            reason,
            None,
        ))
    }
}
