//! Arrival-rate profiles (open model): when each iteration of a stages file of rates (`tps`,
//! `surge_tps`, `oscillation_tps`), or of `loadlake run --mode tps`, is due.
//!
//! A `tps` stage's rate goes linearly from the previous stage's rate `r0` to its own `r1` over
//! `ramp_up` (`R`), then holds. Arrivals since the stage began are the integral of the rate:
//! `N(t) = r0·t + (r1 − r0)·t² / 2R` during the ramp and `N(R) + r1·(t − R)` after it. A surge is
//! piecewise constant and an oscillation a triangle, both periodic: whole periods are counted,
//! then the same integrals are inverted within one. Iteration `k` is due when the arrivals since
//! the start reach `k`; [`LoadProfile::arrival_time`] inverts `N` exactly (the root of the
//! quadratic along a ramp), so a schedule never drifts: a constant rate gives `k / rate`, as k6's
//! arrival-rate executors and wrk2 do.

use std::time::Duration;

use crate::stages::{FieldError, LoadProfile, Stage, StageShape};

impl StageShape {
    /// True for an arrival-rate stage (`tps`, `surge_tps`, `oscillation_tps`).
    pub fn is_arrival_rate(&self) -> bool {
        matches!(
            self,
            StageShape::Tps { .. }
                | StageShape::SurgeTps { .. }
                | StageShape::OscillationTps { .. }
        )
    }

    /// Iterations per second `t` after the stage started; `None` for a stage of users.
    pub fn rate_at(&self, t: Duration) -> Option<f64> {
        let t = t.as_secs_f64();
        Some(match *self {
            StageShape::Tps { from, tps, ramp_up } => {
                let r = ramp_up.as_secs_f64();
                if t >= r {
                    tps
                } else {
                    from + (tps - from) * t / r
                }
            }
            StageShape::SurgeTps {
                min,
                max,
                base,
                burst,
            } => {
                let x = t % (base + burst).as_secs_f64();
                if x < base.as_secs_f64() { min } else { max }
            }
            StageShape::OscillationTps { min, max, period } => {
                let half = period.as_secs_f64() / 2.0;
                let x = t % period.as_secs_f64();
                let up = if x < half {
                    x / half
                } else {
                    (2.0 * half - x) / half
                };
                min + (max - min) * up
            }
            _ => return None,
        })
    }

    /// Arrivals in the first `t` of the stage (0 for a stage of users).
    fn arrivals_within(&self, t: Duration) -> f64 {
        let t = t.as_secs_f64();
        match *self {
            StageShape::Tps { from, tps, ramp_up } => {
                linear_arrivals(from, tps, ramp_up.as_secs_f64(), t)
            }
            StageShape::SurgeTps { .. } | StageShape::OscillationTps { .. } => {
                let (period, per_cycle) = self.cycle();
                let cycles = (t / period).floor();
                cycles * per_cycle + self.arrivals_in_cycle(t - cycles * period)
            }
            _ => 0.0,
        }
    }

    /// When, since the stage began, the arrivals reach `m` (which must be below the stage's
    /// total). A `tps` stage holds its rate past its end, so [`StageShape::time_of_count`] can
    /// ask it beyond.
    fn time_of_arrival(&self, m: f64) -> f64 {
        if m <= 0.0 {
            return 0.0;
        }
        match *self {
            StageShape::Tps { from, tps, ramp_up } => {
                linear_time_of(from, tps, ramp_up.as_secs_f64(), m)
            }
            StageShape::SurgeTps { .. } | StageShape::OscillationTps { .. } => {
                let (period, per_cycle) = self.cycle();
                let cycles = (m / per_cycle).floor();
                cycles * period + self.time_in_cycle(m - cycles * per_cycle)
            }
            _ => 0.0,
        }
    }

    /// A periodic stage's period and the arrivals in one period (seconds, count).
    fn cycle(&self) -> (f64, f64) {
        match *self {
            StageShape::SurgeTps {
                min,
                max,
                base,
                burst,
            } => {
                let (base, burst) = (base.as_secs_f64(), burst.as_secs_f64());
                (base + burst, min * base + max * burst)
            }
            StageShape::OscillationTps { min, max, period } => {
                let p = period.as_secs_f64();
                (p, (min + max) / 2.0 * p)
            }
            _ => (f64::INFINITY, 0.0),
        }
    }

