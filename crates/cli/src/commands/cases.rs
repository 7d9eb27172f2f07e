//! `loadlake cases` and `loadlake detail`.

use anyhow::bail;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use loadlake_query::reports::cases::{case_detail, cases};
use loadlake_store::Store;

use crate::args::{CasesArgs, DetailArgs, Format, Resolution};
use crate::render::{details_csv, details_table};
use crate::run_ref::RunTarget;

pub(crate) async fn list_cases(store: &Store, args: &CasesArgs) -> anyhow::Result<()> {
    let (engine, run_id) = RunTarget::open(store, &args.run).await?;
    let list = cases(&engine, &run_id).await?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&list)?),
        Format::Csv => bail!("--format csv is not available for cases; use table or json"),
        Format::Table => {
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED);
            t.set_header(vec![
                "Case id",
                "Case",
                "Detail id",
                "Kind",
                "Name",
                "Samples",
            ]);
            for c in &list {
                let items = c
                    .requests
                    .iter()
                    .map(|i| ("request", i))
                    .chain(c.transactions.iter().map(|i| ("transaction", i)));
                for (kind, i) in items {
                    t.add_row(vec![
                        c.case_id.to_string(),
                        c.case_name.clone(),
                        i.detail_id.clone(),
                        kind.to_string(),
                        i.name.clone(),
                        i.samples.to_string(),
                    ]);
                }
            }
            println!("{t}");
        }
    }
    Ok(())
}

pub(crate) async fn show_detail(store: &Store, args: &DetailArgs) -> anyhow::Result<()> {
    let method = crate::args::exact_method(args.percentile_method)?;
    let (engine, run_id) = RunTarget::open(store, &args.run).await?;
    if args.resolution == Resolution::Us {
        engine.use_microseconds().await?;
    }
    let Some(detail) = case_detail(&engine, &run_id, &args.case, method).await? else {
        bail!(
            "run {run_id} has no case '{}' (see `loadlake cases {run_id}`)",
            args.case
        );
    };
    let rows: Vec<_> = detail
        .performance
        .iter()
        .chain(&detail.detail_datas)
        .chain(&detail.custom_transactions)
        .cloned()
        .collect();
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&detail)?),
        Format::Csv => details_csv(&rows)?,
        Format::Table => println!("{}", details_table(&rows, detail.time_unit)),
    }
    Ok(())
}
