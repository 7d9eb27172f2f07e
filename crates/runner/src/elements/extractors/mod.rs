//! Post-processors applied to each sample, in scope order: the Regular Expression Extractor,
//! the JSON Extractor (`JSONPostProcessor`, JMeter 3.0+) and the Boundary Extractor (4.0+).
//! This module dispatches; the Regular Expression and Boundary Extractors are in
//! [`regex_boundary`], the JSON Extractor in [`json`], the jmeter-plugins JSON Path Extractor
//! in [`jpgc_json`], the CSS/JQuery Extractor in [`css`], the XPath Extractor in [`xpath`].

pub(crate) mod css;
pub(crate) mod jpgc_json;
pub(crate) mod json;
pub(crate) mod regex_boundary;
pub(crate) mod xpath;

use std::collections::HashMap;

use crate::elements::response::Response;
use crate::text::template::UserCtx;
use css::CssExtract;
use jpgc_json::JpgcJsonExtract;
use json::JsonExtract;
use regex_boundary::{BoundaryExtract, RegexExtract};
use xpath::XPathExtract;

/// One post-processor in scope of a sampler.
#[derive(Debug, Clone)]
pub enum PostProcessor {
    /// Regular Expression Extractor.
    Regex(RegexExtract),
    /// JSON Extractor.
    Json(JsonExtract),
    /// Boundary Extractor.
    Boundary(BoundaryExtract),
    /// jmeter-plugins JSON Path Extractor.
    JpgcJson(JpgcJsonExtract),
    /// CSS/JQuery Extractor (`HtmlExtractor`).
    Css(Box<CssExtract>),
    /// XPath Extractor (`XPathExtractor`).
    XPath(Box<XPathExtract>),
    /// JSR223 / BeanShell PostProcessor.
    Script(Box<crate::elements::scripts::ScriptElement>),
}

impl PostProcessor {
    /// Sets the variables this post-processor extracts from `r` in `user`'s variables.
    pub(crate) fn apply(&self, r: &Response<'_>, user: &mut UserCtx) {
        let vars = &mut user.vars;
        match self {
            PostProcessor::Regex(e) => e.apply(r, vars),
            PostProcessor::Json(e) => e.apply(r, vars),
            PostProcessor::Boundary(e) => e.apply(r, vars),
            PostProcessor::JpgcJson(e) => e.apply(r, vars),
            PostProcessor::Css(e) => e.apply(r, user),
            PostProcessor::XPath(e) => e.apply(r, user),
            // Needs the whole user and may change the sample: run by
            // `elements::scripts::post_process`, which every sampler calls.
            PostProcessor::Script(_) => {}
        }
    }

    /// Whether the response body must be kept for this post-processor.
    pub fn needs_body(&self) -> bool {
        match self {
            PostProcessor::Regex(e) => e.source.needs_body(),
            PostProcessor::Json(_)
            | PostProcessor::JpgcJson(_)
            | PostProcessor::Css(_)
            | PostProcessor::XPath(_) => true,
            PostProcessor::Boundary(e) => e.source.needs_body(),
            PostProcessor::Script(_) => true,
        }
    }

    /// One line for `loadlake run --validate`.
    pub fn describe(&self) -> String {
        match self {
            PostProcessor::Regex(e) => format!(
                "\"{}\": ${{{}}} from {} with regex /{}/, template \"{}\", {}, default \"{}\"",
                e.name,
                e.refname,
                e.source.describe(),
                e.regex,
                e.template,
                match_words(e.match_number),
                e.default
            ),
            PostProcessor::Boundary(e) => format!(
                "\"{}\": ${{{}}} from {} between \"{}\" and \"{}\", {}, default \"{}\"",
                e.name,
                e.refname,
                e.source.describe(),
                e.left.escape_debug(),
                e.right.escape_debug(),
                match_words(e.match_number),
                e.default
            ),
            PostProcessor::Script(s) => s.describe(),
            PostProcessor::XPath(e) => format!(
                "\"{}\": ${{{}}} from XPath \"{}\" over the body as {}, {}, default \"{}\"",
                e.name,
                e.refname,
                e.source,
                if e.tolerant { "HTML (tolerant)" } else { "XML" },
                match_words(e.match_number),
                e.default
            ),
            PostProcessor::Css(e) => {
                let what = if e.attribute.trim().is_empty() {
                    "text".to_string()
                } else {
                    format!("attribute {}", e.attribute)
                };
                format!(
                    "\"{}\": ${{{}}} = {what} of CSS \"{}\" (JSoup rules), {}, default \"{}\"",
                    e.name,
                    e.refname,
                    e.source,
                    match_words(e.match_number),
                    e.default
                )
            }
            PostProcessor::JpgcJson(e) => e.describe(),
            PostProcessor::Json(e) => {
                let items: Vec<String> = e
                    .items
                    .iter()
                    .map(|i| {
                        format!(
                            "${{{}}} = {} ({}, default \"{}\")",
                            i.refname,
                            i.path.text,
                            match_words(i.match_number),
                            i.default
                        )
                    })
                    .collect();
                let concat = if e.compute_concat { "; with _ALL" } else { "" };
                format!("\"{}\": JSON {}{concat}", e.name, items.join("; "))
            }
        }
    }
}

/// Stores the matches of an extractor that yields plain values — the Boundary Extractor and the
/// CSS/JQuery Extractor — as JMeter's `BoundaryExtractor.process` and `HtmlExtractor.process`
/// both do (the XPath Extractor has rules of its own), after the caller has stored the default
/// by its own rule: `match_number` n ≥ 1 sets `name` to the n-th match (left alone
/// when there are fewer), 0 to a random one, a negative number sets `name_matchNr` and
/// `name_1` … `name_N`; an earlier `name_matchNr` is removed first, and the `name_i` of an
/// earlier sample with more matches are removed (`getCorrectMatch` and "Remove any left-over
/// variables").
pub(crate) fn store_matches<S: AsRef<str>>(
    vars: &mut HashMap<String, String>,
    name: &str,
    match_number: i64,
    matches: &[S],
) {
    let previous = regex_boundary::take_count(vars, &format!("{name}_matchNr"));
    let mut count = 0;
    if match_number >= 0 {
        let chosen = match match_number {
            0 if !matches.is_empty() => matches.get(fastrand::usize(..matches.len())),
            0 => None,
            n => usize::try_from(n - 1).ok().and_then(|i| matches.get(i)),
        };
        if let Some(m) = chosen {
            vars.insert(name.to_string(), m.as_ref().to_string());
        }
    } else {
        count = matches.len();
        vars.insert(format!("{name}_matchNr"), count.to_string());
        for (i, m) in matches.iter().enumerate() {
            vars.insert(format!("{name}_{}", i + 1), m.as_ref().to_string());
        }
    }
    for i in count + 1..=previous {
        vars.remove(&format!("{name}_{i}"));
    }
}

/// A match number in words.
fn match_words(n: i64) -> String {
    match n {
        0 => "a random match".to_string(),
        n if n < 0 => "all matches".to_string(),
        n => format!("match {n}"),
    }
}
