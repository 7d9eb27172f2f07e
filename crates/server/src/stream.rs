//! `StreamSamples`: native sample streams (the runner, remote agents) written into runs of the
//! store through the same `RunWriter` as imports. Each IPC message is made durable (a fsynced
//! Parquet part) before it is acknowledged. Several streams may feed one run (`open.run_id`);
//! the run is committed when its last stream closes: `complete` if every stream finished,
//! `incomplete` if one broke off — either way with every acknowledged sample.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use arrow::array::{ArrayRef, Int64Array, StringArray};
use arrow::compute::kernels::numeric::add;
use arrow::record_batch::RecordBatch;
use futures::StreamExt;
use loadlake_runner::RuleWatch;
use loadlake_schema::ipc::{IpcError, IpcLimits, decode_sample_ipc, inspect_sample_ipc};
use loadlake_schema::{RunStatus, col, sample_schema};
use loadlake_store::{LiveCounts, LiveStatus, RunDraft, RunWriter, WriterOptions};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tonic::{Status, Streaming};

use crate::Shared;
use crate::pb;
use crate::pb::sample_stream_message::Message;

/// Rows of one stream are shifted by `stream number << ROW_SHIFT_BITS`.
const ROW_SHIFT_BITS: u32 = 40;

/// A run being fed by one or more streams.
struct LiveRun {
    writer: Option<RunWriter>,
    name: String,
    tags: BTreeMap<String, String>,
    open_streams: usize,
    streams_started: i64,
    broken: bool,
    /// Agents whose stream joined the run, and those whose stream broke off.
    agents_joined: Vec<String>,
    agents_broken: Vec<String>,
    /// Live numbers of the samples written so far (distributed runs publish them).
    counts: LiveCounts,
    /// Fleet-wide stop rules of a distributed run, fed every sample written.
    rules: Option<RuleWatch>,
}

impl LiveRun {
    /// A run that its first stream (of `agent`, if an agent's) has just opened.
    fn opened(
        writer: RunWriter,
        name: String,
        tags: BTreeMap<String, String>,
        agent: Option<&String>,
    ) -> LiveRun {
        LiveRun {
            writer: Some(writer),
            name,
            tags,
            open_streams: 1,
            streams_started: 1,
            broken: false,
            agents_joined: agent.into_iter().cloned().collect(),
            agents_broken: Vec::new(),
            counts: LiveCounts::default(),
            rules: None,
        }
    }

    /// What the run is committed as, with `status`.
    fn draft(&self, status: RunStatus) -> RunDraft {
        RunDraft {
            name: self.name.clone(),
            tags: self.tags.clone(),
            status,
            sources: Vec::new(),
            plan: None,
        }
    }

    /// Records the run's draft with its writer, for recovery after a crash.
    fn record_draft(&mut self) -> Result<(), loadlake_store::StoreError> {
        let draft = self.draft(RunStatus::Incomplete);
        match self.writer.as_mut() {
            Some(writer) => writer.record_draft(&draft),
            None => Ok(()),
        }
    }
}

/// The runs being streamed on this server.
#[derive(Default)]
pub(crate) struct LiveRuns {
    runs: Mutex<HashMap<String, Arc<Mutex<LiveRun>>>>,
}

/// One stream's place in its run.
pub(crate) struct Joined {
    pub run_id: String,
    run: Arc<Mutex<LiveRun>>,
    row_offset: i64,
    agent: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, Status> {
    m.lock()
        .map_err(|_| Status::internal("a stream of this run failed while writing"))
}

impl LiveRuns {
    /// Streams open into `run_id` and the samples acknowledged so far, if it is being streamed.
    pub(crate) fn progress(&self, run_id: &str) -> Option<(usize, u64)> {
        let runs = self.runs.lock().ok()?;
        let live = runs.get(run_id)?.lock().ok()?;
        Some((
            live.open_streams,
            live.writer.as_ref().map_or(0, |w| w.samples()),
        ))
    }

    /// Streams open into `run_id` now and streams that ever joined it, if it is being streamed.
    pub(crate) fn streams(&self, run_id: &str) -> Option<(usize, i64)> {
        let runs = self.runs.lock().ok()?;
        let live = runs.get(run_id)?.lock().ok()?;
        Some((live.open_streams, live.streams_started))
    }

