//! Assertions applied to each sample, in scope order: Response Assertion
//! ([`response_assertion`]), Duration Assertion, Size Assertion and JSON Assertion
//! (`JSONPathAssertion`, JMeter 4.0+), each failing with JMeter's own message. This module
//! holds the [`Check`] dispatch and the Duration, Size and JSON Assertions.
//!
//! Messages, from apache/jmeter (`src/components/.../assertions/` and
//! `src/core/.../resources/messages.properties`):
//! - Duration: `duration_assertion_failure` — "The operation lasted too long: It took {0}
//!   milliseconds, but should not have lasted longer than {1} milliseconds."
//! - Size: `size_assertion_failure` — "The result was the wrong size: It was {0} bytes, but should
//!   have {1} {2} bytes.", {1} one of `size_assertion_comparator_error_*` ("been equal to",
//!   "not been equal to", "been greater than", "been less than", "been greater or equal to",
//!   "been less than or equal to").
//!
//!   Both go through `MessageFormat`, which groups the numbers by the JVM's locale; the runner
//!   writes them as an English-locale JVM does (`1,234`).
//! - JSON Assertion (`JSONPathAssertion.doAssert` / `getResult`): "Value expected to be '…', but
//!   found '…'", "Value expected to match regexp '…', but it did not match: '…'", "Value
//!   expected to be null, but found '…'", "JSONPath is indefinite and the extracted Value is an
//!   empty Array. Please use an assertion value, to be sure to get a correct result. …", and
//!   with INVERT "Failed that JSONPath … not matches …" / "Failed that JSONPath not exists: …".
//!   A path that finds nothing and a body that is not JSON fail with the runner's own text
//!   ("No results for path: …", "Invalid JSON: …"); JMeter shows Jayway's exception message
//!   there. JSON is parsed strictly (json-smart's permissive extensions such as single-quoted
//!   strings are not accepted in bodies).

pub(crate) mod response_assertion;

use regex::Regex;
use serde_json::Value;

use crate::elements::jsonpath::{JsonQuery, decimal_format, json_smart, number_text};
use crate::elements::response::Response;
use crate::text::template::UserCtx;
use response_assertion::ResponseAssertion;

/// One assertion in scope of a sampler.
#[derive(Debug, Clone)]
pub enum Check {
    /// Response Assertion.
    Response(ResponseAssertion),
    /// Duration Assertion.
    Duration(DurationCheck),
    /// Size Assertion.
    Size(SizeCheck),
    /// JSON Assertion.
    JsonPath(JsonPathCheck),
    /// JSR223 / BeanShell Assertion.
    Script(Box<crate::elements::scripts::ScriptElement>),
}

impl Check {
    /// None when the sample passes, else JMeter's failure message.
    pub(crate) fn check(&self, r: &Response<'_>, user: &mut UserCtx) -> Option<String> {
        match self {
            Check::Response(a) => a.check_for(r, user),
            Check::Duration(d) => d.check(r),
            Check::Size(s) => s.check(r),
            Check::JsonPath(j) => j.check(r),
            Check::Script(s) => s.assert_response(r, user),
        }
    }

    /// `Assertion.assume_success` of a Response Assertion: the HTTP status does not fail
    /// the sample.
    pub fn assume_success(&self) -> bool {
        matches!(self, Check::Response(a) if a.assume_success)
    }

    /// Whether the response body must be kept for this assertion.
    pub fn needs_body(&self) -> bool {
        match self {
            Check::Response(a) => a.needs_body(),
            Check::JsonPath(_) | Check::Script(_) => true,
            Check::Duration(_) | Check::Size(_) => false,
        }
    }

