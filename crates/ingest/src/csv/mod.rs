//! JTL CSV decoding: layout detection (header, delimiter, columns) and streaming row decoding.

mod header;
mod rows;
mod split;

use std::io::BufRead;

use loadlake_schema::SampleSink;

pub use header::{Layout, detect_layout};

use crate::FileReport;
use crate::error::IngestError;
use crate::options::DecodeOptions;
use crate::rejects::RejectHandler;
use crate::subresults::SubResultTracker;

/// Fast strict parse of a decimal integer (optional leading `-`); `None` for anything else.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + d as i64;
    }
    Some(if neg { -v } else { v })
}

/// Decodes a CSV JTL from `reader` (positioned at the start). `len` is the file size when known,
/// used to recognise a last line cut off by a killed JMeter. `subresults` holds the sub-result
/// parents still open before the first row: a fresh tracker for a whole file; for a file still
/// being written (`import --follow`, decoded a chunk of whole records at a time), the one the
/// previous chunk left, so that a sub-result written after its parent's chunk was read is
/// linked to it as in a plain import of the finished file.
#[allow(clippy::too_many_arguments)]
pub fn decode_csv<R: BufRead>(
    file: &str,
    mut reader: R,
    len: Option<u64>,
    opts: &DecodeOptions,
    first_row: i64,
    sink: &mut dyn SampleSink,
    rejects: &mut dyn RejectHandler,
    subresults: &mut SubResultTracker,
) -> Result<FileReport, IngestError> {
    let head = reader.fill_buf().map_err(|e| IngestError::io(file, e))?;
    let first_line = first_line(head);
    let layout = detect_layout(file, first_line, opts)?;
    let ends_with_newline = len.map(|_| ends_with_line_break(file));
    rows::decode_rows(
        file,
        reader,
        &layout,
        len.zip(ends_with_newline.flatten()),
        opts,
        first_row,
        sink,
        rejects,
        subresults,
    )
}

/// The first physical line of `head` (without BOM and line end).
fn first_line(head: &[u8]) -> &[u8] {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let end = head
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(head.len());
    &head[..end]
}

/// Whether the file at `file` ends with CR or LF (`None` if it cannot be read again).
fn ends_with_line_break(file: &str) -> Option<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(file).ok()?;
    f.seek(SeekFrom::End(-1)).ok()?;
    let mut last = [0u8; 1];
    f.read_exact(&mut last).ok()?;
    Some(last[0] == b'\n' || last[0] == b'\r')
}

#[cfg(test)]
mod tests {
    use arrow::array::{AsArray, RecordBatch};
    use arrow::datatypes::Int64Type;
    use loadlake_schema::col;

    use super::{decode_csv, parse_i64};
    use crate::options::DecodeOptions;
    use crate::subresults::SubResultTracker;
    use crate::test_support::Kept;

    /// Found by the jtl_csv fuzz target (fuzz/regressions/jtl_csv/): a rejected row used to stay
    /// an open sub-result parent under the row number the next good row then took, so `Q-0`
    /// below became its own parent.
    #[test]
    fn a_rejected_row_is_nobodys_parent() {
        let csv = "timeStamp,elapsed,label,responseCode,threadName,success\n\
                   1000,10,P,200,t1,true\n\
                   1001,xx,Q,200,t1,true\n\
                   1002,10,Q-0,200,t1,true\n\
                   1003,10,Q-0-0,200,t1,true\n";
        let mut batches: Vec<RecordBatch> = Vec::new();
        let mut rejects = Kept(Vec::new());
        let opts = DecodeOptions::default();
        let report = decode_csv(
            "f.csv",
            csv.as_bytes(),
            None,
            &opts,
            0,
            &mut batches,
            &mut rejects,
            &mut SubResultTracker::default(),
        )
        .unwrap();
        assert_eq!(report.samples, 3);
        assert_eq!(rejects.0.len(), 1);
        assert_eq!(
            (rejects.0[0].line, rejects.0[0].field.as_deref()),
            (3, Some("elapsed"))
        );
        let batch = arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
        let parents = batch
            .column_by_name(col::PARENT_ROW)
            .unwrap()
            .as_primitive::<Int64Type>();
        // P (row 0) and Q-0 (row 1) have no parent; Q-0-0 (row 2) is Q-0's sub-result.
        let got: Vec<Option<i64>> = parents.iter().collect();
        assert_eq!(got, [None, None, Some(1)]);
    }

    /// A file read in two chunks (`import --follow`), the second starting with sub-results
    /// of the first's last row: decoded with one tracker, they are linked to it by row number
    /// as in the whole file; decoded each on its own, they would be samples.
    #[test]
    fn a_chunk_links_sub_results_to_parents_of_the_chunk_before() {
        let header = "timeStamp,elapsed,label,responseCode,threadName,success\n";
        let first = format!("{header}1000,10,Home,200,t1,true\n1001,10,P,200,t1,true\n");
        let second = format!("{header}1002,10,P-0,200,t1,true\n1003,10,P-1,200,t1,true\n");
        let opts = DecodeOptions::default();
        let mut tracker = SubResultTracker::default();
        let mut parents = Vec::new();
        let mut first_row = 0;
        for chunk in [&first, &second] {
            let mut batches: Vec<RecordBatch> = Vec::new();
            let mut rejects = Kept(Vec::new());
            let report = decode_csv(
                "f.csv",
                chunk.as_bytes(),
                None,
                &opts,
                first_row,
                &mut batches,
                &mut rejects,
                &mut tracker,
            )
            .unwrap();
            first_row += report.samples as i64;
            for batch in &batches {
                parents.extend(crate::test_support::ints(batch, col::PARENT_ROW));
            }
        }
        // Home (row 0) and P (row 1) have no parent; P-0 and P-1 (rows 2, 3) are P's.
        assert_eq!(parents, [None, None, Some(1), Some(1)]);
    }