    /// Agents whose stream joined `run_id`, and those whose stream broke off.
    pub(crate) fn agents(&self, run_id: &str) -> Option<(Vec<String>, Vec<String>)> {
        let runs = self.runs.lock().ok()?;
        let live = runs.get(run_id)?.lock().ok()?;
        Some((live.agents_joined.clone(), live.agents_broken.clone()))
    }

    /// Puts run `run_id`'s live numbers into `status` (`seconds` since the previous call).
    pub(crate) fn fill_live(&self, run_id: &str, status: &mut LiveStatus, seconds: f64) {
        let run = self.runs.lock().ok().and_then(|r| r.get(run_id).cloned());
        if let Some(mut live) = run.as_ref().and_then(|r| r.lock().ok()) {
            live.counts.fill(status, seconds);
        }
    }

    /// Judges run `run_id`'s samples against `rules` from now on.
    pub(crate) fn watch_rules(&self, run_id: &str, rules: RuleWatch) {
        let run = self.runs.lock().ok().and_then(|r| r.get(run_id).cloned());
        if let Some(mut live) = run.as_ref().and_then(|r| r.lock().ok()) {
            live.rules = Some(rules);
        }
    }

    /// The stop rule that holds for run `run_id` at `now_ms`, if one does.
    pub(crate) fn check_rules(&self, run_id: &str, now_ms: i64) -> Option<String> {
        let run = self.runs.lock().ok().and_then(|r| r.get(run_id).cloned())?;
        let mut live = run.lock().ok()?;
        live.rules.as_mut()?.check(now_ms)
    }

    /// Sets a tag of the run `run_id` will be committed with.
    pub(crate) fn tag(&self, run_id: &str, key: &str, value: &str) {
        let run = self.runs.lock().ok().and_then(|r| r.get(run_id).cloned());
        if let Some(mut live) = run.as_ref().and_then(|r| r.lock().ok()) {
            live.tags.insert(key.to_string(), value.to_string());
            if let Err(e) = live.record_draft() {
                tracing::warn!("run {run_id}: could not record its new tag for recovery: {e}");
            }
        }
    }

    /// Opens a new run or joins a live one.
    pub(crate) fn open(&self, shared: &Shared, open: pb::StreamOpen) -> Result<Joined, Status> {
        let mut runs = lock(&self.runs)?;
        let agent = (!open.agent.is_empty()).then_some(open.agent);
        if !open.run_id.is_empty() {
            let run = runs.get(&open.run_id).cloned().ok_or_else(|| {
                Status::not_found(format!(
                    "run {} is not being streamed on this server (omit run_id to start one)",
                    open.run_id
                ))
            })?;
            let mut live = lock(&run)?;
            live.open_streams += 1;
            live.streams_started += 1;
            if let Some(a) = &agent {
                live.agents_joined.push(a.clone());
            }
            let row_offset = (live.streams_started - 1) << ROW_SHIFT_BITS;
            drop(live);
            return Ok(Joined {
                run_id: open.run_id,
                run,
                row_offset,
                agent,
            });
        }
        let writer = shared
            .store
            .begin_run(WriterOptions::default())
            .map_err(|e| crate::error::store_status(&e))?;
        let run_id = writer.run_id().to_string();
        let name = if open.run_name.is_empty() {
            format!("stream {run_id}")
        } else {
            open.run_name
        };
        let tags = open.tags.into_iter().collect();
        let run = Arc::new(Mutex::new(LiveRun::opened(
            writer,
            name,
            tags,
            agent.as_ref(),
        )));
        // Acknowledged batches survive a crash of this server: the next open commits them.
        lock(&run)?
            .record_draft()
            .map_err(|e| crate::error::store_status(&e))?;
        runs.insert(run_id.clone(), run.clone());
        Ok(Joined {
            run_id,
            run,
            row_offset: 0,
            agent,
        })
    }

