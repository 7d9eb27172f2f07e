//! `loadlake run`: a JMX plan compiled and executed by crates/runner, its samples written into a
//! new run of the store through the same threaded writer as imports. Ctrl-C stops the run and
//! keeps what was recorded (the run is then `incomplete`).

mod live;
mod progress;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, bail};
use loadlake_plan::{Kpi, LoadProfile, StopRule};
use loadlake_runner::{ArrivalRate, JtlTee, PeakReport, PeakSeeking, RunOptions, compile_at};
use loadlake_schema::{RunStatus, ThreadedSink};
use loadlake_store::{LiveState, RunDraft, Store, WriterOptions};
use tokio::sync::watch;

use crate::args::{LoadMode, RunArgs};
use live::{LiveBoard, LiveSink};
use progress::Progress;

/// Batches waiting between the runner and the Parquet-writing thread.
const PIPELINE_DEPTH: usize = 4;

/// Runs `runnable` into `sink` through the progress line (and the JTL file, when asked).
async fn drive(
    runnable: &loadlake_runner::RunnablePlan,
    options: RunOptions,
    sink: &mut dyn loadlake_schema::SampleSink,
    jtl: Option<&std::path::Path>,
) -> anyhow::Result<loadlake_runner::RunSummary> {
    let mut progress = Progress::new(sink);
    let summary = match jtl {
        Some(path) => {
            let mut tee = JtlTee::create(path, &mut progress)?;
            let summary = loadlake_runner::run(runnable, options, &mut tee).await;
            tee.finish()?;
            summary
        }
        None => loadlake_runner::run(runnable, options, &mut progress).await,
    };
    progress.finish();
    Ok(summary?)
}

/// How the load is driven: at most one of an arrival rate, stages and peak-seeking.
struct LoadOptions {
    arrival: Option<ArrivalRate>,
    profile: Option<LoadProfile>,
    peak: Option<PeakSeeking>,
    stop_rules: Vec<StopRule>,
    /// The stages file's text, as checked (agents get exactly this).
    stages_yaml: Option<String>,
}

/// The load options of `--mode`, `--tps`, `--stages` and the peak-seeking flags, checked
/// together.
fn load_options(args: &RunArgs) -> anyhow::Result<LoadOptions> {
    let mut load = LoadOptions {
        arrival: None,
        profile: None,
        peak: None,
        stop_rules: args
            .stop_when
            .iter()
            .map(|r| r.parse().map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<Vec<StopRule>>>()?,
        stages_yaml: None,
    };
    let peak_flags = args.start.is_some()
        || args.step.is_some()
        || args.step_duration.is_some()
        || args.max.is_some()
        || !args.kpis.is_empty();
    if args.tps.is_some() && args.mode != LoadMode::Tps {
        bail!("--tps needs --mode tps");
    }
    if peak_flags && !matches!(args.mode, LoadMode::Peak | LoadMode::SmartPeak) {
        bail!("--start, --step, --step-duration, --max and --kpi need --mode peak or smart-peak");
    }
    if args.stages.is_some() && args.mode != LoadMode::Closed {
        bail!("--stages replaces --mode {:?}: use one of them", args.mode);
    }
    match args.mode {
        LoadMode::Closed => {
            if let Some(path) = &args.stages {
                let (profile, text) = LoadProfile::read(path)?;
                load.profile = Some(profile);
                load.stages_yaml = Some(text);
            }
        }
        LoadMode::Tps => {
            let Some(per_second) = args.tps else {
                bail!("--mode tps needs --tps PER_SECOND");
            };
            if args.duration.is_none() {
                bail!("--mode tps needs --duration (an open-model run has no loop count)");
            }
            load.arrival = Some(ArrivalRate {
                per_second,
                max_vus: args.max_vus,
            });
        }
        LoadMode::Peak | LoadMode::SmartPeak => {
            let (Some(start), Some(step), Some(step_ms), Some(max)) =
                (args.start, args.step, args.step_duration, args.max)
            else {
                bail!("--mode peak needs --start, --step, --step-duration and --max");
            };
            let knee = args.mode == LoadMode::SmartPeak;
            if args.kpis.is_empty() && !knee {
                bail!("--mode peak needs at least one --kpi rule (or use --mode smart-peak)");
            }
            let kpis = args
                .kpis
                .iter()
                .map(|k| k.parse().map_err(anyhow::Error::msg))
                .collect::<anyhow::Result<Vec<Kpi>>>()?;
            let step_duration = Duration::from_millis(step_ms as u64);
            load.peak = Some(
                PeakSeeking::new(start, step, step_duration, max, kpis, knee)
                    .map_err(|e| anyhow::anyhow!("--mode peak: {e}"))?,
            );
        }
    }
    Ok(load)
}

/// The steps of a peak-seeking run and its verdict, as a table for the terminal.
fn peak_table(report: &PeakReport) -> String {
    let mut table = crate::render::table(&[
        "users",
        "samples",
        "TPS",
        "avg RT ms",
        "p95 ms",
        "success %",
        "broken",
    ]);
    for s in &report.steps {
        table.add_row([
            s.users.to_string(),
            s.samples.to_string(),
            format!("{:.1}", s.tps),
            format!("{:.1}", s.avg_rt_ms),
            format!("{:.0}", s.p95_ms),
            format!("{:.2}", s.success_rate),
            s.broken.join("; "),
        ]);
    }
    let verdict = match (
        report.peak.map(|i| &report.steps[i]),
        report.stopped_by_rule,
    ) {
        (Some(p), true) => format!(
            "peak: {} users, {:.1} TPS (the next step broke a rule)",
            p.users, p.tps
        ),
        (Some(p), false) => format!(
            "peak: at least {} users, {:.1} TPS (every step met the rules; raise --max)",
            p.users, p.tps
        ),
        (None, _) => "peak: none (the first step already broke a rule; lower --start)".to_string(),
    };
    format!("{table}\n{verdict}\n")
}

/// `-Jname=value` pairs.
fn parse_props(props: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    props
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => bail!("-J must be NAME=VALUE, not '{p}'"),
        })
        .collect()
}

