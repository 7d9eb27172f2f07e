//! The samplers a virtual user runs without the network: the Flow Control Action
//! (`TestAction`), which pauses, stops the thread or the test, or steers the loops, and writes no
//! sample (JMeter's `TestAction.sample` returns none); the Debug Sampler and the jp@gc Dummy
//! Sampler, whose samples are made here and then asserted and extracted like any other.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use loadlake_schema::SampleKind;

use crate::elements::response::Response;
use crate::http::client::now_ms;
use crate::model::{ActionStep, Dummy, FlowAction, LocalSampler, LocalStep, Timers};
use crate::sample::Sample;
use crate::text::template::UserCtx;
use crate::vu::{Flow, STOP_GRACEFUL, STOP_NOW, Vu};

/// What a local sampler answered.
struct Answer {
    code: String,
    message: String,
    body: String,
    success: bool,
    elapsed_ms: i64,
    latency_ms: i64,
    connect_ms: i64,
    url: Option<Arc<str>>,
}

impl Vu {
    /// Runs a sampler's pre-processors and waits for its timers; false when the run stops
    /// first.
    pub(crate) async fn before_sampler(&mut self, t: &Timers) -> bool {
        self.pre_process(&t.pre_processors);
        if self.script_pre(&t.script_pre, "").await.is_none() {
            return false;
        }
        let delay = self.timer_delay(t.delay, &t.random_delays, &t.throughput_timers);
        if self.stopping() || (!delay.is_zero() && !self.pause(delay).await) {
            return false;
        }
        !self.timers_end_the_test()
    }

    /// A Flow Control Action.
    pub(crate) async fn action(&mut self, a: &ActionStep) -> Flow {
        if !self.before_sampler(&a.timers).await {
            return Flow::Stop;
        }
        self.count_silent_sampler();
        match &a.action {
            FlowAction::Pause(duration) => {
                let text = duration.render(&mut self.user, &|v: &str| v.to_string());
                let ms = match text.trim().parse::<i32>() {
                    Ok(ms) => ms.max(0),
                    Err(_) => {
                        tracing::warn!(element = %a.name, duration = %text,
                            "Flow Control Action: the duration is not a number; no pause");
                        0
                    }
                };
                // Like a timer, the pause is idle time of an enclosing transaction.
                if ms > 0 && !self.pause(Duration::from_millis(ms as u64)).await {
                    return Flow::Stop;
                }
                Flow::Next
            }
            // JMeter stops the thread, which still looks for its next sampler once (a
            // transaction whose last child this was ends and writes its sample).
            FlowAction::StopThread => {
                self.listeners.walk_on = true;
                Flow::Stop
            }
            FlowAction::StopTest => {
                self.shared.stop_at(STOP_GRACEFUL);
                self.listeners.walk_on = true;
                Flow::Stop
            }
            FlowAction::StopTestNow => {
                self.shared.stop_at(STOP_NOW);
                Flow::Stop
            }
            FlowAction::NextThreadLoop => Flow::NextLoop,
            FlowAction::NextCurrentLoop => Flow::ContinueLoop,
            FlowAction::BreakCurrentLoop => Flow::BreakLoop,
        }
    }

    /// A Debug or Dummy sampler: its sample, checked by the assertions in scope.
    pub(crate) async fn local(&mut self, l: &LocalStep) -> Flow {
        if !self.before_sampler(&l.timers).await {
            return Flow::Stop;
        }
        let label = self.rendered_name(&l.label);
        let ts_ms = now_ms();
        let a = match &l.sampler {
            LocalSampler::Debug {
                variables,
                properties,
                system,
            } => debug_answer(&self.user, *variables, properties.as_deref(), *system),
            LocalSampler::System(c) => {
                let a = c.run(&mut self.user).await;
                Answer {
                    code: a.code,
                    message: a.message,
                    body: a.body,
                    success: a.success,
                    elapsed_ms: a.elapsed_ms,
                    latency_ms: 0,
                    connect_ms: 0,
                    url: None,
                }
            }
            LocalSampler::Dummy(d) => {
                let a = dummy_answer(d, &mut self.user);
                if d.waiting
                    && a.elapsed_ms > 0
                    && !self.pause(Duration::from_millis(a.elapsed_ms as u64)).await
                {
                    return Flow::Stop;
                }
                a
            }
        };
        let mut success = a.success;
        let mut failure_message = None;
        let response = Response {
            code: &a.code,
            message: &a.message,
            body: &a.body,
            url: a.url.as_deref().unwrap_or(""),
            elapsed_ms: a.elapsed_ms,
            body_bytes: a.body.len() as i64,
            ..Response::default()
        };
        let edited = self.judge(
            &l.extractors,
            &l.assertions,
            &response,
            &label,
            &mut success,
            &mut failure_message,
        );
        let (code, message) = match edited {
            // `prev.setIgnore()`: no sample is recorded.
            Some(e) if e.ignore => return self.after_sample(success),
            Some(e) => (e.code, e.message),
            None => (a.code, a.message),
        };
        let sample = Sample {
            latency_ms: a.latency_ms,
            connect_ms: a.connect_ms,
            code: Cow::Owned(code),
            message: Cow::Owned(message),
            failure_message,
            bytes_received: a.body.len() as i64,
            url: a.url,
            data_type: Some("text"),
            encoding: Some(Cow::Borrowed("UTF-8")),
            ..self.sample_of(ts_ms, a.elapsed_ms, label, SampleKind::Sample, success)
        };
        if !self.record(sample).await {
            return Flow::Stop;
        }
        self.after_sample(success)
    }
}