    /// A stream left (`finished` cleanly or not); the last one commits the run.
    pub(crate) fn leave(&self, joined: &Joined, finished: bool) -> Result<String, Status> {
        let mut live = lock(&joined.run)?;
        live.open_streams -= 1;
        live.broken |= !finished;
        if let (false, Some(agent)) = (finished, &joined.agent) {
            live.agents_broken.push(agent.clone());
        }
        if live.open_streams > 0 {
            return Ok("streaming".to_string());
        }
        lock(&self.runs)?.remove(&joined.run_id);
        let Some(writer) = live.writer.take() else {
            return Ok("committed".to_string());
        };
        let status = if live.broken {
            RunStatus::Incomplete
        } else {
            RunStatus::Complete
        };
        if writer.samples() == 0 {
            // Nothing was acknowledged: no run (dropping the writer removes its staging).
            return Ok("empty".to_string());
        }
        let draft = live.draft(status);
        let no_rejects: &[serde_json::Value] = &[];
        let manifest = writer
            .commit(draft, no_rejects)
            .map_err(|e| crate::error::store_status(&e))?;
        Ok(manifest.status.as_str().to_string())
    }
}

/// Room for the decoded size of `StreamSamples` messages being decoded and written at once, in
/// KiB: a stream's messages are handled one at a time, so each stream holds at most one
/// message's worth ([`IpcLimits::max_decoded_bytes`]); this bounds the sum over all streams.
pub(crate) struct DecodeBudget {
    room: Arc<Semaphore>,
    kib: u32,
}

impl DecodeBudget {
    /// Room for `budget` bytes, and never less than one message of `per_message` bytes.
    pub(crate) fn new(budget: u64, per_message: u64) -> DecodeBudget {
        let kib = u32::try_from(budget.max(per_message).div_ceil(1024).max(1)).unwrap_or(u32::MAX);
        DecodeBudget {
            room: Arc::new(Semaphore::new(kib as usize)),
            kib,
        }
    }

    /// Waits for room for `bytes` decoded bytes (all of it, if asked for more).
    async fn reserve(&self, bytes: u64) -> Result<OwnedSemaphorePermit, Status> {
        let kib = u32::try_from(bytes.div_ceil(1024).max(1))
            .unwrap_or(u32::MAX)
            .min(self.kib);
        self.room
            .clone()
            .acquire_many_owned(kib)
            .await
            .map_err(|_| Status::unavailable("the server is shutting down"))
    }
}

/// The status of a refused message: its size is a limit, anything else a bad message.
fn ipc_status(e: &IpcError) -> Status {
    let message = format!("arrow_ipc: {e}");
    if e.is_limit() {
        Status::resource_exhausted(message)
    } else {
        Status::invalid_argument(message)
    }
}

/// The batches of one IPC message — decoded within `limits`, in the sample schema, every row in
/// its plausible range (`loadlake_schema::ipc`) — rows shifted, agent set.
fn decode(bytes: &[u8], joined: &Joined, limits: &IpcLimits) -> Result<Vec<RecordBatch>, Status> {
    let bad = |why: String| Status::invalid_argument(format!("arrow_ipc: {why}"));
    let canonical = sample_schema();
    let mut out = Vec::new();
    for batch in decode_sample_ipc(bytes, limits).map_err(|e| ipc_status(&e))? {
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        let shift = Int64Array::new_scalar(joined.row_offset);
        for name in [col::ROW, col::PARENT_ROW] {
            let i = canonical
                .index_of(name)
                .map_err(|e| Status::internal(e.to_string()))?;
            columns[i] = add(&columns[i], &shift).map_err(|e| bad(format!("{name}: {e}")))?;
        }
        if let Some(agent) = &joined.agent {
            let i = canonical
                .index_of(col::AGENT)
                .map_err(|e| Status::internal(e.to_string()))?;
            columns[i] = Arc::new(StringArray::from(vec![agent.as_str(); batch.num_rows()]));
        }
        out.push(RecordBatch::try_new(canonical.clone(), columns).map_err(|e| bad(e.to_string()))?);
    }
    Ok(out)
}

/// Decodes and durably writes one message, within the server's decode budget.
async fn decode_and_write(
    shared: &Shared,
    joined: &Arc<Joined>,
    bytes: Vec<u8>,
) -> Result<u64, Status> {
    let limits = shared.config.ipc_limits;
    // The headers say what the message decodes to before anything is decoded.
    let (bytes, summary) = tokio::task::spawn_blocking(move || {
        let summary = inspect_sample_ipc(&bytes, &limits);
        (bytes, summary)
    })
    .await
    .map_err(|e| Status::internal(format!("decode task: {e}")))?;
    let summary = summary.map_err(|e| ipc_status(&e))?;
    let room = shared.decode_budget.reserve(summary.decoded_bytes).await?;
    let j = joined.clone();
    tokio::task::spawn_blocking(move || {
        let _room = room;
        let decoded = decode(&bytes, &j, &limits)?;
        write_durably(&j, decoded)
    })
    .await
    .unwrap_or_else(|e| Err(Status::internal(format!("write task: {e}"))))
}

/// Feeds the requests of `batch` (not transactions) to the stop rules.
fn feed_rules(rules: &mut RuleWatch, batch: &RecordBatch) {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType, Int64Type, TimestampMillisecondType};
    let (Some(ts), Some(elapsed), Some(ok), Some(kind)) = (
        batch.column_by_name(col::TS),
        batch.column_by_name(col::ELAPSED_MS),
        batch.column_by_name(col::SUCCESS),
        batch
            .column_by_name(col::KIND)
            .and_then(|k| arrow::compute::cast(k, &DataType::Utf8).ok()),
    ) else {
        return;
    };
    let (ts, elapsed, ok, kind) = (
        ts.as_primitive::<TimestampMillisecondType>(),
        elapsed.as_primitive::<Int64Type>(),
        ok.as_boolean(),
        kind.as_string::<i32>(),
    );
    for i in 0..batch.num_rows() {
        if kind.value(i) == "sample" && ts.is_valid(i) && elapsed.is_valid(i) {
            rules.add_request(ts.value(i), elapsed.value(i), ok.value(i));
        }
    }
}

