//! The client side of distributed runs, next to the controller ([`super`]) it talks to.
//!
//! An agent ([`Controller::join`], then [`Joined::run_next_part`]) joins a controller
//! (`loadlake serve`), takes its part of each run it is given (StartLoad), runs it with the
//! native runner and streams the samples into the controller's run with StreamSamples.
//! A distributed run ([`Controller::start_distributed_run`], then [`RunEvents::follow`]) hands
//! a plan to the controller, which splits it across idle agents, and follows the run until it
//! is committed. `loadlake agent` and `loadlake run --agents N` are thin wrappers over these.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use arrow::ipc::writer::StreamWriter;
use loadlake_plan::{LoadProfile, Plan, PlanError, StagesError};
use loadlake_runner::{
    ArrivalRate, DataFile, DataFiles, RunOptions, RunnerError, Split, compile_with,
};
use loadlake_schema::{SampleBatch, SampleSink, SinkError, ThreadedSink};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::codegen::http::uri::InvalidUri;
use tonic::service::Interceptor;
use tonic::transport::Channel;

use crate::pb;
use crate::pb::agent_service_client::AgentServiceClient;
use crate::pb::ingest_service_client::IngestServiceClient;

/// IPC messages waiting for the controller.
const SEND_DEPTH: usize = 16;

/// Most bytes of data files a distributed run sends with its plan: what fits, with the plan, in
/// one message under the controller's 16 MiB limit.
pub const MAX_DATA_FILE_BYTES: usize = 12 << 20;

/// The largest message an agent takes from the controller (a StartLoad with data files).
const MAX_COMMAND_BYTES: usize = 16 << 20;

