//! k6 `--out json`: one JSON object per line, `{"type":"Metric",…}` (a metric's declaration,
//! skipped) or `{"type":"Point","metric":M,"data":{"time","value","tags","metadata"}}` (k6's
//! `internal/output/json`; the key order changed in 0.38 and does not matter here).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

mod events;
mod fast;
mod lines;
pub(crate) mod mapped;
mod pipeline;
#[cfg(test)]
mod tests;

pub use self::pipeline::decode_k6_json;

use super::{Metric, Point, Tags, assign_tags};

/// A line as k6 writes it; anything else is diagnosed by [`diagnose`].
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    metric: Option<Cow<'a, str>>,
    #[serde(borrow)]
    data: Option<Data<'a>>,
}

/// A Point's `data` (a Metric's has other keys, all ignored). The tags and metadata are kept
/// as their JSON text: the Points of one request repeat them, so they are parsed only when the
/// text differs from the last Point's ([`Recent::keep`]).
#[derive(Deserialize)]
struct Data<'a> {
    #[serde(borrow)]
    time: Option<Cow<'a, str>>,
    value: Option<f64>,
    #[serde(borrow)]
    tags: Option<&'a RawValue>,
    #[serde(borrow)]
    metadata: Option<&'a RawValue>,
}

/// A JSON object of strings, borrowed from the line where no escape forces a copy, in file
/// order.
struct Pairs<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

/// A string borrowed from the line when it has no escapes.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Pairs<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Pairs<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut m: M,
            ) -> Result<Pairs<'a>, M::Error> {
                let mut pairs = Vec::with_capacity(m.size_hint().unwrap_or(12));
                while let Some((Text(k), Text(v))) = m.next_entry::<Text<'a>, Text<'a>>()? {
                    pairs.push((k, v));
                }
                Ok(Pairs(pairs))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// The tags, metadata and time of the last Point read: the Points of one request repeat them,
/// so a line that does is neither copied nor parsed again.
#[derive(Default)]
struct Recent {
    tags: Tags,
    /// The JSON text `tags` was parsed from.
    tags_json: String,
    meta: Tags,
    /// The JSON text `meta` was parsed from.
    meta_json: String,
    time: String,
    time_ns: i64,
    /// Bumped whenever `tags` or `meta` change: Points of one generation have the same ones.
    generation: u64,
}

impl Recent {
    /// `into` becomes the pairs of the JSON object `raw` (none for `null` or no object), unless
    /// `raw` is the text `into` was parsed from (`into_json`). An error when `raw` is not an
    /// object of strings.
    fn keep(
        into: &mut Tags,
        into_json: &mut String,
        generation: &mut u64,
        raw: Option<&RawValue>,
    ) -> Result<(), serde_json::Error> {
        let text = raw.map_or("", RawValue::get);
        if same_text(text, into_json) {
            return Ok(()); // the Points of one request: the same text
        }
        let pairs = raw
            .map(|r| serde_json::from_str::<Option<Pairs<'_>>>(r.get()))
            .transpose()?
            .flatten();
        Recent::keep_text(into, into_json, generation, text, pairs);
        Ok(())
    }

    /// `into` (parsed from `into_json`) becomes `pairs`, the object whose JSON text is `text`
    /// (empty for none), unless `text` is the one `into` was parsed from.
    fn keep_text(
        into: &mut Tags,
        into_json: &mut String,
        generation: &mut u64,
        text: &str,
        pairs: Option<Pairs<'_>>,
    ) {
        if same_text(text, into_json) {
            return;
        }
        Recent::keep_pairs(into, generation, pairs);
        into_json.clear();
        into_json.push_str(text);
    }

    /// `into` becomes `pairs`, sorted by name (a name given twice keeps its last value, as in
    /// a JSON map), unless it already is; `generation` is bumped when it changes.
    fn keep_pairs(into: &mut Tags, generation: &mut u64, pairs: Option<Pairs<'_>>) {
        let mut pairs = pairs.map(|p| p.0).unwrap_or_default();
        let same = |into: &Tags, pairs: &[(Cow<'_, str>, Cow<'_, str>)]| {
            into.len() == pairs.len()
                && into
                    .iter()
                    .zip(pairs)
                    .all(|((k, v), (pk, pv))| k == pk && v == pv)
        };
        if same(into, &pairs) {
            return; // k6 writes tags sorted: the common case
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0)); // stable: the last of equal names stays last
        if pairs.windows(2).any(|w| w[0].0 == w[1].0) {
            let last: BTreeMap<_, _> = pairs.into_iter().collect();
            pairs = last.into_iter().collect();
        }
        if !same(into, &pairs) {
            assign_tags(into, pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
            *generation += 1;
        }
    }

    /// A Point of `metric` with these tags and metadata.
    fn point<'a>(&'a self, metric: Metric<'a>, time_ns: i64, value: f64) -> Point<'a> {
        Point {
            metric,
            time_ns,
            value,
            tags: Cow::Borrowed(&self.tags),
            meta: Cow::Borrowed(&self.meta),
            generation: Some(self.generation),
        }
    }

    /// Ns since the epoch of `time`, parsed only when it is not the last one's (an empty
    /// `self.time` is none yet: an empty `time` is parsed, and refused).
    fn time_ns(&mut self, time: &str) -> Result<i64, String> {
        if self.time.is_empty() || self.time != time {
            self.time_ns = rfc3339_ns(time)?;
            self.time.clear();
            self.time.push_str(time);
        }
        Ok(self.time_ns)
    }
}

/// `a == b`, without calling `memcmp` on two empty strings: an empty `String`'s dangling
/// pointer makes the masked loads of glibc's AVX-512 `memcmp` take a slow assist, and the
/// metadata of nearly every Point is absent (empty).
fn same_text(a: &str, b: &str) -> bool {
    a.len() == b.len() && (a.is_empty() || a == b)
}

/// What a line is, once read.
enum Parsed<'a> {
    /// A Point to assemble.
    Point(Point<'a>),
    /// A Metric declaration (or a line k6 writes that carries no sample).
    Skip,
}

/// Ns since the epoch of an RFC 3339 time as Go writes it (up to 9 fraction digits, an offset
/// or `Z`).
pub(super) fn rfc3339_ns(t: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(t)
        .map_err(|e| format!("'{t}' is not an RFC 3339 time: {e}"))?
        .timestamp_nanos_opt()
        .ok_or_else(|| format!("'{t}' is out of range"))
}

/// A line's Point, or the field at fault and why: a line in k6's own layout read byte by byte
/// ([`fast::read`]), any other with serde.
fn parse<'a>(
    line: &'a [u8],
    recent: &'a mut Recent,
) -> Result<Parsed<'a>, (Option<&'static str>, String)> {
    if let Some((metric, time_ns, value)) = fast::read(line, recent) {
        let recent: &'a Recent = recent;
        return Ok(Parsed::Point(recent.point(metric, time_ns, value)));
    }
    parse_serde(line, recent)
}

