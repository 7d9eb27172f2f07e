//! k6 results (`k6 --out json`, `k6 --out csv`): k6 writes one HTTP request as consecutive
//! Points of `http_reqs`, `http_req_duration`, `_blocked`, `_connecting`, `_tls_handshaking`,
//! `_sending`, `_waiting`, `_receiving` and (k6 ≥ 0.31) `http_req_failed`, all with the same
//! time (the request's **end**) and tags. The two readers (`json.rs`, `csv.rs`) turn lines into
//! [`Point`]s; the [`Assembler`] here joins a request's Points into one sample, maps it to the
//! canonical columns (docs/import.md "k6") and pushes it through the same batch builder, sink and
//! reject policy as the JTL decoders.

mod csv;
pub(crate) mod json;
mod layout;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use loadlake_schema::{SampleKind, SampleRecord, SampleSink, k6_error_class};

pub use self::csv::decode_k6_csv;
pub use self::json::decode_k6_json;

use crate::FileReport;
use crate::error::IngestError;
use crate::options::DecodeOptions;
use crate::record_output::RecordOutput;
use crate::rejects::RejectHandler;

use self::layout::{Col, Layouts};

/// Tags (or metadata) of a Point, sorted by name; empty values are kept (they compare).
pub(crate) type Tags = Vec<(String, String)>;

/// `into` becomes `pairs`, its strings' buffers reused (the tags of consecutive requests differ
/// in a value or two).
pub(crate) fn assign_tags<'p>(
    into: &mut Tags,
    pairs: impl ExactSizeIterator<Item = (&'p str, &'p str)>,
) {
    into.truncate(pairs.len());
    for (i, (k, v)) in pairs.enumerate() {
        match into.get_mut(i) {
            Some((name, value)) => {
                name.clear();
                name.push_str(k);
                value.clear();
                value.push_str(v);
            }
            None => into.push((k.to_string(), v.to_string())),
        }
    }
}

/// `into` becomes a copy of `from`, its strings' buffers reused (unlike `clone_from`, which
/// allocates every pair anew).
fn copy_tags(into: &mut Tags, from: &Tags) {
    assign_tags(into, from.iter().map(|(k, v)| (k.as_str(), v.as_str())));
}

/// One k6 metric sample, as a reader decoded it from one line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Point<'a> {
    /// The metric (`http_req_duration`, `vus`, a custom one).
    pub metric: Metric<'a>,
    /// The Point's time (for a request: its end), ns since the epoch.
    pub time_ns: i64,
    /// The value: ms for time metrics, 0/1 for rates, 1 for counters, a count for gauges.
    pub value: f64,
    /// The tags, sorted by name (borrowed from the reader's last when a line repeats them).
    pub tags: std::borrow::Cow<'a, Tags>,
    /// k6 ≥ 0.41's `metadata` (`vu`, `iter` when enabled), sorted by name.
    pub meta: std::borrow::Cow<'a, Tags>,
    /// Points of one file with the same generation have the same tags and metadata (the
    /// reader's to say; `None`: compare them).
    pub generation: Option<u64>,
}

/// A Point's metric, as the [`Assembler`] tells them apart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Metric<'a> {
    /// `http_reqs`: the first Point of a request.
    Reqs,
    /// `TIMINGS[i]`: a request's other Points.
    Timing(usize),
    /// `vus`: the test's VUs.
    Vus,
    /// `checks`: a check's pass (1) or fail (0).
    Checks,
    /// `group_duration`: a group, imported as a transaction.
    Group,
    /// `AGGREGATES[i]`, k6's own aggregates: neither imported nor noted.
    Aggregate(usize),
    /// Any other metric (a custom one): counted in a note.
    Other(std::borrow::Cow<'a, str>),
}

impl<'a> From<std::borrow::Cow<'a, str>> for Metric<'a> {
    fn from(name: std::borrow::Cow<'a, str>) -> Self {
        Metric::known(name.as_bytes()).unwrap_or(Metric::Other(name))
    }
}

impl<'a> From<&'a str> for Metric<'a> {
    fn from(name: &'a str) -> Self {
        Metric::from(std::borrow::Cow::Borrowed(name))
    }
}

