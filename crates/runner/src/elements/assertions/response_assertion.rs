//! Response Assertions evaluated JMeter's way (`ResponseAssertion.evaluateResponse` in 5.x):
//! the field to test, the test-type bit flags (MATCH=1, CONTAINS=2, NOT=4, EQUALS=8,
//! SUBSTRING=16, OR=32) and JMeter's failure texts, including the `[[[…]]]` diff of EQUALS.
//!
//! Fields: response data, code, message, response headers, request headers and the URL
//! (`Assertion.sample_label`). `Assertion.request_data` and
//! `Assertion.response_data_as_document` are refused when the plan is compiled.

use regex::Regex;

use crate::elements::response::Response;
use crate::text::template::{Template, UserCtx};

/// Test-type bit: the whole field matches the regex.
pub(crate) const MATCH: i64 = 1;
/// Test-type bit: the field contains a match of the regex.
pub(crate) const CONTAINS: i64 = 2;
/// Test-type bit: negate each pattern's result.
pub(crate) const NOT: i64 = 4;
/// Test-type bit: the field equals the pattern.
pub(crate) const EQUALS: i64 = 8;
/// Test-type bit: the field contains the pattern as plain text.
pub(crate) const SUBSTRING: i64 = 16;
/// Test-type bit: one passing pattern is enough.
pub(crate) const OR: i64 = 32;

/// Width of the text kept on each side of an EQUALS difference (JMeter's
/// `assertion.equals_section_diff_len` default).
const EQUALS_SECTION_DIFF_LEN: usize = 100;

/// Which part of the response an assertion tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestField {
    /// `Assertion.response_data`: the body as text.
    ResponseData,
    /// `Assertion.response_code`.
    ResponseCode,
    /// `Assertion.response_message`.
    ResponseMessage,
    /// `Assertion.response_headers`: the status line and header lines.
    ResponseHeaders,
    /// `Assertion.request_headers`.
    RequestHeaders,
    /// `Assertion.sample_label`: despite the name, the URL (JMeter's "URL Sampled"). JMeter
    /// also tests the URL when `Assertion.test_field` is empty or unknown.
    SampleLabel,
}

/// One Response Assertion, patterns already substituted and compiled.
#[derive(Debug, Clone)]
pub struct ResponseAssertion {
    /// The assertion's `testname`.
    pub name: String,
    /// What it tests.
    pub field: TestField,
    /// `Assertion.test_type` bit flags.
    pub test_type: i64,
    /// `Asserion.test_strings` (sic), after substitution.
    pub patterns: Vec<String>,
    /// `Assertion.assume_success`: the HTTP status does not fail the sample.
    pub assume_success: bool,
    /// `Assertion.custom_message`, used instead of JMeter's text when not empty.
    pub custom_message: Option<String>,
    /// Compiled regexes (for MATCH: anchored), one per pattern; empty when no regex is needed.
    regexes: Vec<Regex>,
    /// Patterns that hold run-time references (`${var}` set by an extractor or a CSV Data
    /// Set), rendered for each sample; empty when every pattern is fixed.
    templates: Vec<Template>,
}

impl ResponseAssertion {
    /// Builds an assertion; `Err(pattern)` names a pattern that is not a valid regex.
    pub fn new(
        name: String,
        field: TestField,
        test_type: i64,
        patterns: Vec<String>,
        assume_success: bool,
        custom_message: Option<String>,
    ) -> Result<ResponseAssertion, String> {
        let mut regexes = Vec::new();
        // JMeter tries CONTAINS, then EQUALS, then SUBSTRING, and otherwise matches the whole
        // field (MATCH, or a test type without any of these bits).
        let contains = test_type & CONTAINS != 0;
        if contains || test_type & (EQUALS | SUBSTRING) == 0 {
            for p in &patterns {
                let src = if contains {
                    p.clone()
                } else {
                    format!(r"\A(?:{p})\z")
                };
                regexes.push(Regex::new(&src).map_err(|_| p.clone())?);
            }
        }
        Ok(ResponseAssertion {
            name,
            field,
            test_type,
            patterns,
            assume_success,
            custom_message,
            regexes,
            templates: Vec::new(),
        })
    }

