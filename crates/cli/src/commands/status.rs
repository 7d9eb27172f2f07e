//! `loadlake status RUN` and `loadlake stop RUN`: the lifecycle state and running data a
//! `loadlake run` process keeps in the store's live file, and the stop request it watches for.
//! A run imported (or finished before live files existed) is read from its manifest.

use anyhow::Context;
use loadlake_schema::RunStatus;
use loadlake_store::{LiveState, LiveStatus, Store, now_ms};

use crate::args::{Format, StatusArgs, StopArgs};

/// The live status of `run`, or one made from its manifest when no process ran it here.
fn current(store: &Store, run: &str) -> anyhow::Result<LiveStatus> {
    let now = now_ms();
    if let Some(live) = store.live(run, now)? {
        return Ok(live);
    }
    let manifest = store.run(run)?;
    let mut status = LiveStatus::created(manifest.run_id.as_str(), &manifest.name, now);
    status.history.clear();
    status.agents.clear();
    let (state, message) = match manifest.status {
        RunStatus::Importing => (LiveState::Running, "importing"),
        RunStatus::Complete => (LiveState::Stopped, ""),
        RunStatus::Incomplete => (LiveState::Stopped, "incomplete"),
        RunStatus::Failed => (LiveState::Failed, "the run failed"),
    };
    status.state = state;
    status.message = message.to_string();
    status.all.count = manifest.samples;
    status.all.fail_count = manifest.errors;
    status.all.success_count = manifest.samples.saturating_sub(manifest.errors);
    Ok(status)
}

pub(crate) fn show_status(store: &Store, args: &StatusArgs) -> anyhow::Result<()> {
    let status = current(store, &args.run)?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&status)?),
        Format::Table | Format::Csv => print!("{}", render(&status)),
    }
    Ok(())
}

/// The status as text: a header of state and load, then a PTS-style table per sampler.
fn render(s: &LiveStatus) -> String {
    let mut out = format!("run {}: {}", s.run_id, s.state.as_str());
    if !s.message.is_empty() {
        out.push_str(&format!(" ({})", s.message));
    }
    out.push('\n');
    let history: Vec<String> = s
        .history
        .iter()
        .map(|c| c.state.as_str().to_string())
        .collect();
    if !history.is_empty() {
        out.push_str(&format!("states: {}\n", history.join(" → ")));
    }
    out.push_str(&format!(
        "users {}  agents {} ({})  VUM {:.2}{}\n",
        s.concurrency,
        s.agents.len(),
        s.agents.join(", "),
        s.vum,
        s.stage
            .as_ref()
            .map(|st| format!("  stage {st}"))
            .unwrap_or_default()
    ));
    let mut table = crate::render::table(&[
        "sampler",
        "count",
        "failed",
        "TPS",
        "avg RT ms",
        "min",
        "max",
    ]);
    for st in std::iter::once(&s.all).chain(&s.samplers) {
        table.add_row([
            st.name.clone(),
            st.count.to_string(),
            st.fail_count.to_string(),
            format!("{:.1}", st.tps),
            format!("{:.1}", st.rt_avg),
            st.rt_min.to_string(),
            st.rt_max.to_string(),
        ]);
    }
    format!("{out}{table}\n")
}

pub(crate) fn stop_run(store: &Store, args: &StopArgs) -> anyhow::Result<()> {
    let status = store
        .request_stop(&args.run, now_ms())
        .with_context(|| format!("stopping run {}", args.run))?;
    eprintln!(
        "run {}: stop requested (it was {}); its users finish their iteration",
        status.run_id,
        status.state.as_str()
    );
    Ok(())
}
