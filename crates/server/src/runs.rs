//! RunService: the store's catalog (list with stable paging, get, delete, lifecycle status) and
//! the running data / stop of runs `loadlake run` generates on the same store (its live files).

use std::sync::Arc;

use std::time::Duration;

use loadlake_schema::{RunId, RunManifest, RunStatus};
use loadlake_store::{
    LiveStat, LiveState, LiveStatus, NameMatch, RunFilter, StoreError, now_ms, parse_tag,
};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::Shared;
use crate::error::store_status;
use crate::pb::{self, run_service_server::RunService};
use crate::run_order::{Cursor, OrderBy, decode_token, encode_token, sort_runs};

/// Page size when the caller gives none, and the most a page may hold.
const DEFAULT_PAGE: usize = 20;
const MAX_PAGE: usize = 100;

pub(crate) struct Runs {
    shared: Arc<Shared>,
}

impl Runs {
    pub(crate) fn new(shared: Arc<Shared>) -> Runs {
        Runs { shared }
    }
}

/// A run as the API shows it.
pub(crate) fn run_message(m: &RunManifest) -> pb::Run {
    pb::Run {
        run_id: m.run_id.to_string(),
        name: m.name.clone(),
        tags: m.tags.clone().into_iter().collect(),
        status: m.status.as_str().to_string(),
        samples: m.samples,
        errors: m.errors,
        first_ts_ms: m.first_ts_ms,
        last_ts_ms: m.last_ts_ms,
        imported_at: m.imported_at.to_rfc3339(),
        sources: m.sources.iter().map(|s| s.path.clone()).collect(),
        manifest_json: serde_json::to_string(m).unwrap_or_default(),
    }
}

/// The store's run filter of a `ListRuns` request (0 and empty fields: no condition).
fn run_filter(r: &pb::ListRunsRequest) -> Result<RunFilter, Status> {
    let tags = r
        .tags
        .iter()
        .map(|t| parse_tag(t))
        .collect::<Result<_, _>>()
        .map_err(|e| store_status(&e))?;
    Ok(RunFilter {
        name: (!r.name.is_empty()).then(|| NameMatch::Contains(r.name.clone())),
        tags,
        status: (!r.status.is_empty()).then(|| r.status.clone()),
        started_from_ms: (r.start_after_ms != 0).then_some(r.start_after_ms),
        started_before_ms: (r.start_before_ms != 0).then_some(r.start_before_ms),
        last: None,
    })
}

#[tonic::async_trait]
impl RunService for Runs {
    async fn list_runs(
        &self,
        request: Request<pb::ListRunsRequest>,
    ) -> Result<Response<pb::ListRunsResponse>, Status> {
        let r = request.into_inner();
        let size = match r.max_results {
            n if n < 0 => return Err(Status::invalid_argument("max_results must be 0 to 100")),
            0 => DEFAULT_PAGE,
            n => (n as usize).min(MAX_PAGE),
        };
        let by = OrderBy::parse(&r.order_by)?;
        let cursor = if r.next_token.is_empty() {
            Cursor::At(0)
        } else {
            decode_token(&r.next_token)?
        };
        // Listing reads (or stats) every manifest: off the runtime's workers, so that a page
        // of a large store does not hold up the other requests' queries.
        let (store, filter) = (self.shared.store.clone(), run_filter(&r)?);
        let mut runs = tokio::task::spawn_blocking(move || store.matching_runs(&filter))
            .await
            .map_err(|e| Status::internal(format!("listing runs: {e}")))?
            .map_err(|e| store_status(&e))?;
        sort_runs(&mut runs, by, r.ascending);
        let total = runs.len() as u64;
        let start = match cursor {
            Cursor::At(position) => position.min(runs.len()),
            Cursor::AfterRun(after) => {
                runs.partition_point(|m| m.run_id.as_str() >= after.as_str())
            }
        };
        let page = &runs[start..runs.len().min(start + size)];
        let more = start + page.len() < runs.len();
        Ok(Response::new(pb::ListRunsResponse {
            runs: page.iter().map(|m| run_message(m)).collect(),
            next_token: match (more, page.last()) {
                (true, Some(last)) => {
                    encode_token(by, r.ascending, last.run_id.as_str(), start + page.len())
                }
                _ => String::new(),
            },
            total,
        }))
    }

    async fn get_run(
        &self,
        request: Request<pb::GetRunRequest>,
    ) -> Result<Response<pb::Run>, Status> {
        let m = self
            .shared
            .store
            .run(&request.into_inner().run_id)
            .map_err(|e| store_status(&e))?;
        Ok(Response::new(run_message(&m)))
    }

    async fn delete_run(
        &self,
        request: Request<pb::DeleteRunRequest>,
    ) -> Result<Response<pb::DeleteRunResponse>, Status> {
        self.shared
            .store
            .delete_run(&request.into_inner().run_id)
            .map_err(|e| store_status(&e))?;
        Ok(Response::new(pb::DeleteRunResponse { deleted: true }))
    }

    async fn get_run_status(
        &self,
        request: Request<pb::GetRunRequest>,
    ) -> Result<Response<pb::RunStatus>, Status> {
        use pb::run_status::State;
        let run_id = request.into_inner().run_id;
        // A run being streamed is RUNNING until its last stream closes.
        if let Some((streams, samples)) = self.shared.live_runs.progress(&run_id) {
            return Ok(Response::new(pb::RunStatus {
                run_id,
                state: State::Running as i32,
                message: format!("{streams} stream(s) open, {samples} samples acknowledged"),
            }));
        }
        if let Some(live) = self.live(&run_id)? {
            return Ok(Response::new(live_status(&live)));
        }
        let store = &self.shared.store;
        match store.run(&run_id) {
            Ok(m) => Ok(Response::new(manifest_status(&m))),
            // Streamed through another server (or process) on the same store.
            Err(StoreError::NoSuchRun(missing))
                if RunId::parse(&run_id)
                    .is_ok_and(|id| store.is_being_written(&id).unwrap_or(false)) =>
            {
                Ok(Response::new(pb::RunStatus {
                    run_id: missing,
                    state: State::Running as i32,
                    message: "being written by another server or process on this store".into(),
                }))
            }
            Err(e) => Err(store_status(&e)),
        }
    }

