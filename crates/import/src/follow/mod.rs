//! Following a JTL CSV that JMeter is still writing (`loadlake import --follow`, issue 18): the
//! run is live while the file grows — its parts are written at most half a second after rows
//! arrive (`live_samples`), its status is RUNNING (`loadlake status`) — and it is committed
//! when the file has not grown for the idle time, on a stop (Ctrl-C, `loadlake stop`), or when
//! the file is truncated, replaced or deleted (then with status `incomplete`, and an error).
//!
//! New bytes are decoded in chunks of whole records: a chunk ends at the last line break
//! outside quotes, so a half-written last line (JMeter flushes in 8 KiB blocks) waits for its
//! end. Each chunk is decoded with the file's header line in front of it and its rows numbered
//! after the rows before; rejected rows keep the file's line numbers. A JMeter 5 sub-result
//! whose parent is in the previous chunk stays a `sample`.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use loadlake_ingest::{
    FileReport, IngestError, JtlFormat, Reject, RejectHandler, RejectLog, decode_plain, sniff,
};
use loadlake_schema::{RunManifest, RunStatus, SampleBatch, SampleSink, SinkError, SourceFile};
use loadlake_store::{
    LiveCounts, LivePublisher, LiveState, RunDraft, RunWriter, STOPPED_BY_REQUEST, Store,
    WriterOptions, content_hash,
};

use crate::{ImportError, ImportRequest};

/// How often the file is looked at.
const POLL: Duration = Duration::from_millis(100);

/// The most read from the file at once (a file followed when it is already large is read in
/// steps, not into memory whole).
const READ_STEP: u64 = 8 << 20;

/// Rows decoded are made visible (a part written) at least this often.
const VISIBLE_EVERY: Duration = Duration::from_millis(500);

/// A run followed as its file grows.
#[derive(Debug, Clone)]
pub struct FollowRequest {
    /// The JTL CSV being written.
    pub file: PathBuf,
    /// Commit once the file has not grown for this long.
    pub idle: Duration,
    /// Name, tags, decoding and the reject policy of the run (`files` is not used; `force` is
    /// implied: the file's bytes change as it is followed).
    pub template: ImportRequest,
}

/// Why following ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    /// The file stopped growing.
    Idle,
    /// Ctrl-C, or `loadlake stop`.
    Stopped(&'static str),
    /// Truncated, replaced or deleted: what was read is committed as `incomplete`.
    Broken(String),
}

/// The run's sink: the writer itself (a follower is as fast as JMeter writes), counting for
/// the live status.
struct LiveSink {
    writer: RunWriter,
    counts: LiveCounts,
    unflushed: bool,
}

impl SampleSink for LiveSink {
    fn write_batch(&mut self, batch: SampleBatch) -> Result<(), SinkError> {
        self.counts.count(&batch);
        self.unflushed = true;
        self.writer.write_batch(batch)
    }
}

/// Rejects with the file's line numbers (a chunk's lines counted from its header line).
struct Shifted<'a> {
    log: &'a mut RejectLog,
    by: u64,
}

impl RejectHandler for Shifted<'_> {
    fn reject(&mut self, mut r: Reject) -> Result<(), IngestError> {
        r.line += self.by;
        self.log.reject(r)
    }
}

/// The file being followed and what has been read of it.
struct Tail {
    path: PathBuf,
    display: String,
    file: File,
    inode: u64,
    /// Bytes read so far.
    offset: u64,
    /// Bytes read that do not end a record yet.
    pending: Vec<u8>,
    /// Lines handed to the decoder so far.
    lines_done: u64,
}

impl Tail {
    fn open(path: &Path) -> Result<Tail, ImportError> {
        let display = path.display().to_string();
        let read_error = |source| ImportError::Read {
            path: display.clone(),
            source,
        };
        let file = File::open(path).map_err(read_error)?;
        let inode = file.metadata().map_err(read_error)?.ino();
        Ok(Tail {
            path: path.to_path_buf(),
            display,
            file,
            inode,
            offset: 0,
            pending: Vec::new(),
            lines_done: 0,
        })
    }

