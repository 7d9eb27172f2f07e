//! The query memory limit for scalar functions. DataFusion's memory pool counts what operators
//! hold (sorts, joins, aggregates), not the arrays scalar functions return, so one call such as
//! `cardinality(range(1, 700000000))` or `repeat('x', 1e9)` could take a server far past its
//! limit. On a session with a limit, every built-in function whose output can be much larger
//! than its input ([`GUARDED`]) is replaced by a wrapper of the same name (aliases included)
//! that computes an upper bound of the output from the arguments (`bounds.rs`) **before**
//! calling the built-in, and refuses with `ResourcesExhausted` ("… would need N bytes; the query
//! memory limit is M bytes") when the bound exceeds the limit or the session's memory pool
//! cannot hold it. The result is checked again after the call.
//!
//! The wrappers are volatile, so they are evaluated per batch, never folded into a constant at
//! planning: a constant result is counted once per row it will be repeated on.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::datatypes::{DataType, FieldRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionContext;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryPool};
use datafusion::logical_expr::interval_arithmetic::Interval;
use datafusion::logical_expr::sort_properties::{ExprProperties, SortProperties};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};

use super::bounds::{Growth, output_bound};

/// The guarded built-ins and how their output grows. Aliases (`list_repeat`, `array_cat`, …)
/// are replaced with their function.
pub(crate) const GUARDED: &[(&str, Growth)] = &[
    ("repeat", Growth::Repeat),
    ("lpad", Growth::Pad),
    ("rpad", Growth::Pad),
    ("replace", Growth::Replace),
    ("regexp_replace", Growth::RegexpReplace),
    ("range", Growth::Range),
    ("generate_series", Growth::Range),
    ("array_repeat", Growth::ArrayRepeat),
    ("array_resize", Growth::ArrayResize),
    ("array_replace", Growth::ArrayReplace),
    ("array_replace_n", Growth::ArrayReplace),
    ("array_replace_all", Growth::ArrayReplace),
    ("array_to_string", Growth::ArrayToString),
    ("concat", Growth::Sum),
    ("concat_ws", Growth::Sum),
    ("array_concat", Growth::Sum),
    ("array_append", Growth::Sum),
    ("array_prepend", Growth::Sum),
];

/// Replaces the [`GUARDED`] functions of `ctx` with wrappers refusing outputs over `limit`
/// bytes (or more than the session's memory pool has left).
pub(crate) fn register_guards(ctx: &SessionContext, limit: usize) {
    let pool = Arc::clone(&ctx.runtime_env().memory_pool);
    for (name, growth) in GUARDED {
        // Every name is a DataFusion built-in; a later DataFusion without one has nothing to
        // guard under that name.
        let Some(inner) = ctx.state().scalar_functions().get(*name).cloned() else {
            continue;
        };
        let guarded = Guarded::new(Arc::clone(inner.inner()), *growth, limit, Arc::clone(&pool));
        ctx.register_udf(ScalarUDF::new_from_impl(guarded));
    }
}

/// A built-in function whose output is bounded before it runs.
#[derive(Debug)]
struct Guarded {
    inner: Arc<dyn ScalarUDFImpl>,
    growth: Growth,
    signature: Signature,
    limit: usize,
    pool: Arc<dyn MemoryPool>,
}

impl Guarded {
    fn new(
        inner: Arc<dyn ScalarUDFImpl>,
        growth: Growth,
        limit: usize,
        pool: Arc<dyn MemoryPool>,
    ) -> Guarded {
        let mut signature = inner.signature().clone();
        signature.volatility = Volatility::Volatile;
        Guarded {
            inner,
            growth,
            signature,
            limit,
            pool,
        }
    }

    fn refuse(&self, need: impl std::fmt::Display) -> DataFusionError {
        DataFusionError::ResourcesExhausted(format!(
            "{} would need {need} bytes; the query memory limit is {} bytes",
            self.inner.name(),
            self.limit
        ))
    }
}

impl PartialEq for Guarded {
    fn eq(&self, other: &Self) -> bool {
        self.inner.name() == other.inner.name()
            && self.growth == other.growth
            && self.limit == other.limit
            && Arc::ptr_eq(&self.pool, &other.pool)
    }
}

impl Eq for Guarded {}

impl Hash for Guarded {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.name().hash(state);
        self.growth.hash(state);
        self.limit.hash(state);
    }
}

/// Bytes a function result takes, a constant counted once per row it stands for.
fn result_bytes(out: &ColumnarValue, rows: usize) -> u128 {
    match out {
        ColumnarValue::Array(a) => a.get_array_memory_size() as u128,
        ColumnarValue::Scalar(s) => s.size() as u128 * rows.max(1) as u128,
    }
}

impl ScalarUDFImpl for Guarded {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        self.inner.schema_name(args)
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn is_strict(&self) -> bool {
        self.inner.is_strict()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        // A function of constants is computed once and repeated on every row of the batch.
        let (rows, repeats) = if all_scalar {
            (1, args.number_rows.max(1))
        } else {
            (args.number_rows, 1)
        };
        let Some(bound) = output_bound(self.growth, &args.args, rows)? else {
            return Err(self.refuse("an unbounded number of"));
        };
        let need = bound.saturating_mul(repeats as u128);
        if need > self.limit as u128 {
            return Err(self.refuse(need));
        }
        let reservation =
            MemoryConsumer::new(format!("{} result", self.inner.name())).register(&self.pool);
        if reservation.try_grow(need as usize).is_err() {
            return Err(DataFusionError::ResourcesExhausted(format!(
                "{} would need {need} bytes; with what the query already holds that exceeds its \
                 memory limit of {} bytes",
                self.inner.name(),
                self.limit
            )));
        }
        let number_rows = args.number_rows;
        let out = self.inner.invoke_with_args(args)?;
        let got = result_bytes(&out, if all_scalar { number_rows } else { 1 });
        if got > self.limit as u128 {
            return Err(self.refuse(got));
        }
        Ok(out)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn short_circuits(&self) -> bool {
        self.inner.short_circuits()
    }

    fn evaluate_bounds(&self, input: &[&Interval]) -> Result<Interval> {
        self.inner.evaluate_bounds(input)
    }

    fn output_ordering(&self, inputs: &[ExprProperties]) -> Result<SortProperties> {
        self.inner.output_ordering(inputs)
    }

    fn preserves_lex_ordering(&self, inputs: &[ExprProperties]) -> Result<bool> {
        self.inner.preserves_lex_ordering(inputs)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}
