//! The `runs` table: one row per run manifest, read from the store when a query scans it.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use loadlake_store::Store;

use arrow::array::{
    ArrayRef, Int64Builder, ListBuilder, MapBuilder, StringBuilder, TimestampMillisecondBuilder,
};
use arrow::record_batch::RecordBatch;
use loadlake_schema::RunManifest;

/// Builds the `runs` table from manifests (columns documented in docs/schema.md).
pub(crate) fn runs_batch(runs: &[RunManifest]) -> Result<RecordBatch, arrow::error::ArrowError> {
    let ts = || TimestampMillisecondBuilder::new().with_timezone("UTC");
    let mut run_id = StringBuilder::new();
    let mut name = StringBuilder::new();
    let mut tags = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    let mut status = StringBuilder::new();
    let mut status_reason = StringBuilder::new();
    let mut source_files = ListBuilder::new(StringBuilder::new());
    let mut formats = ListBuilder::new(StringBuilder::new());
    let mut samples = Int64Builder::new();
    let mut errors = Int64Builder::new();
    let mut rejected = Int64Builder::new();
    let mut first_ts = ts();
    let mut last_ts = ts();
    let mut duration_ms = Int64Builder::new();
    let mut imported_at = ts();
    let mut parts = Int64Builder::new();
    let mut has_plan = arrow::array::BooleanBuilder::new();
    let mut tool = StringBuilder::new();
    let mut tool_version = StringBuilder::new();
    for m in runs {
        run_id.append_value(m.run_id.as_str());
        name.append_value(&m.name);
        for (k, v) in &m.tags {
            tags.keys().append_value(k);
            tags.values().append_value(v);
        }
        tags.append(true)?;
        status.append_value(m.status.as_str());
        status_reason.append_option(m.status_reason.as_deref());
        for s in &m.sources {
            source_files.values().append_value(&s.path);
            formats.values().append_value(&s.format);
        }
        source_files.append(true);
        formats.append(true);
        samples.append_value(m.samples as i64);
        errors.append_value(m.errors as i64);
        rejected.append_value(m.rejects.count as i64);
        first_ts.append_option(m.first_ts_ms);
        last_ts.append_option(m.last_ts_ms);
        duration_ms.append_option(m.duration_ms());
        imported_at.append_value(m.imported_at.timestamp_millis());
        parts.append_value(m.parts as i64);
        has_plan.append_value(m.plan.is_some());
        let mut tools: Vec<&str> = Vec::new();
        for s in &m.sources {
            let t = s.tool_name();
            if !tools.contains(&t) {
                tools.push(t);
            }
        }
        if tools.is_empty() {
            tool.append_null();
        } else {
            tool.append_value(tools.join(","));
        }
        tool_version.append_option(m.sources.iter().find_map(|s| s.tool_version.as_deref()));
    }
    // Every column nullable whatever the data: the schema is the same for every set of runs.
    let columns: Vec<(&str, ArrayRef, bool)> = vec![
        ("run_id", Arc::new(run_id.finish()), true),
        ("name", Arc::new(name.finish()), true),
        ("tags", Arc::new(tags.finish()), true),
        ("status", Arc::new(status.finish()), true),
        ("status_reason", Arc::new(status_reason.finish()), true),
        ("source_files", Arc::new(source_files.finish()), true),
        ("source_formats", Arc::new(formats.finish()), true),
        ("samples", Arc::new(samples.finish()), true),
        ("errors", Arc::new(errors.finish()), true),
        ("rejected", Arc::new(rejected.finish()), true),
        ("first_ts", Arc::new(first_ts.finish()), true),
        ("last_ts", Arc::new(last_ts.finish()), true),
        ("duration_ms", Arc::new(duration_ms.finish()), true),
        ("imported_at", Arc::new(imported_at.finish()), true),
        ("parts", Arc::new(parts.finish()), true),
        ("has_plan", Arc::new(has_plan.finish()), true),
        ("tool", Arc::new(tool.finish()), true),
        ("tool_version", Arc::new(tool_version.finish()), true),
    ];
    RecordBatch::try_from_iter_with_nullable(columns)
}

/// The `runs` table of a session: the store's manifests as of the scan, so that a session
/// whose queries never read `runs` (every per-run report) never lists the store's runs.
#[derive(Debug)]
pub(crate) struct RunsTable {
    store: Store,
    schema: SchemaRef,
}

impl RunsTable {
    pub(crate) fn new(store: Store) -> Result<RunsTable, arrow::error::ArrowError> {
        let schema = runs_batch(&[])?.schema();
        Ok(RunsTable { store, schema })
    }
}

#[async_trait::async_trait]
impl TableProvider for RunsTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let runs = self
            .store
            .runs()
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let batch = runs_batch(&runs)?;
        MemTable::try_new(Arc::clone(&self.schema), vec![vec![batch]])?
            .scan(state, projection, filters, limit)
            .await
    }
}
