//! The logic controllers of a virtual user: which children run, how often, as JMeter decides it
//! (If, While, Switch, Once Only, Throughput, Runtime, Loop, Simple and Transaction
//! Controllers). Samplers are in [`crate::vu`].

use std::time::Instant;

use crate::model::{Step, WhileCondition};
use crate::text::condition::Condition;
use crate::vu::{Flow, StepFuture, Vu};

impl Vu {
    /// Runs one step; `first` says whether this is the first iteration of the enclosing loop.
    pub(crate) fn step<'a>(&'a mut self, step: &'a Step, first: bool) -> StepFuture<'a> {
        Box::pin(async move { self.run_step(step, first).await })
    }

    async fn run_step(&mut self, step: &Step, first: bool) -> Flow {
        match step {
            Step::Http(h) => self.http(h).await,
            Step::Simple { steps, .. } => self.steps(steps, first).await,
            Step::Loop {
                loops,
                id,
                continue_forever,
                csv,
                steps,
                ..
            } => {
                if !continue_forever && !self.loops_done.insert(*id) {
                    return Flow::Next;
                }
                self.repeat(*loops, csv, steps).await
            }
            Step::Transaction {
                name,
                parent,
                include_timers,
                steps,
            } => {
                self.transaction(name, *parent, *include_timers, steps, first)
                    .await
            }
            Step::If {
                name,
                condition,
                evaluate_all,
                steps,
            } => {
                self.if_controller(name, condition, *evaluate_all, steps, first)
                    .await
            }
            Step::While {
                name,
                condition,
                csv,
                steps,
            } => self.while_controller(name, condition, csv, steps).await,
            Step::Switch { value, steps, .. } => {
                let value = value.render(&mut self.user, &|v: &str| v.to_string());
                match switch_choice(&value, steps) {
                    Some(i) => self.steps(&steps[i..=i], first).await,
                    None => Flow::Next,
                }
            }
            Step::OnceOnly { steps, .. } => {
                if first {
                    self.steps(steps, first).await
                } else {
                    Flow::Next
                }
            }
            Step::Throughput {
                id,
                rule,
                shared,
                steps,
                ..
            } => {
                let run = match shared {
                    Some(counts) => match counts.lock() {
                        Ok(mut c) => c.arrive(*rule),
                        Err(poisoned) => poisoned.into_inner().arrive(*rule),
                    },
                    None => self.throughput_counts.entry(*id).or_default().arrive(*rule),
                };
                if run {
                    self.steps(steps, first).await
                } else {
                    Flow::Next
                }
            }
            Step::Runtime { limit, steps, .. } => {
                if limit.is_zero() {
                    return Flow::Next;
                }
                let end = Instant::now() + *limit;
                let mut pass = 0u64;
                while Instant::now() < end {
                    pass += 1;
                    let flow = self.loop_pass(&[], steps, pass == 1).await;
                    if flow != Flow::Next {
                        return flow;
                    }
                }
                Flow::Next
            }
        }
    }

    /// The If Controller: the children when the condition holds; with `evaluate_all`, the
    /// condition is checked again before each child and a false one ends the controller. A
    /// condition that cannot be evaluated counts as false, as in JMeter (which logs it).
    async fn if_controller(
        &mut self,
        name: &str,
        condition: &Condition,
        evaluate_all: bool,
        steps: &[Step],
        first: bool,
    ) -> Flow {
        if !evaluate_all {
            return if self.holds(name, condition) {
                self.steps(steps, first).await
            } else {
                Flow::Next
            };
        }
        for child in steps {
            if !self.holds(name, condition) {
                break;
            }
            let flow = self.step(child, first).await;
            if flow != Flow::Next {
                return flow;
            }
        }
        Flow::Next
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
        csv: &[crate::model::CsvFeed],
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
            let flow = self.loop_pass(csv, steps, pass == 1).await;
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
