//! An HTTP Request's protocol, and what JMeter does with one it does not know: templates and
//! shared plans often leave a placeholder (`PROTOCOL`, a `${protocol}` that a user-defined
//! variable sets to `PROTOCOL`, a `${__P(protocol)}` whose default is `1`). JMeter runs such a
//! sampler: `HTTPSamplerBase.getUrl` builds `new URL(protocol, host, port, path)`, Java throws
//! `MalformedURLException: unknown protocol: …` before any connection, and `sample()` turns it
//! into a failed sample with `errorResult` (JMeter 2.13 and 5.x alike). The runner does the
//! same without the network: the sampler becomes a [`LocalStep`] answering JMeter's failure,
//! and `--validate` warns.

use loadlake_plan::TestElement;

use crate::compile::{Compiler, Scope};
use crate::error::RunnerError;
use crate::model::{Dummy, LocalSampler, LocalStep, Step};

/// Protocols `java.net.URL` has a handler for besides http and https: JMeter would read a file
/// or try them, which the runner does not do.
const JAVA_PROTOCOLS: &[&str] = &["file", "ftp", "jar", "mailto", "netdoc"];

/// An HTTP Request's protocol after merging and substitution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// `http` or empty (JMeter's default).
    Http,
    /// `https`.
    Https,
    /// Anything else, lower-cased as `java.net.URL` does.
    Unknown(String),
}

/// `protocol` (merged and substituted) classified, lower-cased as Java's `URL` constructor does.
pub(crate) fn classify(protocol: &str) -> Protocol {
    match protocol.trim().to_lowercase().as_str() {
        "" | "http" => Protocol::Http,
        "https" => Protocol::Https,
        other => Protocol::Unknown(other.to_string()),
    }
}

/// JMeter's `errorResult` for `new URL(protocol, …)`: code, message and body (the exception's
/// first line; JMeter's body is the whole stack trace).
pub(crate) fn malformed_url_answer(protocol: &str) -> (String, String, String) {
    let exception = "java.net.MalformedURLException";
    let detail = format!("unknown protocol: {protocol}");
    (
        format!("Non HTTP response code: {exception}"),
        format!("Non HTTP response message: {detail}"),
        format!("{exception}: {detail}"),
    )
}

impl Compiler<'_> {
    /// Sampler `s`'s protocol, from the sampler or the innermost HTTP Request Defaults.
    pub(crate) fn protocol(
        &self,
        s: &TestElement,
        scope: &Scope<'_>,
    ) -> Result<Protocol, RunnerError> {
        let prop = "HTTPSampler.protocol";
        let raw = super::http_sampler::merged_raw(s, scope, prop);
        Ok(classify(&self.eval(&s.name, prop, raw)?))
    }

    /// An HTTP Request as a [`Step`]: an HTTP step, or — for a protocol Java does not know
    /// and no full URL in the path — JMeter's failed sample, made in the runner. The
    /// sample's label is empty, as JMeter's (`errorResult` keeps the label of the new, empty
    /// `HTTPSampleResult`); timers, pre-processors, assertions and post-processors in scope
    /// apply as to any sampler.
    pub(crate) fn http_sampler(
        &mut self,
        s: &TestElement,
        scope: &Scope<'_>,
    ) -> Result<Step, RunnerError> {
        let protocol = match self.protocol(s, scope)? {
            Protocol::Unknown(p) if !self.path_is_full_url(s, scope)? => p,
            _ => return Ok(Step::Http(Box::new(self.http(s, scope)?))),
        };
        if JAVA_PROTOCOLS.contains(&protocol.as_str()) {
            return Err(RunnerError::setting(
                &s.name,
                "HTTPSampler.protocol",
                &protocol,
                "the native runner speaks http and https",
            ));
        }
        self.report.warn(format!(
            "element \"{}\": HTTPSampler.protocol \"{protocol}\" is no protocol Java knows: as in \
             JMeter, each of its samples fails (Non HTTP response code: \
             java.net.MalformedURLException, empty label) and nothing is sent; set it to http or \
             https",
            s.name
        ));
        let (code, message, body) = malformed_url_answer(&protocol);
        let literal = |text: &str| self.template(&s.name, "HTTPSampler.protocol", text);
        Ok(Step::Local(Box::new(LocalStep {
            label: String::new(),
            sampler: LocalSampler::Dummy(Box::new(Dummy {
                success: false,
                code: literal(&code)?,
                message: literal(&message)?,
                data: literal(&body)?,
                response_time: literal("0")?,
                latency: literal("0")?,
                connect: literal("0")?,
                waiting: false,
                url: literal("")?,
            })),
            timers: self.timers_in(scope)?,
            assertions: self.checks(scope)?,
            extractors: self.post_processors(scope)?,
        })))
    }

    /// Whether the sampler's path (or its defaults') is a full http or https URL.
    fn path_is_full_url(&self, s: &TestElement, scope: &Scope<'_>) -> Result<bool, RunnerError> {
        let prop = "HTTPSampler.path";
        let raw = super::http_sampler::merged_raw(s, scope, prop);
        let path = self.eval_deferred(&s.name, prop, raw)?;
        Ok(super::http_sampler::full_url(path.trim()).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_are_lower_cased_as_java_url_does() {
        assert_eq!(classify(""), Protocol::Http);
        assert_eq!(classify("HTTPS"), Protocol::Https);
        assert_eq!(classify(" Http "), Protocol::Http);
        assert_eq!(classify("PROTOCOL"), Protocol::Unknown("protocol".into()));
    }

    /// JMeter's `errorResult`: "Non HTTP response code: " + the exception's class, "Non HTTP
    /// response message: " + its message; Java's `URL(String, String, int, String)` says
    /// "unknown protocol: " + the lower-cased protocol.
    #[test]
    fn the_answer_is_jmeters_error_result() {
        let (code, message, body) = malformed_url_answer("1");
        assert_eq!(
            code,
            "Non HTTP response code: java.net.MalformedURLException"
        );
        assert_eq!(message, "Non HTTP response message: unknown protocol: 1");
        assert_eq!(body, "java.net.MalformedURLException: unknown protocol: 1");
    }
}
