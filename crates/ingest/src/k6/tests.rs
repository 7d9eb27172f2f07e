//! The k6 decoders on small hand-written files; every expected value is computed by hand in the
//! comments (ts = end − duration floored to ms, durations rounded half away from zero).

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use loadlake_schema::col;

use crate::options::DecodeOptions;
use crate::test_support::{Decoded, Kept, decode_bytes, ints, strs, vars};
use crate::{JtlFormat, decode_plain};

/// Decodes `text` (format sniffed) into one batch, its rejects and report.
pub(super) fn decode(text: &str) -> Decoded {
    decode_bytes("k6.out", text.as_bytes(), &DecodeOptions::default()).unwrap()
}

fn bools(b: &RecordBatch, name: &str) -> Vec<bool> {
    let a = b.column_by_name(name).unwrap().as_boolean();
    (0..a.len()).map(|i| a.value(i)).collect()
}

/// The Points of one request, in the order k6 writes them.
pub(super) const REQUEST_POINTS: [&str; 9] = [
    "http_reqs",
    "http_req_duration",
    "http_req_blocked",
    "http_req_connecting",
    "http_req_tls_handshaking",
    "http_req_sending",
    "http_req_waiting",
    "http_req_receiving",
    "http_req_failed",
];

/// One request of k6 ≥ 0.41 (key order metric,type,data; metadata), its Points in k6's order.
pub(super) fn request(time: &str, tags: &str, meta: &str, values: [f64; 9]) -> String {
    REQUEST_POINTS
        .iter()
        .zip(values)
        .map(|(m, v)| {
            format!(
                r#"{{"metric":"{m}","type":"Point","data":{{"time":"{time}","value":{v},"tags":{tags}{meta}}}}}"#
            ) + "\n"
        })
        .collect()
}

const VUS: &str = r#"{"metric":"vus","type":"Point","data":{"time":"2025-03-01T10:00:00+01:00","value":3,"tags":{}}}"#;
const METRIC: &str = r#"{"type":"Metric","data":{"name":"http_reqs","type":"counter","contains":"default","thresholds":[],"submetrics":null},"metric":"http_reqs"}"#;
const HOME_TAGS: &str = r#"{"expected_response":"true","group":"::login","method":"GET","name":"home","proto":"HTTP/1.1","scenario":"browse","status":"200","tls_version":"","url":"http://127.0.0.1:8080/"}"#;
const REFUSED_TAGS: &str = r#"{"error":"dial tcp 127.0.0.1:1: connect: connection refused","error_code":"1212","expected_response":"false","group":"","method":"POST","name":"http://127.0.0.1:1/","proto":"","scenario":"browse","status":"0","url":"http://127.0.0.1:1/"}"#;
const NOT_FOUND_TAGS: &str = r#"{"error_code":"1404","method":"GET","scenario":"browse","status":"404","url":"http://127.0.0.1:8080/x"}"#;

