//! The logic controllers of a virtual user: which children run, how often, as JMeter decides it
//! (If, While, Switch, Once Only, Throughput, Runtime, Loop, Simple and Transaction
//! Controllers). Samplers are in [`crate::vu`].
//!
//! JMeter's iteration listeners are kept here: each time a controller (or the thread group)
//! begins an iteration — a Loop's or While's pass, an If entered, any other controller
//! entered — its own CSV Data Sets read their next line, its Throughput Controller children
//! decide whether they run this time (reached or not), and a Loop Controller's first pass
//! re-arms its Once Only children ([`Vu::iteration_start`]).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::model::{Feed, Step, WhileCondition};
use crate::text::condition::Condition;
use crate::text::template::Template;
use crate::vu::{Flow, StepFuture, Vu};

/// Per-thread state of the iteration listeners.
#[derive(Debug, Default)]
pub(crate) struct ListenerState {
    /// Once Only Controllers whose children ran (until re-armed), by id.
    once_done: HashSet<usize>,
    /// Interleave Controllers' next child, by id.
    interleave: HashMap<usize, usize>,
    /// Throughput Controllers' decisions for the current iteration of their parent, by id.
    throughput_run: HashMap<usize, bool>,
    /// The thread stops after a failed sample and, as JMeter, still looks for its next
    /// sampler: a transaction ending on the way writes its sample.
    pub walk_on: bool,
}

impl Vu {
    /// Runs one step.
    pub(crate) fn step<'a>(&'a mut self, step: &'a Step) -> StepFuture<'a> {
        Box::pin(async move { self.run_step(step).await })
    }

    /// A controller (or thread group) owning `feeds` and the children `steps` begins an
    /// iteration: the data sets read their next line, the Throughput children decide, and when
    /// `rearm` (a Loop Controller's first pass: JMeter's iteration 1) the Once Only children
    /// may run again. `Flow::Stop` when a data set ends the thread.
    pub(crate) fn iteration_start(&mut self, feeds: &[Feed], steps: &[Step], rearm: bool) -> Flow {
        for step in steps {
            match step {
                Step::Throughput {
                    id, rule, shared, ..
                } => {
                    let run = match shared {
                        Some(counts) => match counts.lock() {
                            Ok(mut c) => c.arrive(*rule),
                            Err(poisoned) => poisoned.into_inner().arrive(*rule),
                        },
                        None => self.throughput_counts.entry(*id).or_default().arrive(*rule),
                    };
                    self.listeners.throughput_run.insert(*id, run);
                }
                Step::OnceOnly { id, .. } if rearm => {
                    self.listeners.once_done.remove(id);
                }
                _ => {}
            }
        }
        self.advance_feeds(feeds)
    }

    /// Enters a controller: its iteration begins, then its children run.
    async fn enter(&mut self, feeds: &[Feed], steps: &[Step]) -> Flow {
        match self.iteration_start(feeds, steps, false) {
            Flow::Next => self.steps(steps).await,
            stop => stop,
        }
    }

    async fn run_step(&mut self, step: &Step) -> Flow {
        match step {
            Step::Http(h) => self.http(h).await,
            Step::Script(s) => self.script_step(s).await,
            Step::Action(a) => self.action(a).await,
            Step::Local(l) => self.local(l).await,
            Step::Parallel(p) => self.parallel(p).await,
            Step::Simple { feeds, steps, .. } => self.enter(feeds, steps).await,
            Step::Loop {
                loops,
                id,
                continue_forever,
                feeds,
                steps,
                ..
            } => {
                if !continue_forever && !self.loops_done.insert(*id) {
                    return Flow::Next;
                }
                self.repeat(*loops, feeds, steps).await
            }
            Step::Transaction {
                name,
                parent,
                include_timers,
                assertions,
                feeds,
                steps,
            } => {
                self.transaction(name, *parent, *include_timers, assertions, feeds, steps)
                    .await
            }
            Step::If {
                name,
                condition,
                evaluate_all,
                feeds,
                steps,
            } => {
                self.if_controller(name, condition, *evaluate_all, feeds, steps)
                    .await
            }
            Step::While {
                name,
                condition,
                feeds,
                steps,
            } => self.while_controller(name, condition, feeds, steps).await,
            Step::Switch {
                value,
                feeds,
                steps,
                ..
            } => self.switch_controller(value, feeds, steps).await,
            Step::OnceOnly {
                id, feeds, steps, ..
            } => self.once_only(*id, feeds, steps).await,
            Step::Throughput {
                id, feeds, steps, ..
            } => {
                // Decided when the parent began its iteration (never decided: not run).
                if self.listeners.throughput_run.get(id) == Some(&true) {
                    self.enter(feeds, steps).await
                } else {
                    Flow::Next
                }
            }
            Step::ForEach {
                input,
                output,
                start,
                end,
                feeds,
                steps,
                ..
            } => {
                self.for_each(input, output, *start..*end, feeds, steps)
                    .await
            }
            Step::Interleave {
                id,
                random,
                feeds,
                steps,
                ..
            } => self.interleave(*id, *random, feeds, steps).await,
            Step::Runtime {
                limit,
                feeds,
                steps,
                ..
            } => self.runtime_controller(*limit, feeds, steps).await,
        }
    }

