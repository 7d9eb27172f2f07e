//! The vocabulary every loadlake crate shares: the canonical sample schema (one Arrow row per
//! sample, the public SQL surface of the `samples` table), the builder that turns decoded samples
//! into [`SampleBatch`]es, the error-class rules applied once at ingest, run ids and the run
//! manifest, and the [`SampleSink`] contract that joins every producer of samples to every
//! consumer.

pub mod error_class;
pub mod manifest;
pub mod run_id;
pub mod sample;
pub mod sink;

pub use error_class::{ErrorClass, classify_error};
pub use manifest::{RejectSummary, RunManifest, RunStatus, SourceFile};
pub use run_id::{RunId, RunIdError};
pub use sample::{SampleBatchBuilder, SampleKind, SampleRecord, col, sample_schema};
pub use sink::{SampleBatch, SampleSink, SinkError, ThreadedSink};
