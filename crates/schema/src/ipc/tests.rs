//! Real IPC streams written by arrow's own writer (plain, LZ4, zstd), then crafted: a patched
//! length prefix, a decompression bomb, an LZ4 frame holding more than its prefix says.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::ipc::CompressionType;
use arrow::ipc::writer::{IpcWriteOptions, StreamWriter};

use super::*;
use crate::sample::{SampleBatchBuilder, SampleRecord, col};

/// Counts the bytes each thread allocates, so a test can say what decoding cost.
struct Counting;

thread_local! {
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    let _ = ALLOCATED.try_with(|a| a.set(a.get() + bytes as u64));
}

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size.saturating_sub(layout.size()));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes this thread allocated while running `f`.
fn allocated_by<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = ALLOCATED.with(Cell::get);
    let out = f();
    (out, ALLOCATED.with(Cell::get) - before)
}

/// `n` samples from row 100: ts 1 795 000 000 000 + i s, elapsed 10·(i+1).
fn samples(n: i64) -> RecordBatch {
    let mut b = SampleBatchBuilder::new(100);
    for i in 0..n {
        let r = SampleRecord {
            ts_ms: Some(1_795_000_000_000 + i * 1000),
            elapsed_ms: Some(10 * (i + 1)),
            label: "GET /",
            thread: Some("T 1-1"),
            response_code: Some("200"),
            success: true,
            ..Default::default()
        };
        b.push(&r).unwrap();
    }
    b.finish().unwrap()
}

/// `batch` with its `label` column replaced.
fn with_labels(batch: &RecordBatch, labels: StringArray) -> RecordBatch {
    let i = batch.schema().index_of(col::LABEL).unwrap();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns[i] = Arc::new(labels);
    RecordBatch::try_new(batch.schema(), columns).unwrap()
}

fn ipc(batches: &[RecordBatch], compression: Option<CompressionType>) -> Vec<u8> {
    let options = IpcWriteOptions::default()
        .try_with_compression(compression)
        .unwrap();
    let mut w = StreamWriter::try_new_with_options(Vec::new(), &sample_schema(), options).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
    w.into_inner().unwrap()
}

/// The first place in `bytes` where `prefix` (an uncompressed-length prefix, little-endian)
/// is followed by `magic` (the start of the compressed data).
fn find_prefix(bytes: &[u8], prefix: u64, magic: &[u8]) -> usize {
    let mut needle = prefix.to_le_bytes().to_vec();
    needle.extend_from_slice(magic);
    bytes
        .windows(needle.len())
        .position(|w| w == needle.as_slice())
        .unwrap_or_else(|| panic!("no buffer of {prefix} bytes"))
}

const LZ4_MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

#[test]
fn plain_lz4_and_zstd_streams_decode_to_what_was_written() {
    let a = samples(100);
    let b = samples(7);
    for compression in [
        None,
        Some(CompressionType::LZ4_FRAME),
        Some(CompressionType::ZSTD),
    ] {
        let bytes = ipc(&[a.clone(), b.clone()], compression);
        let summary = inspect_sample_ipc(&bytes, &IpcLimits::default()).unwrap();
        assert_eq!((summary.batches, summary.rows), (2, 107), "{compression:?}");
        let decoded = decode_sample_ipc(&bytes, &IpcLimits::default()).unwrap();
        assert_eq!(decoded, vec![a.clone(), b.clone()], "{compression:?}");
    }
}

