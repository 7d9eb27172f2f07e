//! "Retrieve All Embedded Resources" of an HTTP sampler (`HTTPSampler.image_parser`): which
//! URLs of a page JMeter fetches after it, as `HTTPSamplerBase.downloadPageResources` with the
//! parsers JMeter's properties name. `HTTPResponse.parsers` lists them (JMeter 2.13's default
//! `htmlParser wmlParser`; JMeter 5 adds `cssParser`) and `<parser>.types` their media types
//! (`htmlParser.types`: `text/html`, `application/xhtml+xml`, `application/xml`, `text/xml`;
//! `wmlParser.types`: `text/vnd.wap.wml`; `cssParser.types`: `text/css`). So by default, as in
//! JMeter 2.13, a stylesheet's own URLs are not fetched; `-JHTTPResponse.parsers=htmlParser
//! wmlParser cssParser` fetches them as JMeter 5 does.
//!
//! From HTML (parsed by html5ever, scripting off, walked in document order, as JMeter's
//! `LagartoBasedHtmlParser` and `JsoupBasedHtmlParser` visit it; the WML parser is given the
//! same walk): `body
//! background`, `base href` (the base of the URLs after it), `img src`, `applet` (`codebase`
//! joined with `archive` or `code`, else `code`), `object codebase` and `data`, `input
//! type=image src`, `script src`, `frame` / `iframe src`, `embed src`, `bgsound src`, `link
//! href` when `rel` is `stylesheet`, `icon`, `shortcut icon` or `preload`, any other element's
//! `background`, and in every `style` attribute the quoted `url('…')` (JMeter's pattern
//! `URL\(\s*('|")(.*)('|")\s*\)`, greedy). From CSS: `url(…)` and `@import "…"`. Each URL is
//! resolved against the page URL (or the base), kept once in the order first found (JMeter's
//! `URLCollection` is a set), and only `http` and `https` URLs are kept (Java's `URL` rejects
//! `data:` and `javascript:` alike).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use scraper::Node;
use url::Url;

use crate::elements::extractors::css::parse_html;

/// The compiled settings of an HTTP sampler that retrieves embedded resources.
#[derive(Debug, Clone)]
pub(crate) struct EmbeddedResources {
    /// `HTTPSampler.embedded_url_re`, anchored ([`EmbeddedResources::whole`]): only URLs it
    /// matches are fetched.
    pub(crate) allow: Option<Regex>,
    /// `HTTPSampler.embedded_url_exclude_re`, anchored: URLs it matches are not fetched.
    pub(crate) exclude: Option<Regex>,
    /// `HTTPSampler.concurrentDwn` with `HTTPSampler.concurrentPool`: at most this many
    /// resources fetched at once; `None` fetches them one after another.
    pub(crate) pool: Option<usize>,
    /// The parser of each media type, from the run's properties ([`Parsers::from_props`]).
    pub(crate) parsers: Parsers,
}

/// How a page of some media type is looked into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parser {
    Html,
    Css,
}

/// The parser of each media type, as JMeter's `HTTPSamplerBase` builds `parsersForType` from
/// `HTTPResponse.parsers` and each parser's `.types` property.
#[derive(Debug, Clone, Default)]
pub(crate) struct Parsers {
    by_media_type: BTreeMap<String, Parser>,
}

/// JMeter 2.13's `HTTPResponse.parsers` (jmeter.properties).
const DEFAULT_PARSERS: &str = "htmlParser wmlParser";