pub(crate) fn run_plan(
    store: &Store,
    args: &RunArgs,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<()> {
    let plan = loadlake_plan::Plan::from_path(&args.plan)
        .with_context(|| format!("reading the plan {}", args.plan.display()))?;
    let base_dir = args
        .plan
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let props = parse_props(&args.props)?;
    let runnable = compile_at(&plan, &props, base_dir)
        .with_context(|| format!("{}: the runner cannot run this plan", args.plan.display()))?;
    // Before a validation as before a run: what JMeter would accept silently.
    for w in &runnable.warnings {
        eprintln!("warning: {}: {w}", args.plan.display());
    }
    if args.validate {
        print!("{}", runnable.explain());
        return Ok(());
    }
    let load = load_options(args)?;
    let tags = crate::args::parse_tags(&args.tags)?;
    if let Some(agents) = args.agents {
        // The plan and its load were checked here; the agents run it.
        if load.peak.is_some() {
            bail!(
                "--mode peak and smart-peak cannot be split across agents yet: run them without --agents"
            );
        }
        let token = args
            .token_file
            .as_deref()
            .map(crate::args::read_token)
            .transpose()?;
        let run_id = runtime.block_on(crate::commands::agent::distributed_run(
            args,
            &runnable.data_files,
            agents,
            &args.controller,
            token,
            props,
            load.stages_yaml.unwrap_or_default(),
            tags,
        ))?;
        println!("{run_id}");
        return Ok(());
    }
    let mut writer = store.begin_run(WriterOptions::live())?;
    let run_id = writer.run_id().to_string();
    // Its parts are visible as it runs: if this process dies, the next opener of the store
    // commits them as an `incomplete` run rather than removing them.
    writer.record_draft(&RunDraft {
        name: run_name(args, &run_id),
        tags: tags.clone(),
        status: RunStatus::Incomplete,
        sources: Vec::new(),
        plan: serde_json::to_value(plan.summary()).ok(),
    })?;
    let stage_profile = load
        .profile
        .clone()
        .or_else(|| load.peak.as_ref().map(|p| p.profile().clone()));
    let board = LiveBoard::new(store, &run_id, &run_name(args, &run_id), stage_profile);
    // Announced once its live file exists: `loadlake status RUN` works from this line on.
    eprintln!("run {run_id}: {}", args.plan.display());
    let outcome = execute(args, runtime, writer, runnable, load, &board)
        .and_then(|done| commit(args, &plan, tags, done));
    match &outcome {
        Ok(_) => board.enter(LiveState::Stopped, ""),
        Err(e) => board.enter(LiveState::Failed, &format!("{e:#}")),
    }
    println!("{}", outcome?);
    Ok(())
}

/// A run whose load is over, before it is committed.
struct Executed {
    writer: loadlake_store::RunWriter,
    summary: loadlake_runner::RunSummary,
}

/// Generates the load into `writer`'s run, through the live board.
fn execute(
    args: &RunArgs,
    runtime: &tokio::runtime::Runtime,
    writer: loadlake_store::RunWriter,
    runnable: loadlake_runner::RunnablePlan,
    load: LoadOptions,
    board: &LiveBoard,
) -> anyhow::Result<Executed> {
    let run_id = writer.run_id().to_string();
    board.enter(LiveState::Preparing, "");
    let mut sink = ThreadedSink::spawn(writer, PIPELINE_DEPTH);
    let (cancel, cancelled) = watch::channel(false);
    let (stop, stopped) = watch::channel(false);
    let (done, done_rx) = watch::channel(false);
    let options = RunOptions {
        duration: args.duration.map(|ms| Duration::from_millis(ms as u64)),
        max_samples: args.max_samples,
        cancel: Some(cancelled),
        stop: Some(stopped),
        arrival: load.arrival,
        profile: load.profile,
        peak: load.peak,
        stop_rules: load.stop_rules,
        ..RunOptions::default()
    };
    let ctrl_c = board.clone();
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("loadlake: stopping (Ctrl-C); samples so far are kept");
            ctrl_c.enter(LiveState::Stopping, "stopped by Ctrl-C");
            let _ = cancel.send(true);
        }
    });
    board.enter(LiveState::Ready, "");
    let publisher = runtime.spawn(board.clone().publish(stop, done_rx));
    board.enter(LiveState::Running, "");
    // The run (its sample collector included) is a task on the runtime's workers, not on this
    // thread: every sample would otherwise wake this thread from another one.
    let jtl = args.jtl.clone();
    let counts = board.counts.clone();
    let task = runtime.spawn(async move {
        let mut live = LiveSink::new(&mut sink, counts);
        let summary = drive(&runnable, options, &mut live, jtl.as_deref()).await;
        (sink, summary)
    });
    let (sink, summary) = runtime.block_on(task).context("the run's task failed")?;
    let _ = done.send(true);
    let _ = runtime.block_on(publisher);
    let why = summary
        .as_ref()
        .ok()
        .and_then(|s| s.stopped_by.clone())
        .unwrap_or_default();
    board.enter(LiveState::Stopping, &why);
    let writer = sink.finish().context("writing samples to the store")?;
    let summary = summary?;
    if summary.samples == 0 {
        bail!("the plan produced no sample (run {run_id} abandoned)");
    }
    Ok(Executed { writer, summary })
}

