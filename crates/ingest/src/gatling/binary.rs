//! Gatling 3.13+'s binary `simulation.log` (gatling#4596): Java `ByteBuffer` records,
//! big-endian, each a header byte and a body:
//!
//! - 0 RUN (first, once): `string version, string simulationClass, int64 startMs, string
//!   description, int32 n, n × string scenario, int32 m, m × (int32 len, len bytes assertion)`
//! - 1 REQUEST: `int32 n, n × cstring group, cstring name, int32 start, int32 end, bool ok,
//!   cstring message` (times in ms since the RUN's start; message `""` = none)
//! - 2 USER: `int32 scenarioIndex, bool isStart, int32 ts`
//! - 3 GROUP: `int32 n, n × cstring group, int32 start, int32 end, int32 cumulatedMs, bool ok`
//! - 4 ERROR: `cstring message, int32 ts`
//!
//! A `string` is an int32 byte count n, then (n > 0) Java's internal `String.value` bytes and
//! its coder byte: 0 LATIN1, 1 UTF-16 in the writing JVM's native order (little-endian on
//! x86-64 and arm64). A `cstring` is an int32 k: k > 0 a `string` follows, remembered as entry
//! k; k < 0 reuses entry −k. A record cut by the end of the file (a killed Gatling) is rejected
//! with a warning; the records before it are kept. Rejects name the record's number (the RUN
//! record is 1) as their line and its byte offset.

use std::collections::HashMap;
use std::io::{BufRead, ErrorKind, Read};

use super::{Emitter, Group, Request};
use crate::FileReport;
use crate::error::IngestError;
use crate::options::DecodeOptions;

/// Why a record could not be read.
enum Fail {
    /// The file ends inside it.
    Cut,
    /// Its bytes are not what Gatling writes; what follows cannot be found again.
    Corrupt(&'static str, String),
    /// A value of a record read whole is bad: that record alone is rejected.
    Value(&'static str, String),
    Io(std::io::Error),
}

impl From<std::io::Error> for Fail {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == ErrorKind::UnexpectedEof {
            Fail::Cut
        } else {
            Fail::Io(e)
        }
    }
}

/// Most groups a REQUEST or GROUP record is believed to nest in.
const MAX_GROUPS: i32 = 1024;

struct In<R> {
    r: R,
    pos: u64,
    max: usize,
    cache: HashMap<i32, String>,
}

impl<R: BufRead> In<R> {
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], Fail> {
        let mut b = [0u8; N];
        self.r.read_exact(&mut b)?;
        self.pos += N as u64;
        Ok(b)
    }

    fn i32(&mut self) -> Result<i32, Fail> {
        Ok(i32::from_be_bytes(self.bytes::<4>()?))
    }

    fn i64(&mut self) -> Result<i64, Fail> {
        Ok(i64::from_be_bytes(self.bytes::<8>()?))
    }

    fn bool(&mut self, field: &'static str) -> Result<bool, Fail> {
        match self.bytes::<1>()?[0] {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(Fail::Corrupt(
                field,
                format!("{b:#04x} is not a boolean (0 or 1)"),
            )),
        }
    }

    /// The header byte of the next record; `None` at the end of the file.
    fn header(&mut self) -> Result<Option<u8>, Fail> {
        if self.r.fill_buf()?.is_empty() {
            return Ok(None);
        }
        Ok(Some(self.bytes::<1>()?[0]))
    }

    /// A `string`: length, Java's internal bytes, coder.
    fn string(&mut self, field: &'static str) -> Result<String, Fail> {
        let n = self.i32()?;
        if n == 0 {
            return Ok(String::new());
        }
        if n < 0 || n as usize > self.max {
            return Err(Fail::Corrupt(
                field,
                format!(
                    "a string of {n} bytes (not between 0 and the {} byte limit)",
                    self.max
                ),
            ));
        }
        let mut b = vec![0u8; n as usize];
        self.r.read_exact(&mut b)?;
        self.pos += u64::from(n as u32);
        match self.bytes::<1>()?[0] {
            0 => Ok(b.iter().map(|&c| char::from(c)).collect()),
            1 if n % 2 == 0 => {
                let units = b.chunks_exact(2).map(|u| u16::from_le_bytes([u[0], u[1]]));
                Ok(char::decode_utf16(units)
                    .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                    .collect())
            }
            1 => Err(Fail::Corrupt(
                field,
                format!("a UTF-16 string of an odd {n} bytes"),
            )),
            c => Err(Fail::Corrupt(
                field,
                format!("string coder {c} (Java's are 0, LATIN1, and 1, UTF-16)"),
            )),
        }
    }

