//! k6 `--out csv`: header `metric_name,timestamp,metric_value,<tags, sorted>,extra_tags[,metadata]`
//! (k6's `internal/output/csv`); columns are found by name. `timestamp` is unix seconds by
//! default, or ms / µs / ns (`timeFormat=unix_milli|unix_micro|unix_nano`, told by magnitude) or
//! RFC 3339 (`rfc3339`, `rfc3339_nano`); `extra_tags` and `metadata` are `k=v&k=v`.

use std::io::{BufRead, Read};

use loadlake_schema::SampleSink;

use super::json::rfc3339_ns;
use super::{Assembler, Point, Tags};
use crate::FileReport;
use crate::error::IngestError;
use crate::options::DecodeOptions;
use crate::rejects::RejectHandler;

/// A reader that remembers the last byte it handed out (did the input end with a line break?).
struct LastByte<R> {
    inner: R,
    last: Option<u8>,
}

impl<R: Read> Read for LastByte<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.last = Some(buf[n - 1]);
        }
        Ok(n)
    }
}

/// Where the columns of a k6 CSV are.
struct Columns {
    metric: usize,
    time: usize,
    value: usize,
    extra: Option<usize>,
    meta: Option<usize>,
    /// Tag columns: (position, name).
    tags: Vec<(usize, String)>,
}

impl Columns {
    fn of(header: &csv::ByteRecord, file: &str) -> Result<Columns, IngestError> {
        let names: Vec<String> = header
            .iter()
            .map(|f| {
                String::from_utf8_lossy(f)
                    .trim_start_matches('\u{feff}')
                    .to_string()
            })
            .collect();
        let find = |n: &str| names.iter().position(|c| c == n);
        let need = |n: &str| {
            find(n).ok_or_else(|| {
                IngestError::layout(file, format!("the k6 CSV header has no {n} column"))
            })
        };
        let (metric, time, value) = (
            need("metric_name")?,
            need("timestamp")?,
            need("metric_value")?,
        );
        let (extra, meta) = (find("extra_tags"), find("metadata"));
        let tags = names
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                ![metric, time, value].contains(i) && Some(*i) != extra && Some(*i) != meta
            })
            .map(|(i, n)| (i, n.clone()))
            .collect();
        Ok(Columns {
            metric,
            time,
            value,
            extra,
            meta,
            tags,
        })
    }
}

/// Ns since the epoch of a k6 CSV timestamp; whether it was whole seconds.
fn timestamp_ns(t: &str) -> Result<(i64, bool), String> {
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        let v: i64 = t.parse().map_err(|_| format!("'{t}' is out of range"))?;
        // k6's unix, unix_milli, unix_micro and unix_nano, told apart by magnitude (a time
        // after 1973 has 10+ digits in seconds; none before 5138 has 12).
        let (ns, secs) = match v {
            0..100_000_000_000 => (v.checked_mul(1_000_000_000), true),
            100_000_000_000..100_000_000_000_000 => (v.checked_mul(1_000_000), false),
            100_000_000_000_000..100_000_000_000_000_000 => (v.checked_mul(1_000), false),
            _ => (Some(v), false),
        };
        return ns
            .map(|ns| (ns, secs))
            .ok_or_else(|| format!("'{t}' is out of range"));
    }
    rfc3339_ns(t).map(|ns| (ns, false))
}

/// `k=v&k=v` pairs (k6 does not escape them) added to `tags`.
fn pairs(field: &str, into: &mut Tags) {
    for pair in field.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        into.push((k.to_string(), v.to_string()));
    }
}

/// Field `i` of `rec` as UTF-8.
fn field<'r>(rec: &'r csv::ByteRecord, i: usize, name: &str) -> Result<&'r str, (String, String)> {
    let raw = rec.get(i).unwrap_or_default();
    std::str::from_utf8(raw).map_err(|e| {
        (
            name.to_string(),
            format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        )
    })
}

