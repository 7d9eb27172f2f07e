//! The JSON Extractor (`JSONPostProcessor`, JMeter 3.0+): JSONPath queries over the response
//! body, values stored as JMeter prints them (both in [`crate::elements::jsonpath`]).

use std::collections::HashMap;

use serde_json::Value;

use crate::elements::jsonpath::{JsonQuery, extracted_text};
use crate::elements::response::Response;

/// One JSON Extractor (`JSONPostProcessor`): parallel `;`-separated lists, one item each.
#[derive(Debug, Clone)]
pub struct JsonExtract {
    /// The element's `testname`.
    pub name: String,
    /// One entry per variable.
    pub items: Vec<JsonItem>,
    /// `JSONPostProcessor.compute_concat`: with match number -1, also `name_ALL`.
    pub compute_concat: bool,
}

/// One variable of a JSON Extractor.
#[derive(Debug, Clone)]
pub struct JsonItem {
    /// Entry of `JSONPostProcessor.referenceNames` (trimmed).
    pub refname: String,
    /// Entry of `JSONPostProcessor.jsonPathExprs` (trimmed), parsed.
    pub path: JsonQuery,
    /// Entry of `JSONPostProcessor.match_numbers`; 0 (random) when the list is blank or short.
    pub match_number: i64,
    /// Entry of `JSONPostProcessor.defaultValues` (not trimmed).
    pub default: String,
}

