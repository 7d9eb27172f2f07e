//! Throughput timers: the Constant Throughput Timer (`ConstantThroughputTimer`) and the Precise
//! Throughput Timer (`PreciseThroughputTimer`).
//!
//! Both compute the delay before a sampler from a `now` the caller passes in, so tests are
//! deterministic and the runner decides which clock to use.
//!
//! Sources checked: apache/jmeter `timers/ConstantThroughputTimer.java` (5.x),
//! `timers/poissonarrivals/PreciseThroughputTimer.java` and `ConstantPoissonProcessGenerator.java`
//! (5.3+, the generator of JMeter 5.6.3), and the component reference ("Precise Throughput Timer").

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// What a timer returns when JMeter would wait "forever": about a century. Java's value for a
/// throughput of 0 is `Long.MAX_VALUE / 1000` ms, which `Instant` arithmetic cannot hold on every
/// platform. Callers should race the sleep against the end of the run.
pub(crate) const NEVER: Duration = Duration::from_secs(100 * 365 * 86_400);

/// Microseconds per minute, as in `ConstantThroughputTimer.MICROSEC_PER_MIN`.
const MICROS_PER_MIN: f64 = 60_000_000.0;

/// `calcMode`: parses both `calcMode.1`…`calcMode.5` strings and the ≤2.x int form `0`…`4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThroughputMode {
    /// `calcMode.1`: "this thread only". Each user on its own paces at the target.
    ThisThread,
    /// `calcMode.2`: "all active threads". Each user's interval is multiplied by the number of
    /// active threads in the test.
    AllActive,
    /// `calcMode.3`: "all active threads in current thread group". As `AllActive`, with the
    /// thread group's active count.
    GroupActive,
    /// `calcMode.4`: "all active threads (shared)". One schedule for the whole test; each call
    /// takes the next slot.
    AllShared,
    /// `calcMode.5`: "all active threads in current thread group (shared)". One schedule per
    /// thread group.
    GroupShared,
}

impl ThroughputMode {
    /// Parses `calcMode`: the resource keys `calcMode.1`…`calcMode.5`, the int form `0`…`4`
    /// (JMeter ≤ 2.x, and the ordinal JMeter stores), and the English display strings old files
    /// saved (`ConstantThroughputTimerResources.properties`, converted by
    /// `ConstantThroughputTimer.setProperty`). Anything else gives `None`.
    pub fn parse(raw: &str) -> Option<ThroughputMode> {
        Some(match raw.trim() {
            "calcMode.1" | "0" | "this thread only" => ThroughputMode::ThisThread,
            "calcMode.2" | "1" | "all active threads" => ThroughputMode::AllActive,
            "calcMode.3" | "2" | "all active threads in current thread group" => {
                ThroughputMode::GroupActive
            }
            "calcMode.4" | "3" | "all active threads (shared)" => ThroughputMode::AllShared,
            "calcMode.5" | "4" | "all active threads in current thread group (shared)" => {
                ThroughputMode::GroupShared
            }
            _ => return None,
        })
    }
}

/// ConstantThroughputTimer; clones share the state of the shared modes.
///
/// The runner creates the shared state to match JMeter's scoping, which is static in
/// `ConstantThroughputTimer.java`. All `AllShared` timers of a run share one schedule
/// (`allThreadsInfo`), even when they are different elements. All `GroupShared` timers of one
/// thread group share one (`threadGroupsInfoMap`, keyed by the group only). Use
/// [`ConstantThroughput::sharing_schedule_with`] to join timers with different targets to the
/// same schedule.
#[derive(Debug, Clone)]
pub struct ConstantThroughput {
    /// `throughput`: samples per minute.
    pub per_minute: f64,
    /// `calcMode`.
    pub mode: ThroughputMode,
    /// The shared modes' `lastScheduledTime`. `None` is Java's initial 0, a time long past.
    shared: Arc<Mutex<Option<Instant>>>,
}

impl ConstantThroughput {
    /// A timer with its own shared schedule.
    pub fn new(per_minute: f64, mode: ThroughputMode) -> ConstantThroughput {
        ConstantThroughput {
            per_minute,
            mode,
            shared: Arc::default(),
        }
    }

    /// This timer, using `other`'s shared schedule (see the type's documentation).
    pub fn sharing_schedule_with(mut self, other: &ConstantThroughput) -> ConstantThroughput {
        self.shared = Arc::clone(&other.shared);
        self
    }