impl Parsers {
    /// The parsers `props` name (`HTTPResponse.parsers`, else JMeter 2.13's default), with
    /// each one's media types (`<parser>.types`, else JMeter's default for that parser). A
    /// parser JMeter does not ship is ignored.
    pub(crate) fn from_props(props: &BTreeMap<String, String>) -> Parsers {
        let names = props
            .get("HTTPResponse.parsers")
            .map_or(DEFAULT_PARSERS, String::as_str);
        let mut by_media_type = BTreeMap::new();
        for name in names.split_whitespace() {
            let (parser, default_types) = match name {
                "htmlParser" => (
                    Parser::Html,
                    "text/html application/xhtml+xml application/xml text/xml",
                ),
                "wmlParser" => (Parser::Html, "text/vnd.wap.wml"),
                "cssParser" => (Parser::Css, "text/css"),
                _ => continue,
            };
            let types = props
                .get(&format!("{name}.types"))
                .map_or(default_types, String::as_str);
            for media in types.split_whitespace() {
                // JMeter's map: a later parser of the same type replaces an earlier one.
                by_media_type.insert(media.to_ascii_lowercase(), parser);
            }
        }
        Parsers { by_media_type }
    }

    /// The media types looked into, in order.
    #[cfg(test)]
    fn media_types(&self) -> Vec<&str> {
        self.by_media_type.keys().map(String::as_str).collect()
    }

    fn parser_for(&self, content_type: &str) -> Option<Parser> {
        let media = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        self.by_media_type.get(&media).copied()
    }
}

/// The quoted URLs of a `style` attribute, as JMeter's `HtmlParsingUtils.extractStyleURLs`.
static STYLE_URL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"(?is)URL\(\s*('|")(.*)('|")\s*\)"#).ok());
/// `url(…)` in a stylesheet, quoted or not.
static CSS_URL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"(?i)url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)"#).ok());
/// `@import "…"` / `@import '…'` in a stylesheet (`@import url(…)` is found as a `url(…)`).
static CSS_IMPORT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"(?i)@import\s+(?:"([^"]*)"|'([^']*)')"#).ok());

/// The URLs found, kept once each in the order first found.
struct Found {
    base: Url,
    urls: Vec<Url>,
}

impl Found {
    /// JMeter's `normalizeUrlValue` (trimmed, `\n \r \b \f` removed, empty skipped), then
    /// `URLCollection.addURL`: resolved against the base; what does not resolve to an http(s)
    /// URL is skipped.
    fn add(&mut self, raw: Option<&str>) {
        let Some(raw) = raw else { return };
        let value: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, '\n' | '\r' | '\u{8}' | '\u{c}'))
            .collect();
        if value.is_empty() {
            return;
        }
        let Ok(url) = self.base.join(&value) else {
            return;
        };
        if matches!(url.scheme(), "http" | "https") && !self.urls.contains(&url) {
            self.urls.push(url);
        }
    }
}

/// The resources of a response whose `Content-Type` is `content_type`, at `page_url`, in the
/// order JMeter fetches them; empty for media types without a parser in `parsers` or an empty
/// body.
pub(crate) fn resource_urls(
    parsers: &Parsers,
    content_type: &str,
    page_url: &str,
    body: &str,
) -> Vec<Url> {
    let (Some(parser), Ok(base)) = (parsers.parser_for(content_type), Url::parse(page_url)) else {
        return Vec::new();
    };
    if body.is_empty() {
        return Vec::new();
    }
    let mut found = Found {
        base,
        urls: Vec::new(),
    };
    match parser {
        Parser::Html => html_urls(body, &mut found),
        Parser::Css => css_urls(body, &mut found),
    }
    found.urls
}

