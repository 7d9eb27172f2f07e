//! The canonical sample: column names, the Arrow schema and the batch builder.
//!
//! Column names are snake_case and stable: they are the public SQL surface (docs/schema.md).

use std::sync::{Arc, LazyLock};

use arrow::array::{
    Array, ArrayRef, BooleanBuilder, Int32Builder, Int64Builder, MapArray, MapBuilder,
    MapFieldNames, StringBuilder, TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;

use crate::error_class::{ErrorClass, classify_error};
use crate::keep_room::KeepRoom;
use crate::nullable::Nullable;

/// Column names of the `samples` table.
pub mod col {
    pub const RUN_ID: &str = "run_id";
    pub const ROW: &str = "row";
    pub const TS: &str = "ts";
    pub const ELAPSED_MS: &str = "elapsed_ms";
    pub const LATENCY_MS: &str = "latency_ms";
    pub const CONNECT_MS: &str = "connect_ms";
    pub const IDLE_MS: &str = "idle_ms";
    pub const INTENDED_ELAPSED_MS: &str = "intended_elapsed_ms";
    pub const LABEL: &str = "label";
    pub const CASE_NAME: &str = "case_name";
    pub const THREAD: &str = "thread";
    pub const KIND: &str = "kind";
    pub const PARENT_ROW: &str = "parent_row";
    pub const RESPONSE_CODE: &str = "response_code";
    pub const RESPONSE_MESSAGE: &str = "response_message";
    pub const SUCCESS: &str = "success";
    pub const FAILURE_MESSAGE: &str = "failure_message";
    pub const ERROR_CLASS: &str = "error_class";
    pub const BYTES_RECEIVED: &str = "bytes_received";
    pub const BYTES_SENT: &str = "bytes_sent";
    pub const GRP_THREADS: &str = "grp_threads";
    pub const ALL_THREADS: &str = "all_threads";
    pub const SAMPLE_COUNT: &str = "sample_count";
    pub const ERROR_COUNT: &str = "error_count";
    pub const URL: &str = "url";
    pub const AGENT: &str = "agent";
    pub const DATA_TYPE: &str = "data_type";
    pub const ENCODING: &str = "encoding";
    pub const VARS: &str = "vars";
    /// `elapsed_ms` in microseconds, where the source measured finer than a millisecond (k6,
    /// the native runner); NULL for JMeter results.
    pub const ELAPSED_US: &str = "elapsed_us";
    /// `latency_ms` in microseconds (see [`ELAPSED_US`]).
    pub const LATENCY_US: &str = "latency_us";
    /// `connect_ms` in microseconds (see [`ELAPSED_US`]).
    pub const CONNECT_US: &str = "connect_us";
}

/// What a sample row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SampleKind {
    /// An ordinary top-level sample (one sampler execution).
    Sample,
    /// A Transaction Controller sample: spans its children.
    Transaction,
    /// A child of another sample (XML nesting, or a JMeter 5.x CSV `<label>-N` row); see `parent_row`.
    Subsample,
}

impl SampleKind {
    /// The value stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            SampleKind::Sample => "sample",
            SampleKind::Transaction => "transaction",
            SampleKind::Subsample => "subsample",
        }
    }
}

/// The prefix JMeter puts in the response message of Transaction Controller samples.
pub const TRANSACTION_MESSAGE_PREFIX: &str = "Number of samples in transaction";

fn map_field_names() -> MapFieldNames {
    MapFieldNames {
        entry: "entries".to_string(),
        key: "key".to_string(),
        value: "value".to_string(),
    }
}

/// A builder of the `vars` column with room for `rows` rows.
fn vars_builder(rows: usize) -> MapBuilder<StringBuilder, StringBuilder> {
    MapBuilder::with_capacity(
        Some(map_field_names()),
        StringBuilder::new(),
        StringBuilder::new(),
        rows,
    )
}

fn vars_type() -> DataType {
    let names = map_field_names();
    DataType::Map(
        Arc::new(Field::new(
            names.entry,
            DataType::Struct(
                vec![
                    Field::new(names.key, DataType::Utf8, false),
                    Field::new(names.value, DataType::Utf8, true),
                ]
                .into(),
            ),
            false,
        )),
        false,
    )
}