    /// An assertion whose patterns are rendered per sample from `templates` (as JMeter
    /// substitutes variables in the pattern before each test); `sources` are the patterns as
    /// written, for `explain`.
    pub(crate) fn with_templates(mut self, sources: Vec<String>, templates: Vec<Template>) -> Self {
        self.patterns = sources;
        self.regexes.clear();
        self.templates = templates;
        self
    }

    /// `None` when the response passes, else the failure message; run-time patterns are
    /// rendered for `user` first (a pattern that is then not a valid regex fails the sample).
    pub(crate) fn check_for(&self, response: &Response<'_>, user: &mut UserCtx) -> Option<String> {
        if self.templates.is_empty() {
            return self.check(response);
        }
        let raw = |v: &str| v.to_string();
        let patterns = self
            .templates
            .iter()
            .map(|t| t.render(user, &raw))
            .collect();
        match ResponseAssertion::new(
            self.name.clone(),
            self.field,
            self.test_type,
            patterns,
            self.assume_success,
            self.custom_message.clone(),
        ) {
            Ok(a) => a.check(response),
            Err(bad) => Some(format!(
                "Bad test configuration: \"{bad}\" is not a valid regex"
            )),
        }
    }

    /// A one-line description for `explain`.
    pub fn describe(&self) -> String {
        let field = self.field_word();
        let op = operator_words(self.test_type & !OR).trim();
        let join = if self.test_type & OR != 0 {
            " or "
        } else {
            " and "
        };
        let pats: Vec<String> = self.patterns.iter().map(|p| format!("/{p}/")).collect();
        format!("\"{}\": {field} {op} {}", self.name, pats.join(join))
    }

    /// Whether the response body must be kept for this assertion.
    pub fn needs_body(&self) -> bool {
        self.field == TestField::ResponseData
    }

    /// `None` when the response passes, else the failure message.
    pub(crate) fn check(&self, response: &Response<'_>) -> Option<String> {
        let to_check = match self.field {
            TestField::ResponseData => response.body,
            TestField::ResponseCode => response.code,
            TestField::ResponseMessage => response.message,
            TestField::ResponseHeaders => response.headers,
            TestField::RequestHeaders => response.request_headers,
            TestField::SampleLabel => response.url,
        };
        let not = self.test_type & NOT != 0;
        let or = self.test_type & OR != 0;
        if to_check.is_empty() {
            // "Not should always succeed against an empty result".
            return (!not).then(|| "Response was null".to_string());
        }
        let mut or_messages = Vec::new();
        for (i, pattern) in self.patterns.iter().enumerate() {
            let found = if self.test_type & CONTAINS != 0 {
                self.regexes.get(i).is_some_and(|r| r.is_match(to_check))
            } else if self.test_type & EQUALS != 0 {
                to_check == pattern
            } else if self.test_type & SUBSTRING != 0 {
                to_check.contains(pattern.as_str())
            } else {
                self.regexes.get(i).is_some_and(|r| r.is_match(to_check))
            };
            let pass = found != not;
            if or {
                if pass {
                    return None;
                }
                or_messages.push(self.fail_text(pattern, to_check));
            } else if !pass {
                return Some(self.custom_or(|| self.fail_text(pattern, to_check)));
            }
        }
        if or {
            // Collectors.joining("\t", "", "\t"): a trailing tab, and just "\t" when there
            // were no patterns at all.
            return Some(self.custom_or(|| {
                let mut joined = or_messages.join("\t");
                joined.push('\t');
                joined
            }));
        }
        None
    }

    fn custom_or(&self, default: impl FnOnce() -> String) -> String {
        match &self.custom_message {
            Some(m) if !m.is_empty() => m.clone(),
            _ => default(),
        }
    }

    /// The field as JMeter's `getFailText` names it.
    fn field_word(&self) -> &'static str {
        match self.field {
            TestField::ResponseData => "text",
            TestField::ResponseCode => "code",
            TestField::ResponseMessage => "message",
            TestField::ResponseHeaders => "headers",
            TestField::RequestHeaders => "request headers",
            TestField::SampleLabel => "URL",
        }
    }

    /// The operator words of JMeter's `getFailText`, which switches on the whole test type:
    /// with the OR bit set none of its cases match and the text is " expected something
    /// using ".
    fn operator(&self) -> &'static str {
        operator_words(self.test_type)
    }

    /// JMeter's `getFailText`.
    fn fail_text(&self, pattern: &str, to_check: &str) -> String {
        let mut s = format!("Test failed: {}{}/", self.field_word(), self.operator());
        if self.test_type & EQUALS != 0 {
            s.push_str(&equals_comparison_text(to_check, pattern));
        } else {
            s.push_str(pattern);
        }
        s.push('/');
        s
    }
}

