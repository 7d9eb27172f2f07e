//! The fast path ([`super::flat`], [`super::children`]) against the second implementation at
//! hand, the same event loop reading every element with quick-xml: hand-written and randomized
//! documents (escapes, attribute orders, missing attributes, quotes, whitespace, element names,
//! nested samples, bad numbers, invalid UTF-8, files cut anywhere) must give the same rows,
//! report and rejects through read buffers of several sizes. Plus values computed by hand for a
//! sample with every JMeter attribute.

use arrow::array::AsArray;
use arrow::compute::concat_batches;
use arrow::datatypes::{Int32Type, Int64Type, TimestampMillisecondType};
use arrow::record_batch::RecordBatch;
use loadlake_schema::{SampleBatch, col, sample_schema};
use quick_xml::Reader;

use super::{LineCounter, XmlDecoder, events};
use crate::FileReport;
use crate::options::DecodeOptions;
use crate::rejects::{Reject, RejectLog};
use fastrand::Rng;

use crate::test_support::Pick;

/// What decoding a document gave: every row in one batch, the report (or the error's text) and
/// the rejects.
#[derive(Debug, PartialEq)]
struct Outcome {
    rows: RecordBatch,
    report: Result<FileReport, String>,
    rejects: Vec<Reject>,
}

/// Decodes `text` through a read buffer of `capacity` bytes, with or without the fast path.
fn decode(text: &[u8], capacity: usize, fast: bool) -> Outcome {
    let file = "doc.jtl";
    let opts = DecodeOptions::default();
    let mut batches: Vec<SampleBatch> = Vec::new();
    let mut log = RejectLog::new(false, u64::MAX);
    let reader = Reader::from_reader(std::io::BufReader::with_capacity(capacity, text));
    let run = events::EventLoop::new(
        XmlDecoder::new(file, &opts, 0),
        reader,
        &mut batches,
        &mut log,
        LineCounter::of_text(file, text, 0, 0),
    );
    let run = if fast { run } else { run.without_fast_path() };
    let report = run.run().map_err(|e| e.to_string());
    let rows = concat_batches(&sample_schema(), &batches).expect("batches of one schema");
    Outcome {
        rows,
        report,
        rejects: log.rejects,
    }
}

/// Asserts that the fast path gives what quick-xml gives for `text`, through small, odd and
/// large read buffers; returns the outcome.
fn same_both_ways(text: &[u8]) -> Outcome {
    let truth = decode(text, 1 << 16, false);
    for capacity in [23, 64, 4096, 1 << 16] {
        let fast = decode(text, capacity, true);
        assert_eq!(
            fast,
            truth,
            "capacity {capacity}, document:\n{}",
            String::from_utf8_lossy(text)
        );
    }
    truth
}

const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testResults version=\"1.2\">\n";

#[test]
fn a_sample_with_every_attribute_has_the_values_written() {
    let text = format!(
        "{HEAD}<httpSample t=\"56\" it=\"1\" lt=\"49\" ct=\"7\" ts=\"1763798399944\" s=\"false\" \
         lb=\"Search &amp; filter\" rc=\"503\" rm=\"Service &lt;Unavailable&gt;\" \
         tn=\"Thread Group 1-12\" dt=\"text\" de=\"UTF-8\" by=\"10064\" sby=\"601\" sc=\"2\" \
         ec=\"1\" ng=\"3\" na=\"4\" hn=\"agent-1\" USER='bob &#x41;&#66;'/>\n</testResults>\n"
    );
    let out = same_both_ways(text.as_bytes());
    let r = &out.rows;
    assert_eq!(r.num_rows(), 1);
    let int64 = |name: &str| r[name].as_primitive::<Int64Type>().value(0);
    let int32 = |name: &str| r[name].as_primitive::<Int32Type>().value(0);
    let text = |name: &str| r[name].as_string::<i32>().value(0).to_string();
    assert_eq!(
        r[col::TS]
            .as_primitive::<TimestampMillisecondType>()
            .value(0),
        1_763_798_399_944
    );
    assert_eq!(
        [
            col::ELAPSED_MS,
            col::IDLE_MS,
            col::LATENCY_MS,
            col::CONNECT_MS
        ]
        .map(int64),
        [56, 1, 49, 7]
    );
    assert_eq!(
        [col::BYTES_RECEIVED, col::BYTES_SENT].map(int64),
        [10064, 601]
    );
    assert_eq!(
        [
            col::SAMPLE_COUNT,
            col::ERROR_COUNT,
            col::GRP_THREADS,
            col::ALL_THREADS
        ]
        .map(int32),
        [2, 1, 3, 4]
    );
    assert!(!r[col::SUCCESS].as_boolean().value(0));
    assert_eq!(
        [
            col::LABEL,
            col::RESPONSE_CODE,
            col::RESPONSE_MESSAGE,
            col::THREAD,
            col::CASE_NAME,
            col::DATA_TYPE,
            col::ENCODING,
            col::AGENT,
        ]
        .map(text),
        [
            "Search & filter",
            "503",
            "Service <Unavailable>",
            "Thread Group 1-12",
            "Thread Group",
            "text",
            "UTF-8",
            "agent-1",
        ]
    );
    let vars = r[col::VARS].as_map();
    assert_eq!(vars.keys().as_string::<i32>().value(0), "USER");
    assert_eq!(vars.values().as_string::<i32>().value(0), "bob AB");
    let report = out.report.expect("decodes");
    assert_eq!(report.samples, 1);
    // 19 of the 20 JMeter attributes (no `rs`) and the variable.
    assert_eq!(report.columns.len(), 20);
    assert_eq!(report.columns.last().map(String::as_str), Some("USER"));
}

