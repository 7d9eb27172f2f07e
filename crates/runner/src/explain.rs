//! `loadlake run --validate`: what a compiled plan would do, in words — thread groups, their
//! schedule and every step with its timers, assertions and extractors.

use std::fmt::Write as _;

use crate::model::{
    ActionStep, Feed, FlowAction, GroupRole, HttpStep, LocalSampler, LocalStep, RandomDelay,
    RunnablePlan, ScriptStep, Step, ThroughputRule, ThroughputTimer, WhileCondition,
};

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
            let role = match g.role {
                GroupRole::Setup => "setUp thread group",
                GroupRole::Main => "Thread group",
                GroupRole::Teardown => "tearDown thread group",
            };
            let _ = write!(
                out,
                "{role} \"{}\": {} thread(s), ramp-up {} s, {}",
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
            if let Some(w) = &g.schedule {
                // A jmeter-plugins thread group: each user's start and stop, from the group's start.
                let shown: Vec<String> = w
                    .iter()
                    .take(12)
                    .enumerate()
                    .map(|(i, w)| {
                        format!(
                            "{}: {}–{} s",
                            i + 1,
                            w.start.as_secs_f64(),
                            w.end.as_secs_f64()
                        )
                    })
                    .collect();
                let more = if w.len() > 12 { ", …" } else { "" };
                let _ = writeln!(out, "  users run {}{more}", shown.join(", "));
            }
            explain_feeds(&mut out, &g.feeds, 1);
            explain_steps(&mut out, &g.steps, 1);
        }
        for i in &self.ignored {
            let _ = writeln!(out, "Ignored: {i}");
        }
        out
    }
}

fn explain_steps(out: &mut String, steps: &[Step], depth: usize) {
    let pad = "  ".repeat(depth);
    for step in steps {
        match step {
            Step::Http(h) => explain_http(out, h, &pad),
            Step::Script(s) => explain_script(out, s, &pad),
            Step::Local(l) => explain_local(out, l, &pad),
            Step::Action(a) => explain_action(out, a, &pad),
            controller => {
                if let Some((line, feeds, children)) = controller_line(controller) {
                    let _ = writeln!(out, "{pad}{line}");
                    explain_feeds(out, feeds, depth + 1);
                    explain_steps(out, children, depth + 1);
                }
            }
        }
    }
}