    /// One line for `loadlake run --validate`.
    pub fn describe(&self) -> String {
        match self {
            Check::Response(a) => a.describe(),
            Check::Script(s) => s.describe(),
            Check::Duration(d) if d.max_ms > 0 => {
                format!("\"{}\": elapsed ≤ {} ms", d.name, d.max_ms)
            }
            Check::Duration(d) => format!("\"{}\": no limit (duration 0)", d.name),
            Check::Size(s) => format!(
                "\"{}\": {} {} {} bytes",
                s.name,
                s.field.describe(),
                s.operator.words().0,
                s.size
            ),
            Check::JsonPath(j) => {
                let (yes, no) = if !j.validate {
                    ("exists".to_string(), "does not exist".to_string())
                } else if j.expect_null {
                    ("is null".to_string(), "is not null".to_string())
                } else if j.is_regex {
                    (
                        format!("matches /{}/", j.expected),
                        format!("does not match /{}/", j.expected),
                    )
                } else {
                    (
                        format!("equals {}", j.expected),
                        format!("does not equal {}", j.expected),
                    )
                };
                let verb = if j.invert { no } else { yes };
                format!("\"{}\": JSON path {} {verb}", j.name, j.path.text)
            }
        }
    }
}

/// A number as `MessageFormat` prints a `Long` in an English locale: `1,234,567`.
pub(crate) fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One Duration Assertion.
#[derive(Debug, Clone)]
pub struct DurationCheck {
    /// The element's `testname`.
    pub name: String,
    /// `DurationAssertion.duration`, ms; 0 or less disables the check (as in JMeter).
    pub max_ms: i64,
}

impl DurationCheck {
    /// JMeter's `DurationAssertion.getResult`: fails when the elapsed time exceeds the limit.
    fn check(&self, r: &Response<'_>) -> Option<String> {
        (self.max_ms > 0 && r.elapsed_ms > self.max_ms).then(|| {
            format!(
                "The operation lasted too long: It took {} milliseconds, but should not have \
                 lasted longer than {} milliseconds.",
                grouped(r.elapsed_ms),
                grouped(self.max_ms)
            )
        })
    }
}

/// `SizeAssertion.operator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeOperator {
    /// 1: `=`.
    Equal,
    /// 2: `!=`.
    NotEqual,
    /// 3: `>`.
    Greater,
    /// 4: `<`.
    Less,
    /// 5: `>=`.
    GreaterOrEqual,
    /// 6: `<=`.
    LessOrEqual,
}

impl SizeOperator {
    /// The operator for JMeter's code 1–6.
    pub fn from_code(code: i64) -> Option<SizeOperator> {
        Some(match code {
            1 => SizeOperator::Equal,
            2 => SizeOperator::NotEqual,
            3 => SizeOperator::Greater,
            4 => SizeOperator::Less,
            5 => SizeOperator::GreaterOrEqual,
            6 => SizeOperator::LessOrEqual,
            _ => return None,
        })
    }

    fn holds(self, actual: i64, allowed: i64) -> bool {
        match self {
            SizeOperator::Equal => actual == allowed,
            SizeOperator::NotEqual => actual != allowed,
            SizeOperator::Greater => actual > allowed,
            SizeOperator::Less => actual < allowed,
            SizeOperator::GreaterOrEqual => actual >= allowed,
            SizeOperator::LessOrEqual => actual <= allowed,
        }
    }

    /// The symbol for `explain`, and `size_assertion_comparator_error_*` for the message.
    fn words(self) -> (&'static str, &'static str) {
        match self {
            SizeOperator::Equal => ("=", "been equal to"),
            SizeOperator::NotEqual => ("!=", "not been equal to"),
            SizeOperator::Greater => (">", "been greater than"),
            SizeOperator::Less => ("<", "been less than"),
            SizeOperator::GreaterOrEqual => (">=", "been greater or equal to"),
            SizeOperator::LessOrEqual => ("<=", "been less than or equal to"),
        }
    }
}

/// What a Size Assertion measures (`Assertion.test_field`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeField {
    /// `SizeAssertion.response_network_size` (also an empty field): headers + body bytes.
    NetworkSize,
    /// `SizeAssertion.response_headers`: header bytes.
    Headers,
    /// `SizeAssertion.response_data`: body bytes as received.
    Body,
    /// `SizeAssertion.response_code`: characters of the code.
    Code,
    /// `SizeAssertion.response_message`: characters of the message.
    Message,
}

