//! `report --all --out DIR`: every selected run's HTML page and JSON report, an index.html, and
//! with `--sla` one JUnit suite per run; exit code 1 when any run fails its SLA.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use loadlake_query::QueryEngine;
use loadlake_query::reports::scope::{Scope, scope_metrics};
use loadlake_query::reports::sla::SlaOutcome;
use loadlake_report::html::IndexEntry;
use loadlake_report::job::{Pages, run_report_job, suite_run};
use loadlake_schema::RunManifest;
use loadlake_store::{NameMatch, RunFilter, Store};

use super::files::{html_settings, report_request, write_file};
use crate::args::ReportArgs;
use crate::exit::Gate;

/// The runs `--since` and `--name` select, oldest first. `--since` is measured from the run's
/// start (its first sample, or its import time when it has no timestamps).
fn selected_runs(
    store: &Store,
    args: &ReportArgs,
    now_ms: i64,
) -> anyhow::Result<Vec<RunManifest>> {
    let files = &args.files;
    let filter = RunFilter {
        name: files.name.clone().map(NameMatch::Exact),
        started_from_ms: files.since.map(|since| now_ms - since),
        ..RunFilter::default()
    };
    Ok(store.select_runs(&filter)?)
}

pub(super) async fn report_all(
    store: &Store,
    engine: &QueryEngine,
    args: &ReportArgs,
) -> anyhow::Result<Gate> {
    let Some(out) = args.files.out.as_deref() else {
        anyhow::bail!("--all needs --out DIR");
    };
    let now = chrono::Utc::now();
    let runs = selected_runs(store, args, now.timestamp_millis())?;
    if runs.is_empty() {
        tracing::warn!("no run matches --since / --name; the index will be empty");
    }
    let settings = html_settings(args, now)?;
    // The run pages and the index share one renderer.
    let renderer = Arc::clone(&settings.renderer);
    let pages = Pages {
        html: Some(settings),
        ..Pages::default()
    };
    let request = report_request(args, pages)?;
    let method = request.method;
    let mut index = Vec::with_capacity(runs.len());
    let mut outcomes: Vec<(usize, SlaOutcome)> = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let run_id = run.run_id.to_string();
        let job = run_report_job(engine, run, &request).await?;
        let (report, sla) = (job.report, job.sla);
        if let Some(page) = &job.html {
            write_file(&out.join(format!("{run_id}.html")), page)?;
        }
        let json = crate::render::report_json(&report, sla.as_ref())?;
        write_file(
            &out.join(format!("{run_id}.json")),
            &serde_json::to_string_pretty(&json)?,
        )?;
        let whole_run = scope_metrics(engine, &run_id, &Scope::Run, 95.0, method).await?;
        let o = &report.outline;
        index.push(IndexEntry {
            run_id: run_id.clone(),
            name: run.name.clone(),
            tags: run.tags.clone(),
            status: run.status.as_str().to_string(),
            start_time: o.start_time,
            duration: o.duration,
            requests: o.requests,
            success_rate: o.success_rate,
            average_resp_time: o.average_resp_time,
            tp95: whole_run.percentile,
            tps: o.tps,
            sla_passed: sla.as_ref().map(|s| s.passed),
            href: format!("{run_id}.html"),
        });
        if let Some(outcome) = sla {
            outcomes.push((i, outcome));
        }
    }
    let title = format!("loadlake: {} runs", index.len());
    write_file(
        &out.join("index.html"),
        &renderer.index_page(&title, &index, engine.time_unit())?,
    )?;
    write_junit(args.files.junit.as_deref(), &runs, &outcomes)?;
    let failed = outcomes.iter().filter(|(_, o)| !o.passed).count();
    if request.sla.is_some() {
        eprintln!("SLA: {failed} of {} runs failed", outcomes.len());
    }
    Ok(Gate::from_passed(failed == 0))
}

fn write_junit(
    path: Option<&Path>,
    runs: &[RunManifest],
    outcomes: &[(usize, SlaOutcome)],
) -> anyhow::Result<()> {
    let Some(path) = path else {
        return Ok(());
    };
    let suites: Vec<_> = outcomes
        .iter()
        .map(|(i, o)| (suite_run(&runs[*i]), o))
        .collect();
    let xml = loadlake_report::junit::junit_xml(&suites).context("writing JUnit XML")?;
    write_file(path, &xml)
}