/// Three requests (200, refused, 404), checks, a group, a custom metric.
fn three_requests() -> String {
    let mut s = format!("{VUS}\n{METRIC}\n");
    // Ends 10:00:01.5+01:00 = 1740819601500 ms; duration 12.5 = 0.2 + 10.2 + 2.1.
    s += &request(
        "2025-03-01T10:00:01.5+01:00",
        HOME_TAGS,
        r#","metadata":{"iter":"2","vu":"7"}"#,
        [1.0, 12.5, 3.2, 1.25, 0.5, 0.2, 10.2, 2.1, 0.0],
    );
    s += &request(
        "2025-03-01T09:00:02.000000123Z",
        REFUSED_TAGS,
        "",
        [1.0, 0.0, 0.8, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
    );
    s += r#"{"metric":"checks","type":"Point","data":{"time":"2025-03-01T09:00:02.1Z","value":1,"tags":{"check":"is 200"}}}"#;
    s += "\n";
    s += r#"{"metric":"checks","type":"Point","data":{"time":"2025-03-01T09:00:02.1Z","value":0,"tags":{"check":"is 200"}}}"#;
    s += "\n";
    s += &request(
        "2025-03-01T09:00:02.5Z",
        NOT_FOUND_TAGS,
        "",
        [1.0, 0.4, 0.0, 0.0, 0.0, 0.1, 0.2, 0.1, 1.0],
    );
    s += r#"{"metric":"group_duration","type":"Point","data":{"time":"2025-03-01T09:00:03Z","value":20.4,"tags":{"group":"::login","scenario":"browse"}}}"#;
    s += "\n";
    s += r#"{"metric":"my_trend","type":"Point","data":{"time":"2025-03-01T09:00:03Z","value":1,"tags":{}}}"#;
    s += "\n";
    s
}

#[test]
fn json_requests_map_to_one_sample_each() {
    let (b, rejects, report) = decode(&three_requests());
    let b = b.unwrap();
    assert_eq!(rejects, []);
    assert_eq!(report.format, Some(JtlFormat::K6Json));
    assert_eq!(report.samples, 4);
    assert_eq!(
        strs(&b, col::LABEL),
        [
            Some("home"),
            Some("http://127.0.0.1:1/"),
            Some("http://127.0.0.1:8080/x"),
            Some("login")
        ]
        .map(|s| s.map(str::to_string))
    );
    assert_eq!(
        strs(&b, col::KIND),
        ["sample", "sample", "sample", "transaction"].map(|s| Some(s.to_string()))
    );
    // 1740819601500 − 12.5 = …1487.5 → 1487; 2000.000123 − 0 → 2000; 2500 − 0.4 → 2499.6 → 2499;
    // the group: 3000 − 20.4 → 2979.6 → 2979.
    assert_eq!(
        ints(&b, col::TS),
        [1740819601487, 1740819602000, 1740819602499, 1740819602979].map(Some)
    );
    // round(12.5) = 13 (half away from zero); round(0.4) = 0; round(20.4) = 20.
    assert_eq!(
        ints(&b, col::ELAPSED_MS),
        [Some(13), Some(0), Some(0), Some(20)]
    );
    // sending + waiting: 10.4 → 10; 0; 0.3 → 0. Groups have none.
    assert_eq!(
        ints(&b, col::LATENCY_MS),
        [Some(10), Some(0), Some(0), None]
    );
    // connecting + tls_handshaking: 1.75 → 2.
    assert_eq!(ints(&b, col::CONNECT_MS), [Some(2), Some(0), Some(0), None]);
    assert_eq!(bools(&b, col::SUCCESS), [true, false, false, true]);
    assert_eq!(
        strs(&b, col::ERROR_CLASS),
        ["success", "refused", "http_4xx", "success"].map(|s| Some(s.to_string()))
    );
    assert_eq!(
        strs(&b, col::RESPONSE_CODE),
        [Some("200"), Some("0"), Some("404"), None].map(|s| s.map(str::to_string))
    );
    assert_eq!(
        strs(&b, col::RESPONSE_MESSAGE)[1].as_deref(),
        Some("dial tcp 127.0.0.1:1: connect: connection refused")
    );
    assert_eq!(
        strs(&b, col::CASE_NAME),
        vec![Some("browse".to_string()); 4]
    );
    assert_eq!(
        strs(&b, col::THREAD),
        [Some("7".to_string()), None, None, None]
    );
    assert_eq!(ints(&b, col::ALL_THREADS), vec![Some(3); 4]);
    assert_eq!(ints(&b, col::GRP_THREADS), vec![Some(3); 4]);
    assert_eq!(
        strs(&b, col::URL)[0].as_deref(),
        Some("http://127.0.0.1:8080/")
    );
    assert_eq!(
        vars(&b, 0),
        [
            "expected_response=true",
            "group=::login",
            "method=GET",
            "proto=HTTP/1.1",
            "iter=2"
        ]
    );
    assert_eq!(
        vars(&b, 1),
        ["error_code=1212", "expected_response=false", "method=POST"]
    );
    assert_eq!(vars(&b, 3), ["group=::login"]);
    assert!(
        report.warnings.contains(
            &"k6 checks (not samples): 1 of 2 passed; 'is 200' failed 1 of 2".to_string()
        ),
        "{:?}",
        report.warnings
    );
    assert!(
        report.warnings.iter().any(|w| w.contains("my_trend (1)")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn old_json_without_http_req_failed_judges_by_status() {
    // k6 0.26: key order type,data,metric; "tags":null on vus; 8 Points a request.
    let mut s = String::from(
        r#"{"type":"Point","data":{"time":"2020-02-20T01:51:24.154348+02:00","value":2,"tags":null},"metric":"vus"}"#,
    );
    s += "\n";
    for (status, time) in [
        ("200", "2020-02-20T01:51:29.643368+02:00"),
        ("503", "2020-02-20T01:51:30+02:00"),
    ] {
        let tags =
            format!(r#"{{"group":"","method":"GET","name":"n","status":"{status}","url":"u"}}"#);
        for (m, v) in [
            ("http_reqs", 1.0),
            ("http_req_duration", 5.0),
            ("http_req_blocked", 0.0),
            ("http_req_connecting", 0.0),
            ("http_req_tls_handshaking", 0.0),
            ("http_req_sending", 0.0),
            ("http_req_waiting", 5.0),
            ("http_req_receiving", 0.0),
        ] {
            s += &format!(
                r#"{{"type":"Point","data":{{"time":"{time}","value":{v},"tags":{tags}}},"metric":"{m}"}}"#
            );
            s += "\n";
        }
    }
    let (b, rejects, report) = decode(&s);
    let b = b.unwrap();
    assert_eq!((rejects.len(), report.samples), (0, 2));
    assert_eq!(bools(&b, col::SUCCESS), [true, false]);
    assert_eq!(
        strs(&b, col::ERROR_CLASS),
        [Some("success".to_string()), Some("http_5xx".to_string())]
    );
    // 01:51:29.643368+02:00 = 23:51:29.643368Z; − 5 ms = .638368 → .638.
    assert_eq!(ints(&b, col::TS)[0], Some(1582156289638));
    assert_eq!(strs(&b, col::CASE_NAME), [None, None]);
}

// A request's Points need not spell their tags alike: the same tags in another key order, with
// a JSON escape, or a name given twice (a JSON map keeps the last) are the same tags; a Point
// whose tags differ in one value starts no continuation. By hand: the first request's nine
// Points join into one sample named `a"b` (the escape decoded), scenario `s2` (the later
// `scenario`); the second request's `http_req_duration` Point carries status 500 instead of 200,
// so it follows no http_reqs Point of its tags: the open request (line 10, an http_reqs Point
// alone) is rejected for lacking its duration, and line 11 for following no request.
#[test]
fn tags_are_compared_as_maps_not_as_text() {
    let orders = [
        r#"{"name":"a\"b","scenario":"s1","status":"200","scenario":"s2"}"#,
        r#"{"status":"200","scenario":"s2","name":"a\u0022b"}"#,
        r#"{"scenario":"s2","name":"a\"b","status":"200"}"#,
    ];
    let point = |m: &str, time: &str, tags: &str| {
        format!(
            r#"{{"metric":"{m}","type":"Point","data":{{"time":"{time}","value":1,"tags":{tags}}}}}"#
        ) + "\n"
    };
    let mut s = String::new();
    for (i, m) in REQUEST_POINTS.iter().enumerate() {
        s += &point(m, "2025-03-01T09:00:01Z", orders[i % 3]);
    }
    s += &point("http_reqs", "2025-03-01T09:00:02Z", orders[0]);
    s += &point(
        "http_req_duration",
        "2025-03-01T09:00:02Z",
        &orders[1].replace("200", "500"),
    );
    let (b, rejects, report) = decode(&s);
    let b = b.unwrap();
    assert_eq!(report.samples, 1);
    assert_eq!(strs(&b, col::LABEL), [Some(r#"a"b"#.to_string())]);
    assert_eq!(strs(&b, col::CASE_NAME), [Some("s2".to_string())]);
    assert_eq!(strs(&b, col::RESPONSE_CODE), [Some("200".to_string())]);
    let lines = crate::test_support::where_rejected(&rejects);
    assert_eq!(lines, [(10, None), (11, Some("http_req_duration"))]);
}

#[test]
fn a_line_cut_by_a_killed_k6_rejects_its_request() {
    let mut s = three_requests();
    s += &request("2025-03-01T09:00:04Z", NOT_FOUND_TAGS, "", [1.0; 9])
        .lines()
        .take(6)
        .map(|l| format!("{l}\n"))
        .collect::<String>();
    s += r#"{"metric":"http_req_waiting","type":"Point","data":{"time":"2025-03"#;
    let first = s.lines().position(|l| l.contains("09:00:04Z")).unwrap() as u64 + 1;
    let last = s.lines().count() as u64;
    let (_, rejects, report) = decode(&s);
    assert_eq!(report.samples, 4);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0].line, last);
    assert_eq!(
        rejects[0].reason,
        format!(
            "incomplete last line (the file does not end with a line break: cut off by a killed k6?); the request begun at line {first} was not imported with it"
        )
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.starts_with(&format!("line {last}: incomplete last line")))
    );
}

#[test]
fn a_file_ending_between_a_requests_points_rejects_it() {
    let mut s = three_requests();
    let cut: String = request("2025-03-01T09:00:04Z", NOT_FOUND_TAGS, "", [1.0; 9])
        .lines()
        .take(7) // http_reqs … http_req_waiting
        .map(|l| format!("{l}\n"))
        .collect();
    let first = s.lines().count() as u64 + 1;
    s += &cut;
    let (_, rejects, report) = decode(&s);
    assert_eq!(report.samples, 4);
    assert_eq!(rejects.len(), 1);
    assert_eq!(
        (rejects[0].line, rejects[0].field.as_deref()),
        (first, Some("http_req_receiving"))
    );
    assert!(
        rejects[0].reason.starts_with("incomplete request"),
        "{}",
        rejects[0].reason
    );
}

#[test]
fn garbage_rejects_its_line_and_request_and_the_rest_is_kept() {
    let good = three_requests();
    let mut lines: Vec<&str> = good.lines().collect();
    // Line 13 is the refused request's http_req_duration (2 lines before, 9 for the first).
    assert!(lines[12].contains("http_req_duration") && lines[12].contains("1212"));
    lines[12] = "garbage";
    // The 404's time: not a time.
    let bad_time = lines[24].replace("2025-03-01T09:00:02.5Z", "yesterday");
    lines[24] = &bad_time;
    let text = lines.join("\n") + "\n";
    let (b, rejects, report) = decode(&text);
    let b = b.unwrap();
    assert_eq!(
        strs(&b, col::LABEL),
        [Some("home".to_string()), Some("login".to_string())]
    );
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    assert_eq!((rejects[0].line, rejects[0].field.as_deref()), (13, None));
    assert!(
        rejects[0].reason.starts_with(
            "not JSON: expected value at line 1 column 1; the request begun at line 12"
        ),
        "{}",
        rejects[0].reason
    );
    assert_eq!(
        (rejects[1].line, rejects[1].field.as_deref()),
        (25, Some("data.time"))
    );
    assert!(
        rejects[1]
            .reason
            .contains("'yesterday' is not an RFC 3339 time")
    );
    // The refused request's 7 other Points, the 404's 6 after its bad line: dropped with their request.
    assert!(
        report.warnings.contains(
            &"13 Points of requests with an unreadable line were not imported".to_string()
        ),
        "{:?}",
        report.warnings
    );
}

const CSV_HEADER: &str = "metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method,name,proto,scenario,service,status,subproto,tls_version,url,extra_tags,metadata\n";

/// One CSV request: its nine rows with the same time and tags.
fn csv_request(time: &str, tags: &str, values: [f64; 9]) -> String {
    REQUEST_POINTS
        .iter()
        .zip(values)
        .map(|(m, v)| format!("{m},{time},{v:.6},{tags}\n"))
        .collect()
}

#[test]
fn csv_requests_with_ms_timestamps() {
    let mut s = CSV_HEADER.to_string();
    s += "vus,1740819600000,2.000000,,,,,,,,,,,,,,,,\n";
    // 1740819601500 − 12.5 → 1740819601487.5 → …487.
    s += &csv_request(
        "1740819601500",
        ",,,true,::g,GET,home,HTTP/1.1,default,,200,,,http://h/,env=ci,vu=4&iter=0",
        [1.0, 12.5, 3.0, 1.0, 0.0, 0.5, 11.0, 1.0, 0.0],
    );
    // A timeout with a quoted error; rfc3339_nano time.
    s += &csv_request(
        "2025-03-01T09:00:03.000000900Z",
        r#","Get ""http://h/slow"": request timeout",1050,false,,GET,slow,,default,,0,,,http://h/slow,,vu=5"#,
        [1.0, 60000.4, 0.0, 0.0, 0.0, 0.0, 60000.4, 0.0, 1.0],
    );
    let (b, rejects, report) = decode(&s);
    let b = b.unwrap();
    assert_eq!(rejects, []);
    assert_eq!(report.format, Some(JtlFormat::K6Csv));
    assert_eq!(report.columns.len(), 19);
    // …603000.0009 − 60000.4 = …542999.6009 → …542999.
    assert_eq!(
        ints(&b, col::TS),
        [Some(1740819601487), Some(1740819542999)]
    );
    assert_eq!(ints(&b, col::ELAPSED_MS), [Some(13), Some(60000)]);
    assert_eq!(ints(&b, col::LATENCY_MS), [Some(12), Some(60000)]);
    assert_eq!(
        strs(&b, col::ERROR_CLASS),
        [Some("success".to_string()), Some("timeout".to_string())]
    );
    assert_eq!(
        strs(&b, col::RESPONSE_MESSAGE)[1].as_deref(),
        Some(r#"Get "http://h/slow": request timeout"#)
    );
    assert_eq!(
        strs(&b, col::THREAD),
        [Some("4".to_string()), Some("5".to_string())]
    );
    assert_eq!(
        vars(&b, 0),
        [
            "env=ci",
            "expected_response=true",
            "group=::g",
            "method=GET",
            "proto=HTTP/1.1",
            "iter=0"
        ]
    );
    assert_eq!(ints(&b, col::ALL_THREADS), [Some(2), Some(2)]);
    assert!(!report.warnings.iter().any(|w| w.contains("whole seconds")));
}

#[test]
fn csv_in_seconds_warns_and_a_cut_last_line_is_rejected() {
    let mut s = CSV_HEADER.to_string();
    s += &csv_request(
        "1740819601",
        ",,,true,,GET,home,HTTP/1.1,default,,200,,,http://h/,,",
        [1.0, 12.5, 3.0, 1.0, 0.0, 0.5, 11.0, 1.0, 0.0],
    );
    s += CSV_HEADER;
    let second = csv_request(
        "1740819602",
        ",,,true,,GET,home,HTTP/1.1,default,,200,,,http://h/,,",
        [1.0, 2.0, 3.0, 1.0, 0.0, 0.5, 1.0, 0.5, 0.0],
    );
    // k6 killed while writing the last row: "http_req_failed,1740819602,0.0".
    s += &second[..second.len() - 41];
    let (b, rejects, report) = decode(&s);
    let b = b.unwrap();
    // 1740819601000 − 12.5 → …987.5 → …987.
    assert_eq!(ints(&b, col::TS), [Some(1740819600987)]);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0].line, 20);
    assert!(rejects[0].reason.starts_with("incomplete last line"));
    assert!(
        rejects[0]
            .reason
            .ends_with("the request begun at line 12 was not imported with it")
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.starts_with("timestamps are whole seconds"))
    );
    assert!(
        report
            .warnings
            .contains(&"1 repeated header lines were skipped".to_string())
    );
}

#[test]
fn csv_bad_value_names_its_field() {
    let mut s = CSV_HEADER.to_string();
    s += "http_reqs,1740819601,one,,,,,,,,,,,,,,,,\n";
    s += "vus,17408x,1,,,,,,,,,,,,,,,,\n";
    let (b, rejects, _) = decode(&s);
    assert!(b.is_none());
    let got = crate::test_support::where_rejected(&rejects);
    assert_eq!(got, [(2, Some("metric_value")), (3, Some("timestamp"))]);
}

#[test]
fn a_forced_format_is_kept() {
    let mut batches: Vec<RecordBatch> = Vec::new();
    let opts = DecodeOptions {
        format: Some(JtlFormat::K6Json),
        ..DecodeOptions::default()
    };
    let text = "timeStamp,elapsed,label,responseCode,success\n1,2,a,200,true\n";
    let mut rejects = Kept(Vec::new());
    let report = decode_plain(
        "r.jtl",
        text.as_bytes(),
        None,
        &opts,
        0,
        &mut batches,
        &mut rejects,
    )
    .unwrap();
    assert_eq!(report.samples, 0);
    assert_eq!(rejects.0.len(), 2);
    assert_eq!(rejects.0[0].line, 1);
}

/// Ends (byte offsets just past the text, line break excluded) of the lines that complete a
/// sample: a request's `http_req_failed` Point, a `group_duration` Point.
fn completing_line_ends(text: &str, completing: &[&str]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        if completing.iter().any(|m| body.contains(m)) {
            ends.push(start + body.len());
        }
        start += line.len();
    }
    ends
}

/// A k6 killed at any byte: every prefix decodes without error or panic, keeps exactly the
/// samples whose last line is whole (JSON: its text; CSV: with its line break, a cut number
/// still parses) and rejects at most the cut line and the request it interrupts.
#[test]
fn every_prefix_keeps_exactly_the_whole_requests() {
    let json = three_requests();
    let json_ends = completing_line_ends(&json, &["\"http_req_failed\"", "\"group_duration\""]);
    let mut csv = CSV_HEADER.to_string();
    for (i, time) in ["1740819601500", "1740819602500", "1740819603500"]
        .iter()
        .enumerate()
    {
        csv += &csv_request(
            time,
            &format!(",,,true,,GET,n{i},HTTP/1.1,default,,200,,,http://h/,,"),
            [1.0, 12.5, 3.0, 1.0, 0.0, 0.5, 11.0, 1.0, 0.0],
        );
    }
    // CSV needs the line break too.
    let csv_ends: Vec<usize> = completing_line_ends(&csv, &["http_req_failed,"])
        .into_iter()
        .map(|e| e + 1)
        .collect();
    for (text, ends) in [(&json, &json_ends), (&csv, &csv_ends)] {
        for cut in 1..=text.len() {
            let prefix = &text[..cut];
            if prefix.trim().is_empty() || !text.is_char_boundary(cut) {
                continue;
            }
            let mut batches: Vec<RecordBatch> = Vec::new();
            let mut rejects = Kept(Vec::new());
            let report = decode_plain(
                "cut",
                prefix.as_bytes(),
                None,
                &DecodeOptions::default(),
                0,
                &mut batches,
                &mut rejects,
            );
            let Ok(report) = report else {
                // Only a cut inside the CSV header leaves nothing to decode.
                assert!(cut < CSV_HEADER.len(), "cut at {cut}: {report:?}");
                continue;
            };
            let whole = ends.iter().filter(|&&e| e <= cut).count() as u64;
            assert_eq!(report.samples, whole, "cut at {cut}: {:?}", rejects.0);
            assert!(rejects.0.len() <= 2, "cut at {cut}: {:?}", rejects.0);
            assert_eq!(report.rejected, rejects.0.len() as u64);
        }
    }
}

/// Deterministic byte mutations of a JSON and a CSV file (a cheap stand-in for the fuzz targets
/// the JTL decoders have): no panic, no error but the reject policy's, rows numbered 0.. without
/// gaps, as many rows and rejects as the report counts.
#[test]
fn mutated_files_never_panic_and_count_consistently() {
    let mut csv = CSV_HEADER.to_string();
    csv += &csv_request(
        "1740819601500",
        r#","a ""quoted"", error",1050,false,::g,GET,n,HTTP/1.1,default,,0,,,http://h/,k=v,vu=1"#,
        [1.0, 12.5, 3.0, 1.0, 0.0, 0.5, 11.0, 1.0, 1.0],
    );
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let alphabet = b"{}[]\",:0123456789.-eE\n\rabcnulltrue\xff\x00 ";
    for base in [three_requests(), csv] {
        for _ in 0..400 {
            let mut bytes = base.clone().into_bytes();
            for _ in 0..1 + next(6) {
                let at = next(bytes.len());
                let b = alphabet[next(alphabet.len())];
                match next(3) {
                    0 => bytes[at] = b,
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, b),
                }
            }
            let mut batches: Vec<RecordBatch> = Vec::new();
            let mut rejects = Kept(Vec::new());
            let opts = DecodeOptions {
                batch_rows: 2,
                ..DecodeOptions::default()
            };
            let forced = [Some(JtlFormat::K6Json), Some(JtlFormat::K6Csv), None];
            let opts = DecodeOptions {
                format: forced[next(3)],
                ..opts
            };
            let Ok(report) = decode_plain(
                "m",
                bytes.as_slice(),
                None,
                &opts,
                0,
                &mut batches,
                &mut rejects,
            ) else {
                continue; // empty, binary, a CSV header gone: refused, named
            };
            let rows: Vec<i64> = batches
                .iter()
                .flat_map(|b| {
                    b.column_by_name(col::ROW)
                        .unwrap()
                        .as_primitive::<Int64Type>()
                        .values()
                        .to_vec()
                })
                .collect();
            assert_eq!(rows, (0..rows.len() as i64).collect::<Vec<_>>());
            assert_eq!(report.samples, rows.len() as u64);
            assert_eq!(report.rejected, rejects.0.len() as u64);
            assert!(rejects.0.iter().all(|r| !r.reason.is_empty() && r.line > 0));
        }
    }
}

#[test]
fn every_known_metric_has_a_code_of_its_own() {
    use super::{AGGREGATES, Metric, TIMINGS};
    let names = ["http_reqs", "vus", "checks", "group_duration"];
    let names = names.iter().chain(&TIMINGS).chain(&AGGREGATES);
    let mut codes = std::collections::BTreeSet::new();
    for name in names {
        let metric = Metric::known(name.as_bytes()).unwrap();
        let code = metric.code().unwrap();
        assert!(codes.insert(code), "{name}: code {code} given twice");
        assert_eq!(Metric::of_code(code).unwrap().name(), *name);
    }
    assert_eq!(codes.len(), 4 + TIMINGS.len() + AGGREGATES.len());
    assert_eq!(Metric::from("my_trend").code(), None);
    let past = u8::try_from(codes.len()).unwrap();
    assert!((past..=u8::MAX).all(|c| Metric::of_code(c).is_none()));
}
