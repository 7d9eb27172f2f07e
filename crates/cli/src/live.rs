//! The live side of `loadlake run`: a [`SampleSink`] in front of the store's that counts every
//! batch per sampler ([`LiveSink`]), and a once-a-second task ([`publish`]) that turns the
//! counts into the store's live file (state, concurrency, VUM, stage, PTS-style numbers) and
//! turns a `loadlake stop` request into a graceful stop.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int32Type, Int64Type};
use loadlake_plan::LoadProfile;
use loadlake_schema::{SampleBatch, SampleSink, SinkError, col};
use loadlake_store::{LiveStat, LiveState, LiveStatus, Store, now_ms};
use tokio::sync::watch;

/// How often the live file is rewritten.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// Totals of one sampler (or all).
#[derive(Debug, Default, Clone)]
struct Totals {
    count: u64,
    failed: u64,
    sum_ms: i64,
    min_ms: Option<i64>,
    max_ms: i64,
    /// `count` at the previous publication (for the TPS of the last interval).
    count_before: u64,
}

impl Totals {
    fn add(&mut self, elapsed: i64, success: bool) {
        self.count += 1;
        self.failed += u64::from(!success);
        self.sum_ms += elapsed;
        self.min_ms = Some(self.min_ms.map_or(elapsed, |m| m.min(elapsed)));
        self.max_ms = self.max_ms.max(elapsed);
    }

    /// The PTS-style numbers; `seconds` since the previous publication.
    fn stat(&mut self, name: &str, seconds: f64) -> LiveStat {
        let tps = (self.count - self.count_before) as f64 / seconds.max(1e-3);
        self.count_before = self.count;
        LiveStat {
            name: name.to_string(),
            count: self.count,
            success_count: self.count - self.failed,
            fail_count: self.failed,
            tps,
            rt_avg: if self.count == 0 {
                0.0
            } else {
                self.sum_ms as f64 / self.count as f64
            },
            rt_min: self.min_ms.unwrap_or(0),
            rt_max: self.max_ms,
        }
    }
}

/// What the sink has counted so far.
#[derive(Debug, Default)]
pub struct LiveCounts {
    all: Totals,
    by_label: BTreeMap<String, Totals>,
    /// Active users in the latest sample.
    users: i64,
}

impl LiveCounts {
    fn count(&mut self, batch: &SampleBatch) {
        let text = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| cast(c, &DataType::Utf8).ok())
        };
        let (Some(labels), Some(kinds), Some(elapsed), Some(ok)) = (
            text(col::LABEL),
            text(col::KIND),
            batch.column_by_name(col::ELAPSED_MS),
            batch.column_by_name(col::SUCCESS),
        ) else {
            return;
        };
        let (labels, kinds) = (labels.as_string::<i32>(), kinds.as_string::<i32>());
        let (elapsed, ok) = (elapsed.as_primitive::<Int64Type>(), ok.as_boolean());
        for i in 0..batch.num_rows() {
            let (ms, success) = (elapsed.value(i), ok.value(i));
            // Transactions have their own line; "all" counts the requests.
            if kinds.value(i) == "sample" {
                self.all.add(ms, success);
            }
            let label = labels.value(i);
            match self.by_label.get_mut(label) {
                Some(t) => t.add(ms, success),
                None => {
                    let mut t = Totals::default();
                    t.add(ms, success);
                    self.by_label.insert(label.to_string(), t);
                }
            }
        }
        if let Some(users) = batch.column_by_name(col::ALL_THREADS) {
            let users = users.as_primitive::<Int32Type>();
            if let Some(last) = (0..users.len()).rev().find(|&i| users.is_valid(i)) {
                self.users = i64::from(users.value(last));
            }
        }
    }
}

/// Counts batches on their way to `inner`.
pub struct LiveSink<'a> {
    inner: &'a mut dyn SampleSink,
    counts: Arc<Mutex<LiveCounts>>,
}

