//! Error classes: every sample gets exactly one, derived once at ingest from its response code,
//! response message, failure message and success flag. The rule table is docs/error-classes.md;
//! each row of it has a test below.

/// The class of a sample's outcome (the CodeArts failedTimeout / failedRefused / failedParsed /
/// failedAssert / failedOthers split, plus HTTP status families).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    Success,
    Timeout,
    Refused,
    Parse,
    Assertion,
    Http4xx,
    Http5xx,
    Other,
}

impl ErrorClass {
    /// Every class, in the order of the rule table.
    pub const ALL: [ErrorClass; 8] = [
        ErrorClass::Success,
        ErrorClass::Timeout,
        ErrorClass::Refused,
        ErrorClass::Parse,
        ErrorClass::Assertion,
        ErrorClass::Http4xx,
        ErrorClass::Http5xx,
        ErrorClass::Other,
    ];

    /// The value stored in the `error_class` column.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Success => "success",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Refused => "refused",
            ErrorClass::Parse => "parse",
            ErrorClass::Assertion => "assertion",
            ErrorClass::Http4xx => "http_4xx",
            ErrorClass::Http5xx => "http_5xx",
            ErrorClass::Other => "other",
        }
    }
}

/// Exception names and phrases (in responseCode / responseMessage) meaning "no answer in time".
const TIMEOUT_MARKERS: &[&str] = &[
    "SocketTimeoutException",
    "ConnectTimeoutException",
    "ConnectionPoolTimeoutException",
    "TimeoutException",
    "Read timed out",
    "connect timed out",
];

/// Markers meaning "the connection could not be established".
const REFUSED_MARKERS: &[&str] = &[
    "ConnectException",
    "HttpHostConnectException",
    "NoRouteToHostException",
    "UnknownHostException",
    "Connection refused",
];

/// Markers meaning "an answer came but could not be parsed".
const PARSE_MARKERS: &[&str] = &[
    "ParseException",
    "ProtocolException",
    "MalformedChunkCodingException",
    "TruncatedChunkException",
    "MalformedInputException",
    "JSONException",
    "InvalidJsonException",
];

fn mentions(text: Option<&str>, markers: &[&str]) -> bool {
    text.is_some_and(|t| markers.iter().any(|m| t.contains(m)))
}

/// The numeric HTTP status in a response code, if it is one (`"404"` → 404).
fn http_status(code: Option<&str>) -> Option<u16> {
    let code = code?.trim();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) {
        code.parse().ok()
    } else {
        None
    }
}

/// Derives a sample's error class. Rules, first match wins (docs/error-classes.md):
///
/// 1. successful → `success`
/// 2. code or message names a timeout → `timeout`
/// 3. code or message names a connection failure → `refused`
/// 4. code or message names a parse failure → `parse`
/// 5. HTTP 4xx → `http_4xx`; 6. HTTP 5xx → `http_5xx`
/// 7. HTTP 1xx/2xx/3xx (the server answered normally, so an assertion failed it) → `assertion`
/// 8. no response code but a failure message → `assertion`
/// 9. anything else → `other`
///
/// Transaction samples follow the same rules: in parent mode JMeter gives them the response
/// code of their first failing child, so they get that child's class, and are classified the
/// same way as everything else.
pub fn classify_error(
    success: bool,
    response_code: Option<&str>,
    response_message: Option<&str>,
    failure_message: Option<&str>,
) -> ErrorClass {
    if success {
        return ErrorClass::Success;
    }
    let either =
        |markers: &[&str]| mentions(response_code, markers) || mentions(response_message, markers);
    if either(TIMEOUT_MARKERS) {
        return ErrorClass::Timeout;
    }
    if either(REFUSED_MARKERS) {
        return ErrorClass::Refused;
    }
    if either(PARSE_MARKERS) {
        return ErrorClass::Parse;
    }
    match http_status(response_code) {
        Some(400..=499) => ErrorClass::Http4xx,
        Some(500..=599) => ErrorClass::Http5xx,
        Some(100..=399) => ErrorClass::Assertion,
        Some(_) => ErrorClass::Other,
        None => {
            let no_code = response_code.is_none_or(|c| c.trim().is_empty());
            let has_failure = failure_message.is_some_and(|m| !m.trim().is_empty());
            if no_code && has_failure {
                ErrorClass::Assertion
            } else {
                ErrorClass::Other
            }
        }
    }
}

