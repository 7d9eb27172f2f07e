//! Live runs: the lifecycle state and running data of a run being generated
//! (`<root>/live/<id>.json`, rewritten atomically about once a second by the process running it),
//! and the stop request another process leaves for it (`<root>/live/<id>.stop`). `loadlake
//! status`, `loadlake stop` and the gRPC server read and write these files, so they work across
//! processes on the same store with no daemon — on object storage the same keys under the
//! store's prefix, each written by one PUT, so across hosts too. The states are PTS's scene
//! states.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int32Type, Int64Type};
use loadlake_schema::manifest::MANIFEST_FORMAT_VERSION;
use loadlake_schema::{RunId, RunManifest, RunStatus, col};
use serde::{Deserialize, Serialize};

use crate::{Store, StoreError};

/// A live file not rewritten for this long belongs to a process that is gone.
pub const LIVE_STALE_AFTER: Duration = Duration::from_secs(10);

/// Milliseconds since the epoch, now (the clock of live files).
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LiveState {
    Created,
    Preparing,
    Ready,
    Running,
    Stopping,
    Stopped,
    Failed,
}

impl LiveState {
    /// The state's name, as PTS spells it (`RUNNING`).
    pub fn as_str(self) -> &'static str {
        match self {
            LiveState::Created => "CREATED",
            LiveState::Preparing => "PREPARING",
            LiveState::Ready => "READY",
            LiveState::Running => "RUNNING",
            LiveState::Stopping => "STOPPING",
            LiveState::Stopped => "STOPPED",
            LiveState::Failed => "FAILED",
        }
    }

    /// STOPPED and FAILED: nothing follows.
    pub fn is_final(self) -> bool {
        matches!(self, LiveState::Stopped | LiveState::Failed)
    }
}

/// One state change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateChange {
    pub state: LiveState,
    /// Epoch ms.
    pub at_ms: i64,
}

/// PTS AllSampleStat / SampleStatList-style numbers of one sampler (or all of them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveStat {
    pub name: String,
    pub count: u64,
    pub success_count: u64,
    pub fail_count: u64,
    /// Samples per second over the last interval.
    pub tps: f64,
    pub rt_avg: f64,
    pub rt_min: i64,
    pub rt_max: i64,
}

/// The running data of a live run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveStatus {
    pub run_id: String,
    /// The run's name, as its manifest will have it.
    #[serde(default)]
    pub name: String,
    pub state: LiveState,
    /// Why the run failed or stopped early; empty otherwise.
    pub message: String,
    /// Every state so far, in order.
    pub history: Vec<StateChange>,
    /// When this was written, epoch ms.
    pub updated_ms: i64,
    /// The process generating the load.
    pub pid: u32,
    /// The stage (or peak-seeking step) running now, when the run has stages.
    pub stage: Option<String>,
    /// Virtual users active now.
    pub concurrency: i64,
    /// Load generators taking part (`local` for the process itself).
    pub agents: Vec<String>,
    /// Virtual-user minutes so far (Σ concurrency × time).
    pub vum: f64,
    pub all: LiveStat,
    pub samplers: Vec<LiveStat>,
}

impl LiveStatus {
    /// What the run's manifest would say, as far as this status knows, for reports of a run
    /// still being written: status `importing`, tag `live=<STATE>`, the counts so far, from the
    /// moment it began running to the last update.
    pub fn stand_in_manifest(&self) -> Result<RunManifest, StoreError> {
        self.stand_in_manifest_labelled(self.state.as_str())
    }

    /// [`LiveStatus::stand_in_manifest`] with `label` as its `live` tag.
    fn stand_in_manifest_labelled(&self, label: &str) -> Result<RunManifest, StoreError> {
        let run_id =
            RunId::parse(&self.run_id).map_err(|_| StoreError::NoSuchRun(self.run_id.clone()))?;
        let started = self
            .history
            .iter()
            .find(|c| c.state == LiveState::Running)
            .map(|c| c.at_ms);
        Ok(RunManifest {
            format_version: MANIFEST_FORMAT_VERSION,
            run_id,
            name: if self.name.is_empty() {
                self.run_id.clone()
            } else {
                self.name.clone()
            },
            tags: [("live".to_string(), label.to_string())].into(),
            status: RunStatus::Importing,
            status_reason: None,
            sources: Vec::new(),
            samples: self.all.count,
            errors: self.all.fail_count,
            first_ts_ms: started,
            last_ts_ms: Some(self.updated_ms),
            imported_at: chrono::Utc::now(),
            rejects: Default::default(),
            parts: 0,
            files: Vec::new(),
            plan: None,
            created_by: format!("loadlake {} (live)", env!("CARGO_PKG_VERSION")),
        })
    }

