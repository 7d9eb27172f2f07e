//! Big plain k6 JSON files read from memory ([`decode_k6_json_file`]): the file is mapped one
//! window of [`WINDOW_BYTES`] at a time and its chunks go to the line reader without a copy.
//! The kernel's copy of every byte into a buffer was the largest single cost of a big file's
//! import (a fifth of it at 1 M requests). The calling thread touches each chunk first, handing
//! it to `on_bytes` (the content hash), then sends it on; a window is unmapped once its last
//! chunk is read, so that a few windows are mapped at a time whatever the file's size.

use std::fs::File;
use std::io;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender};

use loadlake_schema::SampleSink;
use memmap2::{Advice, Mmap, MmapOptions};

use super::lines::Splitter;
use super::pipeline::{CHUNK_BYTES, Chunked, Input};
use crate::error::IngestError;
use crate::k6::Assembler;
use crate::options::DecodeOptions;
use crate::rejects::RejectHandler;
use crate::sniff::sniff;
use crate::{FileReport, JtlFormat, is_compressed};

/// Files smaller than this are read: mapping saves little there, and a back-fill of thousands
/// of small files would pay its setup for each.
const MAP_MIN_BYTES: u64 = 8 << 20;

/// Bytes mapped at once (a multiple of every page size).
const WINDOW_BYTES: usize = 16 << 20;

/// The first window of `file` (`len` bytes, named `display`), mapped, when the file is plain
/// (not compressed) k6 JSON of [`MAP_MIN_BYTES`] or more — its format told as
/// [`crate::decode_plain`] tells it; `None` for any other file (read it), or when it cannot be
/// mapped.
pub(crate) fn first_window_if_k6(
    file: &File,
    len: u64,
    display: &str,
    opts: &DecodeOptions,
) -> Option<Mmap> {
    if len < MAP_MIN_BYTES {
        return None;
    }
    let first = map_window(file, 0, window_len(len, 0, WINDOW_BYTES)).ok()?;
    let plain = !is_compressed(&first[..first.len().min(4)]);
    let k6 = plain
        && matches!(
            sniff(display, &mut &first[..], opts.format),
            Ok(JtlFormat::K6Json)
        );
    k6.then_some(first)
}

/// Decodes the k6 JSON file `file` (`len` bytes, named `display`; `first` its first window,
/// from [`first_window_if_k6`]) into `sink`; `on_bytes` hears its bytes in order as they are
/// read — all of them, unless the decoding stopped early.
#[allow(clippy::too_many_arguments)]
pub(crate) fn decode_k6_json_file(
    display: &str,
    file: &File,
    len: u64,
    first: Mmap,
    on_bytes: &mut dyn FnMut(&[u8]),
    opts: &DecodeOptions,
    first_row: i64,
    sink: &mut dyn SampleSink,
    rejects: &mut dyn RejectHandler,
) -> Result<FileReport, IngestError> {
    let mapped = Mapped {
        chunked: Chunked {
            file: display,
            opts,
            chunk: CHUNK_BYTES,
        },
        window: WINDOW_BYTES,
    };
    let text = MappedFile { file, len, first };
    let mut report = mapped.decode(text, on_bytes, first_row, sink, rejects)?;
    report.format = Some(JtlFormat::K6Json);
    Ok(report)
}

/// A file to read from memory: its length when opened and its first window.
pub(super) struct MappedFile<'f> {
    pub(super) file: &'f File,
    pub(super) len: u64,
    pub(super) first: Mmap,
}

/// A decoding of a file from memory, mapped `window` bytes at a time (a multiple of the page
/// size), read `chunked.chunk` bytes at once (tests take small ones).
pub(super) struct Mapped<'a> {
    pub(super) chunked: Chunked<'a>,
    pub(super) window: usize,
}

impl Mapped<'_> {
    /// [`decode_k6_json_file`], the report's format left to the caller.
    pub(super) fn decode(
        &self,
        text: MappedFile<'_>,
        on_bytes: &mut dyn FnMut(&[u8]),
        first_row: i64,
        sink: &mut dyn SampleSink,
        rejects: &mut dyn RejectHandler,
    ) -> Result<FileReport, IngestError> {
        let c = &self.chunked;
        let asm = Assembler::new(c.file, c.opts, first_row, sink, rejects);
        let split = Splitter::new(c.opts.max_field_bytes);
        c.on_three_threads(split, asm, |to_lines, read_back| {
            self.feed(text, on_bytes, &to_lines, &read_back)
        })
    }

    /// Sends the chunks of `text`, window by window, to the line reader, each handed to
    /// `on_bytes` first, then the end; stops when the line reader stops listening (the
    /// assembling stopped) or a window cannot be mapped (an error, the end not sent). The
    /// chunks read come back on `read_back`: a window is unmapped here when the last one goes.
    fn feed(
        &self,
        text: MappedFile<'_>,
        on_bytes: &mut dyn FnMut(&[u8]),
        to_lines: &SyncSender<Input>,
        read_back: &Receiver<Input>,
    ) -> io::Result<()> {
        let MappedFile { file, len, first } = text;
        let mut window = Arc::new(first);
        let mut offset = 0u64;
        loop {
            for start in (0..window.len()).step_by(self.chunked.chunk) {
                let range = start..window.len().min(start + self.chunked.chunk);
                on_bytes(&window[range.clone()]);
                read_back.try_iter().for_each(drop);
                if to_lines
                    .send(Input::Mapped(Arc::clone(&window), range))
                    .is_err()
                {
                    return Ok(()); // the assembling stopped: its error says why
                }
            }
            offset += window.len() as u64;
            if offset >= len || window.is_empty() {
                let _ = to_lines.send(Input::End);
                return Ok(());
            }
            // A file cut short since it was opened: an error rather than a SIGBUS on reading
            // the pages it lost (docs/import.md).
            let now = file.metadata()?.len();
            if now < len {
                return Err(io::Error::other(format!(
                    "the file was cut short while it was imported ({len} bytes, now {now})"
                )));
            }
            window = Arc::new(map_window(
                file,
                offset,
                window_len(len, offset, self.window),
            )?);
        }
    }
}

/// The length of the window at `offset` of a file of `len` bytes: `window`, or the rest.
pub(super) fn window_len(len: u64, offset: u64, window: usize) -> usize {
    usize::try_from(len - offset).map_or(window, |rest| rest.min(window))
}

/// Maps `len` bytes of `file` from `offset` (a multiple of the page size), to be read in order.
pub(super) fn map_window(file: &File, offset: u64, len: usize) -> io::Result<Mmap> {
    // SAFETY: the window is only read, and only while this file's import runs. Were another
    // process to change the file meanwhile, the import would read a mix of old and new bytes,
    // as `read` racing the writer does. Were it to cut the file short, `feed` sees the new
    // length before it maps the next window and stops with an error; only a cut inside a
    // window already mapped, between that check and the reading, ends the process (SIGBUS)
    // — before anything of the run is committed, as a run commits whole after decoding.
    let window = unsafe { MmapOptions::new().offset(offset).len(len).map(file)? };
    if let Err(e) = window.advise(Advice::Sequential) {
        tracing::debug!("madvise(SEQUENTIAL) of a k6 JSON file's window: {e}");
    }
    Ok(window)
}