    type GetRunningDataStream = ReceiverStream<Result<pb::RunningData, Status>>;

    async fn get_running_data(
        &self,
        request: Request<pb::GetRunRequest>,
    ) -> Result<Response<Self::GetRunningDataStream>, Status> {
        let run_id = request.into_inner().run_id;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let Some(first) = self.live(&run_id)? else {
            // Never generated here: one message from the manifest.
            let m = self
                .shared
                .store
                .run(&run_id)
                .map_err(|e| store_status(&e))?;
            let data = pb::RunningData {
                status: Some(manifest_status(&m)),
                all_sample_stat: Some(pb::SampleStat {
                    name: Some("all".into()),
                    count: m.samples,
                    success_count: m.samples.saturating_sub(m.errors),
                    fail_count: m.errors,
                    ..pb::SampleStat::default()
                }),
                ..pb::RunningData::default()
            };
            let _ = tx.send(Ok(data)).await;
            return Ok(Response::new(ReceiverStream::new(rx)));
        };
        tokio::spawn(follow_live(self.shared.clone(), first, tx));
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn stop_run(
        &self,
        request: Request<pb::GetRunRequest>,
    ) -> Result<Response<pb::RunStatus>, Status> {
        let run_id = request.into_inner().run_id;
        match self.shared.store.request_stop(&run_id, now_ms()) {
            Ok(live) => Ok(Response::new(live_status(&live))),
            Err(StoreError::NotLive(_)) => Err(Status::failed_precondition(format!(
                "run '{run_id}' is not running"
            ))),
            Err(e) => Err(store_status(&e)),
        }
    }
}

impl Runs {
    /// The live status of a run generated on this store, if any.
    fn live(&self, run_id: &str) -> Result<Option<LiveStatus>, Status> {
        self.shared
            .store
            .live(run_id, now_ms())
            .map_err(|e| store_status(&e))
    }
}

/// How often a followed live file is read.
const FOLLOW_EVERY: Duration = Duration::from_millis(250);

/// Sends `first`, then every change of the run's live file, until its final state or until
/// the client goes away.
async fn follow_live(
    shared: Arc<Shared>,
    first: LiveStatus,
    tx: tokio::sync::mpsc::Sender<Result<pb::RunningData, Status>>,
) {
    let mut last = first;
    if tx.send(Ok(running_data(&last))).await.is_err() {
        return;
    }
    while !last.state.is_final() {
        tokio::time::sleep(FOLLOW_EVERY).await;
        let next = match shared.store.live(&last.run_id, now_ms()) {
            Ok(Some(next)) => next,
            Ok(None) => return,
            Err(e) => {
                let _ = tx.send(Err(store_status(&e))).await;
                return;
            }
        };
        if next != last {
            if tx.send(Ok(running_data(&next))).await.is_err() {
                return;
            }
            last = next;
        }
    }
}

fn state(s: LiveState) -> pb::run_status::State {
    use pb::run_status::State;
    match s {
        LiveState::Created => State::Created,
        LiveState::Preparing => State::Preparing,
        LiveState::Ready => State::Ready,
        LiveState::Running => State::Running,
        LiveState::Stopping => State::Stopping,
        LiveState::Stopped => State::Stopped,
        LiveState::Failed => State::Failed,
    }
}

fn live_status(live: &LiveStatus) -> pb::RunStatus {
    pb::RunStatus {
        run_id: live.run_id.clone(),
        state: state(live.state) as i32,
        message: live.message.clone(),
    }
}

/// Imported and finished runs are STOPPED.
fn manifest_status(m: &RunManifest) -> pb::RunStatus {
    use pb::run_status::State;
    let (state, message) = match m.status {
        RunStatus::Importing => (State::Running, String::new()),
        RunStatus::Complete => (State::Stopped, String::new()),
        RunStatus::Incomplete => (
            State::Stopped,
            "incomplete: the run ended before all its samples arrived".to_string(),
        ),
        RunStatus::Failed => (State::Failed, "the run failed".to_string()),
    };
    pb::RunStatus {
        run_id: m.run_id.to_string(),
        state: state as i32,
        message,
    }
}

fn sample_stat(s: &LiveStat) -> pb::SampleStat {
    pb::SampleStat {
        name: Some(s.name.clone()),
        count: s.count,
        success_count: s.success_count,
        fail_count: s.fail_count,
        tps: Some(s.tps),
        rt_avg: Some(s.rt_avg),
        rt_min: Some(s.rt_min as f64),
        rt_max: Some(s.rt_max as f64),
        ..pb::SampleStat::default()
    }
}

fn running_data(live: &LiveStatus) -> pb::RunningData {
    pb::RunningData {
        status: Some(live_status(live)),
        history: live
            .history
            .iter()
            .map(|c| pb::StateChange {
                state: state(c.state) as i32,
                at_ms: c.at_ms,
            })
            .collect(),
        concurrency: live.concurrency,
        agent_count: live.agents.len() as u32,
        agent_ids: live.agents.clone(),
        vum: live.vum,
        stage: live.stage.clone().unwrap_or_default(),
        updated_ms: live.updated_ms,
        all_sample_stat: Some(sample_stat(&live.all)),
        sample_stat_list: live.samplers.iter().map(sample_stat).collect(),
    }
}