    /// A `cstring`: a new string remembered under its index, or a remembered one.
    fn cstring(&mut self, field: &'static str) -> Result<Result<String, String>, Fail> {
        let k = self.i32()?;
        if k > 0 {
            let s = self.string(field)?;
            self.cache.insert(k, s.clone());
            Ok(Ok(s))
        } else if k < 0 {
            match self.cache.get(&k.wrapping_neg()) {
                Some(s) => Ok(Ok(s.clone())),
                None => Ok(Err(format!(
                    "refers to string {} of the cache, which no earlier record defined",
                    k.wrapping_neg()
                ))),
            }
        } else {
            Err(Fail::Corrupt(field, "a cached string numbered 0".into()))
        }
    }

    /// `int32 n, n × cstring`, comma-joined (as the text log writes a group path).
    fn groups(&mut self) -> Result<Result<String, String>, Fail> {
        let n = self.i32()?;
        if !(0..=MAX_GROUPS).contains(&n) {
            return Err(Fail::Corrupt("groups", format!("{n} groups")));
        }
        let mut path = String::new();
        let mut bad = None;
        for i in 0..n {
            match self.cstring("groups")? {
                Ok(g) => {
                    if i > 0 {
                        path.push(',');
                    }
                    path.push_str(&g);
                }
                Err(e) => bad = Some(e),
            }
        }
        Ok(bad.map_or(Ok(path), Err))
    }
}

/// The RUN record (after its header byte): the start time and the scenarios.
fn run<R: BufRead>(i: &mut In<R>, emitter: &mut Emitter<'_>) -> Result<(i64, Vec<String>), Fail> {
    let version = i.string("version")?;
    let _simulation = i.string("simulationClass")?;
    let start = i.i64()?;
    let _description = i.string("description")?;
    let n = i.i32()?;
    if !(0..=1 << 16).contains(&n) {
        return Err(Fail::Corrupt("scenarios", format!("{n} scenarios")));
    }
    let mut scenarios = Vec::with_capacity(n as usize);
    for _ in 0..n {
        scenarios.push(i.string("scenarios")?);
    }
    let m = i.i32()?;
    if !(0..=1 << 16).contains(&m) {
        return Err(Fail::Corrupt("assertions", format!("{m} assertions")));
    }
    for _ in 0..m {
        let len = i.i32()?;
        if len < 0 || len as usize > i.max {
            return Err(Fail::Corrupt(
                "assertions",
                format!("an assertion of {len} bytes"),
            ));
        }
        std::io::copy(&mut (&mut i.r).take(len as u64), &mut std::io::sink())
            .map_err(Fail::Io)
            .and_then(|copied| {
                if copied == len as u64 {
                    Ok(())
                } else {
                    Err(Fail::Cut)
                }
            })?;
        i.pos += len as u64;
        emitter.assertion();
    }
    emitter.run(&version);
    emitter.declare_scenarios(&scenarios);
    Ok((start, scenarios))
}

/// One record after the RUN record; `kind` is its header byte.
fn record<R: BufRead>(
    i: &mut In<R>,
    kind: u8,
    no: u64,
    start: i64,
    scenarios: &[String],
    emitter: &mut Emitter<'_>,
) -> Result<(), Fail> {
    let value = |r: Result<String, String>, field| r.map_err(|e| Fail::Value(field, e));
    match kind {
        1 => {
            let groups = i.groups()?;
            let name = i.cstring("name")?;
            let (s, e) = (i.i32()?, i.i32()?);
            let ok = i.bool("ok")?;
            let msg = i.cstring("message")?;
            let (groups, name, msg) = (
                value(groups, "groups")?,
                value(name, "name")?,
                value(msg, "message")?,
            );
            let r = Request {
                groups: &groups,
                name: &name,
                start: start.saturating_add(i64::from(s)),
                end: start.saturating_add(i64::from(e)),
                ok,
                msg: &msg,
                user: None,
            };
            emitter.request(no, &r).map_err(ingest)?;
        }
        2 => {
            let idx = i.i32()?;
            let is_start = i.bool("isStart")?;
            let _ts = i.i32()?;
            let Some(scenario) = usize::try_from(idx).ok().and_then(|x| scenarios.get(x)) else {
                return Err(Fail::Value(
                    "scenarioIndex",
                    format!(
                        "{idx}, but the RUN record names {} scenario(s)",
                        scenarios.len()
                    ),
                ));
            };
            emitter.user(no, scenario, None, is_start);
        }
        3 => {
            let groups = i.groups()?;
            let (s, e, c) = (i.i32()?, i.i32()?, i.i32()?);
            let ok = i.bool("ok")?;
            let groups = value(groups, "groups")?;
            let g = Group {
                groups: &groups,
                start: start.saturating_add(i64::from(s)),
                end: start.saturating_add(i64::from(e)),
                cumulated: i64::from(c),
                ok,
                user: None,
            };
            emitter.group(no, &g).map_err(ingest)?;
        }
        4 => {
            let msg = i.cstring("message")?;
            let _ts = i.i32()?;
            emitter.error(&value(msg, "message")?);
        }
        0 => {
            return Err(Fail::Corrupt("record", "a second RUN record".into()));
        }
        b => {
            return Err(Fail::Corrupt(
                "record",
                format!(
                    "record type {b} (Gatling writes 0 RUN, 1 REQUEST, 2 USER, 3 GROUP, 4 ERROR)"
                ),
            ));
        }
    }
    Ok(())
}

