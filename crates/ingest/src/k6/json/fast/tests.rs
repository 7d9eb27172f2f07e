//! The byte-level reader against the serde one, line by line: on the real k6 file of
//! `../shared/fixtures/peers/k6` and on hand-written lines whose values are worked out by hand.

use super::super::recent::Recent;
use super::super::{Parsed, parse_serde};
use super::read;
use crate::k6::Tags;

/// What both readers give for a Point: metric, time, value (as bits: `-0` is not `0`), tags,
/// metadata.
type Seen = (String, i64, u64, Tags, Tags);

/// Reads `lines` with both readers (each with its own recent state): for each line, what the
/// fast reader gives (`None`: declined) and what serde gives (`Ok(None)` for a line without
/// a Point, `Err(field)` for a bad line).
#[allow(clippy::type_complexity)]
fn both(lines: &[&[u8]]) -> Vec<(Option<Seen>, Result<Option<Seen>, Option<&'static str>>)> {
    let (mut fast, mut slow) = (Recent::default(), Recent::default());
    lines
        .iter()
        .map(|line| {
            let f = read(line, &mut fast).map(|(m, t, v)| {
                let (tags, meta) = fast.current();
                (m.to_string(), t, v.to_bits(), tags.clone(), meta.clone())
            });
            let s = match parse_serde(line, &mut slow) {
                Ok(Parsed::Point(p, _)) => Ok(Some((
                    p.metric.to_string(),
                    p.time_ns,
                    p.value.to_bits(),
                    p.tags.into_owned(),
                    p.meta.into_owned(),
                ))),
                Ok(Parsed::Skip) => Ok(None),
                Err((field, _)) => Err(field),
            };
            (f, s)
        })
        .collect()
}

