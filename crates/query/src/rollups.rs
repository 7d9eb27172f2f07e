//! Run rollups: per committed run, the counters and exact millisecond histograms of each case,
//! label and kind (`queries/rollup.sql`), kept as `rollups/run_id=<id>/rollup.parquet`. A run's
//! samples never change once it is committed, and counts, sums, minima, maxima and histograms
//! merge without loss, so what is computed from rollups (`queries/scope_metrics_rollups.sql`:
//! trends across hundreds of runs) equals what the samples give, at the cost of reading a few
//! rows per run instead of every sample.
//!
//! A rollup is written the first time it is needed (by [`QueryEngine::ensure_rollups`]), into a
//! temporary file renamed into place: a reader sees the whole file or none, and two processes
//! computing the same rollup write the same content. Deleting a run hides and later removes its
//! rollup with its samples (crates/store's `deletion.rs`).

use std::fs::File;
use std::path::Path;

use datafusion::parquet::arrow::ArrowWriter;
use datafusion::scalar::ScalarValue;

use crate::QueryEngine;
use crate::error::QueryError;

/// The file name of a run's rollup inside its partition.
const ROLLUP_FILE: &str = "rollup.parquet";

impl QueryEngine {
    /// Whether this session's `samples` are the recorded ones, which rollups sum up. Sessions
    /// that read latency from the intended send time ([`QueryEngine::use_intended_latency`])
    /// compute from samples.
    pub fn rollups_apply(&self) -> Result<bool, QueryError> {
        Ok(!self.ctx.table_exist("samples_recorded")?)
    }

    /// Writes the rollup of every run of `run_ids` that has none yet. Only for committed runs:
    /// a run still being written would be summed up half.
    pub async fn ensure_rollups(&self, run_ids: &[&str]) -> Result<(), QueryError> {
        if !self.rollups_apply()? {
            return Err(QueryError::RollupLatency);
        }
        for id in run_ids {
            let dir = self.rollups_dir.join(format!("run_id={id}"));
            if !dir.join(ROLLUP_FILE).exists() {
                self.write_rollup(id, &dir).await?;
            }
        }
        Ok(())
    }

    /// Computes run `run_id`'s rollup and puts it in `dir` atomically.
    async fn write_rollup(&self, run_id: &str, dir: &Path) -> Result<(), QueryError> {
        let params = vec![ScalarValue::Utf8(Some(run_id.to_string()))];
        let (schema, batches) = self.sql_with_params(crate::queries::ROLLUP, params).await?;
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        // Not `*.parquet` while written: the `rollups` table lists only finished files.
        let tmp = dir.join(format!("rollup.tmp-{}", std::process::id()));
        let written = (|| {
            let file = File::create(&tmp).map_err(|e| io(&tmp, e))?;
            let mut writer = ArrowWriter::try_new(file, schema, None)?;
            for batch in &batches {
                writer.write(batch)?;
            }
            let file = writer.into_inner()?;
            file.sync_all().map_err(|e| io(&tmp, e))
        })();
        let renamed = written.and_then(|()| {
            let path = dir.join(ROLLUP_FILE);
            std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))
        });
        if renamed.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        renamed
    }
}

fn io(path: &Path, source: std::io::Error) -> QueryError {
    QueryError::RollupIo {
        path: path.display().to_string(),
        source,
    }
}
