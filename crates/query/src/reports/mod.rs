//! Typed reports: each runs one SQL file of `queries/` and reads its rows into structs that the
//! CLI, the gRPC server and the renderers of crates/report format.

pub mod cases;
pub mod curve;
pub mod jmeter;
pub mod jmeter_tables;
pub mod pts;
pub mod run_report;
pub mod samples;
pub mod scope;
pub mod sla;
pub mod trend;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type};

use crate::error::QueryError;

/// Column `name` of `batch` as optional f64s (any numeric type).
pub(crate) fn f64_column(batch: &RecordBatch, name: &str) -> Result<Vec<Option<f64>>, QueryError> {
    let column = batch.column_by_name(name).ok_or_else(|| {
        QueryError::Arrow(arrow::error::ArrowError::SchemaError(format!(
            "report query has no column {name}"
        )))
    })?;
    let column = arrow::compute::cast(column, &DataType::Float64)?;
    let column = column.as_primitive::<Float64Type>();
    Ok((0..column.len())
        .map(|i| column.is_valid(i).then(|| column.value(i)))
        .collect())
}

/// Column `name` of `batch` as strings.
pub(crate) fn string_column(batch: &RecordBatch, name: &str) -> Result<Vec<String>, QueryError> {
    let column = batch.column_by_name(name).ok_or_else(|| {
        QueryError::Arrow(arrow::error::ArrowError::SchemaError(format!(
            "report query has no column {name}"
        )))
    })?;
    let column = arrow::compute::cast(column, &DataType::Utf8)?;
    let column = column.as_string::<i32>();
    Ok((0..column.len())
        .map(|i| column.value(i).to_string())
        .collect())
}