impl SizeField {
    /// The field a `Assertion.test_field` value names; `None` for unknown values.
    pub fn from_property(value: &str) -> Option<SizeField> {
        Some(match value.trim() {
            "" | "SizeAssertion.response_network_size" => SizeField::NetworkSize,
            "SizeAssertion.response_headers" => SizeField::Headers,
            "SizeAssertion.response_data" => SizeField::Body,
            "SizeAssertion.response_code" => SizeField::Code,
            "SizeAssertion.response_message" => SizeField::Message,
            _ => return None,
        })
    }

    /// The measured size; texts count UTF-16 units as Java's `String.length()`.
    fn measure(self, r: &Response<'_>) -> i64 {
        let chars = |s: &str| s.encode_utf16().count() as i64;
        match self {
            SizeField::NetworkSize => r.header_bytes + r.body_bytes,
            SizeField::Headers => r.header_bytes,
            SizeField::Body => r.body_bytes,
            SizeField::Code => chars(r.code),
            SizeField::Message => chars(r.message),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            SizeField::NetworkSize => "network size (headers + body)",
            SizeField::Headers => "header size",
            SizeField::Body => "body size",
            SizeField::Code => "response code length",
            SizeField::Message => "response message length",
        }
    }
}

/// One Size Assertion.
#[derive(Debug, Clone)]
pub struct SizeCheck {
    /// The element's `testname`.
    pub name: String,
    /// `SizeAssertion.size`, bytes.
    pub size: i64,
    /// `SizeAssertion.operator`.
    pub operator: SizeOperator,
    /// `Assertion.test_field`.
    pub field: SizeField,
}

impl SizeCheck {
    /// JMeter's `SizeAssertion.getResult`.
    fn check(&self, r: &Response<'_>) -> Option<String> {
        let actual = self.field.measure(r);
        (!self.operator.holds(actual, self.size)).then(|| {
            format!(
                "The result was the wrong size: It was {} bytes, but should have {} {} bytes.",
                grouped(actual),
                self.operator.words().1,
                grouped(self.size)
            )
        })
    }
}

/// One JSON Assertion (`JSONPathAssertion`).
#[derive(Debug, Clone)]
pub struct JsonPathCheck {
    /// The element's `testname`.
    pub name: String,
    /// `JSON_PATH`.
    pub path: JsonQuery,
    /// `EXPECTED_VALUE`.
    pub expected: String,
    /// `JSONVALIDATION`: compare the value (otherwise only its existence is checked).
    pub validate: bool,
    /// `EXPECT_NULL`.
    pub expect_null: bool,
    /// `INVERT`.
    pub invert: bool,
    /// `ISREGEX` (JMeter's default when absent: true).
    pub is_regex: bool,
    /// `EXPECTED_VALUE` as a whole-value regex, when `is_regex`.
    regex: Option<Regex>,
    /// `EXPECTED_VALUE` parsed as JSON (json-smart's `JSONValue.parse`), when not `is_regex`.
    expected_value: Value,
}

impl JsonPathCheck {
    /// Builds the check; `Err` carries the regex error when `EXPECTED_VALUE` is used as a regex
    /// and is not a valid one.
    pub fn new(
        name: String,
        path: JsonQuery,
        expected: String,
        validate: bool,
        expect_null: bool,
        invert: bool,
        is_regex: bool,
    ) -> Result<JsonPathCheck, String> {
        let regex = if is_regex && validate {
            // ORO's Perl5Matcher.matches: the whole value must match.
            let re = Regex::new(&format!(r"\A(?:{expected})\z")).map_err(|e| e.to_string())?;
            Some(re)
        } else {
            None
        };
        let expected_value = permissive_json(&expected);
        Ok(JsonPathCheck {
            name,
            path,
            expected,
            validate,
            expect_null,
            invert,
            is_regex,
            regex,
            expected_value,
        })
    }

