//! Gatling 3.0–3.12's text `simulation.log`: one TAB-separated record a line (Gatling's
//! `LogFileDataWriter`). Two column layouts, told by the records' shape and never by the
//! version the RUN record names (Gatling's own fixtures say `2.0`, third-party copies are
//! edited): 3.0–3.3 put the user id in REQUEST, GROUP and USER records, 3.4–3.12 do not.
//! A REQUEST's or GROUP's status (`OK`/`KO`) is the first field after two integers: field 5
//! in 3.4+, 6 in 3.0–3.3, 7 in Gatling 2.x (refused, as is 2.x's seven-field RUN record).

use std::borrow::Cow;
use std::io::BufRead;

use super::{Emitter, Group, Request};
use crate::FileReport;
use crate::error::IngestError;
use crate::options::DecodeOptions;

/// The two column layouts of Gatling 3's text log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Gatling 3.0–3.3: records carry the user id.
    V3_0,
    /// Gatling 3.4–3.12: no user id.
    V3_4,
}

impl Layout {
    fn name(self) -> &'static str {
        match self {
            Layout::V3_0 => "Gatling 3.0–3.3 (with user ids)",
            Layout::V3_4 => "Gatling 3.4–3.12 (without user ids)",
        }
    }
}

fn is_int(f: &str) -> bool {
    f.parse::<i64>().is_ok()
}

/// Index of the status: the first `OK`/`KO` field whose two predecessors are integers.
fn status_index(fields: &[&str]) -> Option<usize> {
    (3..fields.len()).find(|&i| {
        matches!(fields[i], "OK" | "KO") && is_int(fields[i - 1]) && is_int(fields[i - 2])
    })
}

fn int(
    fields: &[&str],
    i: usize,
    name: &'static str,
) -> Result<i64, (Option<&'static str>, String)> {
    let f = fields
        .get(i)
        .ok_or_else(|| (Some(name), "missing".to_string()))?;
    f.parse()
        .map_err(|_| (Some(name), format!("'{f}' is not an integer (epoch ms)")))
}

/// The refusal of a Gatling 2.x log.
fn refuse_2x(file: &str, line: u64, why: &str) -> IngestError {
    IngestError::Layout {
        file: file.to_string(),
        reason: format!(
            "a Gatling 2.x simulation.log (line {line}: {why}); loadlake reads the text logs of Gatling 3.0–3.12 and the binary logs of 3.13+, not 2.x's (its records have other columns and it writes errors as GROUP records): nothing was imported"
        ),
    }
}

/// The reader's state between lines.
struct Reader<'e, 'a> {
    file: &'e str,
    emitter: &'e mut Emitter<'a>,
    layout: Option<(Layout, u64)>,
}

impl Reader<'_, '_> {
    /// Fixes the layout at the first REQUEST/GROUP/USER telling it; a later record of the other
    /// layout is bad.
    fn layout(&mut self, line: u64, l: Layout) -> Result<(), (Option<&'static str>, String)> {
        match self.layout {
            None => {
                self.layout = Some((l, line));
                Ok(())
            }
            Some((known, _)) if known == l => Ok(()),
            Some((known, at)) => Err((
                None,
                format!(
                    "a record of {}, but line {at} was of {}",
                    l.name(),
                    known.name()
                ),
            )),
        }
    }

    /// Handles one line's fields; `Err` is the field at fault and why (a rejected line), or a
    /// refusal of the whole file.
    fn record(
        &mut self,
        line: u64,
        fields: &[&str],
    ) -> Result<Result<(), (Option<&'static str>, String)>, IngestError> {
        let bad = |f: Option<&'static str>, r: String| Ok(Err((f, r)));
        match fields[0] {
            "RUN" => {
                if fields.len() == 7 {
                    return Err(refuse_2x(self.file, line, "a RUN record of 7 fields"));
                }
                if fields.len() < 6 {
                    return bad(
                        None,
                        format!("a RUN record of {} fields, not 6", fields.len()),
                    );
                }
                self.emitter.run(fields[5]);
                Ok(Ok(()))
            }
            "ASSERTION" => {
                self.emitter.assertion();
                Ok(Ok(()))
            }
            "ERROR" => {
                if fields.len() < 3 {
                    return bad(None, "an ERROR record without its message and time".into());
                }
                let msg = fields[1..fields.len() - 1].join(" ");
                self.emitter.error(msg.trim());
                Ok(Ok(()))
            }
            "USER" => {
                let (layout, scenario, user, what, ts) = match fields.len() {
                    4 => (Layout::V3_4, fields[1], None, fields[2], 3),
                    6 => (Layout::V3_0, fields[1], Some(fields[2]), fields[3], 5),
                    n => {
                        return bad(
                            None,
                            format!(
                                "a USER record of {n} fields, not 4 (Gatling 3.4+) or 6 (3.0–3.3)"
                            ),
                        );
                    }
                };
                let start = match what {
                    "START" => true,
                    "END" => false,
                    other => {
                        return bad(Some("event"), format!("'{other}' is neither START nor END"));
                    }
                };
                if let Err(e) = int(fields, ts, "ts") {
                    return Ok(Err(e));
                }
                if let Err(e) = self.layout(line, layout) {
                    return Ok(Err(e));
                }
                self.emitter.user(line, scenario, user, start);
                Ok(Ok(()))
            }
            kind @ ("REQUEST" | "GROUP") => {
                let Some(i) = status_index(fields) else {
                    return bad(
                        Some("status"),
                        format!("a {kind} record without OK or KO after its start and end times"),
                    );
                };
                let layout = match i {
                    5 => Layout::V3_4,
                    6 => Layout::V3_0,
                    7 => {
                        return Err(refuse_2x(
                            self.file,
                            line,
                            &format!("a {kind} record with scenario and user id columns"),
                        ));
                    }
                    _ => {
                        return bad(
                            Some("status"),
                            format!(
                                "OK/KO in field {} of a {kind} record, not 5 (Gatling 3.4+) or 6 (3.0–3.3)",
                                i + 1
                            ),
                        );
                    }
                };
                if let Err(e) = self.layout(line, layout) {
                    return Ok(Err(e));
                }
                let user = (layout == Layout::V3_0).then(|| fields[1]);
                let base = usize::from(layout == Layout::V3_0);
                let ok = fields[i] == "OK";
                if kind == "REQUEST" {
                    let msg: Cow<'_, str> = match fields.len() - i {
                        1 => "".into(),
                        2 => fields[i + 1].into(),
                        _ => fields[i + 1..].join(" ").into(),
                    };
                    let r = Request {
                        groups: fields[1 + base],
                        name: fields[2 + base],
                        start: fields[i - 2].parse().unwrap_or_default(),
                        end: fields[i - 1].parse().unwrap_or_default(),
                        ok,
                        msg: msg.trim(),
                        user,
                    };
                    self.emitter.request(line, &r)?;
                } else {
                    let g = Group {
                        groups: fields[1 + base],
                        start: fields[i - 3].parse().unwrap_or_default(),
                        end: fields[i - 2].parse().unwrap_or_default(),
                        cumulated: fields[i - 1].parse().unwrap_or_default(),
                        ok,
                        user,
                    };
                    if !is_int(fields[i - 3]) {
                        return bad(
                            Some("start"),
                            format!("'{}' is not an integer (epoch ms)", fields[i - 3]),
                        );
                    }
                    self.emitter.group(line, &g)?;
                }
                Ok(Ok(()))
            }
            other => bad(
                Some("record"),
                format!(
                    "'{}' is not a Gatling record (RUN, USER, REQUEST, GROUP, ERROR, ASSERTION)",
                    other.chars().take(40).collect::<String>()
                ),
            ),
        }
    }
}

