//! One virtual user: a tokio task that walks its thread group's steps loop after loop. The hot
//! path is request → measure → assert → push one [`Sample`] to the collector; scheduling lives in
//! [`crate::run`].

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use loadlake_schema::sample::TRANSACTION_MESSAGE_PREFIX;
use loadlake_schema::{SampleKind, SampleRecord};
use tokio::sync::{mpsc, watch};

use crate::assertion::{Response, TestField};
use crate::http::{HttpClient, now_ms};
use crate::model::{HttpStep, Loops, OnSampleError, RandomDelay, Step, ThreadGroupPlan};

/// Stop levels carried by the run's watch channel.
pub(crate) const RUNNING: u8 = 0;
/// Threads finish their current sample, then stop (`stoptest`, end of schedule).
pub(crate) const STOP_GRACEFUL: u8 = 1;
/// Threads stop at once; samples in flight are abandoned (`stoptestnow`, Ctrl-C, max samples).
pub(crate) const STOP_NOW: u8 = 2;

/// State shared by every virtual user of a run.
pub(crate) struct Shared {
    /// The stop level (`RUNNING`, `STOP_GRACEFUL`, `STOP_NOW`).
    pub stop: watch::Sender<u8>,
    /// Active threads of all groups.
    pub all_active: AtomicI32,
}

impl Shared {
    /// Raises the stop level to at least `level`.
    pub fn stop_at(&self, level: u8) {
        self.stop.send_if_modified(|v| {
            let raise = *v < level;
            if raise {
                *v = level;
            }
            raise
        });
    }
}

/// One finished sample, owned, on its way to the collector.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub ts_ms: i64,
    pub elapsed_ms: i64,
    pub latency_ms: i64,
    pub connect_ms: i64,
    pub idle_ms: i64,
    pub label: String,
    pub case_name: Arc<str>,
    pub thread: Arc<str>,
    pub kind: SampleKind,
    pub code: String,
    pub message: String,
    pub success: bool,
    pub failure_message: Option<String>,
    pub bytes_received: i64,
    pub bytes_sent: i64,
    pub grp_threads: i32,
    pub all_threads: i32,
    pub url: Option<String>,
    pub data_type: Option<&'static str>,
    pub encoding: Option<String>,
}

impl Sample {
    /// The record the batch builder takes.
    pub fn record(&self) -> SampleRecord<'_> {
        SampleRecord {
            ts_ms: Some(self.ts_ms),
            elapsed_ms: Some(self.elapsed_ms),
            latency_ms: Some(self.latency_ms),
            connect_ms: Some(self.connect_ms),
            idle_ms: Some(self.idle_ms),
            label: &self.label,
            case_name: Some(&self.case_name),
            thread: Some(&self.thread),
            kind: Some(self.kind),
            response_code: (!self.code.is_empty()).then_some(self.code.as_str()),
            response_message: Some(&self.message),
            success: self.success,
            failure_message: self.failure_message.as_deref(),
            bytes_received: Some(self.bytes_received),
            bytes_sent: Some(self.bytes_sent),
            grp_threads: Some(self.grp_threads),
            all_threads: Some(self.all_threads),
            url: self.url.as_deref(),
            data_type: self.data_type,
            encoding: self.encoding.as_deref(),
            ..SampleRecord::default()
        }
    }
}

/// What to do after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Next,
    NextLoop,
    Stop,
}

/// Totals of an open Transaction Controller.
#[derive(Debug, Default)]
struct TxAcc {
    calls: u64,
    failing: u64,
    elapsed: i64,
    latency: i64,
    connect: i64,
    bytes_received: i64,
    bytes_sent: i64,
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
    transactions: Vec<TxAcc>,
    /// Variables set at run time (extractors), per user.
    vars: HashMap<String, String>,
}

type StepFuture<'a> = Pin<Box<dyn Future<Output = Flow> + Send + 'a>>;

