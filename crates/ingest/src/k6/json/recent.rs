//! [`Recent`]: what the lines before a line had — the last time, and the last few sets of tags
//! and metadata — so that a line repeating them is neither copied nor parsed again. k6 writes
//! the nine Points of a request with one time and one set, and a test's requests go back and
//! forth among a few sets (each endpoint's tags, with and without `error_code`), so a few sets
//! are kept, each under a generation of its own.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::{Pairs, rfc3339_ns};
use crate::k6::{Metric, Point, SETS_KEPT, Tags, assign_tags};

/// One set of tags and metadata, and the JSON text it was read from.
#[derive(Default)]
struct TagSet {
    tags: Tags,
    /// The tags' JSON text (empty for `null`).
    tags_json: String,
    meta: Tags,
    /// The metadata's JSON text (empty for `null` or none).
    meta_json: String,
    /// This set's [`Point::generation`], given to no other set of the file.
    generation: u64,
}

impl TagSet {
    /// What follows this set in `b` when `b` (a line after `"tags":`) starts with its tags,
    /// then its metadata (or none). A JSON object's text ends at its closing brace, so a line
    /// that starts with the whole text of an object read before has that object.
    fn after<'b>(&self, b: &'b [u8]) -> Option<&'b [u8]> {
        let rest = match self.tags_json.as_str() {
            "" => b.strip_prefix(b"null")?,
            tags => b.strip_prefix(tags.as_bytes())?,
        };
        match (
            rest.strip_prefix(b",\"metadata\":"),
            self.meta_json.as_str(),
        ) {
            (Some(meta), "") => meta.strip_prefix(b"null"),
            (Some(meta), json) => meta.strip_prefix(json.as_bytes()),
            (None, "") => Some(rest),
            (None, _) => None,
        }
    }
}

/// The time and the last sets of tags and metadata of the lines read so far: the ones of the
/// last Point are its `current` set.
#[derive(Default)]
pub(super) struct Recent {
    /// At most [`SETS_KEPT`].
    sets: Vec<TagSet>,
    /// The slot of the last Point's set.
    current: usize,
    /// The slot the next new set takes: once all are taken, that of the set read longest ago.
    next_slot: usize,
    /// Generations given so far.
    generations: u64,
    /// The last time's text (empty: none yet).
    pub(super) time: String,
    /// The last time, in ns since the epoch.
    pub(super) time_ns: i64,
}

impl Recent {
    /// The slot of the kept set `b` (a line after `"tags":`) starts with, and what follows it
    /// (see [`TagSet::after`]): the current set first, each compared once.
    pub(super) fn find_text<'b>(&self, b: &'b [u8]) -> Option<(usize, &'b [u8])> {
        let current = self.current;
        if let Some(rest) = self.sets.get(current).and_then(|set| set.after(b)) {
            return Some((current, rest));
        }
        let mut others = (self.sets.iter().enumerate()).filter(|&(slot, _)| slot != current);
        others.find_map(|(slot, set)| set.after(b).map(|rest| (slot, rest)))
    }

    /// The set in `slot` ([`Recent::find_text`]) becomes the current one.
    pub(super) fn choose(&mut self, slot: usize) {
        self.current = slot;
    }

    /// The current set becomes `tags` and `meta` (with their JSON texts, empty for `null`),
    /// sorted by name, a name given twice keeping its last value (as in a JSON map); it takes
    /// the next slot and a new generation.
    pub(super) fn insert(
        &mut self,
        tags: (&str, Option<Pairs<'_>>),
        meta: (&str, Option<Pairs<'_>>),
    ) {
        let slot = self.next_slot;
        if slot == self.sets.len() {
            self.sets.push(TagSet::default());
        }
        self.next_slot = (slot + 1) % SETS_KEPT;
        self.generations += 1;
        let set = &mut self.sets[slot];
        keep_pairs(&mut set.tags, &mut set.tags_json, tags);
        keep_pairs(&mut set.meta, &mut set.meta_json, meta);
        set.generation = self.generations;
        self.current = slot;
    }

    /// [`Recent::find_text`] and [`Recent::insert`] for tags and metadata serde read as JSON
    /// texts: an error when either is not an object of strings (or `null`), and then nothing
    /// changes.
    pub(super) fn keep_raw(
        &mut self,
        tags: Option<&RawValue>,
        meta: Option<&RawValue>,
    ) -> Result<(), serde_json::Error> {
        let (tags_json, meta_json) = (raw_text(tags), raw_text(meta));
        let same = |s: &TagSet| s.tags_json == tags_json && s.meta_json == meta_json;
        if let Some(slot) = self.sets.iter().position(same) {
            self.choose(slot);
            return Ok(());
        }
        let (tags, meta) = (raw_pairs(tags_json)?, raw_pairs(meta_json)?);
        self.insert((tags_json, tags), (meta_json, meta));
        Ok(())
    }

    /// The slot of the last Point's set.
    pub(super) fn slot(&self) -> usize {
        self.current
    }

    /// A Point of `metric` with the current set.
    pub(super) fn point<'a>(&'a self, metric: Metric<'a>, time_ns: i64, value: f64) -> Point<'a> {
        let set = &self.sets[self.current];
        Point {
            metric,
            time_ns,
            value,
            tags: Cow::Borrowed(&set.tags),
            meta: Cow::Borrowed(&set.meta),
            generation: Some(set.generation),
        }
    }

    /// Ns since the epoch of `time`, parsed only when it is not the last one's (an empty
    /// `self.time` is none yet: an empty `time` is parsed, and refused).
    pub(super) fn time_ns(&mut self, time: &str) -> Result<i64, String> {
        if self.time.is_empty() || self.time != time {
            self.time_ns = rfc3339_ns(time)?;
            self.time.clear();
            self.time.push_str(time);
        }
        Ok(self.time_ns)
    }

    /// The tags and metadata of the current set (tests compare them with serde's).
    #[cfg(test)]
    pub(super) fn current(&self) -> (&Tags, &Tags) {
        let set = &self.sets[self.current];
        (&set.tags, &set.meta)
    }
}

/// The JSON text of an object serde kept raw: empty for `null` or none.
fn raw_text(raw: Option<&RawValue>) -> &str {
    match raw.map(RawValue::get) {
        None | Some("null") => "",
        Some(text) => text,
    }
}

/// The pairs of an object's JSON text (none for an empty one: `null`); an error when it is not
/// an object of strings.
fn raw_pairs(json: &str) -> Result<Option<Pairs<'_>>, serde_json::Error> {
    match json {
        "" => Ok(None),
        json => serde_json::from_str::<Pairs<'_>>(json).map(Some),
    }
}

/// `into` becomes the pairs of `object` (none for `null`), sorted by name, a name given twice
/// keeping its last value; `into_json` its JSON text.
fn keep_pairs(into: &mut Tags, into_json: &mut String, object: (&str, Option<Pairs<'_>>)) {
    let (json, pairs) = object;
    into_json.clear();
    into_json.push_str(json);
    let mut pairs = pairs.map(|p| p.0).unwrap_or_default();
    pairs.sort_by(|a, b| a.0.cmp(&b.0)); // stable: the last of equal names stays last
    if pairs.windows(2).any(|w| w[0].0 == w[1].0) {
        let last: BTreeMap<Cow<'_, str>, Cow<'_, str>> = pairs.into_iter().collect();
        pairs = last.into_iter().collect();
    }
    assign_tags(into, pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
}
