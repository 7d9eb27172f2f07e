//! The CSS/JQuery Extractor (`HtmlExtractor`, JMeter 2.9+), with its default implementation,
//! JSoup (`JSoupExtractor`).
//!
//! JMeter's `HtmlExtractor.process` stores the default first (when not empty, or when
//! `default_empty_value` is set), then `JSoupExtractor.extract` parses the body with
//! `Jsoup.parse`, runs `document.select(expression)` and keeps, per element in document order,
//! `element.attr(attribute)` — or `element.text().trim()` when the attribute is blank — up to
//! the match number; the matches are stored as every plain-value extractor stores them
//! ([`super::store_matches`]).
//!
//! Here the body is parsed by html5ever (the WHATWG HTML5 tree builder, as jsoup's parser also
//! follows it; scripting disabled, as jsoup parses `<noscript>` as markup) and the selector is
//! matched by Servo's `selectors` crate, through `scraper`. What differs between jsoup's
//! selector dialect and CSS is bridged or refused when the plan is compiled
//! ([`jsoup_selector`]); [`jsoup_text`] is jsoup's `Element.text()` (1.16, the version JMeter
//! 5.6 ships) rule by rule.

use ego_tree::NodeRef;
use ego_tree::iter::Edge;
use html5ever::tendril::TendrilSink;
use scraper::{ElementRef, Html, HtmlTreeSink, Node, Selector};

use crate::elements::response::Response;
use crate::text::template::{Template, UserCtx};

/// The CSS selector of a CSS/JQuery Extractor: fixed, or rendered for each sample.
#[derive(Debug, Clone)]
pub enum CssExpr {
    /// No run-time reference: parsed once when the plan is compiled.
    Fixed(Box<Selector>),
    /// `${var}` set while the test runs (`tr:nth-child(${i})`): rendered, turned into CSS
    /// ([`jsoup_selector`]) and parsed for each sample.
    Runtime(Template),
}

/// One CSS/JQuery Extractor (`HtmlExtractor`).
#[derive(Debug, Clone)]
pub struct CssExtract {
    /// The element's `testname`.
    pub name: String,
    /// `HtmlExtractor.refname`: the variable set.
    pub refname: String,
    /// `HtmlExtractor.expr` as written in the plan (for `explain`).
    pub source: String,
    /// `HtmlExtractor.expr`, ready to match.
    pub expr: CssExpr,
    /// `HtmlExtractor.attribute`: the attribute read; blank reads the element's text.
    pub attribute: String,
    /// `HtmlExtractor.match_number`: n ≥ 1 the n-th match, 0 a random one, negative all.
    pub match_number: i64,
    /// `HtmlExtractor.default`: stored first when not empty.
    pub default: String,
    /// `HtmlExtractor.default_empty_value`: store the (empty) default anyway.
    pub default_empty: bool,
}

impl CssExtract {
    /// Sets this extractor's variables from the response body, as JMeter's
    /// `HtmlExtractor.process`; run-time parts of the selector are rendered for `user`.
    pub(crate) fn apply(&self, r: &Response<'_>, user: &mut UserCtx) {
        let name = self.refname.as_str();
        if !self.default.is_empty() || self.default_empty {
            user.vars.insert(name.to_string(), self.default.clone());
        }
        let rendered;
        let selector = match &self.expr {
            CssExpr::Fixed(s) => s.as_ref(),
            CssExpr::Runtime(t) => {
                let text = t.render(user, &|v: &str| v.to_string());
                match jsoup_selector(&text).and_then(|css| parse_selector(&css)) {
                    Ok(s) => {
                        rendered = s;
                        &rendered
                    }
                    // jsoup throws Selector.SelectorParseException, a RuntimeException that
                    // `process` logs: only the default has been stored.
                    Err(why) => {
                        tracing::warn!(
                            "{}: CSS selector \"{text}\" is not valid: {why}",
                            self.name
                        );
                        return;
                    }
                }
            }
        };
        let matches = select_values(r.body, selector, &self.attribute, self.match_number);
        super::store_matches(&mut user.vars, name, self.match_number, &matches);
    }
}

/// `JSoupExtractor.extract` on `body`: the value of each element `selector` matches, in document
/// order, at most `match_number` of them when it is positive.
pub(crate) fn select_values(
    body: &str,
    selector: &Selector,
    attribute: &str,
    match_number: i64,
) -> Vec<String> {
    let document = parse_html(body);
    let limit = usize::try_from(match_number)
        .ok()
        .filter(|&n| n > 0)
        .unwrap_or(usize::MAX);
    document
        .tree
        .root()
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| selector.matches(e))
        .take(limit)
        .map(|e| {
            if attribute.trim().is_empty() {
                jsoup_text(e)
            } else {
                jsoup_attr(e, attribute)
            }
        })
        .collect()
}

