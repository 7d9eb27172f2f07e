//! `POST /api/v1/sql` of the JSON API: one read-only SQL statement over the store (the tables
//! of docs/schema.md), answered as JSON rows — for the console's SQL box, scripts and
//! dashboards that speak JSON rather than Flight SQL. The query runs as Flight SQL's do: the
//! server's query engine (its memory limit, its workers if it coordinates any, the read-only
//! rule) under its query timeout.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tonic::Status;

use crate::Shared;
use crate::error::query_status;

/// Rows answered when the request names no `max_rows`.
pub(crate) const DEFAULT_MAX_ROWS: usize = 10_000;
/// The most rows one answer holds, whatever `max_rows` says (use Flight SQL for more).
pub(crate) const MAX_ROWS: usize = 100_000;

/// The request body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SqlRequest {
    /// One statement: SELECT, EXPLAIN, SHOW, DESCRIBE.
    sql: String,
    /// Rows to answer at most (default 10 000, at most 100 000); the rest is left out and
    /// `truncated` says so.
    max_rows: Option<usize>,
}

/// A result column.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SqlColumn {
    name: String,
    /// The Arrow type, as DataFusion prints it (`Int64`, `Utf8`, `Timestamp(ms, "UTC")`, …).
    r#type: String,
}

/// The answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SqlResponse {
    columns: Vec<SqlColumn>,
    /// One object per row, by column name; nulls are `null`, numbers numbers, timestamps
    /// ISO 8601 text, lists arrays (arrow-json's encoding, as `loadlake sql --format json`).
    #[schema(value_type = Vec<Object>)]
    rows: Vec<serde_json::Value>,
    /// Whether rows were left out (more than `max_rows`).
    truncated: bool,
}

/// `POST /api/v1/sql` with `{"sql": "...", "max_rows": N}`.
#[utoipa::path(post, path = "/api/v1/sql", tag = "sql", request_body = SqlRequest,
    responses((status = 200, description = "The rows", body = SqlResponse), crate::api_doc::ApiErrors))]
pub(crate) async fn sql(
    State(shared): State<Arc<Shared>>,
    body: Result<Json<SqlRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<SqlResponse>, crate::api::ApiError> {
    let Json(request) =
        body.map_err(|e| Status::invalid_argument(format!("request body: {}", e.body_text())))?;
    let max_rows = request.max_rows.unwrap_or(DEFAULT_MAX_ROWS).min(MAX_ROWS);
    let (schema, batches) = shared
        .timed(async {
            let engine = shared.engine().await?;
            engine
                .sql_with_params(&request.sql, Vec::new())
                .await
                .map_err(query_status)
        })
        .await?;
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let rows = json_rows(&batches, max_rows)
        .map_err(|e| Status::internal(format!("encoding the rows as JSON: {e}")))?;
    Ok(Json(SqlResponse {
        columns: schema
            .fields()
            .iter()
            .map(|f| SqlColumn {
                name: f.name().clone(),
                r#type: f.data_type().to_string(),
            })
            .collect(),
        rows,
        truncated: total > max_rows,
    }))
}

/// The first `max_rows` rows of `batches` as JSON objects (every column present, nulls too).
fn json_rows(
    batches: &[RecordBatch],
    max_rows: usize,
) -> Result<Vec<serde_json::Value>, Box<dyn std::error::Error>> {
    let mut writer = arrow::json::WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, arrow::json::writer::JsonArray>(Vec::new());
    let mut left = max_rows;
    for batch in batches {
        if left == 0 {
            break;
        }
        let take = batch.num_rows().min(left);
        writer.write(&batch.slice(0, take))?;
        left -= take;
    }
    writer.finish()?;
    let bytes = writer.into_inner();
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    Ok(serde_json::from_slice(&bytes)?)
}
