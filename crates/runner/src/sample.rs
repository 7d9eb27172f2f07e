//! [`Sample`]: one finished sample, owned, as a virtual user sends it to the collector, which
//! turns it into a schema record for the batch and hands it to the stop rules and the
//! peak-seeking windows.

use std::borrow::Cow;
use std::sync::Arc;

use loadlake_schema::{SampleKind, SampleRecord};

/// A sample's elapsed, latency and connect times in µs, where the runner measured them itself
/// (HTTP samples): stored in `elapsed_us` … beside the whole-ms columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Micros {
    pub elapsed: i64,
    pub latency: i64,
    pub connect: i64,
}

/// One finished sample, owned, on its way to the collector.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub ts_ms: i64,
    pub elapsed_ms: i64,
    pub latency_ms: i64,
    pub connect_ms: i64,
    pub idle_ms: i64,
    /// Open-model runs: elapsed time counted from the intended send time.
    pub intended_elapsed_ms: Option<i64>,
    /// The times in µs, where measured (HTTP samples); `None` for samples timed in ms.
    pub micros: Option<Micros>,
    pub label: Arc<str>,
    pub case_name: Arc<str>,
    pub thread: Arc<str>,
    pub kind: SampleKind,
    pub code: Cow<'static, str>,
    pub message: Cow<'static, str>,
    pub success: bool,
    pub failure_message: Option<String>,
    pub bytes_received: i64,
    pub bytes_sent: i64,
    pub grp_threads: i32,
    pub all_threads: i32,
    pub url: Option<Arc<str>>,
    pub data_type: Option<&'static str>,
    pub encoding: Option<Cow<'static, str>>,
    /// JMeter's sub-results (the page and the embedded resources of an HTTP sample), written
    /// right after this sample as `subsample` rows pointing at it; this sample's elapsed time
    /// and bytes already cover them.
    pub subresults: Vec<Sample>,
}

impl Sample {
    /// The record of sub-result of the sample at row `parent_row`.
    pub(crate) fn sub_record(&self, parent_row: i64) -> SampleRecord<'_> {
        SampleRecord {
            kind: Some(SampleKind::Subsample),
            parent_row: Some(parent_row),
            ..self.record()
        }
    }

    /// The record the batch builder takes.
    pub(crate) fn record(&self) -> SampleRecord<'_> {
        SampleRecord {
            ts_ms: Some(self.ts_ms),
            elapsed_ms: Some(self.elapsed_ms),
            latency_ms: Some(self.latency_ms),
            connect_ms: Some(self.connect_ms),
            idle_ms: Some(self.idle_ms),
            intended_elapsed_ms: self.intended_elapsed_ms,
            label: &self.label,
            case_name: (!self.case_name.is_empty()).then_some(&*self.case_name),
            thread: (!self.thread.is_empty()).then_some(&*self.thread),
            kind: Some(self.kind),
            response_code: (!self.code.is_empty()).then_some(&*self.code),
            response_message: Some(&self.message),
            success: self.success,
            failure_message: self.failure_message.as_deref(),
            bytes_received: Some(self.bytes_received),
            bytes_sent: Some(self.bytes_sent),
            grp_threads: Some(self.grp_threads),
            all_threads: Some(self.all_threads),
            url: self.url.as_deref(),
            data_type: self.data_type,
            encoding: self.encoding.as_deref(),
            elapsed_us: self.micros.map(|m| m.elapsed),
            latency_us: self.micros.map(|m| m.latency),
            connect_us: self.micros.map(|m| m.connect),
            ..SampleRecord::default()
        }
    }
}