/// Parses a whole HTML document as jsoup does: HTML5 tree building, scripting off.
pub(crate) fn parse_html(body: &str) -> Html {
    let opts = html5ever::ParseOpts {
        tree_builder: html5ever::tree_builder::TreeBuilderOpts {
            scripting_enabled: false,
            ..Default::default()
        },
        ..Default::default()
    };
    html5ever::driver::parse_document(HtmlTreeSink::new(Html::new_document()), opts).one(body)
}

/// Parses CSS selector text (already in CSS form, see [`jsoup_selector`]).
pub(crate) fn parse_selector(css: &str) -> Result<Selector, String> {
    Selector::parse(css).map_err(|e| e.to_string())
}

/// jsoup's `Node.attr(key)`: the attribute whose name equals `key` ignoring case, else empty.
fn jsoup_attr(e: ElementRef<'_>, key: &str) -> String {
    e.value()
        .attrs()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

/// Turns a jsoup selector into the CSS `selectors` matches the same way, or says why it
/// cannot. jsoup compares attribute values ignoring case (`[name=x]`, `^=`, `$=`, `*=`:
/// `Evaluator.AttributeWithValue*` lower-case both sides), so each such test gets CSS's `i`
/// flag; jsoup's `[attr~=regex]` is a regular expression (CSS's `~=` is a word in a list) and
/// is refused, as are `[attr!=value]` and `[^prefix]`, which CSS does not have. jsoup's own
/// pseudo-classes (`:contains`, `:eq`, `:lt`, `:gt`, `:matches`, …) are refused by the CSS
/// parser afterwards.
pub(crate) fn jsoup_selector(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    let mut quote: Option<char> = None;
    // Inside `[…]`: where the test started in `out`, and the operator seen.
    let mut attr: Option<(usize, Option<char>)> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\\' => {
                out.push(c);
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '"' | '\'' => {
                quote = Some(c);
                out.push(c);
            }
            '[' => {
                attr = Some((out.len(), None));
                out.push(c);
                if chars.peek() == Some(&'^') {
                    return Err("jsoup's [^prefix] (an attribute name prefix) is not CSS".into());
                }
            }
            '=' if attr.is_some() => {
                let before = out.chars().last();
                let op = match before {
                    Some('~') => {
                        return Err("jsoup's [attr~=regex] is a regular expression match, \
                                    not CSS's word match: use [attr*=text] or a Regular \
                                    Expression Extractor"
                            .into());
                    }
                    Some('!') => return Err("jsoup's [attr!=value] is not CSS".into()),
                    Some('|') => return Err("jsoup has no [attr|=value]".into()),
                    Some(p @ ('^' | '$' | '*')) => p,
                    _ => '=',
                };
                if let Some((_, seen)) = attr.as_mut() {
                    *seen = Some(op);
                }
                out.push(c);
            }
            ']' if attr.is_some() => {
                if let Some((start, Some(_))) = attr {
                    let test = &out[start + 1..];
                    let flagged = test
                        .trim_end()
                        .rsplit_once(char::is_whitespace)
                        .is_some_and(|(_, last)| matches!(last, "i" | "I" | "s" | "S"));
                    if !flagged {
                        out.push_str(" i");
                    }
                }
                attr = None;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// jsoup's block tags (`Tag.blockTags`, 1.16): a text separator goes around them in `text()`.
const BLOCK_TAGS: [&str; 68] = [
    "html",
    "head",
    "body",
    "frameset",
    "script",
    "noscript",
    "style",
    "meta",
    "link",
    "title",
    "frame",
    "noframes",
    "section",
    "nav",
    "aside",
    "hgroup",
    "header",
    "footer",
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "pre",
    "div",
    "blockquote",
    "hr",
    "address",
    "figure",
    "figcaption",
    "form",
    "fieldset",
    "ins",
    "del",
    "dl",
    "dt",
    "dd",
    "li",
    "table",
    "caption",
    "thead",
    "tfoot",
    "tbody",
    "colgroup",
    "col",
    "tr",
    "th",
    "td",
    "video",
    "audio",
    "canvas",
    "details",
    "menu",
    "plaintext",
    "template",
    "article",
    "main",
    "svg",
    "math",
    "center",
    "dir",
    "applet",
    "marquee",
    "listing",
];

fn is_block(name: &str) -> bool {
    BLOCK_TAGS.contains(&name)
}

/// Tags whose text keeps its whitespace (`Tag.preserveWhitespaceTags`).
fn preserves_whitespace(name: &str) -> bool {
    matches!(name, "pre" | "plaintext" | "title" | "textarea")
}

/// jsoup's `Element.text()`: the text of every descendant text node in document order, runs of
/// whitespace (space, tab, LF, FF, CR, NBSP) collapsed to one space (`appendNormalisedWhitespace`;
/// zero-width space and soft hyphen dropped), kept as written under `pre`, `textarea`, `title`,
/// `plaintext` (the parent and five levels up); a space before a block element or `<br>` when
/// text precedes, and after a block element followed by text or an inline element
/// (`TextAccumulator`); then trimmed as Java's `String.trim`. The contents of `script` and
/// `style` are data, not text (`HtmlTreeBuilder.insert`: `DataNode`).
pub(crate) fn jsoup_text(element: ElementRef<'_>) -> String {
    let mut acc = String::new();
    for edge in element.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Text(t) => append_text(&mut acc, node, &t.text),
                Node::Element(e)
                    if !acc.is_empty()
                        && (is_block(e.name()) || e.name() == "br")
                        && !acc.ends_with(' ') =>
                {
                    acc.push(' ');
                }
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(e) = node.value() {
                    let next_takes_space = match node.next_sibling().map(|n| n.value()) {
                        Some(Node::Text(_)) => true,
                        Some(Node::Element(n)) => !is_block(n.name()),
                        _ => false,
                    };
                    if is_block(e.name()) && next_takes_space && !acc.ends_with(' ') {
                        acc.push(' ');
                    }
                }
            }
        }
    }
    java_trim(&acc).to_string()
}

