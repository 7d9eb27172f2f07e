//! The vocabulary every loadlake crate shares: the canonical sample schema (one Arrow row per
//! sample, the public SQL surface of the `samples` table), the builder that turns decoded samples
//! into [`SampleBatch`]es, the error-class rules applied once at ingest, run ids and the run
//! manifest, the [`SampleSink`] contract that joins every producer of samples to every
//! consumer, the plausible range of sample times and durations (`range`) and the bounded
//! decoding of Arrow IPC sample streams (`ipc`).

pub mod error_class;
pub mod fault;
pub mod ipc;
mod keep_room;
pub mod manifest;
mod null_column;
mod nullable;
pub mod range;
pub mod run_id;
pub mod sample;
pub mod sink;

pub use error_class::{ErrorClass, classify_error, k6_error_class};
pub use ipc::{IpcError, IpcLimits, decode_sample_ipc};
pub use manifest::{PartFile, RejectSummary, RunManifest, RunStatus, SourceFile};
pub use null_column::null_column;
pub use range::{RangeError, RowRangeError, check_duration, check_ts, validate_batch};
pub use run_id::{RunId, RunIdError};
pub use sample::{SampleBatchBuilder, SampleKind, SampleRecord, col, sample_schema};
pub use sink::{SampleBatch, SampleSink, SinkError, ThreadedSink};
