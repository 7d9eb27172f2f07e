//! Following a JTL that JMeter is still writing (`loadlake import --follow`, issue 18): the
//! run is live while the file grows — its parts are written at most half a second after rows
//! arrive (`live_samples`), its status is RUNNING (`loadlake status`) — and it is committed
//! when the file has not grown for the idle time, on a stop (Ctrl-C, `loadlake stop`), when
//! JMeter says the run ended (an XML file's `</testResults>`, or its log with `--jmeter-log`,
//! see [`jmeter_log`]), or when the file is truncated, replaced or deleted (then with status
//! `incomplete`, and an error).
//!
//! The format is told by the first byte that is not blank (`<`: XML, else CSV) unless
//! `--format` says. New bytes are decoded in chunks of whole records, so the end of a record
//! that JMeter's buffered writer (8 KiB blocks) has not written yet waits:
//! - CSV: a chunk ends at the last line break outside quotes. Each chunk is decoded with the
//!   file's header line in front of it and its rows numbered after the rows before; the JMeter
//!   5 sub-result parents still open are carried to the next chunk, so that a sub-result whose
//!   parent was in an earlier chunk is linked to it.
//! - XML: a chunk ends after the last whole top-level sample element
//!   ([`loadlake_ingest::xml::split_whole_samples`]); each is decoded by the XML decoder as the
//!   file's head (prolog and `<testResults>`), the chunk and a closing tag.
//!
//! Rejected rows keep the file's line numbers.

mod jmeter_log;
mod tail;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use loadlake_ingest::csv::decode_csv;
use loadlake_ingest::subresults::SubResultTracker;
use loadlake_ingest::xml::{XmlPart, decode_xml_samples, split_whole_samples};
use loadlake_ingest::{
    FileReport, IngestError, JtlFormat, Reject, RejectHandler, RejectLog, sniff,
};
use loadlake_schema::{RunManifest, RunStatus, SampleBatch, SampleSink, SinkError, SourceFile};
use loadlake_store::{
    LiveCounts, LivePublisher, LiveState, RunDraft, RunWriter, STOPPED_BY_REQUEST, Store,
    WriterOptions, content_hash,
};

use crate::{ImportError, ImportRequest};
use jmeter_log::{AFTER_END_OF_TEST, JmeterLog, LogSays};
use tail::{READ_STEP, Tail};

/// How often the file is looked at.
const POLL: Duration = Duration::from_millis(100);

/// Rows decoded are made visible (a part written) at least this often.
const VISIBLE_EVERY: Duration = Duration::from_millis(500);

/// A run followed as its file grows.
#[derive(Debug, Clone)]
pub struct FollowRequest {
    /// The JTL (CSV or XML) being written.
    pub file: PathBuf,
    /// Commit once the file has not grown for this long.
    pub idle: Duration,
    /// JMeter's log (`-j`) or its saved standard output: commit when it says the run ended.
    pub jmeter_log: Option<PathBuf>,
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
    /// JMeter said the run ended: why.
    Ended(String),
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
        format: Format::Unknown,
        first: None,
        columns: Vec::new(),
        samples: 0,
        rejected: 0,
        warnings: BTreeSet::new(),
        subresults: SubResultTracker::default(),
    };
    let end = follow.run(&mut tail, &mut sink, &mut rejects, &mut live, stop);
    let end = match end {
        Ok(end) => end,
        Err(e) => {
            live.enter(LiveState::Failed, &e.to_string());
            return Err(e);
        }
    };
    follow.unfinished(&mut tail, &mut sink, &mut rejects)?;
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
        format: follow.format.jtl().as_str().to_string(),
        columns: std::mem::take(&mut follow.columns),
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
        End::Ended(why) => {
            live.enter(LiveState::Stopped, &why);
            Ok(manifest)
        }
        End::Idle => {
            live.enter(LiveState::Stopped, "the file stopped growing");
            Ok(manifest)
        }
    }
}

/// The followed file's format, once its first bytes are read.
enum Format {
    /// Nothing but blanks read yet.
    Unknown,
    Csv {
        /// The header line, put in front of every chunk after the first.
        header: Option<Vec<u8>>,
    },
    Xml {
        /// The prolog and root start tag, once read whole.
        head: Option<Vec<u8>>,
        /// `</testResults>` was read: the run ended.
        closed: bool,
    },
}