/// The timestamp type of `ts`: milliseconds since the epoch, UTC.
pub fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

static SAMPLE_SCHEMA_NO_RUN: LazyLock<SchemaRef> = LazyLock::new(|| {
    use DataType::{Boolean, Int32, Int64, Utf8};
    Arc::new(Schema::new(vec![
        Field::new(col::ROW, Int64, false),
        Field::new(col::TS, ts_type(), true),
        Field::new(col::ELAPSED_MS, Int64, true),
        Field::new(col::LATENCY_MS, Int64, true),
        Field::new(col::CONNECT_MS, Int64, true),
        Field::new(col::IDLE_MS, Int64, true),
        Field::new(col::INTENDED_ELAPSED_MS, Int64, true),
        Field::new(col::LABEL, Utf8, false),
        Field::new(col::CASE_NAME, Utf8, true),
        Field::new(col::THREAD, Utf8, true),
        Field::new(col::KIND, Utf8, false),
        Field::new(col::PARENT_ROW, Int64, true),
        Field::new(col::RESPONSE_CODE, Utf8, true),
        Field::new(col::RESPONSE_MESSAGE, Utf8, true),
        Field::new(col::SUCCESS, Boolean, false),
        Field::new(col::FAILURE_MESSAGE, Utf8, true),
        Field::new(col::ERROR_CLASS, Utf8, false),
        Field::new(col::BYTES_RECEIVED, Int64, true),
        Field::new(col::BYTES_SENT, Int64, true),
        Field::new(col::GRP_THREADS, Int32, true),
        Field::new(col::ALL_THREADS, Int32, true),
        Field::new(col::SAMPLE_COUNT, Int32, false),
        Field::new(col::ERROR_COUNT, Int32, false),
        Field::new(col::URL, Utf8, true),
        Field::new(col::AGENT, Utf8, true),
        Field::new(col::DATA_TYPE, Utf8, true),
        Field::new(col::ENCODING, Utf8, true),
        Field::new(col::VARS, vars_type(), true),
        Field::new(col::ELAPSED_US, Int64, true),
        Field::new(col::LATENCY_US, Int64, true),
        Field::new(col::CONNECT_US, Int64, true),
    ]))
});

/// The schema of a sample batch as decoders produce it and as Parquet files store it.
///
/// `run_id` is not a column of the files: it is the Hive partition (`run_id=<id>` directory) and
/// the query layer adds it as the first column of the `samples` table.
pub fn sample_schema() -> SchemaRef {
    SAMPLE_SCHEMA_NO_RUN.clone()
}

/// One decoded sample, borrowing its strings from the decoder's buffers.
///
/// `None` means "not recorded in the source" and becomes SQL NULL.
#[derive(Debug, Clone, Default)]
pub struct SampleRecord<'a> {
    pub ts_ms: Option<i64>,
    pub elapsed_ms: Option<i64>,
    pub latency_ms: Option<i64>,
    pub connect_ms: Option<i64>,
    pub idle_ms: Option<i64>,
    /// Open-model runs: ms from the intended send time to the end (coordinated-omission
    /// corrected); `None` elsewhere.
    pub intended_elapsed_ms: Option<i64>,
    pub label: &'a str,
    pub case_name: Option<&'a str>,
    pub thread: Option<&'a str>,
    pub kind: Option<SampleKind>,
    pub parent_row: Option<i64>,
    pub response_code: Option<&'a str>,
    pub response_message: Option<&'a str>,
    pub success: bool,
    pub failure_message: Option<&'a str>,
    pub bytes_received: Option<i64>,
    pub bytes_sent: Option<i64>,
    pub grp_threads: Option<i32>,
    pub all_threads: Option<i32>,
    /// `None` means 1 (an ordinary, non-aggregated sample).
    pub sample_count: Option<i32>,
    /// `None` means 0 when successful, 1 when not.
    pub error_count: Option<i32>,
    pub url: Option<&'a str>,
    pub agent: Option<&'a str>,
    pub data_type: Option<&'a str>,
    pub encoding: Option<&'a str>,
    pub vars: Vec<(&'a str, &'a str)>,
    /// The source's elapsed time in µs when it measured finer than a millisecond; `None` for
    /// sources in whole ms (JMeter). `elapsed_ms` keeps the source's value rounded to whole ms,
    /// as before, for JMeter-compatible reports.
    pub elapsed_us: Option<i64>,
    /// `latency_ms` in µs (see `elapsed_us`).
    pub latency_us: Option<i64>,
    /// `connect_ms` in µs (see `elapsed_us`).
    pub connect_us: Option<i64>,
}

