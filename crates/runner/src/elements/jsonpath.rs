//! JSONPath for the JSON Extractor and the JSON Assertion ([`JsonQuery`]), and JSON values
//! printed as JMeter prints them.
//!
//! **JSONPath dialect.** JMeter uses Jayway JsonPath; the runner uses `serde_json_path`
//! (RFC 9535). [`JsonQuery::parse`] accepts the Jayway spellings most plans use and rewrites
//! them: a path without `$` (`store.book` → `$.store.book`), dotted names RFC 9535 does not
//! allow (`$.user-id`, `$.0` → `$['user-id']`, `$['0']`), filters in parentheses
//! (`[?(@.price > 10)]`, valid RFC syntax), `$..id`, `[*]`, slices, unions, and a trailing
//! `.length()` / `.size()`. Jayway-only filter operators (`=~`, `in`, `nin`, `subsetof`,
//! `anyof`, `noneof`, `size`, `empty`), script expressions (`[(@.length-1)]`) and other
//! functions (`min()`, `keys()`, …) are refused when the plan is compiled, with the parser's
//! position and message; RFC 9535 equivalents exist for several (`match()`, `search()`,
//! `length()`, `count()` inside filters).
//!
//! **Values as JMeter prints them** (JSONManager / json-smart): strings unquoted, integers as
//! written, decimals as Java's `Double.toString` (`1.0`, `1.0E10`), `null` as an empty string
//! in the extractor, objects and arrays as compact JSON with `/` escaped as `\/`. Differences:
//! object keys print sorted by name (JMeter: Java `HashMap` order); decimals longer than 18
//! characters and integers beyond 64 bits go through `f64` (JMeter keeps them exact).

use serde_json::{Number, Value};
use serde_json_path::JsonPath;

/// A JSONPath written in Jayway's dialect, compiled for `serde_json_path` (see the module
/// documentation for what is accepted).
#[derive(Debug, Clone)]
pub struct JsonQuery {
    /// The path as written in the plan.
    pub text: String,
    /// The RFC 9535 query (without a trailing `length()`).
    path: JsonPath,
    /// Jayway's `isPathDefinite`: no `..`, `*`, filter, slice or union.
    definite: bool,
    /// A trailing `.length()` / `.size()`.
    length: bool,
}

impl JsonQuery {
    /// Parses `text`; `Err` explains what is wrong, for [`crate::RunnerError::InvalidValue`].
    pub(crate) fn parse(text: &str) -> Result<JsonQuery, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("a JSONPath (it is empty)".to_string());
        }
        let mut path = if trimmed.starts_with('$') {
            trimmed.to_string()
        } else if trimmed.starts_with('[') {
            format!("${trimmed}")
        } else {
            // Jayway's PathCompiler: a path not starting with $ or @ gets "$." in front.
            format!("$.{trimmed}")
        };
        let mut length = false;
        if let Some((head, function)) = trailing_function(&path) {
            if !matches!(function, "length()" | "size()") {
                return Err(format!(
                    "a JSONPath the runner supports: the Jayway function {function} is not \
                     implemented (only a trailing length() or size() is)"
                ));
            }
            length = true;
            path = head.to_string();
        }
        let rewritten = quote_odd_names(&path);
        let compiled = JsonPath::parse(&rewritten).map_err(|e| {
            format!(
                "a JSONPath in RFC 9535 syntax ({e}; Jayway-only filter operators such as =~, \
                 in, nin, subsetof, anyof, noneof, size, empty and script expressions are not \
                 supported)"
            )
        })?;
        Ok(JsonQuery {
            text: text.to_string(),
            path: compiled,
            definite: is_definite(&rewritten),
            length,
        })
    }

    /// Jayway's `isPathDefinite` (a trailing `length()` makes any path yield one value).
    pub(crate) fn is_definite(&self) -> bool {
        self.definite || self.length
    }

    /// The values found, as Jayway with `ALWAYS_RETURN_LIST` (the JSON Extractor): each node,
    /// or the one `length()` value.
    pub(crate) fn find(&self, doc: &Value) -> Vec<Value> {
        if self.length {
            return self.length_of(doc).into_iter().collect();
        }
        self.path.query(doc).all().into_iter().cloned().collect()
    }

    /// What Jayway's `JsonPath.read` returns (the JSON Assertion): a definite path gives its
    /// value (`None` when there is none: PathNotFoundException), an indefinite path the array
    /// of the values found.
    pub(crate) fn read(&self, doc: &Value) -> Option<Value> {
        if self.length {
            return self.length_of(doc);
        }
        let nodes = self.path.query(doc).all();
        if self.definite {
            nodes.first().map(|v| (*v).clone())
        } else {
            Some(Value::Array(nodes.into_iter().cloned().collect()))
        }
    }

    /// Jayway's `length()`: the size of the array or object a definite path finds, or the
    /// number of values an indefinite path finds.
    fn length_of(&self, doc: &Value) -> Option<Value> {
        let nodes = self.path.query(doc).all();
        let n = if self.definite {
            match nodes.first()? {
                Value::Array(a) => a.len(),
                Value::Object(o) => o.len(),
                _ => return None,
            }
        } else {
            nodes.len()
        };
        Some(Value::from(n))
    }
}

