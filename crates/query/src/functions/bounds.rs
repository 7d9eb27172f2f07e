//! Upper bounds of the output size of amplifying built-in functions, computed from their
//! arguments **before** the function runs (see `guard.rs`). A bound may be generous; it must
//! never be smaller than what the function allocates for its result. `None` means the output
//! cannot be bounded (a step that does not advance).

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Int64Type, IntervalMonthDayNanoType, TimeUnit};
use datafusion::error::Result;
use datafusion::logical_expr::ColumnarValue;
use datafusion::scalar::ScalarValue;

/// How a guarded function's output grows with its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Growth {
    /// `repeat(s, n)`: `len(s) · n`.
    Repeat,
    /// `lpad(s, n [, fill])`, `rpad`: `n` characters of at most `len(fill)` bytes each.
    Pad,
    /// `replace(s, from, to)`: every occurrence of `from` (every character boundary when empty)
    /// becomes `to`.
    Replace,
    /// `regexp_replace(s, pattern, replacement [, flags])`: up to `len(s) + 1` matches with
    /// `g`, one without; each a copy of the replacement whose group references (`$1`, `\1`)
    /// can each be as long as `s`.
    RegexpReplace,
    /// `range(start, stop, step)` and `generate_series(...)`: one element per step.
    Range,
    /// `array_repeat(element, n)`: `n` copies of the element.
    ArrayRepeat,
    /// `array_resize(array, n [, value])`: `n` elements.
    ArrayResize,
    /// `array_replace(array, from, to …)` (and `_n`, `_all`): every element may become `to`.
    ArrayReplace,
    /// `array_to_string(array, delimiter [, null_string])`: every leaf as text plus a delimiter
    /// or the null string.
    ArrayToString,
    /// `concat`, `concat_ws`, `array_concat`, `array_append`, `array_prepend`: the sum of the
    /// arguments (one large value named many times multiplies it).
    Sum,
}

/// Bytes one leaf value of any type takes at most as text (numbers, dates, decimals).
const TEXT_PER_LEAF: u128 = 48;
/// One day in nanoseconds.
const DAY_NS: i128 = 86_400_000_000_000;

/// An upper bound of the bytes `growth` makes from `args` over `rows` rows (1 when every
/// argument is a scalar), or `None` when the output is unbounded.
pub(crate) fn output_bound(
    growth: Growth,
    args: &[ColumnarValue],
    rows: usize,
) -> Result<Option<u128>> {
    let per_row = |f: &dyn Fn(usize) -> Result<Option<u128>>| -> Result<Option<u128>> {
        let mut total: u128 = 0;
        for i in 0..rows {
            match f(i)? {
                Some(n) => total = total.saturating_add(n),
                None => return Ok(None),
            }
        }
        Ok(Some(total))
    };
    let offsets = rows as u128 * 8;
    let bound = match growth {
        Growth::Repeat => {
            let n = Ints::of(args.get(1))?;
            per_row(&|i| Ok(Some(bytes(args.first(), i) * n.non_negative(i))))?
        }
        Growth::Pad => {
            let n = Ints::of(args.get(1))?;
            per_row(&|i| {
                let fill = args.get(2).map_or(1, |f| bytes(Some(f), i).max(1));
                Ok(Some(
                    bytes(args.first(), i) + n.non_negative(i) * fill.min(4),
                ))
            })?
        }
        Growth::Replace => per_row(&|i| {
            let s = bytes(args.first(), i);
            let from = bytes(args.get(1), i);
            let to = bytes(args.get(2), i);
            Ok(Some(s + (s / from.max(1) + 1) * to))
        })?,
        Growth::RegexpReplace => per_row(&|i| {
            let s = bytes(args.first(), i);
            let (literal, references) = replacement_shape(args.get(2), i);
            let global = args
                .get(3)
                .is_some_and(|f| text(f, i).is_some_and(|t| t.contains('g')));
            let matches = if global { s + 1 } else { 1 };
            Ok(Some(s + matches * (literal + references * s)))
        })?,
        Growth::Range => per_row(&|i| range_len(args, i))?.map(|n| n * 8),
        Growth::ArrayRepeat => {
            let n = Ints::of(args.get(1))?;
            per_row(&|i| Ok(Some((bytes(args.first(), i) + 8) * n.non_negative(i))))?
        }
        Growth::ArrayResize => {
            let n = Ints::of(args.get(1))?;
            per_row(&|i| {
                let element = args.get(2).map_or(16, |v| bytes(Some(v), i) + 8);
                Ok(Some(
                    bytes(args.first(), i) + n.non_negative(i) * element.max(16),
                ))
            })?
        }
        Growth::ArrayReplace => per_row(&|i| {
            let to = bytes(args.get(2), i) + 8;
            Ok(Some(bytes(args.first(), i) + leaves(args.first(), i) * to))
        })?,
        Growth::ArrayToString => per_row(&|i| {
            let delimiter = bytes(args.get(1), i);
            let null_text = bytes(args.get(2), i);
            let each = TEXT_PER_LEAF + delimiter + null_text;
            Ok(Some(
                bytes(args.first(), i) + leaves(args.first(), i) * each,
            ))
        })?,
        Growth::Sum => {
            let mut total: u128 = 0;
            for a in args {
                total = total.saturating_add(match a {
                    ColumnarValue::Array(a) => row_bytes(a.as_ref()) as u128,
                    ColumnarValue::Scalar(s) => scalar_bytes(s) * rows as u128,
                });
            }
            Some(total)
        }
    };
    Ok(bound.map(|b| b.saturating_add(offsets)))
}

