//! The order rows are written in a part: by (`ts`, `row`), nulls first. JMeter writes rows as
//! samples end, so a part is nearly in start order but rarely exactly.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Int64Type, TimestampMillisecondType};
use arrow::error::ArrowError;
use loadlake_schema::col;

use crate::error::StoreError;

/// A row's sort key: its `ts` (null first), its `row`, and its position in the part.
type Key = (Option<i64>, i64, u32);

/// The positions of the rows of `batches` (counted through the batches one after another) in
/// (`ts`, `row`) order, nulls first; `None` when already in that order.
pub(crate) fn sorted_order(batches: &[RecordBatch]) -> Result<Option<Vec<u32>>, StoreError> {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if u32::try_from(rows).is_err() {
        return Err(ArrowError::InvalidArgumentError(format!(
            "a part of {rows} rows: a part holds fewer than 2^32"
        ))
        .into());
    }
    let mut keys: Vec<Key> = Vec::with_capacity(rows);
    for batch in batches {
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .cloned()
                .ok_or_else(|| ArrowError::SchemaError(format!("batch has no column {name}")))
        };
        let ts = column(col::TS)?;
        let ts = ts.as_primitive::<TimestampMillisecondType>();
        let row = column(col::ROW)?;
        let row = row.as_primitive::<Int64Type>();
        let first = keys.len();
        keys.extend((0..batch.num_rows()).map(|i| {
            (
                ts.is_valid(i).then(|| ts.value(i)),
                row.value(i),
                // Under 2^32 rows in all (checked above).
                (first + i) as u32,
            )
        }));
    }
    if keys
        .windows(2)
        .all(|w| (w[0].0, w[0].1) <= (w[1].0, w[1].1))
    {
        return Ok(None);
    }
    match packed_order(&keys) {
        Some(order) => Ok(Some(order)),
        None => {
            keys.sort_unstable();
            Ok(Some(keys.into_iter().map(|(_, _, at)| at).collect()))
        }
    }
}

/// Bits of a packed key that hold the row's position in the part.
const POSITION_BITS: u32 = 24;

/// The order of `keys` when each fits one `u64` — row numbers never fall along the part (one
/// decoder numbers them), the part has under 2^24 rows and its timestamps span under 2^39 ms:
/// then (`ts`, `row`) order is (`ts`, position) order, `ts - min + 1` (0 for null) above the
/// position, and a sort of plain integers gives it. `None` when a key does not fit.
fn packed_order(keys: &[Key]) -> Option<Vec<u32>> {
    if keys.len() >= 1 << POSITION_BITS || keys.windows(2).any(|w| w[0].1 > w[1].1) {
        return None;
    }
    let min = keys.iter().filter_map(|k| k.0).min()?;
    let max = keys.iter().filter_map(|k| k.0).max()?;
    let span = max.checked_sub(min)?.checked_add(1)?;
    if span >= 1 << (64 - POSITION_BITS - 1) {
        return None;
    }
    let mut packed: Vec<u64> = keys
        .iter()
        .enumerate()
        .map(|(pos, k)| {
            let ts = k.0.map_or(0, |t| (t - min + 1) as u64);
            (ts << POSITION_BITS) | pos as u64
        })
        .collect();
    packed.sort_unstable();
    let mask = (1u64 << POSITION_BITS) - 1;
    Some(
        packed
            .into_iter()
            .map(|p| keys[(p & mask) as usize].2)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order by comparing whole keys (the definition).
    fn by_definition(keys: &[Key]) -> Vec<u32> {
        let mut keys = keys.to_vec();
        keys.sort();
        keys.into_iter().map(|(_, _, at)| at).collect()
    }

    /// Keys of rows `first..`, with the given timestamps.
    fn keys(first: i64, ts: &[Option<i64>]) -> Vec<Key> {
        ts.iter()
            .enumerate()
            .map(|(n, &t)| (t, first + n as i64, n as u32))
            .collect()
    }

    #[test]
    fn packed_keys_sort_as_whole_keys() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut next = move || rng.u64(..);
        for _ in 0..500 {
            let n = (next() % 60) as usize + 1;
            let base = 1_700_000_000_000 + (next() % 1000) as i64;
            let ts: Vec<Option<i64>> = (0..n)
                .map(|_| (next() % 7 != 0).then(|| base + (next() % 20) as i64))
                .collect();
            let k = keys(100, &ts);
            if let Some(order) = packed_order(&k) {
                assert_eq!(order, by_definition(&k), "{ts:?}");
            } else {
                assert!(ts.iter().all(Option::is_none), "{ts:?}");
            }
        }
    }

    #[test]
    fn keys_that_do_not_pack_are_left_to_the_general_sort() {
        // Row numbers falling along the part.
        let mut k = keys(0, &[Some(5), Some(3)]);
        k[1].1 = -1;
        assert!(packed_order(&k).is_none());
        // A span of timestamps too wide for the packed key.
        assert!(packed_order(&keys(0, &[Some(i64::MIN), Some(i64::MAX)])).is_none());
        assert!(packed_order(&keys(0, &[Some(0), Some(1 << 40)])).is_none());
        // Extremes that still pack.
        let k = keys(0, &[Some(i64::MAX), None, Some(i64::MAX - 5)]);
        assert_eq!(packed_order(&k), Some(by_definition(&k)));
    }
}
