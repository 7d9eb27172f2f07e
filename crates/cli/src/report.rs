//! `loadlake report`: runs a report of crates/query and prints it.

use anyhow::{Context, bail};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use loadlake_query::QueryEngine;
use loadlake_query::functions::PercentileMethod;
use loadlake_query::reports::jmeter::{JmeterStatRow, StatisticsMethod, jmeter_statistics};
use loadlake_query::reports::jmeter_tables::{ApdexThresholds, apdex, errors};
use loadlake_query::reports::pts::scene_stats;
use loadlake_query::reports::run_report::{RunReport, run_report};
use loadlake_report::html::HtmlRenderer;
use loadlake_schema::RunManifest;
use loadlake_store::Store;

use crate::cli::{Format, Latency, PercentileMethodArg, ReportArgs, Stats};
use crate::exit::Gate;
use crate::target::RunTarget;

/// `latest` → the newest run's id; anything else must be a run of the store.
pub fn resolve_run(store: &Store, run: &str) -> anyhow::Result<String> {
    if run == "latest" {
        let runs = store.runs()?;
        return match runs.last() {
            Some(m) => Ok(m.run_id.to_string()),
            None => bail!("the store has no runs yet (loadlake import FILE)"),
        };
    }
    Ok(store.run(run)?.run_id.to_string())
}

pub async fn run(store: &Store, args: &ReportArgs) -> anyhow::Result<Gate> {
    let engine = QueryEngine::open(store)
        .await
        .context("opening the query engine")?;
    if args.files.all {
        if args.latency == Latency::Intended {
            engine.use_intended_latency().await?;
        }
        return crate::batch::run(store, &engine, args).await;
    }
    let manifest = RunTarget::find(store, args.run.as_deref().unwrap_or("latest"))?
        .prepare(&engine)
        .await?;
    if args.latency == Latency::Intended {
        engine.use_intended_latency().await?;
    }
    let run_id = manifest.run_id.to_string();
    match args.stats {
        Some(Stats::Jmeter | Stats::Dashboard) => {
            crate::report_files::check_no_files_with_stats(&args.files)?;
            print_jmeter_statistics(&engine, &run_id, args).await?;
            Ok(Gate::Pass)
        }
        Some(Stats::Pts) => {
            crate::report_files::check_no_files_with_stats(&args.files)?;
            let stats =
                scene_stats(&engine, &run_id, exact_method(args.percentile_method)?).await?;
            crate::report_render::print_scene_stats(&stats, args.format)?;
            Ok(Gate::Pass)
        }
        None => run_report_and_files(&engine, &manifest, args).await,
    }
}

