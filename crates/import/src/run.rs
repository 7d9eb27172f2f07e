//! One import run: every input file (a zip archive's JTL members each) decoded in turn into one
//! [`ThreadedSink`] in front of the store's run writer, rows numbered across them, then
//! committed as one run.

use std::fs::File;
use std::path::Path;

use loadlake_ingest::{
    DecodeOptions, FileReport, IngestError, RejectLog, decode_file, decode_open_file, decode_plain,
};
use loadlake_schema::{
    RunManifest, RunStatus, SampleBatch, SampleSink, SinkError, SourceFile, ThreadedSink,
};
use loadlake_store::{ContentHasher, RunDraft, RunWriter, Store, WriterOptions, content_hash};

use crate::archive::{decode_archive, is_zip};
use crate::{ImportError, ImportRequest};

/// Batches waiting between the decoding thread and the Parquet-writing thread.
const PIPELINE_DEPTH: usize = 4;

/// Called with the number of samples of each batch handed to the store (progress of a
/// back-fill); `Send` as the sink that calls it.
pub type RowsDone<'a> = &'a mut (dyn FnMut(u64) + Send);

/// The run's sink, counting the samples that pass.
struct CountingSink<'a> {
    inner: ThreadedSink<RunWriter>,
    samples: u64,
    on_rows: RowsDone<'a>,
}

impl SampleSink for CountingSink<'_> {
    fn write_batch(&mut self, batch: SampleBatch) -> Result<(), SinkError> {
        let n = batch.num_rows() as u64;
        self.inner.write_batch(batch)?;
        self.samples += n;
        (self.on_rows)(n);
        Ok(())
    }
}

/// The state of a run while its sources are decoded.
pub(crate) struct RunDecoding<'a> {
    opts: &'a DecodeOptions,
    sink: CountingSink<'a>,
    rejects: RejectLog,
    next_row: i64,
    sources: Vec<SourceFile>,
}

impl RunDecoding<'_> {
    /// Samples handed to the store so far.
    pub(crate) fn samples_written(&self) -> u64 {
        self.sink.samples
    }

    /// Runs one decoder over the run's sink and rejects, numbering its rows after the run's rows
    /// so far.
    fn numbered(
        &mut self,
        decoder: impl FnOnce(
            &DecodeOptions,
            i64,
            &mut dyn SampleSink,
            &mut RejectLog,
        ) -> Result<FileReport, IngestError>,
    ) -> Result<FileReport, ImportError> {
        let report = decoder(self.opts, self.next_row, &mut self.sink, &mut self.rejects)?;
        self.next_row += report.samples as i64;
        Ok(report)
    }

    /// Decodes one plain JTL text named `display` (a zip member).
    pub(crate) fn decode(
        &mut self,
        display: &str,
        plain: impl std::io::BufRead,
    ) -> Result<FileReport, ImportError> {
        self.numbered(|opts, first_row, sink, rejects| {
            decode_plain(display, plain, None, opts, first_row, sink, rejects)
        })
    }

    /// Decodes the file at `path` (plain or compressed), named `name` in the run, and returns
    /// its content hash: `known`, else taken from the bytes as the decoder reads them (the
    /// file is read once).
    fn decode_file(
        &mut self,
        path: &Path,
        name: &str,
        known: Option<&str>,
    ) -> Result<String, ImportError> {
        let (report, hash) = match known {
            Some(hash) => {
                let report = self.numbered(|opts, first_row, sink, rejects| {
                    decode_file(path, opts, first_row, sink, rejects)
                })?;
                (report, hash.to_string())
            }
            None => {
                let display = path.display().to_string();
                let io = |source| ImportError::Read {
                    path: display.clone(),
                    source,
                };
                let file = File::open(path).map_err(io)?;
                let len = file.metadata().map_err(io)?.len();
                let mut hasher = ContentHasher::default();
                let report = self.numbered(|opts, first_row, sink, rejects| {
                    let on_bytes = &mut |bytes: &[u8]| hasher.update(bytes);
                    decode_open_file(
                        &display, file, len, on_bytes, opts, first_row, sink, rejects,
                    )
                })?;
                hasher.read_rest(path)?;
                (report, hasher.finish())
            }
        };
        let size_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        self.add_source(name.to_string(), size_bytes, &hash, report);
        Ok(hash)
    }

    /// Records a decoded source in the manifest to be.
    pub(crate) fn add_source(
        &mut self,
        name: String,
        size_bytes: u64,
        hash: &str,
        report: FileReport,
    ) {
        for w in &report.warnings {
            tracing::warn!("{name}: {w}");
        }
        self.sources.push(SourceFile {
            path: name,
            size_bytes,
            content_hash: hash.to_string(),
            format: report
                .format
                .map(|f| f.as_str())
                .unwrap_or("csv")
                .to_string(),
            columns: report.columns,
            has_header: report.has_header,
            delimiter: report.delimiter.map(|d| (d as char).to_string()),
            samples: report.samples,
            rejected: report.rejected,
            warnings: report.warnings,
            tool: report.tool,
            tool_version: report.tool_version,
        });
    }
}

/// The duplicate check of a run's files, given (name, content hash) of each: run after
/// decoding, before the commit (the hashes of most files are taken while they are decoded).
pub(crate) type CheckHashes<'a> = &'a dyn Fn(&[(String, String)]) -> Result<(), ImportError>;

/// Decodes `req.files` (named `names`) into one run and commits it. `known` holds the content
/// hash of each file when the caller has it (`None`: taken while the file is decoded); `check`
/// refuses duplicates before anything is committed. `on_rows` hears of every batch written.
pub(crate) fn write_run(
    store: &Store,
    req: &ImportRequest,
    names: &[String],
    known: &[Option<String>],
    check: CheckHashes<'_>,
    on_rows: RowsDone<'_>,
) -> Result<RunManifest, ImportError> {
    let writer = store.begin_run(WriterOptions::default())?;
    let run_id = writer.run_id().clone();
    let mut run = RunDecoding {
        opts: &req.decode,
        sink: CountingSink {
            inner: ThreadedSink::spawn(writer, PIPELINE_DEPTH),
            samples: 0,
            on_rows,
        },
        rejects: RejectLog::new(req.strict, req.max_errors),
        next_row: 0,
        sources: Vec::new(),
    };
    let mut hashed = Vec::with_capacity(names.len());
    for ((path, name), known) in req.files.iter().zip(names).zip(known) {
        let hash = if is_zip(path)? {
            let hash = match known {
                Some(hash) => hash.clone(),
                None => content_hash(path)?,
            };
            decode_archive(path, name, &hash, &mut run)?;
            hash
        } else {
            run.decode_file(path, name, known.as_deref())?
        };
        hashed.push((name.clone(), hash));
    }
    check(&hashed)?;
    let RunDecoding {
        sink,
        rejects,
        next_row,
        sources,
        ..
    } = run;
    let writer = sink.inner.finish()?;
    if next_row == 0 {
        let first = rejects
            .rejects
            .first()
            .map(|r| format!("; first problem: {}", r.describe()))
            .unwrap_or_default();
        return Err(ImportError::NothingImported {
            run_id: run_id.to_string(),
            first_problem: first,
        });
    }
    let name = req.name.clone().unwrap_or_else(|| {
        names
            .first()
            .and_then(|n| Path::new(n).file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| run_id.to_string())
    });
    let draft = RunDraft {
        name,
        tags: req.tags.clone(),
        status: RunStatus::Complete,
        sources,
        plan: req.plan.clone(),
    };
    Ok(writer.commit(draft, &rejects.rejects)?)
}
