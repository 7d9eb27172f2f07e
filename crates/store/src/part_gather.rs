//! Gathering a part's rows from its pending batches into (ts, row) order, column by column.
//! It does what arrow's `interleave_record_batch` does (the tests hold it to that), cheaper for
//! the columns a part has: a column null in every pending batch becomes a [`null_column`] (no
//! work a row; a JMeter file leaves about a third of the schema null); integers and timestamps
//! are read from plain slices; strings — short, and nine columns of them — are copied 16 bytes
//! at a time instead of one `memcpy` call each; booleans bit by bit (`interleave` copies them
//! through `MutableArrayData`, one call a row when the rows come from all over the part). Other
//! types (the `vars` map) go to `interleave`.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, AsArray, BooleanArray, PrimitiveArray, StringArray,
};
use arrow::buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::compute::interleave;
use arrow::datatypes::{DataType, Int32Type, Int64Type, TimeUnit, TimestampMillisecondType};
use arrow::error::ArrowError;
use loadlake_schema::null_column;

/// The values of `sources` (one column of a part's pending batches) at `positions` ((batch,
/// row) pairs, each inside the sources, as `interleave` requires), in that order: equal to
/// arrow's `interleave` of them.
pub(crate) fn gather_column(
    sources: &[&dyn Array],
    positions: &[(usize, usize)],
) -> Result<ArrayRef, ArrowError> {
    let Some(first) = sources.first() else {
        return Err(ArrowError::InvalidArgumentError(
            "no arrays to gather values from".into(),
        ));
    };
    let data_type = first.data_type();
    if sources.iter().any(|s| s.data_type() != data_type) {
        // Left to interleave, which says what is wrong.
        return interleave(sources, positions);
    }
    if sources.iter().all(|s| s.null_count() == s.len()) {
        // Every value a null: so is every gathered one, wherever it comes from.
        return Ok(null_column(data_type, positions.len()));
    }
    match data_type {
        DataType::Int64 => Ok(gather_primitive::<Int64Type>(sources, positions)),
        DataType::Int32 => Ok(gather_primitive::<Int32Type>(sources, positions)),
        DataType::Timestamp(TimeUnit::Millisecond, _) => Ok(gather_primitive::<
            TimestampMillisecondType,
        >(sources, positions)),
        DataType::Utf8 => gather_strings(sources, positions),
        DataType::Boolean => Ok(gather_booleans(sources, positions)),
        _ => interleave(sources, positions),
    }
}

/// The validity of the gathered values; `None` when no source has a null.
fn gather_nulls(sources: &[&dyn Array], positions: &[(usize, usize)]) -> Option<NullBuffer> {
    let nulls: Vec<Option<&NullBuffer>> = sources.iter().map(|s| s.nulls()).collect();
    nulls.iter().any(Option::is_some).then(|| {
        NullBuffer::from(BooleanBuffer::collect_bool(positions.len(), |n| {
            let (b, i) = positions[n];
            nulls[b].is_none_or(|v| v.is_valid(i))
        }))
    })
}

/// [`gather_column`] of integers or timestamps (the type, a timestamp's zone included, is the
/// sources').
fn gather_primitive<T: ArrowPrimitiveType>(
    sources: &[&dyn Array],
    positions: &[(usize, usize)],
) -> ArrayRef {
    let values: Vec<&[T::Native]> = sources
        .iter()
        .map(|s| s.as_primitive::<T>().values().as_ref())
        .collect();
    let gathered: Vec<T::Native> = positions.iter().map(|&(b, i)| values[b][i]).collect();
    let array = PrimitiveArray::<T>::new(
        ScalarBuffer::from(gathered),
        gather_nulls(sources, positions),
    )
    .with_data_type(sources[0].data_type().clone());
    Arc::new(array)
}

