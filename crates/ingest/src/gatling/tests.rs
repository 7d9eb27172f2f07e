//! The Gatling decoders on small hand-built logs (every expected value worked out by hand in
//! the comments) and on the real logs of `../shared/fixtures/peers/gatling` (SOURCES.md there),
//! read in place when present.

use std::path::PathBuf;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use loadlake_schema::col;

use crate::options::DecodeOptions;
use crate::test_support::{Decoded, Kept, decode_bytes, ints, strs, vars};
use crate::{IngestError, JtlFormat, decode_plain};

/// Decodes `bytes` (format sniffed, or forced) into one batch, its rejects and report.
fn try_decode(bytes: &[u8], format: Option<JtlFormat>) -> Result<Decoded, IngestError> {
    let opts = DecodeOptions {
        format,
        batch_rows: 3,
        ..DecodeOptions::default()
    };
    decode_bytes("simulation.log", bytes, &opts)
}

fn decode(bytes: &[u8]) -> Decoded {
    try_decode(bytes, None).unwrap()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

/// A Gatling 3.7 log (3.4+ layout): a request in a group failing its status check with a 404,
/// the group, a timeout, an ERROR and an ASSERTION.
const TEXT_3_4: &str = "ASSERTION\tAAEC\n\
RUN\tcom.example.Shop\tshop\t1700000000000\t \t3.7.6\n\
USER\tBrowse\tSTART\t1700000000100\n\
USER\tBrowse\tSTART\t1700000000200\n\
REQUEST\t\tHome\t1700000000100\t1700000000350\tOK\t \n\
REQUEST\tCheckout,Pay\tCard\t1700000000400\t1700000000475\tKO\tstatus.find.in(200,201,202,203,204,205,206,207,208,209,304), found 404\n\
GROUP\tCheckout,Pay\t1700000000390\t1700000000500\t75\tKO\n\
REQUEST\t\tSlow\t1700000000600\t1700000060600\tKO\ti.g.h.c.i.RequestTimeoutException: Request timeout to localhost/127.0.0.1:8080 after 60000 ms\n\
ERROR\tFailed to build request Cart: No attribute named 'id' is defined \t1700000000700\n\
USER\tBrowse\tEND\t1700000060700\n\
REQUEST\t\tHome\t1700000060800\t1700000060810\tKO\tstatus.find.is(201), but actually found 200\n";

#[test]
fn text_3_4_maps_requests_groups_users_and_errors() {
    let (b, rejects, report) = decode(TEXT_3_4.as_bytes());
    assert!(rejects.is_empty(), "{rejects:?}");
    let b = b.unwrap();
    assert_eq!(report.format, Some(JtlFormat::Gatling));
    assert_eq!(report.tool.as_deref(), Some("gatling"));
    assert_eq!(report.tool_version.as_deref(), Some("3.7.6"));
    assert_eq!(report.samples, 5);
    // Requests and the group in file order; elapsed = end − start.
    assert_eq!(
        strs(&b, col::LABEL),
        [s("Home"), s("Card"), s("Pay"), s("Slow"), s("Home")]
    );
    assert_eq!(
        strs(&b, col::KIND),
        [
            s("sample"),
            s("sample"),
            s("transaction"),
            s("sample"),
            s("sample")
        ]
    );
    assert_eq!(
        ints(&b, col::TS),
        [
            Some(1_700_000_000_100),
            Some(1_700_000_000_400),
            Some(1_700_000_000_390),
            Some(1_700_000_000_600),
            Some(1_700_000_060_800)
        ]
    );
    assert_eq!(
        ints(&b, col::ELAPSED_MS),
        [Some(250), Some(75), Some(110), Some(60_000), Some(10)]
    );
    // The status of a failed status check; none for a timeout; `found 200` is an assertion.
    assert_eq!(
        strs(&b, col::RESPONSE_CODE),
        [None, s("404"), None, None, s("200")]
    );
    assert_eq!(
        strs(&b, col::ERROR_CLASS),
        [
            s("success"),
            s("http_4xx"),
            s("assertion"),
            s("timeout"),
            s("assertion")
        ]
    );
    assert_eq!(strs(&b, col::FAILURE_MESSAGE)[0], None);
    assert!(
        strs(&b, col::FAILURE_MESSAGE)[3]
            .as_deref()
            .unwrap()
            .contains("RequestTimeoutException")
    );
    assert_eq!(vars(&b, 1), ["group=Checkout,Pay"]);
    assert_eq!(vars(&b, 2), ["cumulated_ms=75", "group=Checkout,Pay"]);
    assert!(vars(&b, 0).is_empty());
    // One scenario: the case of every record; two users active, one after the END.
    assert_eq!(strs(&b, col::CASE_NAME), vec![s("Browse"); 5]);
    assert_eq!(
        ints(&b, col::ALL_THREADS),
        [Some(2), Some(2), Some(2), Some(2), Some(1)]
    );
    assert_eq!(strs(&b, col::THREAD), vec![None; 5]);
    let w = report.warnings.join("\n");
    assert!(
        w.contains("Gatling ERROR records (requests Gatling could not build or send; not samples): 1: 'Failed to build request Cart: No attribute named 'id' is defined' (1)"),
        "{w}"
    );
    assert!(w.contains("1 Gatling ASSERTION records"), "{w}");
}

#[test]
fn text_3_0_has_user_ids_their_scenarios_and_crlf() {
    // Gatling 3.3 on Windows: user ids, CRLF line ends, a message stripped by a third party.
    let log = "RUN\tcom.example.Shop\tshop\t1700000000000\t \t3.3.1\r\n\
USER\tBrowse\t1\tSTART\t1700000000100\t1700000000100\r\n\
USER\tBuy\t2\tSTART\t1700000000100\t1700000000100\r\n\
REQUEST\t1\t\tHome\t1700000000100\t1700000000300\tOK\t \r\n\
REQUEST\t2\tCart\tAdd\t1700000000100\t1700000000150\tOK\r\n\
GROUP\t2\tCart\t1700000000090\t1700000000160\t50\tOK\r\n\
USER\tBuy\t2\tEND\t1700000000100\t1700000000170\r\n";
    let (b, rejects, report) = decode(log.as_bytes());
    assert!(rejects.is_empty(), "{rejects:?}");
    let b = b.unwrap();
    assert_eq!(report.tool_version.as_deref(), Some("3.3.1"));
    assert_eq!(strs(&b, col::LABEL), [s("Home"), s("Add"), s("Cart")]);
    assert_eq!(strs(&b, col::THREAD), [s("1"), s("2"), s("2")]);
    assert_eq!(strs(&b, col::CASE_NAME), [s("Browse"), s("Buy"), s("Buy")]);
    assert_eq!(ints(&b, col::ELAPSED_MS), [Some(200), Some(50), Some(70)]);
    // Users of the record's scenario, and of all.
    assert_eq!(ints(&b, col::GRP_THREADS), [Some(1), Some(1), Some(1)]);
    assert_eq!(ints(&b, col::ALL_THREADS), [Some(2), Some(2), Some(2)]);
    assert_eq!(vars(&b, 1), ["group=Cart"]);
    assert_eq!(vars(&b, 2), ["cumulated_ms=50"]);
}

#[test]
fn a_gatling_2_log_is_refused_naming_the_file_and_why() {
    let run_2x = "RUN\tPerfTest\t\tgatling-1\t1549411934496\t \t2.0\n\
USER\tAll\t1\tSTART\t1549411935145\t1549411935145\n";
    let e = try_decode(run_2x.as_bytes(), None).unwrap_err().to_string();
    assert!(
        e.starts_with("simulation.log: a Gatling 2.x simulation.log (line 1"),
        "{e}"
    );
    assert!(e.contains("nothing was imported"), "{e}");
    // Without its RUN record: told by the REQUEST's scenario and user id columns.
    let req_2x = "REQUEST\tAll\t97\t\tsignUp\t1549412062762\t1549412064880\tKO\tfound nothing\n";
    let e = try_decode(req_2x.as_bytes(), Some(JtlFormat::Gatling))
        .unwrap_err()
        .to_string();
    assert!(e.contains("a Gatling 2.x simulation.log (line 1: a REQUEST record with scenario and user id columns)"), "{e}");
}

#[test]
fn bad_text_lines_are_rejected_naming_line_and_field_and_a_cut_last_line_too() {
    let log = "RUN\tS\ts\t1700000000000\t \t3.9.0\n\
USER\tS\tSTART\t1700000000000\n\
REQUEST\t\tA\t1700000000000\t1700000000010\tOK\t \n\
REQUEST\t\tB\t1700000000000\tsoon\tOK\t \n\
REQUEST\t\tC\t1700000000050\t1700000000010\tOK\t \n\
USER\tS\tMAYBE\t1700000000000\n\
REQUEST\t1\t\tD\t1700000000000\t1700000000010\tOK\t \n\
REQUEST\t\tE\t1700000000000\t1700000000020\tOK\t \n\
REQUEST\t\tF\t1700000000000\t17000";
    let (b, rejects, report) = decode(log.as_bytes());
    assert_eq!(strs(&b.unwrap(), col::LABEL), [s("A"), s("E")]);
    let got = crate::test_support::where_rejected(&rejects);
    assert_eq!(
        got,
        [
            (4, Some("status")),
            (5, Some("end")),
            (6, Some("event")),
            (7, None),
            (9, None)
        ]
    );
    assert!(
        rejects[1].reason.contains("before the start"),
        "{:?}",
        rejects[1]
    );
    assert!(
        rejects[3].reason.contains("Gatling 3.0–3.3"),
        "{:?}",
        rejects[3]
    );
    assert!(
        rejects[4].reason.starts_with("incomplete last line"),
        "{:?}",
        rejects[4]
    );
    assert_eq!(report.rejected, 5);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.starts_with("line 9: incomplete last line"))
    );
}