/// Integer arguments (counts, sizes), cast to Int64 once.
enum Ints {
    Scalar(Option<i64>),
    Array(arrow::array::Int64Array),
}

impl Ints {
    fn of(arg: Option<&ColumnarValue>) -> Result<Ints> {
        Ok(match arg {
            None => Ints::Scalar(None),
            Some(ColumnarValue::Scalar(s)) => match s.cast_to(&DataType::Int64)? {
                ScalarValue::Int64(v) => Ints::Scalar(v),
                _ => Ints::Scalar(None),
            },
            Some(ColumnarValue::Array(a)) => {
                let cast = arrow::compute::cast(a, &DataType::Int64)?;
                Ints::Array(cast.as_primitive::<Int64Type>().clone())
            }
        })
    }

    fn at(&self, i: usize) -> Option<i64> {
        match self {
            Ints::Scalar(v) => *v,
            Ints::Array(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i)),
        }
    }

    fn non_negative(&self, i: usize) -> u128 {
        self.at(i).map_or(0, |v| v.max(0) as u128)
    }
}

/// The string at row `i` of a string argument.
fn text(arg: &ColumnarValue, i: usize) -> Option<&str> {
    match arg {
        ColumnarValue::Scalar(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)),
        ) => Some(s.as_str()),
        ColumnarValue::Scalar(_) => None,
        ColumnarValue::Array(a) if i >= a.len() || a.is_null(i) => None,
        ColumnarValue::Array(a) => match a.data_type() {
            DataType::Utf8 => Some(a.as_string::<i32>().value(i)),
            DataType::LargeUtf8 => Some(a.as_string::<i64>().value(i)),
            DataType::Utf8View => Some(a.as_string_view().value(i)),
            _ => None,
        },
    }
}

/// Literal bytes of a regexp replacement and how many group references it has.
fn replacement_shape(arg: Option<&ColumnarValue>, i: usize) -> (u128, u128) {
    let Some(arg) = arg else { return (0, 0) };
    match text(arg, i) {
        Some(t) => {
            let references = t.chars().filter(|c| matches!(c, '$' | '\\')).count();
            (t.len() as u128, references as u128)
        }
        None => (bytes(Some(arg), i), bytes(Some(arg), i)),
    }
}

