//! Scalar functions reading percentiles: `hist_percentile` over histograms, and the JMeter
//! dashboard compatibility pair `jmeter_window_percentile` / `jmeter_mean` over values in file
//! order; and `is_empty_transaction`, the rule that leaves empty transactions out of reports.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, Float64Builder};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

use super::histogram::{Histogram, PercentileMethod, SortedCounts};
use super::udaf::histogram_type;

fn f64_arg(a: &ArrayRef) -> Result<ArrayRef> {
    Ok(arrow::compute::cast(a, &DataType::Float64)?)
}

/// The argument as `List<Int64>` (values or a histogram), or an error naming the function.
fn int_list_arg(a: &ArrayRef, function: &str) -> Result<ArrayRef> {
    if !matches!(a.data_type(), DataType::List(_)) {
        return exec_err!(
            "{function} expects a list of integers (e.g. array_agg(elapsed_ms ORDER BY \"row\")), got {}",
            a.data_type()
        );
    }
    arrow::compute::cast(a, &histogram_type())
        .map_err(|e| datafusion::error::DataFusionError::Execution(format!("{function}: {e}")))
}

/// `hist_percentile(histogram, fraction [, method])`: fraction in [0, 1].
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct HistPercentile {
    signature: Signature,
}

impl HistPercentile {
    pub(super) fn new() -> Self {
        HistPercentile {
            signature: Signature::one_of(
                vec![
                    TypeSignature::Exact(vec![histogram_type(), DataType::Float64]),
                    TypeSignature::Exact(vec![histogram_type(), DataType::Float64, DataType::Utf8]),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for HistPercentile {
    fn name(&self) -> &str {
        "hist_percentile"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let hists = arrays[0].as_list::<i32>();
        let fractions = f64_arg(&arrays[1])?;
        let fractions = fractions.as_primitive::<Float64Type>();
        let mut out = Float64Builder::with_capacity(hists.len());
        for row in 0..hists.len() {
            let method = match arrays.get(2) {
                Some(m) if m.is_valid(row) => {
                    let name = m.as_string::<i32>().value(row);
                    match name.parse::<PercentileMethod>() {
                        Ok(method) => method,
                        Err(unknown) => return plan_err!("{unknown}"),
                    }
                }
                _ => PercentileMethod::NearestRank,
            };
            if hists.is_null(row) || fractions.is_null(row) {
                out.append_null();
                continue;
            }
            let p = fraction_at(fractions, row, "hist_percentile")?;
            let pairs = hists.value(row);
            let counts = SortedCounts::new(pairs.as_primitive::<Int64Type>().values());
            out.append_option(counts.quantile(p, method));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// The fraction argument of a percentile function at `row`: in [0, 1], like `percentile_cont`
/// and DuckDB's `quantile_cont` (0.95 for the 95th percentile). A percent such as 95 is refused
/// with a message saying so, never read as the 0.95th percentile or clamped.
fn fraction_at(fractions: &Float64Array, row: usize, function: &str) -> Result<f64> {
    let p = fractions.value(row);
    if (0.0..=1.0).contains(&p) {
        return Ok(p);
    }
    exec_err!(
        "{function} takes a fraction in [0, 1] like percentile_cont (0.95 for the 95th \
         percentile), got {p}"
    )
}

/// The values of row `row` of a `List<Int64>` (nulls skipped).
fn list_values(list: &ArrayRef, row: usize) -> Vec<i64> {
    let values = list.as_list::<i32>().value(row);
    let values = values.as_primitive::<Int64Type>();
    values.iter().flatten().collect()
}

/// `jmeter_window_percentile(values, fraction, window)`: commons-math LEGACY over the last
/// `window` values (JMeter's `jmeter.reportgenerator.statistic_window`, default 20000; ≤ 0 = all).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct JmeterWindowPercentile {
    signature: Signature,
}

impl JmeterWindowPercentile {
    pub(super) fn new() -> Self {
        JmeterWindowPercentile {
            signature: Signature::any(3, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for JmeterWindowPercentile {
    fn name(&self) -> &str {
        "jmeter_window_percentile"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let mut arrays = ColumnarValue::values_to_arrays(&args.args)?;
        arrays[0] = int_list_arg(&arrays[0], "jmeter_window_percentile")?;
        let fractions = f64_arg(&arrays[1])?;
        let fractions = fractions.as_primitive::<Float64Type>();
        let windows = arrow::compute::cast(&arrays[2], &DataType::Int64)?;
        let windows = windows.as_primitive::<Int64Type>();
        let mut out = Float64Builder::with_capacity(arrays[0].len());
        for row in 0..arrays[0].len() {
            if arrays[0].is_null(row) || fractions.is_null(row) {
                out.append_null();
                continue;
            }
            let p = fraction_at(fractions, row, "jmeter_window_percentile")?;
            let values = list_values(&arrays[0], row);
            let window = if windows.is_null(row) {
                0
            } else {
                windows.value(row)
            };
            let start = if window > 0 {
                values.len().saturating_sub(window as usize)
            } else {
                0
            };
            let mut h = Histogram::default();
            for v in &values[start..] {
                h.add(*v, 1);
            }
            let pairs = h.to_pairs();
            out.append_option(SortedCounts::new(&pairs).quantile(p, PercentileMethod::Legacy));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// `jmeter_mean(values)`: commons-math's streaming mean (m += (x − m) / k) in the given order,
/// which is what JMeter's dashboard prints (it differs from sum / n in the last digits).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct JmeterMean {
    signature: Signature,
}

impl JmeterMean {
    pub(super) fn new() -> Self {
        JmeterMean {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for JmeterMean {
    fn name(&self) -> &str {
        "jmeter_mean"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let mut arrays = ColumnarValue::values_to_arrays(&args.args)?;
        arrays[0] = int_list_arg(&arrays[0], "jmeter_mean")?;
        let means: Float64Array = (0..arrays[0].len())
            .map(|row| {
                if arrays[0].is_null(row) {
                    return None;
                }
                let values = list_values(&arrays[0], row);
                if values.is_empty() {
                    return None;
                }
                let mut m = 0.0f64;
                for (k, x) in values.iter().enumerate() {
                    m += (*x as f64 - m) / (k as f64 + 1.0);
                }
                Some(m)
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(means)))
    }
}

/// `hist_range_counts(histogram, boundaries)`: how many values fall in each half-open range
/// `[b(i-1), b(i))` of the ascending `boundaries` (ms), plus the open range `>= last`;
/// `boundaries.len() + 1` counts.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct HistRangeCounts {
    signature: Signature,
}

impl HistRangeCounts {
    pub(super) fn new() -> Self {
        HistRangeCounts {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for HistRangeCounts {
    fn name(&self) -> &str {
        "hist_range_counts"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(histogram_type())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let hists = int_list_arg(&arrays[0], "hist_range_counts")?;
        let boundaries = int_list_arg(&arrays[1], "hist_range_counts")?;
        let hists = hists.as_list::<i32>();
        let mut out = arrow::array::ListBuilder::new(arrow::array::Int64Builder::new());
        for row in 0..hists.len() {
            if hists.is_null(row) || boundaries.is_null(row) {
                out.append(false);
                continue;
            }
            let bounds = list_values(&boundaries, row);
            if bounds.windows(2).any(|w| w[0] >= w[1]) {
                return exec_err!("range boundaries must be ascending, got {bounds:?}");
            }
            let mut counts = vec![0i64; bounds.len() + 1];
            let pairs = hists.value(row);
            for pair in pairs.as_primitive::<Int64Type>().values().chunks_exact(2) {
                let bucket = bounds.partition_point(|b| *b <= pair[0]);
                counts[bucket] += pair[1];
            }
            out.values().append_slice(&counts);
            out.append(true);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// What an empty transaction's response message starts with: JMeter writes a Transaction
/// Controller sample even when none of its children ran ("Number of samples in transaction : 0,
/// number of failing samples : 0"); it carries nothing and reports leave it out.
pub(super) const EMPTY_TRANSACTION_MESSAGE: &str = "Number of samples in transaction : 0,";

/// `is_empty_transaction(response_message)`: true for an empty transaction's message, false
/// otherwise (NULL included), so `NOT is_empty_transaction(response_message)` keeps every other
/// row. The one definition of "empty transaction" for the SQL of `queries/`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct IsEmptyTransaction {
    signature: Signature,
}

impl IsEmptyTransaction {
    pub(super) fn new() -> Self {
        IsEmptyTransaction {
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for IsEmptyTransaction {
    fn name(&self) -> &str {
        "is_empty_transaction"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(messages) = arrays.first() else {
            return exec_err!("is_empty_transaction takes one argument");
        };
        let messages = arrow::compute::cast(messages, &DataType::Utf8)?;
        let empty: BooleanArray = messages
            .as_string::<i32>()
            .iter()
            .map(|m| Some(m.is_some_and(|m| m.starts_with(EMPTY_TRANSACTION_MESSAGE))))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(empty)))
    }
}
