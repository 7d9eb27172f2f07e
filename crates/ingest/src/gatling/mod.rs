//! Gatling's `simulation.log`: the text log of Gatling 3.0–3.12 (TAB-separated, both column
//! layouts, `text.rs`) and the binary log of Gatling 3.13+ (big-endian records, `binary.rs`);
//! Gatling 2.x logs are refused. Both readers turn records into [`Request`]s, [`Group`]s, user
//! starts and ends and errors; the [`Emitter`] here maps them to the canonical columns
//! (docs/import.md "Gatling", `../shared/design/peer-formats.md` §3–4) and pushes them through
//! the same batch builder, sink and reject policy as the JTL and k6 decoders.
//!
//! REQUEST → a `sample` (ts = start, elapsed = end − start, the group path in `vars['group']`,
//! the HTTP status parsed from a KO's check message); GROUP → a `transaction` (elapsed = end −
//! start, Gatling's cumulated response time in `vars['cumulated_ms']`); USER → the active users
//! (`all_threads`, `grp_threads`); ERROR → a warning of the run's manifest.

mod binary;
#[cfg(test)]
mod tests;
mod text;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;
use std::sync::LazyLock;

use loadlake_schema::{SampleKind, SampleRecord, SampleSink, classify_error};
use regex::Regex;

use crate::FileReport;
use crate::error::IngestError;
use crate::options::DecodeOptions;
use crate::record_output::RecordOutput;
use crate::rejects::RejectHandler;

/// The first bytes of a binary log: the RUN record's header byte (0), then the length of the
/// version string (an int32 well under 256: three zero bytes).
pub(crate) const BINARY_MAGIC: [u8; 4] = [0, 0, 0, 0];

/// Whether `head` starts like a Gatling log: the binary RUN record, or a text record's name and
/// a TAB.
pub(crate) fn looks_like_gatling(head: &[u8]) -> bool {
    if head.len() >= 6 && head.starts_with(&BINARY_MAGIC) {
        // int32 length of the version string, then its first byte: a digit.
        return head[4] > 0 && head[5].is_ascii_digit();
    }
    [
        &b"RUN\t"[..],
        b"ASSERTION\t",
        b"USER\t",
        b"REQUEST\t",
        b"GROUP\t",
    ]
    .iter()
    .any(|p| head.starts_with(p))
}

/// Decodes a Gatling `simulation.log` (text or binary, told by its first byte) into `sink`.
pub fn decode_gatling<R: BufRead>(
    file: &str,
    mut reader: R,
    opts: &DecodeOptions,
    first_row: i64,
    sink: &mut dyn SampleSink,
    rejects: &mut dyn RejectHandler,
) -> Result<FileReport, IngestError> {
    let head = reader.fill_buf().map_err(|e| IngestError::io(file, e))?;
    let is_binary = head.first() == Some(&0);
    let emitter = Emitter::new(file, opts, first_row, sink, rejects);
    if is_binary {
        binary::decode(file, reader, opts, emitter)
    } else {
        text::decode(file, reader, opts, emitter)
    }
}

/// One REQUEST record, as a reader decoded it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Request<'a> {
    /// The group path, comma-joined (`""` outside groups).
    pub groups: &'a str,
    pub name: &'a str,
    /// Epoch ms.
    pub start: i64,
    pub end: i64,
    pub ok: bool,
    /// The message (`""` when none).
    pub msg: &'a str,
    /// Gatling 3.0–3.3 only: the virtual user's id.
    pub user: Option<&'a str>,
}

/// One GROUP record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Group<'a> {
    /// The group path, comma-joined; the label is its last element.
    pub groups: &'a str,
    pub start: i64,
    pub end: i64,
    /// Sum of the response times of the group's requests, ms.
    pub cumulated: i64,
    pub ok: bool,
    pub user: Option<&'a str>,
}

/// The HTTP status a failed status check names (`status.find.is(201), but actually found
/// 200`, `status.find.in(200, 304), found 500`, `… but actually 404 is not …`).
static STATUS_IN_MSG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:found|but actually) (\d{3})\b").expect("a valid regex"));

/// The HTTP status in a KO message, when the message is a failed status check's.
pub(crate) fn status_of(msg: &str) -> Option<&str> {
    if !msg.trim_start().starts_with("status") {
        return None;
    }
    STATUS_IN_MSG
        .captures(msg)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str())
}

/// Maps records to samples and pushes them; keeps the file's counters and notes.
pub(crate) struct Emitter<'a> {
    out: RecordOutput<'a>,
    users: Users,
    /// ERROR records: messages (first few) and count.
    errors: BTreeMap<String, u64>,
    error_count: u64,
    /// REQUEST records whose end is `Long.MinValue` (unmatched WebSocket/SSE messages).
    unmatched: u64,
    assertions: u64,
}