/// The line of an HTTP sampler, then one per assertion, timer, extractor and pre-processor.
fn explain_http(out: &mut String, h: &HttpStep, pad: &str) {
    let _ = write!(
        out,
        "{pad}HTTP \"{}\": {} {}",
        h.label,
        h.request.method,
        h.request.url()
    );
    if !h.request.body.is_empty() {
        let _ = write!(out, ", body {} bytes", h.request.body.len());
    }
    if !h.request.headers.is_empty() {
        let names: Vec<&str> = h.request.headers.iter().map(|(n, _)| n.as_str()).collect();
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
    if let Some(e) = &h.embedded {
        let _ = write!(out, ", {}", e.describe());
    }
    if h.regex_params.is_some() {
        let _ = write!(out, ", arguments from RegEx User Parameters");
    }
    let _ = writeln!(out);
    for a in &h.assertions {
        let _ = writeln!(out, "{pad}  assert {}", a.describe());
    }
    for t in &h.throughput_timers {
        let _ = match t {
            ThroughputTimer::Constant { timer, .. } => writeln!(
                out,
                "{pad}  paced to {} samples/min ({:?})",
                timer.per_minute, timer.mode
            ),
            ThroughputTimer::Precise(_) => {
                writeln!(out, "{pad}  paced by a Precise Throughput Timer")
            }
            ThroughputTimer::Shaping(t) => {
                let rows: Vec<String> = t
                    .rows
                    .iter()
                    .map(|r| format!("{}→{} rps for {} s", r.from, r.to, r.seconds))
                    .collect();
                let total: i64 = t.rows.iter().map(|r| r.seconds).sum();
                writeln!(
                    out,
                    "{pad}  paced by Throughput Shaping Timer \"{}\": {} (the test stops after {total} s of schedule)",
                    t.name,
                    rows.join(", ")
                )
            }
        };
    }
    for e in &h.extractors {
        let _ = writeln!(out, "{pad}  extract {}", e.describe());
    }
    for p in &h.script_pre {
        let _ = writeln!(out, "{pad}  pre-process {}", p.describe());
    }
}

/// The line of a Debug / Dummy Sampler and its assertions and extractors.
fn explain_local(out: &mut String, l: &LocalStep, pad: &str) {
    let what = match &l.sampler {
        LocalSampler::Debug { .. } => "Debug Sampler".to_string(),
        LocalSampler::System(c) => format!("OS Process Sampler: runs {}", c.describe()),
        LocalSampler::Dummy(d) => format!(
            "Dummy Sampler: code {}, {} ms",
            d.code.source(),
            d.response_time.source()
        ),
    };
    let _ = writeln!(out, "{pad}{what} \"{}\"", l.label);
    for a in &l.assertions {
        let _ = writeln!(out, "{pad}  assert {}", a.describe());
    }
    for e in &l.extractors {
        let _ = writeln!(out, "{pad}  extract {}", e.describe());
    }
}

/// The line of a Flow Control Action.
fn explain_action(out: &mut String, a: &ActionStep, pad: &str) {
    let what = match &a.action {
        FlowAction::Pause(d) => format!("pause {} ms", d.source()),
        FlowAction::StopThread => "stop the thread".into(),
        FlowAction::StopTest => "stop the test".into(),
        FlowAction::StopTestNow => "stop the test now".into(),
        FlowAction::NextThreadLoop => "next iteration of the thread's loop".into(),
        FlowAction::NextCurrentLoop => "next iteration of the current loop".into(),
        FlowAction::BreakCurrentLoop => "break the current loop".into(),
    };
    let _ = write!(out, "{pad}Flow Control Action \"{}\": {what}", a.name);
    if !a.timers.delay.is_zero() {
        let _ = write!(out, ", waits {} ms before", a.timers.delay.as_millis());
    }
    let _ = writeln!(out);
}

/// A logic controller's line, the iteration listeners it fires and its children; `None` for a
/// sampler.
fn controller_line(step: &Step) -> Option<(String, &[Feed], &[Step])> {
    let no_feeds: &[Feed] = &[];
    Some(match step {
        Step::Http(_) | Step::Script(_) | Step::Local(_) | Step::Action(_) => return None,
        Step::Transaction {
            name,
            parent,
            include_timers,
            steps,
            ..
        } => {
            let timers = if *include_timers {
                "timers included"
            } else {
                "timers excluded"
            };
            let mode = if *parent {
                ", children as sub-results"
            } else {
                ""
            };
            (
                format!("Transaction \"{name}\" ({timers}{mode})"),
                no_feeds,
                steps,
            )
        }
        Step::Simple { name, steps, .. } => {
            (format!("Simple controller \"{name}\""), no_feeds, steps)
        }
        Step::Parallel(p) => {
            let at_once = match p.limit {
                Some(n) => format!("at most {n} at once"),
                None => "all at once".to_string(),
            };
            let parent = if p.parent_sample {
                ", one sample with the children's as sub-results"
            } else {
                ""
            };
            (
                format!(
                    "Parallel Sampler \"{}\" (children {at_once}{parent})",
                    p.name
                ),
                no_feeds,
                &p.steps,
            )
        }
        Step::Loop {
            name,
            loops,
            continue_forever,
            feeds,
            steps,
            ..
        } => {
            let once = if *continue_forever {
                ""
            } else {
                " (first time reached only)"
            };
            (format!("Loop \"{name}\": {loops}{once}"), feeds, steps)
        }
        Step::If {
            name,
            condition,
            evaluate_all,
            steps,
            ..
        } => {
            let all = if *evaluate_all {
                ", checked before each child"
            } else {
                ""
            };
            let line = format!("If \"{name}\": {}{all}", condition.source());
            (line, no_feeds, steps)
        }
        Step::While {
            name,
            condition,
            feeds,
            steps,
        } => {
            let rule = match condition {
                WhileCondition::LastSampleOk => "until a sample in the loop fails".to_string(),
                WhileCondition::Last => {
                    "until a sample fails (not entered after a failure)".to_string()
                }
                WhileCondition::Text(t) => format!("until \"{}\" is false", t.source()),
            };
            (format!("While \"{name}\": {rule}"), feeds, steps)
        }
        Step::Switch {
            name, value, steps, ..
        } => (
            format!("Switch \"{name}\" on \"{}\"", value.source()),
            no_feeds,
            steps,
        ),
        Step::OnceOnly { name, steps, .. } => (
            format!(
                "Once only \"{name}\" (once per thread; again on each entry into a parent Loop)"
            ),
            no_feeds,
            steps,
        ),
        Step::Throughput {
            name,
            rule,
            shared,
            steps,
            ..
        } => {
            let who = if shared.is_some() {
                "all threads"
            } else {
                "each thread"
            };
            let what = match rule {
                ThroughputRule::Total(n) => format!("the first {n} times"),
                ThroughputRule::Percent(p) => format!("{p}% of the times"),
            };
            (
                format!("Throughput \"{name}\": {what} ({who})"),
                no_feeds,
                steps,
            )
        }
        Step::ForEach {
            name,
            input,
            output,
            feeds,
            steps,
            ..
        } => (
            format!("ForEach \"{name}\": {output} = each of {input}1, {input}2, …"),
            feeds,
            steps,
        ),
        Step::Interleave {
            name,
            random,
            feeds,
            steps,
            ..
        } => {
            let how = if *random { "Random" } else { "Interleave" };
            (
                format!("{how} \"{name}\": one child each time"),
                feeds,
                steps,
            )
        }
        Step::Runtime {
            name, limit, steps, ..
        } => (
            format!("Runtime \"{name}\": repeats for {} s", limit.as_secs_f64()),
            no_feeds,
            steps,
        ),
    })
}

fn explain_feeds(out: &mut String, feeds: &[Feed], depth: usize) {
    let pad = "  ".repeat(depth);
    for f in feeds {
        let _ = match f {
            Feed::Csv(f) => writeln!(
                out,
                "{pad}CSV \"{}\": {} → {} (next line each iteration)",
                f.data.name,
                f.data.source,
                f.data.names.join(", ")
            ),
            Feed::Counter(c) => writeln!(
                out,
                "{pad}Counter {} from {} by {}{}{} (next value each iteration)",
                c.var,
                c.start,
                c.incr,
                if c.end == i64::MAX {
                    String::new()
                } else {
                    format!(" up to {}", c.end)
                },
                if c.per_user { ", per user" } else { ", shared" }
            ),
            Feed::Parameters(p) => writeln!(
                out,
                "{pad}User Parameters \"{}\": {} (set each iteration)",
                p.element,
                p.names.join(", ")
            ),
        };
    }
}

/// `--validate`'s lines for a script sampler.
fn explain_script(out: &mut String, s: &ScriptStep, pad: &str) {
    use std::fmt::Write;
    let _ = write!(out, "{pad}script sampler {}", s.script.describe());
    if !s.delay.is_zero() {
        let _ = write!(out, ", waits {} ms before", s.delay.as_millis());
    }
    let _ = writeln!(out);
    for p in &s.pre {
        let _ = writeln!(out, "{pad}  pre-process {}", p.describe());
    }
    for a in &s.assertions {
        let _ = writeln!(out, "{pad}  assert {}", a.describe());
    }
    for e in &s.extractors {
        let _ = writeln!(out, "{pad}  extract {}", e.describe());
    }
}
