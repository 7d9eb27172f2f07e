//! `ms_histogram` and `hist_merge`: one aggregate implementation, two inputs (raw values, or
//! histograms to add up). Both a per-group [`Accumulator`] and a vectorised
//! [`GroupsAccumulator`] (many groups, e.g. per-second curves × labels).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, ListArray};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{Result, ScalarValue, internal_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};

use super::histogram::Histogram;

/// The SQL type of a histogram: sorted `(value, count)` pairs, flattened.
pub(super) fn histogram_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true)))
}

/// Builds a list array with one histogram per entry.
fn histograms_to_array(hists: &[Histogram]) -> ListArray {
    let mut lengths = Vec::with_capacity(hists.len());
    let mut values = Vec::new();
    for h in hists {
        let pairs = h.to_pairs();
        lengths.push(pairs.len());
        values.extend(pairs);
    }
    ListArray::new(
        Arc::new(Field::new_list_field(DataType::Int64, true)),
        OffsetBuffer::from_lengths(lengths),
        Arc::new(Int64Array::from(values)),
        None,
    )
}

/// An aggregate's input column, downcast once per batch: raw values or histograms.
enum Input<'a> {
    Values(&'a Int64Array),
    Histograms {
        list: &'a ListArray,
        pairs: &'a [i64],
    },
}

impl<'a> Input<'a> {
    /// `merge_input`: the column holds histograms (hist_merge, partial states).
    fn of(column: &'a ArrayRef, merge_input: bool) -> Result<Self> {
        if merge_input {
            let Some(list) = column.as_list_opt::<i32>() else {
                return internal_err!("histogram input is {}, not a list", column.data_type());
            };
            let Some(pairs) = list.values().as_primitive_opt::<Int64Type>() else {
                return internal_err!("histogram values are not Int64");
            };
            Ok(Input::Histograms {
                list,
                pairs: pairs.values(),
            })
        } else {
            match column.as_primitive_opt::<Int64Type>() {
                Some(values) => Ok(Input::Values(values)),
                None => internal_err!("ms_histogram input is {}, not Int64", column.data_type()),
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Input::Values(values) => values.len(),
            Input::Histograms { list, .. } => list.len(),
        }
    }

    /// Adds row `row` to `h` (nothing for a NULL).
    #[inline]
    fn add_to(&self, h: &mut Histogram, row: usize) {
        match self {
            Input::Values(values) => {
                if values.is_valid(row) {
                    h.add(values.value(row), 1);
                }
            }
            Input::Histograms { list, pairs } => {
                if list.is_valid(row) {
                    let offsets = list.value_offsets();
                    h.add_pairs(&pairs[offsets[row] as usize..offsets[row + 1] as usize]);
                }
            }
        }
    }
}

/// `ms_histogram(x)` / `hist_merge(h)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct HistogramUdaf {
    name: &'static str,
    merge_input: bool,
    signature: Signature,
}

impl HistogramUdaf {
    /// `merge_input`: the argument is a histogram (hist_merge) rather than a value.
    pub(super) fn new(name: &'static str, merge_input: bool) -> Self {
        let signature = if merge_input {
            Signature::exact(vec![histogram_type()], Volatility::Immutable)
        } else {
            Signature::uniform(1, vec![DataType::Int64], Volatility::Immutable)
        };
        HistogramUdaf {
            name,
            merge_input,
            signature,
        }
    }
}

impl AggregateUDFImpl for HistogramUdaf {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(histogram_type())
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(HistogramAccumulator {
            hist: Histogram::default(),
            merge_input: self.merge_input,
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[histogram]", args.name),
            histogram_type(),
            true,
        ))])
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(HistogramGroups {
            hists: Vec::new(),
            merge_input: self.merge_input,
        }))
    }
}

/// One group's histogram.
#[derive(Debug)]
struct HistogramAccumulator {
    hist: Histogram,
    merge_input: bool,
}

impl Accumulator for HistogramAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(input) = values.first() else {
            return internal_err!("ms_histogram takes one argument");
        };
        let input = Input::of(input, self.merge_input)?;
        for row in 0..input.len() {
            input.add_to(&mut self.hist, row);
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::List(Arc::new(histograms_to_array(
            std::slice::from_ref(&self.hist),
        ))))
    }

    fn size(&self) -> usize {
        self.hist.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(input) = states.first() else {
            return internal_err!("histogram state has one column");
        };
        let input = Input::of(input, true)?;
        for row in 0..input.len() {
            input.add_to(&mut self.hist, row);
        }
        Ok(())
    }
}

/// Histograms of many groups.
#[derive(Debug)]
struct HistogramGroups {
    hists: Vec<Histogram>,
    merge_input: bool,
}

impl HistogramGroups {
    fn add(
        &mut self,
        input: &ArrayRef,
        group_indices: &[usize],
        filter: Option<&BooleanArray>,
        total_num_groups: usize,
        merge_input: bool,
    ) -> Result<()> {
        if self.hists.len() < total_num_groups {
            self.hists.resize_with(total_num_groups, Histogram::default);
        }
        let input = Input::of(input, merge_input)?;
        match (&input, filter) {
            // The hot path: raw values, no filter, no NULLs.
            (Input::Values(values), None) if values.null_count() == 0 => {
                for (&v, &g) in values.values().iter().zip(group_indices) {
                    self.hists[g].add(v, 1);
                }
            }
            _ => {
                for (row, &g) in group_indices.iter().enumerate() {
                    if filter.is_some_and(|f| !f.is_valid(row) || !f.value(row)) {
                        continue;
                    }
                    input.add_to(&mut self.hists[g], row);
                }
            }
        }
        Ok(())
    }
}

impl GroupsAccumulator for HistogramGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        let Some(input) = values.first() else {
            return internal_err!("ms_histogram takes one argument");
        };
        self.add(
            input,
            group_indices,
            opt_filter,
            total_num_groups,
            self.merge_input,
        )
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let taken = emit_to.take_needed(&mut self.hists);
        Ok(Arc::new(histograms_to_array(&taken)))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate(emit_to)?])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        let Some(input) = values.first() else {
            return internal_err!("histogram state has one column");
        };
        self.add(input, group_indices, None, total_num_groups, true)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let Some(input) = values.first() else {
            return internal_err!("ms_histogram takes one argument");
        };
        let input = Input::of(input, self.merge_input)?;
        let hists: Vec<Histogram> = (0..input.len())
            .map(|row| {
                let mut h = Histogram::default();
                if opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row)) {
                    input.add_to(&mut h, row);
                }
                h
            })
            .collect();
        Ok(vec![Arc::new(histograms_to_array(&hists))])
    }

    fn size(&self) -> usize {
        self.hists.iter().map(Histogram::size).sum::<usize>()
            + self.hists.capacity() * std::mem::size_of::<Histogram>()
    }
}

#[cfg(test)]
#[path = "udaf_tests.rs"]
mod tests;
