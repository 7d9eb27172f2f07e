//! `loadlake report`: which report a run gets — the run report (on stdout or into files, with the
//! SLA gate: [`one_run`]), JMeter's or PTS's statistics tables ([`stats`]), or every run at once
//! (`--all`: [`batch`]). The numbers come from crates/query, the pages from crates/report.

mod batch;
mod files;
mod one_run;
mod stats;

use loadlake_query::QueryEngine;
use loadlake_query::reports::pts::scene_stats;
use loadlake_store::Store;

use crate::args::{Latency, ReportArgs, Resolution, Stats, exact_method};
use crate::exit::Gate;
use crate::run_ref::RunTarget;

/// `loadlake report`; `Gate::Fail` when an SLA rule failed.
pub(crate) async fn report(store: &Store, args: &ReportArgs) -> anyhow::Result<Gate> {
    let engine = crate::engine::open_engine(store).await?;
    if args.files.all {
        choose_times(&engine, args).await?;
        return batch::report_all(store, &engine, args).await;
    }
    let manifest = RunTarget::find(store, args.run.as_deref().unwrap_or("latest"))?
        .prepare(&engine)
        .await?;
    choose_times(&engine, args).await?;
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

/// Which response times every report of this session reads: `--latency` (service or intended),
/// then `--resolution` (whole ms or µs; µs of intended latencies too).
async fn choose_times(engine: &QueryEngine, args: &ReportArgs) -> anyhow::Result<()> {
    if args.latency == Latency::Intended {
        engine.use_intended_latency().await?;
    }
    if args.resolution == Resolution::Us {
        engine.use_microseconds().await?;
    }
    Ok(())
}