/// The visitor of JMeter's `LagartoBasedHtmlParser`, over html5ever's tree in document order.
fn html_urls(body: &str, found: &mut Found) {
    let doc = parse_html(body);
    for node in doc.tree.root().descendants() {
        let Node::Element(e) = node.value() else {
            continue;
        };
        let attr = |name: &str| e.attr(name);
        match e.name() {
            "body" => found.add(attr("background")),
            "base" => {
                if let Some(href) = attr("href").filter(|h| !h.is_empty())
                    && let Ok(base) = found.base.join(href)
                {
                    found.base = base;
                }
            }
            "img" | "script" | "frame" | "iframe" | "embed" | "bgsound" => found.add(attr("src")),
            "applet" => match attr("codebase").filter(|c| !c.trim().is_empty()) {
                Some(codebase) => {
                    let file = attr("archive")
                        .filter(|a| !a.trim().is_empty())
                        .or(attr("code"))
                        .unwrap_or("null");
                    found.add(Some(&format!("{codebase}/{file}")));
                }
                None => found.add(attr("code")),
            },
            "object" => {
                found.add(attr("codebase"));
                found.add(attr("data"));
            }
            "input" => {
                if attr("type").is_some_and(|t| t.eq_ignore_ascii_case("image")) {
                    found.add(attr("src"));
                }
            }
            "link" => {
                let wanted = ["stylesheet", "icon", "shortcut icon", "preload"];
                if attr("rel").is_some_and(|r| wanted.iter().any(|w| r.eq_ignore_ascii_case(w))) {
                    found.add(attr("href"));
                }
            }
            _ => found.add(attr("background")),
        }
        if let (Some(style), Some(re)) = (attr("style").filter(|s| !s.is_empty()), &*STYLE_URL) {
            for c in re.captures_iter(style) {
                found.add(c.get(2).map(|m| m.as_str()));
            }
        }
    }
}

/// `url(…)` and `@import "…"` of a stylesheet, in the order they appear.
fn css_urls(body: &str, found: &mut Found) {
    let (Some(url_re), Some(import_re)) = (&*CSS_URL, &*CSS_IMPORT) else {
        return;
    };
    let mut hits: Vec<(usize, &str)> = Vec::new();
    for re in [url_re, import_re] {
        for c in re.captures_iter(body) {
            if let Some(m) = c.iter().skip(1).flatten().next() {
                hits.push((m.start(), m.as_str()));
            }
        }
    }
    hits.sort_by_key(|(at, _)| *at);
    for (_, u) in hits {
        found.add(Some(u));
    }
}

impl EmbeddedResources {
    /// What `--validate` says of the settings.
    pub(crate) fn describe(&self) -> String {
        let mut out = match self.pool {
            Some(n) => format!("embedded resources (at most {n} at once"),
            None => "embedded resources (one after another".to_string(),
        };
        if let Some(re) = &self.allow {
            out.push_str(&format!(", only URLs matching {}", re.as_str()));
        }
        if let Some(re) = &self.exclude {
            out.push_str(&format!(", not URLs matching {}", re.as_str()));
        }
        out.push(')');
        out
    }

    /// `pattern` compiled to match a whole URL, as Java's `Matcher.matches`.
    pub(crate) fn whole(pattern: &str) -> Result<Regex, regex::Error> {
        Regex::new(&format!("^(?:{pattern})$"))
    }