    /// The Switch Controller: the child `value` names (by index or name), or none.
    async fn switch_controller(
        &mut self,
        value: &Template,
        feeds: &[Feed],
        steps: &[Step],
    ) -> Flow {
        let value = value.render(&mut self.user, &|v: &str| v.to_string());
        // The Switch begins its iteration (its data sets, its Throughput children)
        // whichever child it then runs.
        if self.iteration_start(feeds, steps, false) == Flow::Stop {
            return Flow::Stop;
        }
        match switch_choice(&value, steps) {
            Some(i) => self.steps(&steps[i..=i]).await,
            None => Flow::Next,
        }
    }

    /// The Once Only Controller `id`: its children the first time per thread (and again after a
    /// loop above it was ended from inside).
    async fn once_only(&mut self, id: usize, feeds: &[Feed], steps: &[Step]) -> Flow {
        if self.listeners.once_done.contains(&id) {
            return Flow::Next;
        }
        let flow = self.enter(feeds, steps).await;
        // A failure inside with `startnextloop` (or a Flow Control Action ending a
        // loop) ends the loop on every controller above the sampler up to that loop,
        // this one included: that re-arms it.
        if !flow.ends_loop() {
            self.listeners.once_done.insert(id);
        }
        flow
    }

    /// JMeter's ForeachController: pass N stores `input_N` (N = start + 1, …) in `output`,
    /// while it is defined and N ≤ end.
    async fn for_each(
        &mut self,
        input: &str,
        output: &str,
        passes: std::ops::Range<i64>,
        feeds: &[Feed],
        steps: &[Step],
    ) -> Flow {
        for n in passes {
            let Some(v) = self.user.vars.get(&format!("{input}{}", n + 1)).cloned() else {
                break;
            };
            self.user.vars.insert(output.to_string(), v);
            match self.loop_pass(feeds, steps, false).await {
                Flow::Next | Flow::ContinueLoop => {}
                Flow::BreakLoop => break,
                flow => return flow,
            }
        }
        Flow::Next
    }

    /// The Interleave Controller `id` (one child per pass, in turn) or, `random`, the Random
    /// Controller (one child per pass, drawn).
    async fn interleave(
        &mut self,
        id: usize,
        random: bool,
        feeds: &[Feed],
        steps: &[Step],
    ) -> Flow {
        if steps.is_empty() {
            return Flow::Next;
        }
        let i = if random {
            fastrand::usize(..steps.len())
        } else {
            let next = self.listeners.interleave.entry(id).or_default();
            let i = *next % steps.len();
            *next = i + 1;
            i
        };
        match self.iteration_start(feeds, steps, false) {
            Flow::Next => self.steps(&steps[i..=i]).await,
            stop => stop,
        }
    }

    /// The Runtime Controller: its children again and again until `limit` has passed.
    async fn runtime_controller(
        &mut self,
        limit: Duration,
        feeds: &[Feed],
        steps: &[Step],
    ) -> Flow {
        if limit.is_zero() {
            return Flow::Next;
        }
        let end = Instant::now() + limit;
        while Instant::now() < end {
            let flow = self.loop_pass(feeds, steps, false).await;
            if flow != Flow::Next {
                return flow;
            }
        }
        Flow::Next
    }

    /// The If Controller: the children when the condition holds; with `evaluate_all`, the
    /// condition is checked again before each child and a false one ends the controller. A
    /// condition that cannot be evaluated counts as false, as in JMeter (which logs it). Its
    /// iteration (its CSV Data Sets) begins only when it is entered. A false condition, and a
    /// `startnextloop` failure inside, re-initialize the controllers under it (JMeter's
    /// `initializeSubControllers`): their Once Only Controllers run again.
    async fn if_controller(
        &mut self,
        name: &str,
        condition: &Condition,
        evaluate_all: bool,
        feeds: &[Feed],
        steps: &[Step],
    ) -> Flow {
        if !self.holds(name, condition) {
            self.rearm_once_under(steps);
            return Flow::Next;
        }
        if self.iteration_start(feeds, steps, false) == Flow::Stop {
            return Flow::Stop;
        }
        for (i, child) in steps.iter().enumerate() {
            if evaluate_all && i > 0 && !self.holds(name, condition) {
                self.rearm_once_under(steps);
                break;
            }
            let flow = self.step(child).await;
            if flow != Flow::Next {
                if flow == Flow::Stop && i + 1 < steps.len() {
                    self.listeners.walk_on = false;
                }
                if flow.ends_loop() {
                    self.rearm_once_under(steps);
                }
                return flow;
            }
        }
        Flow::Next
    }

