//! [`decode_k6_json`] on two threads. The calling thread reads the input in chunks and runs the
//! [`Assembler`], which holds the sink and the reject handler (neither they nor the input need
//! be `Send`); a scoped thread cuts the chunks into lines and reads them ([`Splitter`]) into
//! [`Events`]. Buffers travel back and forth, so that a file of any size takes a few chunks'
//! memory. An input that fits in one chunk is read on the calling thread alone.
//!
//! Everything happens as if one thread read the lines in order: the events are replayed in file
//! order, an error of the reject policy or the sink stops the reading (the line reader sees its
//! channels closed and ends), and an error reading the input is returned once every line that
//! ended before it has been handed on (the line it cut is not).

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use loadlake_schema::SampleSink;

use super::events::{Events, Replay};
use super::lines::Splitter;
use crate::FileReport;
use crate::error::IngestError;
use crate::k6::Assembler;
use crate::options::DecodeOptions;
use crate::rejects::RejectHandler;

/// Bytes read at once: as many as the decompressors' and the file's buffered readers hold,
/// which then read straight into the chunk.
const CHUNK_BYTES: usize = 1 << 20;

/// Chunks the reading may be ahead of the assembling.
const IN_FLIGHT: usize = 4;

/// What the calling thread sends the line reader.
enum Input {
    /// The input's next bytes, and events to fill (empty; their buffers are reused).
    Bytes(Vec<u8>, Events),
    /// The input ends here.
    End(Events),
}

/// What the line reader sends back for one [`Input`]: its events, and its bytes' buffer for
/// reuse.
struct Output {
    events: Events,
    bytes: Option<Vec<u8>>,
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
    /// fails) within the first chunk, else on two.
    pub(super) fn decode<R: Read>(
        &self,
        mut reader: R,
        first_row: i64,
        sink: &mut dyn SampleSink,
        rejects: &mut dyn RejectHandler,
    ) -> Result<FileReport, IngestError> {
        let mut asm = Assembler::new(self.file, self.opts, first_row, sink, rejects);
        let mut split = Splitter::new(self.opts.max_field_bytes);
        let mut replay = Replay::default();
        let mut first = vec![0; self.chunk];
        let (n, read) = fill(&mut reader, &mut first);
        first.truncate(n);
        match read {
            Ok(false) => self.two_threads(&mut reader, first, split, &mut replay, &mut asm)?,
            Ok(true) | Err(_) => {
                let mut events = Events::default();
                split.chunk(&first, &mut events);
                if let Ok(true) = read {
                    split.end(&mut events);
                }
                replay.apply(&mut events, &mut asm)?;
                read.map_err(|e| IngestError::io(self.file, e))?;
            }
        }
        asm.finish()
    }

    /// Reads the input after its `first` chunk while a scoped thread reads its lines; the
    /// calling thread replays them into `asm`.
    fn two_threads<R: Read>(
        &self,
        reader: &mut R,
        first: Vec<u8>,
        split: Splitter,
        replay: &mut Replay,
        asm: &mut Assembler<'_>,
    ) -> Result<(), IngestError> {
        std::thread::scope(|scope| {
            let (to_lines, inbox) = sync_channel(IN_FLIGHT);
            // Room for every Output of the Inputs in flight: the line reader never waits on it.
            let (outbox, from_lines) = sync_channel(IN_FLIGHT + 1);
            let lines = scope.spawn(move || read_lines(split, inbox, outbox));
            let fed = self.feed(reader, first, to_lines, from_lines, replay, asm);
            // `feed` dropped its ends of both channels: the line reader has ended or will.
            match lines.join() {
                Ok(()) => fed,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }

    /// The calling thread's side of [`Chunked::two_threads`]: sends `first` and the chunks that
    /// follow to the line reader, at most [`IN_FLIGHT`] ahead, and replays what comes back.
    fn feed<R: Read>(
        &self,
        reader: &mut R,
        first: Vec<u8>,
        to_lines: SyncSender<Input>,
        from_lines: Receiver<Output>,
        replay: &mut Replay,
        asm: &mut Assembler<'_>,
    ) -> Result<(), IngestError> {
        // Only when the line reader panicked (the join then says why).
        let stopped = || IngestError::io(self.file, io::Error::other("the k6 line reader stopped"));
        let mut spare = Spare::default();
        let mut in_flight = 0;
        let mut bytes = first;
        let read = loop {
            let events = spare.events.pop().unwrap_or_default();
            to_lines
                .send(Input::Bytes(bytes, events))
                .map_err(|_| stopped())?;
            in_flight += 1;
            if in_flight == IN_FLIGHT {
                let out = from_lines.recv().map_err(|_| stopped())?;
                spare.take(out, replay, asm)?;
                in_flight -= 1;
            }
            let mut next = spare.bytes.pop().unwrap_or_default();
            next.resize(self.chunk, 0);
            let (n, read) = fill(reader, &mut next);
            next.truncate(n);
            if let Ok(false) = read {
                bytes = next;
                continue;
            }
            if n > 0 {
                let events = spare.events.pop().unwrap_or_default();
                to_lines
                    .send(Input::Bytes(next, events))
                    .map_err(|_| stopped())?;
            }
            if let Ok(true) = read {
                let events = spare.events.pop().unwrap_or_default();
                to_lines.send(Input::End(events)).map_err(|_| stopped())?;
            }
            break read;
        };
        // The line reader reads what it was sent, then sees the channel closed and ends.
        drop(to_lines);
        while let Ok(out) = from_lines.recv() {
            spare.take(out, replay, asm)?;
        }
        read.map(|_| ()).map_err(|e| IngestError::io(self.file, e))
    }
}

/// Buffers back from the line reader, for the next chunks.
#[derive(Default)]
struct Spare {
    bytes: Vec<Vec<u8>>,
    events: Vec<Events>,
}

impl Spare {
    /// Replays `out`'s events into `asm` and keeps its buffers.
    fn take(
        &mut self,
        out: Output,
        replay: &mut Replay,
        asm: &mut Assembler<'_>,
    ) -> Result<(), IngestError> {
        let Output { mut events, bytes } = out;
        let applied = replay.apply(&mut events, asm);
        self.events.push(events);
        self.bytes.extend(bytes);
        applied
    }
}

/// The line reader's thread: reads the lines of each [`Input`] and sends back their events,
/// until the input ends or the calling thread stops listening.
fn read_lines(mut split: Splitter, inbox: Receiver<Input>, outbox: SyncSender<Output>) {
    while let Ok(input) = inbox.recv() {
        let out = match input {
            Input::Bytes(bytes, mut events) => {
                split.chunk(&bytes, &mut events);
                Output {
                    events,
                    bytes: Some(bytes),
                }
            }
            Input::End(mut events) => {
                split.end(&mut events);
                Output {
                    events,
                    bytes: None,
                }
            }
        };
        if outbox.send(out).is_err() {
            return;
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