impl<'a> LiveSink<'a> {
    pub fn new(inner: &'a mut dyn SampleSink, counts: Arc<Mutex<LiveCounts>>) -> LiveSink<'a> {
        LiveSink { inner, counts }
    }
}

impl SampleSink for LiveSink<'_> {
    fn write_batch(&mut self, batch: SampleBatch) -> Result<(), SinkError> {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .count(&batch);
        self.inner.write_batch(batch)
    }
}

/// The run's live status, shared by `loadlake run`'s main thread (state changes) and its
/// publishing task (numbers once a second).
#[derive(Clone)]
pub struct LiveBoard {
    store: Store,
    status: Arc<Mutex<LiveStatus>>,
    /// What the [`LiveSink`] counts.
    pub counts: Arc<Mutex<LiveCounts>>,
    /// The stages the run follows (for the `stage` field), if any.
    profile: Option<Arc<LoadProfile>>,
}

impl LiveBoard {
    /// A board for run `run_id`, in state CREATED (written at once).
    pub fn new(store: &Store, run_id: &str, profile: Option<LoadProfile>) -> LiveBoard {
        let board = LiveBoard {
            store: store.clone(),
            status: Arc::new(Mutex::new(LiveStatus::created(run_id, now_ms()))),
            counts: Arc::default(),
            profile: profile.map(Arc::new),
        };
        board.write(&mut board.lock());
        board
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LiveStatus> {
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves to `state` (with `message` when not empty) and writes the live file at once.
    pub fn enter(&self, state: LiveState, message: &str) {
        let mut status = self.lock();
        status.enter(state, now_ms());
        if !message.is_empty() {
            status.message = message.to_string();
        }
        self.write(&mut status);
    }

    /// Writes the live file (a failure is logged: the run goes on).
    fn write(&self, status: &mut LiveStatus) {
        status.updated_ms = now_ms();
        if let Err(e) = self.store.write_live(status) {
            tracing::warn!(error = %e, "could not write the run's live status");
        }
    }

    /// Refreshes the numbers from the counts; `seconds` since the previous refresh.
    fn refresh(&self, status: &mut LiveStatus, seconds: f64, since_start: Duration) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        status.concurrency = counts.users;
        status.vum += counts.users as f64 * seconds / 60.0;
        status.all = counts.all.stat("all", seconds);
        status.samplers = counts
            .by_label
            .iter_mut()
            .map(|(label, t)| t.stat(label, seconds))
            .collect();
        drop(counts);
        status.stage = self.profile.as_ref().and_then(|p| {
            p.stage_at(since_start).map(|(i, _)| {
                let users = p.users_at(since_start).unwrap_or(0);
                format!(
                    "{} ({}, {users} users)",
                    p.stages[i].name,
                    p.stages[i].shape.mode()
                )
            })
        });
    }

    /// Once a second until `done` turns true (or its sender goes): refreshes and writes the live
    /// file, and turns a `loadlake stop` request into STOPPING and `stop` set to true.
    pub async fn publish(self, stop: watch::Sender<bool>, mut done: watch::Receiver<bool>) {
        let started = Instant::now();
        let mut last = started;
        loop {
            let finished = tokio::select! {
                _ = tokio::time::sleep(PUBLISH_EVERY) => false,
                _ = done.wait_for(|d| *d) => true,
            };
            let now = Instant::now();
            let mut status = self.lock();
            self.refresh(&mut status, (now - last).as_secs_f64(), now - started);
            last = now;
            if status.state == LiveState::Running && self.store.stop_requested(&status.run_id) {
                tracing::info!(run = %status.run_id, "stop requested: the run is stopping");
                status.enter(LiveState::Stopping, now_ms());
                status.message = "stopped by request (loadlake stop)".into();
                let _ = stop.send(true);
            }
            self.write(&mut status);
            if finished {
                break;
            }
        }
    }
}
