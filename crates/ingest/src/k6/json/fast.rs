//! A byte-level reader of a Point line in k6's own layout —
//! `{"metric":M,"type":"Point","data":{"time":T,"value":V,"tags":{…}|null[,"metadata":{…}|null]}}`
//! with no whitespace, no escapes and plain decimal numbers — that skips serde for the millions
//! of Points of a big file. It reads such a line exactly as the serde path would (the same
//! strings, the same `f64`, the same tags through [`Recent`]) and declines anything else (a
//! Metric line, other key orders, spaces, escapes, exponents, long numbers, any error): the
//! caller then reads the line with serde, which keeps every diagnostic.

use std::borrow::Cow;

#[cfg(test)]
mod tests;

use super::Pairs;
use super::recent::Recent;
use crate::k6::Metric;

/// Exact powers of ten: `n / 10^k` with `n < 2^53` and `k ≤ 22` is one correctly rounded
/// division, which is what serde_json computes for such a number (and what a correctly rounding
/// parser gives).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Digits a number may have here: below 2^53, its significand is exact in an `f64`.
const MAX_DIGITS: usize = 15;

/// The metric, time (ns since the epoch) and value of `line` when it is a Point in k6's own
/// layout (either key order: `metric,type,data` since k6 0.38, `type,data,metric` before), its
/// tags and metadata made `recent`'s; `None` for any other line (read it with serde). `recent`
/// is changed only by a line read whole.
pub(super) fn read<'a>(line: &'a [u8], recent: &mut Recent) -> Option<(Metric<'a>, i64, f64)> {
    const DATA: &[u8] = b"\"type\":\"Point\",\"data\":{\"time\":\"";
    let (first, rest) = match line.strip_prefix(b"{\"metric\":\"") {
        Some(rest) => {
            let (metric, rest) = metric(rest)?;
            (Some(metric), rest.strip_prefix(b",")?.strip_prefix(DATA)?)
        }
        None => (None, line.strip_prefix(b"{")?.strip_prefix(DATA)?),
    };
    let (time, rest) = time(rest, &recent.time)?;
    let rest = rest.strip_prefix(b",\"value\":")?;
    let (value, rest) = number(rest)?;
    let rest = rest.strip_prefix(b",\"tags\":")?;
    let (set, rest) = match recent.find_text(rest) {
        Some((slot, rest)) => (Set::Kept(slot), rest),
        None => {
            let (tags, rest) = object(rest)?;
            let (meta, rest) = match rest.strip_prefix(b",\"metadata\":") {
                Some(rest) => object(rest)?,
                None => (("", None), rest),
            };
            (Set::New(tags, meta), rest)
        }
    };
    let metric = match first {
        Some(metric) if rest == b"}}" => metric,
        Some(_) => return None,
        None => match metric(rest.strip_prefix(b"},\"metric\":\"")?)? {
            (metric, b"}") => metric,
            _ => return None,
        },
    };
    let time_ns = match time {
        Some(time) => recent.time_ns(time).ok()?,
        None => recent.time_ns,
    };
    match set {
        Set::Kept(slot) => recent.choose(slot),
        Set::New(tags, meta) => recent.insert(tags, meta),
    }
    Some((metric, time_ns, value))
}

/// The metric named by the string at the start of `b` (after its opening quote), and what
/// follows its closing quote. k6's own metrics are told by their bytes, with no UTF-8 check.
fn metric(b: &[u8]) -> Option<(Metric<'_>, &[u8])> {
    let end = memchr::memchr(b'"', b)?;
    let rest = &b[end + 1..];
    if let Some(known) = Metric::known(&b[..end]) {
        return Some((known, rest)); // no escape nor control character in a known name
    }
    Some((Metric::Other(Cow::Borrowed(plain(&b[..end])?)), rest))
}