#[test]
fn an_lz4_prefix_of_2_pow_45_is_refused_before_anything_is_allocated() {
    // 100 rows: each Int64 column's values are 800 bytes (`row` is the first).
    let mut bytes = ipc(&[samples(100)], Some(CompressionType::LZ4_FRAME));
    let at = find_prefix(&bytes, 800, &LZ4_MAGIC);
    bytes[at..at + 8].copy_from_slice(&(1u64 << 45).to_le_bytes());
    let (result, cost) = allocated_by(|| decode_sample_ipc(&bytes, &IpcLimits::default()));
    match result {
        Err(IpcError::TooLarge { decoded, limit }) => {
            assert!(decoded >= 1 << 45, "{decoded}");
            assert_eq!(limit, 64 << 20);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(cost < 1 << 20, "decoding allocated {cost} bytes");
    assert!(
        IpcError::TooLarge {
            decoded: 1,
            limit: 0
        }
        .is_limit(),
        "a size refusal is a limit"
    );
}

#[test]
fn a_zstd_bomb_of_200_mb_is_refused_without_allocating_it() {
    // 200 labels of 1 MB of 'x' each: 200 MB of string values that zstd squeezes to a few KB.
    let bomb = {
        let label = "x".repeat(1 << 20);
        let labels = StringArray::from_iter_values(std::iter::repeat_n(label.as_str(), 200));
        ipc(
            &[with_labels(&samples(200), labels)],
            Some(CompressionType::ZSTD),
        )
    };
    assert!(bomb.len() < 1 << 20, "the bomb is {} bytes", bomb.len());
    let at = find_prefix(&bomb, 200 << 20, &ZSTD_MAGIC);
    assert!(at > 0);
    let (result, cost) = allocated_by(|| decode_sample_ipc(&bomb, &IpcLimits::default()));
    match result {
        Err(IpcError::TooLarge { decoded, limit }) => {
            assert!(decoded >= 200 << 20, "{decoded}");
            assert_eq!(limit, 64 << 20);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // The bomb itself is copied at most once; nothing near its decoded size is allocated.
    assert!(cost < 4 << 20, "decoding allocated {cost} bytes");
    // Under a limit above its size the same bytes decode to what was written.
    let roomy = IpcLimits {
        max_decoded_bytes: 256 << 20,
        ..IpcLimits::default()
    };
    let decoded = decode_sample_ipc(&bomb, &roomy).unwrap();
    let labels = decoded[0]
        .column_by_name(col::LABEL)
        .unwrap()
        .as_string::<i32>();
    assert_eq!((labels.len(), labels.value(199).len()), (200, 1 << 20));
}

#[test]
fn an_lz4_frame_holding_more_than_its_prefix_is_refused_without_inflating_it() {
    // 40 labels of 1 MB: 40 MB of values, under the limit as written; the prefix then says 1 byte.
    let mut bytes = {
        let label = "y".repeat(1 << 20);
        let labels = StringArray::from_iter_values(std::iter::repeat_n(label.as_str(), 40));
        ipc(
            &[with_labels(&samples(40), labels)],
            Some(CompressionType::LZ4_FRAME),
        )
    };
    let at = find_prefix(&bytes, 40 << 20, &LZ4_MAGIC);
    bytes[at..at + 8].copy_from_slice(&1u64.to_le_bytes());
    let (result, cost) = allocated_by(|| decode_sample_ipc(&bytes, &IpcLimits::default()));
    match result {
        Err(IpcError::Malformed(why)) => assert!(why.contains("more than the 1 bytes"), "{why}"),
        other => panic!("expected Malformed, got {other:?}"),
    }
    // The LZ4 frame decoder's own buffers (two blocks of at most 4 MiB) are all it takes.
    assert!(cost < 12 << 20, "decoding allocated {cost} bytes");
}

#[test]
fn rows_over_the_limit_are_refused() {
    let bytes = ipc(&[samples(6), samples(5)], None);
    let limits = IpcLimits {
        max_rows: 10,
        ..IpcLimits::default()
    };
    match decode_sample_ipc(&bytes, &limits) {
        Err(IpcError::TooManyRows { rows, limit }) => assert_eq!((rows, limit), (11, 10)),
        other => panic!("expected TooManyRows, got {other:?}"),
    }
    assert_eq!(
        decode_sample_ipc(
            &bytes,
            &IpcLimits {
                max_rows: 11,
                ..limits
            }
        )
        .unwrap()
        .len(),
        2
    );
}

#[test]
fn an_out_of_range_row_is_named() {
    let mut b = SampleBatchBuilder::new(0);
    for ts in [1_000, 2_000, i64::MAX] {
        b.push(&SampleRecord {
            ts_ms: Some(ts),
            label: "a",
            success: true,
            ..Default::default()
        })
        .unwrap();
    }
    let bytes = ipc(&[samples(1), b.finish().unwrap()], None);
    match decode_sample_ipc(&bytes, &IpcLimits::default()) {
        Err(IpcError::OutOfRange { batch, source }) => {
            assert_eq!(
                (batch, source.index, source.row, source.field),
                (1, 2, 2, "ts")
            );
            assert_eq!(source.source.value, i64::MAX);
        }
        other => panic!("expected OutOfRange, got {other:?}"),
    }
}

#[test]
fn other_schemas_garbage_and_cut_streams_are_errors() {
    use arrow::datatypes::Schema;
    // One more column than the sample schema.
    let mut fields: Vec<Field> = sample_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new("extra", DataType::Int64, true));
    let wider = Arc::new(Schema::new(fields));
    let mut w = StreamWriter::try_new(Vec::new(), &wider).unwrap();
    w.finish().unwrap();
    let bytes = w.into_inner().unwrap();
    assert!(matches!(
        decode_sample_ipc(&bytes, &IpcLimits::default()),
        Err(IpcError::NotSampleSchema(why)) if why.contains("32 columns")
    ));
    // `elapsed_ms` as Int32.
    let mut fields: Vec<Field> = sample_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields[2] = Field::new(col::ELAPSED_MS, DataType::Int32, true);
    let mut w = StreamWriter::try_new(Vec::new(), &Schema::new(fields)).unwrap();
    w.finish().unwrap();
    assert!(matches!(
        decode_sample_ipc(&w.into_inner().unwrap(), &IpcLimits::default()),
        Err(IpcError::NotSampleSchema(why)) if why.contains("column 2")
    ));
    // Every cut of a real stream is an error or fewer batches, never a panic; only the
    // 8-byte end-of-stream marker may go missing unnoticed.
    let good = ipc(&[samples(3), samples(2)], Some(CompressionType::LZ4_FRAME));
    let end_of_batches = good.len() - 8;
    assert_eq!(good[end_of_batches..], [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    for cut in 0..good.len() {
        if let Ok(batches) = decode_sample_ipc(&good[..cut], &IpcLimits::default()) {
            assert_eq!(batches.len() == 2, cut == end_of_batches, "cut at {cut}");
        }
    }
    for junk in [&b"not arrow at all"[..], &[0xff; 64][..], &[][..]] {
        assert!(matches!(
            decode_sample_ipc(junk, &IpcLimits::default()),
            Err(IpcError::Malformed(_))
        ));
    }
}

/// The input the `ipc` fuzz target found (fuzz/regressions/ipc/): the LZ4 seed of one 3-row
/// batch with a field node claiming 126 values, which made arrow-ipc panic building a validity
/// bitmap of 126 bits from 1 byte.
#[test]
fn a_field_node_longer_than_its_buffers_is_refused_not_a_panic() {
    let found = include_bytes!(
        "../../../../fuzz/regressions/ipc/crash-batch-length-126-over-3-rows-lz4.arrows"
    );
    let e = decode_sample_ipc(found, &IpcLimits::default()).unwrap_err();
    assert!(matches!(e, IpcError::Malformed(_)), "{e}");
    assert!(e.to_string().contains("126 values"), "{e}");
    // Every 8-byte field that says 3 (the rows), made 126 in turn: an error or a batch, never
    // a panic; and the field nodes among them are refused by the layout check.
    for compression in [
        None,
        Some(CompressionType::LZ4_FRAME),
        Some(CompressionType::ZSTD),
    ] {
        let good = ipc(&[samples(3)], compression);
        let mut refused_by_layout = 0;
        for at in 0..good.len() - 8 {
            if good[at..at + 8] != 3i64.to_le_bytes() {
                continue;
            }
            let mut bad = good.clone();
            bad[at..at + 8].copy_from_slice(&126i64.to_le_bytes());
            if let Err(IpcError::Malformed(why)) = decode_sample_ipc(&bad, &IpcLimits::default())
                && (why.contains("values where 126") || why.contains("126 values"))
            {
                refused_by_layout += 1;
            }
        }
        assert!(
            refused_by_layout > 0,
            "{compression:?}: no field node was patched"
        );
    }
}

/// The second input the `ipc` fuzz target found: an LZ4 stream whose offsets buffer does not
/// hold whole 4-byte offsets, which made arrow assert while viewing it as `i32`s.
#[test]
fn an_offsets_buffer_of_partial_values_is_refused_not_a_panic() {
    let found = include_bytes!(
        "../../../../fuzz/regressions/ipc/crash-offsets-buffer-not-viewable-as-i32-lz4.arrows"
    );
    let e = decode_sample_ipc(found, &IpcLimits::default()).unwrap_err();
    assert!(matches!(e, IpcError::Malformed(_)), "{e}");
}

#[test]
fn a_sender_of_the_schema_before_the_microsecond_columns_is_read_with_them_null() {
    let mut b = SampleBatchBuilder::new(0);
    for (i, label) in ["a", "b", "c"].into_iter().enumerate() {
        b.push(&SampleRecord {
            ts_ms: Some(1_795_000_000_000 + i as i64),
            elapsed_ms: Some(7 + i as i64),
            elapsed_us: Some(7_250 + i as i64),
            label,
            success: true,
            ..Default::default()
        })
        .unwrap();
    }
    let full = b.finish().unwrap();
    // What an agent of the previous version sends: the columns before `elapsed_us`.
    let older = full.schema().index_of(col::ELAPSED_US).unwrap();
    assert_eq!(older, full.num_columns() - 3);
    let old_batch = full.project(&(0..older).collect::<Vec<_>>()).unwrap();
    let mut w = StreamWriter::try_new(Vec::new(), &old_batch.schema()).unwrap();
    w.write(&old_batch).unwrap();
    w.finish().unwrap();
    let decoded = decode_sample_ipc(&w.into_inner().unwrap(), &IpcLimits::default()).unwrap();
    assert_eq!(decoded.len(), 1);
    let got = &decoded[0];
    assert_eq!(got.schema(), sample_schema());
    for name in [col::ELAPSED_US, col::LATENCY_US, col::CONNECT_US] {
        assert_eq!(got.column_by_name(name).unwrap().null_count(), 3, "{name}");
    }
    for i in 0..older {
        assert_eq!(got.column(i), full.column(i), "column {i}");
    }
    // The full schema keeps its µs.
    let mut w = StreamWriter::try_new(Vec::new(), &full.schema()).unwrap();
    w.write(&full).unwrap();
    w.finish().unwrap();
    let decoded = decode_sample_ipc(&w.into_inner().unwrap(), &IpcLimits::default()).unwrap();
    assert_eq!(decoded[0], full);
}