impl SampleRecord<'_> {
    /// The kind this record gets when the decoder did not set one: a Transaction Controller
    /// message makes it a transaction, anything else is a plain sample.
    pub fn effective_kind(&self) -> SampleKind {
        match self.kind {
            Some(kind) => kind,
            None if self
                .response_message
                .is_some_and(|m| m.starts_with(TRANSACTION_MESSAGE_PREFIX)) =>
            {
                SampleKind::Transaction
            }
            None => SampleKind::Sample,
        }
    }
}

/// Accumulates [`SampleRecord`]s into Arrow arrays in the canonical schema.
///
/// Assigns each sample its `row` (the 0-based position in the run, in source order), derives
/// `kind` and `error_class`, and fills defaults for `sample_count` / `error_count`.
pub struct SampleBatchBuilder {
    next_row: i64,
    len: usize,
    row: Int64Builder,
    ts: Nullable<TimestampMillisecondBuilder>,
    elapsed: Nullable<Int64Builder>,
    latency: Nullable<Int64Builder>,
    connect: Nullable<Int64Builder>,
    idle: Nullable<Int64Builder>,
    intended_elapsed: Nullable<Int64Builder>,
    label: StringBuilder,
    case_name: Nullable<StringBuilder>,
    thread: Nullable<StringBuilder>,
    kind: StringBuilder,
    parent_row: Nullable<Int64Builder>,
    response_code: Nullable<StringBuilder>,
    response_message: Nullable<StringBuilder>,
    success: BooleanBuilder,
    failure_message: Nullable<StringBuilder>,
    error_class: StringBuilder,
    bytes_received: Nullable<Int64Builder>,
    bytes_sent: Nullable<Int64Builder>,
    grp_threads: Nullable<Int32Builder>,
    all_threads: Nullable<Int32Builder>,
    sample_count: Int32Builder,
    error_count: Int32Builder,
    url: Nullable<StringBuilder>,
    agent: Nullable<StringBuilder>,
    data_type: Nullable<StringBuilder>,
    encoding: Nullable<StringBuilder>,
    vars: MapBuilder<StringBuilder, StringBuilder>,
    elapsed_us: Nullable<Int64Builder>,
    latency_us: Nullable<Int64Builder>,
    connect_us: Nullable<Int64Builder>,
}

impl SampleBatchBuilder {
    /// A builder whose first sample gets row number `first_row`.
    pub fn new(first_row: i64) -> Self {
        Self {
            next_row: first_row,
            len: 0,
            row: Int64Builder::new(),
            ts: Nullable::new(TimestampMillisecondBuilder::new().with_timezone("UTC")),
            elapsed: Nullable::new(Int64Builder::new()),
            latency: Nullable::new(Int64Builder::new()),
            connect: Nullable::new(Int64Builder::new()),
            idle: Nullable::new(Int64Builder::new()),
            intended_elapsed: Nullable::new(Int64Builder::new()),
            label: StringBuilder::new(),
            case_name: Nullable::new(StringBuilder::new()),
            thread: Nullable::new(StringBuilder::new()),
            kind: StringBuilder::new(),
            parent_row: Nullable::new(Int64Builder::new()),
            response_code: Nullable::new(StringBuilder::new()),
            response_message: Nullable::new(StringBuilder::new()),
            success: BooleanBuilder::new(),
            failure_message: Nullable::new(StringBuilder::new()),
            error_class: StringBuilder::new(),
            bytes_received: Nullable::new(Int64Builder::new()),
            bytes_sent: Nullable::new(Int64Builder::new()),
            grp_threads: Nullable::new(Int32Builder::new()),
            all_threads: Nullable::new(Int32Builder::new()),
            sample_count: Int32Builder::new(),
            error_count: Int32Builder::new(),
            url: Nullable::new(StringBuilder::new()),
            agent: Nullable::new(StringBuilder::new()),
            data_type: Nullable::new(StringBuilder::new()),
            encoding: Nullable::new(StringBuilder::new()),
            vars: vars_builder(0),
            elapsed_us: Nullable::new(Int64Builder::new()),
            latency_us: Nullable::new(Int64Builder::new()),
            connect_us: Nullable::new(Int64Builder::new()),
        }
    }