/// The Point of one record; whether its time was whole seconds.
fn point<'r>(rec: &'r csv::ByteRecord, c: &Columns) -> Result<(Point<'r>, bool), (String, String)> {
    let metric = field(rec, c.metric, "metric_name")?;
    let time = field(rec, c.time, "timestamp")?;
    let (time_ns, secs) = timestamp_ns(time).map_err(|e| ("timestamp".to_string(), e))?;
    let value_text = field(rec, c.value, "metric_value")?;
    let value: f64 = value_text.parse().map_err(|_| {
        (
            "metric_value".to_string(),
            format!("'{value_text}' is not a number"),
        )
    })?;
    let mut tags = Tags::new();
    for (i, name) in &c.tags {
        let v = field(rec, *i, name)?;
        if !v.is_empty() {
            tags.push((name.clone(), v.to_string()));
        }
    }
    if let Some(i) = c.extra {
        pairs(field(rec, i, "extra_tags")?, &mut tags);
    }
    let mut meta = Tags::new();
    if let Some(i) = c.meta {
        pairs(field(rec, i, "metadata")?, &mut meta);
    }
    tags.sort();
    meta.sort();
    Ok((
        Point {
            metric: metric.into(),
            time_ns,
            value,
            tags: std::borrow::Cow::Owned(tags),
            meta: std::borrow::Cow::Owned(meta),
            generation: None,
        },
        secs,
    ))
}

/// Decodes k6 `--out csv` text (already decompressed) into `sink`.
pub fn decode_k6_csv<R: BufRead>(
    file: &str,
    reader: R,
    opts: &DecodeOptions,
    first_row: i64,
    sink: &mut dyn SampleSink,
    rejects: &mut dyn RejectHandler,
) -> Result<FileReport, IngestError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(LastByte {
            inner: reader,
            last: None,
        });
    let mut header = csv::ByteRecord::new();
    if !csv
        .read_byte_record(&mut header)
        .map_err(|e| IngestError::layout(file, e.to_string()))?
    {
        return Err(IngestError::Empty {
            file: file.to_string(),
        });
    }
    let cols = Columns::of(&header, file)?;
    let mut asm = Assembler::new(file, opts, first_row, sink, rejects);
    {
        let report = asm.report_mut();
        report.columns = header
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        report.has_header = Some(true);
        report.delimiter = Some(b',');
    }
    let (mut cur, mut next) = (csv::ByteRecord::new(), csv::ByteRecord::new());
    let mut have = read(&mut csv, &mut cur, &mut asm)?;
    let (mut repeated, mut seconds) = (0u64, false);
    while have {
        let more = read(&mut csv, &mut next, &mut asm)?;
        let line = cur.position().map_or(0, |p| p.line());
        let cut = !more && csv.get_ref().last.is_some_and(|b| b != b'\n' && b != b'\r');
        if cut {
            let reason = "incomplete last line (the file does not end with a line break: cut off by a killed k6?)".to_string();
            asm.warn(format!("line {line}: {reason}; it was not imported"));
            asm.bad_line(line, None, reason, Some(cur.as_slice()))?;
        } else if cur == header {
            repeated += 1;
        } else if cur.len() != header.len() {
            let reason = format!("expected {} fields, found {}", header.len(), cur.len());
            asm.bad_line(line, None, reason, Some(cur.as_slice()))?;
        } else {
            match point(&cur, &cols) {
                Ok((p, secs)) => {
                    seconds |= secs;
                    asm.point(line, p)?;
                }
                Err((f, reason)) => asm.bad_line(line, Some(&f), reason, Some(cur.as_slice()))?,
            }
        }
        std::mem::swap(&mut cur, &mut next);
        have = more;
    }
    if repeated > 0 {
        asm.warn(format!("{repeated} repeated header lines were skipped"));
    }
    if seconds {
        asm.warn(
            "timestamps are whole seconds (k6's default timeFormat=unix): a request's start is its end second − its duration, so per-second curves are coarse; k6 ≥ 0.39 writes ms with --out csv=file.csv,timeFormat=unix_milli".into(),
        );
    }
    asm.finish()
}

/// Reads the next record into `rec`; a record the CSV reader cannot read is rejected and
/// skipped.
fn read<R: Read>(
    csv: &mut csv::Reader<R>,
    rec: &mut csv::ByteRecord,
    asm: &mut Assembler<'_>,
) -> Result<bool, IngestError> {
    loop {
        match csv.read_byte_record(rec) {
            Ok(more) => return Ok(more),
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                asm.bad_line(line, None, e.to_string(), None)?;
            }
        }
    }
}