/// The Debug Sampler's answer (JMeter's `DebugSampler.sample`): per section a title line, then
/// `name=value` lines sorted by name, then an empty line; code 200, message OK, success.
fn debug_answer(
    user: &UserCtx,
    variables: bool,
    properties: Option<&[(String, String)]>,
    system: bool,
) -> Answer {
    let mut body = String::new();
    if variables {
        body.push_str("JMeterVariables:\n");
        let mut vars: Vec<(&String, &String)> = user.vars.iter().collect();
        vars.sort();
        for (k, v) in vars {
            let _ = writeln!(body, "{k}={v}");
        }
        body.push('\n');
    }
    if let Some(props) = properties {
        body.push_str("JMeterProperties:\n");
        for (k, v) in props {
            let _ = writeln!(body, "{k}={v}");
        }
        body.push('\n');
    }
    if system {
        body.push_str("SystemProperties:\n\n");
    }
    Answer {
        code: "200".into(),
        message: "OK".into(),
        body,
        success: true,
        elapsed_ms: 0,
        latency_ms: 0,
        connect_ms: 0,
        url: None,
    }
}

/// Java's `Integer.parseInt` as the Dummy Sampler reads its times: not a number is 0.
fn millis(text: &str) -> i64 {
    text.parse::<i32>().map(i64::from).unwrap_or(0)
}

/// A time of the Dummy Sampler; a negative one (JMeter would record a negative elapsed time,
/// or fail to sleep) counts as 0.
fn dummy_millis(text: &str) -> i64 {
    millis(text).max(0)
}

/// The Dummy Sampler's answer: every field rendered for this user.
fn dummy_answer(d: &Dummy, user: &mut UserCtx) -> Answer {
    let mut render = |t: &crate::text::template::Template| t.render(user, &|v: &str| v.to_string());
    let url = render(&d.url);
    Answer {
        code: render(&d.code),
        message: render(&d.message),
        body: render(&d.data),
        success: d.success,
        elapsed_ms: dummy_millis(&render(&d.response_time)),
        latency_ms: dummy_millis(&render(&d.latency)),
        connect_ms: dummy_millis(&render(&d.connect)),
        url: (!url.is_empty()).then(|| Arc::from(url)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::template::tests::user;

    #[test]
    fn debug_output_is_jmeters_sorted_sections() {
        // DebugSampler.sample / formatSet: a title line per section, `key=value` lines sorted
        // by key, an empty line after each section; code 200, message OK.
        let u = user(&[("b", "x"), ("a", "1")]);
        let props = [("p".to_string(), "v".to_string())];
        let a = debug_answer(&u, true, Some(&props), true);
        assert_eq!(
            a.body,
            "JMeterVariables:\na=1\nb=x\n\nJMeterProperties:\np=v\n\nSystemProperties:\n\n"
        );
        assert_eq!(
            (a.code.as_str(), a.message.as_str(), a.success),
            ("200", "OK", true)
        );
        assert_eq!(debug_answer(&u, false, None, false).body, "");
    }

    #[test]
    fn dummy_times_read_as_java_parse_int() {
        assert_eq!(millis("150"), 150);
        assert_eq!((millis(" 150"), millis("1.5"), millis("")), (0, 0, 0));
        assert_eq!((millis("-3"), dummy_millis("-3")), (-3, 0));
    }
}
