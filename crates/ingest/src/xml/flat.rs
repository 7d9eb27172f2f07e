//! The fast path for the samples JMeter writes by default: a top-level `<httpSample …/>`,
//! `<sample …/>` or `<statSample …/>` with no children, or with `assertionResult` children only
//! ([`super::children`]) — read straight from the reader's buffer, its attribute values borrowed
//! (copied only when they hold an entity or a line break), with no quick-xml event, no copy of
//! the element and no per-attribute allocation.
//!
//! It only ever takes an element it reads exactly as quick-xml would: a whole, plain sample
//! element whose attributes all parse. Anything else — other children, an element cut off at the
//! end of the buffer, text, comments, unusual spacing, invalid UTF-8, a bad number, an
//! unresolvable entity — is left where it is for the event loop's quick-xml path, which decodes
//! it, or rejects it naming file, line and field, as it always did.

use std::borrow::Cow;

use quick_xml::XmlVersion;
use quick_xml::events::attributes::Attribute;
use quick_xml::name::QName;

use super::MAX_ATTRIBUTES;
use super::attrs::{Known, SampleAttrs};
use super::children;

/// A sample element read by [`read_sample`].
pub(super) struct FlatSample<'a> {
    pub(super) attrs: SampleAttrs<'a>,
    /// The known attributes the element has (bits of [`Known::bit`]).
    pub(super) seen: u32,
    /// The message of its first failed assertion that has one.
    pub(super) failure_message: Option<Cow<'a, str>>,
    /// Bytes taken: the whitespace before the element and the element itself.
    pub(super) len: usize,
}

/// A byte of an attribute name the fast path takes (XML name characters; anything else goes to
/// quick-xml). One bit of [`CLASS`].
const NAME: u8 = 1;
/// Whitespace: what XML (and quick-xml) take as space between markup and between attributes.
const SPACE: u8 = 2;
/// `<`: not allowed in an attribute value.
const LT: u8 = 4;
/// `&` or a control character: the value needs normalizing (entities resolved, line breaks
/// and tabs made spaces).
const SPECIAL: u8 = 8;

/// What each byte is to the scan of a start tag, one table look-up per byte.
static CLASS: [u8; 256] = byte_classes();

const fn byte_classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut class = 0;
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'.' | b'-') || b >= 0x80 {
            class |= NAME;
        }
        if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
            class |= SPACE;
        }
        if b == b'<' {
            class |= LT;
        }
        if b == b'&' || b < 0x20 {
            class |= SPECIAL;
        }
        table[i] = class;
        i += 1;
    }
    table
}

/// The bytes XML (and quick-xml) take as whitespace between markup and between attributes.
pub(super) fn is_space(b: u8) -> bool {
    CLASS[usize::from(b)] & SPACE != 0
}

/// The index of the first byte at or after `i` that is not whitespace (`bytes.len()` if none).
pub(super) fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|&b| is_space(b)) {
        i += 1;
    }
    i
}

/// The length of the sample element name at the start of `bytes`, if there is one.
fn sample_name_len(bytes: &[u8]) -> Option<usize> {
    // Fixed-size compares, inlined (a slice compare is a memcmp call).
    let starts = |name: &[u8; 10]| bytes.first_chunk::<10>() == Some(name);
    let len = if starts(b"httpSample") || starts(b"statSample") {
        10
    } else if bytes.first_chunk::<6>() == Some(b"sample") {
        6
    } else {
        return None;
    };
    let next = *bytes.get(len)?;
    (is_space(next) || next == b'/' || next == b'>').then_some(len)
}

/// The text of an attribute value: borrowed when `plain` (no `&`, no control character: it is
/// its own normalized value), else quick-xml's own normalization (entities resolved, line
/// breaks and tabs made spaces). `None` for invalid UTF-8 or a value quick-xml cannot resolve
/// (the slow path counts and keeps it).
fn value_text<'a>(key: &'a str, raw: &'a [u8], plain: bool) -> Option<Cow<'a, str>> {
    let text = std::str::from_utf8(raw).ok()?;
    if plain {
        return Some(Cow::Borrowed(text));
    }
    let attr = Attribute {
        key: QName(key),
        value: Cow::Borrowed(text),
    };
    attr.normalized_value(XmlVersion::Implicit1_0).ok()
}