/// Builds a binary log the way Gatling 3.13's `LogFileDataWriter` writes it.
#[derive(Default)]
struct Bin(Vec<u8>);

impl Bin {
    fn i32(&mut self, v: i32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn byte(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    /// A LATIN1 string (coder 0).
    fn latin1(&mut self, v: &str) -> &mut Self {
        let b: Vec<u8> = v.chars().map(|c| c as u8).collect();
        self.i32(b.len() as i32);
        if !b.is_empty() {
            self.0.extend_from_slice(&b);
            self.byte(0);
        }
        self
    }
    /// A UTF-16 string (coder 1) in the little-endian order of an x86-64 JVM.
    fn utf16(&mut self, v: &str) -> &mut Self {
        let b: Vec<u8> = v.encode_utf16().flat_map(u16::to_le_bytes).collect();
        self.i32(b.len() as i32);
        self.0.extend_from_slice(&b);
        self.byte(1)
    }
    fn run(&mut self, start: i64, scenarios: &[&str]) -> &mut Self {
        self.byte(0).latin1("3.13.1").latin1("com.example.Shop");
        self.0.extend_from_slice(&start.to_be_bytes());
        self.latin1("").i32(scenarios.len() as i32);
        for sc in scenarios {
            self.latin1(sc);
        }
        // One assertion, its (opaque) pickled bytes.
        self.i32(1).i32(3);
        self.0.extend_from_slice(&[9, 9, 9]);
        self
    }
    fn user(&mut self, scenario: i32, start: bool, ts: i32) -> &mut Self {
        self.byte(2).i32(scenario).byte(u8::from(start)).i32(ts)
    }
}

/// Start of the hand-built binary runs.
const T0: i64 = 1_730_000_000_000;

/// A binary log: a user, a request with a UTF-16 name (cached as 1), the same name again
/// (a cache hit), a KO `found 200` in a group (group cached as 3), the group, an ERROR.
fn binary_log() -> (Vec<u8>, Vec<usize>) {
    let mut b = Bin::default();
    let mut ends = Vec::new();
    b.run(T0, &["Käufer"]);
    ends.push(b.0.len());
    b.user(0, true, 5);
    ends.push(b.0.len());
    // REQUEST: no groups, name new #1 (UTF-16), 10 → 35 ms, OK, message new #2 "".
    b.byte(1)
        .i32(0)
        .i32(1)
        .utf16("Zoë ☃")
        .i32(10)
        .i32(35)
        .byte(1)
        .i32(2)
        .latin1("");
    ends.push(b.0.len());
    // REQUEST: name cached #1, 40 → 41, OK, message cached #2.
    b.byte(1).i32(0).i32(-1).i32(40).i32(41).byte(1).i32(-2);
    ends.push(b.0.len());
    // REQUEST in group #3 "Kasse": name new #4 "Pay", 50 → 150, KO, message new #5.
    b.byte(1)
        .i32(1)
        .i32(3)
        .latin1("Kasse")
        .i32(4)
        .latin1("Pay")
        .i32(50)
        .i32(150)
        .byte(0);
    b.i32(5)
        .latin1("status.find.is(201), but actually found 200");
    ends.push(b.0.len());
    // GROUP: group cached #3, 45 → 160, cumulated 100, KO.
    b.byte(3).i32(1).i32(-3).i32(45).i32(160).i32(100).byte(0);
    ends.push(b.0.len());
    // ERROR: message new #6, at 170.
    b.byte(4)
        .i32(6)
        .latin1("Failed to build request x")
        .i32(170);
    ends.push(b.0.len());
    (b.0, ends)
}

#[test]
fn binary_records_utf16_names_and_the_string_cache() {
    let (log, _) = binary_log();
    let (b, rejects, report) = decode(&log);
    assert!(rejects.is_empty(), "{rejects:?}");
    let b = b.unwrap();
    assert_eq!(report.format, Some(JtlFormat::Gatling));
    assert_eq!(report.tool_version.as_deref(), Some("3.13.1"));
    assert_eq!(
        strs(&b, col::LABEL),
        [s("Zoë ☃"), s("Zoë ☃"), s("Pay"), s("Kasse")]
    );
    assert_eq!(
        ints(&b, col::TS),
        [Some(T0 + 10), Some(T0 + 40), Some(T0 + 50), Some(T0 + 45)]
    );
    assert_eq!(
        ints(&b, col::ELAPSED_MS),
        [Some(25), Some(1), Some(100), Some(115)]
    );
    assert_eq!(
        strs(&b, col::ERROR_CLASS),
        [s("success"), s("success"), s("assertion"), s("assertion")]
    );
    assert_eq!(strs(&b, col::RESPONSE_CODE), [None, None, s("200"), None]);
    assert_eq!(strs(&b, col::CASE_NAME), vec![s("Käufer"); 4]);
    assert_eq!(ints(&b, col::ALL_THREADS), vec![Some(1); 4]);
    assert_eq!(vars(&b, 2), ["group=Kasse"]);
    assert_eq!(vars(&b, 3), ["cumulated_ms=100"]);
    let w = report.warnings.join("\n");
    assert!(w.contains("'Failed to build request x' (1)"), "{w}");
    assert!(w.contains("1 Gatling ASSERTION records"), "{w}");
}

#[test]
fn a_binary_log_cut_anywhere_keeps_every_whole_record() {
    let (log, ends) = binary_log();
    // Samples written by the records ending at ends[i] (the RUN, USER and ERROR write none).
    let samples_upto = |cut: usize| {
        ends.iter()
            .enumerate()
            .filter(|&(i, &e)| e <= cut && (2..=5).contains(&i))
            .count() as u64
    };
    for cut in 1..=log.len() {
        let got = try_decode(&log[..cut], None);
        if cut < ends[0] {
            // Inside the RUN record: not a log whose requests can be read.
            let e = got.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(
                e.contains("cut inside its RUN record")
                    || e.contains("not a Gatling binary")
                    || cut < 6,
                "cut {cut}: {e}"
            );
            continue;
        }
        let (_, rejects, report) = got.unwrap_or_else(|e| panic!("cut {cut}: {e}"));
        assert_eq!(report.samples, samples_upto(cut), "cut {cut}");
        let whole = ends.contains(&cut);
        assert_eq!(rejects.len(), usize::from(!whole), "cut {cut}: {rejects:?}");
        if let Some(r) = rejects.first() {
            assert!(r.reason.contains("the file ends inside this"), "{r:?}");
            assert!(
                report
                    .warnings
                    .iter()
                    .any(|w| w.contains("cut off by a killed Gatling"))
            );
        }
    }
}

#[test]
fn a_bad_cache_reference_rejects_its_record_and_garbage_stops_the_rest() {
    let mut b = Bin::default();
    b.run(T0, &["A", "B"]);
    // A request whose name refers to an undefined cache entry 7: rejected, reading goes on.
    b.byte(1)
        .i32(0)
        .i32(-7)
        .i32(1)
        .i32(2)
        .byte(1)
        .i32(1)
        .latin1("");
    b.byte(1)
        .i32(0)
        .i32(2)
        .latin1("ok")
        .i32(1)
        .i32(3)
        .byte(1)
        .i32(-1);
    // An unknown record type: the rest cannot be read.
    b.byte(9).i32(0);
    let (batch, rejects, report) = decode(&b.0);
    let batch = batch.unwrap();
    assert_eq!(strs(&batch, col::LABEL), [s("ok")]);
    // Two scenarios declared: no case.
    assert_eq!(strs(&batch, col::CASE_NAME), [None]);
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    assert_eq!(
        (rejects[0].line, rejects[0].field.as_deref()),
        (2, Some("name"))
    );
    assert!(
        rejects[0].reason.contains("string 7 of the cache"),
        "{:?}",
        rejects[0]
    );
    assert_eq!(
        (rejects[1].line, rejects[1].field.as_deref()),
        (4, Some("record"))
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("were not imported"))
    );
}

#[test]
fn gatling_logs_are_sniffed_by_content() {
    use crate::sniff::sniff;
    let sniffed = |b: &[u8]| sniff("f", &mut &b[..], None).map_err(|e| e.to_string());
    assert_eq!(sniffed(TEXT_3_4.as_bytes()), Ok(JtlFormat::Gatling));
    assert_eq!(sniffed(b"RUN\tS\ts\t1\t \t3.5.0\n"), Ok(JtlFormat::Gatling));
    assert_eq!(sniffed(&binary_log().0), Ok(JtlFormat::Gatling));
    // A JTL CSV is still one; other binary files are refused as before.
    assert_eq!(sniffed(b"timeStamp,elapsed,label\n"), Ok(JtlFormat::Csv));
    assert!(sniffed(b"\x00\x01\x02").is_err());
}

/// `../shared/fixtures/peers/gatling` beside the checkout, if present.
fn fixtures() -> Option<PathBuf> {
    crate::test_support::peer_fixtures("gatling")
}

#[test]
fn real_gatling_logs_decode_with_sources_md_counts() {
    let Some(dir) = fixtures() else {
        return;
    };
    // (file, samples incl. groups, failures, version) per SOURCES.md.
    for (file, samples, failed, version) in [
        ("taurus_gatling-3.3.1.simulation.log", 100, 0, "3.3.1"),
        ("taurus_gatling-3.7.6_groups.simulation.log", 35, 0, "3.7.6"),
        (
            "gatling-repo_single_node_with_known_stats_text.simulation.log",
            8,
            0,
            "2.0",
        ),
        (
            "gatling-repo_known_stats_binary_3.13dev.simulation.log",
            105,
            1,
            "3.12.1",
        ),
        (
            "taurus_gatling-3.14.3_binary.simulation.log",
            39,
            0,
            "3.14.3",
        ),
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let (b, rejects, report) = decode(&bytes);
        assert!(rejects.is_empty(), "{file}: {rejects:?}");
        assert_eq!(report.samples, samples, "{file}");
        assert_eq!(report.tool_version.as_deref(), Some(version), "{file}");
        let b = b.unwrap();
        let success: Vec<bool> = {
            let a = b.column_by_name(col::SUCCESS).unwrap().as_boolean();
            (0..a.len()).map(|i| a.value(i)).collect()
        };
        assert_eq!(success.iter().filter(|s| !**s).count(), failed, "{file}");
    }
    let bytes =
        std::fs::read(dir.join("taurus_gatling-2.x_error-as-GROUP.simulation.log")).unwrap();
    let e = try_decode(&bytes, None).unwrap_err().to_string();
    assert!(e.contains("a Gatling 2.x simulation.log"), "{e}");
    // Gatling's own fixture: its test's min 2000 and max 9000.
    let bytes =
        std::fs::read(dir.join("gatling-repo_single_node_with_known_stats_text.simulation.log"))
            .unwrap();
    let mut elapsed: Vec<i64> = ints(&decode(&bytes).0.unwrap(), col::ELAPSED_MS)
        .into_iter()
        .flatten()
        .collect();
    elapsed.sort();
    assert_eq!(elapsed, [2000, 4000, 4000, 4000, 5000, 5000, 7000, 9000]);
}

/// Deterministic byte mutations of a text and a binary log (replaced, deleted, inserted bytes;
/// sniffed or forced; 3-row batches): no panic, no error but a refusal of the whole file, rows
/// numbered 0.. without gaps, as many rows and rejects as the report counts.
#[test]
fn mutated_logs_never_panic_and_count_consistently() {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let alphabet = b"\t\n\r0123456789-OKRUNUSERGROUPSTARTEND,\x00\x01\x02\x03\x04\xff\x7f ";
    for base in [TEXT_3_4.as_bytes().to_vec(), binary_log().0] {
        for _ in 0..500 {
            let mut bytes = base.clone();
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
            let forced = [Some(JtlFormat::Gatling), None];
            let mut batches: Vec<RecordBatch> = Vec::new();
            let mut rejects = Kept(Vec::new());
            let opts = DecodeOptions {
                format: forced[next(2)],
                batch_rows: 3,
                ..DecodeOptions::default()
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
                continue; // a 2.x shape, a broken RUN record, not Gatling's: refused, named
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