    /// Whether `url` is fetched: it matches the allow pattern (when there is one) and not the
    /// exclude pattern.
    pub(crate) fn wanted(&self, url: &str) -> bool {
        self.allow.as_ref().is_none_or(|re| re.is_match(url))
            && !self.exclude.as_ref().is_some_and(|re| re.is_match(url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// JMeter 5's parsers (with `cssParser`).
    fn with_css() -> Parsers {
        let props = [(
            "HTTPResponse.parsers".to_string(),
            "htmlParser wmlParser cssParser".to_string(),
        )];
        Parsers::from_props(&props.into_iter().collect())
    }

    fn urls(ct: &str, page: &str, body: &str) -> Vec<String> {
        resource_urls(&with_css(), ct, page, body)
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn html_resources_are_found_as_jmeters_lagarto_visitor_finds_them() {
        let page = r#"<html><head><link rel="StyleSheet" href="s.css"><link rel="alternate" href="no1">
            <link rel="shortcut icon" href="/fav.ico"><script src="a.js"></script><script>var x='<img src=no2>';</script></head>
            <body background="bg.png"><img src=" /i.png "><img src="/i.png"><input type="IMAGE" src="b.png">
            <input type="text" src="no3"><iframe src="f.html"></iframe><embed src="e.swf"><object data="o.bin" codebase="cb/">
            <table background="t.png"><tr><td style="background: url('u.png')">x</td></tr></table>
            <img src="data:image/png;base64,AAAA"><a href="no4">a</a><img src="">
            <base href="http://h:81/sub/"><img src="after.png"><img src="../up.png"><img src="http://other/x.png#f"></body></html>"#;
        assert_eq!(
            urls(
                "text/html; charset=utf-8",
                "http://h:81/dir/page.html?q=1",
                page
            ),
            [
                "http://h:81/dir/s.css",
                "http://h:81/fav.ico",
                "http://h:81/dir/a.js",
                "http://h:81/dir/bg.png",
                "http://h:81/i.png",
                "http://h:81/dir/b.png",
                "http://h:81/dir/f.html",
                "http://h:81/dir/e.swf",
                "http://h:81/dir/cb/",
                "http://h:81/dir/o.bin",
                "http://h:81/dir/t.png",
                "http://h:81/dir/u.png",
                "http://h:81/sub/after.png",
                "http://h:81/up.png",
                "http://other/x.png#f",
            ]
        );
        // Not an HTML or CSS media type, or no body: nothing.
        assert!(urls("application/json", "http://h/", "<img src=a>").is_empty());
        assert!(urls("text/html", "http://h/", "").is_empty());
    }

    #[test]
    fn stylesheets_give_their_urls_and_imports_in_order() {
        let css = r#"@import "base.css"; body { background: url(img/a.png) } .b { src: url( 'f.woff' ) }
            @import url("more.css"); .c { background: URL("/abs.png") }"#;
        assert_eq!(
            urls("text/css", "http://h/css/site.css", css),
            [
                "http://h/css/base.css",
                "http://h/css/img/a.png",
                "http://h/css/f.woff",
                "http://h/css/more.css",
                "http://h/abs.png",
            ]
        );
    }

    #[test]
    fn parsers_come_from_the_properties_with_jmeter_2_13_defaults() {
        let page = "http://h/p";
        let d = Parsers::from_props(&BTreeMap::new());
        // 2.13: no stylesheet parser; WML pages are parsed.
        assert!(resource_urls(&d, "text/css", page, "a { background: url(x.png) }").is_empty());
        assert_eq!(
            resource_urls(&d, "text/vnd.wap.wml", page, "<img src=\"w.png\">").len(),
            1
        );
        assert_eq!(
            resource_urls(&d, "application/xhtml+xml", page, "<img src=\"w.png\">").len(),
            1
        );
        assert_eq!(
            resource_urls(
                &with_css(),
                "text/css",
                page,
                "a { background: url(x.png) }"
            )
            .len(),
            1
        );
        // `htmlParser.types` narrowed: XHTML is no longer looked into.
        let props = [("htmlParser.types".to_string(), "text/html".to_string())];
        let narrow = Parsers::from_props(&props.into_iter().collect());
        assert_eq!(narrow.media_types(), ["text/html", "text/vnd.wap.wml"]);
        assert!(resource_urls(&narrow, "application/xhtml+xml", page, "<img src=a>").is_empty());
    }

    #[test]
    fn patterns_must_match_the_whole_url() {
        let e = |allow: Option<&str>, exclude: Option<&str>| EmbeddedResources {
            allow: allow.and_then(|r| EmbeddedResources::whole(r).ok()),
            exclude: exclude.and_then(|r| EmbeddedResources::whole(r).ok()),
            pool: None,
            parsers: Parsers::default(),
        };
        let u = "http://h/res/a.png";
        assert!(e(None, None).wanted(u));
        assert!(e(Some(r"http://h/.*"), None).wanted(u));
        // `res` occurs in the URL but does not match all of it.
        assert!(!e(Some("res"), None).wanted(u));
        assert!(!e(None, Some(r".*\.png")).wanted(u));
        assert!(e(None, Some("png")).wanted(u));
        // An alternative that matches the whole URL counts even when an earlier one matches a
        // prefix.
        assert!(e(Some("http://h/|http://h/res/a.png"), None).wanted(u));
    }
}