/// Fields a record has at most without a heap allocation for its split (a REQUEST of 3.0–3.3
/// with a message has 9).
const INLINE_FIELDS: usize = 16;

/// Splits `text` at TABs into `fields`; the number of fields, `None` when they do not fit.
fn split_inline<'t>(text: &'t str, fields: &mut [&'t str; INLINE_FIELDS]) -> Option<usize> {
    let (mut n, mut start) = (0, 0);
    for tab in memchr::memchr_iter(b'\t', text.as_bytes()) {
        // A TAB is one byte of ASCII: both sides are char boundaries.
        *fields.get_mut(n)? = &text[start..tab];
        n += 1;
        start = tab + 1;
    }
    *fields.get_mut(n)? = &text[start..];
    Some(n + 1)
}

/// Reads one line into `buf` (without its line end), keeping at most `max` bytes. `None` at the
/// end of the input; else whether the line ended with `\n` and whether it was longer than `max`.
fn read_line<R: BufRead>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<(bool, bool)>> {
    buf.clear();
    let (mut any, mut too_long) = (false, false);
    loop {
        let avail = reader.fill_buf()?;
        if avail.is_empty() {
            return Ok(any.then_some((false, too_long)));
        }
        any = true;
        let (chunk, found) = match memchr::memchr(b'\n', avail) {
            Some(i) => (&avail[..i], true),
            None => (avail, false),
        };
        if buf.len() + chunk.len() <= max {
            buf.extend_from_slice(chunk);
        } else {
            too_long = true;
        }
        let used = chunk.len() + usize::from(found);
        reader.consume(used);
        if found {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Some((true, too_long)));
        }
    }
}

/// Decodes a text `simulation.log` (already decompressed) into the emitter's sink.
pub(super) fn decode<R: BufRead>(
    file: &str,
    mut reader: R,
    opts: &DecodeOptions,
    mut emitter: Emitter<'_>,
) -> Result<FileReport, IngestError> {
    let mut buf = Vec::with_capacity(256);
    let mut line_no = 0u64;
    let mut layout = None;
    while let Some((terminated, too_long)) = read_line(&mut reader, &mut buf, opts.max_field_bytes)
        .map_err(|e| IngestError::io(file, e))?
    {
        line_no += 1;
        let bytes = buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&buf);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let result = if too_long {
            Err((
                None,
                format!(
                    "the line is longer than the {} byte limit",
                    opts.max_field_bytes
                ),
            ))
        } else {
            match std::str::from_utf8(bytes) {
                Err(e) => Err((None, format!("not UTF-8 text: {e}"))),
                Ok(text) => {
                    // Gatling's fields never hold a TAB: a line's split is its record.
                    let mut inline = [""; INLINE_FIELDS];
                    let spilled: Vec<&str>;
                    let split = match split_inline(text, &mut inline) {
                        Some(n) => &inline[..n],
                        None => {
                            spilled = text.split('\t').collect();
                            &spilled
                        }
                    };
                    let mut r = Reader {
                        file,
                        emitter: &mut emitter,
                        layout,
                    };
                    let out = r.record(line_no, split)?;
                    layout = r.layout;
                    out
                }
            }
        };
        if let Err((field, reason)) = result {
            let (field, reason) = if terminated {
                (field, reason)
            } else {
                let reason = format!(
                    "incomplete last line (the file does not end with a line break: cut off by a killed Gatling?): {reason}"
                );
                emitter.warn(format!("line {line_no}: {reason}; it was not imported"));
                (None, reason)
            };
            emitter.reject_raw(line_no, field, reason, Some(bytes))?;
        }
    }
    emitter.finish()
}
