//! AgentService: the controller side of distributed runs. Agents (`loadlake agent`) join and wait
//! on a command stream; `StartDistributedRun` picks the idle agents it needs, opens the run (as a
//! sample stream of its own, so the run stays open until every agent's stream has come and gone),
//! tells each agent its part and a common start time, and commits the run when the last agent's
//! stream leaves. An agent that breaks off keeps its acknowledged samples and makes the run
//! `incomplete`; the others go on.
//!
//! The agents' own side (joining, running a part, streaming its samples) and the client of a
//! distributed run are in [`client`].

pub mod client;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use loadlake_plan::{LoadProfile, StopRule};
use loadlake_runner::RuleWatch;
use loadlake_store::{LivePublisher, LiveState, now_ms};

use crate::Shared;
use crate::pb::{self, agent_service_server::AgentService};

/// How long a distributed run waits for enough idle agents by default.
const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// The agents' common start is this far ahead, so that each has opened its stream first.
const START_AHEAD: Duration = Duration::from_millis(1000);

/// How often a distributed run looks at its agents' streams.
const POLL: Duration = Duration::from_millis(100);

type CommandSender = mpsc::Sender<Result<pb::AgentCommand, Status>>;

/// A joined agent.
struct Agent {
    id: String,
    commands: CommandSender,
    /// Taking part in a run now.
    busy: bool,
}

/// The agents joined to this server.
#[derive(Default)]
pub(crate) struct AgentRegistry {
    agents: Mutex<Vec<Agent>>,
    /// Signalled when an agent joins or becomes idle.
    changed: Notify,
}

impl AgentRegistry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Agent>> {
        self.agents.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks `n` idle, connected agents busy and returns (id, command sender) of each, or
    /// `None` when there are not enough.
    fn take(&self, n: usize) -> Option<Vec<(String, CommandSender)>> {
        let mut agents = self.lock();
        agents.retain(|a| !a.commands.is_closed());
        let idle: Vec<usize> = (0..agents.len())
            .filter(|&i| !agents[i].busy)
            .take(n)
            .collect();
        if idle.len() < n {
            return None;
        }
        Some(
            idle.into_iter()
                .map(|i| {
                    agents[i].busy = true;
                    (agents[i].id.clone(), agents[i].commands.clone())
                })
                .collect(),
        )
    }

    /// Makes the agents `ids` idle again.
    fn release(&self, ids: &[String]) {
        for a in self.lock().iter_mut().filter(|a| ids.contains(&a.id)) {
            a.busy = false;
        }
        self.changed.notify_waiters();
    }
}

pub(crate) struct Agents {
    shared: Arc<Shared>,
}

impl Agents {
    pub(crate) fn new(shared: Arc<Shared>) -> Agents {
        Agents { shared }
    }
}

#[tonic::async_trait]
impl AgentService for Agents {
    type JoinStream = ReceiverStream<Result<pb::AgentCommand, Status>>;

