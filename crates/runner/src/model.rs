//! The executable model that [`crate::compile`] builds from a JMX tree: thread groups holding
//! steps (HTTP requests, transactions, simple and loop controllers), with every `${…}` already
//! substituted, HTTP defaults and headers merged, and timers and assertions attached to the
//! samplers in their scope. [`RunnablePlan::explain`] describes it for `loadlake run --validate`.

use std::fmt::Write as _;
use std::time::Duration;

use bytes::Bytes;

use crate::assertion::ResponseAssertion;
use crate::extract::RegexExtract;

/// A compiled test plan, ready for [`crate::run`].
#[derive(Debug, Clone)]
pub struct RunnablePlan {
    /// The TestPlan's `testname`.
    pub name: String,
    /// `TestPlan.serialize_threadgroups`: run the groups one after another.
    pub serialize_groups: bool,
    /// User-defined variables after substitution, sorted by name.
    pub variables: Vec<(String, String)>,
    /// Enabled thread groups in file order.
    pub groups: Vec<ThreadGroupPlan>,
    /// Elements that were recognised and deliberately not executed (listeners: the runner records
    /// every sample itself), as `"name" (class)`.
    pub ignored: Vec<String>,
}

/// How many times a loop runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loops {
    /// A fixed number of iterations (0 runs nothing).
    Count(u64),
    /// `-1`: until the thread is stopped (duration, stop, Ctrl-C).
    Forever,
}

/// `ThreadGroup.on_sample_error`: what a thread does after a failed sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnSampleError {
    /// Go on with the next element.
    Continue,
    /// Start the next iteration of the thread group's loop.
    StartNextLoop,
    /// Stop this thread.
    StopThread,
    /// Stop every thread once its current sample is done.
    StopTest,
    /// Stop every thread at once, abandoning samples in flight.
    StopTestNow,
}

/// One thread group.
#[derive(Debug, Clone)]
pub struct ThreadGroupPlan {
    /// The group's `testname`: the sample's `case_name` and the start of thread names.
    pub name: String,
    /// Number of virtual users (`ThreadGroup.num_threads`).
    pub threads: u32,
    /// Ramp-up: thread `i` starts at `i · ramp_up / threads`.
    pub ramp_up: Duration,
    /// Iterations of the group's main loop per thread.
    pub loops: Loops,
    /// `ThreadGroup.duration` when the scheduler is on: the group stops this long after it
    /// starts (after `startup_delay`).
    pub duration: Option<Duration>,
    /// `ThreadGroup.delay` when the scheduler is on.
    pub startup_delay: Duration,
    /// What a thread does after a failed sample.
    pub on_error: OnSampleError,
    /// A Cookie Manager in the group says `clearEachIteration`: each iteration starts with no
    /// cookies.
    pub clear_cookies: bool,
    /// The steps each iteration runs, in order.
    pub steps: Vec<Step>,
}

/// One executable element of a thread group.
#[derive(Debug, Clone)]
pub enum Step {
    /// An HTTP request (HTTPSamplerProxy).
    Http(Box<HttpStep>),
    /// A Transaction Controller (non-parent mode): its children, then a transaction sample.
    Transaction {
        /// The controller's `testname`: the transaction sample's label.
        name: String,
        /// `TransactionController.includeTimers`: whether timer pauses count in the elapsed time.
        include_timers: bool,
        /// The children.
        steps: Vec<Step>,
    },
    /// A Simple Controller (GenericController): its children, once.
    Simple {
        /// The controller's `testname`.
        name: String,
        /// The children.
        steps: Vec<Step>,
    },
    /// A Loop Controller inside a thread group.
    Loop {
        /// The controller's `testname`.
        name: String,
        /// Iterations each time the controller is reached.
        loops: Loops,
        /// The children.
        steps: Vec<Step>,
    },
}