/// `getFailText`'s operator words for `test_type`.
fn operator_words(test_type: i64) -> &'static str {
    match test_type {
        CONTAINS | SUBSTRING => " expected to contain ",
        t if t == NOT | CONTAINS || t == NOT | SUBSTRING => " expected not to contain ",
        MATCH => " expected to match ",
        t if t == NOT | MATCH => " expected not to match ",
        EQUALS => " expected to equal ",
        t if t == NOT | EQUALS => " expected not to equal ",
        _ => " expected something using ",
    }
}

/// Keeps at most [`EQUALS_SECTION_DIFF_LEN`] characters, from the left (`right` = false keeps
/// the end) with `...` marking the cut, as JMeter's `trunc`.
fn trunc(right: bool, chars: &[char]) -> String {
    let n = EQUALS_SECTION_DIFF_LEN;
    if chars.len() <= n {
        chars.iter().collect()
    } else if right {
        let mut s: String = chars[..n].iter().collect();
        s.push_str("...");
        s
    } else {
        let mut s = "...".to_string();
        s.extend(&chars[chars.len() - n..]);
        s
    }
}

/// JMeter's `equalsComparisonText`: the received and expected text with the differing middle
/// part in `[[[…]]]`, padded to the same width.
fn equals_comparison_text(received: &str, comparison: &str) -> String {
    let rec: Vec<char> = received.chars().collect();
    let comp: Vec<char> = comparison.chars().collect();
    let min = rec.len().min(comp.len());
    let first_diff = (0..min).find(|&i| rec[i] != comp[i]).unwrap_or(min);
    let starting = if first_diff == 0 {
        String::new()
    } else {
        trunc(false, &rec[..first_diff])
    };
    let mut last_rec = rec.len() as isize - 1;
    let mut last_comp = comp.len() as isize - 1;
    let fd = first_diff as isize;
    while last_rec > fd && last_comp > fd && rec[last_rec as usize] == comp[last_comp as usize] {
        last_rec -= 1;
        last_comp -= 1;
    }
    let ending_start = (last_rec + 1).max(0) as usize;
    let ending = trunc(true, &rec[ending_start.min(rec.len())..]);
    let (mut rec_delta, mut comp_delta) = if ending.is_empty() {
        (
            trunc(true, &rec[first_diff.min(rec.len())..]),
            trunc(true, &comp[first_diff.min(comp.len())..]),
        )
    } else {
        let rec_end = ((last_rec + 1).max(fd)) as usize;
        let comp_end = ((last_comp + 1).max(fd)) as usize;
        (
            trunc(true, &rec[first_diff..rec_end.min(rec.len())]),
            trunc(true, &comp[first_diff..comp_end.min(comp.len())]),
        )
    };
    let (rl, cl) = (rec_delta.chars().count(), comp_delta.chars().count());
    let pad = " ".repeat(rl.abs_diff(cl));
    if rl > cl {
        comp_delta.push_str(&pad);
    } else {
        rec_delta.push_str(&pad);
    }
    format!(
        "\n\n****** received  : {starting}[[[{rec_delta}]]]{ending}\n\n\
         ****** comparison: {starting}[[[{comp_delta}]]]{ending}\n\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assertion(field: TestField, test_type: i64, patterns: &[&str]) -> ResponseAssertion {
        let patterns = patterns.iter().map(|p| p.to_string()).collect();
        ResponseAssertion::new("A".into(), field, test_type, patterns, false, None).unwrap()
    }

    const R404: Response<'static> = Response {
        code: "404",
        message: "Not Found",
        body: "no such page",
        headers: "",
        request_headers: "",
        url: "",
        elapsed_ms: 0,
        body_bytes: 12,
        header_bytes: 0,
    };

    #[test]
    fn equals_failure_texts_are_jmeters() {
        // Both texts as real JMeter runs wrote them (jmeter-upstream fixtures).
        let code = assertion(TestField::ResponseCode, EQUALS, &["200"]);
        assert_eq!(
            code.check(&R404).unwrap(),
            "Test failed: code expected to equal /\n\n****** received  : [[[404]]]\n\n\
             ****** comparison: [[[200]]]\n\n/"
        );
        let msg = assertion(TestField::ResponseMessage, EQUALS, &["OK"]);
        assert_eq!(
            msg.check(&R404).unwrap(),
            "Test failed: message expected to equal /\n\n****** received  : [[[Not Found]]]\n\n\
             ****** comparison: [[[OK       ]]]\n\n/"
        );
        let prefix = assertion(TestField::ResponseData, EQUALS, &["no such pig"]);
        assert!(
            prefix
                .check(&R404)
                .unwrap()
                .contains("received  : no such p[[[age]]]")
        );
    }

    #[test]
    fn contains_match_substring_not_and_or() {
        let body = |t, p: &[&str]| assertion(TestField::ResponseData, t, p).check(&R404);
        assert_eq!(body(CONTAINS, &["such"]), None);
        assert_eq!(body(CONTAINS, &["s.ch", "page$"]), None);
        assert_eq!(
            body(CONTAINS, &["found"]).unwrap(),
            "Test failed: text expected to contain /found/"
        );
        assert_eq!(body(MATCH, &["no.*"]), None);
        assert!(body(MATCH, &["such"]).is_some());
        assert_eq!(body(SUBSTRING, &["h p"]), None);
        assert_eq!(
            body(SUBSTRING, &["s.ch"]).unwrap(),
            "Test failed: text expected to contain /s.ch/"
        );
        assert_eq!(
            body(NOT | CONTAINS, &["page"]).unwrap(),
            "Test failed: text expected not to contain /page/"
        );
        assert_eq!(body(NOT | SUBSTRING, &["xyz"]), None);
        assert_eq!(body(OR | SUBSTRING, &["xyz", "page"]), None);
        // getFailText switches on the whole test type (ResponseAssertion.java, rel/v5.6.3), so
        // with the OR bit no case matches: " expected something using ". Joined by tabs, with a
        // trailing tab (Collectors.joining("\t", "", "\t")).
        assert_eq!(
            body(OR | SUBSTRING, &["xyz", "abc"]).unwrap(),
            "Test failed: text expected something using /xyz/\tTest failed: text expected something using /abc/\t"
        );
        assert_eq!(body(OR | SUBSTRING, &[]).unwrap(), "\t");
        let empty = Response { body: "", ..R404 };
        let a = assertion(TestField::ResponseData, CONTAINS, &["x"]);
        assert_eq!(a.check(&empty).unwrap(), "Response was null");
        let n = assertion(TestField::ResponseData, NOT | CONTAINS, &["x"]);
        assert_eq!(n.check(&empty), None);
    }

    #[test]
    fn headers_request_headers_and_url_fields() {
        let r = Response {
            headers: "HTTP/1.1 200 OK\nContent-Type: application/json\n",
            request_headers: "Accept: text/html\n",
            url: "http://host/p?q=1",
            ..R404
        };
        let check = |f, t, p: &[&str]| assertion(f, t, p).check(&r);
        assert_eq!(
            check(TestField::ResponseHeaders, SUBSTRING, &["application/json"]),
            None
        );
        assert_eq!(
            check(TestField::ResponseHeaders, CONTAINS, &["text/xml"]).unwrap(),
            "Test failed: headers expected to contain /text/xml/"
        );
        assert_eq!(
            check(TestField::RequestHeaders, NOT | SUBSTRING, &["text/html"]).unwrap(),
            "Test failed: request headers expected not to contain /text/html/"
        );
        assert_eq!(
            check(TestField::SampleLabel, MATCH, &[r"http://host/p\?q=\d"]),
            None
        );
        assert_eq!(
            check(TestField::SampleLabel, MATCH, &["/p"]).unwrap(),
            "Test failed: URL expected to match //p/"
        );
        // No type bit at all: JMeter's last branch matches the whole field.
        assert_eq!(check(TestField::ResponseCode, 0, &["40."]), None);
        assert!(!assertion(TestField::ResponseHeaders, CONTAINS, &["x"]).needs_body());
        assert!(assertion(TestField::ResponseData, CONTAINS, &["x"]).needs_body());
    }

    #[test]
    fn bad_regex_is_reported() {
        let r = ResponseAssertion::new(
            "A".into(),
            TestField::ResponseData,
            CONTAINS,
            vec!["(".into()],
            false,
            None,
        );
        assert_eq!(r.unwrap_err(), "(");
    }
}
