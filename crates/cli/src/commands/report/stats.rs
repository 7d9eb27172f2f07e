//! `report --stats jmeter | dashboard`: JMeter's Statistics table (and with `dashboard` its
//! APDEX, Errors and Top 5 errors tables) as text or JSON (`statistics.json`'s shape).

use anyhow::bail;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use loadlake_query::reports::jmeter::{JmeterStatRow, StatisticsMethod, jmeter_statistics};
use loadlake_query::reports::jmeter_tables::{apdex, errors};
use loadlake_query::{QueryEngine, TimeUnit};

use loadlake_query::functions::PercentileMethod;

use crate::args::{Format, ReportArgs, Stats, apdex_thresholds, exact_method};

/// Prints the JMeter tables of `run_id` on stdout.
pub(super) async fn print_jmeter_statistics(
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
    loadlake_report::job::check_percentiles(&percentiles)?;
    let method = match args.percentile_method {
        PercentileMethod::Legacy => StatisticsMethod::Dashboard {
            window: args.window,
        },
        exact => StatisticsMethod::Exact(exact_method(exact)?),
    };
    let rows = jmeter_statistics(engine, run_id, [p1, p2, p3], method).await?;
    let unit = engine.time_unit();
    if args.stats == Some(Stats::Jmeter) && args.format == Format::Json {
        println!("{}", statistics_json(&rows)?);
        return Ok(());
    }
    let thresholds = apdex_thresholds(args)?;
    let apdex_rows = apdex(engine, run_id, &thresholds).await?;
    let (error_rows, top5) = errors(engine, run_id).await?;
    match args.format {
        Format::Json => {
            let mut all = serde_json::json!({
                "apdex": apdex_rows,
                "statistics": serde_json::from_str::<serde_json::Value>(&statistics_json(&rows)?)?,
                "errors": error_rows,
                "top5": top5,
            });
            if let (false, Some(object)) = (unit.is_ms(), all.as_object_mut()) {
                object.insert("timeUnit".into(), unit.as_str().into());
            }
            println!("{}", serde_json::to_string_pretty(&all)?);
        }
        Format::Table => {
            println!("{}", crate::render::apdex_table(&apdex_rows));
            println!("{}", statistics_table(&rows, [p1, p2, p3], unit));
            println!("{}", crate::render::errors_table(&error_rows));
            println!("{}", crate::render::top5_table(&top5));
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

/// JMeter's Statistics table; its times in `unit`, named in the time headers when not ms
/// (JMeter's headers have no unit: they are ms).
fn statistics_table(rows: &[JmeterStatRow], p: [f64; 3], unit: TimeUnit) -> Table {
    let num = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_default();
    let timed = |name: String| match unit {
        TimeUnit::Ms => name,
        TimeUnit::Us => format!("{name} ({})", unit.symbol()),
    };
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "Label".to_string(),
        "#Samples".into(),
        "FAIL".into(),
        "Error %".into(),
        timed("Average".into()),
        timed("Min".into()),
        timed("Max".into()),
        timed("Median".into()),
        timed(format!("{}th pct", p[0])),
        timed(format!("{}th pct", p[1])),
        timed(format!("{}th pct", p[2])),
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