impl Metric<'_> {
    /// The metric named `name`, unless it is another (a custom) one.
    pub(crate) fn known(name: &[u8]) -> Option<Metric<'static>> {
        Some(match name {
            b"http_reqs" => Metric::Reqs,
            b"vus" => Metric::Vus,
            b"checks" => Metric::Checks,
            b"group_duration" => Metric::Group,
            other => {
                if let Some(i) = TIMINGS.iter().position(|m| m.as_bytes() == other) {
                    Metric::Timing(i)
                } else {
                    Metric::Aggregate(AGGREGATES.iter().position(|m| m.as_bytes() == other)?)
                }
            }
        })
    }

    /// A known metric as one byte, `None` for another metric ([`Metric::of_code`] undoes it).
    pub(crate) fn code(&self) -> Option<u8> {
        let timings = TIMINGS.len() as u8;
        Some(match self {
            Metric::Reqs => 0,
            Metric::Vus => 1,
            Metric::Checks => 2,
            Metric::Group => 3,
            Metric::Timing(i) => 4 + *i as u8,
            Metric::Aggregate(i) => 4 + timings + *i as u8,
            Metric::Other(_) => return None,
        })
    }

    /// The known metric of [`Metric::code`] `code`.
    pub(crate) fn of_code(code: u8) -> Option<Metric<'static>> {
        let code = usize::from(code);
        Some(match code {
            0 => Metric::Reqs,
            1 => Metric::Vus,
            2 => Metric::Checks,
            3 => Metric::Group,
            _ if code - 4 < TIMINGS.len() => Metric::Timing(code - 4),
            _ if code - 4 - TIMINGS.len() < AGGREGATES.len() => {
                Metric::Aggregate(code - 4 - TIMINGS.len())
            }
            _ => return None,
        })
    }

    /// The metric's name as k6 writes it.
    pub(crate) fn name(&self) -> &str {
        match self {
            Metric::Reqs => "http_reqs",
            Metric::Timing(i) => TIMINGS[*i],
            Metric::Vus => "vus",
            Metric::Checks => "checks",
            Metric::Group => "group_duration",
            Metric::Aggregate(i) => AGGREGATES[*i],
            Metric::Other(name) => name,
        }
    }
}

impl std::fmt::Display for Metric<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// k6's own aggregate metrics, which the assembler skips.
const AGGREGATES: [&str; 5] = [
    "vus_max",
    "iterations",
    "iteration_duration",
    "data_sent",
    "data_received",
];

/// The Points of one request other than `http_reqs`, as bits of a request's `seen` mask.
const TIMINGS: [&str; 8] = [
    "http_req_duration",
    "http_req_blocked",
    "http_req_connecting",
    "http_req_tls_handshaking",
    "http_req_sending",
    "http_req_waiting",
    "http_req_receiving",
    "http_req_failed",
];
const DURATION: usize = 0;
const CONNECTING: usize = 2;
const TLS: usize = 3;
const SENDING: usize = 4;
const WAITING: usize = 5;
const FAILED: usize = 7;

/// Sets of tags and metadata kept at most: by the JSON reader (`json/recent.rs`), to find a
/// line's set again by its text, and by the [`Assembler`] as spare requests, to reuse a set's
/// tags without a copy. A test's requests seldom go back and forth among more.
pub(crate) const SETS_KEPT: usize = 8;

/// Tags that have a column of their own; every other non-empty tag goes into `vars`.
const COLUMN_TAGS: [&str; 6] = ["name", "url", "status", "error", "scenario", "vu"];

/// A request being assembled from its Points.
#[derive(Debug)]
struct Request {
    /// Line of its `http_reqs` Point.
    line: u64,
    time_ns: i64,
    tags: Tags,
    meta: Tags,
    /// The [`Point::generation`] of its tags and metadata.
    generation: Option<u64>,
    values: [f64; 8],
    /// Bit `i` set: `TIMINGS[i]` was seen.
    seen: u8,
}

impl Request {
    /// Whether `p` has this request's time, tags and metadata.
    fn matches(&self, p: &Point<'_>) -> bool {
        self.time_ns == p.time_ns
            && ((self.generation.is_some() && self.generation == p.generation)
                || (self.tags == *p.tags && self.meta == *p.meta))
    }

    fn has(&self, i: usize) -> bool {
        self.seen & (1 << i) != 0
    }