    async fn join(
        &self,
        request: Request<pb::JoinRequest>,
    ) -> Result<Response<Self::JoinStream>, Status> {
        let id = request.into_inner().agent_id;
        if id.is_empty() {
            return Err(Status::invalid_argument("agent_id is empty"));
        }
        let registry = &self.shared.agents;
        let mut agents = registry.lock();
        agents.retain(|a| !a.commands.is_closed());
        if agents.iter().any(|a| a.id == id) {
            return Err(Status::already_exists(format!(
                "an agent called '{id}' is already joined"
            )));
        }
        let (tx, rx) = mpsc::channel(4);
        agents.push(Agent {
            id: id.clone(),
            commands: tx,
            busy: false,
        });
        drop(agents);
        tracing::info!(agent = %id, "agent joined");
        registry.changed.notify_waiters();
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    type StartDistributedRunStream = ReceiverStream<Result<pb::DistributedRunEvent, Status>>;

    async fn start_distributed_run(
        &self,
        request: Request<pb::DistributedRunRequest>,
    ) -> Result<Response<Self::StartDistributedRunStream>, Status> {
        let r = request.into_inner();
        if r.agents == 0 {
            return Err(Status::invalid_argument("agents must be at least 1"));
        }
        if !matches!(r.on_agent_loss.as_str(), "" | "continue" | "stop") {
            return Err(Status::invalid_argument(format!(
                "on_agent_loss is `continue` or `stop`, not '{}'",
                r.on_agent_loss
            )));
        }
        let checked = Checked::of(&r)?;
        let wait = if r.wait_ms > 0 {
            Duration::from_millis(r.wait_ms as u64)
        } else {
            DEFAULT_WAIT
        };
        let chosen = self.wait_for_agents(r.agents as usize, wait).await?;
        let (events, rx) = mpsc::channel(4);
        tokio::spawn(run_distributed(
            self.shared.clone(),
            r,
            checked,
            chosen,
            events,
        ));
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

impl Agents {
    /// Waits until `n` agents are idle and takes them.
    async fn wait_for_agents(
        &self,
        n: usize,
        wait: Duration,
    ) -> Result<Vec<(String, CommandSender)>, Status> {
        let registry = &self.shared.agents;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let changed = registry.changed.notified();
            if let Some(chosen) = registry.take(n) {
                return Ok(chosen);
            }
            let idle = registry.lock().iter().filter(|a| !a.busy).count();
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return Err(Status::unavailable(format!(
                    "{n} agent(s) needed, {idle} idle after {} s (start `loadlake agent \
                     --controller …`)",
                    wait.as_secs()
                )));
            }
        }
    }
}

/// What the controller itself reads of a request, checked before any agent is taken or any
/// run opened: a bad stages file or stop rule is refused with INVALID_ARGUMENT.
struct Checked {
    profile: Option<LoadProfile>,
    rules: Vec<StopRule>,
}

impl Checked {
    fn of(r: &pb::DistributedRunRequest) -> Result<Checked, Status> {
        let Some(load) = &r.load else {
            return Ok(Checked {
                profile: None,
                rules: Vec::new(),
            });
        };
        let profile = (!load.stages_yaml.is_empty())
            .then(|| LoadProfile::from_yaml(&load.stages_yaml, "stages_yaml"))
            .transpose()
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let rules = load
            .stop_when
            .iter()
            .map(|t| t.parse())
            .collect::<Result<Vec<StopRule>, _>>()
            .map_err(Status::invalid_argument)?;
        Ok(Checked { profile, rules })
    }
}

/// Opens the run, starts the agents, waits for their streams and commits the run.
async fn run_distributed(
    shared: Arc<Shared>,
    r: pb::DistributedRunRequest,
    checked: Checked,
    chosen: Vec<(String, CommandSender)>,
    events: mpsc::Sender<Result<pb::DistributedRunEvent, Status>>,
) {
    let ids: Vec<String> = chosen.iter().map(|(id, _)| id.clone()).collect();
    let outcome = drive(&shared, r, checked, &chosen, &events).await;
    shared.agents.release(&ids);
    if let Err(e) = outcome {
        let _ = events.send(Err(e)).await;
    }
}

/// Drives one distributed run: opens it, starts the agents, watches them and commits the run.
async fn drive(
    shared: &Arc<Shared>,
    r: pb::DistributedRunRequest,
    checked: Checked,
    chosen: &[(String, CommandSender)],
    events: &mpsc::Sender<Result<pb::DistributedRunEvent, Status>>,
) -> Result<(), Status> {
    // The controller holds the run open as a stream of its own.
    let holder = shared.live_runs.open(
        shared,
        pb::StreamOpen {
            run_id: String::new(),
            run_name: r.run_name.clone(),
            tags: r.tags.clone(),
            agent: String::new(),
        },
    )?;
    let run_id = holder.run_id.clone();
    let mut live = LiveFile::new(shared, &run_id, &r.run_name, chosen);
    live.publisher.enter(LiveState::Preparing, "");
    let start_at = now_ms() + START_AHEAD.as_millis() as i64;
    if let Some(profile) = checked.profile {
        let stage_at = Box::new(move |since| profile.describe_at(since));
        live.publisher.follow_stages(start_at, stage_at);
    }
    // Stop rules are judged here, on every agent's samples merged, not by each agent.
    if let Some(watch) = RuleWatch::new(checked.rules, None, start_at) {
        shared.live_runs.watch_rules(&run_id, watch);
    }
    let fleet = Fleet {
        shared,
        run_id: run_id.clone(),
        chosen,
        events,
    };
    let told = fleet.tell_start(&r, start_at).await;
    let agents = fleet.ids();
    live.publisher.enter(LiveState::Ready, "");
    live.publisher.enter(LiveState::Running, "");
    fleet
        .send(pb::DistributedRunEvent {
            state: "started".into(),
            agents: agents.clone(),
            message: format!("{told} of {} agent(s) started", chosen.len()),
            ..fleet.event()
        })
        .await;
    let Ending { lost, stopped_by } = fleet
        .watch(&mut live, told, r.on_agent_loss == "stop")
        .await;
    if !lost.is_empty() {
        shared
            .live_runs
            .tag(&run_id, "lost_agents", &lost.join(","));
    }
    let samples = shared
        .live_runs
        .progress(&run_id)
        .map_or(0, |(_, samples)| samples);
    live.publisher.enter(LiveState::Stopping, "");
    live.refresh();
    let status = match shared.live_runs.leave(&holder, true) {
        Ok(status) => status,
        Err(e) => {
            live.publisher.enter(LiveState::Failed, e.message());
            return Err(e);
        }
    };
    live.publisher.enter(LiveState::Stopped, "");
    fleet
        .send(pb::DistributedRunEvent {
            state: "finished".into(),
            agents,
            run_status: status,
            samples,
            message: [
                (!lost.is_empty()).then(|| format!("lost agent(s): {}", lost.join(", "))),
                stopped_by,
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; "),
            ..fleet.event()
        })
        .await;
    Ok(())
}

/// The agents chosen for one distributed run, and where its events go.
struct Fleet<'a> {
    shared: &'a Arc<Shared>,
    run_id: String,
    chosen: &'a [(String, CommandSender)],
    events: &'a mpsc::Sender<Result<pb::DistributedRunEvent, Status>>,
}

/// How a run's agents ended: the ones lost, and the stop rule that stopped the run.
struct Ending {
    lost: Vec<String>,
    stopped_by: Option<String>,
}

impl Fleet<'_> {
    /// The agents' ids.
    fn ids(&self) -> Vec<String> {
        self.chosen.iter().map(|(id, _)| id.clone()).collect()
    }

