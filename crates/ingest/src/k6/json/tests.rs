//! The three-thread reading of k6 JSON, from a reader ([`super::pipeline`]) and from a mapped
//! file ([`super::mapped`]), against expectations worked out by
//! hand and against the same text read whole on the calling thread: chunks of every small size
//! (so that chunk edges fall inside requests, inside bad lines, between `\r` and `\n`), an input
//! that fails after any number of bytes, a sink and a reject policy that stop the import.

use std::io::Read;

use arrow::array::RecordBatch;
use loadlake_schema::{SampleBatch, SampleSink, SinkError, col};

use super::mapped::{Mapped, MappedFile, map_window, window_len};
use super::pipeline::Chunked;
use crate::FileReport;
use crate::error::IngestError;
use crate::k6::tests::REQUEST_POINTS;
use crate::options::DecodeOptions;
use crate::rejects::{Reject, RejectLog};
use crate::test_support::{Kept, strs};

const BOM: &str = "\u{feff}";
const METRIC: &str = r#"{"type":"Metric","data":{"name":"vus","type":"gauge","contains":"default","thresholds":[],"submetrics":null},"metric":"vus"}"#;

/// A Point line of k6 ≥ 0.38 (without its line break).
fn point(metric: &str, time: &str, value: &str, tags: &str) -> String {
    format!(
        r#"{{"metric":"{metric}","type":"Point","data":{{"time":"{time}","value":{value},"tags":{tags}}}}}"#
    )
}

