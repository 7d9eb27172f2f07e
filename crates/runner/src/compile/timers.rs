//! Compiling the timers in scope of a sampler: the constant delays (Constant Timer, and the
//! offsets of the Uniform / Gaussian Random Timers), their random parts ([`RandomDelay`]) and the
//! Constant / Precise Throughput Timers and the jp@gc Throughput Shaping Timer.

use std::time::Duration;

use loadlake_plan::TestElement;

use crate::compile::{Compiler, Scope};
use crate::elements::shaping_timer::{ShapeRow, ShapingTimer};
use crate::elements::throughput_timers::{ConstantThroughput, PreciseThroughput, ThroughputMode};
use crate::error::RunnerError;
use crate::model::{RandomDelay, ThroughputTimer};

impl Compiler<'_> {
    /// Sum of the constant delays of the timers in scope (Constant Timers, and the offsets of
    /// the random timers).
    pub(crate) fn delay(&self, scope: &Scope<'_>) -> Result<Duration, RunnerError> {
        let mut total = 0u64;
        for t in scope.timers.iter().filter(|t| {
            matches!(
                t.class_name(),
                "ConstantTimer" | "UniformRandomTimer" | "GaussianRandomTimer"
            )
        }) {
            total = total.saturating_add(self.count(t, "ConstantTimer.delay", 0)?);
        }
        Ok(Duration::from_millis(total))
    }

    /// The random parts of the Uniform / Gaussian Random Timers in scope (`RandomTimer.range`).
    pub(crate) fn random_delays(&self, scope: &Scope<'_>) -> Result<Vec<RandomDelay>, RunnerError> {
        let mut out = Vec::new();
        for t in &scope.timers {
            let uniform = match t.class_name() {
                "UniformRandomTimer" => true,
                "GaussianRandomTimer" => false,
                _ => continue,
            };
            let range = self.non_negative(t, "RandomTimer.range", "a number of ms", 0.0)?;
            out.push(if uniform {
                RandomDelay::Uniform { range_ms: range }
            } else {
                RandomDelay::Gaussian {
                    deviation_ms: range,
                }
            });
        }
        Ok(out)
    }

    /// A number ≥ 0 (`default` when empty).
    fn non_negative(
        &self,
        e: &TestElement,
        prop: &str,
        expected: &str,
        default: f64,
    ) -> Result<f64, RunnerError> {
        let raw = self.text(e, prop)?;
        match raw.trim() {
            "" => Ok(e.prop_f64(prop).unwrap_or(default)),
            v => v
                .parse::<f64>()
                .ok()
                .filter(|r| r.is_finite() && *r >= 0.0)
                .ok_or_else(|| RunnerError::invalid(&e.name, prop, &raw, expected)),
        }
    }

    /// The Constant / Precise Throughput Timers in scope; one state per element and thread group
    /// (per element for the all-threads shared mode).
    pub(crate) fn throughput_timers(
        &mut self,
        scope: &Scope<'_>,
    ) -> Result<Vec<ThroughputTimer>, RunnerError> {
        let mut out = Vec::new();
        for t in &scope.timers {
            let class = t.class_name();
            if !matches!(
                class,
                "ConstantThroughputTimer" | "PreciseThroughputTimer" | "VariableThroughputTimer"
            ) {
                continue;
            }
            let ptr = *t as *const TestElement;
            let per_group = (ptr, self.group_index);
            if let Some(timer) = self
                .timers
                .get(&per_group)
                .or(self.timers.get(&(ptr, usize::MAX)))
            {
                out.push(timer.clone());
                continue;
            }
            let (key, timer) = if class == "VariableThroughputTimer" {
                // NoThreadClone: one schedule for every thread of every group.
                let timer = ThroughputTimer::Shaping(self.shaping_timer(t)?);
                ((ptr, usize::MAX), timer)
            } else if class == "ConstantThroughputTimer" {
                let per_minute = self.non_negative(t, "throughput", "samples per minute", 0.0)?;
                let raw_mode = self.text(t, "calcMode")?;
                let raw_mode = match raw_mode.trim() {
                    "" => t
                        .prop_i64("calcMode")
                        .map_or("0".to_string(), |m| m.to_string()),
                    m => m.to_string(),
                };
                let mode = ThroughputMode::parse(&raw_mode).ok_or_else(|| {
                    RunnerError::invalid(
                        &t.name,
                        "calcMode",
                        &raw_mode,
                        "calcMode.1 … calcMode.5 (or 0 … 4)",
                    )
                })?;
                let key = if mode == ThroughputMode::AllShared {
                    (ptr, usize::MAX)
                } else {
                    per_group
                };
                let mut timer = ConstantThroughput::new(per_minute, mode);
                // The shared modes share one schedule per run (all threads) or per thread
                // group, whichever element the timer is.
                let schedule_key = match mode {
                    ThroughputMode::AllShared => Some(usize::MAX),
                    ThroughputMode::GroupShared => Some(self.group_index),
                    _ => None,
                };
                if let Some(k) = schedule_key {
                    match self.schedules.get(&k) {
                        Some(first) => timer = timer.sharing_schedule_with(first),
                        None => {
                            self.schedules.insert(k, timer.clone());
                        }
                    }
                }
                let timer = ThroughputTimer::Constant {
                    id: self.id(),
                    timer,
                };
                (key, timer)
            } else {
                (per_group, ThroughputTimer::Precise(self.precise_timer(t)?))
            };
            self.timers.insert(key, timer.clone());
            out.push(timer);
        }
        Ok(out)
    }

    /// The jp@gc Throughput Shaping Timer's `load_profile` rows (start RPS, end RPS, duration
    /// in s). The plugin reads them with `getDoubleValue` / `getIntValue`: text that is not a
    /// number is 0, with a warning here. The `load_profile` JMeter property, which replaces the
    /// rows (`const(…) line(…) step(…)`), is refused.
    fn shaping_timer(&self, t: &TestElement) -> Result<ShapingTimer, RunnerError> {
        const PROP: &str = "load_profile";
        if let Some(profile) = self.ev.props().get(PROP) {
            return Err(RunnerError::setting(
                &t.name,
                "the JMeter property load_profile",
                profile,
                "a load profile given as a property (const / line / step) is not implemented; \
                 write the rows in the timer",
            ));
        }
        let mut rows = Vec::new();
        for (i, row) in t
            .prop_collection(PROP)
            .iter()
            .flat_map(|d| d.values())
            .enumerate()
        {
            let cells: Vec<&str> = row
                .as_collection()
                .map(|c| c.values().map(|v| v.as_str().unwrap_or("")).collect())
                .unwrap_or_default();
            let [from, to, seconds] = cells.as_slice() else {
                let why = "rows of three cells: start RPS, end RPS, duration in seconds";
                return Err(RunnerError::invalid(&t.name, PROP, &cells.join(", "), why));
            };
            let prop = format!("{PROP} row {}", i + 1);
            let rate = |raw: &&str| -> Result<f64, RunnerError> {
                let v = self.eval(&t.name, &prop, raw)?;
                Ok(match v.trim() {
                    "" => 0.0,
                    n => n
                        .parse::<f64>()
                        .unwrap_or_else(|_| self.report.not_a_number(&t.name, &prop, &v) as f64),
                })
            };
            rows.push(ShapeRow {
                from: rate(from)?,
                to: rate(to)?,
                seconds: self.number(&t.name, &prop, Some(*seconds), 0)?,
            });
        }
        Ok(ShapingTimer::new(t.name.clone(), rows))
    }

    fn precise_timer(&self, t: &TestElement) -> Result<PreciseThroughput, RunnerError> {
        let num = |p: &str, default: f64| self.non_negative(t, p, "a number ≥ 0", default);
        let seed = num("randomSeed", 0.0)? as u64;
        PreciseThroughput::new(
            num("throughput", 100.0)?,
            num("throughputPeriod", 3600.0)?,
            num("duration", 3600.0)?,
            num("batchSize", 1.0)? as u32,
            num("batchThreadDelay", 0.0)? as u64,
            num("exactLimit", 10000.0)? as u64,
            num("allowedThroughputSurplus", 1.0)?,
            (seed != 0).then_some(seed),
            // The schedule starts when the run does (its first delay), not now.
            None,
        )
        .map_err(|e| RunnerError::invalid(&t.name, "throughput", "", &e))
    }
}