/// An HTTP request with defaults merged and variables substituted.
#[derive(Debug, Clone)]
pub struct HttpStep {
    /// The sampler's `testname`: the sample label.
    pub label: String,
    /// HTTP method, upper case.
    pub method: String,
    /// Host name or address.
    pub host: String,
    /// TCP port (80 when the plan leaves it empty).
    pub port: u16,
    /// Path and query string, starting with `/`.
    pub path_and_query: String,
    /// Request headers from the Header Managers in scope (inner ones win), without `Host`
    /// unless the plan sets it.
    pub headers: Vec<(String, String)>,
    /// Request body (a form body or the raw body), empty for none.
    pub body: Bytes,
    /// `Content-Type` sent with a form body when no header sets one.
    pub form_content_type: Option<String>,
    /// `HTTPSampler.follow_redirects` or `auto_redirects`: follow up to 20 redirects within the
    /// one sample.
    pub follow_redirects: bool,
    /// `HTTPSampler.connect_timeout`; `None` for no limit.
    pub connect_timeout: Option<Duration>,
    /// `HTTPSampler.response_timeout` (per read, as JMeter's socket timeout); `None` for none.
    pub response_timeout: Option<Duration>,
    /// Sum of the timers' constant delays in scope (Constant Timers, and the offsets of random
    /// timers), waited before the request.
    pub delay: Duration,
    /// The random parts of the Uniform / Gaussian Random Timers in scope, drawn anew before
    /// each request and added to `delay`.
    pub random_delays: Vec<RandomDelay>,
    /// Response Assertions in scope, outermost first.
    pub assertions: Vec<ResponseAssertion>,
    /// A Cookie Manager is in scope: send the user's cookies and keep the ones set.
    pub cookies: bool,
    /// Regular Expression Extractors in scope, applied to the response body in order.
    pub extractors: Vec<RegexExtract>,
    /// Some `${name}` is left in the path, query, body or headers: filled in from the user's
    /// runtime variables before each request.
    pub runtime_vars: bool,
}

impl HttpStep {
    /// Sets `runtime_vars` when a `${…}` reference is left in what is sent.
    pub(crate) fn with_runtime_vars_flag(mut self) -> HttpStep {
        let has = |t: &str| t.contains("${");
        self.runtime_vars = has(&self.path_and_query)
            || self.headers.iter().any(|(_, v)| has(v))
            || std::str::from_utf8(&self.body).is_ok_and(has);
        self
    }

    /// A copy with the runtime variables filled in: raw in the path, headers and a raw body,
    /// URL-encoded in the query string and a form body.
    pub(crate) fn rendered(&self, vars: &std::collections::HashMap<String, String>) -> HttpStep {
        use crate::compile_http::{escape_unsafe, form_encode};
        use crate::extract::render;
        let mut out = self.clone();
        out.path_and_query = match self.path_and_query.split_once('?') {
            Some((path, query)) => format!(
                "{}?{}",
                render(path, vars, str::to_string),
                render(query, vars, escape_unsafe)
            ),
            None => render(&self.path_and_query, vars, str::to_string),
        };
        for (_, v) in &mut out.headers {
            *v = render(v, vars, str::to_string);
        }
        if let Ok(body) = std::str::from_utf8(&self.body) {
            let body = if self.form_content_type.is_some() {
                render(body, vars, form_encode)
            } else {
                render(body, vars, str::to_string)
            };
            out.body = Bytes::from(body);
        }
        out
    }

    /// The request URL as JMeter reports it (the port only when it is not 80).
    pub fn url(&self) -> String {
        if self.port == 80 {
            format!("http://{}{}", self.host, self.path_and_query)
        } else {
            format!("http://{}:{}{}", self.host, self.port, self.path_and_query)
        }
    }
}

impl std::fmt::Display for Loops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loops::Count(1) => write!(f, "1 loop"),
            Loops::Count(n) => write!(f, "{n} loops"),
            Loops::Forever => write!(f, "loops forever"),
        }
    }
}

impl OnSampleError {
    /// The JMX spelling (`continue`, `startnextloop`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            OnSampleError::Continue => "continue",
            OnSampleError::StartNextLoop => "startnextloop",
            OnSampleError::StopThread => "stopthread",
            OnSampleError::StopTest => "stoptest",
            OnSampleError::StopTestNow => "stoptestnow",
        }
    }
}

impl RunnablePlan {
    /// A human-readable, multi-line description of what a run would do.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        let order = if self.serialize_groups {
            "one after another"
        } else {
            "in parallel"
        };
        let _ = writeln!(
            out,
            "Test plan \"{}\": {} thread group(s), run {order}",
            self.name,
            self.groups.len()
        );
        for (name, value) in &self.variables {
            let _ = writeln!(out, "  variable {name} = \"{value}\"");
        }
        for g in &self.groups {
            let _ = write!(
                out,
                "Thread group \"{}\": {} thread(s), ramp-up {} s, {}",
                g.name,
                g.threads,
                g.ramp_up.as_secs_f64(),
                g.loops
            );
            if let Some(d) = g.duration {
                let _ = write!(out, ", duration {} s", d.as_secs());
            }
            if !g.startup_delay.is_zero() {
                let _ = write!(out, ", startup delay {} s", g.startup_delay.as_secs());
            }
            let _ = writeln!(out, ", on sample error: {}", g.on_error.as_str());
            explain_steps(&mut out, &g.steps, 1);
        }
        for i in &self.ignored {
            let _ = writeln!(out, "Ignored: {i} (the runner records every sample itself)");
        }
        out
    }
}

