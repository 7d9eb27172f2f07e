//! `loadlake report`: which report a run gets — the run report (on stdout or into files, with the
//! SLA gate: [`one_run`]), JMeter's or PTS's statistics tables ([`stats`]), or every run at once
//! (`--all`: [`batch`]). The numbers come from crates/query, the pages from crates/report.

mod batch;
mod files;
mod one_run;
mod stats;

use loadlake_query::reports::pts::scene_stats;
use loadlake_store::Store;

use crate::args::{Latency, ReportArgs, Resolution, Stats, exact_method};
use crate::exit::Gate;
use crate::run_ref::RunTarget;

/// `loadlake report`; `Gate::Fail` when an SLA rule failed.
pub(crate) async fn report(store: &Store, args: &ReportArgs) -> anyhow::Result<Gate> {
    check_resolution(args)?;
    let engine = crate::engine::open_engine(store).await?;
    if args.files.all {
        if args.latency == Latency::Intended {
            engine.use_intended_latency().await?;
        }
        return batch::report_all(store, &engine, args).await;
    }
    let manifest = RunTarget::find(store, args.run.as_deref().unwrap_or("latest"))?
        .prepare(&engine)
        .await?;
    if args.latency == Latency::Intended {
        engine.use_intended_latency().await?;
    }
    if args.resolution == Resolution::Us {
        engine.use_microseconds().await?;
    }
    let run_id = manifest.run_id.to_string();
    match args.stats {
        Some(Stats::Jmeter | Stats::Dashboard) => {
            files::check_no_files_with_stats(&args.files)?;
            stats::print_jmeter_statistics(&engine, &run_id, args).await?;
            Ok(Gate::Pass)
        }
        Some(Stats::Pts) => {
            files::check_no_files_with_stats(&args.files)?;
            let stats =
                scene_stats(&engine, &run_id, exact_method(args.percentile_method)?).await?;
            crate::render::print_scene_stats(&stats, args.format)?;
            Ok(Gate::Pass)
        }
        None => one_run::run_report_and_files(&engine, &manifest, args).await,
    }
}

/// `--resolution us` is for the run report on stdout: the pages, the statistics tables and SLA
/// rules state their times in ms (labels, APDEX and rule thresholds) and are not converted yet.
fn check_resolution(args: &ReportArgs) -> anyhow::Result<()> {
    if args.resolution == Resolution::Ms {
        return Ok(());
    }
    let f = &args.files;
    let refused = [
        (args.stats.is_some(), "--stats"),
        (f.all, "--all"),
        (f.html.is_some(), "--html"),
        (f.markdown.is_some(), "--markdown"),
        (f.junit.is_some(), "--junit"),
        (f.sla.is_some(), "--sla"),
        (args.latency == Latency::Intended, "--latency intended"),
    ];
    match refused.iter().find(|(set, _)| *set) {
        Some((_, option)) => anyhow::bail!(
            "--resolution us is for the run report on stdout (table, json, csv); {option} states its times in ms: leave out one of them"
        ),
        None => Ok(()),
    }
}
