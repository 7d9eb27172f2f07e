//! The thread groups of the jmeter-plugins project, as a start and end time per thread
//! ([`ThreadWindow`]): each user starts at its time and stops at its end like a JMeter thread
//! with an end time (it finishes its current sample, and waits in no timer past the end).
//!
//! Followed: jmeter-plugins `jpgc-casutg` 2.x / 3.x source (github.com/undera/jmeter-plugins,
//! `plugins/casutg`, version 3.1.1 of the pom):
//! - **Ultimate Thread Group** (`kg.apc.jmeter.threads.UltimateThreadGroup`): rows of
//!   `ultimatethreadgroupdata` (threads, initial delay s, startup time s, hold s, shutdown s).
//!   `scheduleThread` counts the row's threads down from N: the k-th scheduled thread
//!   (`k` = N, N−1, …, 1) starts at `delay + ⌊1000·startup·k/N⌋` ms and ends at
//!   `delay + startup + hold` s `+ ⌊1000·shutdown·k/N⌋` ms.
//! - **Stepping Thread Group** (`kg.apc.jmeter.threads.SteppingThreadGroup`): thread n
//!   (0-based) of `ThreadGroup.num_threads`, with the properties `Threads initial delay`,
//!   `Start users count` / `… burst` / `… period`, `rampUp`, `flighttime`, `Stop users count`
//!   / `… period`, exactly as `scheduleThread` computes start and end times.
//! - **Concurrency Thread Group** (`com.blazemeter.jmeter.threads.concurrency.
//!   ConcurrencyThreadGroup`): `TargetLevel` users reached over `RampUp` in `Steps` steps (0:
//!   linear), held for `Hold`, in seconds or minutes (`Unit` `S` / `M`); the planned
//!   concurrency at t is `ConcurrencyThreadStarter.getPlannedConcurrency`, so user k starts at
//!   the first t where it is ≥ k, and every user ends at `RampUp + Hold`. `Iterations`
//!   (a limit of iterations) is refused.

use std::time::Duration;

use loadlake_plan::TestElement;

use crate::compile::Compiler;
use crate::error::RunnerError;
use crate::model::ThreadWindow;

/// The jmeter-plugins thread groups the runner schedules.
pub(crate) const PLUGIN_GROUPS: &[&str] = &[
    "UltimateThreadGroup",
    "SteppingThreadGroup",
    "ConcurrencyThreadGroup",
];

fn ms(v: i64) -> Duration {
    Duration::from_millis(u64::try_from(v).unwrap_or(0))
}

/// Ultimate Thread Group rows (threads, delay, startup, hold, shutdown) → one window per thread.
pub(crate) fn ultimate(rows: &[[i64; 5]]) -> Vec<ThreadWindow> {
    let mut out = Vec::new();
    for &[n, delay, startup, hold, shutdown] in rows {
        for k in (1..=n).rev() {
            let start = 1000 * delay + (1000 * startup * k) / n;
            let end = 1000 * (delay + startup + hold) + (1000 * shutdown * k) / n;
            out.push(ThreadWindow {
                start: ms(start),
                end: ms(end),
            });
        }
    }
    out
}

/// Stepping Thread Group settings, in seconds and users.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stepping {
    pub threads: i64,
    pub delay: i64,
    pub in_count: i64,
    pub in_burst: i64,
    pub in_period: i64,
    pub ramp_up: i64,
    pub flight: i64,
    pub out_count: i64,
    pub out_period: i64,
}

/// `SteppingThreadGroup.scheduleThread` for every thread.
pub(crate) fn stepping(s: Stepping) -> Vec<ThreadWindow> {
    let n = s.threads;
    let in_count = if s.in_count == 0 { n } else { s.in_count }.max(1);
    let out_count = if s.out_count == 0 { n } else { s.out_count }.max(1);
    let mut burst = s.in_burst.min(n);
    if burst <= 0 {
        burst = in_count;
    }
    let iteration = 1000 * s.in_period + 1000 * s.ramp_up;
    let iterations_total = if n < burst {
        1
    } else {
        (n - burst + in_count - 1) / in_count
    };
    let mut last_count = (n - burst) % in_count;
    if last_count == 0 {
        last_count = in_count;
    }
    let ascent = 1000 * s.delay;
    let descent = ascent
        + iterations_total * iteration
        + (1000 * s.ramp_up / in_count) * last_count
        + 1000 * s.flight;
    (0..n)
        .map(|t| {
            let (bucket, bucket_threads, position) = if t < burst {
                (0, burst, t)
            } else {
                (1 + (t - burst) / in_count, in_count, (t - burst) % in_count)
            };
            let start =
                ascent + bucket * iteration + position * (1000 * s.ramp_up / bucket_threads);
            let end = descent + 1000 * s.out_period * (t / out_count);
            ThreadWindow {
                start: ms(start),
                end: ms(end),
            }
        })
        .collect()
}