/// Commits the run with its name, tags and status; prints what it did; returns the run id.
/// `--name`, else the plan's file name.
fn run_name(args: &RunArgs, run_id: &str) -> String {
    args.name.clone().unwrap_or_else(|| {
        args.plan
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| run_id.to_string())
    })
}

fn commit(
    args: &RunArgs,
    plan: &loadlake_plan::Plan,
    mut tags: BTreeMap<String, String>,
    done: Executed,
) -> anyhow::Result<String> {
    let Executed { writer, summary } = done;
    let run_id = writer.run_id().to_string();
    if let Some(why) = &summary.stopped_by {
        eprintln!("loadlake: the run stopped early: {why}");
        tags.insert("stopped_by".into(), why.clone());
    }
    if let Some(report) = &summary.peak {
        eprint!("{}", peak_table(report));
        if let Some(peak) = report.peak.map(|i| &report.steps[i]) {
            tags.insert("peak_users".into(), peak.users.to_string());
            tags.insert("peak_tps".into(), format!("{:.1}", peak.tps));
        }
    }
    let draft = RunDraft {
        name: run_name(args, &run_id),
        tags,
        status: if summary.cancelled {
            RunStatus::Incomplete
        } else {
            RunStatus::Complete
        },
        sources: Vec::new(),
        plan: serde_json::to_value(plan.summary()).ok(),
    };
    let no_rejects: &[serde_json::Value] = &[];
    let manifest = writer.commit(draft, no_rejects)?;
    eprintln!(
        "ran {} samples ({} failed) in {:.1} s as run {}{}",
        summary.samples,
        summary.errors,
        summary.elapsed.as_secs_f64(),
        manifest.run_id,
        if summary.cancelled {
            " (stopped early)"
        } else {
            ""
        }
    );
    if summary.dropped_iterations > 0 {
        eprintln!(
            "loadlake: {} iteration(s) were dropped: every virtual user was busy and the queue was \
             full (raise --max-vus)",
            summary.dropped_iterations
        );
    }
    if summary.writer_waits > 0 {
        eprintln!(
            "loadlake: the sample writer fell behind {} time(s): virtual users waited for it, so \
             the load was lower than the plan asks (no sample was dropped)",
            summary.writer_waits
        );
    }
    Ok(manifest.run_id.to_string())
}
