//! The Java Request sampler (`JavaSampler`) running JMeter's own test client
//! `org.apache.jmeter.protocol.java.test.JavaTest` (apache/jmeter tag `v2_13`,
//! `protocol/java/test/JavaTest.java`; unchanged in 5.x), which JMeter's examples and many
//! tutorials use as a stand-in for a real request. Its parameters, substituted per sample:
//! `Sleep_Time` (default 100 ms) and `Sleep_Mask` (default `0xFF`) — it sleeps `Sleep_Time +
//! (currentTimeMillis % Sleep_Mask)` when both are positive, else `Sleep_Time` —, `Label` (empty:
//! the element's name), `ResponseCode`, `ResponseMessage`, `Status` (`OK`, any case, is
//! success), `ResultData` (the body). Numbers are read with `Long.decode` (`0xFF`, `#FF`, octal
//! `017`), anything else is the default. The runner draws the offset uniformly from the same
//! range (`0 … mask − 1`) instead of the clock's milliseconds. It becomes a
//! [`LocalStep`] like the jp@gc Dummy Sampler; any other Java class is refused.

use loadlake_plan::TestElement;

use crate::compile::{Compiler, Scope};
use crate::error::RunnerError;
use crate::model::{Dummy, LocalSampler, LocalStep};

/// The test client the runner implements.
const JAVA_TEST: &str = "org.apache.jmeter.protocol.java.test.JavaTest";

/// Java's `Long.decode`: an optional sign, then `0x` / `0X` / `#` hexadecimal, a leading `0`
/// octal, else decimal; `None` when it is not such a number.
pub(crate) fn long_decode(text: &str) -> Option<i64> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) =
        if let Some(h) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
            (16, h)
        } else if let Some(h) = rest.strip_prefix('#') {
            (16, h)
        } else if rest.len() > 1 && rest.starts_with('0') {
            (8, &rest[1..])
        } else {
            (10, rest)
        };
    if digits.is_empty() || digits.starts_with(['-', '+']) {
        return None;
    }
    let magnitude = i64::from_str_radix(digits, radix).ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

impl Compiler<'_> {
    /// A Java Request running `JavaTest`, as a sample made in the runner.
    pub(crate) fn java_test(
        &mut self,
        e: &TestElement,
        scope: &Scope<'_>,
    ) -> Result<LocalStep, RunnerError> {
        let el = e.name.as_str();
        let class = self.text(e, "classname")?;
        if class.trim() != JAVA_TEST {
            return Err(RunnerError::setting(
                el,
                "classname",
                &class,
                "the native runner runs only JMeter's test client org.apache.jmeter.protocol.java.test.JavaTest; \
                 other Java classes need JMeter",
            ));
        }
        let mut params: Vec<(String, String)> = Vec::new();
        if let Some(list) = e
            .prop_element("arguments")
            .and_then(|a| a.props.get_collection("Arguments.arguments"))
        {
            for a in list.values().filter_map(|p| p.as_element()) {
                let name = a.prop_str("Argument.name").unwrap_or("").to_string();
                let prop = format!("Argument.value ({name})");
                let value =
                    self.eval_deferred(el, &prop, a.prop_str("Argument.value").unwrap_or(""))?;
                params.push((name, value));
            }
        }
        // JavaSamplerContext.getParameter: the last argument of that name wins (a map).
        let param = |name: &str| {
            params
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let long = |name: &str, default: i64| -> Result<i64, RunnerError> {
            match param(name) {
                Some(v) => Ok(long_decode(fixed(el, name, &v)?.trim()).unwrap_or(default)),
                None => Ok(default),
            }
        };
        let sleep = long("Sleep_Time", 100)?;
        let mask = long("Sleep_Mask", 0xFF)?;
        let status = param("Status").unwrap_or_else(|| "OK".to_string());
        fixed(el, "Status", &status)?;
        let response_time = if sleep > 0 && mask > 0 {
            format!("${{__Random({sleep},{})}}", sleep.saturating_add(mask - 1))
        } else {
            sleep.to_string()
        };
        let label = match param("Label").filter(|l| !l.is_empty()) {
            Some(l) => self.name_text(el, &l)?,
            None => self.eval(el, "testname", el)?,
        };
        let t = |c: &Self, name: &str, text: &str| {
            c.template(el, &format!("Argument.value ({name})"), text)
        };
        let text_of = |name: &str| param(name).unwrap_or_default();
        Ok(LocalStep {
            label,
            sampler: LocalSampler::Dummy(Box::new(Dummy {
                success: status.eq_ignore_ascii_case("OK"),
                code: t(self, "ResponseCode", &text_of("ResponseCode"))?,
                message: t(self, "ResponseMessage", &text_of("ResponseMessage"))?,
                data: t(self, "ResultData", &text_of("ResultData"))?,
                response_time: t(self, "Sleep_Time", &response_time)?,
                latency: t(self, "Sleep_Time", "0")?,
                connect: t(self, "Sleep_Time", "0")?,
                waiting: true,
                url: t(self, "Sleep_Time", "")?,
            })),
            timers: self.timers_in(scope)?,
            assertions: self.checks(scope)?,
            extractors: self.post_processors(scope)?,
        })
    }
}

/// `value` of parameter `name` when it holds no run-time reference.
fn fixed<'v>(el: &str, name: &str, value: &'v str) -> Result<&'v str, RunnerError> {
    if value.contains("${") {
        return Err(RunnerError::setting(
            el,
            &format!("Argument.value ({name})"),
            value,
            "the native runner needs a value fixed before the run here",
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Java's `Long.decode` on JMeter's defaults and the forms its documentation lists.
    #[test]
    fn long_decode_reads_java_forms() {
        assert_eq!(long_decode("0xFF"), Some(255));
        assert_eq!(long_decode("#ff"), Some(255));
        assert_eq!(long_decode("017"), Some(15));
        assert_eq!(long_decode("100"), Some(100));
        assert_eq!(long_decode("-0x10"), Some(-16));
        assert_eq!(long_decode("0"), Some(0));
        assert_eq!(long_decode(""), None);
        assert_eq!(long_decode("1.5"), None);
        assert_eq!(long_decode("0x"), None);
    }
}