    /// A run just created by this process.
    pub fn created(run_id: &str, name: &str, now_ms: i64) -> LiveStatus {
        LiveStatus {
            run_id: run_id.to_string(),
            name: name.to_string(),
            state: LiveState::Created,
            message: String::new(),
            history: vec![StateChange {
                state: LiveState::Created,
                at_ms: now_ms,
            }],
            updated_ms: now_ms,
            pid: std::process::id(),
            stage: None,
            concurrency: 0,
            agents: vec!["local".to_string()],
            vum: 0.0,
            all: LiveStat {
                name: "all".into(),
                ..LiveStat::default()
            },
            samplers: Vec::new(),
        }
    }

    /// Moves to `state` (recorded in the history when it changes).
    pub fn enter(&mut self, state: LiveState, now_ms: i64) {
        if state.is_final() {
            // Nothing runs any more: no users, no stage.
            self.concurrency = 0;
            self.stage = None;
        }
        if self.state != state {
            self.state = state;
            self.history.push(StateChange {
                state,
                at_ms: now_ms,
            });
        }
    }

    /// [`LiveStatus::enter`], and says why when `message` is not empty.
    pub fn enter_because(&mut self, state: LiveState, now_ms: i64, message: &str) {
        self.enter(state, now_ms);
        if !message.is_empty() {
            self.message = message.to_string();
        }
    }

    /// A live file of a process that stopped writing it without a final state: read as FAILED.
    pub fn lost(mut self, now_ms: i64) -> LiveStatus {
        let silent = now_ms - self.updated_ms;
        if !self.state.is_final() && silent > LIVE_STALE_AFTER.as_millis() as i64 {
            self.message = format!(
                "lost: no update for {} s (the process generating the load is gone)",
                silent / 1000
            );
            self.enter(LiveState::Failed, self.updated_ms);
        }
        self
    }
}

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
    /// Active users in the latest sample of each agent (`""`: samples without one).
    users: BTreeMap<String, i64>,
}

impl LiveCounts {
    /// Counts the samples of `batch` (request samples in `all`, every row under its label).
    pub fn count(&mut self, batch: &RecordBatch) {
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
            let agents = text(col::AGENT);
            let agents = agents.as_ref().map(|a| a.as_string::<i32>());
            if let Some(last) = (0..users.len()).rev().find(|&i| users.is_valid(i)) {
                let agent = agents
                    .filter(|a| a.is_valid(last))
                    .map_or("", |a| a.value(last));
                self.users
                    .insert(agent.to_string(), i64::from(users.value(last)));
            }
        }
    }

    /// Active users now: the latest count of each agent, summed.
    pub fn users(&self) -> i64 {
        self.users.values().sum()
    }

    /// Puts the numbers into `status`: concurrency, VUM (adding `seconds` at the current
    /// concurrency) and the PTS-style stats, TPS over the `seconds` since the previous call.
    pub fn fill(&mut self, status: &mut LiveStatus, seconds: f64) {
        status.concurrency = self.users();
        status.vum += status.concurrency as f64 * seconds / 60.0;
        status.all = self.all.stat("all", seconds);
        status.samplers = self
            .by_label
            .iter_mut()
            .map(|(label, t)| t.stat(label, seconds))
            .collect();
    }
}

/// `live/<id>.<ext>` (`json`, `stop`): a live file's key on object storage.
pub(crate) fn live_key(id: &RunId, ext: &str) -> String {
    format!("live/{id}.{ext}")
}

impl Store {
    fn live_dir(&self) -> PathBuf {
        self.layout().root().join("live")
    }

    fn live_path(&self, id: &RunId, ext: &str) -> PathBuf {
        self.live_dir().join(format!("{id}.{ext}"))
    }

