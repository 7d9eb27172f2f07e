//! Gathering a part's rows into (ts, row) order, column by column: a column's pending batches
//! are first put end to end ([`GatherSource::new`], one copy in file order), then its values
//! are taken at the sorted positions ([`gather_column`]). It does what arrow's `take` does (the
//! tests hold it to that), cheaper for the columns a part has: a column null in every pending
//! batch becomes a [`null_column`] (no work a row; a JMeter file leaves about a third of the
//! schema null); integers and timestamps are read from one plain slice; strings — short, and
//! nine columns of them — are copied as blocks of 16, 32 or 64 bytes instead of one `memcpy`
//! call each; booleans bit by bit. Other types (the `vars` map) are left in their batches and
//! go to `interleave`: putting a map end to end would copy all its entries once more.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, AsArray, BooleanArray, PrimitiveArray, StringArray,
    UInt32Array,
};
use arrow::buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::compute::{concat, interleave, take};
use arrow::datatypes::{DataType, Int32Type, Int64Type, TimeUnit, TimestampMillisecondType};
use arrow::error::ArrowError;
use loadlake_schema::null_column;

/// One column of a part's pending batches, ready to be gathered from (a clone shares the
/// arrays).
#[derive(Clone)]
pub(crate) enum GatherSource {
    /// The batches end to end, as one array.
    Whole(ArrayRef),
    /// A column of a type [`gather_column`] leaves to arrow: the batches as they are, and the
    /// position each starts at (the rows' count last).
    Batches {
        arrays: Vec<ArrayRef>,
        starts: Vec<usize>,
    },
}

impl GatherSource {
    /// `sources` (one column of a part's pending batches): the source itself when there is
    /// one, a [`null_column`] when every value is null, arrow's `concat` of them when
    /// [`gather_column`] reads the type itself, else the batches as they are.
    pub(crate) fn new(sources: &[&ArrayRef]) -> Result<Self, ArrowError> {
        match sources {
            [] => Err(ArrowError::InvalidArgumentError(
                "no arrays to gather values from".into(),
            )),
            [one] => Ok(GatherSource::Whole(Arc::clone(one))),
            [first, ..] if sources.iter().all(|s| s.null_count() == s.len()) => {
                let rows = sources.iter().map(|s| s.len()).sum();
                Ok(GatherSource::Whole(null_column(first.data_type(), rows)))
            }
            [first, ..] if gathered_here(first.data_type()) => {
                let arrays: Vec<&dyn Array> = sources.iter().map(|s| s.as_ref()).collect();
                Ok(GatherSource::Whole(concat(&arrays)?))
            }
            _ => Ok(GatherSource::Batches {
                arrays: sources.iter().map(|&s| Arc::clone(s)).collect(),
                starts: starts(sources.iter().map(|s| s.len())),
            }),
        }
    }

