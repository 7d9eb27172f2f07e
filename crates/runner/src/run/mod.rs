//! Running a [`RunnablePlan`]: thread groups ramp their virtual users up (thread `i` starts at
//! `i · ramp-up / threads`), each user is a tokio task, and one collector — the `run` future
//! itself — turns their samples into batches of at most [`BATCH_ROWS`] rows, handed to the
//! synchronous [`SampleSink`] whenever a batch is full or every [`FLUSH_EVERY`].
//!
//! The plan's own schedule (ramp-up, loops, duration) is driven here; a [`LoadProfile`] of users
//! in [`shape`] (closed model) and an arrival rate in [`arrival`] (open model). The collector
//! feeds the live stop rules and peak-seeking windows of [`crate::kpi`].

pub(crate) mod arrival;
pub(crate) mod shape;
pub(crate) mod windows;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use loadlake_plan::{LoadProfile, StopRule};
use loadlake_schema::{SampleBatchBuilder, SampleSink};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::error::RunnerError;
use crate::http::client::now_ms;
use crate::kpi::peak::{PeakReport, PeakSeeker, PeakSeeking};
use crate::kpi::rules::RuleWatch;
use crate::model::{GroupRole, Loops, RunnablePlan, ThreadGroupPlan};
use crate::run::arrival::{ArrivalGroup, ArrivalRate, run_arrivals};
use crate::run::shape::{ShapedGroup, run_shaped};
use crate::sample::Sample;
use crate::vu::{
    RUNNING, STOP_GRACEFUL, STOP_NOW, Shared, Split, Vu, block, sleep_until_unless_stopped,
};

/// Most rows in one batch handed to the sink.
pub const BATCH_ROWS: usize = 4096;
/// Longest time a sample waits in the collector before its batch goes to the sink.
pub const FLUSH_EVERY: Duration = Duration::from_millis(500);
/// Samples that may wait between the virtual users and the collector, by default.
pub const CHANNEL_DEPTH: usize = 16 * 1024;

/// How to run a plan.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// When set, every thread group stops this long after the run starts, whatever its scheduler
    /// says; loops that run forever become bounded by it.
    pub duration: Option<Duration>,
    /// Safety limit: after this many samples the run stops at once and later samples are dropped.
    pub max_samples: Option<u64>,
    /// Cancellation (Ctrl-C): when the value turns `true` every thread stops at once and samples
    /// in flight are abandoned. The caller keeps the sender, e.g. fed by `tokio::signal::ctrl_c`.
    pub cancel: Option<watch::Receiver<bool>>,
    /// Graceful stop (`loadlake stop`): when the value turns `true` every user finishes its
    /// iteration and stops; tearDown groups run when the plan says so on shutdown.
    pub stop: Option<watch::Receiver<bool>>,
    /// Samples that may wait for the collector before virtual users must wait
    /// ([`CHANNEL_DEPTH`] when `None`).
    pub channel_depth: Option<usize>,
    /// Open model (`--mode tps`): the regular thread groups start iterations at this rate
    /// instead of looping (needs [`RunOptions::duration`]).
    pub arrival: Option<ArrivalRate>,
    /// Load stages (`--stages`, the peak-seeking modes): the regular thread groups keep as many
    /// users as the profile says (shared in proportion to their thread counts), looping until it
    /// ends. Not together with [`RunOptions::arrival`].
    pub profile: Option<LoadProfile>,
    /// Peak-seeking: the regular groups climb this step ramp and the run stops at the first
    /// step that breaks a KPI rule (or at the knee); the steps are in [`RunSummary::peak`].
    /// Not together with [`RunOptions::arrival`] or [`RunOptions::profile`].
    pub peak: Option<PeakSeeking>,
    /// Live stop rules for the whole run (`p95>500ms for 10s`); a stage's own rules come with
    /// [`RunOptions::profile`]. The first that holds for its time stops the run gracefully.
    pub stop_rules: Vec<StopRule>,
    /// Agents: the part of the plan's load this process generates (all of it by default).
    pub split: Split,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Samples handed to the sink (HTTP samples and transaction samples).
    pub samples: u64,
    /// Those of them that failed.
    pub errors: u64,
    /// Wall time from start to the last sample written.
    pub elapsed: Duration,
    /// The run was cancelled through [`RunOptions::cancel`].
    pub cancelled: bool,
    /// The run stopped because [`RunOptions::max_samples`] was reached.
    pub hit_max_samples: bool,
    /// Times a virtual user had to wait because the sample writer was behind (the sample
    /// channel was full). Zero means recording never slowed the load.
    pub writer_waits: u64,
    /// Open-model iterations dropped because every virtual user was busy and the queue full.
    pub dropped_iterations: u64,
    /// Peak-seeking runs: every step's numbers and the peak.
    pub peak: Option<PeakReport>,
    /// The stop rule that ended the run, with what it measured.
    pub stopped_by: Option<String>,
}

