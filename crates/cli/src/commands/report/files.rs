//! `report --html / --markdown / --junit / --sla`: the report job's request made of the
//! arguments, the files written, and the SLA gate's verdict. The job is crates/report's.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use loadlake_query::reports::sla::{SlaOutcome, read_rules};
use loadlake_report::html::HtmlRenderer;
use loadlake_report::job::{HtmlSettings, Pages, ReportRequest};

use crate::args::ReportArgs;

/// The report job's request of `loadlake report`'s arguments, with `pages`.
pub(super) fn report_request(args: &ReportArgs, pages: Pages) -> anyhow::Result<ReportRequest> {
    let mut request = ReportRequest::new(crate::args::exact_method(args.percentile_method)?);
    request.extra_percentiles = args.percentiles.clone().unwrap_or_default();
    request.ranges = args.ranges.clone();
    request.sla = args.files.sla.as_deref().map(read_rules).transpose()?;
    request.pages = pages;
    Ok(request)
}

/// How `loadlake report`'s HTML pages are computed, generated at `now`.
pub(super) fn html_settings(args: &ReportArgs, now: DateTime<Utc>) -> anyhow::Result<HtmlSettings> {
    Ok(HtmlSettings {
        thresholds: crate::args::apdex_thresholds(args)?,
        points: args.files.points,
        renderer: Arc::new(HtmlRenderer::new(now)?),
    })
}

/// Writes `contents` to `path` (creating its directory) and says so on stderr.
pub(super) fn write_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// A one-line SLA verdict for stderr.
pub(super) fn sla_summary(outcome: &SlaOutcome) -> String {
    let failed: Vec<&str> = outcome
        .results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| r.name.as_str())
        .collect();
    if failed.is_empty() {
        format!("SLA passed: {} rules", outcome.results.len())
    } else {
        format!(
            "SLA FAILED: {} of {} rules: {}",
            failed.len(),
            outcome.results.len(),
            failed.join("; ")
        )
    }
}

/// Refuses file options that make no sense together with what was asked.
pub(super) fn check_no_files_with_stats(args: &crate::args::ReportFileArgs) -> anyhow::Result<()> {
    if args.html.is_some() || args.markdown.is_some() || args.junit.is_some() || args.sla.is_some()
    {
        bail!("--html, --markdown, --junit and --sla go with the run report, not with --stats");
    }
    Ok(())
}
