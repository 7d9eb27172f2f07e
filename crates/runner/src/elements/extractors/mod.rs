//! Post-processors applied to each sample, in scope order: the Regular Expression Extractor,
//! the JSON Extractor (`JSONPostProcessor`, JMeter 3.0+) and the Boundary Extractor (4.0+).
//! This module dispatches; the Regular Expression and Boundary Extractors are in
//! [`regex_boundary`], the JSON Extractor in [`json`], the jmeter-plugins JSON Path Extractor
//! in [`jpgc_json`].

pub(crate) mod jpgc_json;
pub(crate) mod json;
pub(crate) mod regex_boundary;

use std::collections::HashMap;

use crate::elements::response::Response;
use jpgc_json::JpgcJsonExtract;
use json::JsonExtract;
use regex_boundary::{BoundaryExtract, RegexExtract};

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
    /// JSR223 / BeanShell PostProcessor.
    Script(Box<crate::elements::scripts::ScriptElement>),
}

impl PostProcessor {
    /// Sets the variables this post-processor extracts from `r`.
    pub(crate) fn apply(&self, r: &Response<'_>, vars: &mut HashMap<String, String>) {
        match self {
            PostProcessor::Regex(e) => e.apply(r, vars),
            PostProcessor::Json(e) => e.apply(r, vars),
            PostProcessor::Boundary(e) => e.apply(r, vars),
            PostProcessor::JpgcJson(e) => e.apply(r, vars),
            // Needs the whole user and may change the sample: run by
            // `elements::scripts::post_process`, which every sampler calls.
            PostProcessor::Script(_) => {}
        }
    }

    /// Whether the response body must be kept for this post-processor.
    pub fn needs_body(&self) -> bool {
        match self {
            PostProcessor::Regex(e) => e.source.needs_body(),
            PostProcessor::Json(_) | PostProcessor::JpgcJson(_) => true,
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

/// A match number in words.
fn match_words(n: i64) -> String {
    match n {
        0 => "a random match".to_string(),
        n if n < 0 => "all matches".to_string(),
        n => format!("match {n}"),
    }
}
