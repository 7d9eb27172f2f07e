//! The jp@gc Throughput Shaping Timer (`kg.apc.jmeter.timers.VariableThroughputTimer`,
//! jmeter-plugins `jpgc-tst`).
//!
//! Source checked: undera/jmeter-plugins `plugins/tst/src/main/java/kg/apc/jmeter/timers/
//! VariableThroughputTimer.java`. The element is `NoThreadClone`: one instance, so one schedule,
//! for every thread whose samplers it is in scope of. Its `load_profile` rows (start RPS, end
//! RPS, duration in s) are read by `getRPSForSecond` at whole seconds since the schedule began
//! (the wall-clock second of the first call): within a row the rate goes linearly from start
//! to end (`from + sec·(to − from)/duration`, the last second of a row still in it), and past
//! the last row the rate is −1, which stops the test. Within one wall-clock second at `rps`,
//! `delay()` lets the k-th sample of that second (k from 0) go once `k·1000/rps` ms of the
//! second have passed; the count starts again each second, so a second that could not send
//! its share does not catch up later.
//!
//! The plugin's waiting threads poll (`wait(1 + 1000·(waiting + 1)/rps)`, woken one at a time
//! as others pass); here each caller is given its slot at once — the first free one at or after
//! now, in this second or the next ones — so a user sleeps exactly until its slot. The counts per
//! second are the plugin's; only the moment within a slot when a polling thread wakes differs.
//! At rate 0 the plugin's `0 · ∞` is NaN, so the first sample of each second still goes
//! (`millisSinceLastSecond < NaN` is false); that is kept.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// One `load_profile` row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShapeRow {
    /// Start RPS.
    pub from: f64,
    /// End RPS.
    pub to: f64,
    /// Duration, whole seconds.
    pub seconds: i64,
}

/// What the timer tells a sampler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Wait this long, then sample.
    Wait(Duration),
    /// The schedule is over — now (zero), or by the time this caller's slot would come, the
    /// first second past the schedule: wait this long, then stop the test (the plugin's
    /// `stopTest`) instead of sampling.
    Over(Duration),
}

/// The Throughput Shaping Timer; clones share one schedule.
#[derive(Debug, Clone)]
pub struct ShapingTimer {
    /// The element's name.
    pub name: String,
    /// `load_profile`.
    pub rows: Arc<[ShapeRow]>,
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// Epoch ms of the second the schedule began in (`startSec`).
    start: Option<i64>,
    /// Epoch ms of the second whose slots are being handed out (`time`).
    second: i64,
    /// Samples given a slot in that second (`cntSent`).
    sent: u64,
    /// The rate of that second (`rps`).
    rps: f64,
}

impl ShapingTimer {
    /// A timer with its own schedule.
    pub fn new(name: String, rows: Vec<ShapeRow>) -> ShapingTimer {
        ShapingTimer {
            name,
            rows: rows.into(),
            state: Arc::default(),
        }
    }

    /// `getRPSForSecond`: the rate `elapsed` seconds into the schedule, −1 past its end; also
    /// the schedule's total length in seconds.
    pub fn rps_at(&self, elapsed: f64) -> (f64, i64) {
        let mut sec = elapsed;
        let mut result = -1.0;
        let mut found = false;
        let mut total = 0;
        for row in self.rows.iter() {
            total += row.seconds;
            if found {
                continue;
            }
            let duration = row.seconds as f64;
            if sec - duration <= 0.0 {
                result = row.from + sec * (row.to - row.from) / duration;
                found = true;
            } else {
                sec -= duration;
            }
        }
        (result, total)
    }

