//! The children of a sample the fast path ([`super::flat`]) reads itself: the
//! `assertionResult` elements JMeter writes inside a sample when it saves assertion results (its
//! default), each holding `name`, `failure`, `error` and, when it failed, `failureMessage` text
//! elements. They mean what the event loop makes of them: the sample's failure message is that
//! of its first failed assertion with a non-empty message, with the references in its text
//! resolved by the one rule for them ([`super::push_reference`]).
//!
//! Anything else inside the sample — a sub-sample, a URL, response data, text, a comment, CDATA,
//! an attribute, an empty element, a carriage return (XML turns it into a line feed), a `&` that
//! does not start a plain reference, a cut-off end — leaves the whole sample to quick-xml.

use std::borrow::Cow;
use std::ops::Range;

use memchr::memchr;
use quick_xml::events::BytesRef;

use super::flat::skip_space;
use super::push_reference;

const ASSERTION_START: &[u8] = b"<assertionResult>";
const ASSERTION_END: &[u8] = b"</assertionResult>";

/// Reads the children of the sample element called `name` whose start tag ends at `bytes[i]`,
/// and its end tag: where the element ends, and where the raw text of the failure message it
/// takes is. `None` when it has anything but assertion results, or is cut off.
pub(super) fn assertions(
    bytes: &[u8],
    mut i: usize,
    name: &[u8],
) -> Option<(usize, Option<Range<usize>>)> {
    let mut message: Option<Range<usize>> = None;
    loop {
        i = skip_space(bytes, i);
        let rest = bytes.get(i..)?;
        if let Some(close) = rest.strip_prefix(b"</") {
            let close = close.strip_prefix(name)?;
            return (close.first() == Some(&b'>')).then_some((i + 3 + name.len(), message));
        }
        if !rest.starts_with(ASSERTION_START) {
            return None;
        }
        let (end, failed, text) = assertion(bytes, i + ASSERTION_START.len())?;
        // The first failed assertion with a message gives the sample its failure message.
        if failed && message.is_none() {
            message = text.filter(|t| !t.is_empty());
        }
        i = end;
    }
}

/// Reads one `assertionResult`'s children, from just after its start tag, and its end tag:
/// where it ends, whether it failed, and where its failure message's raw text is.
fn assertion(bytes: &[u8], mut i: usize) -> Option<(usize, bool, Option<Range<usize>>)> {
    let mut failed = false;
    let mut message = None;
    loop {
        i = skip_space(bytes, i);
        let rest = bytes.get(i..)?;
        if rest.starts_with(ASSERTION_END) {
            return Some((i + ASSERTION_END.len(), failed, message));
        }
        let (tag, text, end) = text_element(bytes, i)?;
        let raw = bytes.get(text.clone())?;
        match tag {
            b"failureMessage" => message = Some(text),
            // A reference in a flag or a name is left to quick-xml.
            _ if raw.contains(&b'&') => return None,
            b"failure" | b"error" => failed |= raw == b"true",
            b"name" => {}
            _ => return None,
        }
        i = end;
    }
}

/// The `<tag>text</tag>` element at `bytes[i]`, with no attribute and no markup in its text:
/// its tag, where its text is, and where it ends. `None` for anything else, and for text with
/// a carriage return or a `&` that does not start a plain reference (`&` letters, digits or `#`
/// `;`).
fn text_element(bytes: &[u8], i: usize) -> Option<(&[u8], Range<usize>, usize)> {
    let rest = bytes.get(i..)?.strip_prefix(b"<")?;
    let tag_len = memchr(b'>', rest)?;
    let tag = rest.get(..tag_len)?;
    if tag.is_empty() || !tag.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let text_start = i + 1 + tag_len + 1;
    let text_len = memchr(b'<', bytes.get(text_start..)?)?;
    let text_end = text_start + text_len;
    let close = bytes
        .get(text_end..)?
        .strip_prefix(b"</")?
        .strip_prefix(tag)?;
    if close.first() != Some(&b'>') || !plain_text(bytes.get(text_start..text_end)?) {
        return None;
    }
    Some((tag, text_start..text_end, text_end + 3 + tag_len))
}