    /// The first Point this request lacks to be whole, when the file ends (or is unreadable)
    /// after it: every Point the request before it had (`expected`; for the first request the
    /// seven timings every k6 writes), and `http_req_failed` when it has an
    /// `expected_response` tag (k6 writes both exactly when a response callback is set).
    fn first_missing(&self, expected: Option<u8>) -> Option<&'static str> {
        let mut need = expected.unwrap_or((1 << FAILED) - 1);
        if tag(&self.tags, "expected_response").is_some() {
            need |= 1 << FAILED;
        }
        (0..TIMINGS.len())
            .find(|&i| need & (1 << i) != 0 && !self.has(i))
            .map(|i| TIMINGS[i])
    }
}

/// The value of tag `name` in sorted `tags`.
fn tag<'t>(tags: &'t Tags, name: &str) -> Option<&'t str> {
    tag_at(tags, name).map(|i| tags[i].1.as_str())
}

/// The position of tag `name` in sorted `tags`.
fn tag_at(tags: &Tags, name: &str) -> Option<usize> {
    tags.binary_search_by(|(k, _)| k.as_str().cmp(name)).ok()
}

/// Rounds a duration in (fractional) ms to whole ms, half away from zero, within range.
fn whole_ms(v: f64, field: &str) -> Result<i64, (String, String)> {
    loadlake_schema::check_duration(v.round() as i64)
        .map_err(|e| (field.to_string(), e.to_string()))
}

/// A duration in (fractional) ms → whole µs, half away from zero (k6 measures in ns and writes
/// ms with up to 6 decimals), within the range of durations.
fn whole_us(v: f64, field: &str) -> Result<i64, (String, String)> {
    whole_ms(v, field)?; // the same range check, on the ms value
    Ok((v * 1000.0).round() as i64)
}

/// Ns since the epoch → whole ms (floor), within range.
fn ms_of_ns(ns: i64, field: &str) -> Result<i64, (String, String)> {
    loadlake_schema::check_ts(ns.div_euclid(1_000_000))
        .map_err(|e| (field.to_string(), e.to_string()))
}

/// Joins Points into requests and pushes them; keeps the file's counters and notes.
pub(crate) struct Assembler<'a> {
    out: RecordOutput<'a>,
    pending: Option<Request>,
    /// The last requests imported (at most [`SETS_KEPT`]), their allocations reused by the next
    /// ones: tags of a generation kept here need no copy.
    spares: VecDeque<Request>,
    /// The Points the last imported request had: what a request at the end of the file must
    /// have to count as whole ([`Request::first_missing`]).
    expected: Option<u8>,
    /// A line could not be read: Points of its request that follow are dropped with it.
    poisoned: bool,
    /// Points dropped for belonging to a request with an unreadable line.
    dropped: u64,
    /// The last `vus` value.
    vus: Option<i32>,
    /// `checks` per check name: (passes, fails).
    checks: BTreeMap<String, (u64, u64)>,
    /// Points of metrics that are neither requests nor known aggregates, per metric.
    other: BTreeMap<String, u64>,
    tag_names: BTreeSet<String>,
    /// Where the column tags are in the last request's (or group's) tags.
    layouts: Layouts,
}

impl<'a> Assembler<'a> {
    pub(crate) fn new(
        file: &'a str,
        opts: &DecodeOptions,
        first_row: i64,
        sink: &'a mut dyn SampleSink,
        rejects: &'a mut dyn RejectHandler,
    ) -> Self {
        Assembler {
            out: RecordOutput::new(file, opts, first_row, sink, rejects, FileReport::default()),
            pending: None,
            spares: VecDeque::with_capacity(SETS_KEPT),
            expected: None,
            poisoned: false,
            dropped: 0,
            vus: None,
            checks: BTreeMap::new(),
            other: BTreeMap::new(),
            tag_names: BTreeSet::new(),
            layouts: Layouts::default(),
        }
    }

    /// Adds a warning to the file's report.
    pub(crate) fn warn(&mut self, w: String) {
        self.out.warn(w);
    }

