//! The script elements at run time: each JSR223 / BeanShell sampler, pre-processor,
//! post-processor and assertion run the way JMeter binds it — JSR223: `vars`, `props`, `prev`,
//! `sampler`, `ctx`, `log`, `SampleResult` (samplers), `AssertionResult` (assertions), the return
//! value as a sampler's response data; BeanShell: the same plus `ResponseCode`,
//! `ResponseMessage`, `IsSuccess` (samplers, read back after the script) and `Failure`,
//! `FailureMessage`, `ResponseData`, … (assertions). The language itself is [`crate::script`];
//! compiling the elements is `compile/scripts.rs`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::elements::extractors::PostProcessor;
use crate::elements::response::Response;
use crate::script::value::Value;
use crate::script::{Bindings, Dialect, LiveProps, Script, ScriptSample, Verdict};
use crate::text::template::{Template, UserCtx};

/// JMeter's two families of script elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `JSR223*`: bindings only; a sampler's result is `SampleResult` and the return value.
    Jsr223,
    /// `BeanShell*`: also the `ResponseCode` / `Failure` … script variables.
    BeanShell,
}

/// One compiled script element.
#[derive(Debug, Clone)]
pub struct ScriptElement {
    /// The element's `testname`.
    pub(crate) name: String,
    pub(crate) flavor: Flavor,
    pub(crate) script: Arc<Script>,
    /// `parameters`, rendered per run.
    pub(crate) params: Template,
    pub(crate) props: LiveProps,
    pub(crate) base_dir: Arc<str>,
}

/// What every kind of run shares: the bindings over `user`.
fn bindings<'a>(
    el: &'a ScriptElement,
    user: &'a mut UserCtx,
    params: &'a str,
    sampler_name: &'a str,
    sample: Option<&'a mut ScriptSample>,
    verdict: Option<&'a mut Verdict>,
) -> Bindings<'a> {
    Bindings {
        user,
        props: &el.props,
        sample,
        verdict,
        sampler_name,
        element: &el.name,
        base_dir: &el.base_dir,
        params,
        sleep_ms: 0,
        header_edits: Vec::new(),
    }
}

impl ScriptElement {
    fn params(&self, user: &mut UserCtx) -> String {
        self.params.render(user, &|v: &str| v.to_string())
    }

    /// Runs as a pre-processor before sampler `sampler`; the time `Thread.sleep` asked for,
    /// and the changes to the request's headers. An error is logged and the sample goes on, as
    /// in JMeter.
    pub(crate) fn pre(
        &self,
        user: &mut UserCtx,
        sampler: &str,
    ) -> (Duration, Vec<(String, Option<String>)>) {
        let params = self.params(user);
        let mut b = bindings(self, user, &params, sampler, None, None);
        if let Err(e) = self.script.run(&mut b, &mut HashMap::new()) {
            tracing::warn!(element = %self.name, error = %e, "pre-processor script failed");
        }
        (Duration::from_millis(b.sleep_ms), b.header_edits)
    }

    /// Runs as a post-processor on `sample` (which it may change).
    pub(crate) fn post(&self, user: &mut UserCtx, sample: &mut ScriptSample) {
        let params = self.params(user);
        let label = sample.label.clone();
        let mut b = bindings(self, user, &params, &label, Some(sample), None);
        if let Err(e) = self.script.run(&mut b, &mut HashMap::new()) {
            tracing::warn!(element = %self.name, error = %e, "post-processor script failed");
        }
    }

    /// Runs as an assertion on `sample`: the failure message when it fails (an error in the
    /// script fails the sample with the error, as JMeter's `setError`).
    pub(crate) fn assert(&self, user: &mut UserCtx, sample: &mut ScriptSample) -> Option<String> {
        let params = self.params(user);
        let label = sample.label.clone();
        let mut locals = HashMap::new();
        if self.flavor == Flavor::BeanShell {
            for (k, v) in [
                ("ResponseData", Value::str(sample.body.as_str())),
                ("ResponseCode", Value::str(sample.code.as_str())),
                ("ResponseMessage", Value::str(sample.message.as_str())),
                ("ResponseHeaders", Value::str(sample.headers.as_str())),
                ("SampleLabel", Value::str(label.as_str())),
                ("Successful", Value::Bool(sample.success)),
                ("FailureMessage", Value::str("")),
                ("Failure", Value::Bool(false)),
            ] {
                locals.insert(k.to_string(), v);
            }
        }
        let mut verdict = Verdict::default();
        let mut b = bindings(
            self,
            user,
            &params,
            &label,
            Some(sample),
            Some(&mut verdict),
        );
        if let Err(e) = self.script.run(&mut b, &mut locals) {
            return Some(e.to_string());
        }
        if self.flavor == Flavor::BeanShell {
            verdict.failure = locals.get("Failure").is_some_and(Value::truthy);
            verdict.message = locals
                .get("FailureMessage")
                .map(|v| v.text(Dialect::Java))
                .unwrap_or_default();
        }
        verdict.failure.then_some(verdict.message)
    }

