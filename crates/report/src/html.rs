//! Self-contained HTML pages (minijinja templates in `templates/`, styles, scripts and uPlot
//! inlined from `assets/`): one run's report, the batch index, a comparison, a trend. The pages
//! load nothing from the network; charts read their data from one embedded JSON block holding
//! only aggregated curves, never samples.

use chrono::{DateTime, Utc};
use loadlake_query::TimeUnit;
use loadlake_query::reports::curve::Curve;
use loadlake_query::reports::jmeter::JmeterStatRow;
use loadlake_query::reports::jmeter_tables::{ApdexRow, ErrorRow, Top5Row};
use loadlake_query::reports::run_report::RunReport;
use loadlake_query::reports::sla::SlaOutcome;
use loadlake_query::reports::trend::Trend;
use loadlake_schema::RunManifest;
use minijinja::value::Serde;
use minijinja::{Environment, Value};
use serde::Serialize;

use crate::ReportError;
use crate::compare::Comparison;

/// The templates, compiled into the binary.
const TEMPLATES: [(&str, &str); 6] = [
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("report.html", include_str!("../templates/report.html")),
    ("index.html", include_str!("../templates/index.html")),
    ("compare.html", include_str!("../templates/compare.html")),
    ("trend.html", include_str!("../templates/trend.html")),
];

/// The vendored uPlot chart library (scripts/vendor-uplot.sh), for pages that draw charts:
/// these reports, and the server's console.
pub const UPLOT_JS: &str = include_str!("../assets/vendor/uPlot.iife.min.js");
/// uPlot's stylesheet.
pub const UPLOT_CSS: &str = include_str!("../assets/vendor/uPlot.min.css");

/// Inlined into every page, by the name the templates use.
const ASSETS: [(&str, &str); 4] = [
    ("uplot_js", UPLOT_JS),
    ("uplot_css", UPLOT_CSS),
    ("report_js", include_str!("../assets/report.js")),
    ("report_css", include_str!("../assets/report.css")),
];

/// The JMeter-dashboard tables of a run page.
#[derive(Debug, Clone, Serialize)]
pub struct JmeterSection {
    /// The three percentiles of the Statistics table (column headers).
    pub percentiles: [f64; 3],
    pub statistics: Vec<JmeterStatRow>,
    pub apdex: Vec<ApdexRow>,
    pub errors: Vec<ErrorRow>,
    pub top5: Vec<Top5Row>,
}

/// Everything one run's page shows.
pub struct RunPage<'a> {
    pub run: &'a RunManifest,
    pub report: &'a RunReport,
    /// The run's curve, already limited to a few hundred points.
    pub curve: &'a Curve,
    pub jmeter: &'a JmeterSection,
    pub sla: Option<&'a SlaOutcome>,
}

/// One line of the batch index.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexEntry {
    pub run_id: String,
    pub name: String,
    pub tags: std::collections::BTreeMap<String, String>,
    pub status: String,
    pub start_time: Option<i64>,
    pub duration: Option<f64>,
    pub requests: u64,
    pub success_rate: Option<f64>,
    pub average_resp_time: Option<f64>,
    pub tp95: Option<f64>,
    pub tps: Option<f64>,
    pub sla_passed: Option<bool>,
    /// The run's page, relative to the index.
    pub href: String,
}

/// Renders loadlake's HTML pages.
pub struct HtmlRenderer {
    env: Environment<'static>,
    generated_at: String,
}

impl std::fmt::Debug for HtmlRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HtmlRenderer")
            .field("generated_at", &self.generated_at)
            .finish_non_exhaustive()
    }
}