    /// Reads what was appended; `Err` says why the file can no longer be followed.
    fn read_more(&mut self) -> Result<usize, String> {
        let on_disk = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) => return Err(format!("it was deleted or cannot be read ({e})")),
        };
        if on_disk.ino() != self.inode {
            return Err("it was replaced by another file (rotated?)".to_string());
        }
        if on_disk.len() < self.offset {
            return Err(format!(
                "it was truncated (from {} to {} bytes)",
                self.offset,
                on_disk.len()
            ));
        }
        let before = self.pending.len();
        self.file
            .seek(SeekFrom::Start(self.offset))
            .and_then(|_| {
                (&mut self.file)
                    .take(READ_STEP)
                    .read_to_end(&mut self.pending)
            })
            .map_err(|e| format!("reading it failed ({e})"))?;
        let got = self.pending.len() - before;
        self.offset += got as u64;
        Ok(got)
    }

    /// Takes the whole records pending: up to the last line break outside quotes.
    fn take_records(&mut self) -> Option<Vec<u8>> {
        let mut in_quotes = false;
        let mut end = None;
        for (i, b) in self.pending.iter().enumerate() {
            match b {
                b'"' => in_quotes = !in_quotes,
                b'\n' if !in_quotes => end = Some(i + 1),
                _ => {}
            }
        }
        let end = end?;
        let rest = self.pending.split_off(end);
        Some(std::mem::replace(&mut self.pending, rest))
    }
}

/// Follows `req.file` as one live run until it ends (see the module doc) and commits it.
/// `started` hears the run id once the run is live; `stop` is set by the caller on Ctrl-C.
pub fn import_follow(
    store: &Store,
    req: &FollowRequest,
    started: &mut dyn FnMut(&str),
    stop: &AtomicBool,
) -> Result<RunManifest, ImportError> {
    if !req.file.is_file() {
        return Err(ImportError::NoSuchFile(req.file.clone()));
    }
    let mut tail = Tail::open(&req.file)?;
    let mut writer = store.begin_run(WriterOptions::default())?;
    let run_id = writer.run_id().to_string();
    let name = req.template.name.clone().unwrap_or_else(|| {
        req.file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| run_id.clone())
    });
    let draft = |status, sources| RunDraft {
        name: name.clone(),
        tags: req.template.tags.clone(),
        status,
        sources,
        plan: req.template.plan.clone(),
    };
    // If this process dies, the next opener of the store commits what was written as
    // `incomplete` rather than removing it.
    writer.record_draft(&draft(RunStatus::Incomplete, Vec::new()))?;
    let mut live = LivePublisher::created(store, &run_id, &name);
    live.enter(LiveState::Running, &format!("following {}", tail.display));
    started(&run_id);

    let mut sink = LiveSink {
        writer,
        counts: LiveCounts::default(),
        unflushed: false,
    };
    let mut rejects = RejectLog::new(req.template.strict, req.template.max_errors);
    let mut follow = Following {
        opts: req,
        header: None,
        first: None,
        samples: 0,
        rejected: 0,
        warnings: BTreeSet::new(),
    };
    let end = follow.run(&mut tail, &mut sink, &mut rejects, &mut live, stop);
    let end = match end {
        Ok(end) => end,
        Err(e) => {
            live.enter(LiveState::Failed, &e.to_string());
            return Err(e);
        }
    };
    // What never got its line break is a cut record, as in a killed run's file.
    if !tail.pending.iter().all(u8::is_ascii_whitespace) {
        rejects.reject(Reject::new(
            &tail.display,
            tail.lines_done + 1,
            None,
            "incomplete last line (no line break when following ended)",
            Some(&tail.pending),
        ))?;
        follow.rejected += 1;
    }
    let LiveSink { writer, .. } = sink;
    if follow.samples == 0 {
        live.enter(LiveState::Failed, "no sample could be imported");
        return Err(ImportError::NothingImported {
            run_id,
            first_problem: rejects
                .rejects
                .first()
                .map(|r| format!("; first problem: {}", r.describe()))
                .unwrap_or_default(),
        });
    }
    let report = follow.first.take().unwrap_or_default();
    let source = SourceFile {
        path: tail.display.clone(),
        size_bytes: tail.offset,
        content_hash: content_hash(&req.file).unwrap_or_default(),
        format: JtlFormat::Csv.as_str().to_string(),
        columns: report.columns,
        has_header: report.has_header,
        delimiter: report.delimiter.map(|d| (d as char).to_string()),
        samples: follow.samples,
        rejected: follow.rejected,
        warnings: follow.warnings.into_iter().collect(),
        tool: None,
        tool_version: None,
    };
    let status = match end {
        End::Broken(_) => RunStatus::Incomplete,
        _ => RunStatus::Complete,
    };
    let manifest = writer.commit(draft(status, vec![source]), &rejects.rejects)?;
    match end {
        End::Broken(reason) => {
            live.enter(LiveState::Failed, &reason);
            Err(ImportError::FollowBroken {
                file: tail.display,
                reason,
                run_id: manifest.run_id.to_string(),
                samples: manifest.samples,
            })
        }
        End::Stopped(why) => {
            live.enter(LiveState::Stopped, why);
            Ok(manifest)
        }
        End::Idle => {
            live.enter(LiveState::Stopped, "the file stopped growing");
            Ok(manifest)
        }
    }
}