/// Asserts that wherever the fast reader reads a line, serde reads the same Point; returns how
/// many lines the fast reader read.
fn agree(lines: &[&[u8]]) -> usize {
    let mut read = 0;
    for (i, (fast, slow)) in both(lines).into_iter().enumerate() {
        if let Some(fast) = fast {
            assert_eq!(Ok(Some(fast)), slow, "line {}", i + 1);
            read += 1;
        }
    }
    read
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const T: &str = "2025-03-01T09:00:00.25Z";
/// 2025-03-01T09:00:00.25Z in ns: 20148 days × 86 400 s + 9 h, then .25 s.
const T_NS: i64 = (20_148 * 86_400 + 9 * 3_600) * 1_000_000_000 + 250_000_000;

/// A Point line in k6's layout with `value` and the rest of `data` after the value.
fn point(metric: &str, value: &str, rest: &str) -> String {
    format!(
        r#"{{"metric":"{metric}","type":"Point","data":{{"time":"{T}","value":{value},{rest}}}}}"#
    )
}

#[test]
fn the_real_k6_file_reads_alike_and_every_point_fast() {
    let Some(dir) = crate::test_support::peer_fixtures("k6") else {
        return;
    };
    let text = std::fs::read(dir.join("elmars369_sample_k6_test_result_2020-02.json")).unwrap();
    let lines: Vec<&[u8]> = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    // 1 117 lines of which 1 101 Points (grep -c '"type":"Point"'): all read fast, as serde.
    assert_eq!(lines.len(), 1117);
    assert_eq!(agree(&lines), 1101);
    // SOURCES.md's independent facts: 99 http_reqs; their durations sum to 35 655.957 ms.
    let (mut reqs, mut duration) = (0, 0.0);
    for (fast, _) in both(&lines) {
        match fast.as_ref().map(|p| (p.0.as_str(), f64::from_bits(p.2))) {
            Some(("http_reqs", _)) => reqs += 1,
            Some(("http_req_duration", v)) => duration += v,
            _ => {}
        }
    }
    assert_eq!(reqs, 99);
    assert!((duration - 35_655.957).abs() < 5e-4, "{duration}");
}

#[test]
fn numbers_read_as_serde_reads_them() {
    // (JSON number, read fast?, its value worked out by hand)
    for (number, fast, value) in [
        ("1", true, 1.0),
        ("0", true, 0.0),
        ("-0", true, -0.0),
        ("12.0", true, 12.0),
        ("0.654272", true, 0.654272),
        ("-3.25", true, -3.25),
        ("123456789012345", true, 123_456_789_012_345.0),
        ("0.00000000000001", true, 1e-14),
        ("1234567890123456", false, 1_234_567_890_123_456.0),
        ("1e-3", false, 0.001),
        ("2E2", false, 200.0),
    ] {
        let line = point("vus", number, r#""tags":{}"#);
        let got = both(&[line.as_bytes()]);
        let (f, s) = &got[0];
        let want = ("vus".to_string(), T_NS, f64::to_bits(value), vec![], vec![]);
        assert_eq!(s, &Ok(Some(want.clone())), "{number}");
        assert_eq!(f.is_some(), fast, "{number}");
        if fast {
            assert_eq!(f.as_ref(), Some(&want), "{number}");
        }
    }
    // Not JSON numbers: declined, and serde names the line bad.
    for number in ["01", "1.", "-", ".5", "+1", "1.e3", "NaN", "null", "\"1\""] {
        let line = point("vus", number, r#""tags":{}"#);
        let got = both(&[line.as_bytes()]);
        assert_eq!(got[0].0, None, "{number}");
        assert!(got[0].1.is_err(), "{number}: {:?}", got[0].1);
    }
}

#[test]
fn tags_and_metadata_read_as_serde_reads_them() {
    let home = r#""tags":{"b":"2","a":"1"}"#;
    let lines = [
        // Unsorted tags; the next Point repeats their text (read as the same object).
        point("http_reqs", "1", home),
        point("http_req_duration", "2", home),
        // Metadata present, then absent again; `null` tags; `{}`.
        point(
            "http_reqs",
            "1",
            &format!(r#"{home},"metadata":{{"vu":"7","iter":"0"}}"#),
        ),
        point("http_reqs", "1", home),
        point("vus", "1", r#""tags":null"#),
        point("vus", "1", r#""tags":{},"metadata":null"#),
        // A name given twice (the last value counts), an empty value, non-ASCII text.
        point(
            "checks",
            "1",
            r#""tags":{"check":"x","check":"é ok","e":""}"#,
        ),
        // The old key order (k6 before 0.38).
        format!(
            r#"{{"type":"Point","data":{{"time":"{T}","value":2,"tags":{{"a":"1"}}}},"metric":"vus"}}"#
        ),
    ];
    let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    assert_eq!(agree(&lines), lines.len());
    let got: Vec<(Tags, Tags)> = both(&lines)
        .into_iter()
        .map(|(f, _)| f.map(|p| (p.3, p.4)).unwrap())
        .collect();
    let ab = tags(&[("a", "1"), ("b", "2")]);
    assert_eq!(got[0], (ab.clone(), vec![]));
    assert_eq!(got[1], (ab.clone(), vec![]));
    assert_eq!(got[2], (ab.clone(), tags(&[("iter", "0"), ("vu", "7")])));
    assert_eq!(got[3], (ab, vec![]));
    assert_eq!(got[4], (vec![], vec![]));
    assert_eq!(got[5], (vec![], vec![]));
    assert_eq!(got[6], (tags(&[("check", "é ok"), ("e", "")]), vec![]));
    assert_eq!(got[7], (tags(&[("a", "1")]), vec![]));
}

#[test]
fn other_lines_are_left_to_serde() {
    let metric = r#"{"type":"Metric","data":{"name":"http_req_duration","type":"trend","contains":"time","thresholds":[],"submetrics":[{"name":"d{a:1}","tags":{"a":"1"}}]},"metric":"http_req_duration"}"#;
    let same = point("vus", "1", r#""tags":{"a":"1"}"#);
    // (line, serde's verdict: Ok(true) a Point, Ok(false) no Point, Err(field) a bad line)
    let cases: Vec<(String, Result<bool, Option<&str>>)> = vec![
        (metric.to_string(), Ok(false)),
        // Escapes (decoded by serde): a quote, \u00e9, in a tag value; in a metric name.
        (point("vus", "1", r#""tags":{"name":"a\"b"}"#), Ok(true)),
        (
            point("vus", "1", r#""tags":{"name":"caf\u00e9"}"#),
            Ok(true),
        ),
        (point(r"v\u0075s", "1", r#""tags":{}"#), Ok(true)),
        // Other key orders, spaces, a line end after the object.
        (
            format!(
                r#"{{"type":"Point","metric":"vus","data":{{"time":"{T}","value":1,"tags":{{}}}}}}"#
            ),
            Ok(true),
        ),
        (
            format!(
                r#"{{"metric":"vus","type":"Point","data":{{"value":1,"time":"{T}","tags":{{}}}}}}"#
            ),
            Ok(true),
        ),
        (
            format!(
                r#"{{"metric": "vus", "type": "Point", "data": {{"time": "{T}", "value": 1, "tags": {{}}}}}}"#
            ),
            Ok(true),
        ),
        (point("vus", "1", r#""tags":{ "a":"1" }"#), Ok(true)),
        (format!("{same} "), Ok(true)),
        // The last Point's tags text followed by more: not the same object.
        (point("vus", "1", r#""tags":{"a":"1"}},"x":1"#), Err(None)),
        // Truncated lines.
        (same[..same.len() - 2].to_string(), Err(None)),
        (same[..40].to_string(), Err(None)),
        // Values of other types.
        (
            point("vus", "1", r#""tags":{"a":1}"#),
            Err(Some("data.tags")),
        ),
        (point("vus", "1", r#""tags":[]"#), Err(Some("data.tags"))),
        (
            point("vus", "1", r#""tags":{},"metadata":{"vu":2}"#),
            Err(Some("data.tags")),
        ),
        (
            point("vus", "null", r#""tags":{}"#),
            Err(Some("data.value")),
        ),
        // A control character in a string; a time that is none.
        (point("vus", "1", "\"tags\":{\"a\":\"\t\"}"), Err(None)),
        (same.replace(T, "yesterday"), Err(Some("data.time"))),
        (same.replace("Point", "Pointe"), Err(Some("type"))),
    ];
    // Each after a Point with tags {"a":"1"}, so that the last tags' text is at hand.
    for (line, verdict) in cases {
        let got = both(&[same.as_bytes(), line.as_bytes()]);
        assert_eq!(got[1].0, None, "{line}");
        let got = got[1].1.as_ref().map(Option::is_some).map_err(|f| *f);
        assert_eq!(got, verdict, "{line}");
    }
    // Invalid UTF-8 in a tag value.
    let mut bad = point("vus", "1", r#""tags":{"a":"?"}"#).into_bytes();
    let at = bad.iter().position(|&b| b == b'?').unwrap();
    bad[at] = 0xff;
    let got = both(&[&bad]);
    assert_eq!(got[0].0, None);
    assert!(got[0].1.is_err());
}

#[test]
fn times_and_metric_names_read_as_serde_reads_them() {
    let line = |metric: &str, time: &str| {
        point(metric, "1", r#""tags":{}"#)
            .replace(&format!(r#""time":"{T}""#), &format!(r#""time":"{time}""#))
    };
    let later = "2025-03-01T09:00:00.5Z";
    let lines = [
        // An empty time first (no last time to be taken for), then T.
        line("vus", ""),
        line("vus", T),
        // The same time again, another, back to T; a time that goes on after T's text.
        line("http_reqs", T),
        line("http_req_duration", later),
        line("http_req_failed", T),
        line("vus", &format!("{T}1")),
        line("vus", T),
        // Aggregates, custom metrics (ASCII, UTF-8), a name that starts like a known one.
        line("iterations", T),
        line("data_received", T),
        line("my_metric", T),
        line("café_ms", T),
        line("http_reqsx", T),
    ];
    let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    let got = both(&lines);
    let read: Vec<Option<(&str, i64)>> = got
        .iter()
        .map(|(fast, _)| fast.as_ref().map(|p| (p.0.as_str(), p.1)))
        .collect();
    // 09:00:00.5 is 250 ms after T.
    let later_ns = T_NS + 250_000_000;
    assert_eq!(
        read,
        [
            None,
            Some(("vus", T_NS)),
            Some(("http_reqs", T_NS)),
            Some(("http_req_duration", later_ns)),
            Some(("http_req_failed", T_NS)),
            None,
            Some(("vus", T_NS)),
            Some(("iterations", T_NS)),
            Some(("data_received", T_NS)),
            Some(("my_metric", T_NS)),
            Some(("café_ms", T_NS)),
            Some(("http_reqsx", T_NS)),
        ]
    );
    assert_eq!(got[0].1, Err(Some("data.time")));
    assert_eq!(got[5].1, Err(Some("data.time")));
    assert_eq!(agree(&lines), 10);
    // Invalid UTF-8 in a custom metric's name: declined, and serde names the line bad.
    let mut bad = line("my_metric", T).into_bytes();
    let at = bad.iter().position(|&b| b == b'_').unwrap();
    bad[at] = 0xff;
    let got = both(&[&bad]);
    assert_eq!(got[0].0, None);
    assert!(got[0].1.is_err());
}

#[test]
fn sets_of_tags_read_before_are_found_again_and_the_oldest_forgotten() {
    use crate::k6::SETS_KEPT;
    // Eleven sets (more than are kept): set i has tags name=n{i} and a=1, and the metadata
    // vu=i for odd i. Set 0's tags are also written with metadata `null` (the same set) and
    // with metadata of its own (another set): a line that starts with a kept set's tags is
    // not that set when its metadata differ.
    let sets = SETS_KEPT + 3;
    let data = |i: usize| {
        let tags = format!(r#""tags":{{"a":"1","name":"n{i}"}}"#);
        match i % 2 {
            1 => format!(r#"{tags},"metadata":{{"vu":"{i}"}}"#),
            _ => tags,
        }
    };
    let expected = |i: usize| {
        let meta = match i % 2 {
            1 => tags(&[("vu", &i.to_string())]),
            _ => vec![],
        };
        (tags(&[("a", "1"), ("name", &format!("n{i}"))]), meta)
    };
    // Back and forth between two sets, every set in turn twice, then jumps.
    let mut order: Vec<usize> = [0, 1, 0, 1, 1, 0].to_vec();
    order.extend((0..sets).chain(0..sets));
    order.extend((0..2 * sets).map(|k| k * 7 % sets));
    let mut lines: Vec<String> = order.iter().map(|&i| point("vus", "1", &data(i))).collect();
    let with_null = format!(r#"{},"metadata":null"#, data(0));
    let with_meta = format!(r#"{},"metadata":{{"vu":"99"}}"#, data(0));
    // Then set 0 again, without metadata: not the set just read, whose tags it starts with.
    lines.extend([with_null, with_meta, data(0)].map(|d| point("vus", "1", &d)));
    let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    assert_eq!(agree(&lines), lines.len());
    let mut recent = Recent::default();
    let mut generations = Vec::new();
    for (k, line) in lines.iter().enumerate() {
        read(line, &mut recent).unwrap();
        let (tags_read, meta_read) = recent.current();
        let want = match order.get(k) {
            Some(&i) => expected(i),
            None if k == order.len() + 1 => (expected(0).0, tags(&[("vu", "99")])),
            None => expected(0),
        };
        assert_eq!(
            (tags_read.clone(), meta_read.clone()),
            want,
            "line {}",
            k + 1
        );
        let point = recent.point(crate::k6::Metric::Vus, 0, 1.0);
        generations.push((point.generation, want));
    }
    // One generation, one set: Points of one generation have the same tags and metadata.
    for (g, set) in &generations {
        for (h, other) in &generations {
            assert!(g != h || set == other, "{g:?} names two sets");
        }
    }
    // A set read again while kept keeps its generation: lines 1 and 3 (set 0), 2 and 4 (set 1).
    assert_eq!(generations[0].0, generations[2].0);
    assert_eq!(generations[1].0, generations[3].0);
    // Set 0 with metadata `null` is set 0; with metadata of its own it is another set.
    let last = generations.len() - 1;
    assert_ne!(generations[last - 1].0, generations[last - 2].0);
    assert_eq!(generations[last].0, generations[last - 2].0);
}