/// The nine Point lines of one request named `name`, each ended by `eol`.
fn request(name: &str, time: &str, eol: &str) -> String {
    let tags = format!(r#"{{"expected_response":"true","name":"{name}","status":"200"}}"#);
    let values = ["1", "12.5", "3.2", "1.25", "0.5", "0.2", "10.2", "2.1", "0"];
    REQUEST_POINTS
        .iter()
        .zip(values)
        .map(|(m, v)| point(m, time, v, &tags) + eol)
        .collect()
}

/// A file with every kind of line; the line numbers are those of the expectations below.
fn mixed() -> String {
    let mut s = format!("{BOM}{METRIC}\n"); // 1
    s += &point("vus", "2025-03-01T09:00:00Z", "3", "{}"); // 2
    s += "\n";
    s += &request("a", "2025-03-01T09:00:01.5Z", "\n"); // 3–11
    s += "   \n"; // 12: blank
    s += &request("b", "2025-03-01T09:00:02Z", "\r\n"); // 13–21
    s += "{not json\n"; // 22
    s += &request("c", "2025-03-01T09:00:03Z", "\n"); // 23–31
    // 32: serde's layout (spaces); a group, ends 09:00:04, 20.4 ms.
    s += r#"{"type": "Point", "metric": "group_duration", "data": {"time": "2025-03-01T09:00:04Z", "value": 20.4, "tags": {"group": "::g"}}}"#;
    s += "\n";
    s += &point("vus", "2025-03-01T09:00:04Z", "\"x\"", "{}"); // 33: bad value
    s += "\n";
    // 34–42: request d, its duration line (35) garbled: d and its 7 other Points are dropped.
    let d = request("d", "2025-03-01T09:00:05Z", "\n");
    let mut d: Vec<&str> = d.split_inclusive('\n').collect();
    d[1] = "{\"metric\":\"http_req_duration\",\"type\":\n";
    s += &d.concat();
    s += &request("e", "2025-03-01T09:00:06Z", "\n"); // 43–51
    s += r#"{"metric":"vus","type":"Po"#; // 52: cut
    s
}

/// What a decoding gives: its report (or error), its batches and its rejects.
type Decoded = (
    Result<FileReport, IngestError>,
    Vec<RecordBatch>,
    Vec<Reject>,
);

/// Decodes `text` read `chunk` bytes at once, with `opts` — from a reader, and from a file
/// mapped in windows of a page ([`super::mapped`], which must hand every byte to its
/// `on_bytes`, in order): both must agree.
fn decode_with(text: &[u8], chunk: usize, opts: &DecodeOptions) -> Decoded {
    let read = decode_read_with(text, chunk, opts);
    let mut heard = Vec::new();
    let mapped = decode_mapped_with(text, chunk, PAGE, opts, &mut |b| heard.extend_from_slice(b));
    assert!(
        heard == text,
        "chunk {chunk}: the bytes heard are not the text"
    );
    let report =
        |r: &Result<FileReport, IngestError>| r.as_ref().map_err(ToString::to_string).cloned();
    assert_eq!(report(&mapped.0), report(&read.0), "chunk {chunk}");
    assert_eq!(mapped.1, read.1, "chunk {chunk}");
    assert_eq!(mapped.2, read.2, "chunk {chunk}");
    read
}

/// [`decode_with`] from a reader.
fn decode_read_with(text: &[u8], chunk: usize, opts: &DecodeOptions) -> Decoded {
    let mut batches: Vec<RecordBatch> = Vec::new();
    let mut rejects = Kept(Vec::new());
    let chunked = Chunked {
        file: "k6.json",
        opts,
        chunk,
    };
    let report = chunked.decode(text, 0, &mut batches, &mut rejects);
    (report, batches, rejects.0)
}

/// A page: the smallest window a file can be mapped in.
const PAGE: usize = 4096;

/// [`decode_with`] from a file holding `text`, mapped `window` bytes at a time.
fn decode_mapped_with(
    text: &[u8],
    chunk: usize,
    window: usize,
    opts: &DecodeOptions,
    on_bytes: &mut dyn FnMut(&[u8]),
) -> Decoded {
    let mut batches: Vec<RecordBatch> = Vec::new();
    let mut rejects = Kept(Vec::new());
    let report = decode_mapped_into(
        text,
        chunk,
        window,
        opts,
        on_bytes,
        &mut batches,
        &mut rejects,
    );
    (report, batches, rejects.0)
}

/// Writes `text` to a file and decodes it from memory into `sink` and `rejects`.
fn decode_mapped_into(
    text: &[u8],
    chunk: usize,
    window: usize,
    opts: &DecodeOptions,
    on_bytes: &mut dyn FnMut(&[u8]),
    sink: &mut dyn SampleSink,
    rejects: &mut dyn crate::RejectHandler,
) -> Result<FileReport, IngestError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k6.json");
    std::fs::write(&path, text).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let len = text.len() as u64;
    let first = map_window(&file, 0, window_len(len, 0, window)).unwrap();
    let mapped = Mapped {
        chunked: Chunked {
            file: "k6.json",
            opts,
            chunk,
        },
        window,
    };
    let text = MappedFile {
        file: &file,
        len,
        first,
    };
    mapped.decode(text, on_bytes, 0, sink, rejects)
}

/// Chunk sizes from one byte (every line spans chunks) to more than the text (one thread).
fn chunk_sizes(len: usize) -> Vec<usize> {
    let mut sizes: Vec<usize> = (1..=48).collect();
    sizes.extend([97, 256, 1000, len - 1, len, len + 1, 1 << 20]);
    sizes
}

