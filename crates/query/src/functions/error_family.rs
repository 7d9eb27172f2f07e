//! `error_family(error_class)`: the error-class breakdown of the reports, defined once. The
//! curve (`queries/curve.sql`), the details (`details.sql`) and the scope numbers
//! (`scope_metrics.sql`) count failed samples in five families (CodeArts' columns): `assertion`,
//! `timeout`, `refused`, `parse`, and `others` (`http_4xx`, `http_5xx`, `other`). A success, a
//! NULL or an unknown class has no family (NULL).
//!
//! A scalar function (like `is_empty_transaction`) rather than a view or a text fragment: a
//! DataFusion view is bound to the `samples` table registered when it is made, and the engine
//! swaps `samples` later (live runs, intended latency); a fragment spliced into the text would
//! make `queries/*.sql` files that no longer run as written (and that `tests/slt` runs as is).
//! Each query still names its five columns (the curve's are CodeArts' brokens names).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray, make_array};
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The family of an `error_class` value in the reports' breakdown, `None` for none.
pub(super) fn error_family(error_class: &str) -> Option<&'static str> {
    match error_class {
        "assertion" => Some("assertion"),
        "timeout" => Some("timeout"),
        "refused" => Some("refused"),
        "parse" => Some("parse"),
        "http_4xx" | "http_5xx" | "other" => Some("others"),
        _ => None,
    }
}

/// The families of a string array's values.
fn families(classes: &ArrayRef) -> Result<ArrayRef> {
    let classes = arrow::compute::cast(classes, &DataType::Utf8)?;
    let families: StringArray = classes
        .as_string::<i32>()
        .iter()
        .map(|c| c.and_then(error_family))
        .collect();
    Ok(Arc::new(families))
}

/// `error_family(error_class)`, see the module doc. A dictionary-encoded column (the store's
/// `error_class`) keeps its keys: only its few distinct values are mapped.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct ErrorFamily {
    signature: Signature,
}

impl ErrorFamily {
    pub(super) fn new() -> Self {
        ErrorFamily {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for ErrorFamily {
    fn name(&self) -> &str {
        "error_family"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first() {
            Some(DataType::Dictionary(key, _)) => {
                Ok(DataType::Dictionary(key.clone(), Box::new(DataType::Utf8)))
            }
            _ => Ok(DataType::Utf8),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(classes) = arrays.first() else {
            return exec_err!("error_family takes one argument");
        };
        let out = match classes.as_any_dictionary_opt() {
            Some(dictionary) => {
                // A key whose family is none becomes a null key (a null value behind a valid
                // key would read as a value to some kernels).
                let mapped = dictionary.with_values(families(dictionary.values())?);
                let nulls = mapped.logical_nulls();
                make_array(mapped.to_data().into_builder().nulls(nulls).build()?)
            }
            None => families(classes)?,
        };
        Ok(ColumnarValue::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{DictionaryArray, Int32Array};
    use arrow::datatypes::Int32Type;

    use super::*;
    use crate::functions::register_all;

    #[test]
    fn every_class_has_its_family() {
        let families: Vec<_> = [
            "success",
            "timeout",
            "refused",
            "parse",
            "assertion",
            "http_4xx",
            "http_5xx",
            "other",
            "new",
        ]
        .map(error_family)
        .into();
        assert_eq!(
            families,
            [
                None,
                Some("timeout"),
                Some("refused"),
                Some("parse"),
                Some("assertion"),
                Some("others"),
                Some("others"),
                Some("others"),
                None
            ]
        );
    }

    #[tokio::test]
    async fn dictionaries_and_strings_give_the_same_families() {
        let ctx = datafusion::prelude::SessionContext::new();
        register_all(&ctx);
        let values = StringArray::from(vec!["http_5xx", "success", "timeout"]);
        let keys = Int32Array::from(vec![Some(0), Some(1), None, Some(2), Some(0)]);
        let dictionary = DictionaryArray::<Int32Type>::try_new(keys, Arc::new(values)).unwrap();
        let plain = arrow::compute::cast(&dictionary, &DataType::Utf8).unwrap();
        let batch = arrow::array::RecordBatch::try_from_iter([
            ("d", Arc::new(dictionary) as ArrayRef),
            ("s", plain),
        ])
        .unwrap();
        ctx.register_batch("t", batch).unwrap();
        let rows = ctx
            .sql("select cast(error_family(d) as varchar) as d, error_family(s) as s from t")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let d = arrow::compute::cast(rows[0].column(0), &DataType::Utf8).unwrap();
        let s = rows[0].column(1).as_string::<i32>().clone();
        let expected = StringArray::from(vec![
            Some("others"),
            None,
            None,
            Some("timeout"),
            Some("others"),
        ]);
        assert_eq!(d.as_string::<i32>(), &expected);
        assert_eq!(s, expected);
    }
}