/// `appendNormalisedText` for one text node.
fn append_text(acc: &mut String, node: NodeRef<'_, Node>, text: &str) {
    let parent = node.parent().and_then(ElementRef::wrap);
    if parent.is_some_and(|p| matches!(p.value().name(), "script" | "style")) {
        return;
    }
    let preserve = parent
        .map(|p| {
            std::iter::once(p)
                .chain(p.ancestors().filter_map(ElementRef::wrap))
                .take(6)
                .any(|e| preserves_whitespace(e.value().name()))
        })
        .unwrap_or(false);
    if preserve {
        acc.push_str(text);
        return;
    }
    let strip_leading = acc.ends_with(' ');
    let (mut last_was_white, mut reached_non_white) = (false, false);
    for c in text.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\u{c}' | '\r' | '\u{a0}') {
            if (strip_leading && !reached_non_white) || last_was_white {
                continue;
            }
            acc.push(' ');
            last_was_white = true;
        } else if !matches!(c, '\u{200b}' | '\u{ad}') {
            acc.push(c);
            last_was_white = false;
            reached_non_white = true;
        }
    }
}

/// Java's `String.trim`: removes every character up to U+0020 at both ends.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// A small page; the expected values below are worked out by hand from jsoup's rules
    /// (`Element.text`, `Node.attr`, `Evaluator.AttributeWithValue`) and the HTML5 tree builder
    /// (the `tbody` it inserts, `<br>` and `<p>` handling).
    const PAGE: &str = r#"<!DOCTYPE html><html><head><title>Shop  Page</title>
<script>var s = "<a class='item' href='/script'>no</a>";</script><style>a { x: 1 }</style></head>
<body><div id="nav"><a href="/a1" class="item">First   link</a>
<a HREF="/a2" class="item">Second<br>line</a>
<a href="/a3" class="item other" title=""><b>Third</b> link&nbsp;&amp; more</a></div>
<table class="t"><tr><td>c1</td><td> c2 </td></tr></table>
<form name="Login"><input name="csrf" value="tok-1"><input name="CSRF2" value="tok-2"></form>
<p>Hello  <b>there</b>
   now! </p><div id="blocks"><p>One</p>Two<div>Three</div><span>Four</span></div>