/// Text quick-xml reads as it is but for its references: no carriage return, and each `&`
/// followed by letters, digits or `#` and a `;` (what quick-xml reports as one reference).
fn plain_text(raw: &[u8]) -> bool {
    if raw.contains(&b'\r') {
        return false;
    }
    let mut rest = raw;
    while let Some(at) = memchr(b'&', rest) {
        let Some(after) = rest.get(at + 1..) else {
            return false;
        };
        let name_len = after
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'#'));
        match name_len {
            Some(n) if n > 0 && after.get(n) == Some(&b';') => {
                rest = after.get(n + 1..).unwrap_or_default();
            }
            _ => return false,
        }
    }
    true
}

/// The text of an element checked by [`plain_text`], its references resolved.
pub(super) fn resolve_text(raw: &str) -> Cow<'_, str> {
    if !raw.contains('&') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some((before, after)) = rest.split_once('&') {
        out.push_str(before);
        match after.split_once(';') {
            Some((name, tail)) => {
                push_reference(&mut out, &BytesRef::new(name));
                rest = tail;
            }
            // Not after plain_text; kept as written.
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Option<(usize, Option<&str>)> {
        let (end, m) = assertions(text.as_bytes(), 0, b"httpSample")?;
        Some((end, m.map(|r| &text[r])))
    }

    #[test]
    fn the_first_failed_assertion_with_a_message_gives_the_message() {
        let text = "\n  <assertionResult>\n    <name>A</name>\n    <failure>false</failure>\n    <error>false</error>\n  </assertionResult>\n  <assertionResult>\n    <name>B</name>\n    <failure>true</failure>\n    <error>false</error>\n    <failureMessage></failureMessage>\n  </assertionResult>\n  <assertionResult>\n    <name>C</name>\n    <failure>false</failure>\n    <error>true</error>\n    <failureMessage>size &gt; 100 &#x41;&#66;</failureMessage>\n  </assertionResult>\n  <assertionResult>\n    <failure>true</failure>\n    <failureMessage>later</failureMessage>\n  </assertionResult>\n</httpSample>\nnext";
        let (end, message) = read(text).expect("fast path");
        assert_eq!(&text[end..], "\nnext");
        assert_eq!(message, Some("size &gt; 100 &#x41;&#66;"));
        assert_eq!(resolve_text(message.unwrap_or_default()), "size > 100 AB");
        // A passed assertion's message is no failure message.
        let (_, message) = read(
            "<assertionResult><failure>false</failure><failureMessage>m</failureMessage></assertionResult></httpSample>",
        )
        .expect("fast path");
        assert_eq!(message, None);
        assert_eq!(read("</httpSample>"), Some((13, None)));
    }

    #[test]
    fn references_resolve_by_the_rule_for_text() {
        assert_eq!(
            resolve_text("a &amp; b &lt;&#65;&#x42;&#X43;&#0;&nbsp;"),
            "a & b <AB\u{FFFD}\u{FFFD}&nbsp;"
        );
        assert!(matches!(resolve_text("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn anything_else_is_left_to_quick_xml() {
        for text in [
            "<httpSample t=\"1\"/></httpSample>", // a sub-sample
            "<java.net.URL>http://x</java.net.URL></httpSample>", // a URL
            "<responseData class=\"java.lang.String\">x</responseData></httpSample>", // response data
            "text</httpSample>",
            "<!-- c --></httpSample>",
            "</sample>", // another end tag
            "</httpSample >",
            "<assertionResult><failure>true</failure>", // cut off
            "<assertionResult><failure>true</failure></assertionResult>", // cut off
            "<assertionResult><failureMessage><![CDATA[x]]></failureMessage></assertionResult></httpSample>",
            "<assertionResult><failureMessage/></assertionResult></httpSample>",
            "<assertionResult><failureMessage a=\"1\">x</failureMessage></assertionResult></httpSample>",
            "<assertionResult><failureMessage>a\r\nb</failureMessage></assertionResult></httpSample>",
            "<assertionResult><failureMessage>a & b</failureMessage></assertionResult></httpSample>",
            "<assertionResult><failureMessage>a &amp b</failureMessage></assertionResult></httpSample>",
            "<assertionResult><failure>tr&#117;e</failure></assertionResult></httpSample>",
            "<assertionResult><other>x</other></assertionResult></httpSample>",
            "<assertionResult><name>x</nome></assertionResult></httpSample>",
            "<assertionResult ><failure>true</failure></assertionResult></httpSample>",
        ] {
            assert!(read(text).is_none(), "{text}");
        }
    }
}