    /// Takes one Point read at `line`.
    pub(crate) fn point(&mut self, line: u64, p: Point<'_>) -> Result<(), IngestError> {
        if p.metric == Metric::Reqs {
            self.close_pending()?;
            self.poisoned = false;
            let (tags, meta) = self.spare_tags(&p);
            self.pending = Some(Request {
                line,
                time_ns: p.time_ns,
                tags,
                meta,
                generation: p.generation,
                values: [0.0; 8],
                seen: 0,
            });
            return Ok(());
        }
        if let Metric::Timing(i) = p.metric {
            return self.timing(line, i, p);
        }
        self.close_pending()?;
        self.poisoned = false;
        match &p.metric {
            Metric::Vus => self.vus = Some(p.value.round().clamp(0.0, i32::MAX as f64) as i32),
            Metric::Checks => {
                let name = tag(&p.tags, "check").unwrap_or_default().to_string();
                let entry = self.checks.entry(name).or_default();
                if p.value >= 0.5 {
                    entry.0 += 1;
                } else {
                    entry.1 += 1;
                }
            }
            Metric::Group => self.group(line, &p)?,
            Metric::Aggregate(_) | Metric::Reqs | Metric::Timing(_) => {}
            Metric::Other(other) => *self.other.entry(other.to_string()).or_default() += 1,
        }
        Ok(())
    }

    /// Tag vectors holding the tags and metadata of `p` (an `http_reqs` Point) for its
    /// request: those of a spare of its generation as they are, else new ones while fewer than
    /// [`SETS_KEPT`] are kept, else those of the spare kept longest, overwritten in place.
    fn spare_tags(&mut self, p: &Point<'_>) -> (Tags, Tags) {
        let same = match p.generation {
            Some(g) => self.spares.iter().rposition(|r| r.generation == Some(g)),
            None => None,
        };
        if let Some(req) = same.and_then(|i| self.spares.remove(i)) {
            return (req.tags, req.meta);
        }
        // Fewer spares than kept: new vectors, so that one of each generation is kept.
        let oldest = if self.spares.len() == SETS_KEPT {
            self.spares.pop_front()
        } else {
            None
        };
        match oldest {
            Some(Request {
                mut tags, mut meta, ..
            }) => {
                copy_tags(&mut tags, &p.tags);
                copy_tags(&mut meta, &p.meta);
                (tags, meta)
            }
            None => (Tags::clone(&p.tags), Tags::clone(&p.meta)),
        }
    }

    /// A Point of `TIMINGS[i]`: joins the open request when it is its continuation.
    fn timing(&mut self, line: u64, i: usize, p: Point<'_>) -> Result<(), IngestError> {
        if let Some(req) = &mut self.pending
            && req.matches(&p)
            && !req.has(i)
        {
            if !p.value.is_finite() || p.value < 0.0 {
                let reason = format!("{} is not a duration", p.value);
                return self.bad_line(line, Some(TIMINGS[i]), reason, None);
            }
            req.values[i] = p.value;
            req.seen |= 1 << i;
            if i == FAILED {
                self.close_pending()?;
            }
            return Ok(());
        }
        if self.poisoned {
            self.dropped += 1;
            return Ok(());
        }
        self.close_pending()?;
        let reason = format!(
            "a {} Point that follows no http_reqs Point with its time and tags (the file starts mid-request, or its lines were reordered?)",
            p.metric
        );
        self.bad_line(line, Some(TIMINGS[i]), reason, None)
    }

    /// A line that could not be read: rejected; the open request is imported if it is already
    /// complete, else dropped with it, as are the Points of its request that follow.
    pub(crate) fn bad_line(
        &mut self,
        line: u64,
        field: Option<&str>,
        mut reason: String,
        raw: Option<&[u8]>,
    ) -> Result<(), IngestError> {
        if let Some(req) = self.pending.take() {
            match req.first_missing(self.expected) {
                None => self.emit(req)?,
                Some(_) => reason.push_str(&format!(
                    "; the request begun at line {} was not imported with it",
                    req.line
                )),
            }
        }
        self.poisoned = true;
        self.out.reject(line, field, reason, raw)
    }

    /// Imports the open request, if any (a request without `http_req_duration` is rejected).
    fn close_pending(&mut self) -> Result<(), IngestError> {
        let Some(req) = self.pending.take() else {
            return Ok(());
        };
        if !req.has(DURATION) {
            let line = req.line;
            return self.reject(
                line,
                None,
                "an http_reqs Point without the http_req_duration Point of its request".into(),
            );
        }
        self.emit(req)
    }

