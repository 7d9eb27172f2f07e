//! Limits of the XML decoder: nesting depth and attributes per element; and the fast path's
//! hand-backs to quick-xml. Every document is generated with one element per line, so the lines
//! and counts below are computed by hand from the generator.

use std::io::Write;

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int64Type;
use loadlake_schema::{SampleBatch, col};

use super::{MAX_ATTRIBUTES, MAX_SAMPLE_DEPTH, decode_xml};
use crate::FileReport;
use crate::error::IngestError;
use crate::options::DecodeOptions;
use crate::rejects::{Reject, RejectLog};

/// One decoded file: its path, the rows (label, parent row), their elapsed times and the
/// rejects.
struct Decoded {
    path: String,
    rows: Vec<(String, Option<i64>)>,
    elapsed: Vec<Option<i64>>,
    failure_messages: Vec<Option<String>>,
    rejects: Vec<Reject>,
}

/// Writes `lines` (joined by `\n`) to a temporary file (the decoder re-reads it for line
/// numbers) and decodes it with the standard reject policy.
fn decode_lines(lines: &[String], strict: bool) -> (Result<FileReport, IngestError>, Decoded) {
    decode_lines_buffered(lines, strict, 8 * 1024)
}

/// [`decode_lines`] through a read buffer of `capacity` bytes.
fn decode_lines_buffered(
    lines: &[String],
    strict: bool,
    capacity: usize,
) -> (Result<FileReport, IngestError>, Decoded) {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(lines.join("\n").as_bytes()).expect("write");
    file.flush().expect("flush");
    let path = file.path().display().to_string();
    let reader = std::io::BufReader::with_capacity(
        capacity,
        std::fs::File::open(file.path()).expect("open"),
    );
    let mut batches: Vec<SampleBatch> = Vec::new();
    let mut log = RejectLog::new(strict, 1000);
    let result = decode_xml(
        &path,
        reader,
        &DecodeOptions::default(),
        0,
        &mut batches,
        &mut log,
    );
    let mut rows = Vec::new();
    let mut elapsed = Vec::new();
    let mut failure_messages = Vec::new();
    for b in &batches {
        let messages = b
            .column_by_name(col::FAILURE_MESSAGE)
            .expect("failure_message")
            .as_string::<i32>();
        failure_messages.extend(messages.iter().map(|m| m.map(str::to_string)));
        let times = b
            .column_by_name(col::ELAPSED_MS)
            .expect("elapsed_ms")
            .as_primitive::<Int64Type>();
        elapsed.extend(times.iter());
        let labels = b
            .column_by_name(col::LABEL)
            .expect("label")
            .as_string::<i32>();
        let parents = b
            .column_by_name(col::PARENT_ROW)
            .expect("parent_row")
            .as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            let parent = (!parents.is_null(i)).then(|| parents.value(i));
            rows.push((labels.value(i).to_string(), parent));
        }
    }
    let decoded = Decoded {
        path,
        rows,
        elapsed,
        failure_messages,
        rejects: log.rejects,
    };
    (result, decoded)
}

