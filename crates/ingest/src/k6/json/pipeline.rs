//! [`decode_k6_json`] on three threads. The calling thread reads the input in chunks (the input
//! need not be `Send`) and hands them to a scoped thread that cuts them into lines and reads them
//! ([`Splitter`]) into [`Events`]; a second scoped thread replays those into the [`Assembler`],
//! which holds the sink and the reject handler. Reading the input (the kernel's copy of every
//! byte, the caller's content hash), reading lines and assembling requests took about a quarter,
//! two fifths and a third of the decoding's perf samples (200 000 requests): on three threads the
//! cores share them whatever their number. Each input comes back to the reading for reuse, so
//! that a file of any size takes a few chunks' memory. An input that fits in one chunk is read
//! on the calling thread alone.
//!
//! Everything happens as if one thread read the lines in order: the events are replayed in file
//! order; an error of the reject policy or the sink stops the assembling, then the line reader
//! and the reading (each sees the channel to the next closed); an error reading the input is
//! returned once every line that ended before it has been assembled (the line it cut is not).

use std::io::{self, BufRead, Read};
use std::ops::Range;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use loadlake_schema::SampleSink;
use memmap2::Mmap;

use super::events::{Events, Replay};
use super::lines::Splitter;
use crate::FileReport;
use crate::error::IngestError;
use crate::k6::Assembler;
use crate::options::DecodeOptions;
use crate::rejects::RejectHandler;

/// Bytes read at once: as many as the decompressors' and the file's buffered readers hold,
/// which then read straight into the chunk.
pub(super) const CHUNK_BYTES: usize = 1 << 20;

/// Chunks the reading may be ahead of the line reader, and the line reader of the assembling.
const IN_FLIGHT: usize = 4;

/// What the calling thread sends the line reader.
pub(super) enum Input {
    /// The input's next bytes, read into a buffer (sent back for reuse).
    Bytes(Vec<u8>),
    /// The input's next bytes, a range of a window of a mapped file ([`super::mapped`]).
    Mapped(Arc<Mmap>, Range<usize>),
    /// The input ends here.
    End,
}

/// Decodes k6 `--out json` text (already decompressed) into `sink`.
pub fn decode_k6_json<R: BufRead>(
    file: &str,
    reader: R,
    opts: &DecodeOptions,
    first_row: i64,
    sink: &mut dyn SampleSink,
    rejects: &mut dyn RejectHandler,
) -> Result<FileReport, IngestError> {
    let chunk = Chunked {
        file,
        opts,
        chunk: CHUNK_BYTES,
    };
    chunk.decode(reader, first_row, sink, rejects)
}

/// A decoding of one file, its input read `chunk` bytes at once (tests take small chunks).
pub(super) struct Chunked<'a> {
    pub(super) file: &'a str,
    pub(super) opts: &'a DecodeOptions,
    pub(super) chunk: usize,
}

