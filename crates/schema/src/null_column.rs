//! [`null_column`]: an all-null Arrow column that touches no fresh memory. Many columns of a
//! sample batch are null from end to end (a JMeter file has no `intended_elapsed_ms`, no
//! `elapsed_us`, usually no `case_name`); Arrow still wants a values buffer as long as the
//! column (8 bytes a row for `Int64`), which a builder or `new_null_array` allocates and zeroes
//! for every batch. Here the values (and string offsets) are slices of one buffer of zeros that
//! every such column shares; only the validity bitmap (one bit a row) is new.

use std::sync::LazyLock;

use arrow::array::{ArrayData, ArrayRef, make_array, new_null_array};
use arrow::buffer::{Buffer, MutableBuffer, NullBuffer};
use arrow::datatypes::DataType;

/// Bytes of zeros shared by the all-null columns that fit in them: 128 Ki rows of `Int64`.
const SHARED_ZERO_BYTES: usize = 1 << 20;

static SHARED_ZEROS: LazyLock<Buffer> =
    LazyLock::new(|| MutableBuffer::from_len_zeroed(SHARED_ZERO_BYTES).into());

/// `bytes` zero bytes: a slice of the shared zeros when they are long enough, else new ones.
fn zeros(bytes: usize) -> Buffer {
    if bytes <= SHARED_ZERO_BYTES {
        SHARED_ZEROS.slice_with_length(0, bytes)
    } else {
        MutableBuffer::from_len_zeroed(bytes).into()
    }
}

/// A column of `len` nulls of type `data_type`: equal to [`new_null_array`]'s (the same
/// type, length and validity; the values under the nulls are zeros as there), with its
/// values or offsets borrowed from shared zeros for fixed-width types and `Utf8`. Other types
/// (`Map`, `Boolean`, …) are `new_null_array`'s.
pub fn null_column(data_type: &DataType, len: usize) -> ArrayRef {
    let buffers = match data_type {
        DataType::Utf8 => {
            // Offsets all 0: every value is empty, and under a null.
            let offsets = (len + 1) * std::mem::size_of::<i32>();
            vec![zeros(offsets), Buffer::from(MutableBuffer::new(0))]
        }
        t if t.is_primitive() => match t.primitive_width() {
            Some(width) => vec![zeros(len * width)],
            None => return new_null_array(data_type, len),
        },
        _ => return new_null_array(data_type, len),
    };
    let data = ArrayData::builder(data_type.clone())
        .len(len)
        .nulls(Some(NullBuffer::new_null(len)))
        .buffers(buffers)
        .build();
    match data {
        Ok(data) => make_array(data),
        // Not expected (the buffers are as long as the type needs); the plain way then.
        Err(_) => new_null_array(data_type, len),
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::Array;
    use arrow::datatypes::{Field, TimeUnit};

    use super::*;

    /// Every type of the sample schema, at lengths inside and past the shared zeros: the
    /// same column as arrow's own `new_null_array`.
    #[test]
    fn equals_arrows_null_array() {
        let mut types: Vec<DataType> = crate::sample_schema()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        types.extend([
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            DataType::Float64,
            DataType::List(Field::new("item", DataType::Utf8, true).into()),
        ]);
        for t in &types {
            for len in [
                0,
                1,
                7,
                65_536,
                SHARED_ZERO_BYTES / 8 + 1,
                SHARED_ZERO_BYTES,
            ] {
                let ours = null_column(t, len);
                let arrows = new_null_array(t, len);
                assert_eq!(ours.data_type(), t);
                assert_eq!((ours.len(), ours.null_count()), (len, len), "{t} {len}");
                assert_eq!(ours.to_data(), arrows.to_data(), "{t} {len}");
                ours.to_data().validate_full().expect("a valid array");
            }
        }
    }

    /// Columns that fit share the zeros instead of allocating their own.
    #[test]
    fn fixed_width_and_string_columns_borrow_the_shared_zeros() {
        let shared = SHARED_ZEROS.as_ptr();
        for t in [DataType::Int64, DataType::Int32, DataType::Utf8] {
            let column = null_column(&t, 65_536);
            assert_eq!(column.to_data().buffers()[0].as_ptr(), shared, "{t}");
        }
    }
}