    /// Arrivals in the first `x` seconds of one period of a periodic stage.
    fn arrivals_in_cycle(&self, x: f64) -> f64 {
        match *self {
            StageShape::SurgeTps { min, max, base, .. } => {
                let base = base.as_secs_f64();
                min * x.min(base) + max * (x - base).max(0.0)
            }
            StageShape::OscillationTps { min, max, period } => {
                let half = period.as_secs_f64() / 2.0;
                if x <= half {
                    linear_arrivals(min, max, half, x)
                } else {
                    linear_arrivals(min, max, half, half)
                        + linear_arrivals(max, min, half, x - half)
                }
            }
            _ => 0.0,
        }
    }

    /// When, within one period, the arrivals reach `r` (below the period's).
    fn time_in_cycle(&self, r: f64) -> f64 {
        match *self {
            StageShape::SurgeTps { min, max, base, .. } => {
                let base = base.as_secs_f64();
                if r < min * base {
                    r / min
                } else {
                    base + (r - min * base) / max
                }
            }
            StageShape::OscillationTps { min, max, period } => {
                let half = period.as_secs_f64() / 2.0;
                let rising = linear_arrivals(min, max, half, half);
                if r < rising {
                    linear_time_of(min, max, half, r)
                } else {
                    half + linear_time_of(max, min, half, r - rising)
                }
            }
            _ => 0.0,
        }
    }

    /// A `tps` stage that ends after `count` iterations: how long it lasts (the time the
    /// `count`-th arrival would be due, so exactly `count` are due before).
    pub(crate) fn time_of_count(&self, count: u64) -> Result<Duration, String> {
        let StageShape::Tps { from, tps, ramp_up } = *self else {
            return Err("only a tps stage ends after a count".into());
        };
        let n = count as f64;
        if count == 0 {
            return Err("must be at least 1".into());
        }
        // With a final rate of 0 only the ramp's arrivals ever come.
        if tps <= 0.0 && n >= (from + tps) / 2.0 * ramp_up.as_secs_f64() {
            return Err(format!(
                "{count} iterations never arrive: the rate ends at {tps} per second"
            ));
        }
        Duration::try_from_secs_f64(self.time_of_arrival(n))
            .map_err(|_| format!("{count} iterations take too long at {tps} per second"))
    }
}

/// Arrivals in the first `t` seconds of a rate going linearly from `r0` to `r1` over `span`
/// seconds, then holding `r1`: `r0·t + (r1 − r0)·t² / 2·span`, then `r1` per second.
fn linear_arrivals(r0: f64, r1: f64, span: f64, t: f64) -> f64 {
    if t <= span {
        r0 * t + (r1 - r0) * t * t / (2.0 * span)
    } else {
        (r0 + r1) / 2.0 * span + r1 * (t - span)
    }
}

/// When [`linear_arrivals`] reaches `m` ≥ 0 (infinite if never).
fn linear_time_of(r0: f64, r1: f64, span: f64, m: f64) -> f64 {
    if m <= 0.0 {
        return 0.0;
    }
    let in_ramp = (r0 + r1) / 2.0 * span;
    if m < in_ramp {
        // a·t² + r0·t = m with a = (r1 − r0) / 2·span; this form of the root is stable for
        // ramps up and down (the discriminant exceeds r1² ≥ 0 while m < in_ramp).
        let a = (r1 - r0) / (2.0 * span);
        2.0 * m / (r0 + (r0 * r0 + 4.0 * a * m).max(0.0).sqrt())
    } else {
        span + (m - in_ramp) / r1
    }
}

impl LoadProfile {
    /// An open-model profile of one stage: `per_second` from the start for `length`
    /// (`loadlake run --mode tps --tps R --duration D`).
    pub fn constant_rate(per_second: f64, length: Duration, max_vus: Option<u32>) -> LoadProfile {
        LoadProfile {
            stages: vec![Stage {
                name: "tps".into(),
                shape: StageShape::Tps {
                    from: per_second,
                    tps: per_second,
                    ramp_up: Duration::ZERO,
                },
                length,
                count: None,
                stop_when: Vec::new(),
            }],
            max_vus,
        }
    }

    /// True if the stages are arrival rates (open model) rather than users.
    pub fn is_arrival_rate(&self) -> bool {
        self.stages.iter().any(|s| s.shape.is_arrival_rate())
    }