/// The run report of `run_id` on stdout, or into the files asked for; SLA rules checked.
async fn run_report_and_files(
    engine: &QueryEngine,
    manifest: &RunManifest,
    args: &ReportArgs,
) -> anyhow::Result<Gate> {
    let run_id = manifest.run_id.as_str();
    let method = exact_method(args.percentile_method)?;
    let rules = args
        .files
        .sla
        .as_deref()
        .map(crate::report_files::load_sla)
        .transpose()?;
    let report = compute_report(engine, manifest, args).await?;
    let sla = crate::report_files::check_sla(engine, run_id, rules.as_deref(), method).await?;
    let files = &args.files;
    if files.html.is_none() && files.markdown.is_none() && files.junit.is_none() {
        crate::report_render::print_run_report(&report, sla.as_ref(), args.format)?;
    }
    if let Some(path) = &files.html {
        let renderer = HtmlRenderer::new(chrono::Utc::now())?;
        let settings = crate::report_files::PageSettings::from_args(args)?;
        let page = crate::report_files::html_page(
            engine,
            &renderer,
            &settings,
            manifest,
            &report,
            sla.as_ref(),
        )
        .await?;
        crate::report_files::write_file(path, &page)?;
    }
    if let Some(path) = &files.markdown {
        let md = loadlake_report::markdown::summary(&manifest.name, &report, sla.as_ref());
        crate::report_files::write_file(path, &md)?;
    }
    if let (Some(path), Some(outcome)) = (&files.junit, &sla) {
        let suite = crate::report_files::suite_run(manifest);
        let xml = loadlake_report::junit::junit_xml(&[(suite, outcome)])?;
        crate::report_files::write_file(path, &xml)?;
    }
    Ok(match &sla {
        Some(outcome) => {
            eprintln!("{}", crate::report_files::sla_summary(outcome));
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

/// APDEX thresholds of `--apdex-*`.
pub fn apdex_thresholds(args: &ReportArgs) -> anyhow::Result<ApdexThresholds> {
    Ok(ApdexThresholds {
        satisfied_ms: args.apdex_satisfied,
        tolerated_ms: args.apdex_tolerated,
        per_label: match &args.apdex_per_transaction {
            Some(spec) => ApdexThresholds::parse_overrides(spec)
                .map_err(|e| anyhow::anyhow!("--apdex-per-transaction {e}"))?,
            None => Vec::new(),
        },
    })
}

/// The exact percentile method of an argument (the dashboard estimator is for --stats jmeter).
pub fn exact_method(arg: PercentileMethodArg) -> anyhow::Result<PercentileMethod> {
    Ok(match arg {
        PercentileMethodArg::NearestRank => PercentileMethod::NearestRank,
        PercentileMethodArg::Linear => PercentileMethod::Linear,
        PercentileMethodArg::JmeterAggregate => PercentileMethod::JmeterAggregate,
        PercentileMethodArg::JmeterDashboard => {
            bail!("--percentile-method jmeter-dashboard applies to --stats jmeter only")
        }
    })
}

/// Percentiles are percents: 0 to 100.
fn check_percentiles(percentiles: &[f64]) -> anyhow::Result<()> {
    match percentiles.iter().find(|p| !(0.0..=100.0).contains(*p)) {
        Some(p) => bail!("--percentiles must be between 0 and 100, not {p}"),
        None => Ok(()),
    }
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

async fn print_jmeter_statistics(
    engine: &QueryEngine,
    run_id: &str,
    args: &ReportArgs,
) -> anyhow::Result<()> {
    let percentiles = args
        .percentiles
        .clone()
        .unwrap_or_else(|| vec![90.0, 95.0, 99.0]);
    let [p1, p2, p3] = percentiles[..] else {
        bail!("--percentiles takes exactly three values for the Statistics table, e.g. 90,95,99");
    };
    check_percentiles(&percentiles)?;
    let method = match args.percentile_method {
        PercentileMethodArg::JmeterDashboard => StatisticsMethod::Dashboard {
            window: args.window,
        },
        exact => StatisticsMethod::Exact(exact_method(exact)?),
    };
    let rows = jmeter_statistics(engine, run_id, [p1, p2, p3], method).await?;
    if args.stats == Some(Stats::Jmeter) && args.format == Format::Json {
        println!("{}", statistics_json(&rows)?);
        return Ok(());
    }
    let thresholds = apdex_thresholds(args)?;
    let apdex_rows = apdex(engine, run_id, &thresholds).await?;
    let (error_rows, top5) = errors(engine, run_id).await?;
    match args.format {
        Format::Json => {
            let all = serde_json::json!({
                "apdex": apdex_rows,
                "statistics": serde_json::from_str::<serde_json::Value>(&statistics_json(&rows)?)?,
                "errors": error_rows,
                "top5": top5,
            });
            println!("{}", serde_json::to_string_pretty(&all)?);
        }
        Format::Table => {
            println!("{}", crate::report_render::apdex_table(&apdex_rows));
            println!("{}", statistics_table(&rows, [p1, p2, p3]));
            println!("{}", crate::report_render::errors_table(&error_rows));
            println!("{}", crate::report_render::top5_table(&top5));
        }
        Format::Csv => bail!("--format csv is not available for --stats jmeter; use table or json"),
    }
    Ok(())
}

/// JMeter's `statistics.json`: an object keyed by label, plus "Total".
fn statistics_json(rows: &[JmeterStatRow]) -> anyhow::Result<String> {
    let mut object = serde_json::Map::new();
    for r in rows {
        object.insert(r.transaction.clone(), serde_json::to_value(r)?);
    }
    Ok(serde_json::to_string_pretty(&object)?)
}

fn statistics_table(rows: &[JmeterStatRow], p: [f64; 3]) -> Table {
    let num = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_default();
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "Label".to_string(),
        "#Samples".into(),
        "FAIL".into(),
        "Error %".into(),
        "Average".into(),
        "Min".into(),
        "Max".into(),
        "Median".into(),
        format!("{}th pct", p[0]),
        format!("{}th pct", p[1]),
        format!("{}th pct", p[2]),
        "Transactions/s".into(),
        "Received KB/s".into(),
        "Sent KB/s".into(),
    ]);
    for r in rows {
        t.add_row(vec![
            r.transaction.clone(),
            r.sample_count.to_string(),
            r.error_count.to_string(),
            format!("{:.2}%", r.error_pct),
            num(r.mean_res_time),
            num(r.min_res_time),
            num(r.max_res_time),
            num(r.median_res_time),
            num(r.pct1_res_time),
            num(r.pct2_res_time),
            num(r.pct3_res_time),
            num(r.throughput),
            num(r.received_k_bytes_per_sec),
            num(r.sent_k_bytes_per_sec),
        ]);
    }
    t
}
