//! Response Assertions evaluated JMeter's way (`ResponseAssertion.evaluateResponse` in 5.x):
//! the field to test, the test-type bit flags (MATCH=1, CONTAINS=2, NOT=4, EQUALS=8,
//! SUBSTRING=16, OR=32) and JMeter's failure texts, including the `[[[…]]]` diff of EQUALS.

use regex::Regex;

/// Test-type bit: the whole field matches the regex.
pub const MATCH: i64 = 1;
/// Test-type bit: the field contains a match of the regex.
pub const CONTAINS: i64 = 2;
/// Test-type bit: negate each pattern's result.
pub const NOT: i64 = 4;
/// Test-type bit: the field equals the pattern.
pub const EQUALS: i64 = 8;
/// Test-type bit: the field contains the pattern as plain text.
pub const SUBSTRING: i64 = 16;
/// Test-type bit: one passing pattern is enough.
pub const OR: i64 = 32;

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
}

/// What an assertion sees of a response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Response<'a> {
    pub code: &'a str,
    pub message: &'a str,
    pub body: &'a str,
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
        if test_type & (CONTAINS | MATCH) != 0 {
            for p in &patterns {
                let src = if test_type & CONTAINS != 0 {
                    p.clone()
                } else {
                    format!("^(?:{p})$")
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
        })
    }

    /// A one-line description for `explain`.
    pub fn describe(&self) -> String {
        let field = self.field_word();
        let op = self.operator().trim();
        let join = if self.test_type & OR != 0 {
            " or "
        } else {
            " and "
        };
        let pats: Vec<String> = self.patterns.iter().map(|p| format!("/{p}/")).collect();
        format!("\"{}\": {field} {op} {}", self.name, pats.join(join))
    }

    /// `None` when the response passes, else the failure message.
    pub(crate) fn check(&self, response: &Response<'_>) -> Option<String> {
        let to_check = match self.field {
            TestField::ResponseData => response.body,
            TestField::ResponseCode => response.code,
            TestField::ResponseMessage => response.message,
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
        if or && !self.patterns.is_empty() {
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

    fn field_word(&self) -> &'static str {
        match self.field {
            TestField::ResponseData => "text",
            TestField::ResponseCode => "code",
            TestField::ResponseMessage => "message",
        }
    }

    fn operator(&self) -> &'static str {
        match self.test_type & !OR {
            CONTAINS | SUBSTRING => " expected to contain ",
            t if t == NOT | CONTAINS || t == NOT | SUBSTRING => " expected not to contain ",
            MATCH => " expected to match ",
            t if t == NOT | MATCH => " expected not to match ",
            EQUALS => " expected to equal ",
            t if t == NOT | EQUALS => " expected not to equal ",
            _ => " expected something using ",
        }
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
        assert_eq!(
            body(OR | SUBSTRING, &["xyz", "abc"]).unwrap(),
            "Test failed: text expected to contain /xyz/\tTest failed: text expected to contain /abc/\t"
        );
        let empty = Response { body: "", ..R404 };
        let a = assertion(TestField::ResponseData, CONTAINS, &["x"]);
        assert_eq!(a.check(&empty).unwrap(), "Response was null");
        let n = assertion(TestField::ResponseData, NOT | CONTAINS, &["x"]);
        assert_eq!(n.check(&empty), None);
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