    /// The delay before a sampler, following JMeter's `ConstantThroughputTimer.delay` and
    /// `calculateDelay`. `last` is this user's own previous scheduled time for this timer
    /// (Java's per-thread `previousTime`; start with `None`). `all_active` / `group_active` are
    /// the active thread counts now.
    ///
    /// - The interval is `round(60e6 / throughput × n)` µs truncated to whole ms. `n` is 1
    ///   (`ThisThread`), `all_active` (`AllActive`) or `group_active` (`GroupActive`). Example:
    ///   7/min gives 8571 ms.
    /// - Shared modes take the next slot of the shared schedule: `slot = max(now,
    ///   lastScheduled + round(60e6 / throughput) µs)`. The interval is `slot − now`, truncated to
    ///   ms.
    /// - In every mode (Java applies `previousTime` to the shared modes too) the target is
    ///   `last + interval`. A target in the past means the user is behind: no delay, and
    ///   `last = now`. Otherwise the delay runs until the target, and `last = target`. The first
    ///   call (`last = None`, Java's `previousTime = 0`) never waits.
    /// - Throughput 0: Java divides by zero, so the interval is `Long.MAX_VALUE` µs and the user
    ///   waits until the end of the test. This returns [`NEVER`], without advancing the shared
    ///   schedule. (In the shared modes Java's `long` then overflows, which lets every later
    ///   caller through with no delay. That bug is not reproduced.) A negative throughput gives a
    ///   negative interval, so no delay, as in Java.
    pub fn delay(
        &self,
        last: &mut Option<Instant>,
        now: Instant,
        all_active: u32,
        group_active: u32,
    ) -> Duration {
        if self.per_minute == 0.0 {
            return NEVER;
        }
        let us_per_request = MICROS_PER_MIN / self.per_minute;
        let interval_ms = match self.mode {
            ThroughputMode::ThisThread => java_round(us_per_request) / 1000,
            ThroughputMode::AllActive => java_round(f64::from(all_active) * us_per_request) / 1000,
            ThroughputMode::GroupActive => {
                java_round(f64::from(group_active) * us_per_request) / 1000
            }
            ThroughputMode::AllShared | ThroughputMode::GroupShared => {
                self.shared_delay_us(now, java_round(us_per_request)) / 1000
            }
        };
        let Some(prev) = *last else {
            *last = Some(now);
            return Duration::ZERO;
        };
        let target = if interval_ms >= 0 {
            let step = Duration::from_millis(interval_ms.unsigned_abs()).min(NEVER);
            match prev.checked_add(step) {
                Some(t) => Some(t),
                None => return NEVER,
            }
        } else {
            prev.checked_sub(Duration::from_millis(interval_ms.unsigned_abs()))
        };
        match target {
            Some(t) if t >= now => {
                *last = Some(t);
                t - now
            }
            // Behind schedule (or a target before any representable time): catch up.
            _ => {
                *last = Some(now);
                Duration::ZERO
            }
        }
    }

    /// `calculateSharedDelay`: reserves the next slot of the shared schedule and returns the µs
    /// from `now` until it.
    fn shared_delay_us(&self, now: Instant, us_per_request: i64) -> i64 {
        let mut scheduled = lock(&self.shared);
        let next = scheduled.and_then(|l| {
            if us_per_request >= 0 {
                l.checked_add(Duration::from_micros(us_per_request.unsigned_abs()).min(NEVER))
            } else {
                l.checked_sub(Duration::from_micros(us_per_request.unsigned_abs()))
            }
        });
        let slot = match next {
            Some(n) if n > now => n,
            _ => now,
        };
        *scheduled = Some(slot);
        i64::try_from((slot - now).as_micros()).unwrap_or(i64::MAX)
    }
}

/// Java's `Math.round` for a double: round half up, saturating at the `long` range, NaN → 0
/// (Rust's float-to-int `as` saturates and maps NaN to 0 the same way).
fn java_round(x: f64) -> i64 {
    let floor = x.floor();
    let rounded = if x - floor >= 0.5 { floor + 1.0 } else { floor };
    rounded as i64
}

