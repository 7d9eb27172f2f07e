//! [`KeepRoom`]: finishing an Arrow builder without losing its room. Arrow's `finish()` leaves a
//! builder with no capacity, so a builder reused batch after batch would regrow every column
//! from nothing each time (a dozen doubling copies, fresh pages to fault in);
//! [`KeepRoom::finish_keeping_room`] reserves room for as much as the batch just finished held.
//! The arrays are the same either way: only where the next batch's bytes go changes.

use arrow::array::{
    Array, ArrowPrimitiveType, BooleanArray, BooleanBuilder, PrimitiveArray, PrimitiveBuilder,
    StringArray, StringBuilder,
};

/// A builder whose next batch starts with room for the last one.
pub(crate) trait KeepRoom {
    /// The array the builder finishes.
    type Array: Array;
    /// The column so far; the builder starts over empty, with room for as many values (and
    /// string bytes) as the column held.
    fn finish_keeping_room(&mut self) -> Self::Array;
}

impl<T: ArrowPrimitiveType> KeepRoom for PrimitiveBuilder<T> {
    type Array = PrimitiveArray<T>;
    fn finish_keeping_room(&mut self) -> PrimitiveArray<T> {
        let array = self.finish();
        // `with_data_type` keeps a timestamp's time zone; the type is the one the builder had.
        *self =
            PrimitiveBuilder::with_capacity(array.len()).with_data_type(array.data_type().clone());
        array
    }
}

impl KeepRoom for StringBuilder {
    type Array = StringArray;
    fn finish_keeping_room(&mut self) -> StringArray {
        let array = self.finish();
        *self = StringBuilder::with_capacity(array.len(), array.value_data().len());
        array
    }
}

impl KeepRoom for BooleanBuilder {
    type Array = BooleanArray;
    fn finish_keeping_room(&mut self) -> BooleanArray {
        let array = self.finish();
        *self = BooleanBuilder::with_capacity(array.len());
        array
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{ArrayBuilder, Int64Builder, TimestampMillisecondBuilder};

    use super::*;

    /// Batches with different null patterns (none, some, all) finish to the arrays of fresh
    /// builders, and the reused builder keeps its room (and a timestamp its time zone).
    #[test]
    fn reused_builders_finish_like_fresh_ones() {
        let batches: [&[Option<i64>]; 4] = [
            &[Some(1), Some(2), Some(3), Some(4)],
            &[None, Some(-7), None],
            &[None, None],
            &[Some(i64::MAX)],
        ];
        let mut ints = Int64Builder::new();
        let mut times = TimestampMillisecondBuilder::new().with_timezone("UTC");
        let mut strings = StringBuilder::new();
        let mut bools = BooleanBuilder::new();
        for batch in batches {
            let mut fresh = (
                Int64Builder::new(),
                TimestampMillisecondBuilder::new().with_timezone("UTC"),
                StringBuilder::new(),
                BooleanBuilder::new(),
            );
            for v in batch {
                let s = v.map(|v| format!("v{v}"));
                let b = v.map(|v| v % 2 == 0);
                ints.append_option(*v);
                times.append_option(*v);
                strings.append_option(s.as_deref());
                bools.append_option(b);
                fresh.0.append_option(*v);
                fresh.1.append_option(*v);
                fresh.2.append_option(s.as_deref());
                fresh.3.append_option(b);
            }
            assert_eq!(ints.finish_keeping_room(), fresh.0.finish());
            assert_eq!(times.finish_keeping_room(), fresh.1.finish());
            assert_eq!(strings.finish_keeping_room(), fresh.2.finish());
            assert_eq!(bools.finish_keeping_room(), fresh.3.finish());
            assert!(ints.capacity() >= batch.len() && bools.capacity() >= batch.len());
            assert_eq!(times.finish_cloned().data_type(), &crate::sample::ts_type());
            assert!(strings.values_slice().is_empty() && strings.is_empty());
        }
    }
}