    /// Records the plain-line path must hand to the general one, in one file (LF line ends;
    /// the expected values are worked out by hand from the bytes).
    #[test]
    fn quoted_short_long_and_non_utf8_rows_decode_as_written() {
        use crate::test_support::{decode_bytes, strs};
        let csv: &[u8] = b"\xEF\xBB\xBFtimeStamp,elapsed,label,responseCode,responseMessage,threadName,success\n\
            1000,10,home,200,OK,T 1-1,true\n\
            1001,11,\"a,b\",200,\"multi\nline\",T 1-1,true\n\
            1002,12,\"say \"\"hi\"\"\",200,OK,T 1-1,true\n\
            1003,13,short,200\n\
            1004,14,long,200,OK,T 1-1,true,extra\n\
            1005,15,bad\xff,200,OK,T 1-1,true\n\
            \n\
            1006,16,last,200,OK,T 1-1,true";
        let (batch, rejects, report) =
            decode_bytes("f.csv", csv, &DecodeOptions::default()).unwrap();
        let batch = batch.unwrap();
        let labels: Vec<String> = strs(&batch, col::LABEL).into_iter().flatten().collect();
        assert_eq!(labels, ["home", "a,b", "say \"hi\"", "long", "last"]);
        let messages = strs(&batch, col::RESPONSE_MESSAGE);
        assert_eq!(messages[1].as_deref(), Some("multi\nline"));
        assert_eq!((report.samples, report.rejected), (5, 2));
        assert_eq!(
            crate::test_support::where_and_why(&rejects),
            [
                (6, None, "expected 7 fields, found 4"),
                (8, Some("label"), "invalid UTF-8 at byte 3"),
            ]
        );
        // The raw excerpt is the fields back to back (as before).
        assert_eq!(rejects[0].raw.as_deref(), Some("100313short200"));
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.starts_with("1 rows had more fields"))
        );
    }

    /// A text field longer than `max_field_bytes` is rejected for its length, before (and
    /// whatever) its UTF-8; one within the limit for bad UTF-8; one exactly at it is kept.
    #[test]
    fn text_fields_are_checked_for_length_then_utf8() {
        use crate::test_support::{decode_bytes, strs};
        let csv: &[u8] = b"timeStamp,label,responseCode,success\n\
            1000,abcde,200,true\n\
            1001,abcdef,200,true\n\
            1002,ab\xff,200,true\n\
            1003,abcd\xffe,200,true\n\
            1004,ok,200,true\n";
        let opts = DecodeOptions {
            max_field_bytes: 5,
            ..DecodeOptions::default()
        };
        let (batch, rejects, report) = decode_bytes("f.csv", csv, &opts).unwrap();
        let labels: Vec<String> = strs(&batch.unwrap(), col::LABEL)
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(labels, ["abcde", "ok"]);
        assert_eq!((report.samples, report.rejected), (2, 3));
        assert_eq!(
            crate::test_support::where_and_why(&rejects),
            [
                (
                    3,
                    Some("label"),
                    "field is 6 bytes, longer than the 5 byte limit"
                ),
                (4, Some("label"), "invalid UTF-8 at byte 2"),
                (
                    5,
                    Some("label"),
                    "field is 6 bytes, longer than the 5 byte limit"
                ),
            ]
        );
    }

    /// The same rows with CRLF line ends (JMeter on Windows): the same samples.
    #[test]
    fn crlf_rows_decode_like_lf_rows() {
        use crate::test_support::{decode_bytes, strs};
        let lf = "timeStamp,elapsed,label,responseCode,threadName,success\n\
                  1000,10,P,200,t1,true\n\
                  1001,11,\"Q\nR\",200,t1,false\n\
                  1002,12,S,200,t1,true\n";
        let crlf = lf.replace('\n', "\r\n");
        let opts = DecodeOptions::default();
        let (a, _, ra) = decode_bytes("lf.csv", lf.as_bytes(), &opts).unwrap();
        let (b, _, rb) = decode_bytes("crlf.csv", crlf.as_bytes(), &opts).unwrap();
        assert_eq!((ra.samples, rb.samples), (3, 3));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(strs(&b, col::LABEL)[0].as_deref(), Some("P"));
        assert_eq!(strs(&b, col::LABEL)[1].as_deref(), Some("Q\r\nR"));
        assert_eq!(strs(&a, col::LABEL)[2], strs(&b, col::LABEL)[2]);
        assert_eq!(strs(&a, col::SUCCESS), strs(&b, col::SUCCESS));
    }

    #[test]
    fn parses_only_plain_integers() {
        assert_eq!(parse_i64(b"1551783627191"), Some(1_551_783_627_191));
        assert_eq!(parse_i64(b"-5"), Some(-5));
        for bad in [
            &b""[..],
            b"-",
            b"1.5",
            b" 1",
            b"12a",
            b"9999999999999999999",
        ] {
            assert_eq!(parse_i64(bad), None);
        }
    }
}
