//! Runtime variables of a virtual user: the Regular Expression Extractor sets them from a
//! response body, and `${name}` references left in a sampler after compilation (variables that
//! were not known then) are filled in before each request, URL-encoded where the sampler's
//! encoding says so.

use std::collections::HashMap;

use regex::Regex;

/// One Regular Expression Extractor (`RegexExtractor`), applied to the response body.
#[derive(Debug, Clone)]
pub struct RegexExtract {
    /// The element's `testname`.
    pub name: String,
    /// `RegexExtractor.refname`: the variable set.
    pub refname: String,
    pub regex: Regex,
    /// `RegexExtractor.template`: `$1$`, `$0$`, literal text around group references.
    pub template: String,
    /// `RegexExtractor.match_number`: n ≥ 1 the n-th match, 0 a random one, -1 all of them
    /// (`refname_1` … `refname_N` and `refname_matchNr`).
    pub match_number: i64,
    /// `RegexExtractor.default`: the value when nothing matches.
    pub default: String,
}

impl RegexExtract {
    /// Sets this extractor's variables in `vars` from `body`.
    pub fn apply(&self, body: &str, vars: &mut HashMap<String, String>) {
        let matches: Vec<regex::Captures<'_>> = self.regex.captures_iter(body).collect();
        let name = &self.refname;
        match self.match_number {
            -1 => {
                vars.insert(format!("{name}_matchNr"), matches.len().to_string());
                for (i, m) in matches.iter().enumerate() {
                    vars.insert(format!("{name}_{}", i + 1), self.fill(m));
                }
                vars.insert(name.clone(), self.default.clone());
            }
            n => {
                let chosen = match n {
                    0 if !matches.is_empty() => matches.get(fastrand::usize(..matches.len())),
                    n if n > 0 => matches.get((n - 1) as usize),
                    _ => None,
                };
                let value = chosen.map_or_else(|| self.default.clone(), |m| self.fill(m));
                vars.insert(name.clone(), value);
            }
        }
    }

    /// The template with `$n$` replaced by group n of `m` (missing groups give "").
    fn fill(&self, m: &regex::Captures<'_>) -> String {
        let mut out = String::new();
        let mut rest = self.template.as_str();
        while let Some(start) = rest.find('$') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            match after.find('$') {
                Some(end) if after[..end].bytes().all(|b| b.is_ascii_digit()) && end > 0 => {
                    let group: usize = after[..end].parse().unwrap_or(0);
                    out.push_str(m.get(group).map_or("", |g| g.as_str()));
                    rest = &after[end + 1..];
                }
                _ => {
                    out.push('$');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// `text` with every `${name}` whose `name` is in `vars` replaced by `encode(value)`; other
/// references stay as they are written, as in JMeter (encoded like a value, so that a URL stays
/// valid).
pub(crate) fn render(
    text: &str,
    vars: &HashMap<String, String>,
    encode: impl Fn(&str) -> String,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) if vars.contains_key(&after[..end]) => {
                out.push_str(&encode(&vars[&after[..end]]));
                rest = &after[end + 1..];
            }
            Some(end) => {
                out.push_str(&encode(&rest[start..start + end + 3]));
                rest = &after[end + 1..];
            }
            None => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
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
        }
    }

    #[test]
    fn extractors_follow_jmeters_match_numbers_and_templates() {
        let body = "a=1; b=22; c=333";
        let mut vars = HashMap::new();
        ex(r"(\w)=(\d+)", "$2$", 2).apply(body, &mut vars);
        assert_eq!(vars["v"], "22");
        ex(r"(\w)=(\d+)", "[$1$:$2$]$", 1).apply(body, &mut vars);
        assert_eq!(vars["v"], "[a:1]$");
        ex(r"(\w)=(\d+)", "$1$", -1).apply(body, &mut vars);
        assert_eq!(
            (vars["v_matchNr"].as_str(), vars["v_3"].as_str()),
            ("3", "c")
        );
        ex(r"zzz(\d)", "$1$", 1).apply(body, &mut vars);
        assert_eq!(vars["v"], "NOTFOUND");
        ex(r"(\d+)", "$1$", 0).apply(body, &mut vars);
        assert!(["1", "22", "333"].contains(&vars["v"].as_str()));
    }

    #[test]
    fn only_known_references_are_rendered() {
        let vars = HashMap::from([("t".to_string(), "a b".to_string())]);
        assert_eq!(
            render("/x?t=${t}&u=${u}", &vars, |v| v.replace(' ', "+")),
            "/x?t=a+b&u=${u}"
        );
        assert_eq!(render("${t", &vars, str::to_string), "${t");
    }
}