    /// JMeter's `JSONPathAssertion.getResult`.
    fn check(&self, r: &Response<'_>) -> Option<String> {
        if r.body.is_empty() {
            return Some("Response was null".to_string());
        }
        let outcome = self.do_assert(r.body);
        if !self.invert {
            return outcome.err();
        }
        let path = &self.path.text;
        outcome
            .ok()
            .map(|()| match (self.validate, self.expect_null) {
                (true, true) => format!("Failed that JSONPath {path} not matches null"),
                (true, false) => {
                    format!("Failed that JSONPath {path} not matches {}", self.expected)
                }
                (false, _) => format!("Failed that JSONPath not exists: {path}"),
            })
    }

    /// `doAssert`: `Err` holds the failure message.
    fn do_assert(&self, body: &str) -> Result<(), String> {
        let doc: Value = serde_json::from_str(body).map_err(|e| format!("Invalid JSON: {e}"))?;
        let value = self
            .path
            .read(&doc)
            .ok_or_else(|| format!("No results for path: {}", self.path.text))?;
        if !self.validate {
            if matches!(&value, Value::Array(a) if a.is_empty()) && !self.path.is_definite() {
                return Err(format!(
                    "JSONPath is indefinite and the extracted Value is an empty Array. Please use \
                     an assertion value, to be sure to get a correct result. {}",
                    self.expected
                ));
            }
            return Ok(());
        }
        let matched = match &value {
            Value::Array(items) => self.array_matched(items, &value),
            v => (self.expect_null && v.is_null()) || self.is_equals(v),
        };
        if matched {
            Ok(())
        } else if self.expect_null {
            Err(format!(
                "Value expected to be null, but found '{}'",
                java_to_string(&value)
            ))
        } else if self.is_regex {
            Err(format!(
                "Value expected to match regexp '{}', but it did not match: '{}'",
                self.expected,
                object_to_string(&value)
            ))
        } else {
            Err(format!(
                "Value expected to be '{}', but found '{}'",
                self.expected,
                object_to_string(&value)
            ))
        }
    }

    /// `arrayMatched`: `[]` expected of an empty array, or any element matching, or the whole
    /// array matching.
    fn array_matched(&self, items: &[Value], whole: &Value) -> bool {
        if items.is_empty() && self.expected == "[]" {
            return true;
        }
        items
            .iter()
            .any(|v| (v.is_null() && self.expect_null) || self.is_equals(v))
            || self.is_equals(whole)
    }

    /// `isEquals`: the regex against `objectToString`, else equality with the parsed expected
    /// value (an integer never equals a decimal, as `Integer.equals(Double)` in Java).
    fn is_equals(&self, v: &Value) -> bool {
        match &self.regex {
            Some(re) => re.is_match(&object_to_string(v)),
            None if self.is_regex => false,
            None => self.expected_value == *v,
        }
    }
}

/// json-smart's `JSONValue.parse` of an expected value, approximated: strict JSON first; then a
/// single-quoted string; anything else is the (trimmed) text as a string; empty text is `null`.
fn permissive_json(text: &str) -> Value {
    let t = text.trim();
    if t.is_empty() {
        return Value::Null;
    }
    if let Ok(v) = serde_json::from_str(t) {
        return v;
    }
    match t.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        Some(inner) => Value::String(inner.to_string()),
        None => Value::String(t.to_string()),
    }
}

/// `JSONPathAssertion.objectToString`: `null`, objects as JSON, decimals through
/// `DecimalFormat("#.#")`, everything else by `toString()` (arrays as JSON).
fn object_to_string(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Object(_) => json_smart(v),
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => {
            n.as_f64().map_or_else(|| n.to_string(), decimal_format)
        }
        other => java_to_string(other),
    }
}

