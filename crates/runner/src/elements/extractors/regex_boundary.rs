//! Text extractors of a virtual user: the Regular Expression Extractor and the Boundary
//! Extractor.
//!
//! Both extractors follow JMeter 5.6's `RegexExtractor.process` and `BoundaryExtractor.process`
//! (apache/jmeter `src/components/.../extractor/`): the default is stored first (Regex: when it
//! is not empty or `default_empty_value` is set; Boundary: when it is not blank or
//! `default_empty_value` is set), a found match overwrites it, match number `-1` (any negative
//! number) stores every match as `name_1` … `name_N` plus `name_matchNr`, and variables left
//! over from an earlier sample with more matches are removed. The Regular Expression Extractor
//! also stores the groups of each match as `name_g0` … `name_gN` and their count `name_g`.
//!
//! Regexes use Rust's `regex` syntax, not Java's (JMeter's default engine is ORO Perl5): no
//! look-around and no back-references; an invalid pattern is refused at compile time.

use std::borrow::Cow;
use std::collections::HashMap;

use regex::Regex;

use crate::elements::response::Response;

/// What an extractor searches (`RegexExtractor.useHeaders` / `BoundaryExtractor.useHeaders`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `false` (or empty): the response body.
    Body,
    /// `unescaped`: the body with HTML entities replaced by their characters.
    UnescapedBody,
    /// `true`: the response headers (status line first).
    ResponseHeaders,
    /// `request_headers`: the request headers sent.
    RequestHeaders,
    /// `URL`: the URL requested.
    Url,
    /// `code`: the response code.
    Code,
    /// `message`: the response message.
    Message,
}

impl Source {
    /// The source a `useHeaders` value names, compared without case as JMeter does; `None`
    /// for `as_document` (not implemented) and unknown values.
    pub(crate) fn from_use_headers(value: &str) -> Option<Source> {
        let v = value.trim();
        let is = |s: &str| v.eq_ignore_ascii_case(s);
        Some(if v.is_empty() || is("false") {
            Source::Body
        } else if is("unescaped") {
            Source::UnescapedBody
        } else if is("true") {
            Source::ResponseHeaders
        } else if is("request_headers") {
            Source::RequestHeaders
        } else if is("URL") {
            Source::Url
        } else if is("code") {
            Source::Code
        } else if is("message") {
            Source::Message
        } else {
            return None;
        })
    }

    /// The text this source picks from `r`.
    pub(crate) fn text<'a>(self, r: &Response<'a>) -> Cow<'a, str> {
        match self {
            Source::Body => Cow::Borrowed(r.body),
            Source::UnescapedBody => unescape_html(r.body),
            Source::ResponseHeaders => Cow::Borrowed(r.headers),
            Source::RequestHeaders => Cow::Borrowed(r.request_headers),
            Source::Url => Cow::Borrowed(r.url),
            Source::Code => Cow::Borrowed(r.code),
            Source::Message => Cow::Borrowed(r.message),
        }
    }

    /// Whether the response body must be kept for this source.
    pub fn needs_body(self) -> bool {
        matches!(self, Source::Body | Source::UnescapedBody)
    }

    /// Words for `explain`.
    pub fn describe(self) -> &'static str {
        match self {
            Source::Body => "the body",
            Source::UnescapedBody => "the unescaped body",
            Source::ResponseHeaders => "the response headers",
            Source::RequestHeaders => "the request headers",
            Source::Url => "the URL",
            Source::Code => "the response code",
            Source::Message => "the response message",
        }
    }
}

/// One Regular Expression Extractor (`RegexExtractor`).
#[derive(Debug, Clone)]
pub struct RegexExtract {
    /// The element's `testname`.
    pub name: String,
    /// `RegexExtractor.refname`: the variable set.
    pub refname: String,
    /// `RegexExtractor.regex`, compiled.
    pub regex: Regex,
    /// `RegexExtractor.template`: `$1$`, `$0$`, literal text around group references.
    pub template: String,
    /// `RegexExtractor.match_number`: n ≥ 1 the n-th match, 0 a random one, negative all of
    /// them (`refname_1` … `refname_N` and `refname_matchNr`).
    pub match_number: i64,
    /// `RegexExtractor.default`: stored first when not empty.
    pub default: String,
    /// `RegexExtractor.default_empty_value`: store the (empty) default anyway.
    pub default_empty: bool,
    /// `RegexExtractor.useHeaders`: what is searched.
    pub source: Source,
}

