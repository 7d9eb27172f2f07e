//! `time_scale()`: how many of the session's `samples` time units make one millisecond — 1, or
//! 1000 after [`crate::QueryEngine::use_microseconds`]. Queries that add a duration to `ts`
//! (whole ms) divide by it: `cast(ts AS BIGINT) + elapsed_ms / time_scale()`.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};

/// The function, answering `scale`.
pub(crate) fn time_scale_udf(scale: i64) -> ScalarUDF {
    create_udf(
        "time_scale",
        vec![],
        DataType::Int64,
        Volatility::Immutable,
        Arc::new(move |_| Ok(ColumnarValue::Scalar(ScalarValue::Int64(Some(scale))))),
    )
}
