//! Distributed runs. `loadlake agent --controller URL`: a load generator that joins a controller
//! (`loadlake serve`), takes its part of each run it is given (StartLoad), runs it with the
//! native runner and streams the samples into the controller's run with StreamSamples.
//! `loadlake run --agents N`: hands the plan to the controller, which splits it across N idle
//! agents, and follows the run until it is committed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use arrow::ipc::writer::StreamWriter;
use loadlake_plan::{LoadProfile, Plan};
use loadlake_runner::{ArrivalRate, DataFile, DataFiles, RunOptions, Split, compile_with};
use loadlake_schema::{SampleBatch, SampleSink, SinkError, ThreadedSink};
use loadlake_server::pb;
use loadlake_server::pb::agent_service_client::AgentServiceClient;
use loadlake_server::pb::ingest_service_client::IngestServiceClient;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::service::Interceptor;
use tonic::transport::Channel;

use crate::args::{AgentArgs, AgentLoss, RunArgs};

/// IPC messages waiting for the controller.
const SEND_DEPTH: usize = 16;

/// Most bytes of data files a distributed run sends with its plan: what fits, with the plan, in
/// one message under the controller's 16 MiB limit.
const MAX_DATA_FILE_BYTES: usize = 12 << 20;

/// `run --agents` gives up on a controller silent this long.
const CLIENT_PEER_TIMEOUT: Duration = Duration::from_secs(20);

/// The largest message an agent takes from the controller (a StartLoad with data files).
const MAX_COMMAND_BYTES: usize = 16 << 20;

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

/// A connection to the controller.
/// Connects to the controller at `url`; a connection silent for `peer_timeout` (HTTP/2 pings
/// every half of it, unanswered for the other half) fails the calls on it.
async fn connect(url: &str, peer_timeout: Duration) -> anyhow::Result<Channel> {
    let half = peer_timeout / 2;
    Channel::from_shared(url.to_string())
        .with_context(|| format!("'{url}' is not a controller URL (http://host:port)"))?
        .http2_keep_alive_interval(half)
        .keep_alive_timeout(half)
        .keep_alive_while_idle(true)
        .connect()
        .await
        .with_context(|| format!("connecting to the controller {url}"))
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

/// `loadlake agent`.
pub async fn join_as_agent(args: &AgentArgs, token: Option<String>) -> anyhow::Result<()> {
    let channel = connect(
        &args.controller,
        Duration::from_millis(args.peer_timeout as u64),
    )
    .await?;
    let id = args.name.clone().unwrap_or_else(|| {
        format!(
            "{}-{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "agent".into()),
            std::process::id()
        )
    });
    let auth = Bearer(token);
    let mut client = AgentServiceClient::with_interceptor(channel.clone(), auth.clone())
        .max_decoding_message_size(MAX_COMMAND_BYTES);
    let mut commands = client
        .join(pb::JoinRequest {
            agent_id: id.clone(),
        })
        .await
        .context("joining the controller")?
        .into_inner();
    eprintln!("agent {id}: joined {}", args.controller);
    while let Some(command) = commands
        .message()
        .await
        .context("the controller's commands")?
    {
        let Some(pb::agent_command::Command::Start(start)) = command.command else {
            continue;
        };
        let run_id = start.run_id.clone();
        let (index, count) = (start.index, start.count);
        let samples = run_part(&channel, &auth, &id, start, &mut commands).await?;
        eprintln!(
            "agent {id}: run {run_id} (part {} of {count}): {samples} samples",
            index + 1
        );
        println!("{run_id} {id} {samples}");
        if args.once {
            break;
        }
    }
    Ok(())
}

/// The runner's options for one agent's part of a run.
fn part_options(start: &pb::StartLoad) -> anyhow::Result<RunOptions> {
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
            .map(|r| r.parse().map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<_>>()?,
        split: Split {
            index: start.index,
            count: start.count,
        },
        ..RunOptions::default()
    })
}