impl RegexExtract {
    /// Sets this extractor's variables in `vars` from the response, as JMeter's
    /// `RegexExtractor.process`.
    pub(crate) fn apply(&self, r: &Response<'_>, vars: &mut HashMap<String, String>) {
        let name = self.refname.as_str();
        if !self.default.is_empty() || self.default_empty {
            vars.insert(name.to_string(), self.default.clone());
        }
        let input = self.source.text(r);
        let n = self.match_number;
        let limit = usize::try_from(n)
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or(usize::MAX);
        let matches: Vec<regex::Captures<'_>> =
            self.regex.captures_iter(&input).take(limit).collect();
        let previous = take_count(vars, &format!("{name}_matchNr"));
        let mut count = 0;
        if n >= 0 {
            let chosen = match n {
                0 if !matches.is_empty() => matches.get(fastrand::usize(..matches.len())),
                0 => None,
                n => matches.get((n - 1) as usize),
            };
            match chosen {
                Some(m) => {
                    vars.insert(name.to_string(), self.fill(m));
                    save_groups(vars, name, m);
                }
                // The variable keeps the default stored above (if any).
                None => remove_groups(vars, name),
            }
        } else {
            remove_groups(vars, name);
            count = matches.len();
            vars.insert(format!("{name}_matchNr"), count.to_string());
            for (i, m) in matches.iter().enumerate() {
                let var = format!("{name}_{}", i + 1);
                vars.insert(var.clone(), self.fill(m));
                save_groups(vars, &var, m);
            }
        }
        for i in count + 1..=previous {
            let var = format!("{name}_{i}");
            vars.remove(&var);
            remove_groups(vars, &var);
        }
    }

    /// The template with `$n$` replaced by group n of `m`. A group that took no part in the
    /// match prints `null`, as Java's `StringBuilder.append(null)` does in JMeter.
    fn fill(&self, m: &regex::Captures<'_>) -> String {
        let mut out = String::new();
        for part in template_parts(&self.template) {
            match part {
                TemplatePart::Text(t) => out.push_str(t),
                TemplatePart::Group(g) => out.push_str(m.get(g).map_or("null", |g| g.as_str())),
            }
        }
        out
    }
}

/// A piece of a Regular Expression Extractor template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TemplatePart<'a> {
    /// Literal text.
    Text(&'a str),
    /// `$n$`: group n.
    Group(usize),
}

/// Splits a template as JMeter's `initTemplate` (pattern `\$(\d+)\$`); a group number too
/// large for `usize` is kept as text.
pub(crate) fn template_parts(template: &str) -> Vec<TemplatePart<'_>> {
    let mut parts = Vec::new();
    let (mut text_start, mut i) = (0, 0);
    let bytes = template.as_bytes();
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let end = i + 1 + digits;
            if digits > 0
                && bytes.get(end) == Some(&b'$')
                && let Ok(g) = template[i + 1..end].parse::<usize>()
            {
                if text_start < i {
                    parts.push(TemplatePart::Text(&template[text_start..i]));
                }
                parts.push(TemplatePart::Group(g));
                i = end + 1;
                text_start = i;
                continue;
            }
        }
        i += 1;
    }
    if text_start < template.len() {
        parts.push(TemplatePart::Text(&template[text_start..]));
    }
    parts
}

