//! `loadlake trend`: one metric across the last runs with a name or tag (crates/report's
//! [`trend_job`] over crates/query's trend, as the JSON API's `/api/v1/trend`).

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use loadlake_query::reports::trend::Trend;
use loadlake_report::across::{TrendRequest, trend_job};
use loadlake_report::html::HtmlRenderer;
use loadlake_store::Store;

use crate::args::exact_method;
use crate::args::{Resolution, TrendArgs, TrendFormat};

pub(crate) async fn show_trend(store: &Store, args: &TrendArgs) -> anyhow::Result<()> {
    let request = TrendRequest {
        name: args.name.clone(),
        tag: args.tag.clone(),
        metric: args.metric.clone(),
        case: args.case.clone(),
        request: args.request.clone(),
        last: args.last,
        method: exact_method(args.percentile_method)?,
    };
    let engine = crate::engine::open_engine(store).await?;
    if args.resolution == Resolution::Us {
        engine.use_microseconds().await?;
    }
    let t = trend_job(&engine, store, &request).await?;
    let scope = request.scope();
    match args.format {
        TrendFormat::Json => println!("{}", serde_json::to_string_pretty(&t)?),
        TrendFormat::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            // A value in µs says so in its column's name, as the samples' `elapsed_us`.
            let value = if t.time_unit.is_ms() {
                "value"
            } else {
                "value_us"
            };
            w.write_record(["run_id", "name", "start_time", value, "samples"])?;
            for p in &t.points {
                w.serialize((&p.run_id, &p.name, p.start_time, p.value, p.samples))?;
            }
            w.flush()?;
        }
        TrendFormat::Html => {
            let title = format!("{} of {}", args.metric, scope.describe());
            print!(
                "{}",
                HtmlRenderer::new(chrono::Utc::now())?.trend_page(&title, &t)?
            );
        }
        TrendFormat::Table => println!("{}", table(&t)),
    }
    Ok(())
}

fn table(t: &Trend) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    // ms tables read as before; a value in µs names its unit.
    let metric = if t.time_unit.is_ms() {
        t.metric.clone()
    } else {
        t.value_label()
    };
    table.set_header(vec!["Run", "Name", "Start", "Samples", metric.as_str()]);
    for p in &t.points {
        let start = p
            .start_time
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|s| s.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        table.add_row(vec![
            p.run_id.clone(),
            p.name.clone(),
            start,
            p.samples.to_string(),
            p.value.map(|v| format!("{v:.2}")).unwrap_or_default(),
        ]);
    }
    table
}
