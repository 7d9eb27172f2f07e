//! The live side of `loadlake run`: a [`SampleSink`] in front of the store's that counts every
//! batch per sampler ([`LiveSink`]), and a once-a-second task ([`LiveBoard::publish`]) that turns the
//! counts into the store's live file (state, concurrency, VUM, stage, PTS-style numbers) through
//! the store's [`LivePublisher`], and turns a `loadlake stop` request into a graceful stop.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use loadlake_plan::LoadProfile;
use loadlake_schema::{SampleBatch, SampleSink, SinkError};
use loadlake_store::{LiveCounts, LivePublisher, LiveState, Store, now_ms};
use tokio::sync::watch;

/// How often the live file is rewritten.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// Counts batches on their way to `inner`.
pub(super) struct LiveSink<'a> {
    inner: &'a mut dyn SampleSink,
    counts: Arc<Mutex<LiveCounts>>,
}

impl<'a> LiveSink<'a> {
    pub(super) fn new(
        inner: &'a mut dyn SampleSink,
        counts: Arc<Mutex<LiveCounts>>,
    ) -> LiveSink<'a> {
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
/// publishing task (numbers once a second); the writing is the store's [`LivePublisher`].
#[derive(Clone)]
pub(super) struct LiveBoard {
    publisher: Arc<Mutex<LivePublisher>>,
    /// What the [`LiveSink`] counts.
    pub counts: Arc<Mutex<LiveCounts>>,
    /// The stages the run follows (for the `stage` field), if any.
    profile: Option<Arc<LoadProfile>>,
}

impl LiveBoard {
    /// A board for run `run_id`, in state CREATED (written at once).
    pub(super) fn new(
        store: &Store,
        run_id: &str,
        name: &str,
        profile: Option<LoadProfile>,
    ) -> LiveBoard {
        LiveBoard {
            publisher: Arc::new(Mutex::new(LivePublisher::created(store, run_id, name))),
            counts: Arc::default(),
            profile: profile.map(Arc::new),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LivePublisher> {
        self.publisher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves to `state` (with `message` when not empty) and writes the live file at once.
    pub(super) fn enter(&self, state: LiveState, message: &str) {
        self.lock().enter(state, message);
    }

    /// Once a second until `done` turns true (or its sender goes): refreshes and writes the live
    /// file, and turns a `loadlake stop` request into STOPPING and `stop` set to true.
    pub(super) async fn publish(self, stop: watch::Sender<bool>, mut done: watch::Receiver<bool>) {
        if let Some(profile) = &self.profile {
            let profile = Arc::clone(profile);
            self.lock()
                .follow_stages(now_ms(), Box::new(move |since| profile.describe_at(since)));
        }
        loop {
            let finished = tokio::select! {
                _ = tokio::time::sleep(PUBLISH_EVERY) => false,
                _ = done.wait_for(|d| *d) => true,
            };
            let mut publisher = self.lock();
            publisher.refresh(|status, seconds| {
                self.counts
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .fill(status, seconds)
            });
            if publisher.take_stop_request() {
                let _ = stop.send(true);
            }
            if finished {
                break;
            }
        }
    }
}