/// Runs this agent's part of a run and streams its samples; returns how many were acknowledged.
async fn run_part(
    channel: &Channel,
    auth: &Bearer,
    id: &str,
    mut start: pb::StartLoad,
    commands: &mut tonic::Streaming<pb::AgentCommand>,
) -> anyhow::Result<u64> {
    let plan: Plan = start
        .plan_jmx
        .parse()
        .context("the plan sent by the controller")?;
    let props: BTreeMap<String, String> = start.props.clone().into_iter().collect();
    // Data files come with the plan; a plan_dir (older clients) is where the rest are read.
    let files = DataFiles {
        base_dir: PathBuf::from(&start.plan_dir),
        shipped: std::mem::take(&mut start.data_files).into_iter().collect(),
    };
    let runnable = compile_with(&plan, &props, files)
        .context("the plan sent by the controller cannot run here")?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (cancel_tx, cancel_rx) = watch::channel(false);
    let options = RunOptions {
        stop: Some(stop_rx),
        cancel: Some(cancel_rx),
        ..part_options(&start)?
    };
    let (tx, rx) = mpsc::channel(SEND_DEPTH);
    tx.send(pb::SampleStreamMessage {
        message: Some(pb::sample_stream_message::Message::Open(pb::StreamOpen {
            run_id: start.run_id.clone(),
            agent: id.to_string(),
            ..pb::StreamOpen::default()
        })),
    })
    .await
    .context("opening the sample stream")?;
    let mut ingest = IngestServiceClient::with_interceptor(channel.clone(), auth.clone());
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
    let mut sink = ThreadedSink::spawn(IpcStream { tx: tx.clone() }, 4);
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
                command = commands.message(), if listening => match command {
                    Ok(Some(pb::AgentCommand {
                        command: Some(pb::agent_command::Command::Stop(_)),
                    })) => {
                        let _ = stop_tx.send(true);
                    }
                    // The controller went away (or its connection went silent): nothing more
                    // can reach the run, so the part stops at once; what was sent stays.
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
        bail!(
            "lost the controller during run {}: this agent's part stopped (what it sent before \
             stays in the run)",
            start.run_id
        );
    }
    sink.finish()
        .context("streaming samples to the controller")?;
    summary.context("running the plan")?;
    tx.send(pb::SampleStreamMessage {
        message: Some(pb::sample_stream_message::Message::Finish(
            pb::StreamFinish {},
        )),
    })
    .await
    .context("finishing the sample stream")?;
    drop(tx);
    let samples = acks
        .await
        .context("the sample stream's task")?
        .context("the controller refused samples")?;
    Ok(samples)
}

/// `loadlake run --agents N`: the plan and the data files it reads go to the controller, which
/// runs it on N agents with `stages_yaml` (the stages file's text, empty for none); returns the
/// run id.
#[allow(clippy::too_many_arguments)]
pub async fn distributed_run(
    args: &RunArgs,
    data_files: &[DataFile],
    agents: u32,
    controller: &str,
    token: Option<String>,
    props: BTreeMap<String, String>,
    stages_yaml: String,
    tags: BTreeMap<String, String>,
) -> anyhow::Result<String> {
    let plan_jmx = std::fs::read_to_string(&args.plan)
        .with_context(|| format!("reading the plan {}", args.plan.display()))?;
    let data_files = read_data_files(data_files)?;
    let load = pb::LoadSpec {
        duration_ms: args.duration.unwrap_or(0),
        tps: args.tps.unwrap_or(0.0),
        max_vus: args.max_vus.unwrap_or(0),
        stages_yaml,
        stop_when: args.stop_when.clone(),
        max_samples: args.max_samples.unwrap_or(0),
    };
    let channel = connect(controller, CLIENT_PEER_TIMEOUT).await?;
    let mut client = AgentServiceClient::with_interceptor(channel, Bearer(token));
    let name = args.name.clone().unwrap_or_else(|| {
        args.plan
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let mut events = client
        .start_distributed_run(pb::DistributedRunRequest {
            plan_jmx,
            // Agents read nothing from this machine's disk: the data files go with the plan.
            plan_dir: String::new(),
            data_files,
            props: props.into_iter().collect(),
            load: Some(load),
            agents,
            run_name: name,
            tags: tags.into_iter().collect(),
            wait_ms: 0,
            on_agent_loss: match args.on_agent_loss {
                AgentLoss::Continue => "continue",
                AgentLoss::Stop => "stop",
            }
            .into(),
        })
        .await
        .context("starting the run on the controller's agents")?
        .into_inner();
    while let Some(event) = events.message().await.context("following the run")? {
        match event.state.as_str() {
            "started" => eprintln!(
                "run {}: {} on agents {}",
                event.run_id,
                event.message,
                event.agents.join(", ")
            ),
            "agent_lost" => eprintln!(
                "run {}: agent {} lost: {}",
                event.run_id,
                event.agents.join(", "),
                event.message
            ),
            "finished" => {
                eprintln!(
                    "ran {} samples on {} agent(s) as run {} ({}){}",
                    event.samples,
                    event.agents.len(),
                    event.run_id,
                    event.run_status,
                    if event.message.is_empty() {
                        String::new()
                    } else {
                        format!("; {}", event.message)
                    }
                );
                return Ok(event.run_id);
            }
            other => eprintln!("run {}: {other} {}", event.run_id, event.message),
        }
    }
    bail!("the controller ended the run's events before it finished")
}

/// The contents of the data files a plan read, by the name the plan gives them, for its agents.
fn read_data_files(
    files: &[DataFile],
) -> anyhow::Result<std::collections::HashMap<String, Vec<u8>>> {
    let mut shipped = std::collections::HashMap::new();
    let mut total = 0;
    for f in files {
        let bytes = std::fs::read(&f.path)
            .with_context(|| format!("reading the data file {}", f.path.display()))?;
        total += bytes.len();
        if total > MAX_DATA_FILE_BYTES {
            bail!(
                "the plan's data files are larger than the {} MiB a distributed run sends with \
                 it ({} reached it): split them, or run the plan on each machine without --agents",
                MAX_DATA_FILE_BYTES >> 20,
                f.path.display()
            );
        }
        shipped.insert(f.name.clone(), bytes);
    }
    Ok(shipped)
}
