//! Arrival-rate profiles (open model): when each iteration of a `tps` stages file, or of
//! `loadlake run --mode tps`, is due.
//!
//! A `tps` stage's rate goes linearly from the previous stage's rate `r0` to its own `r1` over
//! `ramp_up` (`R`), then holds. Arrivals since the stage began are the integral of the rate:
//! `N(t) = r0·t + (r1 − r0)·t² / 2R` during the ramp and `N(R) + r1·(t − R)` after it. Iteration
//! `k` is due when the arrivals since the start reach `k`; [`LoadProfile::arrival_time`] inverts
//! `N` exactly (the root of the quadratic during a ramp), so a schedule never drifts: a constant
//! rate gives `k / rate`, as k6's arrival-rate executors and wrk2 do.

use std::time::Duration;

use crate::stages::{LoadProfile, Stage, StageShape};

impl StageShape {
    /// True for an arrival-rate (`tps`) stage.
    pub fn is_arrival_rate(&self) -> bool {
        matches!(self, StageShape::Tps { .. })
    }

    /// Iterations per second `t` after the stage started; `None` for a stage of users.
    pub fn rate_at(&self, t: Duration) -> Option<f64> {
        let StageShape::Tps { from, tps, ramp_up } = *self else {
            return None;
        };
        Some(if t >= ramp_up {
            tps
        } else {
            from + (tps - from) * t.as_secs_f64() / ramp_up.as_secs_f64()
        })
    }

    /// Arrivals in the first `t` of the stage (0 for a stage of users).
    fn arrivals_within(&self, t: Duration) -> f64 {
        let StageShape::Tps { from, tps, ramp_up } = *self else {
            return 0.0;
        };
        let r = ramp_up.as_secs_f64();
        let t = t.as_secs_f64();
        if t <= r {
            from * t + (tps - from) * t * t / (2.0 * r)
        } else {
            (from + tps) / 2.0 * r + tps * (t - r)
        }
    }

    /// When, since the stage began, the arrivals reach `m` (which must be below the stage's
    /// total).
    fn time_of_arrival(&self, m: f64) -> Duration {
        let StageShape::Tps { from, tps, ramp_up } = *self else {
            return Duration::ZERO;
        };
        if m <= 0.0 {
            return Duration::ZERO;
        }
        let r = ramp_up.as_secs_f64();
        let in_ramp = (from + tps) / 2.0 * r;
        let secs = if m < in_ramp {
            // a·t² + from·t = m with a = (tps − from) / 2R; this form of the root is stable
            // for ramps up and down (the discriminant exceeds tps² ≥ 0 while m < in_ramp).
            let a = (tps - from) / (2.0 * r);
            2.0 * m / (from + (from * from + 4.0 * a * m).max(0.0).sqrt())
        } else {
            r + (m - in_ramp) / tps
        };
        Duration::from_secs_f64(secs.max(0.0))
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
                let at = begin + stage.shape.time_of_arrival(n - before);
                // Rounding must not move an arrival into the next stage.
                return Some(at.min(begin + stage.length.saturating_sub(Duration::from_nanos(1))));
            }
            before += total;
            begin += stage.length;
        }
        None
    }
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
}
