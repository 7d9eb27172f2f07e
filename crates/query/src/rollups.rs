//! Run rollups: per committed run, the counters and exact millisecond histograms of each case,
//! label and kind (`queries/rollup.sql`), kept as `rollups/run_id=<id>/rollup.parquet`. A run's
//! samples never change once it is committed, and counts, sums, minima, maxima and histograms
//! merge without loss, so what is computed from rollups (`queries/scope_metrics_rollups.sql`:
//! trends across hundreds of runs) equals what the samples give, at the cost of reading a few
//! rows per run instead of every sample.
//!
//! A rollup is written the first time it is needed (by [`QueryEngine::ensure_rollups`]); the
//! store keeps it whole or not at all ([`loadlake_store::Store::put_rollup`]: a renamed temporary file locally,
//! one PUT on object storage), and two processes computing the same rollup write the same
//! content. Deleting a run hides and later removes its rollup with its samples (crates/store's
//! `deletion.rs`).
//!
//! Reading one small file per run costs about 0.5–1 ms a run in listing, opening and planning,
//! more than the trend's query itself; so once [`CONSOLIDATE_AFTER`] runs have per-run rollups
//! that no consolidated rollup holds, [`QueryEngine::ensure_rollups`] writes a new consolidated
//! rollup ([`QueryEngine::consolidate_rollups`]): the rows of every existing run's rollup in one
//! file, with a `run_id` column, committed as a new generation (crates/store's
//! `merged_rollups.rs`: how concurrent consolidations and deleted runs stay correct). The
//! per-run files stay the source of truth; the `rollups` table reads each run from exactly one
//! of the two (`rollups_table.rs`).

use std::collections::BTreeSet;

use arrow::compute::{SortColumn, concat_batches, lexsort_to_indices, take_record_batch};
use arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::physical_plan::collect;
use datafusion::scalar::ScalarValue;
use loadlake_schema::{RunId, col};
use loadlake_store::{DELETED_RUN_GRACE, ORPHAN_GRACE, Store, StoreError};

use crate::QueryEngine;
use crate::error::QueryError;

/// How many existing runs with a per-run rollup outside the consolidated rollup make
/// [`QueryEngine::ensure_rollups`] consolidate (by default): enough that a consolidation (which rewrites the
/// rollups of every run) is rare, few enough that reading them one by one stays cheap.
pub const CONSOLIDATE_AFTER: usize = 32;

/// Rows per row group of a consolidated rollup: sorted by label, so a trend of one label
/// reads few of them.
const MERGED_ROW_GROUP_ROWS: usize = 256;

/// What [`QueryEngine::consolidate_rollups`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consolidation {
    /// Nothing to add or drop: the newest consolidated rollup holds every existing run's.
    UpToDate,
    /// A new generation was committed, holding the rollups of `runs` runs.
    Committed { generation: u64, runs: usize },
    /// Another process committed the same generation first (its file is as correct); nothing
    /// of this attempt was kept.
    LostRace,
}

impl QueryEngine {
    /// Whether this session's `samples` are the recorded ones, which rollups sum up. Sessions
    /// that read latency from the intended send time ([`QueryEngine::use_intended_latency`])
    /// compute from samples.
    pub fn rollups_apply(&self) -> Result<bool, QueryError> {
        Ok(!self.ctx.table_exist("samples_recorded")? && !self.ctx.table_exist("samples_ms")?)
    }

    /// Makes [`QueryEngine::ensure_rollups`] consolidate once `after` runs are read from their
    /// own rollup files (default [`CONSOLIDATE_AFTER`]), or never (`None`: benchmarks of the
    /// per-run files, tests).
    pub fn set_consolidate_after(&mut self, after: Option<usize>) {
        self.consolidate_after = after;
    }