    /// Every Once Only Controller among `steps` and their descendants may run again.
    fn rearm_once_under(&mut self, steps: &[Step]) {
        if self.listeners.once_done.is_empty() {
            return;
        }
        for step in steps {
            if let Step::OnceOnly { id, .. } = step {
                self.listeners.once_done.remove(id);
            }
            self.rearm_once_under(step.children());
        }
    }

    fn holds(&mut self, name: &str, condition: &Condition) -> bool {
        match condition.eval(&mut self.user) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(controller = name, condition = condition.source(), error = %e,
                    "condition could not be evaluated: taken as false");
                false
            }
        }
    }

    /// The While Controller: checked before each pass (JMeter also checks after the last
    /// child, which decides the same thing before the next pass).
    async fn while_controller(
        &mut self,
        name: &str,
        condition: &WhileCondition,
        feeds: &[Feed],
        steps: &[Step],
    ) -> Flow {
        let mut pass = 0u64;
        loop {
            let go_on = match condition {
                WhileCondition::LastSampleOk => pass == 0 || self.last_ok,
                WhileCondition::Last => self.last_ok,
                WhileCondition::Text(t) => {
                    let text = t.render(&mut self.user, &|v: &str| v.to_string());
                    !text.trim().eq_ignore_ascii_case("false")
                }
            };
            if !go_on {
                return Flow::Next;
            }
            pass += 1;
            // A While Controller is no Loop Controller: its passes do not re-arm Once Only
            // children (JMeter re-arms on a Loop's iteration 1 only).
            let flow = match self.loop_pass(feeds, steps, false).await {
                Flow::ContinueLoop => Flow::Next,
                Flow::BreakLoop => return Flow::Next,
                flow => flow,
            };
            if flow != Flow::Next {
                return flow;
            }
            tracing::trace!(controller = name, pass, "while: next pass");
        }
    }
}

/// The child a Switch Controller runs for `value` (JMeter's rules): an index (out of range or
/// empty → child 0), else the child with that exact name, else one named `default` (any case),
/// else none.
pub(crate) fn switch_choice(value: &str, steps: &[Step]) -> Option<usize> {
    if steps.is_empty() {
        return None;
    }
    let v = value.trim();
    if v.is_empty() {
        return Some(0);
    }
    if let Ok(i) = v.parse::<i64>() {
        return Some(
            usize::try_from(i)
                .ok()
                .filter(|i| *i < steps.len())
                .unwrap_or(0),
        );
    }
    steps.iter().position(|s| s.name() == value).or_else(|| {
        steps
            .iter()
            .position(|s| s.name().eq_ignore_ascii_case("default"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ThroughputCounts, ThroughputRule};

    fn simple(name: &str) -> Step {
        Step::Simple {
            name: name.into(),
            feeds: Vec::new(),
            steps: Vec::new(),
        }
    }

    #[test]
    fn switch_picks_by_index_then_name_then_default() {
        let steps = vec![simple("a"), simple("B"), simple("Default")];
        assert_eq!(switch_choice("1", &steps), Some(1));
        assert_eq!(
            switch_choice("7", &steps),
            Some(0),
            "out of range → child 0"
        );
        assert_eq!(switch_choice("-1", &steps), Some(0));
        assert_eq!(switch_choice("", &steps), Some(0));
        assert_eq!(switch_choice("B", &steps), Some(1));
        assert_eq!(
            switch_choice("b", &steps),
            Some(2),
            "names are case-sensitive"
        );
        let no_default = vec![simple("a"), simple("B")];
        assert_eq!(switch_choice("zzz", &no_default), None);
    }

    #[test]
    fn throughput_counts_follow_jmeters_decide() {
        // Percent 50: (100·ran + 50) / reached < 50 → skip, run, skip, run, …
        let mut c = ThroughputCounts::default();
        let runs: Vec<bool> = (0..6)
            .map(|_| c.arrive(ThroughputRule::Percent(50.0)))
            .collect();
        assert_eq!(runs, [false, true, false, true, false, true]);
        // Percent 25 over 8 arrivals runs twice: at reached = 3 (50/3 < 25) and 7 (150/7 < 25).
        let mut c = ThroughputCounts::default();
        let runs: Vec<u64> = (1..=8)
            .filter(|_| c.arrive(ThroughputRule::Percent(25.0)))
            .collect();
        assert_eq!(runs, [3, 7]);
        // Total 2: the first two arrivals only.
        let mut c = ThroughputCounts::default();
        let runs: Vec<bool> = (0..4).map(|_| c.arrive(ThroughputRule::Total(2))).collect();
        assert_eq!(runs, [true, true, false, false]);
    }
}
