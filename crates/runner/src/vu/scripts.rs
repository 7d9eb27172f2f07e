//! What a virtual user does with script elements: the script pre-processors before a sampler
//! (their `Thread.sleep` waited as a pause), and a JSR223 / BeanShell sampler's whole sample:
//! pre-processors, timers, the script (timed, its sleeps included), post-processors,
//! assertions, then `on_sample_error` like any sampler.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use loadlake_schema::SampleKind;

use super::{Flow, Vu};
use crate::elements::response::Response;
use crate::elements::scripts::{ScriptElement, post_process};
use crate::http::client::now_ms;
use crate::model::{HttpRequest, RandomDelay, ScriptStep};
use crate::sample::Sample;

impl Vu {
    /// Runs `pre` (script pre-processors) before sampler `sampler`, then waits what their
    /// `Thread.sleep` calls asked for: the changes they make to the request's headers, or
    /// `None` when the run stops meanwhile.
    pub(crate) async fn script_pre(
        &mut self,
        pre: &[ScriptElement],
        sampler: &str,
    ) -> Option<Vec<(String, Option<String>)>> {
        let mut sleep = Duration::ZERO;
        let mut edits = Vec::new();
        for p in pre {
            let (slept, changed) = p.pre(&mut self.user, sampler);
            sleep += slept;
            edits.extend(changed);
        }
        (sleep.is_zero() || self.pause(sleep).await).then_some(edits)
    }

    /// A JSR223 / BeanShell sampler.
    pub(crate) async fn script_step(&mut self, s: &ScriptStep) -> Flow {
        if self.script_pre(&s.pre, &s.label).await.is_none() {
            return Flow::Stop;
        }
        let delay = RandomDelay::total(s.delay, &s.random_delays);
        if self.stopping() || (!delay.is_zero() && !self.pause(delay).await) {
            return Flow::Stop;
        }
        let label: Arc<str> = match &s.label_template {
            Some(t) => Arc::from(t.render(&mut self.user, &|v: &str| v.to_string())),
            None => Arc::from(s.label.as_str()),
        };
        let ts_ms = now_ms();
        let start = Instant::now();
        let (mut result, sleep) = s.script.sample(&mut self.user, &label);
        if !sleep.is_zero() && !self.pause(sleep).await {
            return Flow::Stop;
        }
        let elapsed_ms = i64::try_from(start.elapsed().as_millis()).unwrap_or(i64::MAX);
        result.elapsed_ms = elapsed_ms;
        let body_bytes = result.body.len() as i64;
        let response = Response {
            code: &result.code,
            message: &result.message,
            body: &result.body,
            elapsed_ms,
            body_bytes,
            ..Response::default()
        };
        let mut success = result.success;
        let edited = post_process(&s.extractors, &response, &mut self.user, &label, success);
        if let Some(e) = &edited {
            success = e.success;
        }
        let mut failure_message = None;
        for a in &s.assertions {
            if let Some(msg) = a.check(&response, &mut self.user) {
                success = false;
                failure_message.get_or_insert(msg);
            }
        }
        self.note_last_sample(success);
        // `SampleResult.setIgnore()` / `prev.setIgnore()`: no sample is recorded.
        if result.ignore || edited.as_ref().is_some_and(|e| e.ignore) {
            return self.after_sample(success);
        }
        let (code, message) = match edited {
            Some(e) => (e.code, e.message),
            None => (
                std::mem::take(&mut result.code),
                std::mem::take(&mut result.message),
            ),
        };
        let sample = Sample {
            code: Cow::Owned(code),
            message: Cow::Owned(message),
            failure_message,
            bytes_received: body_bytes,
            data_type: Some("text"),
            ..self.sample_of(ts_ms, elapsed_ms, label, SampleKind::Sample, success)
        };
        if !self.record(sample).await {
            return Flow::Stop;
        }
        self.after_sample(success)
    }
}

/// `request` with the header changes of pre-processor scripts applied (a removal drops every
/// header of that name, case-insensitively; an addition appends).
pub(super) fn with_headers(
    request: &HttpRequest,
    edits: &[(String, Option<String>)],
) -> HttpRequest {
    let mut out = request.clone();
    for (name, value) in edits {
        match value {
            None => out.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name)),
            Some(v) => out.headers.push((name.clone(), v.clone())),
        }
    }
    out
}
