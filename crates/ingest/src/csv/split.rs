//! Splitting a CSV JTL into records: plain lines (no quote, no CR, not blank, whole in the
//! buffer — nearly every line JMeter writes) are split in place on the delimiter; every other
//! record goes through `csv_core`, driven exactly as the `csv` crate drives it, so the two
//! paths give the same fields, line numbers and byte positions.

use std::borrow::Cow;
use std::io::{self, BufRead};

use csv_core::ReadRecordResult;

/// The UTF-8 byte-order mark Windows editors put before the first field.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One record's fields, borrowed from the input buffer (plain lines) or from `csv_core`'s
/// output (quoted records).
pub(super) struct Fields<'a> {
    bytes: &'a [u8],
    /// Start and end of each field in `bytes`.
    bounds: &'a [(usize, usize)],
    /// `bytes` as text when it is all UTF-8 (checked once for the whole record).
    text: Option<&'a str>,
}

impl<'a> Fields<'a> {
    /// Number of fields.
    pub(super) fn len(&self) -> usize {
        self.bounds.len()
    }

    /// Field `i` as bytes (`None` past the last field).
    pub(super) fn get(&self, i: usize) -> Option<&'a [u8]> {
        let &(start, end) = self.bounds.get(i)?;
        self.bytes.get(start..end)
    }

    /// Field `i` as text, or the UTF-8 error of its bytes (`None` past the last field).
    pub(super) fn str(&self, i: usize) -> Option<Result<&'a str, std::str::Utf8Error>> {
        let &(start, end) = self.bounds.get(i)?;
        match self.text.and_then(|t| t.get(start..end)) {
            Some(t) => Some(Ok(t)),
            None => self.bytes.get(start..end).map(std::str::from_utf8),
        }
    }

    /// The fields back to back, without delimiters or quotes (what rejects quote, as
    /// `csv::ByteRecord::as_slice` did).
    pub(super) fn raw(&self) -> Cow<'a, [u8]> {
        let contiguous = self.bounds.windows(2).all(|w| w[0].1 == w[1].0);
        match (self.bounds.first(), self.bounds.last()) {
            (Some(&(start, _)), Some(&(_, end))) if contiguous => {
                Cow::Borrowed(self.bytes.get(start..end).unwrap_or_default())
            }
            _ => Cow::Owned(
                (0..self.len())
                    .flat_map(|i| self.get(i).unwrap_or_default())
                    .copied()
                    .collect(),
            ),
        }
    }

    /// The fields as owned byte strings.
    pub(super) fn to_owned(&self) -> Vec<Vec<u8>> {
        (0..self.len())
            .map(|i| self.get(i).unwrap_or_default().to_vec())
            .collect()
    }

    /// Whether the fields are exactly `other`.
    pub(super) fn equals(&self, other: &[Vec<u8>]) -> bool {
        self.len() == other.len()
            && other
                .iter()
                .enumerate()
                .all(|(i, f)| self.get(i) == Some(f.as_slice()))
    }
}

/// One record and where it is.
pub(super) struct Record<'a> {
    /// The line the `csv` crate gives as the record's position (the line after the previous
    /// record's terminator).
    pub(super) line: u64,
    /// Bytes of the input consumed once this record is read.
    pub(super) end_byte: u64,
    pub(super) fields: Fields<'a>,
}

/// Reads records from a `BufRead`.
pub(super) struct Records<R> {
    reader: R,
    core: csv_core::Reader,
    /// Plain lines may be split in place (the delimiter is not a quote or line end).
    fast: bool,
    delimiter: u8,
    /// `csv_core`'s output: field bytes and field ends.
    out: Vec<u8>,
    ends: Vec<usize>,
    /// Bytes of `out` the last quoted record filled.
    out_len: usize,
    bounds: Vec<(usize, usize)>,
    /// Bytes of the reader's buffer the last (plain) record still borrows.
    unconsumed: usize,
    byte: u64,
    line: u64,
    /// The last record ended with a `\n`: `csv_core` is between records. False until the first
    /// record is read: that one always goes through `csv_core`, which strips a byte-order mark
    /// at the start of its first input (and only there).
    at_line_start: bool,
    first: bool,
    done: bool,
}

impl<R: BufRead> Records<R> {
    /// Records of `reader` split on `delimiter` (`"` quotes, any of CR, LF, CRLF ends a record).
    pub(super) fn new(reader: R, delimiter: u8) -> Self {
        Records {
            reader,
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            fast: !matches!(delimiter, b'"' | b'\r' | b'\n'),
            delimiter,
            out: vec![0; 1024],
            ends: vec![0; 64],
            out_len: 0,
            bounds: Vec::new(),
            unconsumed: 0,
            byte: 0,
            line: 1,
            at_line_start: false,
            first: true,
            done: false,
        }
    }