/// Why an agent or a distributed run failed. The underlying error stays the source, so the
/// binary classifies it ([`loadlake_schema::fault`]) as before.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The controller URL does not parse.
    #[error("'{url}' is not a controller URL (http://host:port)")]
    BadUrl {
        /// The URL given.
        url: String,
        /// Why it does not parse.
        #[source]
        source: InvalidUri,
    },
    /// The controller could not be reached.
    #[error("connecting to the controller {url}")]
    Connect {
        /// The controller's URL.
        url: String,
        /// The transport's error.
        #[source]
        source: tonic::transport::Error,
    },
    /// A call to the controller failed; `what` says which.
    #[error("{what}")]
    Call {
        /// What was being done.
        what: &'static str,
        /// The controller's (or the transport's) status.
        #[source]
        source: Box<tonic::Status>,
    },
    /// The plan sent by the controller does not parse.
    #[error("the plan sent by the controller")]
    Plan(#[source] PlanError),
    /// The plan sent by the controller does not compile here.
    #[error("the plan sent by the controller cannot run here")]
    Compile(#[source] RunnerError),
    /// The stages sent by the controller do not parse.
    #[error(transparent)]
    Stages(#[from] StagesError),
    /// A stop rule sent by the controller does not parse.
    #[error("{0}")]
    StopRule(String),
    /// The controller went away during a run.
    #[error(
        "lost the controller during run {run_id}: this agent's part stopped (what it sent \
         before stays in the run)"
    )]
    ControllerLost {
        /// The run.
        run_id: String,
    },
    /// The sample stream's sink failed.
    #[error("streaming samples to the controller")]
    Stream(#[source] SinkError),
    /// The runner failed.
    #[error("running the plan")]
    Run(#[source] RunnerError),
    /// The sample stream closed before a message could be queued; `what` says which.
    #[error("{what}: channel closed")]
    StreamClosed {
        /// What was being sent.
        what: &'static str,
    },
    /// The task reading the stream's acknowledgements failed.
    #[error("the sample stream's task")]
    Task(#[source] tokio::task::JoinError),
    /// A file to send could not be read; `what` says which (plan, data file).
    #[error("reading the {what} {}", path.display())]
    Read {
        /// "plan" or "data file".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The plan's data files are over [`MAX_DATA_FILE_BYTES`].
    #[error(
        "the plan's data files are larger than the {} MiB a distributed run sends with it ({} \
         reached it): split them, or run the plan on each machine without --agents",
        MAX_DATA_FILE_BYTES >> 20,
        path.display()
    )]
    DataFilesTooLarge {
        /// The file that reached the limit.
        path: PathBuf,
    },
    /// The controller ended a run's events before it finished.
    #[error("the controller ended the run's events before it finished")]
    EventsEnded,
}

/// `what` failed with `status`.
fn call(what: &'static str) -> impl FnOnce(tonic::Status) -> AgentError {
    move |status| AgentError::Call {
        what,
        source: Box::new(status),
    }
}

/// Adds `authorization: Bearer <token>` to every call when there is a token.
#[derive(Clone)]
struct Bearer(Option<String>);

impl Interceptor for Bearer {
    fn call(&mut self, mut r: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(token) = &self.0 {
            let value = format!("Bearer {token}")
                .parse()
                .map_err(|_| tonic::Status::invalid_argument("the token is not a header value"))?;
            r.metadata_mut().insert("authorization", value);
        }
        Ok(r)
    }
}

/// A connection to a controller, with its bearer token.
#[derive(Clone)]
pub struct Controller {
    channel: Channel,
    auth: Bearer,
}

impl Controller {
    /// Connects to the controller at `url`; a connection silent for `peer_timeout` (HTTP/2
    /// pings every half of it, unanswered for the other half) fails the calls on it.
    pub async fn connect(
        url: &str,
        token: Option<String>,
        peer_timeout: Duration,
    ) -> Result<Controller, AgentError> {
        let half = peer_timeout / 2;
        let channel = Channel::from_shared(url.to_string())
            .map_err(|source| AgentError::BadUrl {
                url: url.to_string(),
                source,
            })?
            .http2_keep_alive_interval(half)
            .keep_alive_timeout(half)
            .keep_alive_while_idle(true)
            .connect()
            .await
            .map_err(|source| AgentError::Connect {
                url: url.to_string(),
                source,
            })?;
        Ok(Controller {
            channel,
            auth: Bearer(token),
        })
    }

    fn agents(
        &self,
    ) -> AgentServiceClient<tonic::service::interceptor::InterceptedService<Channel, Bearer>> {
        AgentServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    /// Joins the controller as the agent `id`; the agent then waits for its parts of runs
    /// ([`Joined::run_next_part`]).
    pub async fn join(&self, id: &str) -> Result<Joined, AgentError> {
        let commands = self
            .agents()
            .max_decoding_message_size(MAX_COMMAND_BYTES)
            .join(pb::JoinRequest {
                agent_id: id.to_string(),
            })
            .await
            .map_err(call("joining the controller"))?
            .into_inner();
        Ok(Joined {
            controller: self.clone(),
            id: id.to_string(),
            commands,
        })
    }

    /// Starts a distributed run on the controller's agents; follow it with
    /// [`RunEvents::follow`].
    pub async fn start_distributed_run(
        &self,
        request: pb::DistributedRunRequest,
    ) -> Result<RunEvents, AgentError> {
        let events = self
            .agents()
            .start_distributed_run(request)
            .await
            .map_err(call("starting the run on the controller's agents"))?
            .into_inner();
        Ok(RunEvents { events })
    }
}

/// An agent joined to a controller.
pub struct Joined {
    controller: Controller,
    id: String,
    commands: tonic::Streaming<pb::AgentCommand>,
}

/// One part of a run an agent ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartDone {
    /// The run.
    pub run_id: String,
    /// Which part (0-based) of `count`.
    pub index: u32,
    /// How many agents share the run.
    pub count: u32,
    /// Samples the controller acknowledged.
    pub samples: u64,
}

impl Joined {
    /// The agent's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Waits for the controller's next StartLoad, runs this agent's part of that run and
    /// streams its samples; `None` when the controller ends the command stream.
    pub async fn run_next_part(&mut self) -> Result<Option<PartDone>, AgentError> {
        while let Some(command) = self
            .commands
            .message()
            .await
            .map_err(call("the controller's commands"))?
        {
            let Some(pb::agent_command::Command::Start(start)) = command.command else {
                continue;
            };
            let (run_id, index, count) = (start.run_id.clone(), start.index, start.count);
            let samples = self.run_part(start).await?;
            return Ok(Some(PartDone {
                run_id,
                index,
                count,
                samples,
            }));
        }
        Ok(None)
    }

    /// Runs this agent's part of a run and streams its samples; returns how many were
    /// acknowledged.
    async fn run_part(&mut self, mut start: pb::StartLoad) -> Result<u64, AgentError> {
        let plan: Plan = start.plan_jmx.parse().map_err(AgentError::Plan)?;
        let props: BTreeMap<String, String> = start.props.clone().into_iter().collect();
        // Data files come with the plan; a plan_dir (older clients) is where the rest are read.
        let files = DataFiles {
            base_dir: PathBuf::from(&start.plan_dir),
            shipped: std::mem::take(&mut start.data_files).into_iter().collect(),
        };
        let runnable = compile_with(&plan, &props, files).map_err(AgentError::Compile)?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let (cancel_tx, cancel_rx) = watch::channel(false);
        let options = RunOptions {
            stop: Some(stop_rx),
            cancel: Some(cancel_rx),
            ..part_options(&start)?
        };
        let stream = SampleStream::open(&self.controller, &start.run_id, &self.id).await?;
        let mut sink = ThreadedSink::spawn(
            IpcStream {
                tx: stream.tx.clone(),
            },
            4,
        );
        let wait_ms = start.start_at_ms - loadlake_store::now_ms();
        if wait_ms > 0 {
            tokio::time::sleep(Duration::from_millis(wait_ms as u64)).await;
        }
        let (summary, controller_gone) = {
            let running = loadlake_runner::run(&runnable, options, &mut sink);
            tokio::pin!(running);
            let mut listening = true;
            let mut controller_gone = false;
            loop {
                tokio::select! {
                    summary = &mut running => break (summary, controller_gone),
                    command = self.commands.message(), if listening => match command {
                        Ok(Some(pb::AgentCommand {
                            command: Some(pb::agent_command::Command::Stop(_)),
                        })) => {
                            let _ = stop_tx.send(true);
                        }
                        // The controller went away (or its connection went silent): nothing
                        // more can reach the run, so the part stops at once; what was sent
                        // stays.
                        Ok(None) | Err(_) => {
                            listening = false;
                            controller_gone = true;
                            let _ = cancel_tx.send(true);
                        }
                        Ok(Some(_)) => {}
                    },
                }
            }
        };
        if controller_gone {
            return Err(AgentError::ControllerLost {
                run_id: start.run_id,
            });
        }
        sink.finish().map_err(AgentError::Stream)?;
        summary.map_err(AgentError::Run)?;
        stream.finish().await
    }
}

/// The runner's options for one agent's part of a run.
fn part_options(start: &pb::StartLoad) -> Result<RunOptions, AgentError> {
    let load = start.load.clone().unwrap_or_default();
    Ok(RunOptions {
        duration: (load.duration_ms > 0).then(|| Duration::from_millis(load.duration_ms as u64)),
        max_samples: (load.max_samples > 0).then_some(load.max_samples),
        arrival: (load.tps > 0.0).then_some(ArrivalRate {
            per_second: load.tps,
            max_vus: (load.max_vus > 0).then_some(load.max_vus),
        }),
        profile: if load.stages_yaml.is_empty() {
            None
        } else {
            Some(LoadProfile::from_yaml(&load.stages_yaml, "stages")?)
        },
        stop_rules: load
            .stop_when
            .iter()
            .map(|r| r.parse().map_err(AgentError::StopRule))
            .collect::<Result<_, _>>()?,
        split: Split {
            index: start.index,
            count: start.count,
        },
        ..RunOptions::default()
    })
}

/// An open StreamSamples call into a run: the queue of messages to send and the task counting
/// the controller's acknowledgements.
struct SampleStream {
    tx: mpsc::Sender<pb::SampleStreamMessage>,
    acks: tokio::task::JoinHandle<Result<u64, tonic::Status>>,
}

impl SampleStream {
    /// Opens the stream into `run_id` as `agent`.
    async fn open(
        controller: &Controller,
        run_id: &str,
        agent: &str,
    ) -> Result<SampleStream, AgentError> {
        let (tx, rx) = mpsc::channel(SEND_DEPTH);
        tx.send(pb::SampleStreamMessage {
            message: Some(pb::sample_stream_message::Message::Open(pb::StreamOpen {
                run_id: run_id.to_string(),
                agent: agent.to_string(),
                ..pb::StreamOpen::default()
            })),
        })
        .await
        .map_err(|_| AgentError::StreamClosed {
            what: "opening the sample stream",
        })?;
        let mut ingest = IngestServiceClient::with_interceptor(
            controller.channel.clone(),
            controller.auth.clone(),
        );
        let acks = tokio::spawn(async move {
            let mut acks = ingest
                .stream_samples(ReceiverStream::new(rx))
                .await?
                .into_inner();
            let mut samples = 0;
            while let Some(ack) = acks.message().await? {
                samples = ack.samples;
            }
            Ok::<u64, tonic::Status>(samples)
        });
        Ok(SampleStream { tx, acks })
    }

    /// Ends the stream; returns the samples the controller acknowledged last.
    async fn finish(self) -> Result<u64, AgentError> {
        self.tx
            .send(pb::SampleStreamMessage {
                message: Some(pb::sample_stream_message::Message::Finish(
                    pb::StreamFinish {},
                )),
            })
            .await
            .map_err(|_| AgentError::StreamClosed {
                what: "finishing the sample stream",
            })?;
        drop(self.tx);
        self.acks
            .await
            .map_err(AgentError::Task)?
            .map_err(call("the controller refused samples"))
    }
}

/// Sends every batch as one Arrow IPC message of the sample stream (on the sink's own thread:
/// it may wait for the network).
struct IpcStream {
    tx: mpsc::Sender<pb::SampleStreamMessage>,
}

impl SampleSink for IpcStream {
    fn write_batch(&mut self, batch: SampleBatch) -> Result<(), SinkError> {
        let mut bytes = Vec::new();
        {
            let mut w =
                StreamWriter::try_new(&mut bytes, &batch.schema()).map_err(SinkError::new)?;
            w.write(&batch).map_err(SinkError::new)?;
            w.finish().map_err(SinkError::new)?;
        }
        let message = pb::SampleStreamMessage {
            message: Some(pb::sample_stream_message::Message::ArrowIpc(bytes)),
        };
        self.tx
            .blocking_send(message)
            .map_err(|_| SinkError::new("the controller closed the sample stream"))
    }
}

/// The events of a distributed run, as the controller sends them.
pub struct RunEvents {
    events: tonic::Streaming<pb::DistributedRunEvent>,
}

impl RunEvents {
    /// Follows the run: `on_event` sees every event before the `finished` one, which is
    /// returned.
    pub async fn follow(
        mut self,
        mut on_event: impl FnMut(&pb::DistributedRunEvent),
    ) -> Result<pb::DistributedRunEvent, AgentError> {
        while let Some(event) = self
            .events
            .message()
            .await
            .map_err(call("following the run"))?
        {
            if event.state == "finished" {
                return Ok(event);
            }
            on_event(&event);
        }
        Err(AgentError::EventsEnded)
    }
}

/// The text of the plan at `path`, to send to the controller.
pub fn read_plan(path: &Path) -> Result<String, AgentError> {
    std::fs::read_to_string(path).map_err(|source| AgentError::Read {
        what: "plan",
        path: path.to_path_buf(),
        source,
    })
}

/// The contents of the data files a plan read, by the name the plan gives them, for its
/// agents; at most [`MAX_DATA_FILE_BYTES`] in all.
pub fn read_data_files(files: &[DataFile]) -> Result<HashMap<String, Vec<u8>>, AgentError> {
    let mut shipped = HashMap::new();
    let mut total = 0;
    for f in files {
        let bytes = std::fs::read(&f.path).map_err(|source| AgentError::Read {
            what: "data file",
            path: f.path.clone(),
            source,
        })?;
        total += bytes.len();
        if total > MAX_DATA_FILE_BYTES {
            return Err(AgentError::DataFilesTooLarge {
                path: f.path.clone(),
            });
        }
        shipped.insert(f.name.clone(), bytes);
    }
    Ok(shipped)
}