impl HtmlRenderer {
    /// A renderer whose pages say they were generated `now`.
    pub fn new(now: DateTime<Utc>) -> Result<HtmlRenderer, ReportError> {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .map_err(|source| ReportError::Template {
                    template: name,
                    source,
                })?;
        }
        env.add_filter("num", num);
        env.add_filter("int", int);
        env.add_filter("pct", pct);
        env.add_filter("ms_time", ms_time);
        env.add_filter("tojson_safe", tojson_safe);
        Ok(HtmlRenderer {
            env,
            generated_at: now.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        })
    }

    /// One run's report page.
    pub fn run_page(&self, page: &RunPage<'_>) -> Result<String, ReportError> {
        let run = page.run;
        let curve = curve_columns(page.curve)?;
        self.render(
            "report.html",
            serde_json::json!({
                "title": format!("{} — {}", run.name, run.run_id),
                "run": {
                    "run_id": run.run_id.to_string(),
                    "name": run.name,
                    "tags": run.tags,
                    "status": run.status,
                    "sources": run.sources,
                    "samples": run.samples,
                    "errors": run.errors,
                    "first_ts_ms": run.first_ts_ms,
                    "last_ts_ms": run.last_ts_ms,
                    "imported_at": run.imported_at,
                },
                "report": page.report,
                "curve": curve,
                "jmeter": page.jmeter,
                "sla": page.sla,
                "data": { "curve": curve, "timeUnit": page.report.time_unit.as_str() },
            }),
        )
    }

    /// The batch index of several run pages, whose response times are in `unit`.
    pub fn index_page(
        &self,
        title: &str,
        runs: &[IndexEntry],
        unit: TimeUnit,
    ) -> Result<String, ReportError> {
        self.render(
            "index.html",
            serde_json::json!({ "title": title, "runs": runs, "unit": unit.symbol() }),
        )
    }

    /// A comparison of two runs; each time metric names its unit (`tp95 (µs)`, `tp95 (ms)`).
    pub fn compare_page(&self, comparison: &Comparison) -> Result<String, ReportError> {
        let title = format!(
            "{} vs {}",
            comparison.candidate.run_id, comparison.baseline.run_id
        );
        let unit = comparison.time_unit.symbol();
        let labels: std::collections::BTreeMap<&str, String> = comparison
            .rows
            .iter()
            .map(|r| (r.metric, comparison.metric_with_unit(r.metric)))
            .collect();
        self.render(
            "compare.html",
            serde_json::json!({
                "title": title,
                "comparison": comparison,
                "unit": unit,
                "metricLabels": labels,
            }),
        )
    }

    /// A metric across runs; the chart's y axis and the value column name the metric's unit.
    pub fn trend_page(&self, title: &str, trend: &Trend) -> Result<String, ReportError> {
        let label = trend.value_label();
        self.render(
            "trend.html",
            serde_json::json!({
                "title": title,
                "trend": trend,
                "valueLabel": label,
                "data": { "trend": trend, "axisLabel": label },
            }),
        )
    }

    fn render(
        &self,
        template: &'static str,
        mut context: serde_json::Value,
    ) -> Result<String, ReportError> {
        let fail = |source| ReportError::Template { template, source };
        if let Some(object) = context.as_object_mut() {
            object.insert("generatedAt".into(), self.generated_at.clone().into());
            object.insert("version".into(), env!("CARGO_PKG_VERSION").into());
        }
        // The assets are this crate's own files: inlined verbatim, not escaped.
        let assets: std::collections::BTreeMap<&str, Value> = ASSETS
            .into_iter()
            .map(|(name, text)| (name, Value::from_safe_string(text.to_string())))
            .collect();
        let assets = Value::from(assets);
        let context = minijinja::context! { assets => assets, ..Value::from(Serde(&context)) };
        self.env
            .get_template(template)
            .and_then(|t| t.render(context))
            .map_err(fail)
    }
}

/// A curve as parallel arrays keyed by field name (what uPlot draws), from its points.
fn curve_columns(curve: &Curve) -> Result<serde_json::Value, ReportError> {
    let mut columns = serde_json::Map::new();
    for point in &curve.points {
        if let serde_json::Value::Object(fields) = serde_json::to_value(point)? {
            for (k, v) in fields {
                if let serde_json::Value::Array(values) = columns
                    .entry(k)
                    .or_insert_with(|| serde_json::Value::Array(Vec::new()))
                {
                    values.push(v);
                }
            }
        }
    }
    Ok(serde_json::json!({ "intervalMs": curve.interval_ms, "columns": columns }))
}

fn number(v: &Value) -> Option<f64> {
    if v.is_none() || v.is_undefined() {
        return None;
    }
    f64::try_from(v.clone()).ok()
}

/// `12.3456` → `12.35`; none → empty.
fn num(v: Value) -> String {
    number(&v).map(|v| format!("{v:.2}")).unwrap_or_default()
}

/// An integer as plain digits; none → empty.
fn int(v: Value) -> String {
    number(&v).map(|v| format!("{v:.0}")).unwrap_or_default()
}

/// A percent: `12.35%`; none → empty.
fn pct(v: Value) -> String {
    number(&v).map(|v| format!("{v:.2}%")).unwrap_or_default()
}

/// Milliseconds since the epoch → `2026-11-22 04:12:37.052 UTC`.
fn ms_time(v: Value) -> String {
    number(&v)
        .and_then(|ms| DateTime::<Utc>::from_timestamp_millis(ms as i64))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string())
        .unwrap_or_default()
}

/// JSON for a `<script type="application/json">` block: `<` is escaped so no `</script>` (or
/// comment opener) in a label can end the block.
fn tojson_safe(v: Value) -> Result<Value, minijinja::Error> {
    let text = serde_json::to_string(&v).map_err(|e| {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
    })?;
    Ok(Value::from_safe_string(text.replace('<', "\\u003c")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_format_like_the_json_report_rounded() {
        assert_eq!(num(Value::from(12.3456)), "12.35");
        assert_eq!(num(Value::from(())), "");
        assert_eq!(int(Value::from(42u64)), "42");
        assert_eq!(pct(Value::from(99.5)), "99.50%");
        assert_eq!(
            ms_time(Value::from(1_795_320_757_052i64)),
            "2026-11-22 04:12:37.052 UTC"
        );
    }

    #[test]
    fn embedded_json_cannot_close_its_script_block() {
        let v = Value::from(Serde(serde_json::json!({ "label": "</script><b>" })));
        let out = tojson_safe(v).unwrap();
        assert!(!out.to_string().contains("</script>"));
        assert!(out.to_string().contains("\\u003c/script>"));
    }
}
