//! The report job: what is computed for one run's report — the run report, its curve, the SLA
//! outcome and the pages (HTML, Markdown, JUnit) — from a typed [`ReportRequest`]. `loadlake
//! report` (one run or `--all`) and the gRPC `ReportService` both call [`run_report_job`], so a
//! run's report is computed one way whichever front end asks.

use std::sync::Arc;

use loadlake_query::reports::curve::{Curve, CurveOptions, curve};
use loadlake_query::reports::jmeter::{StatisticsMethod, jmeter_statistics};
use loadlake_query::reports::jmeter_tables::{ApdexThresholds, apdex, errors};
use loadlake_query::reports::run_report::{DEFAULT_RANGES, RunReport, run_report};
use loadlake_query::reports::sla::{CheckedRule, SlaOutcome, evaluate};
use loadlake_query::{QueryEngine, QueryError, functions::PercentileMethod};
use loadlake_schema::RunManifest;
use loadlake_schema::fault::{Fault, HasFault};

use crate::ReportError;
use crate::html::{HtmlRenderer, JmeterSection, RunPage};
use crate::junit::{SuiteRun, junit_xml};

/// Percentiles of the JMeter Statistics table in HTML pages.
pub const STATISTICS_PERCENTILES: [f64; 3] = [90.0, 95.0, 99.0];

/// What to compute for one run.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    /// The exact percentile method of every percentile.
    pub method: PercentileMethod,
    /// Percentiles (percents, 0–100) added to the details' tp50…tp99.99.
    pub extra_percentiles: Vec<f64>,
    /// Upper bounds (ms) of the response-time ranges: positive and ascending.
    pub ranges: Vec<i64>,
    /// The run's curve (the gRPC report's `brokens`), if wanted.
    pub curve: Option<CurveOptions>,
    /// SLA rules to check, if any.
    pub sla: Option<Vec<CheckedRule>>,
    /// Pages to render.
    pub pages: Pages,
}

impl ReportRequest {
    /// The report with `method`, the default ranges, no curve, no SLA and no pages.
    pub fn new(method: PercentileMethod) -> ReportRequest {
        ReportRequest {
            method,
            extra_percentiles: Vec::new(),
            ranges: DEFAULT_RANGES.to_vec(),
            curve: None,
            sla: None,
            pages: Pages::default(),
        }
    }

    /// Refuses a request that cannot be computed: a method that is not exact, ranges that are
    /// not positive and ascending, percentiles outside 0–100.
    pub fn check(&self) -> Result<(), JobError> {
        if self.method == PercentileMethod::Legacy {
            return Err(JobError::Request(
                "the percentile method must be nearest-rank, linear or jmeter-aggregate".into(),
            ));
        }
        if self.ranges.windows(2).any(|w| w[0] >= w[1]) || self.ranges.iter().any(|b| *b <= 0) {
            return Err(JobError::Request(
                "response-time ranges must be positive and ascending, e.g. 50,200,500,1000".into(),
            ));
        }
        check_percentiles(&self.extra_percentiles)
    }
}

/// Refuses percentiles outside 0–100 (reports take percents: 95 is the 95th percentile).
pub fn check_percentiles(percentiles: &[f64]) -> Result<(), JobError> {
    match percentiles.iter().find(|p| !(0.0..=100.0).contains(*p)) {
        Some(p) => Err(JobError::Request(format!(
            "percentiles must be between 0 and 100, not {p}"
        ))),
        None => Ok(()),
    }
}

/// The pages a [`ReportRequest`] asks for.
#[derive(Debug, Clone, Default)]
pub struct Pages {
    /// The HTML page, with these settings.
    pub html: Option<HtmlSettings>,
    /// The Markdown summary.
    pub markdown: bool,
    /// The JUnit XML of the SLA outcome (only when SLA rules are given).
    pub junit: bool,
}

/// How an HTML page is computed.
#[derive(Debug, Clone)]
pub struct HtmlSettings {
    /// APDEX thresholds of the JMeter tables.
    pub thresholds: ApdexThresholds,
    /// Curve points at most.
    pub points: usize,
    /// The renderer (its templates parsed once, whatever the number of pages; it holds the
    /// pages' "generated at" time).
    pub renderer: Arc<HtmlRenderer>,
}