    /// Number of samples buffered since the last [`finish`](Self::finish).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The row number the next pushed sample will get.
    pub fn next_row(&self) -> i64 {
        self.next_row
    }

    /// Appends one sample and returns the row number it was given.
    pub fn push(&mut self, r: &SampleRecord<'_>) -> Result<i64, ArrowError> {
        let class = classify_error(
            r.success,
            r.response_code,
            r.response_message,
            r.failure_message,
        );
        self.push_classified(r, class)
    }

    /// Appends one sample whose error class the decoder derived itself (k6's error codes,
    /// [`crate::k6_error_class`]) instead of JMeter's rules; returns its row number.
    pub fn push_classified(
        &mut self,
        r: &SampleRecord<'_>,
        class: ErrorClass,
    ) -> Result<i64, ArrowError> {
        let row = self.next_row;
        let kind = r.effective_kind();
        self.row.append_value(row);
        self.ts.append_option(r.ts_ms);
        self.elapsed.append_option(r.elapsed_ms);
        self.latency.append_option(r.latency_ms);
        self.connect.append_option(r.connect_ms);
        self.idle.append_option(r.idle_ms);
        self.intended_elapsed.append_option(r.intended_elapsed_ms);
        self.label.append_value(r.label);
        self.case_name.append_option(r.case_name);
        self.thread.append_option(r.thread);
        self.kind.append_value(kind.as_str());
        self.parent_row.append_option(r.parent_row);
        self.response_code.append_option(r.response_code);
        self.response_message.append_option(r.response_message);
        self.success.append_value(r.success);
        self.failure_message.append_option(r.failure_message);
        self.error_class.append_value(class.as_str());
        self.bytes_received.append_option(r.bytes_received);
        self.bytes_sent.append_option(r.bytes_sent);
        self.grp_threads.append_option(r.grp_threads);
        self.all_threads.append_option(r.all_threads);
        self.sample_count.append_value(r.sample_count.unwrap_or(1));
        self.error_count
            .append_value(r.error_count.unwrap_or(if r.success { 0 } else { 1 }));
        self.url.append_option(r.url);
        self.agent.append_option(r.agent);
        self.data_type.append_option(r.data_type);
        self.encoding.append_option(r.encoding);
        if r.vars.is_empty() {
            self.vars.append(false)?;
        } else {
            for (k, v) in &r.vars {
                self.vars.keys().append_value(k);
                self.vars.values().append_value(v);
            }
            self.vars.append(true)?;
        }
        self.elapsed_us.append_option(r.elapsed_us);
        self.latency_us.append_option(r.latency_us);
        self.connect_us.append_option(r.connect_us);
        self.next_row += 1;
        self.len += 1;
        Ok(row)
    }