    fn reject(
        &mut self,
        line: u64,
        field: Option<&str>,
        reason: String,
    ) -> Result<(), IngestError> {
        self.out.reject(line, field, reason, None)
    }

    /// Maps a complete request to a sample and pushes it.
    fn emit(&mut self, req: Request) -> Result<(), IngestError> {
        let layout = self.layouts.fit(&req.tags, &req.meta, req.generation);
        for k in layout.names_noted() {
            if !self.tag_names.contains(k) {
                self.tag_names.insert(k.clone());
            }
        }
        let layout = self.layouts.last();
        let status = layout.get(&req.tags, Col::Status).filter(|s| !s.is_empty());
        let error = layout.get(&req.tags, Col::Error).filter(|s| !s.is_empty());
        let error_code = layout
            .get(&req.tags, Col::ErrorCode)
            .and_then(|c| c.parse::<u32>().ok());
        let success = if req.has(FAILED) {
            req.values[FAILED] < 0.5
        } else if let Some(expected) = layout.get(&req.tags, Col::ExpectedResponse) {
            expected == "true"
        } else {
            // k6 before 0.31 (no http_req_failed): its default expected statuses, 200–399.
            error.is_none()
                && status
                    .and_then(|s| s.parse::<u16>().ok())
                    .is_some_and(|s| (200..400).contains(&s))
        };
        let v = &req.values;
        let timed = |i: usize| req.has(i).then_some(v[i]);
        // Each in whole ms (JMeter's unit) and in µs (k6's precision), from the same value.
        let both = |v: f64, field: &str| {
            Ok::<_, (String, String)>((whole_ms(v, field)?, whole_us(v, field)?))
        };
        let times = (|| {
            let elapsed = both(v[DURATION], TIMINGS[DURATION])?;
            let start_ns = req.time_ns - (v[DURATION] * 1e6).round() as i64;
            let ts = ms_of_ns(start_ns, "time")?;
            let latency = match (timed(SENDING), timed(WAITING)) {
                (Some(s), Some(w)) => Some(both(s + w, TIMINGS[WAITING])?),
                _ => None,
            };
            let connect = match timed(CONNECTING) {
                Some(c) => Some(both(c + timed(TLS).unwrap_or(0.0), TIMINGS[CONNECTING])?),
                None => None,
            };
            Ok::<_, (String, String)>((ts, elapsed, latency, connect))
        })();
        let (ts, (elapsed, elapsed_us), latency, connect) = match times {
            Ok(t) => t,
            Err((field, reason)) => return self.reject(req.line, Some(&field), reason),
        };
        let class = k6_error_class(success, error_code, status);
        let layout = self.layouts.last();
        let url = layout.get(&req.tags, Col::Url);
        let label = layout
            .get(&req.tags, Col::Name)
            .filter(|n| !n.is_empty())
            .or(url)
            .unwrap_or_default();
        let record = SampleRecord {
            latency_ms: latency.map(|(ms, _)| ms),
            connect_ms: connect.map(|(ms, _)| ms),
            elapsed_us: Some(elapsed_us),
            latency_us: latency.map(|(_, us)| us),
            connect_us: connect.map(|(_, us)| us),
            response_code: status,
            response_message: error,
            success,
            url: url.filter(|u| !u.is_empty()),
            ..self.record_of(&req.tags, &req.meta, ts, elapsed, label, SampleKind::Sample)
        };
        self.expected = Some(req.seen);
        let pushed = self.out.push(req.line, &record, Some(class));
        if self.spares.len() == SETS_KEPT {
            self.spares.pop_front();
        }
        self.spares.push_back(req);
        pushed
    }

