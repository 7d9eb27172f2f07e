//! Peak-seeking (CodeArts 摸高): the run climbs a step ramp, and at the end of every step the
//! samples that ended within it are held against the KPI rules. The first step that breaks a
//! rule stops the run; the peak is the last step that met every rule. The smart variant also
//! stops at the **knee**, where more users stop buying throughput: the step's TPS grew by less
//! than a quarter of its users' growth over the previous step, or its mean response time grew
//! by more than half of it.
//!
//! Windows keep an exact histogram of elapsed milliseconds (value → count), so the percentile
//! rules are exact, whatever the traffic.

use std::time::Duration;

use loadlake_plan::{Kpi, LoadProfile};

use crate::kpi::window::Window;
use crate::sample::Sample;

/// Samples may reach the collector this long after the end of their step.
const LATE_SAMPLES: Duration = Duration::from_millis(250);

/// What the peak-seeking modes hold each step against.
#[derive(Debug, Clone, PartialEq)]
pub struct PeakSeeking {
    /// Rules every step must meet.
    pub kpis: Vec<Kpi>,
    /// Smart peak-seeking: also stop at the knee of the throughput curve.
    pub knee: bool,
    /// The ramp: users of each step, in order.
    levels: Vec<u32>,
    /// How long each step lasts.
    step_duration: Duration,
    /// The ramp as a load profile.
    profile: LoadProfile,
}

impl PeakSeeking {
    /// A ramp of `start` users, `step` more every `step_duration`, up to `max`.
    pub fn new(
        start: u32,
        step: u32,
        step_duration: Duration,
        max: u32,
        kpis: Vec<Kpi>,
        knee: bool,
    ) -> Result<PeakSeeking, String> {
        let profile = LoadProfile::step_ramp(start, step, step_duration, max)?;
        let steps = (profile.length().as_nanos() / step_duration.as_nanos()) as u32;
        let levels = (0..steps)
            .filter_map(|i| profile.users_at(step_duration * i))
            .collect();
        Ok(PeakSeeking {
            kpis,
            knee,
            levels,
            step_duration,
            profile,
        })
    }

    /// The ramp as a load profile.
    pub fn profile(&self) -> &LoadProfile {
        &self.profile
    }

    /// Users of each step, in order.
    pub fn levels(&self) -> &[u32] {
        &self.levels
    }
}

/// One step's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    /// Users the step ran.
    pub users: u32,
    pub samples: u64,
    pub errors: u64,
    /// Samples per second of the step.
    pub tps: f64,
    pub avg_rt_ms: f64,
    pub p95_ms: f64,
    pub success_rate: f64,
    /// The rules the step broke (and "knee: …" when the smart mode saw the knee there).
    pub broken: Vec<String>,
}

/// The outcome of a peak-seeking run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PeakReport {
    /// Every evaluated step, in order.
    pub steps: Vec<StepReport>,
    /// The last step that met every rule (an index into `steps`), `None` when the first one
    /// already broke one.
    pub peak: Option<usize>,
    /// A step broke a rule (or was the knee) and stopped the run; `false`: the ramp ended with
    /// every rule met, so the peak is at least the last step.
    pub stopped_by_rule: bool,
}

/// Follows a peak-seeking run from the collector: samples in, a stop decision out.
pub(crate) struct PeakSeeker {
    rules: PeakSeeking,
    /// The run's start, epoch ms.
    start_ms: i64,
    windows: Vec<Window>,
    report: PeakReport,
}

impl PeakSeeker {
    pub(crate) fn new(rules: PeakSeeking, start_ms: i64) -> PeakSeeker {
        let windows = rules.levels.iter().map(|_| Window::default()).collect();
        PeakSeeker {
            rules,
            start_ms,
            windows,
            report: PeakReport::default(),
        }
    }

    /// Counts a sample in the step it ended in (transaction samples are not counted: their
    /// requests are).
    pub(crate) fn add(&mut self, s: &Sample) {
        if s.kind != loadlake_schema::SampleKind::Sample {
            return;
        }
        let end = s.ts_ms + s.elapsed_ms - self.start_ms;
        let step_ms = self.rules.step_duration.as_millis().max(1) as i64;
        if let Some(w) = usize::try_from(end.div_euclid(step_ms))
            .ok()
            .and_then(|i| self.windows.get_mut(i))
        {
            w.add(s.elapsed_ms, s.success);
        }
    }

