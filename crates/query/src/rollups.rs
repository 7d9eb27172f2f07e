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

use datafusion::parquet::arrow::ArrowWriter;
use datafusion::scalar::ScalarValue;
use loadlake_schema::RunId;
use loadlake_store::StoreError;

use crate::QueryEngine;
use crate::error::QueryError;

impl QueryEngine {
    /// Whether this session's `samples` are the recorded ones, which rollups sum up. Sessions
    /// that read latency from the intended send time ([`QueryEngine::use_intended_latency`])
    /// compute from samples.
    pub fn rollups_apply(&self) -> Result<bool, QueryError> {
        Ok(!self.ctx.table_exist("samples_recorded")? && !self.ctx.table_exist("samples_ms")?)
    }

    /// Writes the rollup of every run of `run_ids` that has none yet. Only for committed runs:
    /// a run still being written would be summed up half.
    pub async fn ensure_rollups(&self, run_ids: &[&str]) -> Result<(), QueryError> {
        if !self.rollups_apply()? {
            return Err(QueryError::RollupLatency);
        }
        for id in run_ids {
            let id = RunId::parse(id).map_err(|_| StoreError::NoSuchRun(id.to_string()))?;
            let (store, run) = (self.store.clone(), id.clone());
            // The store's calls block (a request to object storage): off the async threads.
            let has = tokio::task::spawn_blocking(move || store.has_rollup(&run))
                .await
                .map_err(|e| QueryError::RollupStore(StoreError::Runtime(e.to_string())))?
                .map_err(QueryError::RollupStore)?;
            if !has {
                self.write_rollup(id).await?;
            }
        }
        Ok(())
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
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.put_rollup(&run_id, bytes))
            .await
            .map_err(|e| QueryError::RollupStore(StoreError::Runtime(e.to_string())))?
            .map_err(QueryError::RollupStore)
    }
}
