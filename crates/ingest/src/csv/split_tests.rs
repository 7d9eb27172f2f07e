//! The record splitter against the `csv` crate (the general path it replaces): the same
//! fields, line numbers and byte positions for every input, whatever the buffer size.

use std::io::BufReader;

use super::{Fields, Records, split_plain};
use fastrand::Rng;

/// One record as (line, end byte, fields).
type Seen = (u64, u64, Vec<Vec<u8>>);

/// What `csv::Reader` (has_headers false, flexible, a buffer of `capacity` bytes) reads from
/// `input`, with a byte-order mark left at the start of the first field removed (as the
/// decoder did after it).
fn by_csv_crate(input: &[u8], delimiter: u8, capacity: usize) -> Vec<Seen> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(capacity)
        .from_reader(input);
    let mut rec = csv::ByteRecord::new();
    let mut out = Vec::new();
    while rdr.read_byte_record(&mut rec).unwrap() {
        let line = rec.position().unwrap().line();
        let mut fields: Vec<Vec<u8>> = rec.iter().map(<[u8]>::to_vec).collect();
        if out.is_empty() && fields[0].starts_with(b"\xEF\xBB\xBF") {
            fields[0].drain(..3);
        }
        out.push((line, rdr.position().byte(), fields));
    }
    out
}

/// What [`Records`] reads from `input` through a buffer of `capacity` bytes.
fn by_records(input: &[u8], delimiter: u8, capacity: usize) -> Vec<Seen> {
    let mut records = Records::new(BufReader::with_capacity(capacity, input), delimiter);
    let mut out = Vec::new();
    while let Some(r) = records.next_record().unwrap() {
        out.push((r.line, r.end_byte, r.fields.to_owned()));
    }
    out
}

fn assert_same(input: &[u8], delimiter: u8) {
    for capacity in [1, 2, 3, 5, 8, 13, 64, 1 << 16] {
        assert_eq!(
            by_records(input, delimiter, capacity),
            by_csv_crate(input, delimiter, capacity),
            "input {:?}, buffer {capacity}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn plain_and_quoted_records_split_as_the_csv_crate_does() {
    let cases: [&[u8]; 16] = [
        b"a,b,c\n1,2,3\n",
        b"a,b,c\n1,2,3",                           // no line break at the end
        b"a,b\r\n1,2\r\n3,4\r\n",                  // CRLF
        b"a,b\r1,2\r3,4",                          // CR only
        b"a,b\n\n\n1,2\n\n3,4\n",                  // blank lines
        b"a,\"b,c\",d\n1,\"x\ny\",3\n4,5,6\n",     // quoted delimiter and line break
        b"a,\"say \"\"hi\"\"\",c\n1,2,3\n",        // doubled quotes
        b"a,b\"c,d\n1,2\n",                        // a quote inside an unquoted field
        b"\xEF\xBB\xBFtimeStamp,label\n1,x\n",     // byte-order mark
        b"\xEF\xBB\xBF\"timeStamp\",label\n1,x\n", // byte-order mark before a quote
        b"\xEF\xBB\xBF\xEF\xBB\xBFa,b\n1,2\n",     // two of them
        b"a,b\n\xEF\xBB\xBF1,2\n",                 // one not at the start: kept
        b"a,b,c\n1,2\n1,2,3,4,5\n,\n",             // short and long rows, empty fields
        b"a,\xff\xfe,c\n1,\"\xc3\",3\n",           // non-UTF-8 bytes
        b"a,\"unterminated\n1,2\n",                // a quote never closed
        b"",
    ];
    for input in cases {
        assert_same(input, b',');
        assert_same(input, b';');
    }
    assert_same(b"a\tb\tc\n1\t\"2\t3\"\t4\n5\t6\t7\n", b'\t');
}

/// Random inputs over the bytes that matter (delimiter, quote, CR, LF, a multi-byte letter,
/// an invalid byte), against the csv crate.
#[test]
fn random_inputs_split_as_the_csv_crate_does() {
    let alphabet: [&[u8]; 9] = [
        b",",
        b"\"",
        b"\r",
        b"\n",
        b"\n",
        b"a",
        b"12",
        "é".as_bytes(),
        b"\xff",
    ];
    let mut rng = Rng::with_seed(0x9E37_79B9_7F4A_7C15);
    let mut next = move || rng.u64(..);
    for _ in 0..3000 {
        let len = (next() % 40) as usize;
        let input: Vec<u8> = (0..len)
            .flat_map(|_| {
                alphabet[(next() % alphabet.len() as u64) as usize]
                    .iter()
                    .copied()
            })
            .collect();
        assert_same(&input, b',');
    }
}

#[test]
fn fields_give_text_bytes_and_the_raw_excerpt() {
    let input = b"l1,\xff,\"q,1\"\nplain,b\n";
    let mut records = Records::new(BufReader::new(&input[..]), b',');
    let r = records.next_record().unwrap().unwrap();
    let f: &Fields = &r.fields;
    assert_eq!(f.len(), 3);
    assert_eq!(f.str(0).unwrap().unwrap(), "l1");
    assert_eq!(f.str(1).unwrap().unwrap_err().valid_up_to(), 0);
    assert_eq!(f.str(2).unwrap().unwrap(), "q,1");
    assert!(f.str(3).is_none());
    assert_eq!(&*f.raw(), b"l1\xffq,1");
    let r = records.next_record().unwrap().unwrap();
    assert_eq!(&*r.fields.raw(), b"plainb");
    assert!(r.fields.equals(&[b"plain".to_vec(), b"b".to_vec()]));
    assert!(!r.fields.equals(&[b"plain".to_vec()]));
    assert!(records.next_record().unwrap().is_none());
}

/// The word-at-a-time split of a plain line against a byte-by-byte one, over lines of every
/// length around the eight-byte words, with the delimiter's neighbours and high-bit twins
/// (the bytes a carry or borrow could confuse with it) around it.
#[test]
fn plain_lines_split_as_byte_by_byte() {
    fn naive(line: &[u8], delimiter: u8) -> Vec<(usize, usize)> {
        let mut bounds = Vec::new();
        let mut start = 0;
        for (i, &b) in line.iter().enumerate() {
            if b == delimiter {
                bounds.push((start, i));
                start = i + 1;
            }
        }
        bounds.push((start, line.len()));
        bounds
    }
    let mut rng = Rng::with_seed(0x2545_F491_4F6C_DD1D);
    let mut bounds = Vec::new();
    for delimiter in [b',', b';', b'\t', b'|', 0x00, 0x7f, 0x80, 0xff] {
        let alphabet = [
            delimiter,
            delimiter,
            delimiter.wrapping_add(1),
            delimiter.wrapping_sub(1),
            delimiter ^ 0x80,
            delimiter ^ 0x01,
            0x00,
            0xff,
            b'a',
        ];
        for _ in 0..2000 {
            let len = (rng.u64(..) % 40) as usize;
            let line: Vec<u8> = (0..len)
                .map(|_| alphabet[(rng.u64(..) % alphabet.len() as u64) as usize])
                .collect();
            split_plain(&line, delimiter, &mut bounds);
            assert_eq!(bounds, naive(&line, delimiter), "line {line:?}");
        }
    }
}