/// An error stopping the import (the reject policy, the sink) carried through [`Fail::Io`]'s
/// sibling: kept in a thread-local-free way by boxing it into an io::Error.
fn ingest(e: IngestError) -> Fail {
    Fail::Io(std::io::Error::other(Stop(e)))
}

#[derive(Debug)]
struct Stop(IngestError);

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Stop {}

/// The IngestError behind an io error: the one [`ingest`] wrapped, or the io error itself.
fn unwrap_io(file: &str, e: std::io::Error) -> IngestError {
    if e.get_ref().is_some_and(|inner| inner.is::<Stop>()) {
        let inner = e.into_inner().expect("checked above");
        return inner.downcast::<Stop>().expect("checked above").0;
    }
    IngestError::io(file, e)
}

fn kind_name(kind: u8) -> &'static str {
    match kind {
        0 => "RUN",
        1 => "REQUEST",
        2 => "USER",
        3 => "GROUP",
        4 => "ERROR",
        _ => "unknown",
    }
}

/// Decodes a binary `simulation.log` into the emitter's sink.
pub(super) fn decode<R: BufRead>(
    file: &str,
    reader: R,
    opts: &DecodeOptions,
    mut emitter: Emitter<'_>,
) -> Result<FileReport, IngestError> {
    let mut i = In {
        r: reader,
        pos: 0,
        max: opts.max_field_bytes,
        cache: HashMap::new(),
    };
    let mut no = 1u64;
    let mut at = 0u64;
    let mut kind = 0u8;
    let outcome = (|| {
        let header = i.header()?;
        if header != Some(0) {
            return Err(Fail::Corrupt(
                "record",
                "the file does not start with a RUN record".into(),
            ));
        }
        let (start, scenarios) = run(&mut i, &mut emitter)?;
        loop {
            no += 1;
            at = i.pos;
            let Some(k) = i.header()? else {
                return Ok(());
            };
            kind = k;
            match record(&mut i, k, no, start, &scenarios, &mut emitter) {
                Err(Fail::Value(field, reason)) => {
                    let reason = format!("{} record at byte {at}: {reason}", kind_name(k));
                    emitter.reject(no, Some(field), reason).map_err(ingest)?;
                }
                other => other?,
            }
        }
    })();
    match outcome {
        Ok(()) => {}
        Err(Fail::Io(e)) => return Err(unwrap_io(file, e)),
        Err(Fail::Value(field, reason)) | Err(Fail::Corrupt(field, reason)) if no == 1 => {
            return Err(IngestError::Layout {
                file: file.to_string(),
                reason: format!(
                    "not a Gatling binary simulation.log: its RUN record's {field}: {reason}"
                ),
            });
        }
        Err(Fail::Cut) if no == 1 => {
            return Err(IngestError::Layout {
                file: file.to_string(),
                reason: "a Gatling binary simulation.log cut inside its RUN record: no request was written".into(),
            });
        }
        Err(Fail::Cut) => {
            let reason = format!(
                "the file ends inside this {} record (byte {at}; cut off by a killed Gatling?)",
                kind_name(kind)
            );
            emitter.warn(format!("record {no}: {reason}; it was not imported"));
            emitter.reject(no, None, reason)?;
        }
        Err(Fail::Value(field, reason)) | Err(Fail::Corrupt(field, reason)) => {
            let reason = format!(
                "{} record at byte {at}: {reason}; the rest of the file cannot be read",
                kind_name(kind)
            );
            emitter.warn(format!(
                "record {no}: {reason}: the records after byte {at} were not imported"
            ));
            emitter.reject(no, Some(field), reason)?;
        }
    }
    emitter.finish()
}