fn sample(label: &str) -> String {
    format!(r#"<httpSample t="5" ts="1700000000000" s="true" lb="{label}" rc="200"/>"#)
}

fn open_sample(label: &str) -> String {
    format!(r#"<httpSample t="5" ts="1700000000000" s="true" lb="{label}" rc="200">"#)
}

/// `<testResults>`, two good samples (line 2; lines 3–5: a parent with one child), a chain of
/// `depth` nested samples opening on lines 6.., then one more good sample.
fn deep_document(depth: usize) -> Vec<String> {
    let mut lines = vec![
        r#"<testResults version="1.2">"#.to_string(),
        sample("first"),
        open_sample("parent"),
        sample("child"),
        "</httpSample>".to_string(),
    ];
    for level in 1..=depth {
        lines.push(open_sample(&format!("deep{level}")));
    }
    for _ in 0..depth {
        lines.push("</httpSample>".to_string());
    }
    lines.push(sample("after"));
    lines.push("</testResults>".to_string());
    lines
}

#[test]
fn nesting_past_the_limit_rejects_that_sample_and_keeps_the_others() {
    let depth = 3000; // the issue's 189 KB document that aborted the server
    let (result, d) = decode_lines(&deep_document(depth), false);
    let report = result.expect("a deep sample is a bad row, not a failed file");
    // first, parent, child, after; nothing of the deep chain.
    assert_eq!(
        d.rows,
        vec![
            ("first".to_string(), None),
            ("parent".to_string(), None),
            ("child".to_string(), Some(1)),
            ("after".to_string(), None),
        ]
    );
    assert_eq!(report.samples, 4);
    assert_eq!(report.rejected, 1);
    assert_eq!(d.rejects.len(), 1);
    let r = &d.rejects[0];
    // deep1 is on line 6, so deep129 (the first past 128 levels) is on line 6 + 128.
    assert_eq!(r.line, 6 + MAX_SAMPLE_DEPTH as u64);
    assert_eq!(r.field, None);
    assert_eq!(r.file, d.path);
    assert_eq!(
        r.reason,
        "<httpSample> is nested more than 128 sample elements deep (the limit; JMeter nests a \
         few): the sample at line 6 and all its sub-samples were not imported"
    );
}

#[test]
fn nesting_at_the_limit_is_imported_with_each_parent() {
    let (result, d) = decode_lines(&deep_document(MAX_SAMPLE_DEPTH), false);
    let report = result.expect("decodes");
    assert_eq!(report.rejected, 0);
    assert_eq!(report.samples, 4 + MAX_SAMPLE_DEPTH as u64);
    // Rows 0–2 are first, parent, child; deep1 is row 3 and each deeper one's parent is the
    // row before it; `after` comes last.
    assert_eq!(d.rows[3], ("deep1".to_string(), None));
    for level in 2..=MAX_SAMPLE_DEPTH {
        let row = 2 + level;
        assert_eq!(
            d.rows[row],
            (format!("deep{level}"), Some(row as i64 - 1)),
            "level {level}"
        );
    }
    assert_eq!(d.rows.last(), Some(&("after".to_string(), None)));
}

#[test]
fn hundred_thousand_levels_do_not_overflow_the_stack() {
    // `loadlake import` aborted at 10 000 levels; the decoder no longer recurses at all.
    let (result, d) = decode_lines(&deep_document(100_000), false);
    let report = result.expect("decodes");
    assert_eq!(report.samples, 4);
    assert_eq!(report.rejected, 1);
    assert_eq!(d.rejects[0].line, 6 + MAX_SAMPLE_DEPTH as u64);
}

#[test]
fn a_second_deep_branch_of_the_same_sample_is_one_reject() {
    // Two chains past the limit under one top-level sample: the sample is rejected once.
    let mut lines = vec![
        r#"<testResults version="1.2">"#.to_string(),
        open_sample("top"),
    ];
    for _ in 0..2 {
        for level in 2..=MAX_SAMPLE_DEPTH + 3 {
            lines.push(open_sample(&format!("d{level}")));
        }
        for _ in 2..=MAX_SAMPLE_DEPTH + 3 {
            lines.push("</httpSample>".to_string());
        }
    }
    lines.push("</httpSample>".to_string());
    lines.push(sample("after"));
    lines.push("</testResults>".to_string());
    let (result, d) = decode_lines(&lines, false);
    let report = result.expect("decodes");
    assert_eq!(d.rows, vec![("after".to_string(), None)]);
    assert_eq!(report.rejected, 1);
    // top is level 1 on line 2, d2 on line 3, so level 129 is on line 2 + 128.
    assert_eq!(d.rejects[0].line, 2 + MAX_SAMPLE_DEPTH as u64);
    assert!(
        d.rejects[0].reason.contains("the sample at line 2 "),
        "{}",
        d.rejects[0].reason
    );
}

#[test]
fn an_empty_sample_past_the_limit_is_rejected_too() {
    let mut lines = vec![
        r#"<testResults version="1.2">"#.to_string(),
        sample("first"),
    ];
    for level in 1..=MAX_SAMPLE_DEPTH {
        lines.push(open_sample(&format!("deep{level}")));
    }
    lines.push(sample("leaf"));
    for _ in 0..MAX_SAMPLE_DEPTH {
        lines.push("</httpSample>".to_string());
    }
    lines.push("</testResults>".to_string());
    let (result, d) = decode_lines(&lines, false);
    let report = result.expect("decodes");
    assert_eq!(d.rows, vec![("first".to_string(), None)]);
    assert_eq!(report.rejected, 1);
    // deep1 on line 3 .. deep128 on line 130, the leaf on line 131.
    assert_eq!(d.rejects[0].line, 3 + MAX_SAMPLE_DEPTH as u64);
    assert!(d.rejects[0].reason.contains("the sample at line 3 "));
}

#[test]
fn a_deep_file_cut_off_keeps_what_came_before() {
    let mut lines = deep_document(1000);
    // Cut inside the deep chain: keep <testResults>, 4 good lines and 600 opening tags.
    lines.truncate(5 + 600);
    let (result, d) = decode_lines(&lines, false);
    let report = result.expect("a cut-off file keeps its complete samples");
    assert_eq!(
        d.rows,
        vec![
            ("first".to_string(), None),
            ("parent".to_string(), None),
            ("child".to_string(), Some(1)),
        ]
    );
    // The depth reject, and the cut (found while skipping the too-deep element).
    assert_eq!(report.rejected, 2);
    assert_eq!(d.rejects[0].line, 6 + MAX_SAMPLE_DEPTH as u64);
    assert!(
        d.rejects[1].reason.starts_with("malformed or cut-off XML"),
        "{:?}",
        d.rejects[1]
    );
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
}

#[test]
fn strict_stops_at_the_deep_sample_naming_file_line_and_limit() {
    let (result, _) = decode_lines(&deep_document(200), true);
    let err = result.expect_err("--strict stops at the first bad row");
    let msg = err.to_string();
    assert!(
        matches!(err, IngestError::Strict { line: 134, .. }),
        "{msg}"
    );
    assert!(
        msg.contains(":134: <httpSample> is nested more than 128 sample elements deep"),
        "{msg}"
    );
}

/// `<testResults>`, a good sample (line 2), a sample with `vars` sample variables besides its 5
/// JMeter attributes (line 3), a good sample (line 4).
fn wide_document(vars: usize) -> Vec<String> {
    let mut wide =
        String::from(r#"<httpSample t="5" ts="1700000000000" s="true" lb="wide" rc="200""#);
    for i in 0..vars {
        wide.push_str(&format!(r#" v{i}="{i}""#));
    }
    wide.push_str("/>");
    vec![
        r#"<testResults version="1.2">"#.to_string(),
        sample("before"),
        wide,
        sample("after"),
        "</testResults>".to_string(),
    ]
}

#[test]
fn an_element_over_the_attribute_cap_is_refused_before_any_attribute_is_read() {
    // 100 000 attributes (1.4 MB on one line): the cap refuses the element after counting
    // MAX_ATTRIBUTES + 1 of them, before a single name is recorded. That is the linearity
    // guarantee, checked without a clock: none of the element's names reaches the report.
    let (result, d) = decode_lines(&wide_document(100_000), false);
    let report = result.expect("a wide element is a bad row");
    assert_eq!(
        d.rows,
        vec![("before".to_string(), None), ("after".to_string(), None)]
    );
    assert_eq!(report.samples, 2);
    assert_eq!(report.rejected, 1);
    let r = &d.rejects[0];
    assert_eq!(r.line, 3);
    assert_eq!(r.field.as_deref(), Some("attributes"));
    assert_eq!(
        r.reason,
        "the element has more than 1024 attributes (the limit; JMeter writes about 20)"
    );
    assert_eq!(report.columns, ["t", "ts", "s", "lb", "rc"]);
}

#[test]
fn an_element_at_the_attribute_cap_is_imported_with_all_its_variables() {
    // 5 JMeter attributes + 1019 variables = 1024.
    let vars = MAX_ATTRIBUTES - 5;
    let (result, d) = decode_lines(&wide_document(vars), false);
    let report = result.expect("decodes");
    assert_eq!(report.rejected, 0);
    assert_eq!(report.samples, 3);
    assert_eq!(d.rows[1], ("wide".to_string(), None));
    // Known attributes in JMeter's order, then the variables in order of first sight.
    assert_eq!(report.columns.len(), 5 + vars);
    assert_eq!(report.columns[..5], ["t", "ts", "s", "lb", "rc"]);
    assert_eq!(report.columns[5], "v0");
    assert_eq!(report.columns[5 + vars - 1], format!("v{}", vars - 1));
}

#[test]
fn variable_names_are_recorded_once_in_order_of_first_sight() {
    let lines = vec![
        r#"<testResults version="1.2">"#.to_string(),
        r#"<sample t="1" ts="1700000000000" lb="a" b="1" a="2"/>"#.to_string(),
        r#"<sample t="1" ts="1700000000001" lb="b" c="1" a="2" b="3"/>"#.to_string(),
        "</testResults>".to_string(),
    ];
    let (result, _) = decode_lines(&lines, false);
    let report = result.expect("decodes");
    assert_eq!(report.columns, ["t", "ts", "lb", "b", "a", "c"]);
}

#[test]
fn nested_samples_are_emitted_in_document_order_with_their_parents() {
    // P { C1 { G }, C2 }, Q: rows 0..=4 in pre-order.
    let lines = vec![
        r#"<testResults version="1.2">"#.to_string(),
        open_sample("P"),
        open_sample("C1"),
        sample("G"),
        "</httpSample>".to_string(),
        sample("C2"),
        "</httpSample>".to_string(),
        sample("Q"),
        "</testResults>".to_string(),
    ];
    let (result, d) = decode_lines(&lines, false);
    assert_eq!(result.expect("decodes").samples, 5);
    assert_eq!(
        d.rows,
        vec![
            ("P".to_string(), None),
            ("C1".to_string(), Some(0)),
            ("G".to_string(), Some(1)),
            ("C2".to_string(), Some(0)),
            ("Q".to_string(), None),
        ]
    );
}

#[test]
fn flat_samples_cut_by_every_buffer_boundary_decode_and_reject_as_written() {
    // Sample i (elapsed i) on line i + 2; sample 250's elapsed is not a number. A 37-byte read
    // buffer cuts elements at every position, so both the fast path and quick-xml take some.
    let mut lines = vec![r#"<testResults version="1.2">"#.to_string()];
    for i in 0..500 {
        let t = if i == 250 {
            "x1".to_string()
        } else {
            i.to_string()
        };
        lines.push(format!(
            r#"  <httpSample t="{t}" ts="{}" s="true" lb="L{i} &amp; co" rc="200"/>"#,
            1_700_000_000_000i64 + i
        ));
    }
    lines.push("</testResults>".to_string());
    for capacity in [37, 8 * 1024] {
        let (result, d) = decode_lines_buffered(&lines, false, capacity);
        let report = result.expect("decodes");
        assert_eq!(report.samples, 499, "capacity {capacity}");
        let want: Vec<i64> = (0..500).filter(|&i| i != 250).collect();
        let labels: Vec<String> = want.iter().map(|i| format!("L{i} & co")).collect();
        let got: Vec<String> = d.rows.iter().map(|(l, _)| l.clone()).collect();
        assert_eq!(got, labels, "capacity {capacity}");
        let elapsed: Vec<Option<i64>> = want.iter().map(|&i| Some(i)).collect();
        assert_eq!(d.elapsed, elapsed, "capacity {capacity}");
        assert_eq!(d.rejects.len(), 1);
        assert_eq!(d.rejects[0].line, 252);
        assert_eq!(d.rejects[0].field.as_deref(), Some("t"));
        assert_eq!(report.columns, ["t", "ts", "s", "lb", "rc"]);
    }
}

#[test]
fn assertion_results_give_the_failure_message_whichever_path_reads_them() {
    // Lines: 1 root; 2–9 a sample with a failed assertion (entities, attributes in another
    // order); 10 single quotes; 11–14 response data and CDATA (quick-xml's); 15–23 a
    // sub-sample and an assertion of the parent; 24–25 a sample cut off by a killed JMeter (no
    // </testResults>).
    let lines: Vec<String> = [
        r#"<testResults version="1.2">"#,
        r#"<httpSample s="false" lb="a &amp; b &#x41;" t="1">"#,
        "  <assertionResult>",
        "    <name>Size</name>",
        "    <failure>true</failure>",
        "    <error>false</error>",
        "    <failureMessage>size &gt; 100</failureMessage>",
        "  </assertionResult>",
        "</httpSample>",
        "<sample lb='single' t='2' s='true'/>",
        r#"<httpSample t="3" lb="data" s="false">"#,
        r#"  <responseData class="java.lang.String">body</responseData>"#,
        "  <assertionResult><name>X</name><failure>true</failure><error>false</error><failureMessage><![CDATA[cdata <msg>]]></failureMessage></assertionResult>",
        "</httpSample>",
        r#"<httpSample t="4" lb="parent" s="false">"#,
        r#"  <httpSample t="5" lb="child" s="true"/>"#,
        "  <assertionResult>",
        "    <name>P</name>",
        "    <failure>false</failure>",
        "    <error>true</error>",
        "    <failureMessage>parent failed</failureMessage>",
        "  </assertionResult>",
        "</httpSample>",
        r#"<httpSample t="6" lb="cut" s="false">"#,
        "  <assertionResult>",
    ]
    .iter()
    .map(|l| l.to_string())
    .collect();
    for capacity in [37, 8 * 1024] {
        let (result, d) = decode_lines_buffered(&lines, false, capacity);
        let report = result.expect("decodes");
        assert_eq!(report.samples, 5, "capacity {capacity}");
        assert_eq!(
            d.rows,
            vec![
                ("a & b A".to_string(), None),
                ("single".to_string(), None),
                ("data".to_string(), None),
                ("parent".to_string(), None),
                ("child".to_string(), Some(3)),
            ],
            "capacity {capacity}"
        );
        assert_eq!(d.elapsed, vec![Some(1), Some(2), Some(3), Some(4), Some(5)]);
        let messages = [
            Some("size > 100"),
            None,
            Some("cdata <msg>"),
            Some("parent failed"),
            None,
        ];
        let want: Vec<Option<String>> = messages.iter().map(|m| m.map(str::to_string)).collect();
        assert_eq!(d.failure_messages, want, "capacity {capacity}");
        assert_eq!(d.rejects.len(), 1);
        assert_eq!(d.rejects[0].line, 24);
        assert_eq!(report.columns, ["t", "s", "lb"]);
    }
}