    /// The values at `indices` (positions counted through the batches end to end), in that
    /// order: equal to arrow's `take` of the batches put end to end.
    pub(crate) fn gather(&self, indices: &[u32]) -> Result<ArrayRef, ArrowError> {
        match self {
            GatherSource::Whole(whole) => gather_column(whole.as_ref(), indices),
            GatherSource::Batches { arrays, starts } => {
                let rows = starts.last().copied().unwrap_or(0);
                let pairs = indices
                    .iter()
                    .map(|&i| {
                        let i = i as usize;
                        if i >= rows {
                            return Err(outside(i, rows));
                        }
                        let b = starts.partition_point(|&s| s <= i) - 1;
                        Ok((b, i - starts[b]))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let arrays: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
                interleave(&arrays, &pairs)
            }
        }
    }
}

/// Where each of batches of these lengths starts when they are put end to end, and their rows'
/// count last.
pub(crate) fn starts(lens: impl ExactSizeIterator<Item = usize>) -> Vec<usize> {
    let mut starts = Vec::with_capacity(lens.len() + 1);
    let mut rows = 0;
    for len in lens {
        starts.push(rows);
        rows += len;
    }
    starts.push(rows);
    starts
}

/// Whether [`gather_column`] reads values of this type itself (else it leaves them to arrow).
fn gathered_here(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Int64
            | DataType::Int32
            | DataType::Timestamp(TimeUnit::Millisecond, _)
            | DataType::Utf8
            | DataType::Boolean
    )
}

/// The error of a position past the end of a column.
fn outside(position: usize, len: usize) -> ArrowError {
    ArrowError::InvalidArgumentError(format!(
        "position {position} is outside a column of {len} values"
    ))
}

/// The values of `source` at `indices` (each inside it), in that order: equal to arrow's
/// `take` of them.
fn gather_column(source: &dyn Array, indices: &[u32]) -> Result<ArrayRef, ArrowError> {
    let len = source.len();
    if let Some(&out) = indices.iter().find(|&&i| i as usize >= len) {
        return Err(outside(out as usize, len));
    }
    if source.null_count() == len {
        // Every value a null: so is every gathered one, wherever it comes from.
        return Ok(null_column(source.data_type(), indices.len()));
    }
    // The types `gathered_here` names.
    match source.data_type() {
        DataType::Int64 => Ok(gather_primitive::<Int64Type>(source, indices)),
        DataType::Int32 => Ok(gather_primitive::<Int32Type>(source, indices)),
        DataType::Timestamp(TimeUnit::Millisecond, _) => Ok(gather_primitive::<
            TimestampMillisecondType,
        >(source, indices)),
        DataType::Utf8 => gather_strings(source.as_string::<i32>(), indices),
        DataType::Boolean => Ok(gather_booleans(source.as_boolean(), indices)),
        _ => take(source, &UInt32Array::from(indices.to_vec()), None),
    }
}

/// The validity of the gathered values; `None` when the source has no null.
fn gather_nulls(source: &dyn Array, indices: &[u32]) -> Option<NullBuffer> {
    let nulls = source.nulls().filter(|n| n.null_count() > 0)?;
    Some(NullBuffer::from(BooleanBuffer::collect_bool(
        indices.len(),
        |n| nulls.is_valid(indices[n] as usize),
    )))
}

/// [`gather_column`] of integers or timestamps (the type, a timestamp's zone included, is the
/// source's).
fn gather_primitive<T: ArrowPrimitiveType>(source: &dyn Array, indices: &[u32]) -> ArrayRef {
    let values: &[T::Native] = source.as_primitive::<T>().values();
    let gathered: Vec<T::Native> = indices.iter().map(|&i| values[i as usize]).collect();
    let array =
        PrimitiveArray::<T>::new(ScalarBuffer::from(gathered), gather_nulls(source, indices))
            .with_data_type(source.data_type().clone());
    Arc::new(array)
}

/// [`gather_column`] of strings: the offsets, then the bytes of each value.
fn gather_strings(source: &StringArray, indices: &[u32]) -> Result<ArrayRef, ArrowError> {
    let offsets = source.value_offsets();
    let bytes = source.value_data();
    // The source's bytes a row on average, for the first guess of the size.
    let guess = indices.len() * bytes.len() / source.len().max(1) + 32;
    let mut data: Vec<u8> = Vec::with_capacity(guess);
    let mut out_offsets: Vec<i32> = Vec::with_capacity(indices.len() + 1);
    out_offsets.push(0);
    for &i in indices {
        let i = i as usize;
        let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
        append_value(&mut data, bytes, start, end);
        let end =
            i32::try_from(data.len()).map_err(|_| ArrowError::OffsetOverflowError(data.len()))?;
        out_offsets.push(end);
    }
    let array = StringArray::try_new(
        OffsetBuffer::new(ScalarBuffer::from(out_offsets)),
        Buffer::from_vec(data),
        gather_nulls(source, indices),
    )?;
    Ok(Arc::new(array))
}

/// Appends `bytes[start..end]` to `data`. A value of up to 16, 32 or 64 bytes with that many
/// bytes of the source from its start is copied as a block of that size (a fixed-size move, no
/// `memcpy` call; a URL is 30 to 60 bytes) and the extra bytes cut off again.
fn append_value(data: &mut Vec<u8>, bytes: &[u8], start: usize, end: usize) {
    let len = end - start;
    let copied = match len {
        0..=16 => append_block::<16>(data, bytes, start, len),
        17..=32 => append_block::<32>(data, bytes, start, len),
        33..=64 => append_block::<64>(data, bytes, start, len),
        _ => false,
    };
    if !copied {
        data.extend_from_slice(&bytes[start..end]);
    }
}

/// Appends the `len` bytes from `start` by copying a block of `N` bytes from there and cutting
/// the rest off; `false` (nothing appended) when the source has fewer than `N` bytes from
/// `start`.
fn append_block<const N: usize>(
    data: &mut Vec<u8>,
    bytes: &[u8],
    start: usize,
    len: usize,
) -> bool {
    let Some(block) = bytes.get(start..start + N) else {
        return false;
    };
    let Ok(block) = <&[u8; N]>::try_from(block) else {
        return false;
    };
    let keep = data.len() + len;
    data.extend_from_slice(block);
    data.truncate(keep);
    true
}

/// [`gather_column`] of booleans: values and validity collected a bit at a time.
fn gather_booleans(source: &BooleanArray, indices: &[u32]) -> ArrayRef {
    let values = source.values();
    let gathered =
        BooleanBuffer::collect_bool(indices.len(), |n| values.value(indices[n] as usize));
    Arc::new(BooleanArray::new(gathered, gather_nulls(source, indices)))
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

    /// [`gather_column`] of every column of `batches` put end to end, as one batch.
    fn gather_rows(batches: &[RecordBatch], indices: &[u32]) -> Result<RecordBatch, ArrowError> {
        let Some(first) = batches.first() else {
            return Err(ArrowError::InvalidArgumentError(
                "no batches to gather rows from".into(),
            ));
        };
        let schema = first.schema();
        let columns = (0..schema.fields().len())
            .map(|c| {
                let sources: Vec<&ArrayRef> = batches.iter().map(|b| b.column(c)).collect();
                GatherSource::new(&sources)?.gather(indices)
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
                        // Lengths on both sides of the 16, 32 and 64-byte block copies.
                        (rng.u64(..6) != 0).then(|| "x".repeat(rng.u64(..80) as usize))
                    }))),
                    Arc::new(StringArray::from(vec![None::<&str>; n])),
                    Arc::new(vars.finish()),
                ];
                RecordBatch::try_new(schema.clone(), columns).expect("batch")
            })
            .collect()
    }

    #[test]
    fn a_position_outside_the_column_is_an_error() {
        let source = Int64Array::from(vec![1, 2, 3]);
        let err = gather_column(&source, &[0, 3]).expect_err("outside");
        assert!(err.to_string().contains("position 3"), "{err}");
        let map = {
            let mut b = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
            b.keys().append_value("k");
            b.values().append_value("v");
            b.append(true).expect("entry");
            Arc::new(b.finish()) as ArrayRef
        };
        let batches = GatherSource::new(&[&map, &map]).expect("source");
        assert!(matches!(batches, GatherSource::Batches { .. }));
        let err = batches.gather(&[1, 2]).expect_err("outside");
        assert!(err.to_string().contains("position 2"), "{err}");
        assert!(GatherSource::new(&[]).is_err());
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
            let indices: Vec<u32> = positions
                .iter()
                .map(|&(b, i)| (starts[b] + i) as u32)
                .collect();
            let ours = gather_rows(&batches, &indices).expect("gather");
            let whole = concat_batches(&batches[0].schema(), &batches).expect("concat");
            let theirs =
                take_record_batch(&whole, &UInt32Array::from(indices.clone())).expect("take");
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