    /// Runs as an assertion on an HTTP response (see [`ScriptElement::assert`]).
    pub(crate) fn assert_response(&self, r: &Response<'_>, user: &mut UserCtx) -> Option<String> {
        let mut sample = script_sample(r, "", true);
        self.assert(user, &mut sample)
    }

    /// Runs as a sampler: the sample's outcome and the time `Thread.sleep` asked for.
    pub(crate) fn sample(&self, user: &mut UserCtx, label: &str) -> (ScriptSample, Duration) {
        let params = self.params(user);
        let mut s = ScriptSample {
            label: label.to_string(),
            code: "200".into(),
            message: "OK".into(),
            success: true,
            ..ScriptSample::default()
        };
        let mut locals = HashMap::new();
        if self.flavor == Flavor::BeanShell {
            for (k, v) in [
                ("ResponseCode", Value::str("200")),
                ("ResponseMessage", Value::str("OK")),
                ("IsSuccess", Value::Bool(true)),
                ("Label", Value::str(label)),
                ("FileName", Value::str("")),
            ] {
                locals.insert(k.to_string(), v);
            }
        }
        let mut b = bindings(self, user, &params, label, Some(&mut s), None);
        let r = self.script.run(&mut b, &mut locals);
        let sleep = Duration::from_millis(b.sleep_ms);
        match r {
            Ok(ret) => {
                if !ret.is_null() && !s.data_set {
                    s.body = ret.text(self.script.dialect());
                }
                if self.flavor == Flavor::BeanShell {
                    let text = |k: &str| {
                        locals
                            .get(k)
                            .map(|v| v.text(Dialect::Java))
                            .unwrap_or_default()
                    };
                    s.code = text("ResponseCode");
                    s.message = text("ResponseMessage");
                    s.success = text("IsSuccess").eq_ignore_ascii_case("true");
                }
            }
            Err(e) => {
                tracing::warn!(element = %self.name, error = %e, "sampler script failed");
                s.code = "500".into();
                s.message = e.to_string();
                s.success = false;
            }
        }
        (s, sleep)
    }

    /// One line for `--validate`.
    pub fn describe(&self) -> String {
        let lang = match self.script.dialect() {
            Dialect::Groovy => "groovy",
            Dialect::Java => "java/beanshell",
            Dialect::JavaScript => "javascript",
        };
        format!("\"{}\": {lang} script (run natively)", self.name)
    }
}

/// The sample a script sees of an HTTP response.
pub(crate) fn script_sample(r: &Response<'_>, label: &str, success: bool) -> ScriptSample {
    ScriptSample {
        label: label.to_string(),
        code: r.code.to_string(),
        message: r.message.to_string(),
        body: r.body.to_string(),
        success,
        elapsed_ms: r.elapsed_ms,
        headers: r.headers.to_string(),
        url: r.url.to_string(),
        data_set: false,
        ignore: false,
    }
}

/// Runs `extractors` in order on `r`; the sample as changed by the scripts among them, when
/// there are any (`success`: the sample's outcome so far).
pub(crate) fn post_process(
    extractors: &[PostProcessor],
    r: &Response<'_>,
    user: &mut UserCtx,
    label: &str,
    success: bool,
) -> Option<ScriptSample> {
    let mut edited: Option<ScriptSample> = None;
    for e in extractors {
        match e {
            PostProcessor::Script(s) => {
                let sample = edited.get_or_insert_with(|| script_sample(r, label, success));
                s.post(user, sample);
            }
            other => other.apply(r, user),
        }
    }
    edited
}
