//! `loadlake run --jtl FILE`: the run's samples also written as a JMeter CSV results file (the
//! JMeter 5.x default columns, with a header), so JMeter's own tools and anything that reads JTL
//! can use a native run. [`JtlTee`] is a [`SampleSink`] that writes each batch's rows, then hands
//! the batch on to the real sink (the store).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Int32Type, Int64Type, TimestampMillisecondType};
use loadlake_schema::{SampleBatch, SampleSink, SinkError, col};

/// JMeter 5.x's default CSV columns, in order.
pub const JTL_COLUMNS: [&str; 17] = [
    "timeStamp",
    "elapsed",
    "label",
    "responseCode",
    "responseMessage",
    "threadName",
    "dataType",
    "success",
    "failureMessage",
    "bytes",
    "sentBytes",
    "grpThreads",
    "allThreads",
    "URL",
    "Latency",
    "IdleTime",
    "Connect",
];

/// Why the JTL file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("writing the JTL file {path}: {source}")]
pub struct JtlError {
    path: PathBuf,
    #[source]
    source: csv::Error,
}

/// Writes every batch to a JTL CSV file, then passes it to `inner`.
pub struct JtlTee<'a> {
    path: PathBuf,
    out: csv::Writer<BufWriter<File>>,
    inner: &'a mut dyn SampleSink,
}

impl<'a> JtlTee<'a> {
    /// Creates (truncates) `path` and writes the header line.
    pub fn create(path: &Path, inner: &'a mut dyn SampleSink) -> Result<JtlTee<'a>, JtlError> {
        let fail = |source| JtlError {
            path: path.to_path_buf(),
            source,
        };
        let file = File::create(path).map_err(|e| fail(e.into()))?;
        let mut out = csv::Writer::from_writer(BufWriter::new(file));
        out.write_record(JTL_COLUMNS).map_err(fail)?;
        Ok(JtlTee {
            path: path.to_path_buf(),
            out,
            inner,
        })
    }

    /// Flushes the file.
    pub fn finish(mut self) -> Result<(), JtlError> {
        self.out.flush().map_err(|e| JtlError {
            path: self.path.clone(),
            source: e.into(),
        })
    }

    fn write_rows(&mut self, batch: &SampleBatch) -> Result<(), SinkError> {
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .ok_or_else(|| SinkError::new(format!("sample batch without column {name}")))
        };
        let text = |name: &str| column(name).map(|c| c.as_string::<i32>().clone());
        let int = |name: &str| column(name).map(|c| c.as_primitive::<Int64Type>().clone());
        let int32 = |name: &str| column(name).map(|c| c.as_primitive::<Int32Type>().clone());
        let ts = column(col::TS)?
            .as_primitive::<TimestampMillisecondType>()
            .clone();
        let (elapsed, latency, idle, connect) = (
            int(col::ELAPSED_MS)?,
            int(col::LATENCY_MS)?,
            int(col::IDLE_MS)?,
            int(col::CONNECT_MS)?,
        );
        let (received, sent) = (int(col::BYTES_RECEIVED)?, int(col::BYTES_SENT)?);
        let (grp, all) = (int32(col::GRP_THREADS)?, int32(col::ALL_THREADS)?);
        let (label, code, message, thread) = (
            text(col::LABEL)?,
            text(col::RESPONSE_CODE)?,
            text(col::RESPONSE_MESSAGE)?,
            text(col::THREAD)?,
        );
        let (data_type, failure, url) = (
            text(col::DATA_TYPE)?,
            text(col::FAILURE_MESSAGE)?,
            text(col::URL)?,
        );
        let success = column(col::SUCCESS)?.as_boolean().clone();
        fn s<A: Array>(a: &A, i: usize, v: impl FnOnce() -> String) -> String {
            if a.is_valid(i) { v() } else { String::new() }
        }
        for i in 0..batch.num_rows() {
            let record = [
                s(&ts, i, || ts.value(i).to_string()),
                s(&elapsed, i, || elapsed.value(i).to_string()),
                label.value(i).to_string(),
                s(&code, i, || code.value(i).to_string()),
                s(&message, i, || message.value(i).to_string()),
                s(&thread, i, || thread.value(i).to_string()),
                s(&data_type, i, || data_type.value(i).to_string()),
                success.value(i).to_string(),
                s(&failure, i, || failure.value(i).to_string()),
                s(&received, i, || received.value(i).to_string()),
                s(&sent, i, || sent.value(i).to_string()),
                s(&grp, i, || grp.value(i).to_string()),
                s(&all, i, || all.value(i).to_string()),
                s(&url, i, || url.value(i).to_string()),
                s(&latency, i, || latency.value(i).to_string()),
                s(&idle, i, || idle.value(i).to_string()),
                s(&connect, i, || connect.value(i).to_string()),
            ];
            self.out.write_record(&record).map_err(SinkError::new)?;
        }
        Ok(())
    }
}

impl SampleSink for JtlTee<'_> {
    fn write_batch(&mut self, batch: SampleBatch) -> Result<(), SinkError> {
        self.write_rows(&batch)?;
        self.inner.write_batch(batch)
    }
}