#[test]
fn hand_written_variants_read_alike() {
    let bodies = [
        // Attributes in another order, some missing, single quotes, odd whitespace.
        "<sample lb='a' ts='1700000000000' t='5'/>",
        "<httpSample\n  t=\"5\"\tlb=\"x\"\r\n  s=\"true\"  />",
        "<statSample t=\"1\" sc=\"10\" ec=\"3\" lb=\"agg\"/>",
        "<httpSample/>",
        "<httpSample></httpSample>",
        // Escapes in text, in numbers, and ones XML does not define.
        "<httpSample lb=\"&amp; &lt; &gt; &quot; &apos; &#10; &#x41;\" t=\"&#53;\"/>",
        "<httpSample lb=\"&bogus;\" t=\"1\"/>",
        "<httpSample lb=\"line\nbreak\ttab\" t=\"2\"/>",
        "<httpSample lb=\"a > b\" t=\"3\"/>",
        // Bad values: each rejected naming its attribute.
        "<httpSample t=\"x1\" lb=\"bad t\"/>",
        "<httpSample t=\"1\" ts=\"-1\" lb=\"bad ts\"/>",
        "<httpSample t=\"1\" s=\"yes\" lb=\"bad s\"/>",
        "<httpSample t=\"1\" ng=\"3000000000\" lb=\"bad ng\"/>",
        "<httpSample t=\"1\" by=\"1.5\" lb=\"bad by\"/>",
        "<httpSample t=\"99999999999999999999\" lb=\"long\"/>",
        "<httpSample t=\"\" ts=\"\" lb=\"empty numbers\" dt=\"\" hn=\"\"/>",
        "<httpSample t=\"1\" t=\"2\" rc=\"1\" rs=\"2\" lb=\"repeated\"/>",
        "<httpSample rs=\"2\" rc=\"1\" lb=\"repeated\"/>",
        // Malformed attributes.
        "<httpSample t = \"1\" lb=\"spaces\"/>",
        "<httpSample t=\"1\"lb=\"joined\"/>",
        "<httpSample lb=\"a<b\"/>",
        // Children: assertions, sub-samples, a URL, response data.
        "<httpSample t=\"1\" s=\"false\" lb=\"p\">\n  <assertionResult>\n    <name>A</name>\n    <failure>true</failure>\n    <error>false</error>\n    <failureMessage>size &gt; 100 &#x41;</failureMessage>\n  </assertionResult>\n</httpSample>",
        "<sample t=\"9\" lb=\"tx\" rm=\"Number of samples in transaction : 1\">\n  <httpSample t=\"4\" lb=\"child\"><java.net.URL>http://x/?a=1&amp;b=2</java.net.URL></httpSample>\n</sample>",
        "<httpSample t=\"1\" lb=\"d\"><responseData class=\"java.lang.String\">body &amp; more</responseData></httpSample>",
        // Non-ASCII text.
        "<httpSample lb=\"café ünïcode\" tn=\"Grüppe 1-1\" t=\"1\"/>",
    ];
    for body in bodies {
        let text = format!("{HEAD}{body}\n</testResults>\n");
        same_both_ways(text.as_bytes());
    }
}

#[test]
fn invalid_utf8_and_cut_files_read_alike() {
    let mut text = HEAD.as_bytes().to_vec();
    text.extend_from_slice(b"<httpSample t=\"1\" lb=\"ok\"/>\n");
    text.extend_from_slice(b"<httpSample t=\"2\" lb=\"bad \xff byte\"/>\n");
    text.extend_from_slice(b"<httpSample t=\"3\" X\xc3=\"v\" lb=\"bad key\"/>\n");
    text.extend_from_slice(b"<httpSample t=\"4\" lb=\"after\"/>\n</testResults>\n");
    same_both_ways(&text);
    // A file cut at every byte (a killed JMeter): the complete samples, and one warning.
    let whole = format!(
        "{HEAD}<httpSample t=\"1\" lb=\"a &amp; b\"/>\n<httpSample t=\"2\" s=\"false\" lb=\"c\">\n  <assertionResult><name>n</name><failure>true</failure><error>false</error><failureMessage>m</failureMessage></assertionResult>\n</httpSample>\n<sample t=\"3\" lb=\"d\"/>\n</testResults>\n"
    );
    for cut in HEAD.len()..=whole.len() {
        same_both_ways(&whole.as_bytes()[..cut]);
    }
}