    /// Evaluates the steps that are over at `now_ms` (epoch); `true` when the run must stop.
    pub(crate) fn check(&mut self, now_ms: i64) -> bool {
        let step_ms = self.rules.step_duration.as_millis() as i64;
        let late = LATE_SAMPLES.as_millis() as i64;
        while self.report.steps.len() < self.windows.len() {
            let i = self.report.steps.len();
            if now_ms < self.start_ms + (i as i64 + 1) * step_ms + late {
                return false;
            }
            if self.evaluate(i) {
                return true;
            }
        }
        false
    }

    /// Evaluates step `i`; `true` when it stops the run.
    fn evaluate(&mut self, i: usize) -> bool {
        let seconds = self.rules.step_duration.as_secs_f64();
        let w = &self.windows[i];
        let mut broken: Vec<String> = self
            .rules
            .kpis
            .iter()
            .filter(|k| !k.comparison.holds(w.value(k.metric, seconds), k.limit))
            .map(|k| format!("{} (measured {:.1})", k.text, w.value(k.metric, seconds)))
            .collect();
        if w.samples == 0 {
            broken.push("no sample ended in the step".into());
        }
        let step = StepReport {
            users: self.rules.levels[i],
            samples: w.samples,
            errors: w.errors,
            tps: w.samples as f64 / seconds,
            avg_rt_ms: w.avg(),
            p95_ms: w.percentile(95),
            success_rate: w.success_rate(),
            broken,
        };
        let mut step = step;
        if self.rules.knee
            && let Some(prev) = self.report.steps.last()
            && let Some(why) = knee(prev, &step)
        {
            step.broken.push(why);
        }
        let stop = !step.broken.is_empty();
        tracing::info!(
            users = step.users,
            tps = format!("{:.1}", step.tps),
            avg_rt_ms = format!("{:.1}", step.avg_rt_ms),
            broken = ?step.broken,
            "peak-seeking step"
        );
        self.report.steps.push(step);
        if stop {
            self.report.stopped_by_rule = true;
        } else {
            self.report.peak = Some(i);
        }
        stop
    }

    /// Evaluates what is left (the run ended) and hands over the report.
    pub(crate) fn finish(mut self) -> PeakReport {
        while !self.report.stopped_by_rule && self.report.steps.len() < self.windows.len() {
            let i = self.report.steps.len();
            if self.windows[i].samples == 0 {
                break;
            }
            self.evaluate(i);
        }
        self.report
    }
}

/// Why `step` is the knee after `prev`, if it is.
fn knee(prev: &StepReport, step: &StepReport) -> Option<String> {
    let growth = f64::from(step.users) / f64::from(prev.users.max(1)) - 1.0;
    if growth <= 0.0 || prev.tps <= 0.0 {
        return None;
    }
    let tps_growth = step.tps / prev.tps - 1.0;
    if tps_growth < growth / 4.0 {
        return Some(format!(
            "knee: TPS {:.1} → {:.1} (+{:.0} %) for +{:.0} % users",
            prev.tps,
            step.tps,
            100.0 * tps_growth,
            100.0 * growth
        ));
    }
    // (A few milliseconds more is noise, not a slope.)
    let rt_growth = step.avg_rt_ms / prev.avg_rt_ms.max(f64::MIN_POSITIVE) - 1.0;
    if prev.avg_rt_ms > 0.0 && rt_growth > growth / 2.0 && step.avg_rt_ms - prev.avg_rt_ms > 5.0 {
        return Some(format!(
            "knee: mean RT {:.1} → {:.1} ms (+{:.0} %) for +{:.0} % users",
            prev.avg_rt_ms,
            step.avg_rt_ms,
            100.0 * rt_growth,
            100.0 * growth
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(users: u32, tps: f64, avg: f64) -> StepReport {
        StepReport {
            users,
            samples: 0,
            errors: 0,
            tps,
            avg_rt_ms: avg,
            p95_ms: 0.0,
            success_rate: 100.0,
            broken: Vec::new(),
        }
    }

    #[test]
    fn the_knee_is_where_users_stop_buying_throughput() {
        // +20 % users, +20 % TPS, same RT: linear, no knee.
        assert_eq!(knee(&step(10, 200.0, 50.0), &step(12, 240.0, 50.0)), None);
        // +20 % users, +2 % TPS: the knee.
        let k = knee(&step(10, 200.0, 50.0), &step(12, 204.0, 59.0)).unwrap();
        assert!(k.starts_with("knee: TPS 200.0 → 204.0"), "{k}");
        // TPS still rising enough (+10 % ≥ 20 %/4) but RT up 40 % (> 20 %/2): the knee too.
        let k = knee(&step(10, 200.0, 50.0), &step(12, 220.0, 70.0)).unwrap();
        assert!(k.starts_with("knee: mean RT"), "{k}");
    }
}
