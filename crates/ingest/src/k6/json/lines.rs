//! The reading side of k6 `--out json`: [`Splitter`] cuts the input, given in chunks of any
//! size, into lines and reads each one ([`super::parse`]) into [`Events`]. A line may span
//! chunks; a line break may be `\n` or `\r\n`; a line may start with a byte order mark; blank
//! lines are skipped; a line longer than the limit is rejected with its start as raw text; an
//! unterminated last line is read as such only when the input is known to end there
//! ([`Splitter::end`]).

use super::events::Events;
use super::recent::Recent;
use super::{Parsed, parse};
use crate::k6::SETS_KEPT;

/// The reason given for a file's unterminated last line that is not a whole Point.
const INCOMPLETE: &str =
    "incomplete last line (the file does not end with a line break: cut off by a killed k6?)";

/// Cuts chunks of the input into lines and reads them; one per file.
pub(super) struct Splitter {
    recent: Recent,
    /// The last line's number.
    line_no: u64,
    /// [`crate::DecodeOptions::max_field_bytes`]: bytes of a line kept at most.
    max: usize,
    /// The last chunk ended inside a line: `partial` holds its start.
    open: bool,
    /// The start of the line the last chunk ended in, at most `max` bytes.
    partial: Vec<u8>,
    /// The line in `partial` is longer than `max`.
    too_long: bool,
    /// The generation of the tags and metadata given to the events for each slot of
    /// [`Recent`] (`None`: none yet).
    sent: [Option<u64>; SETS_KEPT],
}

impl Splitter {
    /// A splitter for lines of at most `max` bytes.
    pub(super) fn new(max: usize) -> Self {
        Splitter {
            recent: Recent::default(),
            line_no: 0,
            max,
            open: false,
            partial: Vec::new(),
            too_long: false,
            sent: [None; SETS_KEPT],
        }
    }

    /// Reads the lines that end in `bytes` (the input's next bytes) into `out`, keeping the
    /// start of a line that does not.
    pub(super) fn chunk(&mut self, bytes: &[u8], out: &mut Events) {
        let mut rest = bytes;
        if self.open {
            let Some(end) = memchr::memchr(b'\n', rest) else {
                self.keep(rest);
                return;
            };
            self.keep(&rest[..end]);
            rest = &rest[end + 1..];
            let mut line = std::mem::take(&mut self.partial);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let too_long = self.too_long;
            self.line(&line, true, too_long, out);
            line.clear();
            self.partial = line;
            self.open = false;
            self.too_long = false;
        }
        while let Some(end) = memchr::memchr(b'\n', rest) {
            let line = &rest[..end];
            let too_long = line.len() > self.max;
            let line = if too_long { &line[..self.max] } else { line };
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.line(line, true, too_long, out);
            rest = &rest[end + 1..];
        }
        if !rest.is_empty() {
            self.open = true;
            self.keep(rest);
        }
    }

    /// The input ends: reads the unterminated last line, if any, into `out`.
    pub(super) fn end(&mut self, out: &mut Events) {
        if std::mem::take(&mut self.open) {
            let line = std::mem::take(&mut self.partial);
            let too_long = self.too_long;
            self.line(&line, false, too_long, out);
        }
    }

    /// Adds `piece` of the open line to `partial`, as much as the limit keeps.
    fn keep(&mut self, piece: &[u8]) {
        let room = self.max.saturating_sub(self.partial.len());
        if piece.len() > room {
            self.too_long = true;
        }
        self.partial
            .extend_from_slice(&piece[..piece.len().min(room)]);
    }

    /// Reads one line (without its line end): whether it ended with `\n` and whether it was
    /// longer than the limit (then only its start is there).
    fn line(&mut self, line: &[u8], terminated: bool, too_long: bool, out: &mut Events) {
        self.line_no += 1;
        let line_no = self.line_no;
        let text = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        if text.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        if too_long {
            let reason = format!(
                "the line is longer than the {} byte limit (k6 writes a few hundred bytes a line)",
                self.max
            );
            return out.bad(line_no, None, reason, text, false);
        }
        match parse(text, &mut self.recent) {
            Ok(Parsed::Point(p, slot)) => {
                // JSON Points always have the reader's generation.
                let generation = p.generation.unwrap_or_default();
                if self.sent[slot] != Some(generation) {
                    out.tags(slot, generation, &p.tags, &p.meta);
                    self.sent[slot] = Some(generation);
                }
                out.point(line_no, slot, p.metric, p.time_ns, p.value);
            }
            Ok(Parsed::Skip) => {}
            Err((field, reason)) if terminated => out.bad(line_no, field, reason, text, false),
            Err(_) => out.bad(line_no, None, INCOMPLETE.to_string(), text, true),
        }
    }
}