/// What a [`ReportRequest`] computed.
#[derive(Debug)]
pub struct ReportOutput {
    /// The run report (outline, details, ranges, error classes).
    pub report: RunReport,
    /// The curve, if asked for.
    pub curve: Option<Curve>,
    /// The SLA outcome, if rules were given.
    pub sla: Option<SlaOutcome>,
    /// The HTML page, if asked for.
    pub html: Option<String>,
    /// The Markdown summary, if asked for.
    pub markdown: Option<String>,
    /// The JUnit XML, if asked for and SLA rules were given.
    pub junit: Option<String>,
}

/// Why a report job failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The request itself cannot be computed (the caller's fault).
    #[error("{0}")]
    Request(String),
    /// A query failed.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// A page could not be rendered.
    #[error(transparent)]
    Render(#[from] ReportError),
    /// No run matches what a job across runs asked for (a trend's name or tag).
    #[error("{0}")]
    NoRuns(String),
    /// The store's catalog could not be read (or a run it was asked for does not exist).
    #[error(transparent)]
    Store(#[from] loadlake_store::StoreError),
}

impl HasFault for JobError {
    fn fault(&self) -> Fault {
        match self {
            JobError::Request(_) => Fault::User,
            JobError::Query(e) => e.fault(),
            JobError::Render(_) => Fault::Internal,
            JobError::NoRuns(_) => Fault::NotFound,
            JobError::Store(e) => e.fault(),
        }
    }
}

/// Computes what `request` asks for on run `run` (committed, or live if `engine` includes
/// live runs).
pub async fn run_report_job(
    engine: &QueryEngine,
    run: &RunManifest,
    request: &ReportRequest,
) -> Result<ReportOutput, JobError> {
    request.check()?;
    let run_id = run.run_id.as_str();
    let method = request.method;
    let report = run_report(
        engine,
        run_id,
        method,
        &request.extra_percentiles,
        &request.ranges,
        planned_cases(run),
    )
    .await?;
    let curve = match &request.curve {
        Some(options) => Some(curve(engine, run_id, options).await?),
        None => None,
    };
    let sla = match &request.sla {
        Some(rules) => Some(evaluate(engine, run_id, rules, method).await?),
        None => None,
    };
    let html = match &request.pages.html {
        Some(settings) => {
            Some(html_page(engine, settings, method, run, &report, sla.as_ref()).await?)
        }
        None => None,
    };
    let markdown = request
        .pages
        .markdown
        .then(|| crate::markdown::summary(&run.name, &report, sla.as_ref()));
    let junit = match (&sla, request.pages.junit) {
        (Some(outcome), true) => Some(junit_xml(&[(suite_run(run), outcome)])?),
        _ => None,
    };
    Ok(ReportOutput {
        report,
        curve,
        sla,
        html,
        markdown,
        junit,
    })
}

/// Regular, enabled thread groups of the run's attached plan: the cases a run was planned with,
/// counted in the outline even when one of them recorded nothing.
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

/// The HTML page of one run: the report plus its curve (at most `settings.points` points) and
/// the JMeter dashboard tables.
async fn html_page(
    engine: &QueryEngine,
    settings: &HtmlSettings,
    method: PercentileMethod,
    run: &RunManifest,
    report: &RunReport,
    sla: Option<&SlaOutcome>,
) -> Result<String, JobError> {
    let run_id = run.run_id.as_str();
    let options = CurveOptions {
        interval_ms: 1000,
        max_points: Some(settings.points.max(1)),
        case: None,
        request: None,
        method,
    };
    let curve = curve(engine, run_id, &options).await?;
    let jmeter = jmeter_section(engine, run_id, method, &settings.thresholds).await?;
    Ok(settings.renderer.run_page(&RunPage {
        run,
        report,
        curve: &curve,
        jmeter: &jmeter,
        sla,
    })?)
}

/// The JMeter-dashboard tables of run `run_id` as a run page shows them (HTML report, web
/// console): Statistics with [`STATISTICS_PERCENTILES`] by the exact `method`, APDEX with
/// `thresholds`, Errors and Top 5 errors.
pub async fn jmeter_section(
    engine: &QueryEngine,
    run_id: &str,
    method: PercentileMethod,
    thresholds: &ApdexThresholds,
) -> Result<JmeterSection, JobError> {
    let statistics = jmeter_statistics(
        engine,
        run_id,
        STATISTICS_PERCENTILES,
        StatisticsMethod::Exact(method),
    )
    .await?;
    let apdex = apdex(engine, run_id, thresholds).await?;
    let (errors, top5) = errors(engine, run_id).await?;
    Ok(JmeterSection {
        percentiles: STATISTICS_PERCENTILES,
        statistics,
        apdex,
        errors,
        top5,
    })
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