/// Bytes of the value at row `i` (0 for a missing argument or a null).
fn bytes(arg: Option<&ColumnarValue>, i: usize) -> u128 {
    match arg {
        None => 0,
        Some(ColumnarValue::Scalar(s)) => scalar_bytes(s),
        Some(ColumnarValue::Array(a)) if i >= a.len() || a.is_null(i) => 0,
        Some(arg @ ColumnarValue::Array(a)) => match text(arg, i) {
            Some(t) => t.len() as u128,
            None => row_bytes(a.slice(i, 1).as_ref()) as u128,
        },
    }
}

fn scalar_bytes(s: &ScalarValue) -> u128 {
    match s {
        ScalarValue::Utf8(Some(t))
        | ScalarValue::LargeUtf8(Some(t))
        | ScalarValue::Utf8View(Some(t)) => t.len() as u128,
        ScalarValue::Binary(Some(b))
        | ScalarValue::LargeBinary(Some(b))
        | ScalarValue::BinaryView(Some(b)) => b.len() as u128,
        other => other
            .data_type()
            .primitive_width()
            .map_or(other.size(), |w| w) as u128,
    }
}

/// Bytes of the values of `array` (its slice only, lists' children cut to their offsets).
pub(crate) fn row_bytes(array: &dyn Array) -> usize {
    let nulls = array.len().div_ceil(8);
    match array.data_type() {
        DataType::List(_) => {
            let l = array.as_list::<i32>();
            let offsets = l.value_offsets();
            let (start, end) = (offsets[0] as usize, offsets[l.len()] as usize);
            nulls + 4 * (l.len() + 1) + row_bytes(l.values().slice(start, end - start).as_ref())
        }
        DataType::LargeList(_) => {
            let l = array.as_list::<i64>();
            let offsets = l.value_offsets();
            let (start, end) = (offsets[0] as usize, offsets[l.len()] as usize);
            nulls + 8 * (l.len() + 1) + row_bytes(l.values().slice(start, end - start).as_ref())
        }
        DataType::FixedSizeList(_, size) => {
            let l = array.as_fixed_size_list();
            let size = *size as usize;
            let start = l.offset() * size;
            nulls + row_bytes(l.values().slice(start, l.len() * size).as_ref())
        }
        DataType::Utf8View => {
            let s = array.as_string_view();
            nulls + 16 * s.len() + (0..s.len()).map(|i| s.value(i).len()).sum::<usize>()
        }
        DataType::BinaryView => {
            let b = array.as_binary_view();
            nulls + 16 * b.len() + (0..b.len()).map(|i| b.value(i).len()).sum::<usize>()
        }
        _ => array
            .to_data()
            .get_slice_memory_size()
            .unwrap_or_else(|_| array.get_array_memory_size()),
    }
}

/// Leaf values (non-list elements) of row `i` of a list argument; 1 for a non-list.
fn leaves(arg: Option<&ColumnarValue>, i: usize) -> u128 {
    let array: ArrayRef = match arg {
        None => return 0,
        Some(ColumnarValue::Scalar(s)) => match s.to_array_of_size(1) {
            Ok(a) => a,
            Err(_) => return 1,
        },
        Some(ColumnarValue::Array(a)) if i >= a.len() => return 0,
        Some(ColumnarValue::Array(a)) => a.slice(i, 1),
    };
    leaf_count(array.as_ref()) as u128
}