    /// The next record; `Ok(None)` at the end. After an I/O error there are no more records.
    pub(super) fn next_record(&mut self) -> io::Result<Option<Record<'_>>> {
        self.reader.consume(std::mem::take(&mut self.unconsumed));
        if self.done {
            return Ok(None);
        }
        let plain = match self.fast && self.at_line_start {
            true => plain_line_len(self.fill()?),
            false => None,
        };
        let first = std::mem::take(&mut self.first);
        let line = self.line;
        let bytes: &[u8] = match plain {
            Some(n) => {
                self.line += 1;
                self.byte += n as u64 + 1;
                self.unconsumed = n + 1;
                let buf = match self.reader.fill_buf() {
                    Ok(buf) => buf,
                    Err(e) => {
                        self.done = true;
                        return Err(e);
                    }
                };
                let bytes = buf.get(..n).unwrap_or_default();
                split_plain(bytes, self.delimiter, &mut self.bounds);
                bytes
            }
            None => {
                if !self.read_quoted()? {
                    return Ok(None);
                }
                self.out.get(..self.out_len).unwrap_or_default()
            }
        };
        if first
            && let Some(b) = self.bounds.first_mut()
            && bytes.get(b.0..b.1).is_some_and(|f| f.starts_with(BOM))
        {
            b.0 += BOM.len();
        }
        Ok(Some(Record {
            line,
            end_byte: self.byte,
            fields: Fields {
                bytes,
                bounds: &self.bounds,
                text: std::str::from_utf8(bytes).ok(),
            },
        }))
    }

    /// The reader's buffer; an error ends the records.
    fn fill(&mut self) -> io::Result<&[u8]> {
        match self.reader.fill_buf() {
            Ok(buf) => Ok(buf),
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    /// Reads one record with `csv_core` into `out` and `bounds` (as `csv::Reader` does);
    /// false at the end of the input.
    fn read_quoted(&mut self) -> io::Result<bool> {
        self.core.set_line(self.line);
        let (mut outlen, mut endlen) = (0, 0);
        let mut last = None;
        loop {
            let input = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            };
            let (res, nin, nout, nend) =
                self.core
                    .read_record(input, &mut self.out[outlen..], &mut self.ends[endlen..]);
            if let Some(&b) = nin.checked_sub(1).and_then(|i| input.get(i)) {
                last = Some(b);
            }
            self.reader.consume(nin);
            self.byte += nin as u64;
            self.line = self.core.line();
            outlen += nout;
            endlen += nend;
            match res {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => self.out.resize(self.out.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                ReadRecordResult::Record => {
                    self.at_line_start = last == Some(b'\n');
                    self.out_len = outlen;
                    self.bounds.clear();
                    let mut start = 0;
                    for &end in &self.ends[..endlen] {
                        self.bounds.push((start, end));
                        start = end;
                    }
                    return Ok(true);
                }
                ReadRecordResult::End => {
                    self.done = true;
                    return Ok(false);
                }
            }
        }
    }
}

/// Length of the first line of `buf` (without its `\n`) when it can be split in place: it ends
/// in `buf`, is not blank, and has no quote and no CR.
fn plain_line_len(buf: &[u8]) -> Option<usize> {
    let n = memchr::memchr(b'\n', buf)?;
    let line = buf.get(..n)?;
    (n > 0 && memchr::memchr2(b'"', b'\r', line).is_none()).then_some(n)
}

/// The fields of a plain line: split on every `delimiter`.
///
/// JMeter's fields are a few bytes long, too short for `memchr` to pay for its setup on each
/// one: the line is scanned eight bytes at a time instead ([`byte_matches`]), and each match
/// of a word taken from its bit mask.
fn split_plain(line: &[u8], delimiter: u8, bounds: &mut Vec<(usize, usize)>) {
    bounds.clear();
    let mut start = 0;
    let pattern = u64::from_ne_bytes([delimiter; 8]);
    let (words, tail) = line.as_chunks::<8>();
    for (w, word) in words.iter().enumerate() {
        let mut matches = byte_matches(u64::from_le_bytes(*word), pattern);
        while matches != 0 {
            let i = w * 8 + (matches.trailing_zeros() / 8) as usize;
            bounds.push((start, i));
            start = i + 1;
            matches &= matches - 1;
        }
    }
    let tail_start = words.len() * 8;
    for (j, &b) in tail.iter().enumerate() {
        if b == delimiter {
            bounds.push((start, tail_start + j));
            start = tail_start + j + 1;
        }
    }
    bounds.push((start, line.len()));
}

/// The high bit of each byte of `word` that equals its byte of `pattern` (every byte of
/// `pattern` the same), and no other bit. Exact, unlike the shorter `(x - 0x01…) & !x` test,
/// whose borrows can mark a byte after a match.
fn byte_matches(word: u64, pattern: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ pattern;
    // A byte's high bit ends up set iff the byte of `x` is zero: adding 0x7f to its low seven
    // bits carries into bit 7 (and never out of the byte) unless they are all zero.
    !(((x & LOW7) + LOW7) | x | LOW7)
}

#[cfg(test)]
#[path = "split_tests.rs"]
mod tests;