#[test]
fn any_chunk_size_reads_as_hand_worked() {
    let text = mixed();
    let whole = decode_with(text.as_bytes(), 1 << 20, &DecodeOptions::default());
    for chunk in chunk_sizes(text.len()) {
        let (report, batches, rejects) =
            decode_with(text.as_bytes(), chunk, &DecodeOptions::default());
        let report = report.unwrap();
        assert_eq!(report.samples, 5, "chunk {chunk}");
        let labels: Vec<Option<String>> =
            batches.iter().flat_map(|b| strs(b, col::LABEL)).collect();
        assert_eq!(
            labels,
            ["a", "b", "c", "g", "e"].map(|l| Some(l.to_string())),
            "chunk {chunk}"
        );
        let got = crate::test_support::where_rejected(&rejects);
        assert_eq!(
            got,
            [(22, None), (33, Some("data.value")), (35, None), (52, None)],
            "chunk {chunk}"
        );
        assert!(
            rejects[2]
                .reason
                .ends_with("; the request begun at line 34 was not imported with it")
        );
        assert_eq!(
            rejects[3].raw.as_deref(),
            Some(r#"{"metric":"vus","type":"Po"#)
        );
        assert!(rejects[3].reason.starts_with("incomplete last line"));
        assert_eq!(
            report.warnings.len(),
            2,
            "chunk {chunk}: {:?}",
            report.warnings
        );
        assert!(report.warnings[0].starts_with("line 52: incomplete last line"));
        assert_eq!(
            report.warnings[1],
            "7 Points of requests with an unreadable line were not imported"
        );
        // And everything exactly as read whole.
        assert_eq!(Some(&report), whole.0.as_ref().ok(), "chunk {chunk}");
        assert_eq!(batches, whole.1, "chunk {chunk}");
        assert_eq!(rejects, whole.2, "chunk {chunk}");
    }
}

#[test]
fn too_long_lines_keep_their_start_at_any_chunk_size() {
    let vus = point("vus", "2025-03-01T09:00:01Z", "3", "{}");
    assert!(vus.len() < 100);
    let long = "x".repeat(250);
    let cut = "y".repeat(150);
    let text = format!("{vus}\n{long}\r\n{vus}\n{cut}");
    let opts = DecodeOptions {
        max_field_bytes: 100,
        ..DecodeOptions::default()
    };
    let reason =
        "the line is longer than the 100 byte limit (k6 writes a few hundred bytes a line)";
    for chunk in chunk_sizes(text.len()) {
        let (report, batches, rejects) = decode_with(text.as_bytes(), chunk, &opts);
        let report = report.unwrap();
        assert_eq!((report.samples, batches.len()), (0, 0), "chunk {chunk}");
        let got: Vec<(u64, Option<&str>, &str, Option<&str>)> = rejects
            .iter()
            .map(|r| {
                (
                    r.line,
                    r.field.as_deref(),
                    r.reason.as_str(),
                    r.raw.as_deref(),
                )
            })
            .collect();
        let (x, y) = ("x".repeat(100), "y".repeat(100));
        assert_eq!(
            got,
            [
                (2, None, reason, Some(x.as_str())),
                (4, None, reason, Some(y.as_str()))
            ],
            "chunk {chunk}"
        );
        assert_eq!(report.warnings, Vec::<String>::new());
    }
}

/// The bytes of `text`, then an error.
struct FailsAfter<'a> {
    text: &'a [u8],
    at: usize,
}

impl Read for FailsAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == 0 {
            return Err(std::io::Error::other("the disk went away"));
        }
        // A few bytes at a time, as a pipe may give them.
        let n = buf.len().min(self.at).min(self.text.len()).min(7);
        buf[..n].copy_from_slice(&self.text[..n]);
        self.text = &self.text[n..];
        self.at -= n;
        Ok(n)
    }
}

/// Offsets of the line breaks that end a line completing a sample, and of the one that ends a
/// garbled line.
fn completing_and_bad_breaks(text: &str) -> (Vec<usize>, Vec<usize>) {
    let (mut done, mut bad) = (Vec::new(), Vec::new());
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let brk = at + line.len() - 1;
        if line.contains("\"http_req_failed\"") || line.contains("\"group_duration\"") {
            done.push(brk);
        } else if line.starts_with("{not json") {
            bad.push(brk);
        }
        at += line.len();
    }
    (done, bad)
}