/// Runs `plan` against its targets and writes every sample into `sink`, in the order samples
/// finish (row numbers from 0). Runs on the caller's tokio runtime; the virtual users are spawned
/// tasks, the sink is called from this future only. A sink that blocks (a full
/// [`ThreadedSink`](loadlake_schema::ThreadedSink)) holds up this future, and the users wait once
/// the sample channel is full: back-pressure rather than unbounded memory.
///
/// Errors: [`RunnerError::Unbounded`] before any traffic when a group loops forever with no
/// duration; [`RunnerError::Sink`] / [`RunnerError::Batch`] stop the run at once.
pub async fn run(
    plan: &RunnablePlan,
    options: RunOptions,
    sink: &mut dyn SampleSink,
) -> Result<RunSummary, RunnerError> {
    let profile = driving_profile(&options)?;
    check_bounded(plan, &options, profile.is_some())?;
    let run_start = Instant::now();
    let (stop, _) = watch::channel(RUNNING);
    let shared = Arc::new(Shared {
        stop,
        all_active: AtomicI32::new(0),
        writer_waits: AtomicU64::new(0),
        dropped_iterations: AtomicU64::new(0),
        split: options.split,
    });
    let depth = options.channel_depth.unwrap_or(CHANNEL_DEPTH).max(1);
    let (tx, mut rx) = mpsc::channel::<Sample>(depth);
    let groups: Vec<Arc<ThreadGroupPlan>> = plan.groups.iter().cloned().map(Arc::new).collect();
    tracing::info!(plan = %plan.name, groups = groups.len(), "run starting");
    let launcher = tokio::spawn(launch(
        Launch {
            serialize: plan.serialize_groups,
            teardown_on_shutdown: plan.teardown_on_shutdown,
            shared: shared.clone(),
            tx,
            run_start,
            override_duration: options.duration,
            variables: Arc::new(plan.variables.iter().cloned().collect()),
            profile: profile.clone(),
            main_threads: plan
                .groups
                .iter()
                .filter(|g| g.role == GroupRole::Main)
                .map(|g| u64::from(g.threads))
                .sum::<u64>()
                .max(1),
        },
        groups,
    ));
    let watch_stop = |signal: Option<watch::Receiver<bool>>, level: u8| {
        signal.map(|mut signal| {
            let shared = shared.clone();
            tokio::spawn(async move {
                if signal.wait_for(|c| *c).await.is_ok() {
                    tracing::info!(now = level == STOP_NOW, "run stopping on request");
                    shared.stop_at(level);
                }
            })
        })
    };
    let stop_tasks = [
        watch_stop(options.cancel.clone(), STOP_NOW),
        watch_stop(options.stop.clone(), STOP_GRACEFUL),
    ];

    let mut collector = Collector {
        builder: SampleBatchBuilder::new(0),
        sink,
        samples: 0,
        errors: 0,
        max: options.max_samples,
        hit_max: false,
        peak: options.peak.map(|p| PeakSeeker::new(p, now_ms())),
        rules: RuleWatch::new(options.stop_rules, profile, now_ms()),
    };
    let (outcome, stopped_by) = collector.collect(&mut rx, &shared).await;
    for task in stop_tasks.into_iter().flatten() {
        task.abort();
    }
    if let Err(e) = outcome {
        tracing::error!(error = %e, "run stopped: samples can no longer be written");
        shared.stop_at(STOP_NOW);
        drop(rx);
        let _ = launcher.await;
        return Err(e);
    }
    if let Err(e) = launcher.await {
        tracing::error!(error = %e, "thread launcher failed");
    }
    let cancelled = options.cancel.as_ref().is_some_and(|c| *c.borrow());
    let summary = RunSummary {
        samples: collector.samples,
        errors: collector.errors,
        elapsed: run_start.elapsed(),
        cancelled,
        hit_max_samples: collector.hit_max,
        writer_waits: shared.writer_waits.load(Ordering::Relaxed),
        dropped_iterations: shared.dropped_iterations.load(Ordering::Relaxed),
        peak: collector.peak.take().map(PeakSeeker::finish),
        stopped_by,
    };
    summary.log();
    Ok(summary)
}

