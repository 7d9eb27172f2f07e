//! [`Nullable`]: an Arrow builder that appends runs of nulls at once. A column a format never
//! fills (Gatling has no `bytes`, a CSV without `URL`) costs a counter per row instead of a
//! null bit and a zero value, and a batch of it nothing but a validity bitmap
//! ([`crate::null_column`]); the arrays it finishes equal those of `append_option` row by row.

use arrow::array::{
    Array, ArrayBuilder, ArrowPrimitiveType, AsArray, PrimitiveArray, PrimitiveBuilder,
    StringArray, StringBuilder,
};
use arrow::datatypes::DataType;

use crate::keep_room::KeepRoom;
use crate::null_column::null_column;

/// A builder of one nullable column; nulls are counted and appended in one call when a value
/// (or the end of the batch) comes.
pub(crate) struct Nullable<B> {
    builder: B,
    /// Nulls not yet appended to `builder` (they come after everything in it).
    nulls: usize,
    /// The type of the column (a timestamp's has its time zone).
    data_type: DataType,
}

/// The builders [`Nullable`] wraps.
pub(crate) trait NullRuns: ArrayBuilder + KeepRoom {
    fn append_nulls(&mut self, n: usize);
    /// `column` (a [`null_column`] of this builder's type) as its array type.
    fn downcast(column: &dyn Array) -> Option<Self::Array>;
}

impl<T: ArrowPrimitiveType> NullRuns for PrimitiveBuilder<T> {
    fn append_nulls(&mut self, n: usize) {
        PrimitiveBuilder::append_nulls(self, n)
    }
    fn downcast(column: &dyn Array) -> Option<PrimitiveArray<T>> {
        column.as_primitive_opt::<T>().cloned()
    }
}

impl NullRuns for StringBuilder {
    fn append_nulls(&mut self, n: usize) {
        StringBuilder::append_nulls(self, n)
    }
    fn downcast(column: &dyn Array) -> Option<StringArray> {
        column.as_string_opt::<i32>().cloned()
    }
}

impl<B: NullRuns> Nullable<B> {
    pub(crate) fn new(builder: B) -> Self {
        let data_type = builder.finish_cloned().data_type().clone();
        Nullable {
            builder,
            nulls: 0,
            data_type,
        }
    }

    /// The builder, with the counted nulls appended: ready for a value.
    fn flushed(&mut self) -> &mut B {
        if self.nulls > 0 {
            self.builder.append_nulls(self.nulls);
            self.nulls = 0;
        }
        &mut self.builder
    }

    /// The column so far; the builder starts over empty (with room for the values it held:
    /// [`KeepRoom`]). A column of nulls only is a [`null_column`].
    pub(crate) fn finish(&mut self) -> B::Array {
        if self.nulls > 0 && self.builder.is_empty() {
            let column = null_column(&self.data_type, self.nulls);
            if let Some(column) = B::downcast(column.as_ref()) {
                self.nulls = 0;
                return column;
            }
        }
        self.flushed().finish_keeping_room()
    }
}

impl<T: ArrowPrimitiveType> Nullable<PrimitiveBuilder<T>> {
    pub(crate) fn append_option(&mut self, v: Option<T::Native>) {
        match v {
            Some(v) => self.flushed().append_value(v),
            None => self.nulls += 1,
        }
    }
}

impl Nullable<StringBuilder> {
    pub(crate) fn append_option(&mut self, v: Option<&str>) {
        match v {
            Some(v) => self.flushed().append_value(v),
            None => self.nulls += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, Int64Builder};

    use super::*;

    /// Every mix of values and null runs finishes to the array `append_option` builds row by
    /// row, across two batches.
    #[test]
    fn equals_row_by_row_appends() {
        let rows: [&[Option<i64>]; 4] = [
            &[None, None, None],
            &[Some(1), None, None, Some(4), None],
            &[None, Some(2), Some(3)],
            &[],
        ];
        let mut lazy = Nullable::new(Int64Builder::new());
        let mut strings = Nullable::new(StringBuilder::new());
        for batch in rows {
            let mut plain = Int64Builder::new();
            let mut plain_s = StringBuilder::new();
            for v in batch {
                lazy.append_option(*v);
                plain.append_option(*v);
                let s = v.map(|v| v.to_string());
                strings.append_option(s.as_deref());
                plain_s.append_option(s.as_deref());
            }
            let (a, b) = (lazy.finish(), plain.finish());
            assert_eq!(a, b);
            assert_eq!(a.null_count(), batch.iter().filter(|v| v.is_none()).count());
            assert_eq!(strings.finish(), plain_s.finish());
        }
    }
}
