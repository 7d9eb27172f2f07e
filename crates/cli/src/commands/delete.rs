//! `loadlake delete RUN…`: runs leave the store's listings and new queries at once; their
//! samples follow after [`loadlake_store::DELETED_RUN_GRACE`], so queries already running finish
//! (the store's deletion, `crates/store/src/deletion.rs`).

use anyhow::{Context, bail};
use loadlake_store::{Store, now_ms};

use crate::args::DeleteArgs;

/// Deletes every run named, after checking that each is a committed run of the store: one
/// unknown or still running id deletes none. Prints each deleted id on stdout.
pub(crate) fn delete_runs(store: &Store, args: &DeleteArgs) -> anyhow::Result<()> {
    let now = now_ms();
    for run in &args.runs {
        let (manifest, live) = store
            .run_or_live(run, now)
            .with_context(|| format!("deleting run {run}"))?;
        if live {
            bail!(
                "run {} is still being written: stop it first (`loadlake stop {}`), then delete it",
                manifest.run_id,
                manifest.run_id
            );
        }
    }
    for run in &args.runs {
        store
            .delete_run(run)
            .with_context(|| format!("deleting run {run}"))?;
        println!("{run}");
    }
    Ok(())
}
