//! The [`SampleSink`] contract: every producer of samples (the CSV and XML decoders, the runner)
//! pushes [`SampleBatch`]es into a sink; every consumer (the store's run writer, live statistics,
//! an agent's gRPC sample stream, a test collector) implements it.
//!
//! Push rather than pull, as ripgrep's `Sink`: producers own their loops and their error
//! reporting; a sink only has to accept batches in order.
//!
//! Contract:
//! - batches arrive in source order; row numbers (`row` column) increase across batches;
//! - `write_batch` may block: that is the back-pressure (a bounded [`ThreadedSink`] channel);
//! - an error from a sink is fatal for the producer: it stops and reports it, nothing is retried.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use arrow::record_batch::RecordBatch;

/// A batch of samples in the canonical schema ([`crate::sample_schema`]).
pub type SampleBatch = RecordBatch;

/// Why a sink refused a batch.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SinkError(pub Box<dyn std::error::Error + Send + Sync>);

impl SinkError {
    /// Wraps any error as a sink error.
    pub fn new(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        SinkError(e.into())
    }
}

impl crate::fault::HasFault for SinkError {
    /// As the OS error inside says (a full disk under the store is exhausted space), else ours.
    fn fault(&self) -> crate::fault::Fault {
        crate::fault::io_fault_in_chain(self.0.as_ref()).unwrap_or(crate::fault::Fault::Internal)
    }
}

/// Receives sample batches in order (see the module doc for the contract). Sinks are `Send` so
/// that a producer holding one (the runner's collector) can run on any thread of a runtime.
pub trait SampleSink: Send {
    /// Accepts one batch; blocks while the consumer is behind.
    fn write_batch(&mut self, batch: SampleBatch) -> Result<(), SinkError>;
}

impl<S: SampleSink + ?Sized> SampleSink for &mut S {
    fn write_batch(&mut self, batch: SampleBatch) -> Result<(), SinkError> {
        (**self).write_batch(batch)
    }
}

/// Collects batches in memory (tests, small tools).
impl SampleSink for Vec<SampleBatch> {
    fn write_batch(&mut self, batch: SampleBatch) -> Result<(), SinkError> {
        self.push(batch);
        Ok(())
    }
}

/// Runs another sink on its own thread behind a bounded channel, so that decoding and
/// encoding overlap (two cores: one parses, one writes Parquet).
pub struct ThreadedSink<S: SampleSink + Send + 'static> {
    tx: Option<SyncSender<SampleBatch>>,
    handle: Option<JoinHandle<(S, Result<(), SinkError>)>>,
    /// The error the writer thread stopped with, once a write has reported it: `finish`
    /// returns it again, whole, rather than a bare "already joined".
    failed: Option<SinkError>,
}

impl<S: SampleSink + Send + 'static> ThreadedSink<S> {
    /// Moves `inner` to a new thread; at most `capacity` batches wait in between.
    pub fn spawn(mut inner: S, capacity: usize) -> Self {
        let (tx, rx): (SyncSender<SampleBatch>, Receiver<SampleBatch>) = sync_channel(capacity);
        let handle = std::thread::spawn(move || {
            for batch in rx {
                if let Err(e) = inner.write_batch(batch) {
                    return (inner, Err(e));
                }
            }
            (inner, Ok(()))
        });
        ThreadedSink {
            tx: Some(tx),
            handle: Some(handle),
            failed: None,
        }
    }

    /// Waits for every batch to be written and gives the inner sink back.
    pub fn finish(mut self) -> Result<S, SinkError> {
        match self.failed.take() {
            Some(e) => Err(e),
            None => self.join(),
        }
    }

    fn join(&mut self) -> Result<S, SinkError> {
        drop(self.tx.take());
        let handle = self
            .handle
            .take()
            .ok_or_else(|| SinkError::new("sink thread already joined"))?;
        match handle.join() {
            Ok((inner, Ok(()))) => Ok(inner),
            Ok((_, Err(e))) => Err(e),
            Err(_) => Err(SinkError::new("sample sink thread panicked")),
        }
    }
}

impl<S: SampleSink + Send + 'static> SampleSink for ThreadedSink<S> {
    fn write_batch(&mut self, batch: SampleBatch) -> Result<(), SinkError> {
        let sent = match &self.tx {
            Some(tx) => tx.send(batch).is_ok(),
            None => false,
        };
        if sent {
            Ok(())
        } else {
            // The writer thread stopped: surface its error (and keep it for `finish`).
            match self.join() {
                Err(e) => {
                    let message = e.to_string();
                    self.failed = Some(e);
                    Err(SinkError::new(message))
                }
                Ok(_) => Err(SinkError::new("sample sink closed")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::{Fault, HasFault};
    use crate::sample::{SampleBatchBuilder, SampleRecord};

    /// Accepts `room` batches, then fails every write as a full disk does.
    struct FillsUp {
        room: usize,
    }

    impl SampleSink for FillsUp {
        fn write_batch(&mut self, _batch: SampleBatch) -> Result<(), SinkError> {
            if self.room == 0 {
                return Err(SinkError::new(std::io::Error::from(
                    std::io::ErrorKind::StorageFull,
                )));
            }
            self.room -= 1;
            Ok(())
        }
    }

    fn one_sample() -> SampleBatch {
        let mut b = SampleBatchBuilder::new(0);
        b.push(&SampleRecord {
            ts_ms: Some(1),
            label: "x",
            success: true,
            ..Default::default()
        })
        .expect("push");
        b.finish().expect("batch")
    }

    #[test]
    fn finish_returns_the_error_the_writer_thread_stopped_with() {
        let mut sink = ThreadedSink::spawn(FillsUp { room: 2 }, 1);
        let refused = (0..100).find_map(|_| sink.write_batch(one_sample()).err());
        let refused = refused.expect("the third write fails, at the latest when noticed");
        assert!(
            refused.to_string().contains("no storage space"),
            "{refused}"
        );
        let e = sink.finish().err().expect("finish reports the failure");
        // The original error, whole: its OS error says whose fault it is.
        assert!(e.to_string().contains("no storage space"), "{e}");
        assert_eq!(e.fault(), Fault::Exhausted);
    }
}