fn leaf_count(array: &dyn Array) -> usize {
    match array.data_type() {
        DataType::List(_) => {
            let l = array.as_list::<i32>();
            let o = l.value_offsets();
            let (start, end) = (o[0] as usize, o[l.len()] as usize);
            leaf_count(l.values().slice(start, end - start).as_ref())
        }
        DataType::LargeList(_) => {
            let l = array.as_list::<i64>();
            let o = l.value_offsets();
            let (start, end) = (o[0] as usize, o[l.len()] as usize);
            leaf_count(l.values().slice(start, end - start).as_ref())
        }
        DataType::FixedSizeList(_, size) => {
            let l = array.as_fixed_size_list();
            let size = *size as usize;
            leaf_count(l.values().slice(l.offset() * size, l.len() * size).as_ref())
        }
        _ => array.len(),
    }
}

/// Elements of `range` / `generate_series` at row `i`: integers, or dates / timestamps stepped
/// by an interval (a month counted as 28 to 31 days).
fn range_len(args: &[ColumnarValue], i: usize) -> Result<Option<u128>> {
    let (start, stop, step) = match args {
        [stop] => (None, stop, None),
        [start, stop] => (Some(start), stop, None),
        [start, stop, step] => (Some(start), stop, Some(step)),
        _ => return Ok(Some(0)),
    };
    let unit = match stop.data_type() {
        DataType::Date32 => DAY_NS,
        DataType::Date64 => 1_000_000,
        DataType::Timestamp(TimeUnit::Second, _) => 1_000_000_000,
        DataType::Timestamp(TimeUnit::Millisecond, _) => 1_000_000,
        DataType::Timestamp(TimeUnit::Microsecond, _) => 1_000,
        _ => 1,
    };
    let point = |arg: Option<&ColumnarValue>| -> Result<Option<i128>> {
        match arg {
            None => Ok(Some(0)),
            Some(a) => Ok(Ints::of(Some(a))?.at(i).map(|v| v as i128 * unit)),
        }
    };
    let (Some(from), Some(to)) = (point(start)?, point(Some(stop))?) else {
        return Ok(Some(0)); // a null argument: a null list
    };
    let dates = matches!(stop.data_type(), DataType::Date32 | DataType::Date64);
    let by_interval = step.is_some_and(|s| matches!(s.data_type(), DataType::Interval(_)));
    let step = match step {
        None => Some(1),
        Some(s) if by_interval => interval_step(s, i, dates),
        Some(s) => Ints::of(Some(s))?.at(i).map(|v| v as i128),
    };
    let Some(step) = step else {
        return Ok(Some(0));
    };
    if step == 0 {
        // The function refuses a zero integer step itself; an interval that may not advance
        // (zero, or months and days of opposite signs) cannot be bounded.
        return Ok(if by_interval { None } else { Some(0) });
    }
    let span = (to - from).unsigned_abs();
    Ok(Some(span / step.unsigned_abs() + 2))
}

/// The smallest advance of an interval step in nanoseconds (`0` when it may not advance).
fn interval_step(arg: &ColumnarValue, i: usize, dates: bool) -> Option<i128> {
    let v = match arg {
        ColumnarValue::Scalar(ScalarValue::IntervalMonthDayNano(v)) => (*v)?,
        ColumnarValue::Scalar(_) => return Some(0),
        ColumnarValue::Array(a) => {
            // Another interval type (never coerced to): its advance is unknown.
            let Some(a) = a.as_primitive_opt::<IntervalMonthDayNanoType>() else {
                return Some(0);
            };
            if i >= a.len() || a.is_null(i) {
                return None;
            }
            a.value(i)
        }
    };
    let nanos = if dates { 0 } else { v.nanoseconds as i128 };
    let base = v.days as i128 * DAY_NS + nanos;
    // A month is 28 to 31 days; the step is the smallest advance over those lengths, and 0
    // (unbounded) when some month length makes it stand still or change direction.
    let advances = (28..=31).map(|days| v.months as i128 * days * DAY_NS + base);
    let (lo, hi) = advances.fold((i128::MAX, i128::MIN), |(lo, hi), a| (lo.min(a), hi.max(a)));
    if lo <= 0 && hi >= 0 {
        return Some(0);
    }
    Some(if lo > 0 { lo } else { hi })
}