/// The one profile that drives the regular groups, if any: load stages (users or arrival
/// rates), the peak-seeking ramp, or a constant arrival rate (`--mode tps`) for the run's
/// duration. At most one of the three may be given, and an arrival rate needs a duration.
fn driving_profile(options: &RunOptions) -> Result<Option<Arc<LoadProfile>>, RunnerError> {
    if let Some(a) = &options.arrival {
        if options.duration.is_none() {
            return Err(RunnerError::OpenModel(
                "an arrival rate needs a duration (--duration)".into(),
            ));
        }
        if !(a.per_second.is_finite() && a.per_second > 0.0) || a.max_vus == Some(0) {
            return Err(RunnerError::OpenModel(format!(
                "the rate must be > 0 and the user cap ≥ 1 (rate {}, cap {:?})",
                a.per_second, a.max_vus
            )));
        }
    }
    let drivers = [
        options.arrival.is_some(),
        options.profile.is_some(),
        options.peak.is_some(),
    ];
    if drivers.iter().filter(|d| **d).count() > 1 {
        return Err(RunnerError::OpenModel(
            "one of an arrival rate, load stages and peak-seeking drives a run, not several".into(),
        ));
    }
    Ok(options
        .profile
        .clone()
        .or_else(|| options.peak.as_ref().map(|p| p.profile().clone()))
        .or_else(|| {
            let (a, length) = options.arrival.zip(options.duration)?;
            Some(LoadProfile::constant_rate(a.per_second, length, a.max_vus))
        })
        .map(Arc::new))
}

/// Refuses, before any traffic, a group that would loop forever: no duration of its own, and
/// (for main groups) neither a run duration nor a profile to end it.
fn check_bounded(
    plan: &RunnablePlan,
    options: &RunOptions,
    has_profile: bool,
) -> Result<(), RunnerError> {
    for g in &plan.groups {
        let overridden = g.role == GroupRole::Main && (options.duration.is_some() || has_profile);
        if g.loops == Loops::Forever && g.duration.is_none() && !overridden {
            return Err(RunnerError::Unbounded {
                group: g.name.clone(),
            });
        }
    }
    Ok(())
}

impl RunSummary {
    /// Logs how the run ended, with warnings when the load was lower than planned.
    fn log(&self) {
        if self.dropped_iterations > 0 {
            tracing::warn!(
                dropped = self.dropped_iterations,
                "iterations were dropped: the virtual user cap was reached"
            );
        }
        if self.writer_waits > 0 {
            tracing::warn!(
                waits = self.writer_waits,
                "the sample writer fell behind: virtual users waited for it; the load was lower than planned"
            );
        }
        tracing::info!(samples = self.samples, errors = self.errors, "run finished");
    }
}

/// Turns samples into batches for the sink.
struct Collector<'s> {
    builder: SampleBatchBuilder,
    sink: &'s mut dyn SampleSink,
    samples: u64,
    errors: u64,
    max: Option<u64>,
    hit_max: bool,
    peak: Option<PeakSeeker>,
    rules: Option<RuleWatch>,
}