/// The users and scenarios seen so far: a record's case and active-user counts.
#[derive(Default)]
struct Users {
    /// Users started and not ended, in all and per scenario.
    active: i32,
    active_in: HashMap<String, i32>,
    /// Gatling 3.0–3.3: the scenario of each user id.
    scenario_of_user: HashMap<String, String>,
    /// Scenarios of the USER records (3.4+ and binary: a request's case when there is one).
    scenarios: BTreeSet<String>,
    /// The line at which a second scenario showed up (requests before it got the first's name).
    second_scenario_at: Option<u64>,
    /// The scenarios the binary log's RUN record declares.
    declared: Option<Vec<String>>,
}

impl Users {
    /// The case of a record: its user's scenario (3.0–3.3), else the only scenario seen so far.
    fn case_of(&self, user: Option<&str>) -> Option<&str> {
        if let Some(u) = user {
            return self.scenario_of_user.get(u).map(String::as_str);
        }
        if let Some(declared) = &self.declared {
            return match declared.as_slice() {
                [only] => Some(only.as_str()),
                _ => None,
            };
        }
        if self.scenarios.len() == 1 {
            return self.scenarios.first().map(String::as_str);
        }
        None
    }

    /// `grp_threads` and `all_threads` of a record of `case`.
    fn threads(&self, case: Option<&str>) -> (Option<i32>, Option<i32>) {
        if self.scenarios.is_empty() {
            return (None, None);
        }
        let grp = case
            .and_then(|c| self.active_in.get(c).copied())
            .unwrap_or(self.active);
        (Some(grp), Some(self.active))
    }
}

/// How many distinct ERROR messages the manifest's warning names.
const ERRORS_NAMED: usize = 5;

impl<'a> Emitter<'a> {
    fn new(
        file: &'a str,
        opts: &DecodeOptions,
        first_row: i64,
        sink: &'a mut dyn SampleSink,
        rejects: &'a mut dyn RejectHandler,
    ) -> Self {
        let report = FileReport {
            tool: Some("gatling".into()),
            ..FileReport::default()
        };
        Emitter {
            out: RecordOutput::new(file, opts, first_row, sink, rejects, report),
            users: Users::default(),
            errors: BTreeMap::new(),
            error_count: 0,
            unmatched: 0,
            assertions: 0,
        }
    }

    pub(crate) fn warn(&mut self, w: String) {
        self.out.warn(w);
    }

    /// The RUN record: the Gatling version it names goes into the manifest.
    pub(crate) fn run(&mut self, version: &str) {
        let version = version.trim();
        if !version.is_empty() {
            self.out.report_mut().tool_version = Some(version.to_string());
        }
    }

    /// The scenarios of the run, as the binary log's RUN record declares them: with one, it is
    /// every request's case; with several, no request has one.
    pub(crate) fn declare_scenarios(&mut self, scenarios: &[String]) {
        self.users.declared = Some(scenarios.to_vec());
    }

    pub(crate) fn assertion(&mut self) {
        self.assertions += 1;
    }

    /// A USER record: a user of `scenario` started or ended (`user`: 3.0–3.3's id).
    pub(crate) fn user(&mut self, line: u64, scenario: &str, user: Option<&str>, start: bool) {
        if !self.users.scenarios.contains(scenario) {
            if !self.users.scenarios.is_empty() && self.users.second_scenario_at.is_none() {
                self.users.second_scenario_at = Some(line);
            }
            self.users.scenarios.insert(scenario.to_string());
        }
        if let Some(u) = user
            && start
        {
            self.users
                .scenario_of_user
                .insert(u.to_string(), scenario.to_string());
        }
        let delta = if start { 1 } else { -1 };
        self.users.active = self.users.active.saturating_add(delta).max(0);
        let active_in = &mut self.users.active_in;
        if !active_in.contains_key(scenario) {
            active_in.insert(scenario.to_string(), 0);
        }
        if let Some(n) = active_in.get_mut(scenario) {
            *n = n.saturating_add(delta).max(0);
        }
    }

    /// An ERROR record (Gatling could not build or send a request; no sample).
    pub(crate) fn error(&mut self, msg: &str) {
        self.error_count += 1;
        if self.errors.len() < ERRORS_NAMED || self.errors.contains_key(msg) {
            *self.errors.entry(msg.to_string()).or_default() += 1;
        }
    }