    /// An event of this run (fill in the rest).
    fn event(&self) -> pb::DistributedRunEvent {
        pb::DistributedRunEvent {
            run_id: self.run_id.clone(),
            ..pb::DistributedRunEvent::default()
        }
    }

    /// Sends an event to whoever started the run (gone: nobody listens any more).
    async fn send(&self, event: pb::DistributedRunEvent) {
        let _ = self.events.send(Ok(event)).await;
    }

    /// Tells each agent its part of the run, starting at `start_at` (ms); returns how many
    /// were told (an agent may be gone already).
    async fn tell_start(&self, r: &pb::DistributedRunRequest, start_at: i64) -> u32 {
        let mut load = r.load.clone();
        if let Some(l) = &mut load {
            l.stop_when.clear();
        }
        let count = self.chosen.len() as u32;
        let mut told = 0;
        for (index, (id, commands)) in self.chosen.iter().enumerate() {
            let start = pb::StartLoad {
                run_id: self.run_id.clone(),
                plan_jmx: r.plan_jmx.clone(),
                plan_dir: r.plan_dir.clone(),
                data_files: r.data_files.clone(),
                props: r.props.clone(),
                load: load.clone(),
                index: index as u32,
                count,
                start_at_ms: start_at,
            };
            let command = pb::AgentCommand {
                command: Some(pb::agent_command::Command::Start(start)),
            };
            if commands.send(Ok(command)).await.is_ok() {
                told += 1;
            } else {
                tracing::warn!(agent = %id, run = %self.run_id, "agent gone before the start");
            }
        }
        told
    }

