//! `report --html / --markdown / --junit / --sla`: the run report written to files, and the SLA
//! gate. The numbers come from crates/query, the pages from crates/report.

use std::path::Path;

use anyhow::{Context, bail};
use loadlake_query::QueryEngine;
use loadlake_query::functions::PercentileMethod;
use loadlake_query::reports::curve::{CurveOptions, curve};
use loadlake_query::reports::jmeter::{StatisticsMethod, jmeter_statistics};
use loadlake_query::reports::jmeter_tables::{ApdexThresholds, apdex, errors};
use loadlake_query::reports::run_report::RunReport;
use loadlake_query::reports::sla::{CheckedRule, SlaOutcome, SlaSpec, evaluate};
use loadlake_report::html::{HtmlRenderer, JmeterSection, RunPage};
use loadlake_report::junit::SuiteRun;
use loadlake_schema::RunManifest;

/// Percentiles of the JMeter Statistics table in HTML pages.
const STATISTICS_PERCENTILES: [f64; 3] = [90.0, 95.0, 99.0];

/// Reads and checks an SLA rule file; errors name the file and the rule or line.
pub fn load_sla(path: &Path) -> anyhow::Result<Vec<CheckedRule>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading SLA rules {}", path.display()))?;
    let spec: SlaSpec = serde_saphyr::from_str(&text)
        .with_context(|| format!("{}: not a valid SLA rule file", path.display()))?;
    spec.check()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The SLA outcome of `run_id`, if rules were given.
pub async fn check_sla(
    engine: &QueryEngine,
    run_id: &str,
    rules: Option<&[CheckedRule]>,
    method: PercentileMethod,
) -> anyhow::Result<Option<SlaOutcome>> {
    Ok(match rules {
        Some(rules) => Some(evaluate(engine, run_id, rules, method).await?),
        None => None,
    })
}

/// How HTML pages are computed: from `report`'s arguments.
pub struct PageSettings {
    pub thresholds: ApdexThresholds,
    /// Curve points at most.
    pub points: usize,
    pub method: PercentileMethod,
}

impl PageSettings {
    pub fn from_args(args: &crate::args::ReportArgs) -> anyhow::Result<PageSettings> {
        Ok(PageSettings {
            thresholds: crate::args::apdex_thresholds(args)?,
            points: args.files.points,
            method: crate::args::exact_method(args.percentile_method)?,
        })
    }
}

/// The HTML page of one run: the report plus its curve (at most `points` points) and the JMeter
/// dashboard tables.
pub async fn html_page(
    engine: &QueryEngine,
    renderer: &HtmlRenderer,
    settings: &PageSettings,
    run: &RunManifest,
    report: &RunReport,
    sla: Option<&SlaOutcome>,
) -> anyhow::Result<String> {
    let PageSettings {
        thresholds,
        points,
        method,
    } = settings;
    let (points, method) = (*points, *method);
    let run_id = run.run_id.to_string();
    let options = CurveOptions {
        interval_ms: 1000,
        max_points: Some(points.max(1)),
        case: None,
        request: None,
        method,
    };
    let curve = curve(engine, &run_id, &options).await?;
    let statistics = jmeter_statistics(
        engine,
        &run_id,
        STATISTICS_PERCENTILES,
        StatisticsMethod::Exact(method),
    )
    .await?;
    let apdex = apdex(engine, &run_id, thresholds).await?;
    let (errors, top5) = errors(engine, &run_id).await?;
    let jmeter = JmeterSection {
        percentiles: STATISTICS_PERCENTILES,
        statistics,
        apdex,
        errors,
        top5,
    };
    Ok(renderer.run_page(&RunPage {
        run,
        report,
        curve: &curve,
        jmeter: &jmeter,
        sla,
    })?)
}

/// The JUnit suite header of a run.
pub fn suite_run(run: &RunManifest) -> SuiteRun<'_> {
    SuiteRun {
        run_id: run.run_id.as_str(),
        name: &run.name,
        timestamp: run
            .first_ts_ms
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string()),
    }
}

/// Writes `contents` to `path` (creating its directory) and says so on stderr.
pub fn write_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// A one-line SLA verdict for stderr.
pub fn sla_summary(outcome: &SlaOutcome) -> String {
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
pub fn check_no_files_with_stats(args: &crate::args::ReportFileArgs) -> anyhow::Result<()> {
    if args.html.is_some() || args.markdown.is_some() || args.junit.is_some() || args.sla.is_some()
    {
        bail!("--html, --markdown, --junit and --sla go with the run report, not with --stats");
    }
    Ok(())
}
