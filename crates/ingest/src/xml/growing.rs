//! An XML JTL that JMeter is still writing (`loadlake import --follow`, crates/import): where
//! the whole top-level samples written so far end, and decoding just those with the same
//! decoder as a finished file.
//!
//! JMeter writes the prolog and `<testResults version="1.2">` first, then one top-level sample
//! element after another, and `</testResults>` only when the run ends; its buffered writer
//! (8 KiB blocks, autoflush off) may leave the last element cut anywhere, even inside a tag or
//! an attribute value. [`split_whole_samples`] finds the end of the last whole top-level
//! element with quick-xml (the reader the decoder uses), so a cut element waits for its end;
//! [`decode_xml_samples`] decodes the whole elements as the document `head + body +
//! </testResults>`.

use quick_xml::Reader;
use quick_xml::errors::IllFormedError;
use quick_xml::events::Event;

use loadlake_schema::SampleSink;

use super::{LineCounter, XmlDecoder, events};
use crate::FileReport;
use crate::error::IngestError;
use crate::options::DecodeOptions;
use crate::rejects::RejectHandler;

/// What [`split_whole_samples`] found at the start of the bytes it was given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct XmlSplit {
    /// Where the root start tag ends, with the prolog before it (found only when scanning from
    /// the start of the file and the tag is complete): the document's head.
    pub root_end: Option<usize>,
    /// Where the last whole top-level element ends (with any whitespace, comment or
    /// processing instruction after it at the top level): the bytes before are ready to decode.
    pub whole: usize,
    /// `</testResults>` was read, at `whole`: the run ended, nothing after it is a sample.
    pub closed: bool,
}

/// Finds the whole top-level sample elements at the start of `bytes`: the text of a growing
/// XML JTL from its first byte (`in_root` false: the prolog and root start tag come first) or
/// from just after the last whole element found before (`in_root` true). An element cut off at
/// the end of `bytes` (or anything quick-xml cannot read yet) ends the scan before it.
pub fn split_whole_samples(bytes: &[u8], mut in_root: bool) -> XmlSplit {
    let mut reader = Reader::from_reader(bytes);
    // Scanning starts inside the root: its end tag closes nothing opened here.
    reader.config_mut().check_end_names = false;
    let mut split = XmlSplit::default();
    let mut depth = 0usize;
    loop {
        let before = position(&reader);
        let event = match reader.read_event() {
            Ok(Event::Eof) => return split,
            // The root's end tag, when the scan started inside the root (quick-xml has not
            // seen it open).
            Err(quick_xml::Error::IllFormed(IllFormedError::UnmatchedEndTag(_)))
                if in_root && depth == 0 =>
            {
                split.whole = before;
                split.closed = true;
                return split;
            }
            Err(_) => return split,
            Ok(event) => event,
        };
        let after = position(&reader);
        if !in_root {
            match event {
                // The first element is the root (the decoder checks its name).
                Event::Start(_) => {
                    in_root = true;
                    split.root_end = Some(after);
                    split.whole = after;
                }
                Event::Empty(_) => {
                    split.root_end = Some(after);
                    split.whole = after;
                    split.closed = true;
                    return split;
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(_) => depth += 1,
            Event::End(_) if depth == 0 => {
                split.whole = before;
                split.closed = true;
                return split;
            }
            Event::End(_) => {
                depth -= 1;
                if depth == 0 {
                    split.whole = after;
                }
            }
            _ if depth == 0 => split.whole = after,
            _ => {}
        }
    }
}

fn position(reader: &Reader<&[u8]>) -> usize {
    usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX)
}

/// A part of a growing XML JTL to decode, and where it is in the file.
#[derive(Debug, Clone, Copy)]
pub struct XmlPart<'a> {
    /// The file's text up to the end of its root start tag.
    pub head: &'a [u8],
    /// Whole top-level sample elements (found by [`split_whole_samples`]), or the rest of a file
    /// that ends unfinished.
    pub body: &'a [u8],
    /// Line breaks in the file before `body`.
    pub lines_before: u64,
    /// Bytes of the file before `body`.
    pub bytes_before: u64,
    /// Whether a closing tag is put after `body`: false for the rest of a file that ends
    /// unfinished (the decoder then reports the cut as for a killed run's file).
    pub close: bool,
}