impl Format {
    fn jtl(&self) -> JtlFormat {
        match self {
            Format::Xml { .. } => JtlFormat::Xml,
            _ => JtlFormat::Csv,
        }
    }
}

/// The decoding side of a follow.
struct Following<'a> {
    opts: &'a FollowRequest,
    format: Format,
    /// The first chunk's report (delimiter, header).
    first: Option<FileReport>,
    /// Columns (CSV) or attributes (XML) seen, in order of first sight.
    columns: Vec<String>,
    samples: u64,
    rejected: u64,
    warnings: BTreeSet<String>,
    /// CSV: the sub-result parents still open after the chunks so far.
    subresults: SubResultTracker,
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
        let mut log = self.opts.jmeter_log.as_deref().map(JmeterLog::open);
        let mut grew_at = Instant::now();
        let mut flushed_at = Instant::now();
        let mut refreshed_at = Instant::now();
        loop {
            // Looked at before the file: once the log says the results file is closed, the
            // read below gets all of it.
            let says = log.as_mut().map(|l| l.look().clone());
            let got = match tail.read_more() {
                Ok(got) => got,
                Err(reason) => return Ok(End::Broken(reason)),
            };
            if got > 0 {
                grew_at = Instant::now();
            }
            self.decode_whole(tail, sink, rejects)?;
            if sink.unflushed && flushed_at.elapsed() >= VISIBLE_EVERY {
                sink.writer.flush()?;
                sink.unflushed = false;
                flushed_at = Instant::now();
            }
            if refreshed_at.elapsed() >= Duration::from_secs(1) {
                live.refresh(|status, seconds| sink.counts.fill(status, seconds));
                refreshed_at = Instant::now();
            }
            let more = (got as u64) >= READ_STEP;
            if let Format::Xml { closed: true, .. } = self.format {
                return Ok(End::Ended(
                    "JMeter's run ended (</testResults> was written)".into(),
                ));
            }
            match says {
                Some(LogSays::Ended(line)) if !more => {
                    return Ok(End::Ended(format!("JMeter's run ended ({line})")));
                }
                Some(LogSays::EndOfTest) if grew_at.elapsed() >= AFTER_END_OF_TEST => {
                    return Ok(End::Ended(
                        "JMeter's run ended (end of test logged, the file closed)".into(),
                    ));
                }
                _ => {}
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
            if !more {
                std::thread::sleep(POLL);
            }
        }
    }

    /// Decodes the whole records or elements pending.
    fn decode_whole(
        &mut self,
        tail: &mut Tail,
        sink: &mut LiveSink,
        rejects: &mut RejectLog,
    ) -> Result<(), ImportError> {
        if let Format::Unknown = self.format {
            let Some(first) = tail.first_text_byte() else {
                return Ok(());
            };
            self.format = match self.opts.template.decode.format {
                Some(JtlFormat::Csv) => Format::Csv { header: None },
                Some(JtlFormat::Xml) => Format::Xml {
                    head: None,
                    closed: false,
                },
                None if first == b'<' => Format::Xml {
                    head: None,
                    closed: false,
                },
                None => Format::Csv { header: None },
                Some(_) => return Err(ImportError::FollowFormat(tail.display.clone())),
            };
        }
        match self.format {
            Format::Csv { .. } => {
                if let Some(end) = tail.csv_records_end() {
                    let before = tail.lines_done;
                    let records = tail.take(end);
                    self.decode_csv(tail, before, records, sink, rejects)?;
                }
            }
            Format::Xml { .. } => self.decode_xml(tail, sink, rejects)?,
            Format::Unknown => {}
        }
        Ok(())
    }

    /// Decodes one chunk of whole CSV records, the first of which is on line `before + 1`.
    fn decode_csv(
        &mut self,
        tail: &Tail,
        before: u64,
        records: Vec<u8>,
        sink: &mut LiveSink,
        rejects: &mut RejectLog,
    ) -> Result<(), ImportError> {
        if records.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let Format::Csv { header } = &mut self.format else {
            return Ok(());
        };
        let (text, by) = match header {
            Some(header) => (
                [header.as_slice(), &records].concat(),
                before.saturating_sub(1),
            ),
            None => (records, before),
        };
        if self.first.is_none() {
            let mut head = text.as_slice();
            if sniff::sniff(&tail.display, &mut head, self.opts.template.decode.format)?
                != JtlFormat::Csv
            {
                return Err(ImportError::FollowFormat(tail.display.clone()));
            }
        }
        let mut shifted = Shifted { log: rejects, by };
        let mut report = decode_csv(
            &tail.display,
            text.as_slice(),
            None,
            &self.opts.template.decode,
            self.samples as i64,
            sink,
            &mut shifted,
            &mut self.subresults,
        )?;
        report.format = Some(JtlFormat::Csv);
        if self.first.is_none() && report.has_header == Some(true) {
            let end = text.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
            *header = Some(text[..end].to_vec());
        }
        self.add(report);
        Ok(())
    }

    /// Decodes the whole top-level elements pending, once the head is read; notes the close.
    fn decode_xml(
        &mut self,
        tail: &mut Tail,
        sink: &mut LiveSink,
        rejects: &mut RejectLog,
    ) -> Result<(), ImportError> {
        let Format::Xml { head, closed } = &mut self.format else {
            return Ok(());
        };
        if *closed {
            return Ok(());
        }
        if head.is_none() {
            let Some(end) = split_whole_samples(&tail.pending, false).root_end else {
                return Ok(());
            };
            *head = Some(tail.take(end));
        }
        let Some(head) = head.as_deref() else {
            return Ok(());
        };
        let split = split_whole_samples(&tail.pending, true);
        *closed = split.closed;
        let (lines_before, bytes_before) = (tail.lines_done, tail.taken());
        let body = tail.take(split.whole);
        if split.closed {
            // `</testResults>` and what follows it are not samples.
            let rest = tail.pending.len();
            tail.take(rest);
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let part = XmlPart {
            head,
            body: &body,
            lines_before,
            bytes_before,
            close: true,
        };
        let report = decode_xml_samples(
            &tail.display,
            &part,
            &self.opts.template.decode,
            self.samples as i64,
            sink,
            rejects,
        )?;
        self.add(report);
        Ok(())
    }

    /// Adds a chunk's report to the file's.
    fn add(&mut self, report: FileReport) {
        self.samples += report.samples;
        self.rejected += report.rejected;
        self.warnings.extend(report.warnings.iter().cloned());
        for c in &report.columns {
            if !self.columns.contains(c) {
                self.columns.push(c.clone());
            }
        }
        if self.first.is_none() {
            self.first = Some(report);
        }
    }

    /// What never got its end when following ended is a cut record, as in a killed run's file:
    /// a CSV line without its line break is rejected; the rest of an XML file without its
    /// closing tag is decoded as the cut-off end of a document, so its warning and reject are
    /// a plain import's of the same bytes.
    fn unfinished(
        &mut self,
        tail: &mut Tail,
        sink: &mut LiveSink,
        rejects: &mut RejectLog,
    ) -> Result<(), ImportError> {
        match &self.format {
            Format::Xml {
                head: Some(head),
                closed: false,
            } => {
                let head = head.clone();
                let (lines_before, bytes_before) = (tail.lines_done, tail.taken());
                let rest = tail.pending.len();
                let rest = tail.take(rest);
                let part = XmlPart {
                    head: &head,
                    body: &rest,
                    lines_before,
                    bytes_before,
                    close: false,
                };
                let report = decode_xml_samples(
                    &tail.display,
                    &part,
                    &self.opts.template.decode,
                    self.samples as i64,
                    sink,
                    rejects,
                )?;
                self.add(report);
            }
            Format::Csv { .. } if !tail.pending_is_blank() => {
                rejects.reject(Reject::new(
                    &tail.display,
                    tail.lines_done + 1,
                    None,
                    "incomplete last line (no line break when following ended)",
                    Some(&tail.pending),
                ))?;
                self.rejected += 1;
            }
            _ => {}
        }
        Ok(())
    }
}
