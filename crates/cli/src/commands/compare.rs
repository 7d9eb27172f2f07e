//! `loadlake compare BASELINE CANDIDATE`: both runs' reports, compared by crates/report's
//! [`compare_job`] (as the JSON API's `/api/v1/compare`).

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use loadlake_report::across::compare_job;
use loadlake_report::compare::{CompareOptions, Comparison, Verdict};
use loadlake_report::html::HtmlRenderer;
use loadlake_store::Store;

use crate::args::exact_method;
use crate::args::{CompareArgs, CompareFormat, Resolution};
use crate::exit::Gate;
use crate::run_ref::resolve_run;

pub(crate) async fn compare_runs(store: &Store, args: &CompareArgs) -> anyhow::Result<Gate> {
    let method = exact_method(args.percentile_method)?;
    let engine = crate::engine::open_engine(store).await?;
    if args.resolution == Resolution::Us {
        engine.use_microseconds().await?;
    }
    let baseline = store.run(&resolve_run(store, &args.baseline)?)?;
    let candidate = store.run(&resolve_run(store, &args.candidate)?)?;
    let options = CompareOptions {
        threshold_pct: args.threshold,
        rate_threshold_points: args.rate_threshold,
        min_samples: args.min_samples,
    };
    let c = compare_job(&engine, &baseline, &candidate, method, options).await?;
    match args.format {
        CompareFormat::Json => println!("{}", serde_json::to_string_pretty(&c)?),
        CompareFormat::Html => print!(
            "{}",
            HtmlRenderer::new(chrono::Utc::now())?.compare_page(&c)?
        ),
        CompareFormat::Table => println!("{}", table(&c, args.all_rows)),
    }
    eprintln!(
        "{} regressions, {} improvements (threshold {}%, {} points of success rate, min {} samples)",
        c.regressions, c.improvements, args.threshold, args.rate_threshold, args.min_samples
    );
    Ok(if args.fail_on_regression {
        Gate::from_passed(c.regressions == 0)
    } else {
        Gate::Pass
    })
}

fn table(c: &Comparison, all_rows: bool) -> Table {
    let num = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_default();
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "Level",
        "Case",
        "Name",
        "Metric",
        "Baseline",
        "Candidate",
        "Delta",
        "Delta %",
        "Verdict",
    ]);
    let shown = c
        .rows
        .iter()
        .filter(|r| all_rows || matches!(r.verdict, Verdict::Regression | Verdict::Improvement));
    for r in shown {
        t.add_row(vec![
            r.level.clone(),
            r.case_name.clone(),
            r.name.clone(),
            c.metric_label(r.metric),
            num(r.baseline),
            num(r.candidate),
            num(r.delta),
            num(r.delta_pct),
            serde_json::to_value(r.verdict)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        ]);
    }
    t
}