    /// The pause before a sampler at `now_ms` (epoch ms), reserving its slot.
    pub fn pace(&self, now_ms: i64) -> Pace {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let this_second = now_ms - now_ms.rem_euclid(1000);
        let first = s.start.is_none();
        let start = *s.start.get_or_insert(this_second);
        if first || this_second > s.second {
            s.second = this_second;
            s.sent = 0;
            s.rps = self.rps_at(((this_second - start) / 1000) as f64).0;
        }
        loop {
            if s.rps < 0.0 {
                let wait = u64::try_from(s.second - now_ms).unwrap_or(0);
                return Pace::Over(Duration::from_millis(wait));
            }
            let offset = s.sent as f64 * (1000.0 / s.rps);
            // `millisSinceLastSecond < cntSent · msecPerReq` holds the caller back; NaN
            // (0 · ∞ at rate 0) never does.
            if offset.is_nan() || offset < 1000.0 {
                let at = if offset.is_nan() {
                    s.second
                } else {
                    s.second + offset.ceil() as i64
                };
                s.sent += 1;
                let wait = u64::try_from(at - now_ms).unwrap_or(0);
                return Pace::Wait(Duration::from_millis(wait));
            }
            // This second is full: the caller goes in the next one.
            s.second += 1000;
            s.sent = 0;
            s.rps = self.rps_at(((s.second - start) / 1000) as f64).0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timer(rows: &[(f64, f64, i64)]) -> ShapingTimer {
        let rows = rows
            .iter()
            .map(|&(from, to, seconds)| ShapeRow { from, to, seconds })
            .collect();
        ShapingTimer::new("T".into(), rows)
    }

    #[test]
    fn rate_per_second_follows_get_rps_for_second() {
        // Worked by hand from getRPSForSecond: row 1 ramps 1 → 11 over 10 s, row 2 holds 5
        // for 5 s; the boundary second belongs to the earlier row.
        let t = timer(&[(1.0, 11.0, 10), (5.0, 5.0, 5)]);
        let at = |s: f64| t.rps_at(s).0;
        assert_eq!(at(0.0), 1.0);
        assert_eq!(at(3.0), 4.0);
        assert_eq!(at(10.0), 11.0);
        assert_eq!(at(11.0), 5.0);
        assert_eq!(at(15.0), 5.0);
        assert_eq!(at(16.0), -1.0);
        assert_eq!(t.rps_at(2.0).1, 15);
        assert_eq!(timer(&[]).rps_at(0.0), (-1.0, 0));
    }

    fn waits(t: &ShapingTimer, now: i64, n: usize) -> Vec<u64> {
        (0..n)
            .map(|_| match t.pace(now) {
                Pace::Wait(d) => d.as_millis() as u64,
                Pace::Over(d) => u64::MAX - d.as_millis() as u64,
            })
            .collect()
    }

    #[test]
    fn slots_are_k_times_1000_over_rps_into_each_second() {
        // 4 rps: slots at 0, 250, 500, 750 ms of each second; a fifth caller goes at the
        // start of the next second (whose count starts again).
        let t = timer(&[(4.0, 4.0, 10)]);
        let start = 1_700_000_000_000;
        assert_eq!(waits(&t, start + 100, 6), [0, 150, 400, 650, 900, 1150]);
        // Later in the next second: slots 0 and 1 of that second are taken.
        assert_eq!(waits(&t, start + 1_600, 2), [0, 150]);
        // 3 rps: 333.3 ms apart, released at the first whole ms (Java compares whole ms).
        let t = timer(&[(3.0, 3.0, 10)]);
        assert_eq!(waits(&t, start, 4), [0, 334, 667, 1000]);
    }

    #[test]
    fn the_schedule_ends_and_zero_rate_lets_one_sample_a_second() {
        let t = timer(&[(0.0, 0.0, 2)]);
        let start = 1_700_000_000_000;
        // Rate 0: the first of each second goes (NaN), the next waits for the next second.
        assert_eq!(waits(&t, start + 10, 3), [0, 990, 1990]);
        // Seconds 0, 1, 2 are in the 2 s row (the boundary second included); second 3 is not.
        assert_eq!(t.pace(start + 3_000), Pace::Over(Duration::ZERO));
        assert_eq!(t.pace(start + 3_500), Pace::Over(Duration::ZERO));
        // A slot that would fall past the schedule: wait for that second, then stop.
        let t = timer(&[(2.0, 2.0, 1)]);
        assert_eq!(waits(&t, start + 100, 2), [0, 400]);
        assert_eq!(waits(&t, start + 600, 2), [400, 900]);
        assert_eq!(t.pace(start + 600), Pace::Over(Duration::from_millis(1400)));
    }
}
