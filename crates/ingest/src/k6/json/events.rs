//! What the line reader ([`super::lines::Splitter`]) makes of a run of lines, owned so that it
//! can cross to the thread that assembles the requests: the Points in file order, the bad lines
//! with their field, reason and raw text. A Point names the slot of its tags and metadata in
//! the reader's [`super::recent::Recent`]; a set's pairs come (as text spans) only when a slot
//! gets a set [`Replay`] does not hold yet. [`Replay`] hands them to the [`Assembler`] exactly as
//! if it read the lines itself.

use std::borrow::Cow;

use crate::error::IngestError;
use crate::k6::SETS_KEPT;
use crate::k6::{Assembler, Metric, Point, Tags, assign_tags};

/// A byte range of [`Events::text`] (a chunk of the input is far below 4 GiB).
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    end: u32,
}

/// A range of [`Events::pairs`]: one set of tags or metadata.
#[derive(Debug, Clone, Copy)]
struct Pairs {
    start: u32,
    end: u32,
}

/// A line that could not be read, as [`Assembler::bad_line`] takes it.
#[derive(Debug)]
struct BadLine {
    line: u64,
    field: Option<&'static str>,
    reason: String,
    /// The line's text (at most the line length limit of it).
    raw: Vec<u8>,
    /// The file's unterminated last line: the report also gets a warning.
    incomplete: bool,
}

/// One thing read from the input, in file order; small (32 bytes), as millions cross from
/// the line reader's core to the assembling one.
#[derive(Debug)]
enum Event {
    /// The tags and metadata of the Points that follow with `slot` (until its next `Tags`),
    /// of `generation`.
    Tags {
        slot: u8,
        generation: u64,
        tags: Pairs,
        meta: Pairs,
    },
    /// A Point read at `line`, with the tags and metadata of the last `Tags` of its `slot`.
    Point {
        line: u64,
        slot: u8,
        /// [`Metric::code`]; `None`: another metric, named by the next of [`Events::others`].
        metric: Option<u8>,
        time_ns: i64,
        value: f64,
    },
    /// A bad line (boxed: rare, and bigger than a Point).
    Bad(Box<BadLine>),
}

const _: () = assert!(size_of::<Event>() <= 32);

/// The events of a run of lines; cleared by [`Replay::apply`] and filled again, so that its
/// buffers are reused.
#[derive(Debug, Default)]
pub(super) struct Events {
    items: Vec<Event>,
    /// The text of the tags and metadata pairs.
    text: String,
    /// (name, value) of each pair, in `text`.
    pairs: Vec<(Span, Span)>,
    /// The names of the Points of other metrics, in `text`, in order.
    others: Vec<Span>,
}

impl Events {
    /// The Points of `slot` from now on have `tags` and `meta`, of `generation`.
    pub(super) fn tags(&mut self, slot: usize, generation: u64, tags: &Tags, meta: &Tags) {
        let tags = self.add_pairs(tags);
        let meta = self.add_pairs(meta);
        self.items.push(Event::Tags {
            slot: slot_byte(slot),
            generation,
            tags,
            meta,
        });
    }

    fn add_pairs(&mut self, tags: &Tags) -> Pairs {
        let start = self.pairs.len() as u32;
        for (k, v) in tags {
            let k = self.add_text(k);
            let v = self.add_text(v);
            self.pairs.push((k, v));
        }
        Pairs {
            start,
            end: self.pairs.len() as u32,
        }
    }

    fn add_text(&mut self, s: &str) -> Span {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        Span {
            start,
            end: self.text.len() as u32,
        }
    }

    /// A Point read at `line` (its tags are the last [`Events::tags`] of `slot`).
    pub(super) fn point(
        &mut self,
        line: u64,
        slot: usize,
        metric: Metric<'_>,
        time_ns: i64,
        value: f64,
    ) {
        let code = metric.code();
        if let Metric::Other(name) = metric {
            let name = self.add_text(&name);
            self.others.push(name);
        }
        self.items.push(Event::Point {
            line,
            slot: slot_byte(slot),
            metric: code,
            time_ns,
            value,
        });
    }