    /// Writes `status` (atomically: a reader never sees half a file; on object storage one
    /// PUT).
    pub(crate) fn write_live(&self, status: &LiveStatus) -> Result<(), StoreError> {
        let id = RunId::parse(&status.run_id)
            .map_err(|_| StoreError::NoSuchRun(status.run_id.clone()))?;
        if let Some(remote) = self.remote() {
            let key = live_key(&id, "json");
            let json =
                serde_json::to_vec_pretty(status).map_err(|source| StoreError::Manifest {
                    path: remote.url_of(&key).into(),
                    source,
                })?;
            remote.put(&key, json.into(), object_store::PutMode::Overwrite)?;
            return Ok(());
        }
        let dir = self.live_dir();
        fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        let path = self.live_path(&id, "json");
        let tmp = self.live_path(&id, "json.tmp");
        let json = serde_json::to_vec_pretty(status).map_err(|source| StoreError::Manifest {
            path: path.clone(),
            source,
        })?;
        fs::write(&tmp, json).map_err(|e| StoreError::io(&tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| StoreError::io(&path, e))
    }

    /// Stamps `status` with the time and writes it; a failure is logged, not returned (the
    /// load goes on without its live file).
    pub(crate) fn publish_live(&self, status: &mut LiveStatus) {
        status.updated_ms = now_ms();
        if let Err(e) = self.write_live(status) {
            tracing::warn!(run = %status.run_id, error = %e, "could not write the live status");
        }
    }

    /// The live status of run `id`, if a process ever generated it here (read as FAILED when
    /// its process went away without saying so).
    pub fn live(&self, id: &str, now_ms: i64) -> Result<Option<LiveStatus>, StoreError> {
        let Ok(id) = RunId::parse(id) else {
            return Ok(None);
        };
        let (bytes, path) = match self.remote() {
            Some(remote) => {
                let key = live_key(&id, "json");
                match remote.get(&key)? {
                    Some(bytes) => (bytes.to_vec(), PathBuf::from(remote.url_of(&key))),
                    None => return Ok(None),
                }
            }
            None => {
                let path = self.live_path(&id, "json");
                match fs::read(&path) {
                    Ok(b) => (b, path),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(StoreError::io(&path, e)),
                }
            }
        };
        let status: LiveStatus = serde_json::from_slice(&bytes)
            .map_err(|source| StoreError::Manifest { path, source })?;
        Ok(Some(status.lost(now_ms)))
    }

    /// Run `id`'s manifest; for a run still being written here, a stand-in (`true`: its samples
    /// are the parts written so far, `live_samples`): made from its live status, or, for a run
    /// with none (a gRPC stream, an import), from the fact that a live writer holds its lock.
    pub fn run_or_live(&self, id: &str, now_ms: i64) -> Result<(RunManifest, bool), StoreError> {
        let missing = match self.run(id) {
            Err(StoreError::NoSuchRun(missing)) => missing,
            committed => return committed.map(|m| (m, false)),
        };
        if let Some(status) = self.live(id, now_ms)?
            && !status.state.is_final()
        {
            return Ok((status.stand_in_manifest()?, true));
        }
        match RunId::parse(id) {
            Ok(run_id) if self.is_being_written(&run_id)? => {
                let mut status = LiveStatus::created(id, "", now_ms);
                status.history.clear();
                Ok((status.stand_in_manifest_labelled("WRITING")?, true))
            }
            _ => Err(StoreError::NoSuchRun(missing)),
        }
    }

    /// Asks the process generating run `id` to stop it (it finishes the iterations in flight).
    /// Errors when the run is not live.
    pub fn request_stop(&self, id: &str, now_ms: i64) -> Result<LiveStatus, StoreError> {
        let status = self
            .live(id, now_ms)?
            .filter(|s| !s.state.is_final())
            .ok_or_else(|| StoreError::NotLive(id.to_string()))?;
        let id = RunId::parse(id).map_err(|_| StoreError::NotLive(id.to_string()))?;
        if let Some(remote) = self.remote() {
            let key = live_key(&id, "stop");
            remote.put(&key, "stop\n".into(), object_store::PutMode::Overwrite)?;
            return Ok(status);
        }
        let path = self.live_path(&id, "stop");
        fs::write(&path, b"stop\n").map_err(|e| StoreError::io(&path, e))?;
        Ok(status)
    }

    /// Removes run `id`'s live files (with the run).
    pub(crate) fn remove_live(&self, id: &RunId) {
        for ext in ["json", "stop"] {
            match self.remote() {
                Some(remote) => {
                    if let Err(e) = remote.delete(&live_key(id, ext)) {
                        tracing::warn!("removing a live file of run {id}: {e}");
                    }
                }
                None => {
                    let _ = fs::remove_file(self.live_path(id, ext));
                }
            }
        }
    }

    /// Whether someone asked to stop run `id` (a bucket that cannot be asked: logged, no).
    pub fn stop_requested(&self, id: &str) -> bool {
        let Ok(id) = RunId::parse(id) else {
            return false;
        };
        match self.remote() {
            Some(remote) => remote
                .exists(&live_key(&id, "stop"))
                .inspect_err(|e| tracing::warn!("asking whether run {id} should stop: {e}"))
                .unwrap_or(false),
            None => self.live_path(&id, "stop").exists(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_files_round_trip_and_a_silent_run_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let id = "20261201-101010-abcd";
        let mut s = LiveStatus::created(id, "t", 1_000);
        s.enter(LiveState::Running, 2_000);
        s.enter(LiveState::Running, 2_500);
        s.updated_ms = 3_000;
        store.write_live(&s).unwrap();
        let read = store.live(id, 4_000).unwrap().unwrap();
        assert_eq!(read, s);
        let states: Vec<LiveState> = read.history.iter().map(|c| c.state).collect();
        assert_eq!(states, [LiveState::Created, LiveState::Running]);
        // 11 s without an update: the process is gone.
        let lost = store.live(id, 14_001).unwrap().unwrap();
        assert_eq!(lost.state, LiveState::Failed);
        assert!(
            lost.message.starts_with("lost: no update for 11 s"),
            "{}",
            lost.message
        );

        assert!(!store.stop_requested(id));
        store.request_stop(id, 4_000).unwrap();
        assert!(store.stop_requested(id));
        s.enter(LiveState::Stopped, 5_000);
        store.write_live(&s).unwrap();
        let err = store.request_stop(id, 6_000).unwrap_err().to_string();
        assert!(err.contains("is not running"), "{err}");
        assert!(store.live("20261201-101010-zzzz", 0).unwrap().is_none());
    }
}
