//! RunService: the store's catalog (list with stable paging, get, delete, lifecycle status).

use std::sync::Arc;

use loadlake_schema::{RunManifest, RunStatus};
use tonic::{Request, Response, Status};

use crate::Shared;
use crate::error::store_status;
use crate::pb::{self, run_service_server::RunService};

/// Page size when the caller gives none, and the most a page may hold.
const DEFAULT_PAGE: usize = 20;
const MAX_PAGE: usize = 100;

pub(crate) struct Runs {
    shared: Arc<Shared>,
}

impl Runs {
    pub fn new(shared: Arc<Shared>) -> Runs {
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

/// Next-page tokens: the last run id of the page, hex-encoded. Runs are listed newest first and
/// ids sort by creation time, so a token stays valid (and pages do not shift) while runs are added.
fn encode_token(run_id: &str) -> String {
    run_id.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_token(token: &str) -> Result<String, Status> {
    let bad = || Status::invalid_argument("next_token is not one this server gave out");
    if !token.len().is_multiple_of(2) {
        return Err(bad());
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16).map_err(|_| bad()))
        .collect::<Result<Vec<u8>, Status>>()?;
    String::from_utf8(bytes).map_err(|_| bad())
}

/// Does `m` pass the request's filters?
fn matches(m: &RunManifest, r: &pb::ListRunsRequest) -> Result<bool, Status> {
    for tag in &r.tags {
        let Some((k, v)) = tag.split_once('=') else {
            return Err(Status::invalid_argument(format!(
                "tag '{tag}' is not KEY=VALUE"
            )));
        };
        if m.tags.get(k).map(String::as_str) != Some(v) {
            return Ok(false);
        }
    }
    let start = m.first_ts_ms.unwrap_or(m.imported_at.timestamp_millis());
    Ok((r.name.is_empty() || m.name.contains(&r.name))
        && (r.status.is_empty() || m.status.as_str() == r.status)
        && (r.start_after_ms == 0 || start >= r.start_after_ms)
        && (r.start_before_ms == 0 || start < r.start_before_ms))
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
        let after = if r.next_token.is_empty() {
            None
        } else {
            Some(decode_token(&r.next_token)?)
        };
        let mut runs = Vec::new();
        for m in self.shared.store.runs().map_err(|e| store_status(&e))? {
            if matches(&m, &r)? {
                runs.push(m);
            }
        }
        runs.sort_by(|a, b| b.run_id.as_str().cmp(a.run_id.as_str()));
        let total = runs.len() as u64;
        let page: Vec<&RunManifest> = runs
            .iter()
            .filter(|m| after.as_deref().is_none_or(|a| m.run_id.as_str() < a))
            .take(size + 1)
            .collect();
        let more = page.len() > size;
        let page = &page[..page.len().min(size)];
        Ok(Response::new(pb::ListRunsResponse {
            runs: page.iter().map(|m| run_message(m)).collect(),
            next_token: match (more, page.last()) {
                (true, Some(last)) => encode_token(last.run_id.as_str()),
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
        let m = self
            .shared
            .store
            .run(&run_id)
            .map_err(|e| store_status(&e))?;
        // Imported and finished runs are STOPPED.
        let (state, message) = match m.status {
            RunStatus::Importing => (State::Running, String::new()),
            RunStatus::Complete => (State::Stopped, String::new()),
            RunStatus::Incomplete => (
                State::Stopped,
                "incomplete: the run ended before all its samples arrived".to_string(),
            ),
            RunStatus::Failed => (State::Failed, "the run failed".to_string()),
        };
        Ok(Response::new(pb::RunStatus {
            run_id: m.run_id.to_string(),
            state: state as i32,
            message,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let t = encode_token("20261122-064858-a4vg");
        assert_eq!(decode_token(&t).unwrap(), "20261122-064858-a4vg");
        assert!(decode_token("zz").is_err());
        assert!(decode_token("abc").is_err());
    }
}
