//! The jmeter-plugins JSON Path Extractor (`com.atlantbh.jmeter.plugins.jsonutils.
//! jsonpathextractor.JSONPathExtractor`, plugin `jpgc-json`, source of version 2.7): one
//! JSONPath over the previous sample's body (or a variable), read with Jayway's `JsonPath.read`
//! and stored with the plugin's `objectToString`. The JSONPath dialect is the JSON Extractor's
//! ([`crate::elements::jsonpath`]).

use std::collections::HashMap;

use serde_json::Value;

use crate::elements::jsonpath::{JsonQuery, decimal_format, json_smart};
use crate::elements::response::Response;

/// What the extractor reads (`SUBJECT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonSubject {
    /// `BODY` (or anything but `VAR`): the previous sample's response body.
    Body,
    /// `VAR`: the variable named by `VARIABLE` (a missing variable reads as no JSON).
    Variable(String),
}

/// One jp@gc JSON Path Extractor.
#[derive(Debug, Clone)]
pub struct JpgcJsonExtract {
    /// The element's `testname`.
    pub name: String,
    /// `VAR`: the variable set.
    pub var: String,
    /// `JSONPATH`, parsed.
    pub path: JsonQuery,
    /// `DEFAULT`: stored when nothing is found or the text is not JSON.
    pub default: String,
    /// `SUBJECT` / `VARIABLE`.
    pub subject: JsonSubject,
}

impl JpgcJsonExtract {
    /// As the plugin's `process()`: `JsonPath.read` gives an array (an indefinite path's
    /// matches, or a definite path's array value) → `var` = the array as JSON, `var_matchNr` =
    /// its length, `var_1` … `var_N` = its items (earlier `var_k` removed first); an empty
    /// array, no value, or text that is not JSON → `var` = the default, `var_matchNr` = 0, the
    /// `var_k` removed; any other value → `var` alone (`var_matchNr` and `var_k` untouched).
    pub(crate) fn apply(&self, r: &Response<'_>, vars: &mut HashMap<String, String>) {
        let text = match &self.subject {
            JsonSubject::Body => Some(r.body.to_string()),
            JsonSubject::Variable(v) => vars.get(v).cloned(),
        };
        let found = text
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|doc| self.path.read(&doc));
        let var = self.var.as_str();
        let clear = |vars: &mut HashMap<String, String>| {
            let mut k = 1;
            while vars.remove(&format!("{var}_{k}")).is_some() {
                k += 1;
            }
        };
        match found {
            Some(Value::Array(items)) if !items.is_empty() => {
                vars.insert(var.to_string(), json_smart(&Value::Array(items.clone())));
                vars.insert(format!("{var}_matchNr"), items.len().to_string());
                clear(vars);
                for (n, item) in items.iter().enumerate() {
                    vars.insert(format!("{var}_{}", n + 1), object_to_string(item));
                }
            }
            Some(v) if !v.is_array() => {
                vars.insert(var.to_string(), object_to_string(&v));
            }
            _ => {
                vars.insert(var.to_string(), self.default.clone());
                vars.insert(format!("{var}_matchNr"), "0".to_string());
                clear(vars);
            }
        }
    }

    /// One line for `loadlake run --validate`.
    pub fn describe(&self) -> String {
        let from = match &self.subject {
            JsonSubject::Body => "the body".to_string(),
            JsonSubject::Variable(v) => format!("${{{v}}}"),
        };
        format!(
            "\"{}\": ${{{}}} = {} of {from} (jp@gc JSON Path Extractor; arrays also as _1 … _N \
             and _matchNr), default \"{}\"",
            self.name, self.var, self.path.text, self.default
        )
    }
}

/// The plugin's `objectToString`: `null` → `null`, objects and arrays as json-smart JSON,
/// decimals through `DecimalFormat("#.#")` with 1 to 340 fraction digits (`2.0`, never an
/// exponent), anything else as Java's `toString` (strings unquoted, integers as written).
fn object_to_string(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), decimal_format),
        Value::Array(_) | Value::Object(_) => json_smart(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extractor(path: &str, subject: JsonSubject) -> JpgcJsonExtract {
        JpgcJsonExtract {
            name: "E".into(),
            var: "v".into(),
            path: JsonQuery::parse(path).unwrap(),
            default: "NF".into(),
            subject,
        }
    }

    fn run(path: &str, body: &str, vars: &mut HashMap<String, String>) {
        let r = Response {
            body,
            ..Response::default()
        };
        extractor(path, JsonSubject::Body).apply(&r, vars);
    }

    fn flat(vars: &HashMap<String, String>) -> String {
        let mut v: Vec<String> = vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
        v.sort();
        v.join(" ")
    }

    const DOC: &str = r#"{"slideshow":{"author":"Yours Truly","n":2.0,"k":7,"x":null,
        "slides":[{"title":"a/b","w":1.5},{"title":"Overview"}],"empty":[]}}"#;

    /// Hand-derived from the plugin's `process()` and `objectToString` (json-smart parses
    /// `2.0` as a Double, printed by `DecimalFormat("#.#")` as `2.0`; `7` as an Integer).
    #[test]
    fn definite_values_set_the_variable_alone() {
        for (path, want) in [
            ("slideshow.author", "Yours Truly"),
            ("$.slideshow.n", "2.0"),
            ("$.slideshow.k", "7"),
            ("$.slideshow.x", "null"),
            ("$.slideshow.slides[0]", r#"{"title":"a\/b","w":1.5}"#),
        ] {
            let mut vars = HashMap::from([("v_matchNr".to_string(), "5".to_string())]);
            run(path, DOC, &mut vars);
            assert_eq!(vars["v"], want, "{path}");
            assert_eq!(vars["v_matchNr"], "5", "{path}: _matchNr is left as it was");
        }
    }

    #[test]
    fn arrays_set_items_and_count() {
        let mut vars = HashMap::from([
            ("v_1".to_string(), "old".to_string()),
            ("v_2".to_string(), "old".to_string()),
            ("v_3".to_string(), "old".to_string()),
        ]);
        run("$.slideshow.slides[*].title", DOC, &mut vars);
        assert_eq!(
            flat(&vars),
            r#"v=["a\/b","Overview"] v_1=a/b v_2=Overview v_matchNr=2"#
        );
        // A definite path to an array value is an array too (json-smart's JSONArray).
        let mut vars = HashMap::new();
        run("$.slideshow.slides", DOC, &mut vars);
        assert_eq!(vars["v_matchNr"], "2");
        assert_eq!(vars["v_2"], r#"{"title":"Overview"}"#);
    }

    #[test]
    fn nothing_found_or_not_json_stores_the_default() {
        for (path, body) in [
            ("$.slideshow.nope", DOC),
            ("$.slideshow.empty", DOC),
            ("$..nothing", DOC),
            ("$.a", "<html>no</html>"),
        ] {
            let mut vars = HashMap::from([("v_1".to_string(), "old".to_string())]);
            run(path, body, &mut vars);
            assert_eq!(flat(&vars), "v=NF v_matchNr=0", "{path} on {body}");
        }
    }

    #[test]
    fn reads_a_variable_when_subject_is_var() {
        let e = extractor("$.id", JsonSubject::Variable("src".into()));
        let mut vars = HashMap::from([("src".to_string(), r#"{"id":42}"#.to_string())]);
        e.apply(&Response::default(), &mut vars);
        assert_eq!(vars["v"], "42");
        let mut vars = HashMap::new();
        e.apply(&Response::default(), &mut vars);
        assert_eq!(vars["v"], "NF", "a missing variable is no JSON");
    }
}