impl Collector<'_> {
    /// Takes the users' samples until every user is done (the channel closes), flushing every
    /// [`FLUSH_EVERY`] and checking the peak-seeker and the stop rules on each flush. Returns
    /// how collecting ended and the stop rule that stopped the run, if one did.
    async fn collect(
        &mut self,
        rx: &mut mpsc::Receiver<Sample>,
        shared: &Shared,
    ) -> (Result<(), RunnerError>, Option<String>) {
        let mut stopped_by = None;
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let outcome = loop {
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(sample) => {
                        if let Err(e) = self.add(&sample) {
                            break Err(e);
                        }
                        if self.hit_max {
                            shared.stop_at(STOP_NOW);
                        }
                    }
                    None => break self.flush(),
                },
                _ = tick.tick() => {
                    if let Err(e) = self.flush() {
                        break Err(e);
                    }
                    if self.peak.as_mut().is_some_and(|p| p.check(now_ms())) {
                        tracing::info!("peak-seeking: a step broke a rule, stopping the run");
                        shared.stop_at(STOP_GRACEFUL);
                    }
                    if stopped_by.is_none()
                        && let Some(why) = self.rules.as_mut().and_then(|r| r.check(now_ms()))
                    {
                        tracing::warn!(rule = %why, "stopping the run");
                        stopped_by = Some(why);
                        shared.stop_at(STOP_GRACEFUL);
                    }
                }
            }
        };
        (outcome, stopped_by)
    }

    fn add(&mut self, s: &Sample) -> Result<(), RunnerError> {
        if self.hit_max {
            return Ok(());
        }
        let row = self
            .builder
            .push(&s.record())
            .map_err(|e| RunnerError::Batch(e.to_string()))?;
        self.add_subresults(s, row)?;
        self.samples += 1;
        self.errors += u64::from(!s.success);
        if let Some(p) = &mut self.peak {
            p.add(s);
        }
        if let Some(r) = &mut self.rules {
            r.add(s);
        }
        if self.max.is_some_and(|m| self.samples >= m) {
            tracing::warn!(
                samples = self.samples,
                "max samples reached: stopping the run"
            );
            self.hit_max = true;
        }
        if self.builder.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    /// The sub-results of `s` (at row `row`), each right after its parent and before its own
    /// (in the same batch, so that `parent_row` is known); they are counted in the top sample,
    /// not on their own.
    fn add_subresults(&mut self, s: &Sample, row: i64) -> Result<(), RunnerError> {
        for sub in &s.subresults {
            let sub_row = self
                .builder
                .push(&sub.sub_record(row))
                .map_err(|e| RunnerError::Batch(e.to_string()))?;
            self.add_subresults(sub, sub_row)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), RunnerError> {
        if self.builder.is_empty() {
            return Ok(());
        }
        let batch = self
            .builder
            .finish()
            .map_err(|e| RunnerError::Batch(e.to_string()))?;
        self.sink.write_batch(batch)?;
        Ok(())
    }
}

/// What every thread group of a run is started with.
struct Launch {
    serialize: bool,
    teardown_on_shutdown: bool,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Sample>,
    run_start: Instant,
    override_duration: Option<Duration>,
    variables: Arc<HashMap<String, String>>,
    profile: Option<Arc<LoadProfile>>,
    /// Threads of all regular groups: a group's share of an arrival rate or a profile's users
    /// is its threads over this.
    main_threads: u64,
}

/// Runs the setUp groups, then the regular groups (in parallel, or one after another), then the
/// tearDown groups, each phase waiting for all its users.
async fn launch(l: Launch, groups: Vec<Arc<ThreadGroupPlan>>) {
    let phase = |role: GroupRole| -> Vec<(usize, Arc<ThreadGroupPlan>)> {
        groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.role == role)
            .map(|(i, g)| (i, g.clone()))
            .collect()
    };
    run_phase(&l, phase(GroupRole::Setup), false).await;
    run_phase(&l, phase(GroupRole::Main), l.serialize).await;
    let level = *l.shared.stop.borrow();
    if level == STOP_GRACEFUL && l.teardown_on_shutdown {
        // TestPlan.tearDown_on_shutdown: the tearDown groups run after a graceful stop too.
        l.shared.stop.send_replace(RUNNING);
    }
    run_phase(&l, phase(GroupRole::Teardown), false).await;
}

