//! The file being followed: what was read of it, what is waiting for the end of its record, and
//! the checks that it is still the same file (not truncated, replaced or deleted).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::ImportError;

/// The most read from the file at once (a file followed when it is already large is read in
/// steps, not into memory whole).
pub(super) const READ_STEP: u64 = 8 << 20;

/// The file being followed and what has been read of it.
pub(super) struct Tail {
    path: PathBuf,
    pub(super) display: String,
    file: File,
    inode: u64,
    /// Bytes read so far.
    pub(super) offset: u64,
    /// Bytes read that are not decoded yet (the end of a record or element not written yet).
    pub(super) pending: Vec<u8>,
    /// Line breaks in the bytes taken from `pending` so far.
    pub(super) lines_done: u64,
}

impl Tail {
    pub(super) fn open(path: &Path) -> Result<Tail, ImportError> {
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
    pub(super) fn read_more(&mut self) -> Result<usize, String> {
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

    /// Takes the first `n` pending bytes, counting their line breaks.
    pub(super) fn take(&mut self, n: usize) -> Vec<u8> {
        let rest = self.pending.split_off(n.min(self.pending.len()));
        let taken = std::mem::replace(&mut self.pending, rest);
        self.lines_done += taken.iter().filter(|&&b| b == b'\n').count() as u64;
        taken
    }

    /// Bytes taken from the file so far (read and no longer pending).
    pub(super) fn taken(&self) -> u64 {
        self.offset - self.pending.len() as u64
    }

    /// Where the whole CSV records pending end: after the last line break outside quotes.
    pub(super) fn csv_records_end(&self) -> Option<usize> {
        let mut in_quotes = false;
        let mut end = None;
        for (i, b) in self.pending.iter().enumerate() {
            match b {
                b'"' => in_quotes = !in_quotes,
                b'\n' if !in_quotes => end = Some(i + 1),
                _ => {}
            }
        }
        end
    }

    /// The first byte pending that is not whitespace (nor a UTF-8 byte order mark).
    pub(super) fn first_text_byte(&self) -> Option<u8> {
        let text = self
            .pending
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(&self.pending);
        text.iter().copied().find(|b| !b.is_ascii_whitespace())
    }

    /// Whether what is pending is only whitespace.
    pub(super) fn pending_is_blank(&self) -> bool {
        self.pending.iter().all(u8::is_ascii_whitespace)
    }
}