    /// A bad line: `incomplete` for the file's unterminated last line.
    pub(super) fn bad(
        &mut self,
        line: u64,
        field: Option<&'static str>,
        reason: String,
        raw: &[u8],
        incomplete: bool,
    ) {
        self.items.push(Event::Bad(Box::new(BadLine {
            line,
            field,
            reason,
            raw: raw.to_vec(),
            incomplete,
        })));
    }

    fn clear(&mut self) {
        self.items.clear();
        self.text.clear();
        self.pairs.clear();
        self.others.clear();
    }
}

/// The assembling side's state between [`Events`]: the tags and metadata of the last
/// [`Events::tags`] of each slot (which may come in an earlier chunk than their Points).
#[derive(Debug, Default)]
pub(super) struct Replay {
    /// The tags, metadata and generation of each slot.
    sets: [(Tags, Tags, u64); SETS_KEPT],
}

impl Replay {
    /// Hands `events` to `asm` in order (leaving `events` empty for reuse); stops at the first
    /// error (the reject policy's or the sink's).
    pub(super) fn apply(
        &mut self,
        events: &mut Events,
        asm: &mut Assembler<'_>,
    ) -> Result<(), IngestError> {
        let result = self.apply_items(events, asm);
        events.clear();
        result
    }

    fn apply_items(
        &mut self,
        events: &mut Events,
        asm: &mut Assembler<'_>,
    ) -> Result<(), IngestError> {
        let Events {
            items,
            text,
            pairs,
            others,
        } = events;
        let mut others = others.iter();
        for event in items.drain(..) {
            match event {
                Event::Tags {
                    slot,
                    generation,
                    tags,
                    meta,
                } => {
                    let set = &mut self.sets[usize::from(slot)];
                    fill(&mut set.0, text, pairs, tags);
                    fill(&mut set.1, text, pairs, meta);
                    set.2 = generation;
                }
                Event::Point {
                    line,
                    slot,
                    metric,
                    time_ns,
                    value,
                } => {
                    let metric = match metric.and_then(Metric::of_code) {
                        Some(known) => known,
                        // Events::point added a name for each Point of another metric.
                        None => {
                            Metric::Other(Cow::Borrowed(others.next().map_or("", |&s| at(text, s))))
                        }
                    };
                    let (tags, meta, generation) = &self.sets[usize::from(slot)];
                    let point = Point {
                        metric,
                        time_ns,
                        value,
                        tags: Cow::Borrowed(tags),
                        meta: Cow::Borrowed(meta),
                        generation: Some(*generation),
                    };
                    asm.point(line, point)?;
                }
                Event::Bad(bad) => {
                    let BadLine {
                        line,
                        field,
                        reason,
                        raw,
                        incomplete,
                    } = *bad;
                    if incomplete {
                        asm.warn(format!("line {line}: {reason}; it was not imported"));
                    }
                    asm.bad_line(line, field, reason, Some(raw.as_slice()))?;
                }
            }
        }
        Ok(())
    }
}

/// `into` becomes the pairs `range` of `pairs` (spans of `text`).
fn fill(into: &mut Tags, text: &str, pairs: &[(Span, Span)], range: Pairs) {
    let pairs = &pairs[range.start as usize..range.end as usize];
    assign_tags(into, pairs.iter().map(|&(k, v)| (at(text, k), at(text, v))));
}

/// The text of `span`.
fn at(text: &str, span: Span) -> &str {
    &text[span.start as usize..span.end as usize]
}

/// A slot of [`super::recent::Recent`] as a byte (there are [`SETS_KEPT`]).
fn slot_byte(slot: usize) -> u8 {
    const { assert!(SETS_KEPT <= u8::MAX as usize) };
    slot as u8
}
