//! [`RecordOutput`]: the output side the decoders of other tools' records (k6, Gatling) share —
//! samples into batches and the sink, rejects to the handler, counts and notes into the file's
//! report.

use loadlake_schema::{ErrorClass, SampleBatchBuilder, SampleRecord, SampleSink};

use crate::FileReport;
use crate::error::IngestError;
use crate::options::DecodeOptions;
use crate::rejects::{Reject, RejectHandler};

/// Where one file's decoded records go.
pub(crate) struct RecordOutput<'a> {
    /// The file's name, as rejects and errors name it.
    pub(crate) file: &'a str,
    batch_rows: usize,
    sink: &'a mut dyn SampleSink,
    rejects: &'a mut dyn RejectHandler,
    builder: SampleBatchBuilder,
    report: FileReport,
}

impl<'a> RecordOutput<'a> {
    /// Output for `file`, rows numbered from `first_row`, starting from `report`.
    pub(crate) fn new(
        file: &'a str,
        opts: &DecodeOptions,
        first_row: i64,
        sink: &'a mut dyn SampleSink,
        rejects: &'a mut dyn RejectHandler,
        report: FileReport,
    ) -> Self {
        RecordOutput {
            file,
            batch_rows: opts.batch_rows,
            sink,
            rejects,
            builder: SampleBatchBuilder::new(first_row),
            report,
        }
    }

    /// Adds a warning to the file's report.
    pub(crate) fn warn(&mut self, w: String) {
        self.report.warnings.push(w);
    }

    /// The report being built.
    pub(crate) fn report_mut(&mut self) -> &mut FileReport {
        &mut self.report
    }

    /// Rejects the record at `line` (counted; the handler decides whether the import goes on).
    pub(crate) fn reject(
        &mut self,
        line: u64,
        field: Option<&str>,
        reason: String,
        raw: Option<&[u8]>,
    ) -> Result<(), IngestError> {
        self.report.rejected += 1;
        self.rejects
            .reject(Reject::new(self.file, line, field, reason, raw))
    }

    /// Pushes the sample of `line` (with `class` as its error class when the decoder decided
    /// it, else classified from the record), flushing a full batch; a record the builder
    /// refuses is rejected.
    pub(crate) fn push(
        &mut self,
        line: u64,
        record: &SampleRecord<'_>,
        class: Option<ErrorClass>,
    ) -> Result<(), IngestError> {
        let pushed = match class {
            Some(class) => self.builder.push_classified(record, class),
            None => self.builder.push(record),
        };
        match pushed {
            Ok(_) => {
                self.report.samples += 1;
                if self.builder.len() >= self.batch_rows {
                    crate::flush_batch(self.file, &mut self.builder, self.sink)?;
                }
                Ok(())
            }
            Err(e) => self.reject(line, None, e.to_string(), None),
        }
    }

    /// Writes the last batch and returns the file's report.
    pub(crate) fn finish(mut self) -> Result<FileReport, IngestError> {
        crate::flush_batch(self.file, &mut self.builder, self.sink)?;
        Ok(self.report)
    }
}
