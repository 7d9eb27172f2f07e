//! k6 `--out json`: one JSON object per line, `{"type":"Metric",…}` (a metric's declaration,
//! skipped) or `{"type":"Point","metric":M,"data":{"time","value","tags","metadata"}}` (k6's
//! `internal/output/json`; the key order changed in 0.38 and does not matter here).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

mod events;
mod fast;
mod lines;
pub(crate) mod mapped;
mod pipeline;
mod recent;
#[cfg(test)]
mod tests;

pub use self::pipeline::decode_k6_json;

use self::recent::Recent;
use super::Point;

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

/// What a line is, once read.
enum Parsed<'a> {
    /// A Point to assemble, and the slot of its tags and metadata in [`Recent`].
    Point(Point<'a>, usize),
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
        return Ok(Parsed::Point(
            recent.point(metric, time_ns, value),
            recent.slot(),
        ));
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
    let kept = recent.keep_raw(data.tags, data.metadata);
    if kept.is_err() {
        // Tags or metadata that are not objects of strings: say which, as for any bad Point.
        return diagnose(line).map(|()| Parsed::Skip);
    }
    let recent: &'a Recent = recent;
    Ok(Parsed::Point(
        recent.point(metric.into(), time_ns, value),
        recent.slot(),
    ))
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