/// The time string at the start of `b` (after its opening quote) and what follows its closing
/// quote: `None` for the time `last` (the last Point's, whose ns are known; a request's Points
/// share it), else its text.
fn time<'a>(b: &'a [u8], last: &str) -> Option<(Option<&'a str>, &'a [u8])> {
    // `last` parsed as RFC 3339, so it has no quote, escape or control character.
    let same = (!last.is_empty())
        .then(|| b.strip_prefix(last.as_bytes())?.strip_prefix(b"\""))
        .flatten();
    match same {
        Some(rest) => Some((None, rest)),
        None => string(b).map(|(time, rest)| (Some(time), rest)),
    }
}

/// A string's text up to its closing quote, and what follows the quote: `None` when it has an
/// escape or a control character (serde decodes or refuses those) or is not UTF-8.
fn string(b: &[u8]) -> Option<(&str, &[u8])> {
    let end = memchr::memchr(b'"', b)?;
    Some((plain(&b[..end])?, &b[end + 1..]))
}

/// The text of a string's bytes between its quotes: `None` when it has an escape or a control
/// character, or is not UTF-8.
fn plain(b: &[u8]) -> Option<&str> {
    // No early exit: the check of every byte vectorizes.
    let escaped = b
        .iter()
        .fold(false, |any, &c| any | (c == b'\\') | (c < 0x20));
    if escaped {
        return None;
    }
    std::str::from_utf8(b).ok()
}

/// A JSON number of at most [`MAX_DIGITS`] digits, without exponent, and what follows it.
fn number(b: &[u8]) -> Option<(f64, &[u8])> {
    let negative = b.first() == Some(&b'-');
    let mut i = usize::from(negative);
    let int_start = i;
    let mut significand = 0u64;
    while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
        significand = significand * 10 + u64::from(d - b'0');
        i += 1;
        if i - int_start > MAX_DIGITS {
            return None;
        }
    }
    let int_digits = i - int_start;
    if int_digits == 0 || (int_digits > 1 && b[int_start] == b'0') {
        return None; // no digit, or a leading zero: serde says why
    }
    let mut fraction = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
            significand = significand * 10 + u64::from(d - b'0');
            fraction += 1;
            i += 1;
            if int_digits + fraction > MAX_DIGITS {
                return None;
            }
        }
        if fraction == 0 {
            return None;
        }
    }
    let mut value = significand as f64;
    if fraction > 0 {
        value /= POW10[fraction];
    }
    Some((if negative { -value } else { value }, &b[i..]))
}

/// A JSON object's text (empty for `null`) and its pairs (none for `null`).
type Object<'a> = (&'a str, Option<Pairs<'a>>);

/// The tags and metadata of a line.
enum Set<'a> {
    /// Those of a set [`Recent`] keeps, in this slot.
    Kept(usize),
    /// Others: the tags and the metadata.
    New(Object<'a>, Object<'a>),
}

/// The object (or `null`) at the start of `b`, and what follows it. `None` for anything but
/// `null` or an object of plain strings without spaces.
fn object(b: &[u8]) -> Option<(Object<'_>, &[u8])> {
    if let Some(rest) = b.strip_prefix(b"null") {
        return Some((("", None), rest));
    }
    let mut rest = b.strip_prefix(b"{")?;
    let mut pairs = Vec::with_capacity(16);
    if let Some(after) = rest.strip_prefix(b"}") {
        rest = after;
    } else {
        loop {
            let (key, after) = string(rest.strip_prefix(b"\"")?)?;
            let (value, after) = string(after.strip_prefix(b":\"")?)?;
            pairs.push((Cow::Borrowed(key), Cow::Borrowed(value)));
            match after.split_first()? {
                (b',', after) => rest = after,
                (b'}', after) => {
                    rest = after;
                    break;
                }
                _ => return None,
            }
        }
    }
    let len = b.len() - rest.len();
    // Only ASCII punctuation and strings checked as UTF-8 were read.
    let text = std::str::from_utf8(&b[..len]).ok()?;
    Some(((text, Some(Pairs(pairs))), rest))
}