/// Starts `groups` and waits for all their users.
async fn run_phase(l: &Launch, groups: Vec<(usize, Arc<ThreadGroupPlan>)>, serialize: bool) {
    let mut pending: Vec<JoinHandle<()>> = Vec::new();
    // Threads of the regular groups before this one: a group's share of a count stage.
    let mut threads_before = 0u64;
    for (index, group) in groups {
        if *l.shared.stop.borrow() >= STOP_GRACEFUL {
            break;
        }
        let count_share = l
            .profile
            .as_ref()
            .and_then(|p| p.stages.last()?.count)
            .map(|count| {
                let here = l.shared.split.share_of(count);
                block(
                    here,
                    threads_before,
                    u64::from(group.threads),
                    l.main_threads,
                )
            });
        if group.role == GroupRole::Main {
            threads_before += u64::from(group.threads);
        }
        let base = if serialize || group.role != GroupRole::Main {
            Instant::now()
        } else {
            l.run_start
        };
        let start = base + group.startup_delay;
        let deadline = match l.override_duration {
            Some(d) if group.role == GroupRole::Main => Some(l.run_start + d),
            _ => group.duration.map(|d| start + d),
        };
        let share = f64::from(group.threads) / l.main_threads as f64;
        let main = group.role == GroupRole::Main;
        let ramp = match &l.profile {
            Some(profile) if main && profile.is_arrival_rate() => {
                let end = start + profile.length();
                let cap = profile.max_vus.unwrap_or(group.threads);
                tokio::spawn(run_arrivals(ArrivalGroup {
                    index,
                    schedule: profile.clone(),
                    share: l.shared.split.rate(share),
                    max_vus: (l.shared.split.users(cap).len() as u32).max(1),
                    group,
                    shared: l.shared.clone(),
                    tx: l.tx.clone(),
                    variables: l.variables.clone(),
                    start,
                    deadline: deadline.map_or(end, |d| d.min(end)),
                }))
            }
            Some(profile) if main => tokio::spawn(run_shaped(ShapedGroup {
                index,
                group,
                profile: profile.clone(),
                share,
                shared: l.shared.clone(),
                tx: l.tx.clone(),
                variables: l.variables.clone(),
                start,
                deadline,
                count_share,
            })),
            _ if group.schedule.is_some() => tokio::spawn(windows::run_windows(
                index,
                group,
                l.shared.clone(),
                l.tx.clone(),
                l.variables.clone(),
                start,
                deadline,
            )),
            _ => tokio::spawn(ramp_group(
                index,
                group,
                l.shared.clone(),
                l.tx.clone(),
                l.variables.clone(),
                start,
                deadline,
            )),
        };
        if serialize {
            join(ramp).await;
        } else {
            pending.push(ramp);
        }
    }
    for handle in pending {
        join(handle).await;
    }
}

pub(crate) async fn join(handle: JoinHandle<()>) {
    if let Err(e) = handle.await {
        tracing::error!(error = %e, "a runner task failed");
    }
}

/// One user of a group to start: its number in the group (from 0), when, and when it must end.
pub(crate) struct UserStart {
    pub(crate) t: u32,
    pub(crate) at: Instant,
    pub(crate) end: Option<Instant>,
}

/// Starts the users `starts` (in order of their start times) of group `index` as their times
/// come — a user whose start is not before its end is skipped — unless the run stops first,
/// then waits for every one started. Returns the group's counter of active users.
pub(crate) async fn start_users(
    index: usize,
    group: &Arc<ThreadGroupPlan>,
    shared: &Arc<Shared>,
    tx: mpsc::Sender<Sample>,
    variables: &HashMap<String, String>,
    starts: Vec<UserStart>,
) -> Arc<AtomicI32> {
    let grp_active = Arc::new(AtomicI32::new(0));
    let mut stop = shared.stop.subscribe();
    let mut users = Vec::with_capacity(starts.len());
    for UserStart { t, at, end } in starts {
        if end.is_some_and(|end| at >= end) {
            continue;
        }
        if !sleep_until_unless_stopped(&mut stop, at).await {
            break;
        }
        let vu = Vu::new(
            group.clone(),
            index,
            t + 1,
            variables.clone(),
            tx.clone(),
            shared.clone(),
            end,
            grp_active.clone(),
        );
        users.push(tokio::spawn(vu.run()));
    }
    drop(tx);
    for u in users {
        join(u).await;
    }
    grp_active
}

/// Starts the users of one group along its ramp-up, then waits for them.
async fn ramp_group(
    index: usize,
    group: Arc<ThreadGroupPlan>,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Sample>,
    variables: Arc<HashMap<String, String>>,
    start: Instant,
    deadline: Option<Instant>,
) {
    // Each user starts when it would in the whole group's ramp-up (with agents, this process
    // runs a block of the group's users).
    let starts: Vec<UserStart> = shared
        .split
        .users(group.threads)
        .map(|t| UserStart {
            t,
            at: start
                + group
                    .ramp_up
                    .mul_f64(f64::from(t) / f64::from(group.threads)),
            end: deadline,
        })
        .collect();
    tracing::info!(group = %group.name, threads = starts.len(), "thread group starting");
    let grp_active = start_users(index, &group, &shared, tx, &variables, starts).await;
    tracing::info!(
        group = %group.name,
        active = grp_active.load(Ordering::SeqCst),
        "thread group finished"
    );
}