/// [`gather_column`] of strings: the offsets, then the bytes of each value.
fn gather_strings(
    sources: &[&dyn Array],
    positions: &[(usize, usize)],
) -> Result<ArrayRef, ArrowError> {
    let arrays: Vec<&StringArray> = sources.iter().map(|s| s.as_string::<i32>()).collect();
    let offsets: Vec<&[i32]> = arrays.iter().map(|a| a.value_offsets()).collect();
    let bytes: Vec<&[u8]> = arrays.iter().map(|a| a.value_data()).collect();
    // The sources' bytes a row on average, for the first guess of the size.
    let (rows, total) = arrays
        .iter()
        .fold((0, 0), |(r, t), a| (r + a.len(), t + a.value_data().len()));
    let mut data: Vec<u8> = Vec::with_capacity(positions.len() * total / rows.max(1) + 32);
    let mut out_offsets: Vec<i32> = Vec::with_capacity(positions.len() + 1);
    out_offsets.push(0);
    for &(b, i) in positions {
        let (start, end) = (offsets[b][i] as usize, offsets[b][i + 1] as usize);
        append_value(&mut data, bytes[b], start, end);
        let end =
            i32::try_from(data.len()).map_err(|_| ArrowError::OffsetOverflowError(data.len()))?;
        out_offsets.push(end);
    }
    let array = StringArray::try_new(
        OffsetBuffer::new(ScalarBuffer::from(out_offsets)),
        Buffer::from_vec(data),
        gather_nulls(sources, positions),
    )?;
    Ok(Arc::new(array))
}

/// Appends `bytes[start..end]` to `data`. A value of up to 16 bytes with 16 bytes of the
/// source from its start is copied as 16 (a fixed-size move, no `memcpy` call) and the extra
/// bytes cut off again.
fn append_value(data: &mut Vec<u8>, bytes: &[u8], start: usize, end: usize) {
    let len = end - start;
    if len <= 16
        && let Some(block) = bytes.get(start..start + 16)
        && let Ok(block) = <&[u8; 16]>::try_from(block)
    {
        let keep = data.len() + len;
        data.extend_from_slice(block);
        data.truncate(keep);
        return;
    }
    data.extend_from_slice(&bytes[start..end]);
}