impl Chunked<'_> {
    /// [`decode_k6_json`] of `reader`: on the calling thread alone when the input ends (or
    /// fails) within the first chunk, else on three.
    pub(super) fn decode<R: Read>(
        &self,
        mut reader: R,
        first_row: i64,
        sink: &mut dyn SampleSink,
        rejects: &mut dyn RejectHandler,
    ) -> Result<FileReport, IngestError> {
        let mut asm = Assembler::new(self.file, self.opts, first_row, sink, rejects);
        let mut split = Splitter::new(self.opts.max_field_bytes);
        let mut first = vec![0; self.chunk];
        let (n, read) = fill(&mut reader, &mut first);
        first.truncate(n);
        if let Ok(false) = read {
            return self.three_threads(&mut reader, first, split, asm);
        }
        let mut events = Events::default();
        split.chunk(&first, &mut events);
        if let Ok(true) = read {
            split.end(&mut events);
        }
        Replay::default().apply(&mut events, &mut asm)?;
        read.map_err(|e| IngestError::io(self.file, e))?;
        asm.finish()
    }

    /// Reads the input after its `first` chunk while one scoped thread reads its lines and
    /// another replays them into `asm`.
    fn three_threads<R: Read>(
        &self,
        reader: &mut R,
        first: Vec<u8>,
        split: Splitter,
        asm: Assembler<'_>,
    ) -> Result<FileReport, IngestError> {
        let feed = |to_lines, spare| self.feed(reader, first, to_lines, spare);
        self.on_three_threads(split, asm, feed)
    }

    /// Runs `feed` on the calling thread — it sends the input to the line reader and ends it
    /// with [`Input::End`] (not after a failure: the line that failure cut is not read) —
    /// while one scoped thread reads the lines and another replays them into `asm`. Each input
    /// read comes back to `feed`: the buffer of [`Input::Bytes`] for reuse, the window of
    /// [`Input::Mapped`] to be unmapped there (not on the line reader, the busiest thread).
    pub(super) fn on_three_threads(
        &self,
        split: Splitter,
        asm: Assembler<'_>,
        feed: impl FnOnce(SyncSender<Input>, Receiver<Input>) -> io::Result<()>,
    ) -> Result<FileReport, IngestError> {
        std::thread::scope(|scope| {
            let (to_lines, inbox) = sync_channel(IN_FLIGHT);
            let (to_assembler, events_in) = sync_channel(IN_FLIGHT);
            let (read_back, spare) = channel();
            let (events_back, spare_events) = channel();
            let line_reader = LineReader {
                split,
                inbox,
                read_back,
                to_assembler,
                spare_events,
            };
            let lines = scope.spawn(move || line_reader.run());
            let assembling = scope.spawn(move || assemble(asm, events_in, events_back));
            let read = feed(to_lines, spare);
            // `feed` dropped its channel to the line reader: it ends, then the assembling.
            let joined = lines.join().and_then(|()| assembling.join());
            let asm = match joined {
                Ok(assembled) => assembled?,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            read.map_err(|e| IngestError::io(self.file, e))?;
            asm.finish()
        })
    }

    /// The calling thread's side of [`Chunked::three_threads`]: sends `first` and the chunks
    /// that follow to the line reader, at most [`IN_FLIGHT`] ahead, until the input ends (the
    /// end is sent too), fails (what was read before is sent, not the end: the line it cut is
    /// not read), or the line reader stops listening (the assembling stopped: its error says
    /// why). The read's outcome: whether it failed.
    fn feed<R: Read>(
        &self,
        reader: &mut R,
        first: Vec<u8>,
        to_lines: SyncSender<Input>,
        spare: Receiver<Input>,
    ) -> io::Result<()> {
        let mut bytes = first;
        loop {
            if to_lines.send(Input::Bytes(bytes)).is_err() {
                return Ok(()); // the assembling stopped
            }
            let mut next = match spare.try_recv() {
                Ok(Input::Bytes(buffer)) => buffer,
                _ => Vec::new(),
            };
            next.resize(self.chunk, 0);
            let (n, read) = fill(reader, &mut next);
            next.truncate(n);
            match read {
                Ok(false) => bytes = next,
                Ok(true) => {
                    let _ = to_lines.send(Input::Bytes(next));
                    let _ = to_lines.send(Input::End);
                    return Ok(());
                }
                Err(e) => {
                    let _ = to_lines.send(Input::Bytes(next));
                    return Err(e);
                }
            }
        }
    }
}

/// The assembling thread: replays the events of each chunk, in order, into `asm` and sends
/// their emptied buffers back; stops at the first error (which ends the reading). The
/// assembler, to be finished once the reading is known to have succeeded.
fn assemble<'a>(
    mut asm: Assembler<'a>,
    events_in: Receiver<Events>,
    events_back: Sender<Events>,
) -> Result<Assembler<'a>, IngestError> {
    let mut replay = Replay::default();
    for mut events in events_in.iter() {
        replay.apply(&mut events, &mut asm)?;
        // The line reader may have ended (after the input's last chunk): then none is reused.
        let _ = events_back.send(events);
    }
    Ok(asm)
}

/// The line reader's thread and its channels.
struct LineReader {
    split: Splitter,
    inbox: Receiver<Input>,
    /// Each input read, back to the reading.
    read_back: Sender<Input>,
    to_assembler: SyncSender<Events>,
    spare_events: Receiver<Events>,
}

impl LineReader {
    /// Reads the lines of each [`Input`] and sends their events on, until the input ends or
    /// the assembling stops listening.
    fn run(mut self) {
        while let Ok(input) = self.inbox.recv() {
            let mut events = self.spare_events.try_recv().unwrap_or_default();
            match &input {
                Input::Bytes(bytes) => self.split.chunk(bytes, &mut events),
                Input::Mapped(window, range) => {
                    self.split.chunk(&window[range.clone()], &mut events)
                }
                Input::End => self.split.end(&mut events),
            }
            // The reading may have ended: then the input is dropped here.
            let _ = self.read_back.send(input);
            if self.to_assembler.send(events).is_err() {
                return;
            }
        }
    }
}

/// Reads into `buf` until it is full or the input ends: the bytes read, and whether the input
/// ended there (or the error that stopped the reading; the bytes before it count).
fn fill(reader: &mut impl Read, buf: &mut [u8]) -> (usize, io::Result<bool>) {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => return (n, Ok(true)),
            Ok(read) => n += read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (n, Err(e)),
        }
    }
    (n, Ok(false))
}
