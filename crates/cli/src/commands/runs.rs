//! `loadlake runs`: the runs of the store, newest first (the `runs` query of crates/query).

use loadlake_store::Store;

use crate::args::FormatArgs;
use crate::output::query_and_print;

/// `loadlake runs`: prints the store's runs on stdout.
pub(crate) async fn list_runs(store: &Store, args: &FormatArgs) -> anyhow::Result<()> {
    query_and_print(store, loadlake_query::queries::RUNS, vec![], args.format).await
}