impl Vu {
    /// A virtual user of `group` called `thread`.
    pub fn new(
        group: Arc<ThreadGroupPlan>,
        thread: String,
        tx: mpsc::Sender<Sample>,
        shared: Arc<Shared>,
        deadline: Option<Instant>,
        grp_active: Arc<AtomicI32>,
    ) -> Vu {
        let stop = shared.stop.subscribe();
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
            transactions: Vec::new(),
            vars: HashMap::new(),
        }
    }

    /// Runs the thread group's loop until it is done or the run stops.
    pub async fn run(mut self) {
        self.grp_active.fetch_add(1, Ordering::SeqCst);
        self.shared.all_active.fetch_add(1, Ordering::SeqCst);
        tracing::debug!(thread = %self.thread, "thread started");
        let group = self.group.clone();
        let mut done = 0u64;
        while !self.stopping() && !finished(group.loops, done) {
            done += 1;
            if group.clear_cookies {
                self.client.cookies.clear();
            }
            if self.steps(&group.steps).await == Flow::Stop {
                break;
            }
            tokio::task::yield_now().await;
        }
        self.grp_active.fetch_sub(1, Ordering::SeqCst);
        self.shared.all_active.fetch_sub(1, Ordering::SeqCst);
        tracing::debug!(thread = %self.thread, loops = done, "thread finished");
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow() >= STOP_GRACEFUL || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    fn steps<'a>(&'a mut self, steps: &'a [Step]) -> StepFuture<'a> {
        Box::pin(async move {
            for step in steps {
                let flow = match step {
                    Step::Http(h) => self.http(h).await,
                    Step::Simple { steps, .. } => self.steps(steps).await,
                    Step::Loop { loops, steps, .. } => self.repeat(*loops, steps).await,
                    Step::Transaction {
                        name,
                        include_timers,
                        steps,
                    } => self.transaction(name, *include_timers, steps).await,
                };
                if flow != Flow::Next {
                    return flow;
                }
            }
            Flow::Next
        })
    }

    async fn repeat(&mut self, loops: Loops, steps: &[Step]) -> Flow {
        let mut done = 0u64;
        while !finished(loops, done) {
            if self.stopping() {
                return Flow::Stop;
            }
            done += 1;
            let flow = self.steps(steps).await;
            if flow != Flow::Next {
                return flow;
            }
            tokio::task::yield_now().await;
        }
        Flow::Next
    }

    async fn transaction(&mut self, name: &str, include_timers: bool, steps: &[Step]) -> Flow {
        let ts_ms = now_ms();
        let start = Instant::now();
        self.transactions.push(TxAcc::default());
        let flow = self.steps(steps).await;
        let acc = self.transactions.pop().unwrap_or_default();
        if acc.calls == 0 {
            return flow;
        }
        let wall = i64::try_from(start.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (elapsed_ms, idle_ms) = if include_timers {
            (wall, 0)
        } else {
            (acc.elapsed, (wall - acc.elapsed).max(0))
        };
        let success = acc.failing == 0;
        let sample = Sample {
            ts_ms,
            elapsed_ms,
            latency_ms: acc.latency,
            connect_ms: acc.connect,
            idle_ms,
            label: name.to_string(),
            case_name: self.case_name.clone(),
            thread: self.thread.clone(),
            kind: SampleKind::Transaction,
            code: if success { "200".into() } else { String::new() },
            message: format!(
                "{TRANSACTION_MESSAGE_PREFIX} : {}, number of failing samples : {}",
                acc.calls, acc.failing
            ),
            success,
            failure_message: None,
            bytes_received: acc.bytes_received,
            bytes_sent: acc.bytes_sent,
            grp_threads: self.grp_active.load(Ordering::SeqCst),
            all_threads: self.shared.all_active.load(Ordering::SeqCst),
            url: None,
            data_type: Some("text"),
            encoding: None,
        };
        if self.tx.send(sample).await.is_err() {
            return Flow::Stop;
        }
        flow
    }

    /// Waits `delay` (a timer); false when the run stopped or the schedule ended meanwhile.
    async fn pause(&mut self, delay: Duration) -> bool {
        let wanted = Instant::now() + delay;
        let (until, cut) = match self.deadline {
            Some(d) if d < wanted => (d, true),
            _ => (wanted, false),
        };
        let mut stop = self.stop.clone();
        tokio::select! {
            _ = tokio::time::sleep_until(until.into()) => !cut,
            _ = stop.wait_for(|s| *s >= STOP_GRACEFUL) => false,
        }
    }

    async fn http(&mut self, h: &HttpStep) -> Flow {
        let delay = RandomDelay::total(h.delay, &h.random_delays);
        if self.stopping() || (!delay.is_zero() && !self.pause(delay).await) {
            return Flow::Stop;
        }
        let keep_body = !h.extractors.is_empty()
            || h.assertions
                .iter()
                .any(|a| a.field == TestField::ResponseData);
        let rendered = h.runtime_vars.then(|| h.rendered(&self.vars));
        let step = rendered.as_ref().unwrap_or(h);
        let mut stop = self.stop.clone();
        let r = tokio::select! {
            r = self.client.execute(step, keep_body) => r,
            _ = stop.wait_for(|s| *s >= STOP_NOW) => return Flow::Stop,
        };
        let mut success = r.status.is_some_and(|s| (200..400).contains(&s))
            || h.assertions.iter().any(|a| a.assume_success);
        let mut failure_message = None;
        let response = Response {
            code: &r.code,
            message: &r.message,
            body: &r.body,
        };
        for e in &h.extractors {
            e.apply(&r.body, &mut self.vars);
        }
        for a in &h.assertions {
            if let Some(msg) = a.check(&response) {
                success = false;
                failure_message.get_or_insert(msg);
            }
        }
        for t in &mut self.transactions {
            t.calls += 1;
            t.failing += u64::from(!success);
            t.elapsed += r.elapsed_ms;
            t.latency += r.latency_ms;
            t.connect += r.connect_ms;
            t.bytes_received += r.bytes_received;
            t.bytes_sent += r.bytes_sent;
        }
        let sample = Sample {
            ts_ms: r.ts_ms,
            elapsed_ms: r.elapsed_ms,
            latency_ms: r.latency_ms,
            connect_ms: r.connect_ms,
            idle_ms: 0,
            label: h.label.clone(),
            case_name: self.case_name.clone(),
            thread: self.thread.clone(),
            kind: SampleKind::Sample,
            code: r.code,
            message: r.message,
            success,
            failure_message,
            bytes_received: r.bytes_received,
            bytes_sent: r.bytes_sent,
            grp_threads: self.grp_active.load(Ordering::SeqCst),
            all_threads: self.shared.all_active.load(Ordering::SeqCst),
            url: Some(r.url),
            data_type: r.data_type,
            encoding: r.encoding,
        };
        if self.tx.send(sample).await.is_err() {
            return Flow::Stop;
        }
        if success {
            return Flow::Next;
        }
        match self.group.on_error {
            OnSampleError::Continue => Flow::Next,
            OnSampleError::StartNextLoop => Flow::NextLoop,
            OnSampleError::StopThread => Flow::Stop,
            OnSampleError::StopTest => {
                self.shared.stop_at(STOP_GRACEFUL);
                Flow::Stop
            }
            OnSampleError::StopTestNow => {
                self.shared.stop_at(STOP_NOW);
                Flow::Stop
            }
        }
    }
}

fn finished(loops: Loops, done: u64) -> bool {
    matches!(loops, Loops::Count(n) if done >= n)
}