/// [`gather_column`] of booleans: values and validity collected a bit at a time.
fn gather_booleans(sources: &[&dyn Array], positions: &[(usize, usize)]) -> ArrayRef {
    let arrays: Vec<&BooleanArray> = sources.iter().map(|s| s.as_boolean()).collect();
    let values = BooleanBuffer::collect_bool(positions.len(), |n| {
        let (b, i) = positions[n];
        arrays[b].value(i)
    });
    Arc::new(BooleanArray::new(values, gather_nulls(sources, positions)))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        BooleanArray, Int32Array, Int64Array, MapBuilder, RecordBatch, StringArray, StringBuilder,
        UInt32Array,
    };
    use arrow::compute::{concat_batches, take_record_batch};
    use arrow::datatypes::{Field, Schema};

    use super::*;
    use fastrand::Rng;

    /// [`gather_column`] of every column of `batches`, as one batch.
    fn gather_rows(
        batches: &[RecordBatch],
        positions: &[(usize, usize)],
    ) -> Result<RecordBatch, ArrowError> {
        let Some(first) = batches.first() else {
            return Err(ArrowError::InvalidArgumentError(
                "no batches to gather rows from".into(),
            ));
        };
        let schema = first.schema();
        let columns = (0..schema.fields().len())
            .map(|c| {
                let sources: Vec<&dyn Array> =
                    batches.iter().map(|b| b.column(c).as_ref()).collect();
                gather_column(&sources, positions)
            })
            .collect::<Result<Vec<_>, _>>()?;
        RecordBatch::try_new(schema, columns)
    }

    /// Batches with every kind of column a part has: values with and without nulls, all
    /// null in one batch only, all null everywhere, booleans, strings and a map.
    fn batches(rng: &mut Rng, lens: &[usize]) -> Vec<RecordBatch> {
        let map_type = {
            let mut b = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
            b.finish().data_type().clone()
        };
        let schema = Arc::new(Schema::new(vec![
            Field::new("int", DataType::Int64, true),
            Field::new("dense", DataType::Int32, false),
            Field::new("null_in_one", DataType::Int64, true),
            Field::new("all_null", DataType::Int64, true),
            Field::new("flag", DataType::Boolean, false),
            Field::new("maybe_flag", DataType::Boolean, true),
            Field::new("text", DataType::Utf8, true),
            Field::new("no_text", DataType::Utf8, true),
            Field::new("vars", map_type, true),
        ]));
        lens.iter()
            .enumerate()
            .map(|(k, &n)| {
                let mut vars = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
                for _ in 0..n {
                    let valid = rng.u64(..3) == 0;
                    if valid {
                        vars.keys().append_value("k");
                        vars.values().append_value(rng.u64(..9).to_string());
                    }
                    vars.append(valid).expect("map entry");
                }
                let columns: Vec<ArrayRef> = vec![
                    Arc::new(Int64Array::from_iter(
                        (0..n).map(|_| (rng.u64(..4) != 0).then(|| rng.u64(..) as i64)),
                    )),
                    Arc::new(Int32Array::from_iter_values(
                        (0..n).map(|_| rng.u64(..1000) as i32),
                    )),
                    Arc::new(Int64Array::from_iter(
                        (0..n).map(|_| (k != 1).then(|| rng.u64(..50) as i64)),
                    )),
                    Arc::new(Int64Array::from(vec![None; n])),
                    Arc::new(BooleanArray::from_iter(
                        (0..n).map(|_| Some(rng.u64(..2) == 0)),
                    )),
                    Arc::new(BooleanArray::from_iter(
                        (0..n).map(|_| (rng.u64(..5) != 0).then(|| rng.u64(..2) == 0)),
                    )),
                    Arc::new(StringArray::from_iter((0..n).map(|_| {
                        (rng.u64(..6) != 0).then(|| "x".repeat(rng.u64(..12) as usize))
                    }))),
                    Arc::new(StringArray::from(vec![None::<&str>; n])),
                    Arc::new(vars.finish()),
                ];
                RecordBatch::try_new(schema.clone(), columns).expect("batch")
            })
            .collect()
    }

    /// The gathered rows equal arrow's concat + take of the same rows (a second, independent
    /// way to the same batch), for random orders over random batches.
    #[test]
    fn equals_concat_and_take() {
        let mut rng = Rng::with_seed(0x5eed);
        for _ in 0..200 {
            let lens: Vec<usize> = (0..1 + rng.u64(..4))
                .map(|_| rng.u64(..40) as usize)
                .collect();
            let batches = batches(&mut rng, &lens);
            let starts: Vec<usize> = lens
                .iter()
                .scan(0, |s, n| {
                    let start = *s;
                    *s += n;
                    Some(start)
                })
                .collect();
            let mut positions: Vec<(usize, usize)> = lens
                .iter()
                .enumerate()
                .flat_map(|(b, &n)| (0..n).map(move |i| (b, i)))
                .collect();
            // A random permutation, sometimes cut short, sometimes with repeats.
            for i in (1..positions.len()).rev() {
                positions.swap(i, rng.u64(..i as u64 + 1) as usize);
            }
            positions.truncate(rng.u64(..positions.len() as u64 + 1) as usize);
            if rng.u64(..4) == 0 && !positions.is_empty() {
                let again = positions[0];
                positions.push(again);
            }
            let ours = gather_rows(&batches, &positions).expect("gather");
            let whole = concat_batches(&batches[0].schema(), &batches).expect("concat");
            let indices = UInt32Array::from_iter_values(
                positions.iter().map(|&(b, i)| (starts[b] + i) as u32),
            );
            let theirs = take_record_batch(&whole, &indices).expect("take");
            assert_eq!(ours.num_rows(), positions.len());
            for c in 0..ours.num_columns() {
                assert_eq!(
                    ours.column(c).to_data(),
                    theirs.column(c).to_data(),
                    "column {} of {lens:?} at {positions:?}",
                    ours.schema().field(c).name()
                );
                ours.column(c).to_data().validate_full().expect("valid");
            }
        }
    }
}