    /// Watches the run until every told agent's stream has come and gone: forwards stop
    /// requests and stop rules to the agents, reports lost agents (and with `stop_on_loss`
    /// stops the others).
    async fn watch(&self, live: &mut LiveFile<'_>, told: u32, stop_on_loss: bool) -> Ending {
        let (shared, run_id, chosen) = (self.shared, &self.run_id, self.chosen);
        let mut ending = Ending {
            lost: Vec::new(),
            stopped_by: None,
        };
        loop {
            tokio::time::sleep(POLL).await;
            if live.tick() && live.publisher.take_stop_request() {
                tell_stop(chosen, run_id).await;
            }
            if ending.stopped_by.is_none()
                && let Some(why) = shared.live_runs.check_rules(run_id, now_ms())
            {
                tracing::warn!(run = %run_id, rule = %why, "stopping the distributed run");
                live.publisher.enter(LiveState::Stopping, &why);
                shared.live_runs.tag(run_id, "stopped_by", &why);
                tell_stop(chosen, run_id).await;
                ending.stopped_by = Some(why);
            }
            // Every told agent opens a stream (streams_started counts the holder too) and
            // leaves it; an agent whose command stream closed before it joined will not come.
            let (open, started) = shared.live_runs.streams(run_id).unwrap_or((1, 1));
            let (joined, broken) = shared.live_runs.agents(run_id).unwrap_or_default();
            let gone_before_joining: Vec<&String> = chosen
                .iter()
                .filter(|(id, c)| c.is_closed() && !joined.contains(id))
                .map(|(id, _)| id)
                .collect();
            for id in broken.iter().chain(gone_before_joining.iter().copied()) {
                if ending.lost.contains(id) {
                    continue;
                }
                ending.lost.push(id.clone());
                self.agent_lost(live, id, &ending.lost, stop_on_loss).await;
            }
            let expected = i64::from(told) + 1;
            if open <= 1 && started + gone_before_joining.len() as i64 >= expected {
                return ending;
            }
        }
    }

    /// Reports the agent `id` lost (`lost` so far, it included).
    async fn agent_lost(&self, live: &mut LiveFile<'_>, id: &str, lost: &[String], stop: bool) {
        tracing::warn!(agent = %id, run = %self.run_id, "agent lost");
        self.send(pb::DistributedRunEvent {
            state: "agent_lost".into(),
            agents: vec![id.to_string()],
            message: if stop {
                "its acknowledged samples stay; the others are told to stop".into()
            } else {
                "its acknowledged samples stay; the others go on".into()
            },
            ..self.event()
        })
        .await;
        live.publisher
            .say(&format!("lost agent(s): {}", lost.join(", ")));
        if stop {
            tell_stop(self.chosen, &self.run_id).await;
        }
    }
}

/// Tells every agent of the run to stop (they finish their iteration).
async fn tell_stop(chosen: &[(String, CommandSender)], run_id: &str) {
    for (id, commands) in chosen {
        let stop = pb::AgentCommand {
            command: Some(pb::agent_command::Command::Stop(pb::StopLoad {
                run_id: run_id.to_string(),
            })),
        };
        if commands.send(Ok(stop)).await.is_err() {
            tracing::debug!(agent = %id, "agent gone before the stop");
        }
    }
}

/// The store's live file of a distributed run: lifecycle, the agents, and the numbers of the
/// samples they streamed (merged), rewritten about once a second by the store's
/// [`LivePublisher`].
struct LiveFile<'a> {
    shared: &'a Shared,
    publisher: LivePublisher,
    polls: u32,
}

/// Polls between two rewrites of the live file (about a second).
const POLLS_PER_WRITE: u32 = 10;

impl<'a> LiveFile<'a> {
    fn new(
        shared: &'a Shared,
        run_id: &str,
        name: &str,
        chosen: &[(String, CommandSender)],
    ) -> LiveFile<'a> {
        let mut publisher = LivePublisher::created(&shared.store, run_id, name);
        publisher.set_agents(chosen.iter().map(|(id, _)| id.clone()).collect());
        LiveFile {
            shared,
            publisher,
            polls: 0,
        }
    }

    /// Refreshes the numbers from the samples streamed so far and writes.
    fn refresh(&mut self) {
        let live_runs = &self.shared.live_runs;
        let run_id = self.publisher.status().run_id.clone();
        self.publisher
            .refresh(|status, seconds| live_runs.fill_live(&run_id, status, seconds));
    }

    /// Counts a poll; every [`POLLS_PER_WRITE`] refreshes and writes. `true` when it did.
    fn tick(&mut self) -> bool {
        self.polls += 1;
        if !self.polls.is_multiple_of(POLLS_PER_WRITE) {
            return false;
        }
        self.refresh();
        true
    }
}
