//! The run report of one run: computed with the options of `loadlake report`, printed on stdout
//! or written into the files asked for (HTML, Markdown, JUnit), with the SLA gate.

use anyhow::bail;
use loadlake_query::QueryEngine;
use loadlake_query::reports::run_report::{RunReport, run_report};
use loadlake_report::html::HtmlRenderer;
use loadlake_schema::RunManifest;

use super::files;
use crate::args::{ReportArgs, check_percentiles, exact_method};
use crate::exit::Gate;

/// The run report of `run_id` on stdout, or into the files asked for; SLA rules checked.
pub(super) async fn run_report_and_files(
    engine: &QueryEngine,
    manifest: &RunManifest,
    args: &ReportArgs,
) -> anyhow::Result<Gate> {
    let run_id = manifest.run_id.as_str();
    let method = exact_method(args.percentile_method)?;
    let rules = args.files.sla.as_deref().map(files::load_sla).transpose()?;
    let report = compute_report(engine, manifest, args).await?;
    let sla = files::check_sla(engine, run_id, rules.as_deref(), method).await?;
    let files = &args.files;
    if files.html.is_none() && files.markdown.is_none() && files.junit.is_none() {
        crate::render::print_run_report(&report, sla.as_ref(), args.format)?;
    }
    if let Some(path) = &files.html {
        let renderer = HtmlRenderer::new(chrono::Utc::now())?;
        let settings = files::PageSettings::from_args(args)?;
        let page = files::html_page(
            engine,
            &renderer,
            &settings,
            manifest,
            &report,
            sla.as_ref(),
        )
        .await?;
        files::write_file(path, &page)?;
    }
    if let Some(path) = &files.markdown {
        let md = loadlake_report::markdown::summary(&manifest.name, &report, sla.as_ref());
        files::write_file(path, &md)?;
    }
    if let (Some(path), Some(outcome)) = (&files.junit, &sla) {
        let suite = files::suite_run(manifest);
        let xml = loadlake_report::junit::junit_xml(&[(suite, outcome)])?;
        files::write_file(path, &xml)?;
    }
    Ok(match &sla {
        Some(outcome) => {
            eprintln!("{}", files::sla_summary(outcome));
            Gate::from_passed(outcome.passed)
        }
        None => Gate::Pass,
    })
}

/// The run report of `run_id` with the percentiles, method and ranges of `args`.
pub async fn compute_report(
    engine: &QueryEngine,
    manifest: &RunManifest,
    args: &ReportArgs,
) -> anyhow::Result<RunReport> {
    let run_id = manifest.run_id.as_str();
    let method = exact_method(args.percentile_method)?;
    if args.ranges.windows(2).any(|w| w[0] >= w[1]) || args.ranges.iter().any(|b| *b <= 0) {
        bail!("--ranges must be positive and ascending, e.g. 50,200,500,1000");
    }
    let planned = planned_cases(manifest);
    let extra = args.percentiles.clone().unwrap_or_default();
    check_percentiles(&extra)?;
    Ok(run_report(engine, run_id, method, &extra, &args.ranges, planned).await?)
}

/// Regular, enabled thread groups of the run's attached plan.
fn planned_cases(manifest: &RunManifest) -> Option<u64> {
    manifest
        .plan
        .as_ref()
        .and_then(|p| p["thread_groups"].as_array())
        .map(|groups| {
            groups
                .iter()
                .filter(|g| g["enabled"] == true && g["kind"] == "regular")
                .count() as u64
        })
}