#[test]
fn an_input_failing_after_any_byte_keeps_the_lines_before_and_says_why() {
    let mut text = request("a", "2025-03-01T09:00:01Z", "\n");
    text += "{not json\n";
    text += &request("b", "2025-03-01T09:00:02Z", "\r\n");
    text += &point(
        "group_duration",
        "2025-03-01T09:00:03Z",
        "2",
        r#"{"group":"::g"}"#,
    );
    text += "\n";
    text += &request("c", "2025-03-01T09:00:04Z", "\n");
    let (done, bad) = completing_and_bad_breaks(&text);
    assert_eq!((done.len(), bad.len()), (4, 1));
    // Each sample is flushed to the sink as soon as it is made.
    let opts = DecodeOptions {
        batch_rows: 1,
        ..DecodeOptions::default()
    };
    // (chunk size, step between the failing offsets): every offset but for the tiny chunks.
    for (chunk, step) in [(1, 11), (5, 3), (64, 1), (333, 1), (1 << 20, 1)] {
        for at in (0..=text.len()).step_by(step) {
            let input = FailsAfter {
                text: text.as_bytes(),
                at,
            };
            let mut batches: Vec<RecordBatch> = Vec::new();
            let mut rejects = Kept(Vec::new());
            let chunked = Chunked {
                file: "k6.json",
                opts: &opts,
                chunk,
            };
            let result = chunked.decode(input, 0, &mut batches, &mut rejects);
            let ended = |breaks: &[usize]| breaks.iter().filter(|&&b| b < at).count();
            match result {
                Err(IngestError::Io { file, source }) => {
                    assert_eq!(file, "k6.json");
                    assert_eq!(source.to_string(), "the disk went away");
                }
                other => panic!("chunk {chunk}, at {at}: {other:?}"),
            }
            assert_eq!(batches.len(), ended(&done), "chunk {chunk}, at {at}");
            assert_eq!(rejects.0.len(), ended(&bad), "chunk {chunk}, at {at}");
        }
    }
}

/// Accepts `room` batches, then fails.
struct FillsUp {
    room: usize,
    writes: usize,
}

impl SampleSink for FillsUp {
    fn write_batch(&mut self, _batch: SampleBatch) -> Result<(), SinkError> {
        self.writes += 1;
        if self.writes > self.room {
            return Err(SinkError::new(std::io::Error::from(
                std::io::ErrorKind::StorageFull,
            )));
        }
        Ok(())
    }
}

/// Counts the bytes read from `inner`.
struct Counted<'a> {
    inner: &'a [u8],
    read: &'a mut usize,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        *self.read += n;
        Ok(n)
    }
}

/// 500 requests and a garbled line after the third.
fn many_requests() -> String {
    let mut text = String::new();
    for i in 0..500 {
        text += &request(&format!("r{i}"), "2025-03-01T09:00:01Z", "\n");
        if i == 2 {
            text += "{not json\n";
        }
    }
    text
}

#[test]
fn a_failing_sink_stops_the_reading() {
    let text = many_requests();
    let opts = DecodeOptions {
        batch_rows: 1,
        ..DecodeOptions::default()
    };
    for chunk in [1, 300, 4096] {
        let mut read = 0;
        let input = Counted {
            inner: text.as_bytes(),
            read: &mut read,
        };
        let mut sink = FillsUp { room: 5, writes: 0 };
        let mut rejects = Kept(Vec::new());
        let chunked = Chunked {
            file: "k6.json",
            opts: &opts,
            chunk,
        };
        let result = chunked.decode(input, 0, &mut sink, &mut rejects);
        assert!(
            matches!(&result, Err(IngestError::Sink { file, .. }) if file == "k6.json"),
            "{result:?}"
        );
        // Five samples written, the sixth refused; nothing after.
        assert_eq!(sink.writes, 6);
        assert_eq!(rejects.0.len(), 1);
        // The reading stopped a few chunks after the sixth request, far before the end.
        assert!(
            read < text.len() / 2,
            "chunk {chunk}: read {read} of {}",
            text.len()
        );
    }
}

