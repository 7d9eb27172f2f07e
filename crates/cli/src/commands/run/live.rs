//! The live side of `loadlake run`: a [`SampleSink`] in front of the store's that counts every
//! batch per sampler ([`LiveSink`]), and a once-a-second task ([`LiveBoard::publish`]) that turns the
//! counts into the store's live file (state, concurrency, VUM, stage, PTS-style numbers) and
//! turns a `loadlake stop` request into a graceful stop.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use loadlake_plan::LoadProfile;
use loadlake_schema::{SampleBatch, SampleSink, SinkError};
use loadlake_store::{LiveCounts, LiveState, LiveStatus, Store, now_ms};
use tokio::sync::watch;

/// How often the live file is rewritten.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

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
    pub fn new(store: &Store, run_id: &str, name: &str, profile: Option<LoadProfile>) -> LiveBoard {
        let board = LiveBoard {
            store: store.clone(),
            status: Arc::new(Mutex::new(LiveStatus::created(run_id, name, now_ms()))),
            counts: Arc::default(),
            profile: profile.map(Arc::new),
        };
        board.store.publish_live(&mut board.lock());
        board
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LiveStatus> {
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves to `state` (with `message` when not empty) and writes the live file at once.
    pub fn enter(&self, state: LiveState, message: &str) {
        let mut status = self.lock();
        status.enter_because(state, now_ms(), message);
        self.store.publish_live(&mut status);
    }

    /// Refreshes the numbers from the counts; `seconds` since the previous refresh.
    fn refresh(&self, status: &mut LiveStatus, seconds: f64, since_start: Duration) {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .fill(status, seconds);
        status.stage = self
            .profile
            .as_ref()
            .and_then(|p| p.describe_at(since_start));
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
                status.enter_because(
                    LiveState::Stopping,
                    now_ms(),
                    "stopped by request (loadlake stop)",
                );
                let _ = stop.send(true);
            }
            self.store.publish_live(&mut status);
            if finished {
                break;
            }
        }
    }
}
