//! The samples of one error class of a run, a page at a time (`queries/error_samples.sql`): the
//! drill-down from a report's error classes to the samples behind them. Pages are in source
//! order (`row`); the next page starts after the last row of this one, so paging stays cheap on
//! a large run and a page never repeats or skips a sample.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::DataType;
use datafusion::scalar::ScalarValue;

use super::f64_column;
use super::run_report::run_param;
use crate::QueryEngine;
use crate::error::QueryError;

/// Samples per page when the caller does not say.
pub const DEFAULT_PAGE: usize = 50;
/// The most samples one page holds.
pub const MAX_PAGE: usize = 1000;

/// One sample as the drill-down shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ErrorSample {
    /// The sample's `row` (0-based position in the run's source).
    pub row: i64,
    /// Start, ms since the epoch.
    pub ts_ms: Option<i64>,
    pub label: String,
    pub case_name: Option<String>,
    pub thread: Option<String>,
    pub elapsed_ms: Option<i64>,
    pub response_code: Option<String>,
    pub response_message: Option<String>,
    pub failure_message: Option<String>,
    pub error_class: String,
}

/// A page of samples.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ErrorSamplePage {
    pub samples: Vec<ErrorSample>,
    /// Where the next page starts (give it back as the page token); `None` on the last page.
    pub next_page_token: Option<String>,
}

/// Why a page token is refused.
#[derive(Debug, thiserror::Error)]
#[error("page token '{0}' is not one this server gave")]
pub struct BadPageToken(pub String);

/// The row a page token says the next page starts after (`""`: the first page).
pub fn parse_page_token(token: &str) -> Result<i64, BadPageToken> {
    if token.is_empty() {
        return Ok(-1);
    }
    token
        .parse::<i64>()
        .ok()
        .filter(|row| *row >= 0)
        .ok_or_else(|| BadPageToken(token.to_string()))
}

/// The samples of `error_class` in run `run_id` after row `after` (-1: from the first), at
/// most `page_size` (1 to [`MAX_PAGE`]).
pub async fn error_samples(
    engine: &QueryEngine,
    run_id: &str,
    error_class: &str,
    after: i64,
    page_size: usize,
) -> Result<ErrorSamplePage, QueryError> {
    let page_size = page_size.clamp(1, MAX_PAGE);
    let params = vec![
        run_param(run_id),
        ScalarValue::Utf8(Some(error_class.to_string())),
        ScalarValue::Int64(Some(after)),
        // One more than a page: whether there is a next page.
        ScalarValue::Int64(Some(page_size as i64 + 1)),
    ];
    let (_, batches) = engine
        .sql_with_params(crate::queries::ERROR_SAMPLES, params)
        .await?;
    let mut samples = Vec::new();
    for b in &batches {
        samples.extend(read_batch(b)?);
    }
    let more = samples.len() > page_size;
    samples.truncate(page_size);
    let next_page_token = match samples.last() {
        Some(last) if more => Some(last.row.to_string()),
        _ => None,
    };
    Ok(ErrorSamplePage {
        samples,
        next_page_token,
    })
}

fn read_batch(b: &RecordBatch) -> Result<Vec<ErrorSample>, QueryError> {
    let int = |name: &str| -> Result<Vec<Option<i64>>, QueryError> {
        Ok(f64_column(b, name)?
            .into_iter()
            .map(|v| v.map(|v| v as i64))
            .collect())
    };
    let (rows, ts, elapsed) = (int("row")?, int("ts_ms")?, int("elapsed_ms")?);
    let (label, case_name, thread) = (text(b, "label")?, text(b, "case_name")?, text(b, "thread")?);
    let (code, message) = (text(b, "response_code")?, text(b, "response_message")?);
    let (failure, class) = (text(b, "failure_message")?, text(b, "error_class")?);
    Ok((0..b.num_rows())
        .map(|i| ErrorSample {
            row: rows[i].unwrap_or_default(),
            ts_ms: ts[i],
            label: label[i].clone().unwrap_or_default(),
            case_name: case_name[i].clone(),
            thread: thread[i].clone(),
            elapsed_ms: elapsed[i],
            response_code: code[i].clone(),
            response_message: message[i].clone(),
            failure_message: failure[i].clone(),
            error_class: class[i].clone().unwrap_or_default(),
        })
        .collect())
}

/// Column `name` of `b` as optional strings (null stays `None`).
fn text(b: &RecordBatch, name: &str) -> Result<Vec<Option<String>>, QueryError> {
    let column = b.column_by_name(name).ok_or_else(|| {
        QueryError::Arrow(arrow::error::ArrowError::SchemaError(format!(
            "error_samples.sql has no column {name}"
        )))
    })?;
    let column = arrow::compute::cast(column, &DataType::Utf8)?;
    let column = column.as_string::<i32>();
    Ok((0..column.len())
        .map(|i| column.is_valid(i).then(|| column.value(i).to_string()))
        .collect())
}
