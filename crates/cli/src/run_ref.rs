//! A RUN argument resolved: `latest` or an id to a run of the store ([`resolve_run`]), and the run
//! a command computes numbers for ([`RunTarget`]): a committed run, or a run still being written,
//! whose samples so far (the parts under `tmp/`) the query engine is then told to include.

use anyhow::bail;
use loadlake_query::QueryEngine;
use loadlake_schema::RunManifest;
use loadlake_store::{Store, now_ms};

/// A run found by id (or `latest`), committed or live.
pub(crate) struct RunTarget {
    /// The run's manifest, or for a live run a stand-in made from its live status.
    pub manifest: RunManifest,
    /// The run is still being written.
    pub live: bool,
}

impl RunTarget {
    /// `run` (`latest`: the newest committed run) among the committed runs, else among the runs
    /// being written in this store.
    pub(crate) fn find(store: &Store, run: &str) -> anyhow::Result<RunTarget> {
        let id = match run {
            "latest" => resolve_run(store, run)?,
            id => id.to_string(),
        };
        let (manifest, live) = store.run_or_live(&id, now_ms())?;
        Ok(RunTarget { manifest, live })
    }

    /// Makes `engine` see the run's samples (for a live run: the parts written so far, said on
    /// stderr); returns its manifest.
    pub(crate) async fn prepare(self, engine: &QueryEngine) -> anyhow::Result<RunManifest> {
        if self.live {
            eprintln!(
                "loadlake: run {} is still being written ({}): using the samples written so far",
                self.manifest.run_id,
                self.manifest.tags.get("live").map_or("", String::as_str)
            );
            engine.include_live_runs().await?;
        }
        Ok(self.manifest)
    }

    /// A fresh engine on `store` prepared for run `run`; returns it and the run's id.
    pub(crate) async fn open(store: &Store, run: &str) -> anyhow::Result<(QueryEngine, String)> {
        let target = RunTarget::find(store, run)?;
        let engine = crate::engine::open_engine(store).await?;
        let manifest = target.prepare(&engine).await?;
        Ok((engine, manifest.run_id.to_string()))
    }
}

/// `latest` → the newest run's id; anything else must be a run of the store.
pub(crate) fn resolve_run(store: &Store, run: &str) -> anyhow::Result<String> {
    if run == "latest" {
        let runs = store.runs()?;
        return match runs.last() {
            Some(m) => Ok(m.run_id.to_string()),
            None => bail!("the store has no runs yet (loadlake import FILE)"),
        };
    }
    Ok(store.run(run)?.run_id.to_string())
}
