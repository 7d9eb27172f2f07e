//! One virtual user: a tokio task that walks its thread group's steps loop after loop. The hot
//! path is request → measure → assert → push one [`Sample`] to the collector; scheduling lives in
//! [`crate::run`]. The logic controllers it walks are in [`controllers`]; the state shared by
//! every user of a run ([`Shared`], the stop levels, the [`Split`] of a distributed run) and the
//! [`Quota`] of a count stage, which users consult before each iteration, are here.

pub(crate) mod controllers;
mod embedded;
pub(crate) mod feeds;
mod parallel;
pub(crate) mod samplers;
mod scripts;
mod transaction;

pub(crate) use transaction::TxAcc;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use loadlake_schema::SampleKind;
use tokio::sync::{mpsc, watch};

use crate::elements::assertions::Check;
use crate::elements::extractors::PostProcessor;
use crate::elements::response::Response;
use crate::elements::shaping_timer::Pace;
use crate::http::client::{HttpClient, now_ms};
use crate::model::{
    Feed, HttpStep, Loops, OnSampleError, RandomDelay, Step, ThreadGroupPlan, ThroughputCounts,
    ThroughputTimer,
};
use crate::sample::Sample;
use crate::script::ScriptSample;
use crate::text::template::UserCtx;

/// Stop levels carried by the run's watch channel.
pub(crate) const RUNNING: u8 = 0;
/// Threads finish their current sample, then stop (`stoptest`, end of schedule).
pub(crate) const STOP_GRACEFUL: u8 = 1;
/// Threads stop at once; samples in flight are abandoned (`stoptestnow`, Ctrl-C, max samples).
pub(crate) const STOP_NOW: u8 = 2;

/// The iterations a count stage (the profile's last) lets a group begin: none are counted before
/// the stage starts; from then on, `limit` of them, and the group is done.
pub(crate) struct Quota {
    from: Instant,
    limit: u64,
    begun: AtomicU64,
}

impl Quota {
    pub(crate) fn new(from: Instant, limit: u64) -> Quota {
        Quota {
            from,
            limit,
            begun: AtomicU64::new(0),
        }
    }

    /// May a user begin an iteration now?
    pub(crate) fn admit(&self) -> bool {
        Instant::now() < self.from || self.begun.fetch_add(1, Ordering::Relaxed) < self.limit
    }

    /// Every iteration of the count stage has begun.
    pub(crate) fn exhausted(&self) -> bool {
        Instant::now() >= self.from && self.begun.load(Ordering::Relaxed) >= self.limit
    }
}

/// State shared by every virtual user of a run.
pub(crate) struct Shared {
    /// The stop level (`RUNNING`, `STOP_GRACEFUL`, `STOP_NOW`).
    pub stop: watch::Sender<u8>,
    /// Active threads of all groups.
    pub all_active: AtomicI32,
    /// Times a user found the sample channel full and had to wait for the writer.
    pub writer_waits: AtomicU64,
    /// Open-model iterations dropped because every user was busy and the queue was full.
    pub dropped_iterations: AtomicU64,
    /// This process's part of a load split across agents.
    pub split: Split,
}

impl Shared {
    /// Raises the stop level to at least `level`.
    pub(crate) fn stop_at(&self, level: u8) {
        self.stop.send_if_modified(|v| {
            let raise = *v < level;
            if raise {
                *v = level;
            }
            raise
        });
    }
}

/// The part of a load one of several agents generates: agent `index` (0-based) of `count` runs
/// a contiguous block of each group's users, the blocks' sizes differing by at most one, and a
/// `1/count` share of an arrival rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub index: u32,
    pub count: u32,
}

impl Default for Split {
    fn default() -> Split {
        Split { index: 0, count: 1 }
    }
}

impl Split {
    /// The user numbers (0-based, of `total`) this part runs.
    pub fn users(self, total: u32) -> std::ops::Range<u32> {
        let count = u64::from(self.count.max(1));
        let at = |i: u32| ((u64::from(total) * u64::from(i)) / count) as u32;
        at(self.index)..at(self.index + 1)
    }