/// Removes `var` and returns its value as a count (0 when absent or not a number).
pub(crate) fn take_count(vars: &mut HashMap<String, String>, var: &str) -> usize {
    vars.remove(var)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// JMeter's `saveGroups`: `base_g0` … `base_gN` and `base_g` = N; groups of an earlier, wider
/// match are removed. A group that did not participate is left unset (Java stores `null`).
fn save_groups(vars: &mut HashMap<String, String>, base: &str, m: &regex::Captures<'_>) {
    let previous = vars
        .get(&format!("{base}_g"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let groups = m.len();
    for x in 0..groups {
        let var = format!("{base}_g{x}");
        match m.get(x) {
            Some(g) => vars.insert(var, g.as_str().to_string()),
            None => vars.remove(&var),
        };
    }
    vars.insert(format!("{base}_g"), (groups - 1).to_string());
    for i in groups..=previous {
        vars.remove(&format!("{base}_g{i}"));
    }
}

/// JMeter's `removeGroups`: drops `base_g` and `base_g0` … `base_gN`.
fn remove_groups(vars: &mut HashMap<String, String>, base: &str) {
    let groups = take_count(vars, &format!("{base}_g"));
    for i in 0..=groups {
        vars.remove(&format!("{base}_g{i}"));
    }
}

/// One Boundary Extractor (`BoundaryExtractor`, JMeter 4.0+).
#[derive(Debug, Clone)]
pub struct BoundaryExtract {
    /// The element's `testname`.
    pub name: String,
    /// `BoundaryExtractor.refname` (never empty: JMeter throws on an empty name).
    pub refname: String,
    /// `BoundaryExtractor.lboundary`.
    pub left: String,
    /// `BoundaryExtractor.rboundary`.
    pub right: String,
    /// `BoundaryExtractor.match_number`: n ≥ 1 the n-th match, 0 random, negative all.
    pub match_number: i64,
    /// `BoundaryExtractor.default`: stored first when not blank.
    pub default: String,
    /// `BoundaryExtractor.default_empty_value`: store the default even when blank.
    pub default_empty: bool,
    /// `BoundaryExtractor.useHeaders`: what is searched.
    pub source: Source,
}

impl BoundaryExtract {
    /// Sets this extractor's variables in `vars` from the response, as JMeter's
    /// `BoundaryExtractor.process`.
    pub(crate) fn apply(&self, r: &Response<'_>, vars: &mut HashMap<String, String>) {
        let name = self.refname.as_str();
        if !self.default.trim().is_empty() || self.default_empty {
            vars.insert(name.to_string(), self.default.clone());
        }
        let input = self.source.text(r);
        let matches = boundary_matches(&self.left, &self.right, &input);
        super::store_matches(vars, name, self.match_number, &matches);
    }
}

/// Every text between `left` and `right` in `input`, as JMeter's `BoundaryExtractor.extract`:
/// a blank input has none; with both boundaries empty the whole input is the match; with one
/// empty boundary the text before the first `right` (or after the first `left`) is the only
/// match. Otherwise the search for the next `left` restarts just after the previous `left`
/// (so matches may overlap) and stops at the first `left` with no `right` after it.
pub(crate) fn boundary_matches<'a>(left: &str, right: &str, input: &'a str) -> Vec<&'a str> {
    if input.trim().is_empty() {
        return Vec::new();
    }
    if left.is_empty() && right.is_empty() {
        return vec![input];
    }
    if left.is_empty() {
        return input
            .find(right)
            .map(|i| vec![&input[..i]])
            .unwrap_or_default();
    }
    if right.is_empty() {
        return input
            .find(left)
            .map(|i| vec![&input[i + left.len()..]])
            .unwrap_or_default();
    }
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = input[from..].find(left).map(|i| i + from) {
        let content = i + left.len();
        match input[content..].find(right) {
            Some(j) => out.push(&input[content..content + j]),
            None => break,
        }
        from = content;
    }
    out
}

/// Named entities understood by [`unescape_html`]: the XML five and HTML 4's Latin-1 set, in
/// code-point order from U+00A0 (`nbsp`) to U+00FF (`yuml`), plus common typographic ones.
const LATIN1_ENTITIES: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

/// Other named entities, with their characters.
const OTHER_ENTITIES: [(&str, char); 16] = [
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("ndash", '\u{2013}'),
    ("mdash", '\u{2014}'),
    ("lsquo", '\u{2018}'),
    ("rsquo", '\u{2019}'),
    ("ldquo", '\u{201C}'),
    ("rdquo", '\u{201D}'),
    ("bull", '\u{2022}'),
    ("hellip", '\u{2026}'),
    ("euro", '\u{20AC}'),
    ("trade", '\u{2122}'),
    ("hearts", '\u{2665}'),
];

/// `text` with HTML entities (`&amp;`, `&eacute;`, `&#233;`, `&#xE9;`; the `;` is required)
/// replaced, as the `unescaped` source (JMeter: `StringEscapeUtils.unescapeHtml4`). Unknown
/// entities stay as written.
pub(crate) fn unescape_html(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after
            .find(';')
            .filter(|&semi| semi <= 10)
            .and_then(|semi| entity(&after[..semi]).map(|c| (c, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The character an entity name (between `&` and `;`) stands for.
fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        return char::from_u32(code);
    }
    if let Some(i) = LATIN1_ENTITIES.iter().position(|e| *e == name) {
        return char::from_u32(0xA0 + i as u32);
    }
    OTHER_ENTITIES
        .iter()
        .find(|(e, _)| *e == name)
        .map(|(_, c)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(regex: &str, template: &str, n: i64) -> RegexExtract {
        RegexExtract {
            name: "E".into(),
            refname: "v".into(),
            regex: Regex::new(regex).unwrap(),
            template: template.into(),
            match_number: n,
            default: "NOTFOUND".into(),
            default_empty: false,
            source: Source::Body,
        }
    }

    fn body(text: &str) -> Response<'_> {
        Response {
            body: text,
            ..Response::default()
        }
    }

    fn boundary(left: &str, right: &str, n: i64, default: &str) -> BoundaryExtract {
        BoundaryExtract {
            name: "B".into(),
            refname: "b".into(),
            left: left.into(),
            right: right.into(),
            match_number: n,
            default: default.into(),
            default_empty: false,
            source: Source::Body,
        }
    }

    /// The values of the space-separated `names`, `-` for an unset one.
    fn get(vars: &HashMap<String, String>, names: &str) -> String {
        let values: Vec<&str> = names
            .split(' ')
            .map(|n| vars.get(n).map_or("-", |v| v))
            .collect();
        values.join(" ")
    }

    #[test]
    fn extractors_follow_jmeters_match_numbers_and_templates() {
        let r = body("a=1; b=22; c=333");
        let mut vars = HashMap::new();
        ex(r"(\w)=(\d+)", "$2$", 2).apply(&r, &mut vars);
        assert_eq!(vars["v"], "22");
        // Groups of the chosen match: v_g0 the whole match, v_g the number of groups.
        assert_eq!(get(&vars, "v_g0 v_g1 v_g2 v_g"), "b=22 b 22 2");
        ex(r"(\w)=(\d+)", "[$1$:$2$]$", 1).apply(&r, &mut vars);
        assert_eq!(vars["v"], "[a:1]$");
        ex(r"(\w)=(\d+)", "$1$", -1).apply(&r, &mut vars);
        // removeGroups: the single-match groups are gone once all matches are saved.
        assert_eq!(get(&vars, "v_matchNr v_3 v_3_g2 v_g0"), "3 c 333 -");
        ex(r"zzz(\d)", "$1$", 1).apply(&r, &mut vars);
        assert_eq!(vars["v"], "NOTFOUND");
        // A later sample with fewer matches removes the leftovers (v_1 … v_3, their groups).
        assert_eq!(get(&vars, "v_matchNr v_1 v_2_g1"), "- - -");
        ex(r"(\d+)", "$1$", 0).apply(&r, &mut vars);
        assert!(["1", "22", "333"].contains(&vars["v"].as_str()));
    }

    #[test]
    fn defaults_are_stored_only_when_given_or_requested() {
        let r = body("nothing here");
        let mut vars = HashMap::from([("v".to_string(), "old".to_string())]);
        let mut e = ex(r"id=(\d+)", "$1$", 1);
        e.default = String::new();
        e.apply(&r, &mut vars);
        assert_eq!(
            vars["v"], "old",
            "an empty default leaves the variable as it was"
        );
        e.default_empty = true;
        e.apply(&r, &mut vars);
        assert_eq!(vars["v"], "");
        // Match number -1 with no match: v_matchNr = 0 and v gets the default.
        let mut vars = HashMap::new();
        ex(r"id=(\d+)", "$1$", -1).apply(&r, &mut vars);
        assert_eq!(get(&vars, "v_matchNr v"), "0 NOTFOUND");
    }

    #[test]
    fn template_parts_and_non_participating_groups() {
        assert_eq!(
            template_parts("x$1$$a$$02$y$"),
            [
                TemplatePart::Text("x"),
                TemplatePart::Group(1),
                TemplatePart::Text("$a$"),
                TemplatePart::Group(2),
                TemplatePart::Text("y$"),
            ]
        );
        let mut vars = HashMap::new();
        ex(r"(a)|(b)", "[$1$,$2$]", 1).apply(&body("b"), &mut vars);
        assert_eq!(vars["v"], "[null,b]");
        assert_eq!(get(&vars, "v_g1 v_g2"), "- b");
    }

    #[test]
    fn every_regex_source() {
        let r = Response {
            code: "404",
            message: "Not Found",
            body: "<a title=&quot;x&amp;y&quot;>",
            headers: "HTTP/1.1 404 Not Found\nContent-Type: text/html\nX-Id: 42\n",
            request_headers: "Accept: */*\nX-Req: r1\n",
            url: "http://h:8080/p?q=1",
            ..Response::default()
        };
        let cases = [
            (Source::Body, r"title=(.*)>", "&quot;x&amp;y&quot;"),
            (Source::UnescapedBody, r"title=(.*)>", "\"x&y\""),
            (Source::ResponseHeaders, r"X-Id: (\d+)", "42"),
            (Source::RequestHeaders, r"X-Req: (\w+)", "r1"),
            (Source::Url, r":(\d+)/", "8080"),
            (Source::Code, r"(\d)$", "4"),
            (Source::Message, r"(\w+)$", "Found"),
        ];
        for (source, regex, want) in cases {
            let mut e = ex(regex, "$1$", 1);
            e.source = source;
            let mut vars = HashMap::new();
            e.apply(&r, &mut vars);
            assert_eq!(vars["v"], want, "{source:?}");
        }
    }

    #[test]
    fn use_headers_values() {
        assert_eq!(Source::from_use_headers(""), Some(Source::Body));
        assert_eq!(
            Source::from_use_headers("TRUE"),
            Some(Source::ResponseHeaders)
        );
        assert_eq!(Source::from_use_headers("url"), Some(Source::Url));
        assert_eq!(Source::from_use_headers("as_document"), None);
        assert_eq!(Source::from_use_headers("body"), None);
    }

    #[test]
    fn html_entities() {
        assert_eq!(LATIN1_ENTITIES[0x20], "Agrave", "U+00C0");
        assert_eq!(
            unescape_html("a&lt;b&gt; &eacute;&#233;&#xE9; &yuml; &nosuch; & x"),
            "a<b> ééé ÿ &nosuch; & x"
        );
    }

    #[test]
    fn boundary_edge_cases_follow_jmeter() {
        // Worked from BoundaryExtractor.extract by hand.
        assert_eq!(boundary_matches("[", "]", "[a] [bb] [c"), ["a", "bb"]);
        // The next search starts just after the previous left boundary: matches overlap.
        assert_eq!(boundary_matches("a", "c", "aabc"), ["ab", "b"]);
        assert_eq!(boundary_matches("", "", "whole"), ["whole"]);
        assert_eq!(boundary_matches("", ";", "k=v; x"), ["k=v"]);
        assert_eq!(boundary_matches("=", "", "k=v; x"), ["v; x"]);
        assert!(boundary_matches("", "#", "no hash").is_empty());
        assert!(boundary_matches("[", "]", "  \n").is_empty());
        assert!(boundary_matches("<", ">", "a < b").is_empty());
    }

    #[test]
    fn boundary_match_numbers_and_defaults() {
        let r = body("id=1; id=22; id=333;");
        let mut vars = HashMap::new();
        boundary("id=", ";", 2, "NF").apply(&r, &mut vars);
        assert_eq!(vars["b"], "22");
        boundary("id=", ";", 4, "NF").apply(&r, &mut vars);
        assert_eq!(vars["b"], "NF");
        boundary("id=", ";", -1, "NF").apply(&r, &mut vars);
        assert_eq!(get(&vars, "b_matchNr b_1 b_3 b"), "3 1 333 NF");
        boundary("zz", ";", -1, "NF").apply(&r, &mut vars);
        assert_eq!(get(&vars, "b_matchNr b_1"), "0 -");
        boundary("id=", ";", 0, "NF").apply(&r, &mut vars);
        assert!(["1", "22", "333"].contains(&vars["b"].as_str()));
        // A blank default is not stored unless default_empty_value is set.
        let mut vars = HashMap::from([("b".to_string(), "old".to_string())]);
        boundary("zz", ";", 1, "  ").apply(&r, &mut vars);
        assert_eq!(vars["b"], "old");
        let mut empty = boundary("zz", ";", 1, "");
        empty.default_empty = true;
        empty.apply(&r, &mut vars);
        assert_eq!(vars["b"], "");
        // Headers as the source.
        let mut h = boundary("Location: ", "\n", 1, "");
        h.source = Source::ResponseHeaders;
        let r = Response {
            headers: "HTTP/1.1 302 Found\nLocation: /next\n",
            ..Response::default()
        };
        h.apply(&r, &mut vars);
        assert_eq!(vars["b"], "/next");
    }
}