    /// A `group_duration` Point: the group as a `transaction` sample.
    fn group(&mut self, line: u64, p: &Point<'_>) -> Result<(), IngestError> {
        let Some(group) = tag(&p.tags, "group").filter(|g| !g.is_empty()) else {
            return Ok(());
        };
        let label = group.strip_prefix("::").unwrap_or(group);
        let times = (|| {
            let elapsed = whole_ms(p.value, "group_duration")?;
            let elapsed_us = whole_us(p.value, "group_duration")?;
            let start_ns = p.time_ns - (p.value * 1e6).round() as i64;
            Ok::<_, (String, String)>((ms_of_ns(start_ns, "time")?, elapsed, elapsed_us))
        })();
        let (ts, elapsed, elapsed_us) = match times {
            Ok(t) if p.value.is_finite() && p.value >= 0.0 => t,
            Ok(_) => {
                let reason = format!("{} is not a duration", p.value);
                return self.reject(line, Some("group_duration"), reason);
            }
            Err((field, reason)) => return self.reject(line, Some(&field), reason),
        };
        // k6 does not say whether a group failed.
        self.layouts.fit(&p.tags, &p.meta, p.generation);
        let record = SampleRecord {
            success: true,
            elapsed_us: Some(elapsed_us),
            ..self.record_of(
                &p.tags,
                &p.meta,
                ts,
                elapsed,
                label,
                SampleKind::Transaction,
            )
        };
        self.out.push(line, &record, None)
    }

    /// What a request's sample and a group's transaction share: start, duration, label, kind,
    /// the scenario as case, the VU as thread, the test's VUs as threads, the other tags as
    /// vars; everything else unrecorded (and not successful) until the caller says otherwise.
    /// The last layout [`Layouts::fit`] gave must be that of `tags` and `meta`.
    fn record_of<'t>(
        &self,
        tags: &'t Tags,
        meta: &'t Tags,
        ts: i64,
        elapsed: i64,
        label: &'t str,
        kind: SampleKind,
    ) -> SampleRecord<'t> {
        let layout = self.layouts.last();
        SampleRecord {
            ts_ms: Some(ts),
            elapsed_ms: Some(elapsed),
            label,
            case_name: layout.get(tags, Col::Scenario).filter(|s| !s.is_empty()),
            thread: layout.vu(tags, meta).filter(|s| !s.is_empty()),
            kind: Some(kind),
            grp_threads: self.vus,
            all_threads: self.vus,
            vars: layout.vars(tags, meta),
            ..SampleRecord::default()
        }
    }

    /// Ends the file: the open request is imported when it has every Point the request before
    /// it had (else it was cut off by a killed k6 and is rejected); notes are added.
    pub(crate) fn finish(mut self) -> Result<FileReport, IngestError> {
        if let Some(req) = self.pending.take() {
            match req.first_missing(self.expected) {
                None => self.emit(req)?,
                Some(m) => {
                    let reason = format!(
                        "incomplete request: the file ends before its {m} Point (cut off by a killed k6?)"
                    );
                    self.warn(format!("line {}: {reason}; it was not imported", req.line));
                    self.reject(req.line, Some(m), reason)?;
                }
            }
        }
        if self.dropped > 0 {
            let w = format!(
                "{} Points of requests with an unreadable line were not imported",
                self.dropped
            );
            self.warn(w);
        }
        if !self.checks.is_empty() {
            let w = checks_note(&self.checks);
            self.warn(w);
        }
        if !self.other.is_empty() {
            let list: Vec<String> = self
                .other
                .iter()
                .map(|(m, n)| format!("{m} ({n})"))
                .collect();
            self.warn(format!(
                "Points of metrics other than HTTP requests, groups and VUs were not imported: {}",
                list.join(", ")
            ));
        }
        let report = self.out.report_mut();
        if report.columns.is_empty() {
            report.columns = self.tag_names.into_iter().collect();
        }
        self.out.finish()
    }

    /// The report being built (the readers set columns and header facts).
    pub(crate) fn report_mut(&mut self) -> &mut FileReport {
        self.out.report_mut()
    }
}

/// `k6 checks: 97 of 99 passed; failing: 'status is 200' 2 of 50`.
fn checks_note(checks: &BTreeMap<String, (u64, u64)>) -> String {
    let (pass, fail) = checks
        .values()
        .fold((0, 0), |(p, f), (cp, cf)| (p + cp, f + cf));
    let mut note = format!("k6 checks (not samples): {pass} of {} passed", pass + fail);
    let failing: Vec<String> = checks
        .iter()
        .filter(|(_, (_, f))| *f > 0)
        .map(|(name, (p, f))| format!("'{name}' failed {f} of {}", p + f))
        .collect();
    if !failing.is_empty() {
        note.push_str("; ");
        note.push_str(&failing.join(", "));
    }
    note
}
