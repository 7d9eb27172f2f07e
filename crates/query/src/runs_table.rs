//! The `runs` table: one row per run manifest.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Int64Builder, ListBuilder, MapBuilder, StringBuilder, TimestampMillisecondBuilder,
};
use arrow::record_batch::RecordBatch;
use loadlake_schema::RunManifest;

/// Builds the `runs` table from manifests (columns documented in docs/schema.md).
pub fn runs_batch(runs: &[RunManifest]) -> Result<RecordBatch, arrow::error::ArrowError> {
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
    }
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("run_id", Arc::new(run_id.finish())),
        ("name", Arc::new(name.finish())),
        ("tags", Arc::new(tags.finish())),
        ("status", Arc::new(status.finish())),
        ("status_reason", Arc::new(status_reason.finish())),
        ("source_files", Arc::new(source_files.finish())),
        ("source_formats", Arc::new(formats.finish())),
        ("samples", Arc::new(samples.finish())),
        ("errors", Arc::new(errors.finish())),
        ("rejected", Arc::new(rejected.finish())),
        ("first_ts", Arc::new(first_ts.finish())),
        ("last_ts", Arc::new(last_ts.finish())),
        ("duration_ms", Arc::new(duration_ms.finish())),
        ("imported_at", Arc::new(imported_at.finish())),
        ("parts", Arc::new(parts.finish())),
        ("has_plan", Arc::new(has_plan.finish())),
    ];
    RecordBatch::try_from_iter(columns)
}