<pre>  keep   spaces </pre><ul><li>a</li><li>b</li></ul></body></html>"#;

    fn values(css: &str, attribute: &str, n: i64) -> Vec<String> {
        let css = jsoup_selector(css).unwrap();
        let selector = parse_selector(&css).unwrap();
        select_values(PAGE, &selector, attribute, n)
    }

    #[test]
    fn text_follows_jsoup_element_text() {
        // Whitespace runs collapse; <br> separates; &nbsp; is whitespace; script and style
        // contents are data, not text.
        assert_eq!(
            values("a.item", "", -1),
            ["First link", "Second line", "Third link & more"]
        );
        assert_eq!(values("p", "", 1), ["Hello there now!"]);
        // A block followed by text or an inline element gets a space after it; a block
        // element before text gets one before it.
        assert_eq!(values("#blocks", "", 1), ["One Two Three Four"]);
        assert_eq!(values("ul", "", 1), ["a b"]);
        // pre keeps its whitespace, then Java's trim.
        assert_eq!(values("pre", "", 1), ["keep   spaces"]);
        assert_eq!(values("title", "", 1), ["Shop  Page"]);
        assert_eq!(values("head", "", 1), ["Shop  Page"]);
        assert_eq!(values("td", "", -1), ["c1", "c2"]);
    }

    #[test]
    fn attributes_ignore_case_and_are_empty_when_absent() {
        assert_eq!(values("a.item", "href", -1), ["/a1", "/a2", "/a3"]);
        assert_eq!(values("a.item", "HREF", 2), ["/a1", "/a2"]);
        // Node.attr: an absent attribute is "", not "no match".
        assert_eq!(values("a.item", "title", -1), ["", "", ""]);
        // A blank attribute name reads the text (JOrphanUtils.isBlank).
        assert_eq!(values("td", "  ", 1), ["c1"]);
    }

    #[test]
    fn selectors_match_as_jsoup_does() {
        // The HTML5 tree builder puts rows in a tbody (jsoup's and html5ever's alike).
        assert_eq!(
            values("table.t > tbody > tr > td:nth-child(2)", "", 0),
            ["c2"]
        );
        assert!(values("table.t > tr", "", 0).is_empty());
        // jsoup compares attribute values ignoring case.
        assert_eq!(values("form[name=login] input", "value", 1), ["tok-1"]);
        assert_eq!(values("input[name^=CSRF]", "value", -1), ["tok-1", "tok-2"]);
        assert_eq!(values("input[name$='2' i]", "value", -1), ["tok-2"]);
        assert_eq!(values("a[href*=A3]", "", 1), ["Third link & more"]);
        assert_eq!(values("div:has(> p) > span", "", 1), ["Four"]);
        assert!(values("a.missing", "", -1).is_empty());
    }

    #[test]
    fn jsoup_dialect_is_bridged_or_refused() {
        assert_eq!(
            jsoup_selector(r#"form[name="VA43"] td input[name='a]b'][x]"#).unwrap(),
            r#"form[name="VA43" i] td input[name='a]b' i][x]"#
        );
        assert_eq!(jsoup_selector("[a=b s]").unwrap(), "[a=b s]");
        let refused = |s: &str| jsoup_selector(s).unwrap_err();
        assert!(refused("a[href~=\\d+]").contains("regular expression"));
        assert!(refused("a[href!=x]").contains("not CSS"));
        assert!(refused("a[^data-]").contains("prefix"));
        // jsoup's own pseudo-classes do not parse as CSS.
        for s in ["a:contains(x)", "li:eq(1)", "li:gt(0)", "p:matches(\\d)"] {
            assert!(parse_selector(&jsoup_selector(s).unwrap()).is_err(), "{s}");
        }
    }

    #[test]
    fn extractor_sets_jmeter_variables() {
        let extract = |css: &str, n: i64, default: &str| CssExtract {
            name: "E".into(),
            refname: "v".into(),
            source: css.into(),
            expr: CssExpr::Fixed(Box::new(parse_selector(css).unwrap())),
            attribute: "href".into(),
            match_number: n,
            default: default.into(),
            default_empty: false,
        };
        let r = Response {
            body: PAGE,
            ..Response::default()
        };
        let mut user = UserCtx::new(HashMap::new(), 1);
        extract("a.item", -1, "NF").apply(&r, &mut user);
        let get = |u: &UserCtx, k: &str| u.vars.get(k).cloned().unwrap_or_else(|| "-".into());
        assert_eq!(get(&user, "v_matchNr"), "3");
        assert_eq!(get(&user, "v_3"), "/a3");
        // -1 keeps the default in v itself.
        assert_eq!(get(&user, "v"), "NF");
        extract("a.other", -1, "NF").apply(&r, &mut user);
        assert_eq!(
            [
                get(&user, "v_matchNr"),
                get(&user, "v_1"),
                get(&user, "v_2")
            ],
            ["1", "/a3", "-"]
        );
        extract("a.item", 2, "NF").apply(&r, &mut user);
        assert_eq!([get(&user, "v"), get(&user, "v_1")], ["/a2", "-"]);
        extract("a.item", 4, "NF").apply(&r, &mut user);
        assert_eq!(get(&user, "v"), "NF");
        extract("a.item", 0, "").apply(&r, &mut user);
        assert!(["/a1", "/a2", "/a3"].contains(&get(&user, "v").as_str()));
        // An empty default leaves the variable as it was unless default_empty_value.
        user.vars.insert("v".into(), "old".into());
        extract("a.none", 1, "").apply(&r, &mut user);
        assert_eq!(get(&user, "v"), "old");
        let mut e = extract("a.none", 1, "");
        e.default_empty = true;
        e.apply(&r, &mut user);
        assert_eq!(get(&user, "v"), "");
    }
}