/// Writes and fsyncs `batches` into the run.
fn write_durably(joined: &Joined, batches: Vec<RecordBatch>) -> Result<u64, Status> {
    let mut live = lock(&joined.run)?;
    let LiveRun {
        writer,
        counts,
        rules,
        ..
    } = &mut *live;
    let writer = writer
        .as_mut()
        .ok_or_else(|| Status::failed_precondition("the run was already committed"))?;
    for b in &batches {
        writer
            .write(b.clone())
            .map_err(|e| crate::error::store_status(&e))?;
    }
    writer.flush().map_err(|e| crate::error::store_status(&e))?;
    // Only what is durable counts in the live status and the rules: a batch whose write failed
    // is not acknowledged, so it must not show in the running data either.
    let mut rows = 0;
    for b in &batches {
        rows += b.num_rows() as u64;
        counts.count(b);
        if let Some(rules) = rules {
            feed_rules(rules, b);
        }
    }
    Ok(rows)
}

type AckSender = mpsc::Sender<Result<pb::SampleStreamAck, Status>>;

/// Serves one stream: reads messages, writes, acknowledges; always leaves the run.
pub(crate) async fn serve_stream(
    shared: Arc<Shared>,
    mut input: Streaming<pb::SampleStreamMessage>,
    acks: AckSender,
) {
    let first = match input.next().await {
        Some(Ok(pb::SampleStreamMessage {
            message: Some(Message::Open(open)),
        })) => open,
        Some(Err(e)) => {
            let _ = acks.send(Err(e)).await;
            return;
        }
        _ => {
            let _ = acks
                .send(Err(Status::invalid_argument(
                    "the first message must be `open`",
                )))
                .await;
            return;
        }
    };
    let joined = match shared.live_runs.open(&shared, first) {
        Ok(j) => Arc::new(j),
        Err(e) => {
            let _ = acks.send(Err(e)).await;
            return;
        }
    };
    let (mut batches, mut samples) = (0u64, 0u64);
    let ack = |batches, samples, status: &str| pb::SampleStreamAck {
        run_id: joined.run_id.clone(),
        batches,
        samples,
        run_status: status.to_string(),
    };
    let mut finished = false;
    let mut failure = None;
    while let Some(message) = input.next().await {
        let message = match message {
            Ok(m) => m.message,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        match message {
            Some(Message::ArrowIpc(bytes)) => {
                match decode_and_write(&shared, &joined, bytes).await {
                    Ok(rows) => {
                        batches += 1;
                        samples += rows;
                        if acks
                            .send(Ok(ack(batches, samples, "streaming")))
                            .await
                            .is_err()
                        {
                            break; // the client went away
                        }
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            Some(Message::Finish(_)) => {
                finished = true;
                break;
            }
            Some(Message::Open(_)) | None => {
                failure = Some(Status::invalid_argument(
                    "`open` may only be the first message",
                ));
                break;
            }
        }
    }
    let j = joined.clone();
    let shared2 = shared.clone();
    let left = tokio::task::spawn_blocking(move || shared2.live_runs.leave(&j, finished))
        .await
        .unwrap_or_else(|e| Err(Status::internal(format!("commit task: {e}"))));
    match (failure, left) {
        (Some(e), _) => {
            tracing::warn!("stream into run {} ended: {}", joined.run_id, e.message());
            // Let the client finish sending (briefly) before answering: a request stream cut
            // off by the server can make the client lose the status below.
            let drain = async { while let Some(Ok(_)) = input.next().await {} };
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), drain).await;
            let _ = acks.send(Err(e)).await;
        }
        (None, Ok(status)) => {
            let _ = acks.send(Ok(ack(batches, samples, &status))).await;
        }
        (None, Err(e)) => {
            let _ = acks.send(Err(e)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loadlake_store::LiveStat;

    #[tokio::test]
    async fn the_decode_budget_holds_messages_back_until_room_is_freed() {
        let budget = DecodeBudget::new(1 << 20, 64 << 10);
        assert_eq!(budget.kib, 1024);
        let first = budget.reserve(1 << 20).await.unwrap();
        assert_eq!(budget.room.available_permits(), 0);
        let second = budget.reserve(10);
        tokio::pin!(second);
        assert!(futures::poll!(&mut second).is_pending());
        drop(first);
        let second = second.await.unwrap();
        // 10 bytes take one KiB.
        assert_eq!(budget.room.available_permits(), 1023);
        drop(second);
        // A message larger than the whole budget takes all of it instead of waiting forever.
        let all = budget.reserve(u64::MAX).await.unwrap();
        assert_eq!(all.num_permits(), 1024);
        // The budget is never smaller than one message.
        assert_eq!(DecodeBudget::new(0, 64 << 20).kib, 65_536);
    }

    /// A joined run whose writer is `writer`.
    fn joined_with(writer: RunWriter) -> Joined {
        Joined {
            run_id: writer.run_id().to_string(),
            run: Arc::new(Mutex::new(LiveRun::opened(
                writer,
                String::new(),
                BTreeMap::new(),
                None,
            ))),
            row_offset: 0,
            agent: None,
        }
    }

    /// The live numbers `joined` would publish now.
    fn published(joined: &Joined) -> LiveStat {
        let mut status = LiveStatus {
            run_id: joined.run_id.clone(),
            name: String::new(),
            state: loadlake_store::LiveState::Running,
            message: String::new(),
            history: Vec::new(),
            updated_ms: 0,
            pid: 0,
            stage: None,
            concurrency: 0,
            agents: Vec::new(),
            vum: 0.0,
            all: LiveStat::default(),
            samplers: Vec::new(),
        };
        joined.run.lock().unwrap().counts.fill(&mut status, 1.0);
        status.all
    }

    fn three_samples() -> RecordBatch {
        let mut b = loadlake_schema::SampleBatchBuilder::new(0);
        for ts in [1_000, 1_001, 1_002] {
            b.push(&loadlake_schema::SampleRecord {
                ts_ms: Some(ts),
                elapsed_ms: Some(5),
                label: "home",
                success: true,
                ..Default::default()
            })
            .unwrap();
        }
        b.finish().unwrap()
    }

    #[test]
    fn only_samples_written_durably_count_in_the_live_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let store = loadlake_store::Store::open(dir.path()).unwrap();

        let ok = joined_with(store.begin_run(WriterOptions::live()).unwrap());
        assert_eq!(write_durably(&ok, vec![three_samples()]).unwrap(), 3);
        assert_eq!(published(&ok).count, 3);

        // The run's staging directory is gone: the part cannot be written.
        let writer = store.begin_run(WriterOptions::live()).unwrap();
        let staging = store.layout().staging_dir(writer.run_id());
        let failing = joined_with(writer);
        std::fs::remove_dir_all(&staging).unwrap();
        assert!(write_durably(&failing, vec![three_samples()]).is_err());
        assert_eq!(
            published(&failing).count,
            0,
            "counted before it was written"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let store = loadlake_store::Store::open(dir.path()).unwrap();
        let joined = joined_with(store.begin_run(WriterOptions::live()).unwrap());
        for bytes in [&b"not arrow at all"[..], &[0xff; 64][..], &[][..]] {
            let e = decode(bytes, &joined, &IpcLimits::default()).unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument);
        }
    }
}