/// Decodes `part` as the document `head`, `body` (and `</testResults>` if `close`). Samples are
/// numbered from `first_row`; rejects and warnings name the file's lines and bytes.
pub fn decode_xml_samples(
    file: &str,
    part: &XmlPart<'_>,
    opts: &DecodeOptions,
    first_row: i64,
    sink: &mut dyn SampleSink,
    rejects: &mut dyn RejectHandler,
) -> Result<FileReport, IngestError> {
    let end: &[u8] = if part.close { b"</testResults>\n" } else { b"" };
    let text = [part.head, part.body, end].concat();
    let head_lines = part.head.iter().filter(|&&b| b == b'\n').count() as u64;
    let lines = LineCounter::of_text(
        file,
        &text,
        part.lines_before.saturating_sub(head_lines),
        part.bytes_before.saturating_sub(part.head.len() as u64),
    );
    let dec = XmlDecoder::new(file, opts, first_row);
    events::EventLoop::new(
        dec,
        Reader::from_reader(text.as_slice()),
        sink,
        rejects,
        lines,
    )
    .run()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testResults version=\"1.2\">\n";
    const A: &str = "<httpSample t=\"5\" ts=\"1\" s=\"true\" lb=\"a&gt;b\" rc=\"200\"/>\n";
    const B: &str = "<sample t=\"7\" ts=\"2\" s=\"false\" lb=\"tx\" rc=\"500\">\n  \
                     <httpSample t=\"3\" ts=\"2\" s=\"false\" lb=\"child\" rc=\"500\"/>\n  \
                     <assertionResult><name>x</name><failure>true</failure>\
                     <failureMessage>bad &lt;x&gt;</failureMessage></assertionResult>\n</sample>\n";

    #[test]
    fn every_cut_point_waits_for_the_whole_element() {
        let text = format!("{HEAD}{A}{B}</testResults>\n");
        let head_end = HEAD.len();
        let a_end = head_end + A.len();
        let b_end = a_end + B.len();
        for cut in 0..=text.len() {
            let got = split_whole_samples(&text.as_bytes()[..cut], false);
            // The root start tag's `>` is the last byte of HEAD but its line break.
            let root = (cut >= head_end - 1).then_some(head_end - 1);
            assert_eq!(got.root_end, root, "cut {cut}");
            // Whitespace after a whole element at the top level is taken with it.
            let whole = if cut >= b_end - 1 {
                cut.min(b_end)
            } else if cut >= a_end - 1 {
                cut.min(a_end)
            } else if cut >= head_end - 1 {
                cut.min(head_end)
            } else {
                0
            };
            assert_eq!(got.whole, whole, "cut {cut}: {:?}", &text[..cut]);
            assert_eq!(
                got.closed,
                cut >= b_end + "</testResults>".len(),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn the_closing_tag_is_found_when_scanning_from_inside_the_root() {
        let body = format!("{A}{B}\n</testResults>\n");
        let got = split_whole_samples(body.as_bytes(), true);
        let whole = A.len() + B.len() + 1;
        assert_eq!(
            got,
            XmlSplit {
                root_end: None,
                whole,
                closed: true
            }
        );
        for cut in whole..body.len() - 1 {
            let got = split_whole_samples(&body.as_bytes()[..cut], true);
            assert!(!got.closed && got.whole == whole, "cut {cut}: {got:?}");
        }
    }

    #[test]
    fn scanning_goes_on_from_a_whole_element_inside_the_root() {
        let body = format!("{B}{A}<httpSample t=\"1\" lb=\"cut");
        let got = split_whole_samples(body.as_bytes(), true);
        assert_eq!(
            got,
            XmlSplit {
                root_end: None,
                whole: B.len() + A.len(),
                closed: false
            }
        );
    }
}