impl JsonExtract {
    /// Sets the variables from the response body, as `JSONPostProcessor.process`: a body that
    /// is not JSON (or is empty) sets each variable to its default; no value found sets the
    /// default and `name_matchNr` = 0; one value sets `name` (`name_1` with match number -1);
    /// several values set `name` to the n-th (the default when there are fewer) or a random
    /// one, or with -1 `name_1` … `name_N` and, with `compute_concat`, `name_ALL` (joined by
    /// `,`). `name_matchNr` is set except for match number 0. With -1, `name` itself is left
    /// as it was.
    pub(crate) fn apply(&self, r: &Response<'_>, vars: &mut HashMap<String, String>) {
        let doc = serde_json::from_str::<Value>(r.body).ok();
        for item in &self.items {
            let name = item.refname.as_str();
            // clearOldRefVars.
            vars.remove(&format!("{name}_matchNr"));
            let mut i = 1;
            while vars.remove(&format!("{name}_{i}")).is_some() {
                i += 1;
            }
            let Some(doc) = &doc else {
                // JsonPath throws on a body that does not parse: the default is stored.
                vars.insert(name.to_string(), item.default.clone());
                continue;
            };
            let values: Vec<String> = item.path.find(doc).iter().map(extracted_text).collect();
            let n = item.match_number;
            match values.len() {
                0 => {
                    vars.insert(name.to_string(), item.default.clone());
                    vars.insert(format!("{name}_matchNr"), "0".to_string());
                    if n < 0 && self.compute_concat {
                        vars.insert(format!("{name}_ALL"), String::new());
                    }
                    continue;
                }
                1 => {
                    let var = if n < 0 {
                        format!("{name}_1")
                    } else {
                        name.to_string()
                    };
                    if n < 0 && self.compute_concat {
                        vars.insert(format!("{name}_ALL"), values[0].clone());
                    }
                    vars.insert(var, values[0].clone());
                }
                _ if n < 0 => {
                    for (i, v) in values.iter().enumerate() {
                        vars.insert(format!("{name}_{}", i + 1), v.clone());
                    }
                    if self.compute_concat {
                        vars.insert(format!("{name}_ALL"), values.join(","));
                    }
                }
                len if n == 0 => {
                    vars.insert(name.to_string(), values[fastrand::usize(..len)].clone());
                }
                len => {
                    let value = match usize::try_from(n) {
                        Ok(n) if n <= len => values[n - 1].clone(),
                        _ => item.default.clone(),
                    };
                    vars.insert(name.to_string(), value);
                }
            }
            if n != 0 {
                vars.insert(format!("{name}_matchNr"), values.len().to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elements::extractors::PostProcessor;

    fn item(refname: &str, path: &str, n: i64, default: &str) -> JsonItem {
        JsonItem {
            refname: refname.into(),
            path: JsonQuery::parse(path).unwrap(),
            match_number: n,
            default: default.into(),
        }
    }

    fn extract(items: Vec<JsonItem>, concat: bool, body: &str) -> HashMap<String, String> {
        let e = JsonExtract {
            name: "J".into(),
            items,
            compute_concat: concat,
        };
        let mut user = crate::text::template::UserCtx::new(HashMap::new(), 1);
        let r = Response {
            body,
            ..Response::default()
        };
        PostProcessor::Json(e).apply(&r, &mut user);
        user.vars
    }

    const DOC: &str = r#"{"items":[{"id":1,"name":"a/b","price":1.5},{"id":2,"name":"b","price":20.0},{"id":3,"name":"c","tags":null}],"total":3}"#;

    /// The variables as sorted `name=value` words.
    fn flat(vars: &HashMap<String, String>) -> String {
        let mut v: Vec<String> = vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
        v.sort();
        v.join(" ")
    }

    #[test]
    fn json_match_numbers_all_and_concat() {
        let vars = extract(vec![item("id", "$..id", -1, "NF")], true, DOC);
        assert_eq!(
            flat(&vars),
            "id_1=1 id_2=2 id_3=3 id_ALL=1,2,3 id_matchNr=3"
        );
        let vars = extract(vec![item("id", "$.items[*].id", 2, "NF")], false, DOC);
        assert_eq!(flat(&vars), "id=2 id_matchNr=3");
        let vars = extract(vec![item("id", "$..id", 4, "NF")], false, DOC);
        assert_eq!(flat(&vars), "id=NF id_matchNr=3");
        // Match number 0: random, and no _matchNr.
        let vars = extract(vec![item("id", "$..id", 0, "NF")], false, DOC);
        assert!(["1", "2", "3"].contains(&vars["id"].as_str()) && vars.len() == 1);
        // One value with -1: name_1, and _ALL is that value.
        let vars = extract(vec![item("t", "$.total", -1, "NF")], true, DOC);
        assert_eq!(flat(&vars), "t_1=3 t_ALL=3 t_matchNr=1");
        // One value and a match number beyond it: JMeter still stores the value.
        let vars = extract(vec![item("t", "total", 5, "NF")], false, DOC);
        assert_eq!(flat(&vars), "t=3 t_matchNr=1");
    }

    #[test]
    fn json_values_print_as_jmeter() {
        let vars = extract(
            vec![
                item("p", "$.items[0].price", 1, ""),
                item("q", "$.items[1].price", 1, ""),
                item("n", "$.items[2].tags", 1, "D"),
                item("o", "$.items[0]", 1, ""),
                item("a", "$.items[*].name", -1, ""),
                item("len", "$.items.length()", 1, ""),
            ],
            false,
            DOC,
        );
        assert_eq!(vars["p"], "1.5");
        assert_eq!(vars["q"], "20.0");
        assert_eq!(
            vars["n"], "",
            "a JSON null is stored as empty text, not the default"
        );
        assert_eq!(vars["o"], r#"{"id":1,"name":"a\/b","price":1.5}"#);
        assert_eq!((&*vars["a_1"], &*vars["a_3"]), ("a/b", "c"));
        assert_eq!(vars["len"], "3");
    }

    #[test]
    fn json_not_found_and_not_json() {
        let vars = extract(vec![item("x", "$.nope", -1, "NF")], true, DOC);
        assert_eq!(flat(&vars), "x=NF x_ALL= x_matchNr=0");
        for body in ["<html>oops</html>", ""] {
            let vars = extract(
                vec![item("a", "$.a", 1, "D1"), item("b", "$.b", -1, "D2")],
                true,
                body,
            );
            assert_eq!(flat(&vars), "a=D1 b=D2");
        }
        // Leftovers of an earlier sample are cleared.
        let e = JsonExtract {
            name: "J".into(),
            items: vec![item("id", "$..id", -1, "NF")],
            compute_concat: false,
        };
        let mut vars = HashMap::new();
        let r = |body| Response {
            body,
            ..Response::default()
        };
        e.apply(&r(DOC), &mut vars);
        e.apply(&r(r#"{"id":9}"#), &mut vars);
        assert_eq!(flat(&vars), "id_1=9 id_matchNr=1");
    }
}