/// The decoding side of a follow.
struct Following<'a> {
    opts: &'a FollowRequest,
    /// The header line, put in front of every chunk after the first.
    header: Option<Vec<u8>>,
    /// The first chunk's report (columns, delimiter, header).
    first: Option<FileReport>,
    samples: u64,
    rejected: u64,
    warnings: BTreeSet<String>,
}

impl Following<'_> {
    /// Polls the file until following ends.
    fn run(
        &mut self,
        tail: &mut Tail,
        sink: &mut LiveSink,
        rejects: &mut RejectLog,
        live: &mut LivePublisher,
        stop: &AtomicBool,
    ) -> Result<End, ImportError> {
        let mut grew_at = Instant::now();
        let mut flushed_at = Instant::now();
        let mut refreshed_at = Instant::now();
        loop {
            let got = match tail.read_more() {
                Ok(got) => got,
                Err(reason) => return Ok(End::Broken(reason)),
            };
            if got > 0 {
                grew_at = Instant::now();
            }
            if let Some(records) = tail.take_records() {
                self.decode(tail, records, sink, rejects)?;
            }
            if sink.unflushed && flushed_at.elapsed() >= VISIBLE_EVERY {
                sink.writer.flush()?;
                sink.unflushed = false;
                flushed_at = Instant::now();
            }
            if refreshed_at.elapsed() >= Duration::from_secs(1) {
                live.refresh(|status, seconds| sink.counts.fill(status, seconds));
                refreshed_at = Instant::now();
            }
            if stop.load(Ordering::Relaxed) {
                return Ok(End::Stopped("stopped (Ctrl-C)"));
            }
            if live.take_stop_request() {
                return Ok(End::Stopped(STOPPED_BY_REQUEST));
            }
            if grew_at.elapsed() >= self.opts.idle {
                return Ok(End::Idle);
            }
            if (got as u64) < READ_STEP {
                std::thread::sleep(POLL);
            }
        }
    }

    /// Decodes one chunk of whole records.
    fn decode(
        &mut self,
        tail: &mut Tail,
        records: Vec<u8>,
        sink: &mut LiveSink,
        rejects: &mut RejectLog,
    ) -> Result<(), ImportError> {
        let lines = records.iter().filter(|&&b| b == b'\n').count() as u64;
        if records.iter().all(u8::is_ascii_whitespace) {
            tail.lines_done += lines;
            return Ok(());
        }
        let (text, by) = match &self.header {
            Some(header) => (
                [header.as_slice(), &records].concat(),
                tail.lines_done.saturating_sub(1),
            ),
            None => (records, tail.lines_done),
        };
        if self.first.is_none() {
            let mut head = text.as_slice();
            if sniff::sniff(&tail.display, &mut head, self.opts.template.decode.format)?
                != JtlFormat::Csv
            {
                return Err(ImportError::FollowXml(tail.display.clone()));
            }
        }
        let mut shifted = Shifted { log: rejects, by };
        let report = decode_plain(
            &tail.display,
            text.as_slice(),
            None,
            &self.opts.template.decode,
            self.samples as i64,
            sink,
            &mut shifted,
        )?;
        tail.lines_done += lines;
        self.samples += report.samples;
        self.rejected += report.rejected;
        self.warnings.extend(report.warnings.iter().cloned());
        if self.first.is_none() {
            if report.has_header == Some(true) {
                let end = text.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
                self.header = Some(text[..end].to_vec());
            }
            self.first = Some(report);
        }
        Ok(())
    }
}