    /// This part's share of a rate.
    pub fn rate(self, total: f64) -> f64 {
        total / f64::from(self.count.max(1))
    }

    /// This part's share of a count (blocks differing by at most one, summing to `total`).
    pub fn share_of(self, total: u64) -> u64 {
        block(
            total,
            u64::from(self.index),
            1,
            u64::from(self.count.max(1)),
        )
    }
}

/// Of `total` split in proportion to sizes that add up to `all`, the part of a member of `size`
/// after members of `before` in all: `⌊total·(before+size)/all⌋ − ⌊total·before/all⌋`, so the
/// parts sum to `total` exactly.
pub(crate) fn block(total: u64, before: u64, size: u64, all: u64) -> u64 {
    let at = |n: u64| (u128::from(total) * u128::from(n) / u128::from(all.max(1))) as u64;
    at(before + size) - at(before)
}

/// What to do after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Next,
    /// Start the thread group's next iteration (`startnextloop`, a Flow Control Action).
    NextLoop,
    /// Start the innermost Loop / While Controller's next pass (Flow Control Action).
    ContinueLoop,
    /// End the innermost Loop / While Controller (Flow Control Action).
    BreakLoop,
    Stop,
}

impl Flow {
    /// The flow ends the iteration of the controllers it passes through (JMeter's
    /// `triggerEndOfLoop` on each parent on the way to the loop that takes it).
    pub(crate) fn ends_loop(self) -> bool {
        matches!(self, Flow::NextLoop | Flow::ContinueLoop | Flow::BreakLoop)
    }
}

/// A virtual user.
pub(crate) struct Vu {
    pub group: Arc<ThreadGroupPlan>,
    pub thread: Arc<str>,
    pub case_name: Arc<str>,
    pub client: HttpClient,
    pub tx: mpsc::Sender<Sample>,
    pub shared: Arc<Shared>,
    pub stop: watch::Receiver<u8>,
    pub deadline: Option<Instant>,
    pub grp_active: Arc<AtomicI32>,
    /// A Throughput Shaping Timer found its schedule over (now, or by the end of the pause it
    /// gave): the test stops instead of the sample.
    pub(crate) schedule_over: bool,
    pub(crate) transactions: Vec<TxAcc>,
    /// The user's variables and function state.
    pub(crate) user: UserCtx,
    /// The last sampler's outcome (`JMeterThread.last_sample_ok`, read by While Controllers).
    pub(crate) last_ok: bool,
    /// `last_ok` is in the user's variables.
    last_ok_published: bool,
    /// Per-thread counts of Throughput Controllers with `perThread`, by controller id.
    pub(crate) throughput_counts: HashMap<usize, ThroughputCounts>,
    /// Loop Controllers with `continue_forever=false` this thread has run (they stay done).
    pub(crate) loops_done: HashSet<usize>,
    /// Iteration listeners: Once Only Controllers that ran (until re-armed) and Throughput
    /// Controllers' decisions (see [`controllers`]).
    pub(crate) listeners: controllers::ListenerState,
    /// Per-user state of the iteration listeners and pre-processors (see [`feeds`]).
    pub(crate) feed_state: feeds::FeedState,
    /// Open-model runs: how late the current iteration started, ms.
    pub(crate) late_ms: Option<i64>,
    /// Per-thread previous times of Constant Throughput Timers, by timer id.
    paced: HashMap<usize, Option<Instant>>,
    /// Set by a load profile that wants fewer users: the user stops after its iteration.
    retire: Option<Arc<AtomicBool>>,
    /// A count stage's iterations: the user begins one only when admitted, else stops.
    quota: Option<Arc<Quota>>,
    /// A branch of a Parallel Sampler: a failed sample does not apply `on_sample_error`.
    in_branch: bool,
}