fn explain_steps(out: &mut String, steps: &[Step], depth: usize) {
    let pad = "  ".repeat(depth);
    for step in steps {
        match step {
            Step::Http(h) => {
                let _ = write!(out, "{pad}HTTP \"{}\": {} {}", h.label, h.method, h.url());
                if !h.body.is_empty() {
                    let _ = write!(out, ", body {} bytes", h.body.len());
                }
                if !h.headers.is_empty() {
                    let names: Vec<&str> = h.headers.iter().map(|(n, _)| n.as_str()).collect();
                    let _ = write!(out, ", headers [{}]", names.join(", "));
                }
                if let Some(t) = h.connect_timeout {
                    let _ = write!(out, ", connect timeout {} ms", t.as_millis());
                }
                if let Some(t) = h.response_timeout {
                    let _ = write!(out, ", response timeout {} ms", t.as_millis());
                }
                if h.follow_redirects {
                    let _ = write!(out, ", follows redirects");
                }
                if !h.delay.is_zero() {
                    let _ = write!(out, ", waits {} ms before", h.delay.as_millis());
                }
                for r in &h.random_delays {
                    let _ = match r {
                        RandomDelay::Uniform { range_ms } => {
                            write!(out, " + uniform random 0–{range_ms} ms")
                        }
                        RandomDelay::Gaussian { deviation_ms } => {
                            write!(out, " + gaussian random (deviation {deviation_ms} ms)")
                        }
                    };
                }
                if h.cookies {
                    let _ = write!(out, ", cookies");
                }
                let _ = writeln!(out);
                for a in &h.assertions {
                    let _ = writeln!(out, "{pad}  assert {}", a.describe());
                }
                for e in &h.extractors {
                    let _ = writeln!(
                        out,
                        "{pad}  extract ${{{}}} from the body with /{}/ (match {}, default \"{}\")",
                        e.refname, e.regex, e.match_number, e.default
                    );
                }
            }
            Step::Transaction {
                name,
                include_timers,
                steps,
            } => {
                let timers = if *include_timers {
                    "timers included"
                } else {
                    "timers excluded"
                };
                let _ = writeln!(out, "{pad}Transaction \"{name}\" ({timers})");
                explain_steps(out, steps, depth + 1);
            }
            Step::Simple { name, steps } => {
                let _ = writeln!(out, "{pad}Simple controller \"{name}\"");
                explain_steps(out, steps, depth + 1);
            }
            Step::Loop { name, loops, steps } => {
                let _ = writeln!(out, "{pad}Loop \"{name}\": {loops}");
                explain_steps(out, steps, depth + 1);
            }
        }
    }
}

/// The random part of a timer, in ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RandomDelay {
    /// Uniform Random Timer: uniform in `[0, range)`.
    Uniform { range_ms: f64 },
    /// Gaussian Random Timer: normal with mean 0 and this deviation.
    Gaussian { deviation_ms: f64 },
}

impl RandomDelay {
    /// One draw, ms (may be negative for a Gaussian).
    pub fn sample(self) -> f64 {
        match self {
            RandomDelay::Uniform { range_ms } => fastrand::f64() * range_ms,
            RandomDelay::Gaussian { deviation_ms } => {
                // Box-Muller: two uniforms in (0, 1] give one standard normal draw.
                let (u1, u2) = (1.0 - fastrand::f64(), fastrand::f64());
                (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos() * deviation_ms
            }
        }
    }

    /// The constant delay plus one draw of each random part, never below zero (JMeter takes the
    /// absolute value of a Gaussian timer's total; a negative total waits nothing here).
    pub fn total(constant: Duration, random: &[RandomDelay]) -> Duration {
        if random.is_empty() {
            return constant;
        }
        let ms = constant.as_secs_f64() * 1000.0 + random.iter().map(|r| r.sample()).sum::<f64>();
        Duration::from_secs_f64(ms.max(0.0) / 1000.0)
    }
}