/// Derives the error class of a k6 HTTP request from k6's `error_code` tag (k6's
/// `lib/netext/httpext/error_codes.go`) and its `status` tag, for the same classes JMeter's
/// rules give (docs/error-classes.md, "k6"):
///
/// - successful → `success`;
/// - 1050 (request timeout), 1211 (dial timeout) → `timeout`;
/// - 1100, 1101 (DNS: no such host), 1210 (dial), 1212 (connection refused) → `refused`, as
///   JMeter's `UnknownHostException` / `ConnectException` are;
/// - 1701 (response body could not be decompressed) → `parse`;
/// - anything else by [`classify_error`]'s status rules on `status`: 4xx → `http_4xx`, 5xx →
///   `http_5xx` (k6 writes `error_code` 1000 + status for them), 1xx–3xx → `assertion` (the
///   server answered and k6's `expected_response` callback failed it), `0` or none → `other`.
pub fn k6_error_class(success: bool, error_code: Option<u32>, status: Option<&str>) -> ErrorClass {
    if success {
        return ErrorClass::Success;
    }
    match error_code {
        Some(1050 | 1211) => ErrorClass::Timeout,
        Some(1100 | 1101 | 1210 | 1212) => ErrorClass::Refused,
        Some(1701) => ErrorClass::Parse,
        _ => classify_error(false, status, None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorClass::*;
    use super::*;

    fn opt(s: &str) -> Option<&str> {
        (!s.is_empty()).then_some(s)
    }

    fn class(success: bool, code: &str, msg: &str, failure: &str) -> ErrorClass {
        classify_error(success, opt(code), opt(msg), opt(failure))
    }

    // One test per row of docs/error-classes.md, with the strings JMeter writes.
    #[test]
    fn rule_1_success_whatever_the_code() {
        assert_eq!(class(true, "200", "OK", ""), Success);
        assert_eq!(class(true, "500", "Internal Server Error", ""), Success);
    }

    #[test]
    fn transactions_follow_the_same_rules() {
        let msg = "Number of samples in transaction : 3, number of failing samples : 1";
        // Parent mode: the code of the first failing child.
        assert_eq!(
            class(
                false,
                "Non HTTP response code: java.net.SocketTimeoutException",
                msg,
                ""
            ),
            Timeout
        );
        assert_eq!(class(false, "500", msg, ""), Http5xx);
        assert_eq!(class(false, "200", msg, ""), Assertion);
        // Non-parent mode in 2.13: a failed transaction has no code.
        assert_eq!(class(false, "", msg, ""), Other);
    }

    #[test]
    fn rule_2_timeouts() {
        assert_eq!(
            class(
                false,
                "Non HTTP response code: java.net.SocketTimeoutException",
                "Non HTTP response message: Read timed out",
                ""
            ),
            Timeout
        );
        assert_eq!(
            class(
                false,
                "Non HTTP response code: org.apache.http.conn.ConnectTimeoutException",
                "Non HTTP response message: Connect to 10.0.0.1:80 failed: connect timed out",
                ""
            ),
            Timeout
        );
    }

    #[test]
    fn rule_3_refused() {
        assert_eq!(
            class(
                false,
                "Non HTTP response code: org.apache.http.conn.HttpHostConnectException",
                "Non HTTP response message: Connection to http://127.0.0.1:1 refused",
                ""
            ),
            Refused
        );
        assert_eq!(
            class(
                false,
                "Non HTTP response code: java.net.ConnectException",
                "Non HTTP response message: Connection refused (Connection refused)",
                ""
            ),
            Refused
        );
        assert_eq!(
            class(
                false,
                "Non HTTP response code: java.net.UnknownHostException",
                "Non HTTP response message: nohost.invalid",
                ""
            ),
            Refused
        );
    }

    #[test]
    fn rule_4_parse() {
        assert_eq!(
            class(
                false,
                "Non HTTP response code: org.apache.http.MalformedChunkCodingException",
                "Non HTTP response message: Bad chunk header",
                ""
            ),
            Parse
        );
        assert_eq!(
            class(
                false,
                "Non HTTP response code: org.apache.http.client.ClientProtocolException",
                "",
                ""
            ),
            Parse
        );
    }

    #[test]
    fn rules_5_6_http_families() {
        assert_eq!(class(false, "404", "Not Found", ""), Http4xx);
        assert_eq!(class(false, "400", "Bad", "Test failed"), Http4xx);
        assert_eq!(class(false, "500", "Internal Server Error", ""), Http5xx);
        assert_eq!(class(false, "503", "", ""), Http5xx);
    }

    #[test]
    fn rule_7_assertion_on_normal_answer() {
        assert_eq!(
            class(
                false,
                "200",
                "OK",
                "Test failed: text expected to contain /x/"
            ),
            Assertion
        );
        // 2.13's default CSV has no failureMessage column: a failed 2xx is still an assertion.
        assert_eq!(class(false, "200", "OK", ""), Assertion);
        assert_eq!(class(false, "302", "Found", ""), Assertion);
    }

    #[test]
    fn rule_8_no_code_with_failure_message() {
        assert_eq!(
            class(false, "", "", "The operation lasted too long"),
            Assertion
        );
    }

    #[test]
    fn rule_9_other() {
        assert_eq!(
            class(
                false,
                "Non HTTP response code: java.io.IOException",
                "Non HTTP response message: stream closed",
                ""
            ),
            Other
        );
        assert_eq!(class(false, "", "", ""), Other);
        assert_eq!(class(false, "666", "Error", ""), Other);
    }

    #[test]
    fn k6_error_codes() {
        assert_eq!(k6_error_class(true, None, Some("200")), Success);
        assert_eq!(k6_error_class(true, Some(1404), Some("404")), Success);
        assert_eq!(k6_error_class(false, Some(1050), Some("0")), Timeout);
        assert_eq!(k6_error_class(false, Some(1211), Some("0")), Timeout);
        assert_eq!(k6_error_class(false, Some(1212), Some("0")), Refused);
        assert_eq!(k6_error_class(false, Some(1101), Some("0")), Refused);
        assert_eq!(k6_error_class(false, Some(1100), Some("0")), Refused);
        assert_eq!(k6_error_class(false, Some(1210), Some("0")), Refused);
        assert_eq!(k6_error_class(false, Some(1701), Some("200")), Parse);
        assert_eq!(k6_error_class(false, Some(1404), Some("404")), Http4xx);
        assert_eq!(k6_error_class(false, Some(1503), Some("503")), Http5xx);
        assert_eq!(k6_error_class(false, None, Some("200")), Assertion);
        assert_eq!(k6_error_class(false, Some(1220), Some("0")), Other);
        assert_eq!(k6_error_class(false, Some(1000), None), Other);
    }
}