/// `work`, unless the run is told to stop at once first: then it is dropped where it waits
/// (requests in flight are abandoned, as JMeter's stop-now interrupts its threads). One wait
/// per user for its whole life, not one per request.
pub(crate) async fn unless_stopped_now<T>(
    mut stop: watch::Receiver<u8>,
    work: impl Future<Output = T>,
) -> Option<T> {
    tokio::select! {
        biased;
        out = work => Some(out),
        _ = stop.wait_for(|s| *s >= STOP_NOW) => None,
    }
}

pub(crate) type StepFuture<'a> = Pin<Box<dyn Future<Output = Flow> + Send + 'a>>;

/// The variable JMeter keeps the last sampler's outcome in.
const LAST_SAMPLE_OK: &str = "JMeterThread.last_sample_ok";

impl Vu {
    /// User number `thread_num` (1-based) of `group`, the run's group number `group_index`
    /// (0-based), starting with the plan's variables `vars`. Its thread name is JMeter's
    /// `<group> <group#>-<thread#>`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        group: Arc<ThreadGroupPlan>,
        group_index: usize,
        thread_num: u32,
        vars: HashMap<String, String>,
        tx: mpsc::Sender<Sample>,
        shared: Arc<Shared>,
        deadline: Option<Instant>,
        grp_active: Arc<AtomicI32>,
    ) -> Vu {
        let stop = shared.stop.subscribe();
        let thread = format!("{} {}-{thread_num}", group.name, group_index + 1);
        Vu {
            case_name: Arc::from(group.name.as_str()),
            group,
            thread: Arc::from(thread),
            client: HttpClient::default(),
            tx,
            shared,
            stop,
            deadline,
            grp_active,
            schedule_over: false,
            transactions: Vec::new(),
            user: UserCtx::new(vars, thread_num),
            last_ok: true,
            last_ok_published: false,
            throughput_counts: HashMap::new(),
            loops_done: HashSet::new(),
            listeners: controllers::ListenerState::default(),
            feed_state: feeds::FeedState::default(),
            paced: HashMap::new(),
            late_ms: None,
            retire: None,
            quota: None,
            in_branch: false,
        }
    }

    /// The user begins an iteration only when `quota` (if any) admits it, else it stops.
    pub(crate) fn admitted_by(mut self, quota: Option<Arc<Quota>>) -> Vu {
        self.quota = quota;
        self
    }

    fn admitted(&self) -> bool {
        self.quota.as_ref().is_none_or(|q| q.admit())
    }

    /// The user stops after its current iteration once `flag` is set.
    pub(crate) fn retired_by(mut self, flag: Arc<AtomicBool>) -> Vu {
        self.retire = Some(flag);
        self
    }

    fn retired(&self) -> bool {
        self.retire
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    }

    /// Runs the thread group's loop until it is done or the run stops.
    pub(crate) async fn run(mut self) {
        self.begin();
        let stop = self.stop.clone();
        unless_stopped_now(stop, self.iterations()).await;
        self.end();
    }

    async fn iterations(&mut self) {
        let loops = self.group.loops;
        let mut done = 0u64;
        while !self.stopping() && !self.retired() && !finished(loops, done) && self.admitted() {
            done += 1;
            match self.iteration(done == 1).await {
                // A Flow Control Action breaking the thread's own loop ends it (JMeter's
                // `breakThreadLoop`).
                Flow::Stop | Flow::BreakLoop => break,
                // JMeter marks the last sample successful when it starts the next iteration.
                Flow::NextLoop => self.note_last_sample(true),
                _ => {}
            }
            // Other users get the thread when this one has had its share (an iteration whose
            // requests all completed at once, or that sent none, would otherwise never yield).
            tokio::task::consume_budget().await;
        }
    }

    /// Counts the user as active.
    pub(crate) fn begin(&self) {
        self.grp_active.fetch_add(1, Ordering::SeqCst);
        self.shared.all_active.fetch_add(1, Ordering::SeqCst);
        tracing::debug!(thread = %self.thread, "thread started");
    }

    /// Counts the user as gone.
    pub(crate) fn end(&self) {
        self.grp_active.fetch_sub(1, Ordering::SeqCst);
        self.shared.all_active.fetch_sub(1, Ordering::SeqCst);
        tracing::debug!(thread = %self.thread, "thread finished");
    }

    /// One iteration of the thread group's steps.
    async fn iteration(&mut self, first: bool) -> Flow {
        if first {
            self.user.thread_name = self.thread.clone();
        }
        let group = self.group.clone();
        if group.clear_cookies {
            self.client.cookies.clear();
        }
        if group.clear_cache {
            self.client.cache.clear();
        }
        self.listeners.walk_on = false;
        self.feed_state.group_iteration += 1;
        if self.iteration_start(&group.feeds, &group.steps, first) == Flow::Stop {
            return Flow::Stop;
        }
        self.steps(&group.steps).await
    }

    /// One iteration of an open-model run that started `late` after it was due: its samples
    /// also get the latency from their intended send time.
    pub(crate) async fn open_iteration(&mut self, first: bool, late: Duration) -> Flow {
        self.late_ms = Some(i64::try_from(late.as_millis()).unwrap_or(i64::MAX));
        let flow = self.iteration(first).await;
        tokio::task::consume_budget().await;
        flow
    }

    pub(crate) fn stopping(&self) -> bool {
        *self.stop.borrow() >= STOP_GRACEFUL || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Runs `steps` in order. When the thread stops after a failed sample, JMeter still looks
    /// for its next sampler: a step that is not the last one ends that walk here.
    pub(crate) fn steps<'a>(&'a mut self, steps: &'a [Step]) -> StepFuture<'a> {
        Box::pin(async move {
            for (i, step) in steps.iter().enumerate() {
                let flow = self.step(step).await;
                if flow != Flow::Next {
                    if flow == Flow::Stop && i + 1 < steps.len() {
                        self.listeners.walk_on = false;
                    }
                    return flow;
                }
            }
            Flow::Next
        })
    }

    /// One pass of a looping controller (Loop, While, Runtime): nothing when the run is
    /// stopping, else its iteration begins (see [`Vu::iteration_start`]; `rearm`: a Loop
    /// Controller's first pass) and its children run; other users get the thread once this one
    /// has used its scheduling budget.
    pub(crate) async fn loop_pass(&mut self, feeds: &[Feed], steps: &[Step], rearm: bool) -> Flow {
        if self.stopping() || self.iteration_start(feeds, steps, rearm) == Flow::Stop {
            return Flow::Stop;
        }
        let flow = self.steps(steps).await;
        if flow == Flow::Next {
            tokio::task::consume_budget().await;
        }
        flow
    }

    /// Runs a Loop Controller's iterations.
    pub(crate) async fn repeat(&mut self, loops: Loops, feeds: &[Feed], steps: &[Step]) -> Flow {
        let mut done = 0u64;
        while !finished(loops, done) {
            done += 1;
            let flow = match self.loop_pass(feeds, steps, done == 1).await {
                Flow::ContinueLoop => Flow::Next,
                Flow::BreakLoop => return Flow::Next,
                flow => flow,
            };
            if flow != Flow::Next {
                if flow == Flow::Stop && !finished(loops, done) {
                    self.listeners.walk_on = false;
                }
                return flow;
            }
        }
        Flow::Next
    }

    /// A controller's name for this sample: rendered for this user when it holds run-time
    /// references (see `ThreadGroupPlan::names`), else as it is.
    fn rendered_name(&mut self, name: &str) -> Arc<str> {
        match self.group.names.get(name) {
            Some(t) => Arc::from(t.render(&mut self.user, &|v: &str| v.to_string())),
            None => Arc::from(name),
        }
    }

    /// Runs a sampler's post-processors on its response, in order (scripts among them may change
    /// the sample: their edits are returned), then its assertions; `success` and the first
    /// `failure_message` follow, and the outcome is noted as JMeter's `last_sample_ok`.
    pub(crate) fn judge(
        &mut self,
        post_processors: &[PostProcessor],
        assertions: &[Check],
        response: &Response<'_>,
        label: &str,
        success: &mut bool,
        failure_message: &mut Option<String>,
    ) -> Option<ScriptSample> {
        let edited = crate::elements::scripts::post_process(
            post_processors,
            response,
            &mut self.user,
            label,
            *success,
        );
        if let Some(e) = &edited {
            *success = e.success;
        }
        for a in assertions {
            if let Some(msg) = a.check(response, &mut self.user) {
                *success = false;
                failure_message.get_or_insert(msg);
            }
        }
        self.note_last_sample(*success);
        edited
    }

    /// A sample of this user, of `kind`, started at `ts_ms` and taking `elapsed_ms`: its case,
    /// thread, the active thread counts now and the latency from the intended start filled in;
    /// timings, sizes, texts and the URL empty, for the caller to set.
    pub(crate) fn sample_of(
        &self,
        ts_ms: i64,
        elapsed_ms: i64,
        label: Arc<str>,
        kind: SampleKind,
        success: bool,
    ) -> Sample {
        Sample {
            ts_ms,
            elapsed_ms,
            latency_ms: 0,
            connect_ms: 0,
            idle_ms: 0,
            intended_elapsed_ms: self.late_ms.map(|late| late + elapsed_ms),
            micros: None,
            label,
            case_name: self.case_name.clone(),
            thread: self.thread.clone(),
            kind,
            code: Cow::Borrowed(""),
            message: Cow::Borrowed(""),
            success,
            failure_message: None,
            bytes_received: 0,
            bytes_sent: 0,
            grp_threads: self.grp_active.load(Ordering::SeqCst),
            all_threads: self.shared.all_active.load(Ordering::SeqCst),
            url: None,
            data_type: None,
            encoding: None,
            subresults: Vec::new(),
        }
    }

    /// Sends a finished sample to the collector, or gives it to the innermost parent-mode
    /// transaction as a sub-result. A sampler's sample also counts in every non-parent
    /// transaction inside that one; a transaction sample counts only as a sub-result (JMeter's
    /// non-parent controllers skip transaction sample events). False when the run is over.
    pub(crate) async fn record(&mut self, sample: Sample) -> bool {
        let is_transaction = sample.kind == SampleKind::Transaction;
        for t in self.transactions.iter_mut().rev() {
            if is_transaction && !t.parent {
                continue;
            }
            t.add(&sample);
            if t.parent {
                return true;
            }
        }
        match self.tx.try_send(sample) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Closed(_)) => false,
            Err(mpsc::error::TrySendError::Full(sample)) => {
                if self.shared.writer_waits.fetch_add(1, Ordering::Relaxed) == 0 {
                    tracing::warn!(
                        "the sample writer is behind: virtual users wait for it (the load is now \
                         lower than planned; no sample is dropped)"
                    );
                }
                self.tx.send(sample).await.is_ok()
            }
        }
    }

    /// Counts a sampler that wrote no sample in the open non-parent transactions (up to the
    /// innermost parent-mode one).
    pub(crate) fn count_silent_sampler(&mut self) {
        for t in self.transactions.iter_mut().rev() {
            if t.parent {
                break;
            }
            t.add_silent();
        }
    }

    /// Keeps the last sample's outcome (`JMeterThread.last_sample_ok`). The variable is written
    /// when it changes (a map insert with two new strings per request would otherwise cost more
    /// than parsing the response head).
    pub(crate) fn note_last_sample(&mut self, success: bool) {
        if !self.last_ok_published || self.last_ok != success {
            self.user
                .vars
                .insert(LAST_SAMPLE_OK.to_string(), success.to_string());
            self.last_ok_published = true;
        }
        self.last_ok = success;
    }

    /// Waits `delay` (a timer); false when the run stopped or the schedule ended meanwhile.
    pub(crate) async fn pause(&mut self, delay: Duration) -> bool {
        let wanted = Instant::now() + delay;
        let (until, cut) = match self.deadline {
            Some(d) if d < wanted => (d, true),
            _ => (wanted, false),
        };
        let mut stop = self.stop.clone();
        sleep_until_unless_stopped(&mut stop, until).await && !cut
    }

    /// The timers' pause before a sampler: the constant `fixed` and `random` parts, then
    /// throughput pacing by `throughput`.
    pub(crate) fn timer_delay(
        &mut self,
        fixed: Duration,
        random: &[RandomDelay],
        throughput: &[ThroughputTimer],
    ) -> Duration {
        let mut delay = RandomDelay::total(fixed, random);
        if throughput.is_empty() {
            return delay;
        }
        let now = Instant::now();
        for t in throughput {
            delay += match t {
                ThroughputTimer::Constant { id, timer } => {
                    let all = self.shared.all_active.load(Ordering::SeqCst).max(1) as u32;
                    let group = self.grp_active.load(Ordering::SeqCst).max(1) as u32;
                    timer.delay(self.paced.entry(*id).or_default(), now, all, group)
                }
                ThroughputTimer::Precise(timer) => timer.delay(now),
                // The plugin stops the test when its schedule ends (`stopTest`, first a
                // graceful stop): see `timers_end_the_test`.
                ThroughputTimer::Shaping(timer) => match timer.pace(now_ms()) {
                    Pace::Wait(d) => d,
                    Pace::Over(d) => {
                        self.schedule_over = true;
                        d
                    }
                },
            };
        }
        delay
    }

    /// After the timers' pause: true when a Throughput Shaping Timer's schedule is over, which
    /// stops the test (gracefully) before the sample.
    pub(crate) fn timers_end_the_test(&mut self) -> bool {
        if !std::mem::take(&mut self.schedule_over) {
            return false;
        }
        self.shared.stop_at(STOP_GRACEFUL);
        true
    }

    pub(crate) async fn http(&mut self, h: &HttpStep) -> Flow {
        // JMeter runs a sampler's pre-processors, then its timers.
        self.pre_process(&h.pre_processors);
        let Some(header_edits) = self.script_pre(&h.script_pre, &h.label).await else {
            return Flow::Stop;
        };
        let delay = self.timer_delay(h.delay, &h.random_delays, &h.throughput_timers);
        if self.stopping()
            || (!delay.is_zero() && !self.pause(delay).await)
            || self.timers_end_the_test()
        {
            return Flow::Stop;
        }
        if let Some(r) = &h.regex_params {
            r.apply(&mut self.user);
        }
        let rendered = h
            .runtime
            .as_ref()
            .map(|parts| h.rendered(parts, &mut self.user));
        if let Some(r) = &h.regex_params {
            r.clear(&mut self.user);
        }
        let request = rendered.as_ref().unwrap_or(&h.request);
        // Headers changed by pre-processor scripts (`sampler.getHeaderManager()`).
        let edited_request;
        let request = if header_edits.is_empty() {
            request
        } else {
            edited_request = scripts::with_headers(request, &header_edits);
            &edited_request
        };
        // The Authorization and Cache Managers' headers; a fresh copy in the cache: JMeter
        // sends nothing and makes no sample.
        let unmanaged = request;
        let Some(request) = crate::http::cache::managed(&self.client.cache, h, request) else {
            return Flow::Next;
        };
        // JMeter renders the sampler's name after its URL, before the request goes out.
        let label = match &h.label_template {
            Some(t) => Arc::from(t.render(&mut self.user, &|v: &str| v.to_string())),
            None => h.label_arc.clone(),
        };
        // Boxed: the request's state lives only while it is in flight, so an idle user (in a
        // timer) holds no room for it. (A stop-now abandons it with the whole user: see
        // `unless_stopped_now`.)
        let mut r = Box::pin(self.client.execute(&request, h, h.keep)).await;
        if let Some(c) = &h.cache {
            self.client.cache.after(c, &request.method, &r, now_ms());
        }
        let (mut subresults, mut resources_ok) = (Vec::new(), true);
        if let Some(e) = &h.embedded {
            let resources = self.embedded_resources(h, e, unmanaged, &r, 0).await;
            if !resources.is_empty() {
                (subresults, resources_ok) = self.embedded_container(&label, &mut r, resources);
            }
        }
        let mut success = (r.status.is_some_and(|s| (200..400).contains(&s)) && resources_ok)
            || h.assertions.iter().any(|a| a.assume_success());
        let mut failure_message = None;
        let response = Response {
            code: &r.code,
            message: &r.message,
            body: &r.body,
            headers: &r.headers,
            request_headers: &r.request_headers,
            url: &r.url,
            elapsed_ms: r.elapsed_ms,
            body_bytes: r.bytes_received - r.header_bytes,
            header_bytes: r.header_bytes,
        };
        let edited = self.judge(
            &h.extractors,
            &h.assertions,
            &response,
            &label,
            &mut success,
            &mut failure_message,
        );
        let mut sample = Sample {
            latency_ms: r.latency_ms,
            connect_ms: r.connect_ms,
            code: r.code,
            message: r.message,
            failure_message,
            bytes_received: r.bytes_received,
            bytes_sent: r.bytes_sent,
            url: Some(r.url),
            data_type: r.data_type,
            encoding: r.encoding,
            // With embedded resources the page's time spans them, in ms: no µs of its own.
            micros: subresults.is_empty().then_some(r.micros),
            subresults,
            ..self.sample_of(r.ts_ms, r.elapsed_ms, label, SampleKind::Sample, success)
        };
        if let Some(e) = edited {
            // `prev.setIgnore()`: no sample is recorded (nor counted by a transaction).
            if e.ignore {
                return self.after_sample(success);
            }
            sample.code = e.code.into();
            sample.message = e.message.into();
        }
        if !self.record(sample).await {
            return Flow::Stop;
        }
        self.after_sample(success)
    }

    /// What the thread does after a sampler's sample: go on, or (after a failure) what
    /// `on_sample_error` says.
    pub(crate) fn after_sample(&mut self, success: bool) -> Flow {
        if success || self.in_branch {
            return Flow::Next;
        }
        match self.group.on_error {
            OnSampleError::Continue => Flow::Next,
            OnSampleError::StartNextLoop => Flow::NextLoop,
            // The thread stops, but JMeter first looks for its next sampler once more, which
            // ends a transaction whose last sample this was (see `Vu::steps`).
            OnSampleError::StopThread => {
                self.listeners.walk_on = true;
                Flow::Stop
            }
            OnSampleError::StopTest => {
                self.shared.stop_at(STOP_GRACEFUL);
                self.listeners.walk_on = true;
                Flow::Stop
            }
            OnSampleError::StopTestNow => {
                self.shared.stop_at(STOP_NOW);
                Flow::Stop
            }
        }
    }
}

/// Sleeps until `at`; false when the run is stopped (at any level) first.
pub(crate) async fn sleep_until_unless_stopped(
    stop: &mut watch::Receiver<u8>,
    at: Instant,
) -> bool {
    tokio::select! {
        _ = tokio::time::sleep_until(at.into()) => true,
        _ = stop.wait_for(|s| *s >= STOP_GRACEFUL) => false,
    }
}

pub(crate) fn finished(loops: Loops, done: u64) -> bool {
    matches!(loops, Loops::Count(n) if done >= n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_a_count_differ_by_at_most_one_and_add_up() {
        let parts: Vec<u64> = (0..3)
            .map(|index| Split { index, count: 3 }.share_of(20))
            .collect();
        assert_eq!(parts, [6, 7, 7]);
        // Groups of 1 and 3 threads share 50 as 12 and 38.
        assert_eq!((block(50, 0, 1, 4), block(50, 1, 3, 4)), (12, 38));
        // Users of one agent of three: a contiguous block of 7 of 20.
        assert_eq!(Split { index: 1, count: 3 }.users(20), 6..13);
    }
}
