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
use std::ops::Range;

use quick_xml::XmlVersion;
use quick_xml::events::attributes::Attribute;
use quick_xml::name::QName;

use super::MAX_ATTRIBUTES;
use super::attrs::{Known, SampleAttrs};
use super::children;

/// A sample element read by [`FlatReader::sample`].
pub(super) struct FlatSample<'a> {
    pub(super) attrs: SampleAttrs<'a>,
    /// The known attributes the element has (bits of [`Known::bit`]).
    pub(super) seen: u32,
    /// The message of its first failed assertion that has one.
    pub(super) failure_message: Option<Cow<'a, str>>,
    /// Bytes taken: the whitespace before the element and the element itself.
    pub(super) len: usize,
}

/// One attribute of the element being read: where its name and raw value are.
struct AttrSpan {
    key: Range<usize>,
    value: Range<usize>,
    /// The value has no `&` and no control character: it is its own normalized value.
    plain: bool,
}

/// The start tag of a sample element, as [`FlatReader::scan`] found it.
struct StartTag {
    /// Where the element's name is.
    name: Range<usize>,
    /// Where the tag ends (just after its `>`).
    end: usize,
    /// `/>`: the element has no children.
    empty: bool,
}

/// Reads sample elements, reusing its scratch space from one element to the next.
#[derive(Default)]
pub(super) struct FlatReader {
    spans: Vec<AttrSpan>,
}

/// The bytes XML (and quick-xml) take as whitespace between markup and between attributes.
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Bytes of an attribute name the fast path takes (XML name characters; anything else goes to
/// quick-xml).
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'.' | b'-') || b >= 0x80
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
    let len = if bytes.starts_with(b"httpSample") || bytes.starts_with(b"statSample") {
        10
    } else if bytes.starts_with(b"sample") {
        6
    } else {
        return None;
    };
    let next = *bytes.get(len)?;
    (is_space(next) || next == b'/' || next == b'>').then_some(len)
}

impl FlatReader {
    /// The sample element at the start of `bytes` (after any whitespace), if there is a whole
    /// one the fast path takes; `None` leaves the bytes to quick-xml.
    pub(super) fn sample<'a>(&mut self, bytes: &'a [u8]) -> Option<FlatSample<'a>> {
        let start = skip_space(bytes, 0);
        let tag = self.scan(bytes, start)?;
        let (end, message) = if tag.empty {
            (tag.end, None)
        } else {
            children::assertions(bytes, tag.end, bytes.get(tag.name)?)?
        };
        let text = std::str::from_utf8(bytes.get(start..end)?).ok()?;
        let mut attrs = SampleAttrs::default();
        let mut seen = 0;
        for span in &self.spans {
            let key = text.get(span.key.start - start..span.key.end - start)?;
            let raw = text.get(span.value.start - start..span.value.end - start)?;
            let value = if span.plain {
                Cow::Borrowed(raw)
            } else {
                // quick-xml's own normalization: entities resolved, line breaks and tabs made
                // spaces. A value it cannot resolve is counted and kept by the slow path.
                let attr = Attribute {
                    key: QName(key),
                    value: Cow::Borrowed(raw),
                };
                attr.normalized_value(XmlVersion::Implicit1_0).ok()?
            };
            match Known::of(key) {
                Some(k) => {
                    attrs.set(k, value).ok()?;
                    seen |= k.bit();
                }
                None => attrs.vars.push((Cow::Borrowed(key), value)),
            }
        }
        let failure_message = match message {
            Some(m) => Some(children::resolve_text(
                text.get(m.start - start..m.end - start)?,
            )),
            None => None,
        };
        Some(FlatSample {
            attrs,
            seen,
            failure_message,
            len: end,
        })
    }

    /// Finds the attributes of the plain sample start tag at `bytes[start]` into `self.spans`;
    /// `None` when it is not one (or is cut).
    fn scan(&mut self, bytes: &[u8], start: usize) -> Option<StartTag> {
        if bytes.get(start) != Some(&b'<') {
            return None;
        }
        let name_start = start + 1;
        let name_len = sample_name_len(bytes.get(name_start..)?)?;
        self.spans.clear();
        let mut i = name_start + name_len;
        loop {
            let j = skip_space(bytes, i);
            match *bytes.get(j)? {
                b'/' => {
                    return (*bytes.get(j + 1)? == b'>').then_some(StartTag {
                        name: name_start..name_start + name_len,
                        end: j + 2,
                        empty: true,
                    });
                }
                b'>' => {
                    return Some(StartTag {
                        name: name_start..name_start + name_len,
                        end: j + 1,
                        empty: false,
                    });
                }
                _ => {}
            }
            // Attributes are separated by whitespace.
            if j == i || self.spans.len() >= MAX_ATTRIBUTES {
                return None;
            }
            let key_len = bytes.get(j..)?.iter().position(|&b| !is_name_byte(b))?;
            let eq = j + key_len;
            if key_len == 0 || *bytes.get(eq)? != b'=' {
                return None;
            }
            let quote = *bytes.get(eq + 1)?;
            if quote != b'"' && quote != b'\'' {
                return None;
            }
            let value_start = eq + 2;
            let rest = bytes.get(value_start..)?;
            // A plain loop: values are a few bytes, shorter than a memchr call is worth.
            let value_len = rest.iter().position(|&b| b == quote)?;
            // One pass over the (short) value, no early exit: '<' is not allowed in it, '&' and
            // control characters make it need normalizing.
            let (lt, special) = rest
                .get(..value_len)?
                .iter()
                .fold((false, false), |(lt, sp), &b| {
                    (lt | (b == b'<'), sp | (b == b'&') | (b < 0x20))
                });
            if lt {
                return None;
            }
            let value_end = value_start + value_len;
            self.spans.push(AttrSpan {
                key: j..eq,
                value: value_start..value_end,
                plain: !special,
            });
            i = value_end + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Option<(SampleAttrs<'_>, u32, usize)> {
        FlatReader::default()
            .sample(text.as_bytes())
            .map(|s| (s.attrs, s.seen, s.len))
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
        assert!(FlatReader::default().sample(invalid_utf8).is_none());
    }
}