#[test]
fn a_failing_sink_stops_the_reading_from_memory() {
    let text = many_requests();
    let opts = DecodeOptions {
        batch_rows: 1,
        ..DecodeOptions::default()
    };
    for (chunk, window) in [(1, PAGE), (300, PAGE), (4096, 2 * PAGE)] {
        let mut heard = Vec::new();
        let mut sink = FillsUp { room: 5, writes: 0 };
        let mut rejects = Kept(Vec::new());
        let on_bytes = &mut |b: &[u8]| heard.extend_from_slice(b);
        let result = decode_mapped_into(
            text.as_bytes(),
            chunk,
            window,
            &opts,
            on_bytes,
            &mut sink,
            &mut rejects,
        );
        assert!(
            matches!(&result, Err(IngestError::Sink { file, .. }) if file == "k6.json"),
            "{result:?}"
        );
        assert_eq!(sink.writes, 6);
        assert_eq!(rejects.0.len(), 1);
        // What was heard is the text's start, and far from all of it.
        assert!(text.as_bytes().starts_with(&heard), "chunk {chunk}");
        assert!(
            heard.len() < text.len() / 2,
            "chunk {chunk}: heard {} of {}",
            heard.len(),
            text.len()
        );
    }
}

/// Cuts the file at `path` to `len` bytes on the first batch it is given.
struct CutsTheFile {
    path: std::path::PathBuf,
    len: u64,
    writes: usize,
}

impl SampleSink for CutsTheFile {
    fn write_batch(&mut self, _batch: SampleBatch) -> Result<(), SinkError> {
        if self.writes == 0 {
            let file = std::fs::OpenOptions::new().write(true).open(&self.path);
            file.and_then(|f| f.set_len(self.len))
                .map_err(SinkError::new)?;
        }
        self.writes += 1;
        Ok(())
    }
}

#[test]
fn a_file_cut_short_while_read_from_memory_is_an_error_not_a_crash() {
    let text = many_requests();
    // Cut off the last page only: far behind the reading when it happens, so that no window
    // mapped by then loses a page.
    let len = text.len() as u64;
    let cut = (len / PAGE as u64 - 1) * PAGE as u64;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k6.json");
    std::fs::write(&path, &text).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let opts = DecodeOptions {
        batch_rows: 1,
        ..DecodeOptions::default()
    };
    let mapped = Mapped {
        chunked: Chunked {
            file: "k6.json",
            opts: &opts,
            chunk: 512,
        },
        window: PAGE,
    };
    let first = map_window(&file, 0, PAGE).unwrap();
    let text = MappedFile {
        file: &file,
        len,
        first,
    };
    let mut sink = CutsTheFile {
        path: path.clone(),
        len: cut,
        writes: 0,
    };
    let mut rejects = Kept(Vec::new());
    let result = mapped.decode(text, &mut |_| {}, 0, &mut sink, &mut rejects);
    match result {
        Err(IngestError::Io { file, source }) => {
            assert_eq!(file, "k6.json");
            assert_eq!(
                source.to_string(),
                format!("the file was cut short while it was imported ({len} bytes, now {cut})")
            );
        }
        other => panic!("{other:?}"),
    }
    // Every request before the cut was imported, none after: 500 requests of 9 lines.
    assert!(sink.writes >= 1 && sink.writes < 500, "{}", sink.writes);
}

#[test]
fn a_strict_reject_policy_stops_the_reading() {
    let text = many_requests();
    for chunk in [1, 300, 4096] {
        let mut read = 0;
        let input = Counted {
            inner: text.as_bytes(),
            read: &mut read,
        };
        let mut batches: Vec<RecordBatch> = Vec::new();
        let mut rejects = RejectLog::new(true, 0);
        let chunked = Chunked {
            file: "k6.json",
            opts: &DecodeOptions::default(),
            chunk,
        };
        let result = chunked.decode(input, 0, &mut batches, &mut rejects);
        // The garbled line is line 28 (after three requests of nine lines).
        assert!(
            matches!(&result, Err(IngestError::Strict { line: 28, .. })),
            "{result:?}"
        );
        assert!(
            read < text.len() / 2,
            "chunk {chunk}: read {read} of {}",
            text.len()
        );
    }
}

