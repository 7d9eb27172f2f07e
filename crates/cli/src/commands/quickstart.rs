//! `loadlake quickstart`: import `sample-data/` once, then print its runs and the Statistics table.

use anyhow::Context;
use clap::Parser;
use loadlake_store::Store;

use crate::args::{Cli, Command, Format, ImportArgs, ImportOutput, QuickstartArgs};
use crate::output::query_and_print;

fn import_args(files: Vec<std::path::PathBuf>, plan: Option<std::path::PathBuf>) -> ImportArgs {
    ImportArgs {
        files,
        mode: Default::default(),
        name: Some("sample-data checkout".into()),
        tags: vec!["source=sample-data".into()],
        columns: None,
        jmeter_version: None,
        delimiter: None,
        timestamp_format: None,
        timezone: "UTC".into(),
        input_format: None,
        plan,
        strict: false,
        max_errors: 1000,
        force: false,
        format: ImportOutput::Id,
    }
}

pub(crate) fn quickstart(
    store: &Store,
    args: &QuickstartArgs,
    rt: &tokio::runtime::Runtime,
) -> anyhow::Result<()> {
    let jtl = args.data.join("checkout.jtl");
    let jmx = args.data.join("checkout.jmx");
    let hash = loadlake_store::content_hash(&jtl).with_context(|| {
        format!(
            "{} is missing: run quickstart from the repository root",
            jtl.display()
        )
    })?;
    let run_id = match store.find_source_hash(&hash)? {
        Some(m) => {
            eprintln!(
                "{} is already in the store as run {}",
                jtl.display(),
                m.run_id
            );
            m.run_id
        }
        None => {
            let plan = jmx.is_file().then_some(jmx);
            let m = crate::commands::import::import_run(store, &import_args(vec![jtl], plan))?;
            eprintln!("imported {} samples as run {}", m.samples, m.run_id);
            m.run_id
        }
    };
    println!("Runs in {}:", store.describe());
    rt.block_on(query_and_print(
        store,
        loadlake_query::queries::RUNS,
        vec![],
        Format::Table,
    ))?;
    println!("\nRun {run_id}: JMeter Statistics table (exact percentiles):");
    // The same arguments as `loadlake report RUN --stats jmeter`, defaults included.
    let id = run_id.to_string();
    let cli = Cli::try_parse_from(["loadlake", "report", id.as_str(), "--stats", "jmeter"])?;
    let Command::Report(report) = cli.command else {
        anyhow::bail!("internal: `report` arguments did not parse as a report");
    };
    rt.block_on(crate::commands::report::report(store, &report))?;
    Ok(())
}