/// Splits a trailing `.name(…)` function call off `path`.
fn trailing_function(path: &str) -> Option<(&str, &str)> {
    if !path.ends_with(')') {
        return None;
    }
    let open = path.rfind('(')?;
    let dot = path[..open].rfind('.')?;
    let name = &path[dot + 1..open];
    let is_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (is_name && !path[..dot].ends_with('.')).then(|| (&path[..dot], &path[dot + 1..]))
}

/// Scans `path` outside quotes; calls `f(byte index, byte, bracket depth)`.
fn scan(path: &str, mut f: impl FnMut(usize, u8, usize)) {
    let bytes = path.as_bytes();
    let (mut quote, mut depth, mut i) = (None, 0usize, 0);
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' => quote = Some(b),
                b'[' => depth += 1,
                b']' => depth = depth.saturating_sub(1),
                _ => f(i, b, depth),
            },
        }
        i += 1;
    }
}

/// Jayway's definiteness: no deep scan, wildcard, filter, slice or union.
fn is_definite(path: &str) -> bool {
    let mut definite = true;
    let bytes = path.as_bytes();
    scan(path, |i, b, depth| {
        let deep = b == b'.' && bytes.get(i + 1) == Some(&b'.');
        let in_bracket = depth > 0 && matches!(b, b',' | b':');
        if deep || in_bracket || matches!(b, b'*' | b'?') {
            definite = false;
        }
    });
    definite
}

/// Rewrites dotted names that RFC 9535's member-name shorthand does not allow (`.user-id`,
/// `.0`) into bracket notation (`['user-id']`); Jayway reads them as plain names.
fn quote_odd_names(path: &str) -> String {
    let mut dots = Vec::new();
    scan(path, |i, b, depth| {
        if b == b'.' && depth == 0 {
            dots.push(i);
        }
    });
    let mut out = String::with_capacity(path.len() + 8);
    let mut copied = 0;
    for &dot in &dots {
        let start = dot + 1;
        let end = path[start..]
            .find(['.', '['])
            .map_or(path.len(), |j| start + j);
        let name = &path[start..end];
        let shorthand = name.chars().enumerate().all(|(k, c)| {
            c.is_ascii_alphabetic() || c == '_' || !c.is_ascii() || (k > 0 && c.is_ascii_digit())
        });
        if name.is_empty() || name == "*" || shorthand {
            continue;
        }
        out.push_str(&path[copied..dot]);
        // `.name` → `['name']`; `..name` → `..['name']`.
        if path[..dot].ends_with('.') {
            out.push('.');
        }
        out.push_str("['");
        out.push_str(&name.replace('\\', "\\\\").replace('\'', "\\'"));
        out.push_str("']");
        copied = end;
    }
    out.push_str(&path[copied..]);
    out
}

/// A value as the JSON Extractor stores it (`JSONManager.stringifyJSONObject`, then
/// `JSONPostProcessor.stringify`): `null` → empty, strings unquoted, objects and arrays as
/// json-smart JSON.
pub(crate) fn extracted_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n),
        Value::Array(_) | Value::Object(_) => json_smart(v),
    }
}

/// A JSON number as Java prints the json-smart value: integers as written, decimals through
/// `Double.toString`.
pub(crate) fn number_text(n: &Number) -> String {
    if n.is_i64() || n.is_u64() {
        n.to_string()
    } else {
        n.as_f64().map_or_else(|| n.to_string(), java_double)
    }
}

/// Compact JSON as json-smart's `toJSONString()` (style `NO_COMPRESS`, which escapes `/` and
/// the control ranges U+0000–001F, U+007F–009F and U+2000–20FF).
pub(crate) fn json_smart(v: &Value) -> String {
    let mut out = String::new();
    write_json_smart(v, &mut out);
    out
}

fn write_json_smart(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_text(n)),
        Value::String(s) => write_json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_smart(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                write_json_smart(item, out);
            }
            out.push('}');
        }
    }
}