    /// A REQUEST record read at `line` (the text's line, the binary's record number).
    pub(crate) fn request(&mut self, line: u64, r: &Request<'_>) -> Result<(), IngestError> {
        if r.end == i64::MIN {
            self.unmatched += 1;
            return Ok(());
        }
        let (ts, elapsed) = match times(r.start, r.end) {
            Ok(t) => t,
            Err((field, reason)) => return self.reject(line, Some(field), reason),
        };
        let msg = Some(r.msg).filter(|m| !m.trim().is_empty());
        let code = if r.ok { None } else { r.msg_status() };
        let failure = if r.ok { None } else { msg };
        let class = classify_error(r.ok, code, failure, failure);
        let case = self.users.case_of(r.user);
        let (grp_threads, all_threads) = self.users.threads(case);
        let mut vars = Vec::new();
        if !r.groups.is_empty() {
            vars.push(("group", r.groups));
        }
        let record = SampleRecord {
            ts_ms: Some(ts),
            elapsed_ms: Some(elapsed),
            label: r.name,
            case_name: case,
            thread: r.user,
            kind: Some(SampleKind::Sample),
            response_code: code,
            success: r.ok,
            failure_message: failure,
            grp_threads,
            all_threads,
            vars,
            ..SampleRecord::default()
        };
        self.out.push(line, &record, Some(class))
    }

    /// A GROUP record: a `transaction` labelled with the group's name.
    pub(crate) fn group(&mut self, line: u64, g: &Group<'_>) -> Result<(), IngestError> {
        let (ts, elapsed) = match times(g.start, g.end) {
            Ok(t) => t,
            Err((field, reason)) => return self.reject(line, Some(field), reason),
        };
        if g.cumulated < 0 {
            let reason = format!("{} is not a duration", g.cumulated);
            return self.reject(line, Some("cumulatedMs"), reason);
        }
        let label = g.groups.rsplit(',').next().unwrap_or_default();
        let cumulated = g.cumulated.to_string();
        let case = self.users.case_of(g.user);
        let (grp_threads, all_threads) = self.users.threads(case);
        let mut vars = vec![("cumulated_ms", cumulated.as_str())];
        if g.groups.contains(',') {
            vars.push(("group", g.groups));
        }
        let record = SampleRecord {
            ts_ms: Some(ts),
            elapsed_ms: Some(elapsed),
            label,
            case_name: case,
            thread: g.user,
            kind: Some(SampleKind::Transaction),
            success: g.ok,
            failure_message: (!g.ok).then_some("a request of the group failed"),
            grp_threads,
            all_threads,
            vars,
            ..SampleRecord::default()
        };
        self.out.push(line, &record, None)
    }

    /// Rejects the record at `line`.
    pub(crate) fn reject(
        &mut self,
        line: u64,
        field: Option<&str>,
        reason: String,
    ) -> Result<(), IngestError> {
        self.reject_raw(line, field, reason, None)
    }

    /// Rejects the record at `line`, keeping its raw bytes.
    pub(crate) fn reject_raw(
        &mut self,
        line: u64,
        field: Option<&str>,
        reason: String,
        raw: Option<&[u8]>,
    ) -> Result<(), IngestError> {
        self.out.reject(line, field, reason, raw)
    }

    /// Ends the file: the last batch, and the notes.
    pub(crate) fn finish(mut self) -> Result<FileReport, IngestError> {
        if self.error_count > 0 {
            let named: Vec<String> = self
                .errors
                .iter()
                .map(|(m, n)| format!("'{m}' ({n})"))
                .collect();
            let w = format!(
                "Gatling ERROR records (requests Gatling could not build or send; not samples): {}: {}",
                self.error_count,
                named.join(", ")
            );
            self.warn(w);
        }
        if self.unmatched > 0 {
            let w = format!(
                "{} REQUEST records without an end (unmatched WebSocket/SSE messages) were not imported",
                self.unmatched
            );
            self.warn(w);
        }
        if let Some(line) = self
            .users
            .second_scenario_at
            .filter(|_| self.users.declared.is_none())
        {
            let w = format!(
                "several scenarios ({}) and no user ids in the log: requests have no case from record {line} on (before it, the first scenario's)",
                self.users
                    .scenarios
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            self.warn(w);
        }
        if self.assertions > 0 {
            let w = format!(
                "{} Gatling ASSERTION records (Gatling's own pass/fail criteria) were not imported",
                self.assertions
            );
            self.warn(w);
        }
        self.out.finish()
    }
}

impl Request<'_> {
    fn msg_status(&self) -> Option<&str> {
        status_of(self.msg)
    }
}

/// ts and elapsed of a record's start and end (epoch ms), or the field at fault.
fn times(start: i64, end: i64) -> Result<(i64, i64), (&'static str, String)> {
    let ts = loadlake_schema::check_ts(start).map_err(|e| ("start", e.to_string()))?;
    let elapsed = end
        .checked_sub(start)
        .ok_or_else(|| ("end", format!("{end} − {start} overflows")))?;
    if elapsed < 0 {
        return Err(("end", format!("the end {end} is before the start {start}")));
    }
    let elapsed = loadlake_schema::check_duration(elapsed).map_err(|e| ("end", e.to_string()))?;
    Ok((ts, elapsed))
}
