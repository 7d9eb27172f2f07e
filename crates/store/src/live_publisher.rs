//! [`LivePublisher`]: the one writer of a live run's status file (`live/<id>.json`), used by
//! every process that generates load — `loadlake run` and the agents' controller of `loadlake
//! serve` — so that state changes, numbers, stages and stop requests are published one way.

use std::time::{Duration, Instant};

use crate::Store;
use crate::live::{LiveState, LiveStatus, now_ms};

/// Names the stage running a given time after the stages' time 0 (`None` between stages).
pub type StageNamer = Box<dyn Fn(Duration) -> Option<String> + Send + Sync>;

/// The message of a run stopped by `loadlake stop` (or the console's Stop button).
pub const STOPPED_BY_REQUEST: &str = "stopped by request (loadlake stop)";

/// Holds a live run's status and writes it to the store on each change.
pub struct LivePublisher {
    store: Store,
    status: LiveStatus,
    /// Time 0 of the run's stages (epoch ms) and how to name the stage running.
    stages: Option<(i64, StageNamer)>,
    last_refresh: Instant,
}

impl LivePublisher {
    /// A run just created by this process, in state CREATED, written at once.
    pub fn created(store: &Store, run_id: &str, name: &str) -> LivePublisher {
        let mut publisher = LivePublisher {
            store: store.clone(),
            status: LiveStatus::created(run_id, name, now_ms()),
            stages: None,
            last_refresh: Instant::now(),
        };
        publisher.publish();
        publisher
    }

    /// The status as last published (or about to be).
    pub fn status(&self) -> &LiveStatus {
        &self.status
    }

    /// The load generators taking part (default: `local`), written at once.
    pub fn set_agents(&mut self, agents: Vec<String>) {
        self.status.agents = agents;
        self.publish();
    }

    /// From now on the `stage` field names the stage `stage_at` gives for the time since
    /// `start_ms` (epoch ms).
    pub fn follow_stages(&mut self, start_ms: i64, stage_at: StageNamer) {
        self.stages = Some((start_ms, stage_at));
    }

    /// Moves to `state` (saying why when `message` is not empty) and writes at once.
    pub fn enter(&mut self, state: LiveState, message: &str) {
        self.status.enter_because(state, now_ms(), message);
        self.publish();
    }

    /// Sets the message shown with the status, written with the next refresh.
    pub fn say(&mut self, message: &str) {
        self.status.message = message.to_string();
    }

    /// Refreshes the numbers — `fill` puts them into the status, given the seconds since the
    /// previous refresh — and the stage, then writes.
    pub fn refresh(&mut self, fill: impl FnOnce(&mut LiveStatus, f64)) {
        let seconds = self.last_refresh.elapsed().as_secs_f64();
        self.last_refresh = Instant::now();
        fill(&mut self.status, seconds);
        if let Some((start_ms, stage_at)) = &self.stages {
            self.status.stage = u64::try_from(now_ms() - start_ms)
                .ok()
                .and_then(|since| stage_at(Duration::from_millis(since)));
        }
        self.publish();
    }

    /// When the run is RUNNING and a stop was requested (`loadlake stop`): moves it to
    /// STOPPING, writes, and returns true — the caller then stops the load gracefully.
    pub fn take_stop_request(&mut self) -> bool {
        if self.status.state != LiveState::Running
            || !self.store.stop_requested(&self.status.run_id)
        {
            return false;
        }
        tracing::info!(run = %self.status.run_id, "stop requested: the run is stopping");
        self.enter(LiveState::Stopping, STOPPED_BY_REQUEST);
        true
    }

    /// Stamps the status with the time and writes it; a failure is logged (the load goes on
    /// without its live file).
    fn publish(&mut self) {
        self.store.publish_live(&mut self.status);
    }
}
