//! `loadlake sql`: a read-only query over the store's tables, from the argument, stdin or a file,
//! printed as a table, JSON or CSV.

use loadlake_store::Store;

use crate::args::{Format, SqlArgs};
use crate::output::query_and_print;

/// The query of `loadlake sql`: the argument, stdin (`-`) or `--file`.
pub(crate) fn sql_text(args: &SqlArgs) -> anyhow::Result<String> {
    use anyhow::Context;
    use std::io::Read;
    match (&args.query, &args.file) {
        (_, Some(path)) => std::fs::read_to_string(path)
            .with_context(|| format!("reading the query from {}", path.display())),
        (Some(q), None) if q == "-" => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading the query from stdin")?;
            Ok(text)
        }
        (Some(q), None) => Ok(q.clone()),
        (None, None) => anyhow::bail!("give a query, `-` for stdin, or --file FILE"),
    }
}

/// `loadlake sql`: runs `query` (from [`sql_text`]) and prints its result on stdout.
pub(crate) async fn run_sql(store: &Store, query: &str, format: Format) -> anyhow::Result<()> {
    query_and_print(store, query, vec![], format).await
}