#[test]
fn requests_going_back_and_forth_among_many_tag_sets_keep_their_own() {
    // Eleven sets of tags (more than the reader keeps), differing in values, in names
    // (`error_code` on every third) and in metadata (a VU on every second); requests go back
    // and forth between two, through all in turn, then jump about.
    let sets = 11;
    let set = |i: usize| {
        let failed = i.is_multiple_of(3);
        let code = if failed {
            r#""error_code":"1404","#
        } else {
            ""
        };
        let status = if failed { "404" } else { "200" };
        let tags = format!(
            r#"{{{code}"expected_response":"{}","group":"::g{}","name":"n{i}","status":"{status}"}}"#,
            !failed,
            i % 2
        );
        match i % 2 {
            1 => format!(r#"{tags},"metadata":{{"vu":"{i}"}}"#),
            _ => tags,
        }
    };
    let mut order: Vec<usize> = vec![0, 1, 0, 1, 1, 0];
    order.extend((0..sets).chain(0..sets));
    order.extend((0..2 * sets).map(|k| k * 7 % sets));
    let mut text = String::new();
    for (k, &i) in order.iter().enumerate() {
        let time = format!("2025-03-01T09:00:{:02}Z", k % 60);
        let values = ["1", "12.5", "3.2", "1.25", "0.5", "0.2", "10.2", "2.1"];
        for (metric, value) in REQUEST_POINTS.iter().zip(values) {
            text += &point(metric, &time, value, &set(i));
            text += "\n";
        }
        let failed = if i.is_multiple_of(3) { "1" } else { "0" };
        text += &point("http_req_failed", &time, failed, &set(i));
        text += "\n";
        // Between requests: custom metrics (ASCII, UTF-8), an aggregate, the VUs.
        let between = match k % 4 {
            0 => "my_trend",
            1 => "café_ms",
            2 => "iterations",
            _ => "vus",
        };
        text += &point(between, &time, "3", r#"{"scenario":"default"}"#);
        text += "\n";
    }
    let per_kind = |kind: usize| (0..order.len()).filter(|k| k % 4 == kind).count();
    let others = format!(
        "Points of metrics other than HTTP requests, groups and VUs were not imported: café_ms ({}), my_trend ({})",
        per_kind(1),
        per_kind(0)
    );
    for chunk in [1, 7, 97, 1000, text.len()] {
        let (report, batches, rejects) =
            decode_with(text.as_bytes(), chunk, &DecodeOptions::default());
        let report = report.unwrap();
        assert_eq!(report.samples, order.len() as u64, "chunk {chunk}");
        assert!(rejects.is_empty(), "chunk {chunk}: {rejects:?}");
        assert!(
            report.warnings.iter().any(|w| w.starts_with(&others)),
            "chunk {chunk}: {:?}",
            report.warnings
        );
        let mut row = 0;
        for b in &batches {
            let (labels, codes) = (strs(b, col::LABEL), strs(b, col::RESPONSE_CODE));
            let (threads, success) = (strs(b, col::THREAD), strs(b, col::SUCCESS));
            for r in 0..b.num_rows() {
                let i = order[row];
                let failed = i.is_multiple_of(3);
                assert_eq!(labels[r], Some(format!("n{i}")), "chunk {chunk} row {row}");
                let code = if failed { "404" } else { "200" };
                assert_eq!(codes[r].as_deref(), Some(code), "chunk {chunk} row {row}");
                let thread = (i % 2 == 1).then(|| i.to_string());
                assert_eq!(threads[r], thread, "chunk {chunk} row {row}");
                assert_eq!(
                    success[r],
                    Some((!failed).to_string()),
                    "chunk {chunk} row {row}"
                );
                let mut vars = vec![
                    format!("expected_response={}", !failed),
                    format!("group=::g{}", i % 2),
                ];
                if failed {
                    vars.insert(0, "error_code=1404".to_string());
                }
                assert_eq!(
                    crate::test_support::vars(b, r),
                    vars,
                    "chunk {chunk} row {row}"
                );
                row += 1;
            }
        }
        assert_eq!(row, order.len(), "chunk {chunk}");
    }
}