/// [`parse`] with serde, whatever the layout.
fn parse_serde<'a>(
    line: &'a [u8],
    recent: &'a mut Recent,
) -> Result<Parsed<'a>, (Option<&'static str>, String)> {
    let Ok(l) = serde_json::from_slice::<Line<'_>>(line) else {
        return diagnose(line).map(|()| Parsed::Skip);
    };
    if l.kind != "Point" {
        return diagnose(line).map(|()| Parsed::Skip);
    }
    let Some(metric) = l.metric else {
        return Err((Some("metric"), "a Point without its metric's name".into()));
    };
    let Some(data) = l.data else {
        return Err((Some("data"), "a Point without data".into()));
    };
    let time = data
        .time
        .ok_or_else(|| (Some("data.time"), "missing".to_string()))?;
    let time_ns = recent.time_ns(&time).map_err(|e| (Some("data.time"), e))?;
    let value = data
        .value
        .ok_or_else(|| (Some("data.value"), "missing".to_string()))?;
    let r = &mut *recent;
    let kept =
        Recent::keep(&mut r.tags, &mut r.tags_json, &mut r.generation, data.tags).and_then(|()| {
            Recent::keep(
                &mut r.meta,
                &mut r.meta_json,
                &mut r.generation,
                data.metadata,
            )
        });
    if kept.is_err() {
        // Tags or metadata that are not objects of strings: say which, as for any bad Point.
        return diagnose(line).map(|()| Parsed::Skip);
    }
    let recent: &'a Recent = recent;
    Ok(Parsed::Point(recent.point(metric.into(), time_ns, value)))
}

/// Why a line that is not a k6 Point is bad — or `Ok` for a Metric line (whose `data` may hold
/// anything).
fn diagnose(line: &[u8]) -> Result<(), (Option<&'static str>, String)> {
    let v: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| (None, format!("not JSON: {e}")))?;
    let kind = v.get("type").and_then(|t| t.as_str());
    match kind {
        Some("Metric") => Ok(()),
        Some("Point") => {
            let data = v.get("data");
            let field = match data {
                None => "data",
                Some(d) if !d.get("time").is_some_and(|t| t.is_string()) => "data.time",
                Some(d) if !d.get("value").is_some_and(|t| t.is_number()) => "data.value",
                Some(d) if !d.get("tags").is_none_or(|t| t.is_null() || t.is_object()) => {
                    "data.tags"
                }
                Some(_) => "data.tags",
            };
            let reason = match data.and_then(|d| d.get(field.trim_start_matches("data."))) {
                Some(got) => format!(
                    "unexpected value {got} (k6 writes a string time, a number value, tags and metadata of strings)"
                ),
                None => "missing".into(),
            };
            Err((Some(field), reason))
        }
        Some(other) => Err((
            Some("type"),
            format!("'{other}' is neither Metric nor Point"),
        )),
        None => Err((Some("type"), "a JSON object without k6's type".into())),
    }
}
