//! What the decoders' unit tests share: decoding bytes into one batch with its rejects and
//! report, reading its columns, and a small random generator for randomized inputs.

use arrow::array::{Array, AsArray, MapArray, RecordBatch};
use arrow::datatypes::{DataType, Int32Type, Int64Type, TimestampMillisecondType};
use loadlake_schema::col;

use crate::options::DecodeOptions;
use crate::rejects::{Reject, RejectHandler};
use crate::{FileReport, IngestError, decode_plain};

/// Keeps every reject.
pub(crate) struct Kept(pub(crate) Vec<Reject>);

impl RejectHandler for Kept {
    fn reject(&mut self, r: Reject) -> Result<(), IngestError> {
        self.0.push(r);
        Ok(())
    }
}

/// One batch (none when nothing was imported), the rejects and the report of a file.
pub(crate) type Decoded = (Option<RecordBatch>, Vec<Reject>, FileReport);

/// Decodes `bytes` as the file `name` with `opts`, its batches concatenated into one.
pub(crate) fn decode_bytes(
    name: &str,
    bytes: &[u8],
    opts: &DecodeOptions,
) -> Result<Decoded, IngestError> {
    let mut batches: Vec<RecordBatch> = Vec::new();
    let mut rejects = Kept(Vec::new());
    let report = decode_plain(name, bytes, None, opts, 0, &mut batches, &mut rejects)?;
    let batch = batches
        .first()
        .map(|b| arrow::compute::concat_batches(&b.schema(), &batches).unwrap());
    Ok((batch, rejects.0, report))
}

/// Each reject's (line, field), in order.
pub(crate) fn where_rejected(rejects: &[Reject]) -> Vec<(u64, Option<&str>)> {
    rejects
        .iter()
        .map(|r| (r.line, r.field.as_deref()))
        .collect()
}

/// Each reject's (line, field, reason), in order.
pub(crate) fn where_and_why(rejects: &[Reject]) -> Vec<(u64, Option<&str>, &str)> {
    rejects
        .iter()
        .map(|r| (r.line, r.field.as_deref(), r.reason.as_str()))
        .collect()
}

/// Column `name` as text (any type cast to Utf8).
pub(crate) fn strs(b: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let a = b.column_by_name(name).unwrap();
    let a = arrow::compute::cast(a, &DataType::Utf8).unwrap();
    a.as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

/// Column `name` as integers (Int32, Int64, or timestamps in ms).
pub(crate) fn ints(b: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    let a = b.column_by_name(name).unwrap();
    match a.data_type() {
        DataType::Int32 => a
            .as_primitive::<Int32Type>()
            .iter()
            .map(|v| v.map(i64::from))
            .collect(),
        DataType::Timestamp(..) => a
            .as_primitive::<TimestampMillisecondType>()
            .iter()
            .collect(),
        _ => a.as_primitive::<Int64Type>().iter().collect(),
    }
}

/// Row `row`'s `vars` as `k=v` strings, in the stored order.
pub(crate) fn vars(b: &RecordBatch, row: usize) -> Vec<String> {
    let m = b
        .column_by_name(col::VARS)
        .unwrap()
        .as_any()
        .downcast_ref::<MapArray>()
        .unwrap();
    if m.is_null(row) {
        return Vec::new();
    }
    let entry = m.value(row);
    let (k, v) = (
        entry.column(0).as_string::<i32>(),
        entry.column(1).as_string::<i32>(),
    );
    (0..k.len())
        .map(|i| format!("{}={}", k.value(i), v.value(i)))
        .collect()
}

/// `../shared/fixtures/peers/<tool>` beside the checkout (real files of the load tools), if
/// present; else `None`, saying the tests that need it are skipped.
pub(crate) fn peer_fixtures(tool: &str) -> Option<std::path::PathBuf> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/peers")
        .join(tool);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIP: {} is absent; {tool} fixture tests skipped",
            dir.display()
        );
        None
    }
}

/// One of `items` (not empty), for the randomized tests' generator.
pub(crate) trait Pick {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str;
}

impl Pick for fastrand::Rng {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.usize(..items.len())]
    }
}