/// Java's `toString()` of the value Jayway returns (for `String.format("%s")`): strings
/// unquoted, arrays as JSON (`JSONArray`), objects as `{key=value, …}` (`LinkedHashMap`).
fn java_to_string(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n),
        Value::Array(_) => json_smart(v),
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}={}", java_to_string(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    fn user() -> crate::text::template::UserCtx {
        crate::text::template::UserCtx::new(std::collections::HashMap::new(), 1)
    }

    use super::*;

    fn resp(elapsed_ms: i64, header_bytes: i64, body_bytes: i64) -> Response<'static> {
        Response {
            code: "200",
            message: "OK é",
            elapsed_ms,
            header_bytes,
            body_bytes,
            ..Response::default()
        }
    }

    #[test]
    fn duration_message_is_jmeters() {
        let d = |max_ms| {
            Check::Duration(DurationCheck {
                name: "D".into(),
                max_ms,
            })
        };
        assert_eq!(d(1000).check(&resp(1000, 0, 0), &mut user()), None);
        assert_eq!(
            d(1000).check(&resp(1234, 0, 0), &mut user()).unwrap(),
            "The operation lasted too long: It took 1,234 milliseconds, but should not have \
             lasted longer than 1,000 milliseconds."
        );
        assert_eq!(
            d(0).check(&resp(99_999, 0, 0), &mut user()),
            None,
            "0 disables the check"
        );
        assert!(!d(1).needs_body() && !d(1).assume_success());
    }

    #[test]
    fn size_operators_and_fields() {
        // Network size = 150 header bytes + 850 body bytes = 1,000.
        let r = resp(0, 150, 850);
        let size = |op: i64, size: i64, field: SizeField| {
            let operator = SizeOperator::from_code(op).unwrap();
            Check::Size(SizeCheck {
                name: "S".into(),
                size,
                operator,
                field,
            })
            .check(&r, &mut user())
        };
        let cases = [
            (1, 1000, None),
            (1, 999, Some("been equal to 999")),
            (2, 999, None),
            (2, 1000, Some("not been equal to 1,000")),
            (3, 999, None),
            (3, 1000, Some("been greater than 1,000")),
            (4, 1001, None),
            (4, 1000, Some("been less than 1,000")),
            (5, 1000, None),
            (5, 1001, Some("been greater or equal to 1,001")),
            (6, 1000, None),
            (6, 999, Some("been less than or equal to 999")),
        ];
        for (op, n, want) in cases {
            let want = want.map(|w| {
                format!(
                    "The result was the wrong size: It was 1,000 bytes, but should have {w} bytes."
                )
            });
            assert_eq!(
                size(op, n, SizeField::NetworkSize),
                want,
                "operator {op}, size {n}"
            );
        }
        assert_eq!(SizeOperator::from_code(7), None);
        assert_eq!(size(1, 150, SizeField::Headers), None);
        assert_eq!(size(1, 850, SizeField::Body), None);
        assert_eq!(size(1, 3, SizeField::Code), None);
        // "OK é": four UTF-16 units.
        assert_eq!(size(1, 4, SizeField::Message), None);
        assert_eq!(SizeField::from_property(""), Some(SizeField::NetworkSize));
        assert_eq!(SizeField::from_property("Assertion.response_data"), None);
        let n = [0, 999, -1234, 1_234_567].map(grouped);
        assert_eq!(n, ["0", "999", "-1,234", "1,234,567"]);
    }

    /// (JSONVALIDATION, EXPECT_NULL, INVERT, ISREGEX).
    type Flags = (bool, bool, bool, bool);
    /// (JSON_PATH, EXPECTED_VALUE, flags, the failure message expected).
    type Case<'a> = (&'a str, &'a str, Flags, Option<&'a str>);

    fn json(path: &str, expected: &str, flags: Flags) -> Check {
        let (validate, expect_null, invert, is_regex) = flags;
        let q = JsonQuery::parse(path).unwrap();
        let c = JsonPathCheck::new(
            "J".into(),
            q,
            expected.into(),
            validate,
            expect_null,
            invert,
            is_regex,
        );
        Check::JsonPath(c.unwrap())
    }

    fn body(text: &str) -> Response<'_> {
        Response {
            body: text,
            ..Response::default()
        }
    }

    const DOC: &str =
        r#"{"id":7,"name":"ann","price":2.50,"tags":[],"ids":[1,2],"gone":null,"o":{"k":"v/w"}}"#;
    const EXISTS: Flags = (false, false, false, true);
    const EQUALS: Flags = (true, false, false, false);
    const REGEX: Flags = (true, false, false, true);
    const NULL: Flags = (true, true, false, false);

    fn run_cases(cases: &[Case<'_>]) {
        for (path, expected, flags, want) in cases {
            let got = json(path, expected, *flags).check(&body(DOC), &mut user());
            assert_eq!(got.as_deref(), *want, "{path} / {expected} / {flags:?}");
        }
    }

    #[test]
    fn json_assertion_existence_and_values() {
        let indefinite = "JSONPath is indefinite and the extracted Value is an empty Array. Please \
                          use an assertion value, to be sure to get a correct result. x";
        run_cases(&[
            ("$.id", "", EXISTS, None),
            // A definite path to [] exists; an indefinite one finding nothing fails.
            ("$.tags", "", EXISTS, None),
            ("$.tags[*]", "x", EXISTS, Some(indefinite)),
            ("$.nope", "", EXISTS, Some("No results for path: $.nope")),
            ("$.id", "7", EQUALS, None),
            // EXPECTED_VALUE goes through JSONValue.parse: unquoted text is a string.
            ("$.name", "ann", EQUALS, None),
            ("$.name", "\"ann\"", EQUALS, None),
            ("$.ids", "[1,2]", EQUALS, None),
            ("$.ids", "2", EQUALS, None),
            ("$.tags", "[]", EQUALS, None),
            ("$.price", "2.5", EQUALS, None),
            // Integer.equals(Double) is false in Java.
            (
                "$.id",
                "7.0",
                EQUALS,
                Some("Value expected to be '7.0', but found '7'"),
            ),
            (
                "$.o",
                "{}",
                EQUALS,
                Some(r#"Value expected to be '{}', but found '{"k":"v\/w"}'"#),
            ),
            ("$.name", "a.n", REGEX, None),
            // objectToString formats doubles with DecimalFormat("#.#"): 2.50 → 2.5.
            ("$.price", r"2\.5", REGEX, None),
            (
                "$.name",
                "a",
                REGEX,
                Some("Value expected to match regexp 'a', but it did not match: 'ann'"),
            ),
            ("$..id", "[0-9]", REGEX, None),
            ("$.gone", "", NULL, None),
            // String.format("%s") of a Java map and of a Double.
            (
                "$.o",
                "",
                NULL,
                Some("Value expected to be null, but found '{k=v/w}'"),
            ),
            (
                "$.price",
                "",
                NULL,
                Some("Value expected to be null, but found '2.5'"),
            ),
        ]);
    }

    #[test]
    fn json_assertion_invert_and_bodies() {
        const INV_EXISTS: Flags = (false, false, true, false);
        const INV_EQUALS: Flags = (true, false, true, false);
        const INV_NULL: Flags = (true, true, true, false);
        run_cases(&[
            ("$.nope", "", INV_EXISTS, None),
            (
                "$.id",
                "",
                INV_EXISTS,
                Some("Failed that JSONPath not exists: $.id"),
            ),
            (
                "$.id",
                "7",
                INV_EQUALS,
                Some("Failed that JSONPath $.id not matches 7"),
            ),
            ("$.id", "8", INV_EQUALS, None),
            (
                "$.gone",
                "",
                INV_NULL,
                Some("Failed that JSONPath $.gone not matches null"),
            ),
        ]);
        // setResultForNull, inverted or not; a body that is not JSON fails (passes inverted).
        for flags in [EXISTS, INV_EXISTS] {
            let got = json("$.id", "", flags).check(&body(""), &mut user());
            assert_eq!(got.as_deref(), Some("Response was null"));
        }
        let got = json("$.id", "", EXISTS)
            .check(&body("<html>"), &mut user())
            .unwrap();
        assert!(got.starts_with("Invalid JSON: "), "{got}");
        assert_eq!(
            json("$.id", "", INV_EXISTS).check(&body("<html>"), &mut user()),
            None
        );
        assert!(json("$.id", "", EXISTS).needs_body());
        // EXPECTED_VALUE is compiled as a regex only when it is used as one.
        let q = JsonQuery::parse("$.a").unwrap();
        let new = |validate| {
            JsonPathCheck::new(
                "J".into(),
                q.clone(),
                "(".into(),
                validate,
                false,
                false,
                true,
            )
        };
        assert!(new(true).is_err() && new(false).is_ok());
    }
}
