//! `loadlake trend`: one metric across the last runs with a name or tag (crates/query's trend).

use anyhow::bail;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use loadlake_query::reports::scope::Scope;
use loadlake_query::reports::sla::Metric;
use loadlake_query::reports::trend::{Trend, trend};
use loadlake_report::html::HtmlRenderer;
use loadlake_schema::RunManifest;
use loadlake_store::{NameMatch, RunFilter, Store, parse_tag};

use crate::args::exact_method;
use crate::args::{TrendArgs, TrendFormat};

pub(crate) async fn show_trend(store: &Store, args: &TrendArgs) -> anyhow::Result<()> {
    let metric = Metric::parse(&args.metric).map_err(|e| anyhow::anyhow!("--metric: {e}"))?;
    if args.last == 0 {
        bail!("--last must be at least 1");
    }
    let filter = RunFilter {
        name: args.name.clone().map(NameMatch::Exact),
        tags: args
            .tag
            .as_deref()
            .map(parse_tag)
            .transpose()?
            .into_iter()
            .collect(),
        last: Some(args.last),
        ..RunFilter::default()
    };
    let runs = store.select_runs(&filter)?;
    let runs: Vec<&RunManifest> = runs.iter().collect();
    if runs.is_empty() {
        bail!("no run matches --name / --tag (see `loadlake runs`)");
    }
    let engine = crate::engine::open_engine(store).await?;
    let scope = Scope::of(args.case.as_deref(), args.request.as_deref());
    let method = exact_method(args.percentile_method)?;
    let t = trend(&engine, &runs, &scope, metric, &args.metric, method).await?;
    match args.format {
        TrendFormat::Json => println!("{}", serde_json::to_string_pretty(&t)?),
        TrendFormat::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            w.write_record(["run_id", "name", "start_time", "value", "samples"])?;
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
    table.set_header(vec!["Run", "Name", "Start", "Samples", t.metric.as_str()]);
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