    /// The highest rate any stage reaches (0 for a profile of users).
    pub fn max_rate(&self) -> f64 {
        self.stages
            .iter()
            .filter_map(|s| match s.shape {
                StageShape::Tps { from, tps, .. } => Some(from.max(tps)),
                StageShape::SurgeTps { max, .. } | StageShape::OscillationTps { max, .. } => {
                    Some(max)
                }
                _ => None,
            })
            .fold(0.0, f64::max)
    }

    /// When, after the start, the arrivals reach `n`: iteration `k` (0-based) is due at
    /// `arrival_time(k)`. `None` when the profile ends first.
    pub fn arrival_time(&self, n: f64) -> Option<Duration> {
        let mut begin = Duration::ZERO;
        let mut before = 0.0;
        for stage in &self.stages {
            let total = stage.shape.arrivals_within(stage.length);
            if n < before + total {
                let since = stage.shape.time_of_arrival(n - before);
                let at = begin + Duration::try_from_secs_f64(since).unwrap_or(stage.length);
                // Rounding must not move an arrival into the next stage.
                return Some(at.min(begin + stage.length.saturating_sub(Duration::from_nanos(1))));
            }
            before += total;
            begin += stage.length;
        }
        None
    }
}

/// A rate field: finite and ≥ 0 iterations per second.
pub(crate) fn check_rate(
    mode: &'static str,
    field: &'static str,
    rate: f64,
) -> Result<(), FieldError> {
    if rate.is_finite() && rate >= 0.0 {
        Ok(())
    } else {
        Err((
            mode,
            field,
            format!("must be a rate ≥ 0 per second, not {rate}"),
        ))
    }
}