    /// Runs `f` on the store off the async threads (its calls block on object storage).
    async fn on_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, QueryError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| QueryError::RollupStore(StoreError::Runtime(e.to_string())))?
            .map_err(QueryError::RollupStore)
    }

    /// Writes the rollup of every run of `run_ids` that has none yet. Only for committed runs:
    /// a run still being written would be summed up half. Consolidates the rollups when
    /// [`CONSOLIDATE_AFTER`] or more runs are read from their own files (a failure to is
    /// logged: the rollups are readable either way).
    pub async fn ensure_rollups(&self, run_ids: &[&str]) -> Result<(), QueryError> {
        if !self.rollups_apply()? {
            return Err(QueryError::RollupLatency);
        }
        let ids = run_ids
            .iter()
            .map(|id| RunId::parse(id).map_err(|_| StoreError::NoSuchRun(id.to_string())))
            .collect::<Result<Vec<_>, _>>()
            .map_err(QueryError::RollupStore)?;
        let snapshot = self.on_store(|s| s.rollup_snapshot(None)).await?;
        let mut outside = snapshot.per_run.len();
        for id in ids {
            if snapshot.covers(&id) {
                continue;
            }
            // A run that exists has no rollup if the snapshot found none; for another (deleted
            // since it was selected) ask, as its rollup is not listed.
            let has = !snapshot.live.contains(&id) && {
                let run = id.clone();
                self.on_store(move |s| s.has_rollup(&run)).await?
            };
            if !has {
                self.write_rollup(id).await?;
                outside += 1;
            }
        }
        if self.consolidate_after.is_some_and(|n| outside >= n)
            && let Err(e) = self.consolidate_rollups().await
        {
            tracing::warn!("consolidating the rollups: {e}");
        }
        Ok(())
    }

    /// Writes a new consolidated rollup holding the rollups of every existing run that has one
    /// (those of the current consolidated rollup and the per-run files outside it), unless the
    /// current one already holds exactly those; then removes superseded generations old enough.
    /// Safe to run from several processes at once, and to stop at any point.
    pub async fn consolidate_rollups(&self) -> Result<Consolidation, QueryError> {
        let snapshot = self.on_store(|s| s.rollup_snapshot(None)).await?;
        let mut runs: BTreeSet<RunId> = snapshot.merged_live();
        runs.extend(snapshot.per_run.iter().map(|(r, _)| r.clone()));
        let unchanged = snapshot.per_run.is_empty()
            && snapshot
                .merged
                .as_ref()
                .is_none_or(|m| m.runs.len() == runs.len());
        if unchanged {
            return Ok(Consolidation::UpToDate);
        }
        let state = self.ctx.state();
        let plan = self.rollups.plan(&state, &snapshot, None, None).await?;
        let batches = collect(plan, self.ctx.task_ctx()).await?;
        let bytes = merged_parquet(self.rollups.table_schema(), &batches)?;
        let after = snapshot.merged.as_ref().map(|m| m.generation);
        let count = runs.len();
        let committed = self
            .on_store(move |s| s.put_merged_rollup(after, &runs, bytes))
            .await?;
        if let Err(e) = self
            .on_store(|s| s.collect_merged_rollups(DELETED_RUN_GRACE, ORPHAN_GRACE))
            .await
        {
            tracing::warn!("removing superseded consolidated rollups: {e}");
        }
        Ok(match committed {
            Some(m) => Consolidation::Committed {
                generation: m.generation,
                runs: count,
            },
            None => Consolidation::LostRace,
        })
    }

    /// Computes run `run_id`'s rollup and has the store keep it.
    async fn write_rollup(&self, run_id: RunId) -> Result<(), QueryError> {
        let params = vec![ScalarValue::Utf8(Some(run_id.to_string()))];
        let (schema, batches) = self.sql_with_params(crate::queries::ROLLUP, params).await?;
        let mut writer = ArrowWriter::try_new(Vec::new(), schema, None)?;
        for batch in &batches {
            writer.write(batch)?;
        }
        let bytes = writer.into_inner()?;
        self.on_store(move |s| s.put_rollup(&run_id, bytes)).await
    }
}

/// A consolidated rollup's Parquet bytes: `batches` with the table's columns (`schema`),
/// sorted by label and run, zstd, in row groups of [`MERGED_ROW_GROUP_ROWS`].
fn merged_parquet(
    schema: arrow::datatypes::SchemaRef,
    batches: &[RecordBatch],
) -> Result<Vec<u8>, QueryError> {
    let batches = batches
        .iter()
        .map(|b| RecordBatch::try_new(schema.clone(), b.columns().to_vec()))
        .collect::<Result<Vec<_>, _>>()?;
    let all = concat_batches(&schema, &batches)?;
    let sort_by = ["label", col::RUN_ID]
        .iter()
        .map(|name| {
            Ok(SortColumn {
                values: all.column(schema.index_of(name)?).clone(),
                options: None,
            })
        })
        .collect::<Result<Vec<_>, arrow::error::ArrowError>>()?;
    let sorted = take_record_batch(&all, &lexsort_to_indices(&sort_by, None)?)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(MERGED_ROW_GROUP_ROWS))
        .build();
    let mut writer = ArrowWriter::try_new(Vec::new(), schema, Some(props))?;
    writer.write(&sorted)?;
    Ok(writer.into_inner()?)
}