const NUMBERS: &[&str] = &[
    "0",
    "56",
    "1763798399944",
    "",
    "-5",
    "x1",
    "1.5",
    "007",
    "99999999999999999999",
    "3000000000",
    "&#52;2",
    " 5",
];
const TEXTS: &[&str] = &[
    "View cart",
    "",
    "Search &amp; filter",
    "a &lt;b&gt;",
    "x&#10;y",
    "&#x41;&#66;",
    "tab\there",
    "line\nbreak",
    "&bogus;",
    "&#0;",
    "café",
    "a > b",
    "Thread Group 1-1",
    "Number of samples in transaction : 2",
];
const KEYS: &[&str] = &[
    "t", "it", "lt", "ct", "ts", "s", "lb", "rc", "rs", "rm", "tn", "dt", "de", "by", "sby", "sc",
    "ec", "ng", "na", "hn", "USER", "my.var",
];
const SPACES: &[&str] = &[" ", " ", " ", "  ", "\n  ", "\t", "\r\n"];

/// One random sample element (with sub-samples below `depth` levels), appended to `out`.
fn random_sample(rng: &mut Rng, out: &mut String, depth: usize) {
    let name = rng.pick(&["httpSample", "httpSample", "sample", "statSample"]);
    out.push('<');
    out.push_str(name);
    for _ in 0..rng.usize(..12) {
        let key = rng.pick(KEYS);
        let value = match key {
            "s" => rng.pick(&["true", "false", "true", "yes"]),
            "lb" | "rc" | "rs" | "rm" | "tn" | "dt" | "de" | "hn" | "USER" | "my.var" => {
                rng.pick(TEXTS)
            }
            _ => rng.pick(NUMBERS),
        };
        let quote = if rng.usize(..5) == 0 { '\'' } else { '"' };
        out.push_str(rng.pick(SPACES));
        out.push_str(key);
        if rng.usize(..40) == 0 {
            out.push_str(" = ");
        } else {
            out.push('=');
        }
        out.push(quote);
        out.push_str(value);
        out.push(quote);
    }
    if rng.usize(..15) == 0 {
        out.push(' ');
    }
    let children = rng.usize(..4);
    if children == 0 || depth >= 3 {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    for _ in 0..children {
        match rng.usize(..6) {
            0 | 1 => {
                let failed = rng.pick(&["true", "false"]);
                let error = rng.pick(&["true", "false"]);
                out.push_str("  <assertionResult>\n    <name>A</name>\n");
                out.push_str(&format!("    <failure>{failed}</failure>\n"));
                out.push_str(&format!("    <error>{error}</error>\n"));
                if rng.usize(..3) > 0 {
                    let message = rng.pick(&[
                        "",
                        "size &gt; 100",
                        "plain",
                        "&#x41;&#0;",
                        "<![CDATA[c <d>]]>",
                    ]);
                    out.push_str(&format!("    <failureMessage>{message}</failureMessage>\n"));
                }
                out.push_str("  </assertionResult>\n");
            }
            2 => random_sample(rng, out, depth + 1),
            3 => out.push_str("  <java.net.URL>http://h/p?a=1&amp;b=2</java.net.URL>\n"),
            4 => out.push_str("  <responseData class=\"java.lang.String\">b</responseData>\n"),
            _ => out.push_str("  <!-- a comment -->\n"),
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

#[test]
fn randomized_documents_read_alike() {
    let mut rng = Rng::with_seed(0x9E37_79B9_7F4A_7C15);
    for _ in 0..300 {
        let mut text = HEAD.to_string();
        for _ in 0..rng.usize(..20) {
            random_sample(&mut rng, &mut text, 0);
        }
        text.push_str("</testResults>\n");
        let mut bytes = text.into_bytes();
        // Some files are cut anywhere (a killed JMeter), some get a byte that is not UTF-8.
        match rng.usize(..6) {
            0 => bytes.truncate(HEAD.len() + rng.usize(..bytes.len() - HEAD.len())),
            1 => {
                let at = HEAD.len() + rng.usize(..bytes.len() - HEAD.len());
                bytes[at] = 0xff;
            }
            _ => {}
        }
        same_both_ways(&bytes);
    }
}