/// `min` and `max` rates of a surge or oscillation: `max` ≥ `min` and above 0.
pub(crate) fn check_rate_range(mode: &'static str, min: f64, max: f64) -> Result<(), FieldError> {
    check_rate(mode, "min", min)?;
    check_rate(mode, "max", max)?;
    if max < min || max == 0.0 {
        return Err((
            mode,
            "max",
            format!("must be ≥ min ({min}) and > 0, not {max}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(d: Option<Duration>) -> f64 {
        d.map_or(f64::NAN, |d| d.as_secs_f64())
    }

    fn close(got: f64, want: f64) -> bool {
        (got - want).abs() < 1e-6
    }

    #[test]
    fn a_constant_rate_is_k_over_rate_and_ends_with_the_profile() {
        let p = LoadProfile::constant_rate(300.0, Duration::from_secs(10), None);
        for k in [0u32, 1, 299, 1500, 2999] {
            let want = f64::from(k) / 300.0;
            assert!(close(secs(p.arrival_time(f64::from(k))), want), "k={k}");
        }
        assert_eq!(p.arrival_time(3000.0), None);
        assert_eq!(p.max_rate(), 300.0);
    }

    #[test]
    fn ramps_hold_and_pauses_follow_the_integral_of_the_rate() {
        let yaml = "max_vus: 7
stages:
  - {mode: tps, tps: 10, ramp_up: 10s, duration: 20s, name: up}
  - {mode: tps, tps: 0, ramp_up: 10s, duration: 10s, name: down}
  - {mode: tps, tps: 0, duration: 5s, name: pause}
  - {mode: tps, tps: 4, duration: 5s}
";
        let p = LoadProfile::from_yaml(yaml, "t.yaml").unwrap();
        assert!(p.is_arrival_rate());
        assert_eq!(p.max_vus, Some(7));
        assert_eq!(p.max_users(), 0);
        let at = |n: f64| secs(p.arrival_time(n));
        // Up: N(t) = t²/2 for t ≤ 10 s (50 arrivals), then 10 per second (100 more).
        assert!(close(at(0.0), 0.0));
        assert!(close(at(12.5), 5.0));
        assert!(close(at(50.0), 10.0));
        assert!(close(at(100.0), 15.0));
        // Down from 10/s to 0 over 10 s: 50 arrivals; N(t) = 10t − t²/2 = 37.5 at t = 5 s.
        assert!(close(at(150.0 + 37.5), 25.0));
        // The pause has none; the last stage's 20 are 4 a second from 35 s.
        assert!(close(at(200.0), 35.0));
        assert!(close(at(201.0), 35.25));
        assert_eq!(p.arrival_time(220.0), None);
        // The live status shows the rate.
        assert_eq!(
            p.describe_at(Duration::from_secs(5)).as_deref(),
            Some("up (tps, 5.0/s)")
        );
        assert_eq!(
            p.describe_at(Duration::from_secs(26)).as_deref(),
            Some("down (tps, 4.0/s)")
        );
        assert_eq!(p.max_rate(), 10.0);
        // Counting due times second by second gives the integral of the rate.
        let per_second = |from: f64, to: f64| {
            (0u32..)
                .map(|k| p.arrival_time(f64::from(k)))
                .take_while(Option::is_some)
                .flatten()
                .filter(|t| (from..to).contains(&t.as_secs_f64()))
                .count()
        };
        assert_eq!(per_second(0.0, 1.0), 1); // ∫0..1 t dt = 0.5: arrival 0 at t = 0
        assert_eq!(per_second(0.0, 10.0), 50);
        assert_eq!(per_second(10.0, 20.0), 100);
        assert_eq!(per_second(30.0, 35.0), 0);
    }

    #[test]
    fn surges_and_oscillations_of_a_rate_count_whole_periods_then_invert_within_one() {
        let yaml = "stages:
  - {mode: surge_tps, min: 10, max: 50, base: 2s, burst: 1s, loops: 2}
  - {mode: oscillation_tps, min: 0, max: 20, period: 4s, duration: 8s}
";
        let p = LoadProfile::from_yaml(yaml, "t.yaml").unwrap();
        let at = |n: f64| secs(p.arrival_time(n));
        // Surge: 2 s at 10/s (20 arrivals), 1 s at 50/s (50), twice: 140 in 6 s.
        assert!(close(at(19.0), 1.9));
        assert!(close(at(20.0), 2.0));
        assert!(close(at(45.0), 2.5));
        assert!(close(at(70.0), 3.0));
        assert!(close(at(90.0), 5.0));
        assert!(close(at(95.0), 5.1));
        // Oscillation from 6 s: 0 → 20/s over 2 s (N = 5t², 20 arrivals), back to 0 over 2 s
        // (N = 20 + 20x − 5x²); 40 a period, 80 in 8 s.
        assert!(close(at(140.0 + 10.0), 6.0 + 2f64.sqrt()));
        assert!(close(at(140.0 + 20.0), 8.0));
        assert!(close(at(140.0 + 30.0), 8.0 + 2.0 - 2f64.sqrt()));
        assert!(close(at(140.0 + 50.0), 10.0 + 2f64.sqrt()));
        assert_eq!(p.arrival_time(220.0), None);
        assert_eq!(p.max_rate(), 50.0);
        assert_eq!(
            p.describe_at(Duration::from_millis(2500)).as_deref(),
            Some("stage 1 (surge_tps, 50.0/s)")
        );
        assert_eq!(
            p.describe_at(Duration::from_secs(9)).as_deref(),
            Some("stage 2 (oscillation_tps, 10.0/s)")
        );
    }

    #[test]
    fn a_tps_stage_can_end_after_a_count_of_iterations() {
        // 0 → 10/s over 2 s (10 arrivals), then 10/s: the 50th is due at 6 s.
        let p = LoadProfile::from_yaml(
            "stages:\n  - {mode: tps, tps: 10, ramp_up: 2s, count: 50}\n  - {mode: tps, tps: 4, count: 2}\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(p.stages[0].length, Duration::from_secs(6));
        assert!(close(secs(p.arrival_time(49.0)), 5.9));
        // The next stage holds 4/s for its 2 iterations: 0.5 s.
        assert!(close(secs(p.arrival_time(50.0)), 6.0));
        assert!(close(secs(p.arrival_time(51.0)), 6.25));
        assert_eq!(p.arrival_time(52.0), None);
        let err = |yaml: &str| {
            LoadProfile::from_yaml(yaml, "s.yaml")
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("stages:\n  - {mode: tps, tps: 5}\n"),
            "s.yaml: stage 1 (tps): duration: give the stage a `duration` or a `count` of \
             iterations (one of them)"
        );
        assert_eq!(
            err(
                "stages:\n  - {mode: tps, tps: 5, duration: 1s}\n  - {mode: tps, tps: 0, ramp_up: 2s, count: 6}\n"
            ),
            "s.yaml: stage 2 (tps): count: 6 iterations never arrive: the rate ends at 0 per second"
        );
        assert_eq!(
            err("stages:\n  - {mode: surge_tps, min: 5, max: 1, base: 1s, burst: 1s}\n"),
            "s.yaml: stage 1 (surge_tps): max: must be ≥ min (5) and > 0, not 1"
        );
    }
}