/// Locks a mutex, taking the data even if another holder panicked (the schedules stay usable).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// PreciseThroughputTimer: a Poisson-arrival schedule shared by the threads of a group; clones
/// share it.
///
/// The schedule is the one generated by JMeter 5.3+ (`ConstantPoissonProcessGenerator`). The
/// rate is `throughput / throughputPeriod` per second, divided by `batchSize` for batch starts.
/// Each `duration`-second window `[k·d, (k+1)·d)` gets exactly `ceil(rate × d)` batch starts,
/// spread as uniformly random points in the window, in time order. That is a Poisson process
/// conditioned on its count: the inter-arrival times are close to exponential, with mean
/// `1 / rate`. Windows repeat for as long as the test runs; `duration` is a hint, not a limit.
/// Each [`delay`](PreciseThroughput::delay) call takes the next departure for the calling user.
///
/// Where this differs from JMeter:
/// - The points of a window are drawn one at a time as successive minima (the next is
///   `t + (end − t)·(1 − V^(1/m))` with `m` points left). This has the same distribution as
///   JMeter's "draw N uniforms and sort", in O(1) memory. The random sequence is not Java's
///   `java.util.Random`, so a seed reproduces a schedule in loadlake, not JMeter's.
/// - `exactLimit` and `allowedThroughputSurplus` are accepted and ignored. JMeter 5.3 deprecated
///   them: its generator always produces the exact count. They only mattered to the 4.0–5.2
///   generator, which redrew exponential gaps until the count was exact (below `exactLimit`) or
///   within the surplus.
/// - Batches follow the documentation: the threads of a batch depart at `x`, `x + delay`,
///   `x + 2·delay`, …. JMeter 5.6.3's code gives every thread of a batch the same `x` and never
///   reads `batchThreadDelay` (docs≠code).
/// - Delays keep sub-millisecond precision. JMeter truncates to whole ms.
/// - JMeter stops the thread when the delay would pass the thread's scheduled end time
///   (`JMeterStopThreadException`). That check belongs to the runner.
/// - JMeter keys the schedule by thread group only (`groupEvents`), so two Precise Throughput
///   Timers in one group share the schedule of the first one used. The runner must create one
///   schedule per group to match.
#[derive(Debug, Clone)]
pub struct PreciseThroughput {
    schedule: Arc<Mutex<Schedule>>,
}

/// The generator state behind a [`PreciseThroughput`].
#[derive(Debug)]
struct Schedule {
    /// The test start: schedule times are offsets from it (JMeter's `testStarted`); `None`
    /// until the first user asks for a delay (the run's start, not the plan's compilation).
    start: Option<Instant>,
    rng: fastrand::Rng,
    /// Batch starts per window: `ceil(rate / batchSize × duration)`.
    per_window: u64,
    /// The window length in seconds (`duration`).
    window_s: f64,
    /// The index of the current window.
    window: u64,
    /// Batch starts still to come in the current window.
    left: u64,
    /// The current batch's start (s from the test start), or the window start before its first.
    last: f64,
    /// Threads per batch (`batchSize`).
    batch_size: u32,
    /// The gap between the threads of a batch, in seconds (`batchThreadDelay`).
    batch_delay_s: f64,
    /// Departures already given from the current batch.
    item: u32,
}

impl Schedule {
    /// The next departure, in seconds from the test start.
    fn next_departure(&mut self) -> f64 {
        if self.item > 0 && self.item < self.batch_size {
            let t = self.last + f64::from(self.item) * self.batch_delay_s;
            self.item += 1;
            return t;
        }
        if self.left == 0 {
            self.window += 1;
            self.last = self.window as f64 * self.window_s;
            self.left = self.per_window;
        }
        let end = (self.window + 1) as f64 * self.window_s;
        // The minimum of `left` uniform points in (last, end]: V ∈ (0, 1].
        let v = 1.0 - self.rng.f64();
        self.last += (end - self.last) * (1.0 - v.powf(1.0 / self.left as f64));
        self.left -= 1;
        self.item = 1;
        self.last
    }
}

