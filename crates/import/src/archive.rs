//! Zip archives (issue 18): every JMeter result file inside one becomes a source of the run,
//! told by its content as a plain file is (compressed members such as `x.jtl.gz` too). A member
//! that is not a JTL is skipped with a note naming the archive and the member; an archive with
//! no JTL at all is refused. A member that expands more than [`MAX_RATIO`] times its stored
//! size stops the import (a zip bomb): nothing of the run is committed.

use std::cell::Cell;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use loadlake_ingest::{IngestError, decompressed};
use zip::ZipArchive;

use crate::ImportError;
use crate::run::RunDecoding;

/// The most a member's plain text may outgrow its stored (compressed) bytes. JMeter's CSV and
/// XML compress 5–30 times with deflate; a single deflate stream can reach about 1 000 times,
/// a compressed file inside the archive far more.
pub const MAX_RATIO: u64 = 200;

/// Members whose stored bytes are tiny may still expand to this many bytes, whatever the ratio.
const MIN_LIMIT: u64 = 1 << 20;

/// A zip archive's first bytes: a local file header, or the end record of an empty archive.
const ZIP_MAGICS: [&[u8; 4]; 2] = [b"PK\x03\x04", b"PK\x05\x06"];

/// Whether the file at `path` is a zip archive (by its first bytes, not its name).
pub(crate) fn is_zip(path: &Path) -> Result<bool, ImportError> {
    let mut head = [0u8; 4];
    let mut file = File::open(path).map_err(|e| ImportError::Read {
        path: path.display().to_string(),
        source: e,
    })?;
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(ImportError::Read {
                    path: path.display().to_string(),
                    source: e,
                });
            }
        }
    }
    Ok(is_zip_head(&head[..got]))
}

/// Whether a file starting with `head` is a zip archive.
pub(crate) fn is_zip_head(head: &[u8]) -> bool {
    ZIP_MAGICS.iter().any(|m| head.starts_with(m.as_slice()))
}

/// Decodes every JTL member of the archive at `path` (named `name` in the run) into `run`.
/// Members are named `<name>:<member>` in sources, rejects and errors.
pub(crate) fn decode_archive(
    path: &Path,
    name: &str,
    hash: &str,
    run: &mut RunDecoding<'_>,
) -> Result<(), ImportError> {
    let zip_error = |source| ImportError::Zip {
        archive: name.to_string(),
        source,
    };
    let file = File::open(path).map_err(|e| ImportError::Read {
        path: name.to_string(),
        source: e,
    })?;
    let mut archive = ZipArchive::new(BufReader::new(file)).map_err(zip_error)?;
    let mut decoded = 0usize;
    let mut skipped = Vec::new();
    for index in 0..archive.len() {
        let member_name = archive
            .name_for_index(index)
            .and_then(Result::ok)
            .map(std::borrow::Cow::into_owned)
            .unwrap_or_else(|| format!("#{index}"));
        let member = archive
            .by_index(index)
            .map_err(|source| ImportError::ZipMember {
                archive: name.to_string(),
                member: member_name.clone(),
                source,
            })?;
        if !member.is_file() {
            continue;
        }
        let display = format!("{name}:{member_name}");
        let stored = member.compressed_size();
        let limit = stored.saturating_mul(MAX_RATIO).max(MIN_LIMIT);
        let tripped = Rc::new(Cell::new(false));
        let mut plain = decompressed(&display, BufReader::with_capacity(1 << 16, member))?;
        let head = plain.fill_buf().map_err(|e| IngestError::io(&display, e))?;
        if ZIP_MAGICS.iter().any(|m| head.starts_with(m.as_slice())) {
            skip(
                name,
                &member_name,
                "a zip archive inside the archive is not read",
                &mut skipped,
            );
            continue;
        }
        let guarded = BufReader::with_capacity(
            1 << 20,
            RatioGuard {
                inner: plain,
                left: limit,
                tripped: Rc::clone(&tripped),
            },
        );
        let samples_before = run.samples_written();
        let result = run.decode(&display, guarded);
        if tripped.get() {
            return Err(ImportError::ZipBomb {
                archive: name.to_string(),
                member: member_name,
                stored,
                limit,
            });
        }
        match result {
            Ok(report) => {
                run.add_source(display, stored, hash, report);
                decoded += 1;
            }
            Err(ImportError::Ingest(e))
                if not_a_jtl(&e) && run.samples_written() == samples_before =>
            {
                let text = e.to_string();
                let reason = text.strip_prefix(&format!("{display}: ")).unwrap_or(&text);
                let reason = reason
                    .strip_prefix("not a JMeter result file: ")
                    .unwrap_or(reason);
                skip(name, &member_name, reason, &mut skipped);
            }
            Err(e) => return Err(e),
        }
    }
    if decoded == 0 {
        return Err(ImportError::NoJtlInArchive {
            archive: name.to_string(),
            skipped: if skipped.is_empty() {
                "it has no files".to_string()
            } else {
                format!("skipped: {}", skipped.join(", "))
            },
        });
    }
    Ok(())
}

/// Notes a member that is not a JTL (stderr) and remembers it for the no-JTL error.
fn skip(archive: &str, member: &str, reason: &str, skipped: &mut Vec<String>) {
    tracing::warn!("{archive}: skipped {member}, not a JMeter result file: {reason}");
    skipped.push(member.to_string());
}

/// Whether a decoder's error says the input is not a JMeter result file at all (before any
/// sample), rather than a JTL with a problem.
fn not_a_jtl(e: &IngestError) -> bool {
    matches!(
        e,
        IngestError::Empty { .. }
            | IngestError::NotJtl { .. }
            | IngestError::MissingColumns { .. }
            | IngestError::Layout { .. }
    )
}

/// Passes at most `left` bytes of plain text through; past them, reading fails and `tripped`
/// is set (a zip bomb's member is never expanded further than the limit).
struct RatioGuard<R> {
    inner: R,
    left: u64,
    tripped: Rc<Cell<bool>>,
}

impl<R: Read> Read for RatioGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            // One byte more than the limit says whether there is more.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.tripped.set(true);
            return Err(std::io::Error::other(
                "the member expands past the ratio limit (a zip bomb?)",
            ));
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}