    /// Takes the buffered samples out as one batch (possibly empty); the builder stays usable,
    /// with room for a batch as big as this one ([`KeepRoom`]).
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.row.finish_keeping_room()),
            Arc::new(self.ts.finish()),
            Arc::new(self.elapsed.finish()),
            Arc::new(self.latency.finish()),
            Arc::new(self.connect.finish()),
            Arc::new(self.idle.finish()),
            Arc::new(self.intended_elapsed.finish()),
            Arc::new(self.label.finish_keeping_room()),
            Arc::new(self.case_name.finish()),
            Arc::new(self.thread.finish()),
            Arc::new(self.kind.finish_keeping_room()),
            Arc::new(self.parent_row.finish()),
            Arc::new(self.response_code.finish()),
            Arc::new(self.response_message.finish()),
            Arc::new(self.success.finish_keeping_room()),
            Arc::new(self.failure_message.finish()),
            Arc::new(self.error_class.finish_keeping_room()),
            Arc::new(self.bytes_received.finish()),
            Arc::new(self.bytes_sent.finish()),
            Arc::new(self.grp_threads.finish()),
            Arc::new(self.all_threads.finish()),
            Arc::new(self.sample_count.finish_keeping_room()),
            Arc::new(self.error_count.finish_keeping_room()),
            Arc::new(self.url.finish()),
            Arc::new(self.agent.finish()),
            Arc::new(self.data_type.finish()),
            Arc::new(self.encoding.finish()),
            Arc::new(self.finish_vars()),
            Arc::new(self.elapsed_us.finish()),
            Arc::new(self.latency_us.finish()),
            Arc::new(self.connect_us.finish()),
        ];
        self.len = 0;
        RecordBatch::try_new(sample_schema(), columns)
    }

    /// The `vars` column so far; the builder starts over with room for as many rows (the
    /// [`KeepRoom`] of a map builder, whose field names only this module knows).
    fn finish_vars(&mut self) -> MapArray {
        let array = self.vars.finish();
        self.vars = vars_builder(array.len());
        array
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::AsArray;
    use arrow::datatypes::Int64Type;

    #[test]
    fn builder_assigns_rows_kinds_and_defaults() {
        let mut b = SampleBatchBuilder::new(10);
        let ok = SampleRecord {
            label: "home",
            success: true,
            response_code: Some("200"),
            ..Default::default()
        };
        let tc = SampleRecord {
            label: "checkout",
            success: false,
            response_message: Some(
                "Number of samples in transaction : 2, number of failing samples : 1",
            ),
            vars: vec![("USER", "u1")],
            ..Default::default()
        };
        assert_eq!(b.push(&ok).unwrap(), 10);
        assert_eq!(b.push(&tc).unwrap(), 11);
        let batch = b.finish().unwrap();
        assert_eq!(batch.num_rows(), 2);
        let rows = batch.column(0).as_primitive::<Int64Type>();
        assert_eq!((rows.value(0), rows.value(1)), (10, 11));
        let kind = batch.column_by_name(col::KIND).unwrap().as_string::<i32>();
        assert_eq!((kind.value(0), kind.value(1)), ("sample", "transaction"));
        let ec = batch.column_by_name(col::ERROR_COUNT).unwrap();
        let ec = ec.as_primitive::<arrow::datatypes::Int32Type>();
        assert_eq!((ec.value(0), ec.value(1)), (0, 1));
        let vars = batch.column_by_name(col::VARS).unwrap();
        assert!(vars.is_null(0));
        assert!(!vars.is_null(1));
        assert!(b.is_empty());
    }

    /// A builder reused after `finish` (with the room it kept) gives the batches a fresh
    /// builder gives, across batches whose columns go from all values to some nulls to all
    /// nulls and back, with vars present and absent.
    #[test]
    fn reused_builder_gives_the_batches_of_fresh_ones() {
        let record = |i: i64| {
            let some = |every: i64| i % every != 0;
            SampleRecord {
                ts_ms: some(2).then_some(1_000 + i),
                elapsed_ms: Some(i),
                latency_ms: some(3).then_some(i * 2),
                label: if i % 4 == 0 { "a" } else { "label-b" },
                thread: some(5).then_some("T 1-1"),
                response_code: some(2).then_some("500"),
                response_message: Some("Internal"),
                success: i % 3 == 0,
                failure_message: some(4).then_some("boom"),
                grp_threads: some(2).then_some(i as i32),
                url: (i > 6).then_some("http://x/y"),
                vars: if i % 2 == 0 {
                    vec![("USER", "u")]
                } else {
                    vec![]
                },
                ..Default::default()
            }
        };
        // Row ranges of the batches: all kinds of nulls, one row, none, many.
        let batches = [0..7, 7..8, 8..8, 8..40, 40..43];
        let mut reused = SampleBatchBuilder::new(100);
        for rows in batches {
            let mut fresh = SampleBatchBuilder::new(100 + rows.start);
            for i in rows {
                reused.push(&record(i)).unwrap();
                fresh.push(&record(i)).unwrap();
            }
            assert_eq!(reused.finish().unwrap(), fresh.finish().unwrap());
        }
    }
}