/// The Concurrency Thread Group's users: user k starts when the planned concurrency reaches k.
pub(crate) fn concurrency(
    target: i64,
    ramp_up_s: f64,
    steps: i64,
    hold_s: f64,
) -> Vec<ThreadWindow> {
    let end = Duration::from_secs_f64((ramp_up_s + hold_s).max(0.0));
    let max = target as f64;
    (1..=target)
        .map(|k| {
            let kf = k as f64;
            let start_s = if ramp_up_s == 0.0 {
                0.0
            } else if steps > 0 {
                // round(stepSize·(j+1)) ≥ k for the first step j.
                let step_size = max / steps as f64;
                let step_len = ramp_up_s / steps as f64;
                let j = (0..steps)
                    .find(|j| (step_size * (*j as f64 + 1.0)).round() >= kf)
                    .unwrap_or(steps);
                j as f64 * step_len
            } else {
                // round(slope·t) ≥ k ⇔ t ≥ (k − ½) / slope.
                ((kf - 0.5) * ramp_up_s / max).max(0.0)
            };
            ThreadWindow {
                start: Duration::from_secs_f64(start_s.min(ramp_up_s)),
                end,
            }
        })
        .filter(|w| w.start < end)
        .collect()
}

impl Compiler<'_> {
    /// The thread windows of a jmeter-plugins thread group.
    pub(crate) fn plugin_windows(&self, g: &TestElement) -> Result<Vec<ThreadWindow>, RunnerError> {
        let int = |prop: &str| self.number(&g.name, prop, g.prop_str(prop), 0);
        match g.class_name() {
            "UltimateThreadGroup" => {
                let prop = "ultimatethreadgroupdata";
                let data = g
                    .prop_collection(prop)
                    .or_else(|| g.prop_collection("threads_schedule"));
                let mut rows = Vec::new();
                for row in data.iter().flat_map(|d| d.values()) {
                    let cells: Vec<&str> = row
                        .as_collection()
                        .map(|c| c.values().map(|v| v.as_str().unwrap_or("")).collect())
                        .unwrap_or_default();
                    if cells.len() < 5 {
                        return Err(RunnerError::invalid(
                            &g.name,
                            prop,
                            &cells.join(","),
                            "rows of 5 numbers (threads, delay, startup, hold, shutdown)",
                        ));
                    }
                    let mut r = [0i64; 5];
                    for (i, c) in cells.iter().take(5).enumerate() {
                        r[i] = self.number(&g.name, prop, Some(c), 0)?;
                        if r[i] < 0 {
                            return Err(RunnerError::invalid(&g.name, prop, c, "a number ≥ 0"));
                        }
                    }
                    rows.push(r);
                }
                Ok(ultimate(&rows))
            }
            "SteppingThreadGroup" => Ok(stepping(Stepping {
                threads: int("ThreadGroup.num_threads")?.max(0),
                delay: int("Threads initial delay")?,
                in_count: int("Start users count")?,
                in_burst: int("Start users count burst")?,
                in_period: int("Start users period")?,
                ramp_up: int("rampUp")?,
                flight: int("flighttime")?,
                out_count: int("Stop users count")?,
                out_period: int("Stop users period")?,
            })),
            _ => {
                let iterations = self.text(g, "Iterations")?;
                if !matches!(iterations.trim(), "" | "0") {
                    return Err(RunnerError::setting(
                        &g.name,
                        "Iterations",
                        iterations.trim(),
                        "a Concurrency Thread Group's iteration limit is not supported",
                    ));
                }
                let unit = match self.text(g, "Unit")?.trim() {
                    "M" => 60.0,
                    _ => 1.0,
                };
                let number = |prop: &str| -> Result<f64, RunnerError> {
                    let v = self.text(g, prop)?;
                    Ok(v.trim()
                        .parse::<f64>()
                        .unwrap_or_else(|_| self.report.not_a_number(&g.name, prop, &v) as f64))
                };
                Ok(concurrency(
                    number("TargetLevel")?.round().max(0.0) as i64,
                    number("RampUp")? * unit,
                    int("Steps")?,
                    number("Hold")? * unit,
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(w: &[ThreadWindow]) -> Vec<(u64, u64)> {
        w.iter()
            .map(|w| (w.start.as_millis() as u64, w.end.as_millis() as u64))
            .collect()
    }

    /// Users running at `t` ms.
    fn active(w: &[ThreadWindow], t: u64) -> usize {
        let t = Duration::from_millis(t);
        w.iter().filter(|w| w.start <= t && t < w.end).count()
    }

    #[test]
    fn ultimate_rows_schedule_as_the_plugin_counts_down() {
        // Row (4 threads, delay 1 s, startup 4 s, hold 2 s, shutdown 2 s): k = 4, 3, 2, 1 →
        // start 1000 + 1000·k ms, end 7000 + 500·k ms.
        let w = ultimate(&[[4, 1, 4, 2, 2]]);
        assert_eq!(
            s(&w),
            [(5000, 9000), (4000, 8500), (3000, 8000), (2000, 7500)]
        );
        // Users over time: 0 before 2 s, one more each second to 4 at 5 s, then one less each
        // half second from 7.5 s.
        let counts: Vec<usize> = [
            0, 1999, 2000, 3000, 4000, 5000, 7000, 7500, 8000, 8500, 9000,
        ]
        .iter()
        .map(|t| active(&w, *t))
        .collect();
        assert_eq!(counts, [0, 0, 1, 2, 3, 4, 4, 3, 2, 1, 0]);
        // Two rows add up; a startup of 0 starts the row at once.
        let w = ultimate(&[[1, 0, 0, 3, 0], [2, 1, 0, 1, 0]]);
        assert_eq!(s(&w), [(0, 3000), (1000, 2000), (1000, 2000)]);
    }

    #[test]
    fn stepping_follows_schedule_thread() {
        // 10 threads, delay 0, start 2 every 3 s (no burst), ramp-up 1 s, hold 5 s, stop 5
        // every 1 s. Buckets of 2 start at 0, 4, 8, 12, 16 s (period + ramp-up = 4 s), the
        // second of each 0.5 s later; iterations = ceil((10−2)/2) = 4, last bucket 2 users:
        // descent = 4·4000 + 500·2 + 5000 = 22000; ends 22000 for threads 0–4, 23000 for 5–9.
        let w = stepping(Stepping {
            threads: 10,
            in_count: 2,
            in_period: 3,
            ramp_up: 1,
            flight: 5,
            out_count: 5,
            out_period: 1,
            ..Stepping::default()
        });
        assert_eq!(
            s(&w),
            [
                (0, 22000),
                (500, 22000),
                (4000, 22000),
                (4500, 22000),
                (8000, 22000),
                (8500, 23000),
                (12000, 23000),
                (12500, 23000),
                (16000, 23000),
                (16500, 23000)
            ]
        );
        assert_eq!(active(&w, 10_000), 6);
        assert_eq!(active(&w, 22_500), 5);
        // A burst of 4 first: threads 0–3 at 0, 0.25, 0.5, 0.75 s; then 2 per 4 s.
        let w = stepping(Stepping {
            threads: 6,
            in_count: 2,
            in_burst: 4,
            in_period: 3,
            ramp_up: 1,
            flight: 1,
            ..Stepping::default()
        });
        let starts: Vec<u64> = s(&w).iter().map(|p| p.0).collect();
        assert_eq!(starts, [0, 250, 500, 750, 4000, 4500]);
    }

    #[test]
    fn concurrency_reaches_the_target_in_steps_or_linearly() {
        // 10 users over 20 s in 4 steps (2.5 users a step: round → 3, 5, 8, 10 at 0, 5, 10,
        // 15 s), held 10 s: all end at 30 s.
        let w = concurrency(10, 20.0, 4, 10.0);
        let starts: Vec<u64> = s(&w).iter().map(|p| p.0).collect();
        assert_eq!(
            starts,
            [0, 0, 0, 5000, 5000, 10000, 10000, 10000, 15000, 15000]
        );
        assert!(w.iter().all(|w| w.end == Duration::from_secs(30)));
        assert_eq!(
            [0, 4999, 5000, 14999, 15000, 29999, 30000].map(|t| active(&w, t)),
            [3, 3, 5, 8, 10, 10, 0]
        );
        // Linear: 4 users over 8 s → round(t/2) ≥ k at t = 1, 3, 5, 7 s.
        let starts: Vec<u64> = s(&concurrency(4, 8.0, 0, 2.0))
            .iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(starts, [1000, 3000, 5000, 7000]);
        // No ramp-up: everyone at once.
        assert_eq!(s(&concurrency(2, 0.0, 0, 5.0)), [(0, 5000), (0, 5000)]);
    }
}