/// A sample element's start tag, its attributes read.
struct StartTag<'a> {
    attrs: SampleAttrs<'a>,
    seen: u32,
    /// Where the element's name is.
    name: &'a [u8],
    /// Where the tag ends (just after its `>`).
    end: usize,
    /// `/>`: the element has no children.
    empty: bool,
}

/// The sample element at the start of `bytes` (after any whitespace), if there is a whole one
/// the fast path takes; `None` leaves the bytes to quick-xml.
pub(super) fn read_sample(bytes: &[u8]) -> Option<FlatSample<'_>> {
    let start = skip_space(bytes, 0);
    let tag = start_tag(bytes, start)?;
    let (end, failure_message) = if tag.empty {
        (tag.end, None)
    } else {
        let (end, message) = children::assertions(bytes, tag.end, tag.name)?;
        // The children are UTF-8 as a whole (quick-xml's rule for the element); the start
        // tag's text was checked piece by piece.
        let inner = std::str::from_utf8(bytes.get(tag.end..end)?).ok()?;
        let message = match message {
            Some(m) => Some(children::resolve_text(
                inner.get(m.start - tag.end..m.end - tag.end)?,
            )),
            None => None,
        };
        (end, message)
    };
    Some(FlatSample {
        attrs: tag.attrs,
        seen: tag.seen,
        failure_message,
        len: end,
    })
}