impl PreciseThroughput {
    /// A schedule starting at `start` (the test start; `None`: when the first delay is asked). `throughput` is the number of samples per
    /// `period_s` seconds (`throughput`, `throughputPeriod`). `duration_s` is the window
    /// (`duration`). `batch_size` and `batch_delay_ms` are `batchSize` and `batchThreadDelay`.
    /// `exact_limit` and `surplus` are accepted and ignored, as in JMeter 5.3+ (see the type's
    /// documentation). `seed`: `None` or `Some(0)` picks a random seed ("change from 0 to
    /// random").
    ///
    /// It refuses what JMeter cannot run either: a throughput, period or duration that is not a
    /// positive finite number, and a batch size of 0. JMeter fails at the first delay with an
    /// empty event buffer.
    #[allow(clippy::too_many_arguments)] // one argument per element property
    pub fn new(
        throughput: f64,
        period_s: f64,
        duration_s: f64,
        batch_size: u32,
        batch_delay_ms: u64,
        _exact_limit: u64,
        _surplus: f64,
        seed: Option<u64>,
        start: Option<Instant>,
    ) -> Result<PreciseThroughput, String> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(throughput) {
            return Err(format!(
                "throughput must be a positive number of samples per period, not {throughput}"
            ));
        }
        if !positive(period_s) {
            return Err(format!(
                "throughputPeriod must be a positive number of seconds, not {period_s}"
            ));
        }
        if !positive(duration_s) {
            return Err(format!(
                "duration must be a positive number of seconds, not {duration_s}"
            ));
        }
        if batch_size == 0 {
            return Err("batchSize must be at least 1".to_string());
        }
        let starts_per_s = throughput / period_s / f64::from(batch_size);
        // `as` saturates: an absurd count just never finishes its window.
        let per_window = (starts_per_s * duration_s).ceil().max(1.0) as u64;
        let rng = match seed {
            Some(s) if s != 0 => fastrand::Rng::with_seed(s),
            _ => fastrand::Rng::new(),
        };
        Ok(PreciseThroughput {
            schedule: Arc::new(Mutex::new(Schedule {
                start,
                rng,
                per_window,
                window_s: duration_s,
                window: 0,
                left: per_window,
                last: 0.0,
                batch_size,
                batch_delay_s: batch_delay_ms as f64 / 1000.0,
                item: 0,
            })),
        })
    }

    /// The schedule's start (tests: set when built).
    #[cfg(test)]
    fn start_time(&self) -> Instant {
        lock(&self.schedule).start.unwrap_or_else(Instant::now)
    }

    /// The delay until this user's next scheduled event. It takes the next departure from the
    /// shared schedule; zero if that time has already passed.
    pub fn delay(&self, now: Instant) -> Duration {
        let (start, at) = {
            let mut schedule = lock(&self.schedule);
            let start = *schedule.start.get_or_insert(now);
            (start, schedule.next_departure())
        };
        let Ok(offset) = Duration::try_from_secs_f64(at) else {
            return NEVER;
        };
        match start.checked_add(offset) {
            Some(target) => target.saturating_duration_since(now),
            None => NEVER,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn calc_mode_parses_keys_ints_and_display_strings() {
        use ThroughputMode::*;
        let cases = [
            ("calcMode.1", ThisThread),
            ("0", ThisThread),
            ("this thread only", ThisThread),
            ("calcMode.2", AllActive),
            ("1", AllActive),
            ("calcMode.3", GroupActive),
            ("2", GroupActive),
            ("calcMode.4", AllShared),
            ("3", AllShared),
            ("all active threads (shared)", AllShared),
            ("calcMode.5", GroupShared),
            ("4", GroupShared),
        ];
        for (raw, mode) in cases {
            assert_eq!(ThroughputMode::parse(raw), Some(mode), "{raw}");
        }
        assert_eq!(ThroughputMode::parse("5"), None);
        assert_eq!(ThroughputMode::parse("calcMode.6"), None);
    }

    #[test]
    fn this_thread_paces_one_user_at_the_target() {
        // 60/min = 1 per second; calls 0 ms apart queue up one second apart (Java: previousTime
        // advances to each target). ConstantThroughputTimerTest.testTimer2: 60 → 1000 ms.
        let t = ConstantThroughput::new(60.0, ThroughputMode::ThisThread);
        let now = Instant::now();
        let mut last = None;
        let got: Vec<Duration> = (0..4).map(|_| t.delay(&mut last, now, 1, 1)).collect();
        assert_eq!(got, [ms(0), ms(1000), ms(2000), ms(3000)]);
    }

    #[test]
    fn the_delay_counts_from_the_previous_target() {
        // testTimer1: the second delay is 1000 ms minus the time elapsed since the first call.
        let t = ConstantThroughput::new(60.0, ThroughputMode::ThisThread);
        let t0 = Instant::now();
        let mut last = None;
        assert_eq!(t.delay(&mut last, t0, 1, 1), ms(0));
        assert_eq!(t.delay(&mut last, t0 + ms(500), 1, 1), ms(500));
        // Behind schedule (target t0+2000 passed): no delay and the schedule restarts from now.
        assert_eq!(t.delay(&mut last, t0 + ms(2500), 1, 1), ms(0));
        assert_eq!(last, Some(t0 + ms(2500)));
        // Exactly on target: zero delay, previousTime = target.
        assert_eq!(t.delay(&mut last, t0 + ms(3500), 1, 1), ms(0));
        assert_eq!(last, Some(t0 + ms(3500)));
    }

    #[test]
    fn intervals_are_rounded_microseconds_truncated_to_milliseconds() {
        // 60e6 / 7 = 8_571_428.57 µs → round 8_571_429 → 8571 ms.
        let t = ConstantThroughput::new(7.0, ThroughputMode::ThisThread);
        let now = Instant::now();
        let mut last = None;
        t.delay(&mut last, now, 1, 1);
        assert_eq!(t.delay(&mut last, now, 1, 1), ms(8571));
        // testTimer2: 60000/min → 1 ms.
        let t = ConstantThroughput::new(60_000.0, ThroughputMode::ThisThread);
        let mut last = None;
        t.delay(&mut last, now, 1, 1);
        assert_eq!(t.delay(&mut last, now, 1, 1), ms(1));
    }

    #[test]
    fn active_thread_modes_multiply_the_interval() {
        let now = Instant::now();
        // 60/min with 4 active threads: each user every 4000 ms.
        let t = ConstantThroughput::new(60.0, ThroughputMode::AllActive);
        let mut last = None;
        let got: Vec<Duration> = (0..3).map(|_| t.delay(&mut last, now, 4, 2)).collect();
        assert_eq!(got, [ms(0), ms(4000), ms(8000)]);
        // testTimer3: 600/min with 10 threads → 1000 ms.
        let t = ConstantThroughput::new(600.0, ThroughputMode::AllActive);
        let mut last = None;
        t.delay(&mut last, now, 10, 1);
        assert_eq!(t.delay(&mut last, now, 10, 1), ms(1000));
        // The group mode uses the group's count.
        let t = ConstantThroughput::new(60.0, ThroughputMode::GroupActive);
        let mut last = None;
        t.delay(&mut last, now, 4, 2);
        assert_eq!(t.delay(&mut last, now, 4, 2), ms(2000));
    }

    #[test]
    fn shared_modes_give_three_users_a_combined_spacing_of_one_second() {
        // 60/min shared by 3 users whose samples take no time. Hand-run of calculateSharedDelay
        // plus previousTime: the first calls never wait (previousTime = 0) but still reserve
        // slots 0, 1000 and 2000. The next calls get slots 3000, 4000 and 5000, and each user then
        // waits 3000 ms, so a sample starts every 1000 ms: 3000, 4000, 5000, 6000, 7000, 8000.
        for mode in [ThroughputMode::AllShared, ThroughputMode::GroupShared] {
            let timer = ConstantThroughput::new(60.0, mode);
            let users = [timer.clone(), timer.clone(), timer];
            let t0 = Instant::now();
            let mut last = [None; 3];
            let mut clock = [t0; 3];
            let mut starts = Vec::new();
            for _ in 0..3 {
                for u in 0..3 {
                    let d = users[u].delay(&mut last[u], clock[u], 3, 3);
                    clock[u] += d;
                    starts.push((clock[u] - t0).as_millis());
                }
            }
            assert_eq!(
                starts,
                [0, 0, 0, 3000, 4000, 5000, 6000, 7000, 8000],
                "{mode:?}"
            );
        }
    }

    #[test]
    fn separate_timers_have_separate_shared_schedules_unless_joined() {
        let now = Instant::now();
        let a = ConstantThroughput::new(60.0, ThroughputMode::AllShared);
        let b = ConstantThroughput::new(60.0, ThroughputMode::AllShared);
        let (mut la, mut lb) = (Some(now), Some(now));
        assert_eq!(a.delay(&mut la, now, 2, 2), ms(0));
        assert_eq!(b.delay(&mut lb, now, 2, 2), ms(0));
        let c = ConstantThroughput::new(30.0, ThroughputMode::AllShared).sharing_schedule_with(&a);
        let mut lc = Some(now);
        // a reserved `now`; c's next slot is 2000 ms (30/min) after it.
        assert_eq!(c.delay(&mut lc, now, 2, 2), ms(2000));
    }

    #[test]
    fn zero_throughput_waits_forever_and_negative_does_not_wait() {
        let now = Instant::now();
        for mode in [ThroughputMode::ThisThread, ThroughputMode::AllShared] {
            let t = ConstantThroughput::new(0.0, mode);
            let mut last = None;
            assert_eq!(t.delay(&mut last, now, 1, 1), NEVER);
            assert_eq!(t.delay(&mut last, now, 1, 1), NEVER);
        }
        let t = ConstantThroughput::new(-60.0, ThroughputMode::ThisThread);
        let mut last = Some(now);
        assert_eq!(t.delay(&mut last, now, 1, 1), ms(0));
    }

    #[test]
    fn java_round_matches_math_round() {
        assert_eq!(java_round(2.5), 3);
        assert_eq!(java_round(-2.5), -2);
        assert_eq!(java_round(2.4), 2);
        assert_eq!(java_round(f64::INFINITY), i64::MAX);
        assert_eq!(java_round(f64::NAN), 0);
    }

    fn precise(throughput: f64, period: f64, duration: f64, seed: u64) -> PreciseThroughput {
        PreciseThroughput::new(
            throughput,
            period,
            duration,
            1,
            0,
            10_000,
            1.0,
            Some(seed),
            Some(Instant::now()),
        )
        .unwrap()
    }

    /// The first `n` departures, in seconds from the start.
    fn departures(p: &PreciseThroughput, n: usize) -> Vec<f64> {
        (0..n)
            .map(|_| p.delay(p.start_time()).as_secs_f64())
            .collect()
    }

    #[test]
    fn precise_gives_exactly_throughput_times_duration_events_per_window() {
        // 10/s for a 100 s window: ConstantPoissonProcessGenerator generates ceil(10 × 100) =
        // 1000 events inside [0, 100) ("ensuring throughput*duration events will be present in
        // each duration"), and the next window starts at 100 s.
        for seed in 1..=20 {
            let t = departures(&precise(10.0, 1.0, 100.0, seed), 2001);
            assert!(
                t.windows(2).all(|w| w[0] <= w[1]),
                "seed {seed}: not in time order"
            );
            assert_eq!(
                t.iter().filter(|&&x| x < 100.0).count(),
                1000,
                "seed {seed}"
            );
            assert_eq!(
                t.iter().filter(|&&x| (100.0..200.0).contains(&x)).count(),
                1000
            );
            assert!(t[2000] >= 200.0);
        }
    }

    #[test]
    fn precise_inter_arrivals_look_poisson() {
        // 1000 sorted uniforms on [0, 100 s]:
        // - The mean gap is max/1000. P(max < 95 s) = 0.95^1000 ≈ 5e-23, so the mean lies in
        //   [95, 100] ms.
        // - The gaps are close to exponential with mean 100 ms, so their standard deviation is
        //   ≈ 100 ms with a standard error of ≈ 100·sqrt(8/4000) ≈ 4.5 ms. [75, 125] is more
        //   than 5 standard errors wide. Even spacing would give 0.
        // - The count in [0, 50 s) is Binomial(1000, ½): sd ≈ 15.8, so 500 ± 80 is 5 sd.
        for seed in 1..=20 {
            let t = departures(&precise(10.0, 1.0, 100.0, seed), 1000);
            let gaps: Vec<f64> = std::iter::once(t[0])
                .chain(t.windows(2).map(|w| w[1] - w[0]))
                .collect();
            let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
            let var =
                gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (gaps.len() - 1) as f64;
            assert!(
                (0.095..=0.100).contains(&mean),
                "seed {seed}: mean gap {mean}"
            );
            assert!(
                (0.075..=0.125).contains(&var.sqrt()),
                "seed {seed}: sd {}",
                var.sqrt()
            );
            let first_half = t.iter().filter(|&&x| x < 50.0).count();
            assert!(
                (420..=580).contains(&first_half),
                "seed {seed}: {first_half}"
            );
        }
    }

    #[test]
    fn precise_period_and_rounding_up() {
        // 60 per 60 s = 1/s; a 10 s window holds 10 events.
        let t = departures(&precise(60.0, 60.0, 10.0, 7), 11);
        assert_eq!(t.iter().filter(|&&x| x < 10.0).count(), 10);
        // 2.5/s over 3 s: ceil(7.5) = 8 events per window.
        let t = departures(&precise(2.5, 1.0, 3.0, 7), 9);
        assert_eq!(t.iter().filter(|&&x| x < 3.0).count(), 8);
    }

    #[test]
    fn precise_batches_depart_delay_apart() {
        // 6/s in batches of 3 = 2 batch starts/s; a 10 s window holds 20 batches (60 departures).
        // Docs: "if set to 42, and the batch size is 3, then threads will depart at x, x+42ms,
        // x+84ms".
        let p =
            PreciseThroughput::new(6.0, 1.0, 10.0, 3, 42, 0, 0.0, Some(3), Some(Instant::now()))
                .unwrap();
        let t = departures(&p, 63);
        for batch in t.chunks(3) {
            assert!((batch[1] - batch[0] - 0.042).abs() < 1e-9, "{batch:?}");
            assert!((batch[2] - batch[0] - 0.084).abs() < 1e-9, "{batch:?}");
        }
        let starts: Vec<f64> = t.chunks(3).map(|b| b[0]).collect();
        assert_eq!(starts.iter().filter(|&&x| x < 10.0).count(), 20);
        assert!(starts[20] >= 10.0);
    }

    #[test]
    fn precise_seeds_repeat_and_clones_share_the_schedule() {
        let a = departures(&precise(5.0, 1.0, 20.0, 99), 50);
        let b = departures(&precise(5.0, 1.0, 20.0, 99), 50);
        assert_eq!(a, b);
        assert_ne!(a, departures(&precise(5.0, 1.0, 20.0, 98), 50));
        // Two users alternating on clones see the one schedule between them.
        let p = precise(5.0, 1.0, 20.0, 99);
        let q = p.clone();
        let mixed: Vec<f64> = (0..50)
            .map(|i| if i % 2 == 0 { &p } else { &q })
            .map(|x| x.delay(p.start_time()).as_secs_f64())
            .collect();
        assert_eq!(mixed, a);
    }

    #[test]
    fn an_unstarted_schedule_starts_at_its_first_delay() {
        // Compiled at t0, first asked 5 s later: the schedule is as one started then.
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(5);
        let lazy = PreciseThroughput::new(2.0, 1.0, 10.0, 1, 0, 0, 0.0, Some(7), None).unwrap();
        let eager =
            PreciseThroughput::new(2.0, 1.0, 10.0, 1, 0, 0, 0.0, Some(7), Some(later)).unwrap();
        let firsts: Vec<(Duration, Duration)> = (0..4)
            .map(|_| (lazy.delay(later), eager.delay(later)))
            .collect();
        assert!(firsts.iter().all(|(a, b)| a == b), "{firsts:?}");
        assert!(firsts.iter().any(|(a, _)| !a.is_zero()), "{firsts:?}");
    }

    #[test]
    fn precise_delay_is_the_time_left_until_the_event() {
        let p = precise(1.0, 1.0, 10.0, 5);
        let q = precise(1.0, 1.0, 10.0, 5);
        let at = q.delay(q.start_time());
        // Asked 1 s after the start: the delay is the event time minus 1 s (or zero if passed).
        assert_eq!(
            p.delay(p.start_time() + ms(1000)),
            at.saturating_sub(ms(1000))
        );
        // Asked long after: zero.
        assert_eq!(
            p.delay(p.start_time() + Duration::from_secs(3600)),
            Duration::ZERO
        );
    }

    #[test]
    fn precise_refuses_what_jmeter_cannot_run() {
        let now = Instant::now();
        let new = |tp: f64, per: f64, dur: f64, batch: u32| {
            PreciseThroughput::new(tp, per, dur, batch, 0, 0, 0.0, None, Some(now))
        };
        assert!(new(0.0, 1.0, 10.0, 1).is_err());
        assert!(new(f64::NAN, 1.0, 10.0, 1).is_err());
        assert!(new(1.0, 0.0, 10.0, 1).is_err());
        assert!(new(1.0, 1.0, 0.0, 1).is_err());
        assert!(new(1.0, 1.0, 10.0, 0).is_err());
        assert!(new(1.0, 1.0, 10.0, 1).is_ok());
    }
}
