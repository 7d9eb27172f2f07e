//! Distributed runs, over the agents' client in crates/server (`loadlake_server::agents::client`).
//! `loadlake agent --controller URL`: a load generator that joins a controller
//! (`loadlake serve`) and runs its parts of the runs it is given. `loadlake run --agents N`:
//! hands the plan to the controller, which splits it across N idle agents, and follows the run
//! until it is committed. This file only turns arguments into a library call and prints.

use std::collections::BTreeMap;
use std::time::Duration;

use loadlake_runner::DataFile;
use loadlake_server::agents::client::{self, Controller};
use loadlake_server::pb;

use crate::args::{AgentArgs, AgentLoss, RunArgs};

/// `run --agents` gives up on a controller silent this long.
const CLIENT_PEER_TIMEOUT: Duration = Duration::from_secs(20);

/// `loadlake agent`.
pub(crate) async fn join_as_agent(args: &AgentArgs, token: Option<String>) -> anyhow::Result<()> {
    let peer_timeout = Duration::from_millis(args.peer_timeout as u64);
    let controller = Controller::connect(&args.controller, token, peer_timeout).await?;
    let id = args.name.clone().unwrap_or_else(|| {
        format!(
            "{}-{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "agent".into()),
            std::process::id()
        )
    });
    let mut joined = controller.join(&id).await?;
    eprintln!("agent {id}: joined {}", args.controller);
    while let Some(part) = joined.run_next_part().await? {
        eprintln!(
            "agent {id}: run {} (part {} of {}): {} samples",
            part.run_id,
            part.index + 1,
            part.count,
            part.samples
        );
        println!("{} {id} {}", part.run_id, part.samples);
        if args.once {
            break;
        }
    }
    Ok(())
}

/// `loadlake run --agents N`: the plan and the data files it reads go to the controller, which
/// runs it on N agents with `stages_yaml` (the stages file's text, empty for none); returns the
/// run id.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn distributed_run(
    args: &RunArgs,
    data_files: &[DataFile],
    agents: u32,
    controller: &str,
    token: Option<String>,
    props: BTreeMap<String, String>,
    stages_yaml: String,
    tags: BTreeMap<String, String>,
) -> anyhow::Result<String> {
    let plan_jmx = client::read_plan(&args.plan)?;
    let data_files = client::read_data_files(data_files)?;
    let load = pb::LoadSpec {
        duration_ms: args.duration.unwrap_or(0),
        tps: args.tps.unwrap_or(0.0),
        max_vus: args.max_vus.unwrap_or(0),
        stages_yaml,
        stop_when: args.stop_when.clone(),
        max_samples: args.max_samples.unwrap_or(0),
    };
    let controller = Controller::connect(controller, token, CLIENT_PEER_TIMEOUT).await?;
    let name = args.name.clone().unwrap_or_else(|| {
        args.plan
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let events = controller
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
        .await?;
    let finished = events
        .follow(|event| match event.state.as_str() {
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
            other => eprintln!("run {}: {other} {}", event.run_id, event.message),
        })
        .await?;
    eprintln!(
        "ran {} samples on {} agent(s) as run {} ({}){}",
        finished.samples,
        finished.agents.len(),
        finished.run_id,
        finished.run_status,
        if finished.message.is_empty() {
            String::new()
        } else {
            format!("; {}", finished.message)
        }
    );
    Ok(finished.run_id)
}
