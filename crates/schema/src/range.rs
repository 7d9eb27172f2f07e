//! The plausible range of sample times and durations: one rule for every way samples come in
//! (the JTL CSV and XML decoders of `loadlake import` and `ImportFile`, and `StreamSamples`).
//!
//! A `ts` outside 1970-01-01 … 9999-12-31 or a duration longer than ten years is a broken
//! sender, not a measurement; refusing it keeps every sum the store and the queries make
//! (`ts + elapsed_ms`, a run's first and last second, its duration) far from `i64` overflow.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Int64Type, TimestampMillisecondType};

use crate::sample::col;

/// Earliest accepted `ts`: 1970-01-01T00:00:00.000Z, in epoch milliseconds.
pub const TS_MIN_MS: i64 = 0;

/// Latest accepted `ts`: 9999-12-31T23:59:59.999Z, in epoch milliseconds.
pub const TS_MAX_MS: i64 = 253_402_300_799_999;

/// Longest accepted duration (`elapsed_ms`, `latency_ms`, `connect_ms`, `idle_ms`,
/// `intended_elapsed_ms`), either sign: ten years of 365.25 days, in milliseconds.
pub const DURATION_MAX_MS: i64 = 315_576_000_000;

/// The duration columns of the sample schema that [`validate_batch`] checks.
pub const DURATION_COLUMNS: [&str; 5] = [
    col::ELAPSED_MS,
    col::LATENCY_MS,
    col::CONNECT_MS,
    col::IDLE_MS,
    col::INTENDED_ELAPSED_MS,
];

/// A value outside its plausible range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{value} is outside the plausible range {min} ..= {max}")]
pub struct RangeError {
    /// The value refused.
    pub value: i64,
    /// The smallest value accepted.
    pub min: i64,
    /// The largest value accepted.
    pub max: i64,
}

fn within(value: i64, min: i64, max: i64) -> Result<i64, RangeError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(RangeError { value, min, max })
    }
}

/// Checks a sample's start time (epoch ms) against [`TS_MIN_MS`] ..= [`TS_MAX_MS`].
pub fn check_ts(ms: i64) -> Result<i64, RangeError> {
    within(ms, TS_MIN_MS, TS_MAX_MS)
}

/// Checks a duration (ms) against ±[`DURATION_MAX_MS`].
pub fn check_duration(ms: i64) -> Result<i64, RangeError> {
    within(ms, -DURATION_MAX_MS, DURATION_MAX_MS)
}

/// A row of a batch with a value outside its plausible range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("row {index} of the batch (row number {row}): {field} {source}")]
pub struct RowRangeError {
    /// 0-based position of the row in its batch.
    pub index: usize,
    /// The row's `row` column (its number in the run as the sender gave it).
    pub row: i64,
    /// The column.
    pub field: &'static str,
    /// The value and the range.
    pub source: RangeError,
}

/// Checks every row of a batch in the sample schema: `ts` by [`check_ts`], the
/// [`DURATION_COLUMNS`] by [`check_duration`]; nulls pass. Columns missing from the batch or of
/// another type are not checked (the schema check is the caller's). The first bad row is the
/// error.
pub fn validate_batch(batch: &RecordBatch) -> Result<(), RowRangeError> {
    let row_of = |index: usize| {
        batch
            .column_by_name(col::ROW)
            .and_then(|c| c.as_primitive_opt::<Int64Type>())
            .filter(|r| index < r.len())
            .map_or(-1, |r| r.value(index))
    };
    let fail = |index: usize, field: &'static str, source: RangeError| RowRangeError {
        index,
        row: row_of(index),
        field,
        source,
    };
    if let Some(ts) = batch
        .column_by_name(col::TS)
        .and_then(|c| c.as_primitive_opt::<TimestampMillisecondType>())
    {
        for (i, v) in ts.iter().enumerate() {
            if let Some(v) = v {
                check_ts(v).map_err(|e| fail(i, col::TS, e))?;
            }
        }
    }
    for field in DURATION_COLUMNS {
        let Some(values) = batch
            .column_by_name(field)
            .and_then(|c| c.as_primitive_opt::<Int64Type>())
        else {
            continue;
        };
        if values.null_count() == values.len() {
            continue;
        }
        for (i, v) in values.iter().enumerate() {
            if let Some(v) = v {
                check_duration(v).map_err(|e| fail(i, field, e))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{SampleBatchBuilder, SampleRecord};

    #[test]
    fn bounds_are_the_calendar_and_ten_years() {
        // 9999-12-31T23:59:59.999Z by hand: 2 932 897 days from 1970-01-01 to 10000-01-01, minus 1 ms.
        assert_eq!(TS_MAX_MS, 2_932_897 * 86_400_000 - 1);
        assert_eq!(DURATION_MAX_MS, 36_525 * 86_400_000 / 10);
        assert_eq!(check_ts(0), Ok(0));
        assert_eq!(check_ts(1_795_000_000_000), Ok(1_795_000_000_000));
        assert!(check_ts(-1).is_err());
        assert!(check_ts(i64::MAX).is_err());
        assert!(check_ts(TS_MAX_MS + 1).is_err());
        assert_eq!(check_duration(-5), Ok(-5));
        let e = check_duration(1 << 62).unwrap_err();
        assert_eq!(
            (e.value, e.min, e.max),
            (1 << 62, -DURATION_MAX_MS, DURATION_MAX_MS)
        );
        assert!(check_duration(-(1 << 62)).is_err());
    }

    #[test]
    fn the_first_bad_row_is_named_with_its_field() {
        let mut b = SampleBatchBuilder::new(40);
        for (ts, elapsed) in [
            (Some(1_000), Some(5)),
            (None, None),
            (Some(2_000), Some(1 << 62)),
            (Some(i64::MAX), Some(1)),
        ] {
            let r = SampleRecord {
                ts_ms: ts,
                elapsed_ms: elapsed,
                label: "a",
                success: true,
                ..Default::default()
            };
            b.push(&r).unwrap();
        }
        let batch = b.finish().unwrap();
        // ts is checked before the durations: row 3's ts is the first error found.
        let e = validate_batch(&batch).unwrap_err();
        assert_eq!((e.index, e.row, e.field), (3, 43, "ts"));
        assert_eq!(e.source.value, i64::MAX);
        let e = validate_batch(&batch.slice(0, 3)).unwrap_err();
        assert_eq!((e.index, e.row, e.field), (2, 42, "elapsed_ms"));
        assert!(
            e.to_string()
                .contains("row 2 of the batch (row number 42): elapsed_ms")
        );
        assert!(validate_batch(&batch.slice(0, 2)).is_ok());
    }
}
