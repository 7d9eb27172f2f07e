//! `loadlake run`: a JMX plan compiled and executed by crates/runner, its samples written into a
//! new run of the store through the same threaded writer as imports. Ctrl-C stops the run and
//! keeps what was recorded (the run is then `incomplete`).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, bail};
use loadlake_runner::{ArrivalRate, JtlTee, RunOptions, compile_at};
use loadlake_schema::{RunStatus, ThreadedSink};
use loadlake_store::{RunDraft, Store, WriterOptions};

use crate::cli::{LoadMode, RunArgs};
use crate::progress::Progress;

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

pub fn run(store: &Store, args: &RunArgs, runtime: &tokio::runtime::Runtime) -> anyhow::Result<()> {
    let plan = loadlake_plan::Plan::from_path(&args.plan)
        .with_context(|| format!("reading the plan {}", args.plan.display()))?;
    let base_dir = args
        .plan
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let runnable = compile_at(&plan, &parse_props(&args.props)?, base_dir)
        .with_context(|| format!("{}: the runner cannot run this plan", args.plan.display()))?;
    if args.validate {
        print!("{}", runnable.explain());
        return Ok(());
    }
    let arrival = match (args.mode, args.tps) {
        (LoadMode::Closed, None) => None,
        (LoadMode::Closed, Some(_)) => bail!("--tps needs --mode tps"),
        (LoadMode::Tps, None) => bail!("--mode tps needs --tps PER_SECOND"),
        (LoadMode::Tps, Some(per_second)) => {
            if args.duration.is_none() {
                bail!("--mode tps needs --duration (an open-model run has no loop count)");
            }
            Some(ArrivalRate {
                per_second,
                max_vus: args.max_vus,
            })
        }
    };
    let tags = crate::import::parse_tags(&args.tags)?;
    let writer = store.begin_run(WriterOptions::default())?;
    let run_id = writer.run_id().to_string();
    eprintln!("run {run_id}: {}", args.plan.display());
    let mut sink = ThreadedSink::spawn(writer, PIPELINE_DEPTH);
    let (cancel, cancelled) = tokio::sync::watch::channel(false);
    let options = RunOptions {
        duration: args.duration.map(|ms| Duration::from_millis(ms as u64)),
        max_samples: args.max_samples,
        cancel: Some(cancelled),
        arrival,
        ..RunOptions::default()
    };
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("loadlake: stopping (Ctrl-C); samples so far are kept");
            let _ = cancel.send(true);
        }
    });
    // The run (its sample collector included) is a task on the runtime's workers, not on this
    // thread: every sample would otherwise wake this thread from another one.
    let jtl = args.jtl.clone();
    let task = runtime.spawn(async move {
        let summary = drive(&runnable, options, &mut sink, jtl.as_deref()).await;
        (sink, summary)
    });
    let (sink, summary) = runtime.block_on(task).context("the run's task failed")?;
    let writer = sink.finish().context("writing samples to the store")?;
    let summary = summary?;
    if summary.samples == 0 {
        bail!("the plan produced no sample (run {run_id} abandoned)");
    }
    let draft = RunDraft {
        name: args.name.clone().unwrap_or_else(|| {
            args.plan
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| run_id.clone())
        }),
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
    println!("{}", manifest.run_id);
    Ok(())
}