/// Reads the plain sample start tag at `bytes[start]` in one pass: each attribute's name and
/// value found, and its field set, as the scan goes. `None` when it is not one, is cut off, or
/// has an attribute the slow path must judge (a bad number, invalid UTF-8, an entity in a
/// number, an unresolvable entity).
///
/// The pieces checked to be UTF-8 (text values, variable names) are split at ASCII markup, so
/// the tag is UTF-8 exactly when each of them is; numbers are parsed from bytes, and any byte
/// that is not a digit (or `true` / `false`) fails them.
fn start_tag(bytes: &[u8], start: usize) -> Option<StartTag<'_>> {
    if bytes.get(start) != Some(&b'<') {
        return None;
    }
    let name_start = start + 1;
    let name_len = sample_name_len(bytes.get(name_start..)?)?;
    let name = bytes.get(name_start..name_start + name_len)?;
    let mut attrs = SampleAttrs::default();
    let mut seen = 0;
    let mut count = 0;
    let mut i = name_start + name_len;
    loop {
        let j = skip_space(bytes, i);
        match *bytes.get(j)? {
            b'/' => {
                return (*bytes.get(j + 1)? == b'>').then_some(StartTag {
                    attrs,
                    seen,
                    name,
                    end: j + 2,
                    empty: true,
                });
            }
            b'>' => {
                return Some(StartTag {
                    attrs,
                    seen,
                    name,
                    end: j + 1,
                    empty: false,
                });
            }
            _ => {}
        }
        // Attributes are separated by whitespace.
        if j == i || count >= MAX_ATTRIBUTES {
            return None;
        }
        count += 1;
        let mut eq = j;
        while CLASS[usize::from(*bytes.get(eq)?)] & NAME != 0 {
            eq += 1;
        }
        if eq == j || *bytes.get(eq)? != b'=' {
            return None;
        }
        let quote = *bytes.get(eq + 1)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_start = eq + 2;
        // One pass over the (short) value: its end, and the classes of its bytes.
        let mut value_end = value_start;
        let mut classes = 0;
        loop {
            let b = *bytes.get(value_end)?;
            if b == quote {
                break;
            }
            classes |= CLASS[usize::from(b)];
            value_end += 1;
        }
        if classes & LT != 0 {
            return None;
        }
        let plain = classes & SPECIAL == 0;
        let key = bytes.get(j..eq)?;
        let raw = bytes.get(value_start..value_end)?;
        match Known::of_bytes(key) {
            Some(k) => {
                if k.is_text() {
                    attrs.set_text(k, value_text(k.name(), raw, plain)?);
                } else if plain {
                    attrs.set_number(k, raw).ok()?;
                } else {
                    // A reference in a number is resolved by the slow path.
                    return None;
                }
                seen |= k.bit();
            }
            None => {
                let key = std::str::from_utf8(key).ok()?;
                let value = value_text(key, raw, plain)?;
                attrs.vars.push((Cow::Borrowed(key), value));
            }
        }
        i = value_end + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Option<(SampleAttrs<'_>, u32, usize)> {
        read_sample(text.as_bytes()).map(|s| (s.attrs, s.seen, s.len))
    }

    #[test]
    fn a_flat_sample_is_read_with_its_values_borrowed() {
        let text = "\n  <httpSample t=\"56\" ts=\"1763798399944\" s=\"false\" lb='View cart' rc=\"500\" tn=\"TG 1-1\" by=\"10\" ng=\"1\" USER=\"bob\"/>\n<next";
        let (a, seen, len) = read(text).expect("fast path");
        assert_eq!(&text[len..], "\n<next");
        assert_eq!(
            (a.t, a.ts, a.s, a.by, a.ng),
            (Some(56), Some(1763798399944), false, Some(10), Some(1))
        );
        assert!(matches!(a.lb, Cow::Borrowed("View cart")));
        assert_eq!(
            (a.rc.as_deref(), a.tn.as_deref()),
            (Some("500"), Some("TG 1-1"))
        );
        assert_eq!(a.vars, vec![(Cow::Borrowed("USER"), Cow::Borrowed("bob"))]);
        let want = [
            Known::T,
            Known::Ts,
            Known::S,
            Known::Lb,
            Known::Rc,
            Known::Tn,
            Known::By,
            Known::Ng,
        ];
        assert_eq!(seen, want.iter().map(|k| k.bit()).sum::<u32>());
    }

    #[test]
    fn entities_and_line_breaks_are_resolved_as_xml_says() {
        // &amp; → &, &#10; → LF (a character reference is kept), a raw tab or LF → a space.
        let (a, _, _) =
            read("<sample lb=\"a &amp; b\" rm=\"x&#10;y\" tn=\"p\tq\nr\"/>").expect("fast path");
        assert_eq!(a.lb, "a & b");
        assert_eq!(a.rm.as_deref(), Some("x\ny"));
        assert_eq!(a.tn.as_deref(), Some("p q r"));
        let (a, seen, _) = read("<statSample/>").expect("no attributes");
        assert_eq!((a.s, seen, a.lb.as_ref()), (true, 0, ""));
    }

    #[test]
    fn anything_unusual_is_left_to_quick_xml() {
        for text in [
            "<httpSample t=\"1\">",          // has children
            "<httpSample t=\"1\" lb=\"a\"",  // cut off
            "<httpSample t=\"1\" lb=\"ab",   // cut inside a value
            "<httpSample t=\"x\"/>",         // bad number: the slow path rejects it
            "<httpSample t = \"1\"/>",       // spaces around '='
            "<httpSample t=\"1\"lb=\"a\"/>", // no space between attributes
            "<httpSample lb=\"&bogus;\"/>",  // an entity XML does not define
            "<httpSample lb=\"a<b\"/>",      // '<' in a value
            "<httpSample lb=a/>",            // unquoted
            "<httpSample \"/>",
            "<assertionResult/>",
            "<!-- c --><httpSample/>",
            "text<httpSample/>",
            "</testResults>",
            "   ",
        ] {
            assert!(read(text).is_none(), "{text}");
        }
        let invalid_utf8 = b"<httpSample lb=\"\xff\"/>";
        assert!(read_sample(invalid_utf8).is_none());
    }
}