/// json-smart's `Escape4Web`.
fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '/' => out.push_str("\\/"),
            '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2000}'..='\u{20ff}' => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The shortest decimal digits of `f` (no sign) and the exponent of the first digit:
/// 1234.5 → ("12345", 3).
fn digits_and_exponent(f: f64) -> (String, i32) {
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    (mantissa.replace('.', ""), exp.parse().unwrap_or(0))
}

/// `digits` × 10^(`exp` − len + 1) in plain notation with at least one fraction digit.
fn plain(negative: bool, digits: &str, exp: i32) -> String {
    let mut out = String::from(if negative { "-" } else { "" });
    if exp < 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-exp - 1) as usize));
        out.push_str(digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(digits);
            out.push_str(&"0".repeat(int_len - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// Java's `Double.toString`: plain notation for 10⁻³ ≤ |f| < 10⁷ (`100.0`, `0.001`) and zero,
/// otherwise computerized scientific notation (`1.0E7`, `1.5E-4`).
pub(crate) fn java_double(f: f64) -> String {
    let (digits, exp) = digits_and_exponent(f);
    if f == 0.0 || (-3..7).contains(&exp) {
        return plain(f.is_sign_negative(), &digits, exp);
    }
    let sign = if f < 0.0 { "-" } else { "" };
    let rest = if digits.len() > 1 { &digits[1..] } else { "0" };
    format!("{sign}{}.{rest}E{exp}", &digits[..1])
}

/// `new DecimalFormat("#.#")` with 1 to 340 fraction digits (JSONPathAssertion's format for
/// decimals): always plain notation, at least one fraction digit.
pub(crate) fn decimal_format(f: f64) -> String {
    let (digits, exp) = digits_and_exponent(f);
    plain(f.is_sign_negative(), &digits, exp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jayway_spellings() {
        let doc: Value =
            serde_json::from_str(r#"{"user-id":7,"0":"zero","a":{"b":[{"x":1},{"x":5}]}}"#)
                .unwrap();
        let q = |p: &str| JsonQuery::parse(p).unwrap();
        assert_eq!(q("$.user-id").find(&doc), [Value::from(7)]);
        assert_eq!(q("a.b[1].x").find(&doc), [Value::from(5)]);
        assert_eq!(q("$.0").find(&doc), [Value::from("zero")]);
        assert_eq!(q("$.a.b[?(@.x > 1)].x").find(&doc), [Value::from(5)]);
        assert_eq!(q("$..x").read(&doc), Some(serde_json::json!([1, 5])));
        assert_eq!(q("$.a.b.size()").read(&doc), Some(Value::from(2)));
        assert_eq!(q("$..x.length()").read(&doc), Some(Value::from(2)));
        assert_eq!(q("$.a.nope").read(&doc), None);
        assert!(q("$.a.b[0].x").is_definite());
        let indefinite = [
            "$..x",
            "$.a.b[*]",
            "$.a.b[0,1]",
            "$.a.b[0:1]",
            "$.a.b[?(@.x)]",
        ];
        for p in indefinite {
            assert!(!q(p).is_definite(), "{p}");
        }
        assert!(
            q("$['a.b*']").is_definite(),
            "quoted names are not operators"
        );
        let err = JsonQuery::parse("$.a[?(@.name =~ /x.*/)]").unwrap_err();
        assert!(
            err.starts_with("a JSONPath in RFC 9535 syntax (at position"),
            "{err}"
        );
        let err = JsonQuery::parse("$.a.min()").unwrap_err();
        assert!(err.contains("function min() is not implemented"), "{err}");
        assert!(JsonQuery::parse("  ").is_err());
    }

    #[test]
    fn java_number_formats() {
        // Double.toString: plain in [1e-3, 1e7), else scientific with at least one fraction digit.
        let cases = [
            (1.5, "1.5"),
            (20.0, "20.0"),
            (-0.25, "-0.25"),
            (0.001, "0.001"),
            (1234567.0, "1234567.0"),
            (1.0e7, "1.0E7"),
            (1.5e-4, "1.5E-4"),
            (-2.5e20, "-2.5E20"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
        ];
        for (f, want) in cases {
            assert_eq!(java_double(f), want);
        }
        assert_eq!(decimal_format(1.0e7), "10000000.0");
        assert_eq!(decimal_format(1.5e-4), "0.00015");
        assert_eq!(decimal_format(2.0), "2.0");
        assert_eq!(
            json_smart(&serde_json::json!({"s":"a\"\\\n\u{1}\u{2028}é","l":[1.0,null,true]})),
            r#"{"l":[1.0,null,true],"s":"a\"\\\n\u0001\u2028é"}"#
        );
    }
}
