//! Encoding one part as Parquet: its rows in (ts, row) order ([`crate::part_order`]), its
//! columns encoded on several threads at once.
//!
//! The bytes are those arrow's `ArrowWriter` writes when it is handed the part's batches (rows
//! already in order) or its rows gathered into order [`SORT_SLICE_ROWS`] at a time: the same
//! writer properties, the same arrays handed to each column's writer with the same boundaries,
//! a new row group every `max_row_group_row_count` rows (the tests hold it to that). Only the
//! work is spread: each thread takes the next column not yet taken — the largest first — and
//! gathers and encodes it for the whole row group; the column chunks are then appended in
//! schema order. A part that comes last (a run's commit, a 200 000-request k6 file) is no
//! longer encoded on one core while the other idles, and a writer behind its decoder (a CSV
//! import) lends it the other core.

use std::borrow::Cow;
use std::io::Write;
use std::num::NonZeroUsize;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use arrow::array::{Array, ArrayRef, RecordBatch};
use arrow::datatypes::{FieldRef, SchemaRef};
use loadlake_schema::{col, sample_schema};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowColumnWriter, compute_leaves};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::{ColumnPath, SchemaDescriptor};

use crate::error::StoreError;
use crate::part_gather::{GatherSource, starts};
use crate::part_order::sorted_order;
use crate::writer::WriterOptions;

/// Rows gathered at a time (and handed to the column writers as one array) when a part is not
/// in order.
const SORT_SLICE_ROWS: usize = 32 * 1024;

/// Threads that encode one part's columns, at most.
const MAX_ENCODE_THREADS: usize = 4;

/// Row groups smaller than this are encoded on the calling thread alone (a gRPC stream's
/// acknowledged batch, a live run's part of one second): a thread would cost more than it
/// saves.
const MIN_ROWS_TO_SPREAD: usize = 2048;

/// The Parquet settings of every part.
pub(crate) fn writer_properties(options: &WriterOptions) -> WriterProperties {
    let level = ZstdLevel::try_new(options.zstd_level).unwrap_or_default();
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(options.part_rows));
    // Sorted timestamps and near-sequential row numbers: delta encoding, no dictionary.
    for c in [col::TS, col::ROW] {
        b = b
            .set_column_dictionary_enabled(ColumnPath::from(c), false)
            .set_column_encoding(ColumnPath::from(c), Encoding::DELTA_BINARY_PACKED);
    }
    // No min/max where they prune nothing and cost the most: the keys and values of `vars`
    // (several a row, the biggest columns of a k6 or Gatling part: no query prunes pages on a
    // map's entries) and `url` (the longest strings of a JMeter part, sharing their start, so
    // each comparison reads far into them; every page of a part sorted by time holds nearly
    // every URL of the test, so its min and max are those of the test).
    let vars_leaf =
        |leaf: &str| ColumnPath::new(vec![col::VARS.into(), "entries".into(), leaf.into()]);
    for path in [
        vars_leaf("key"),
        vars_leaf("value"),
        ColumnPath::from(col::URL),
    ] {
        b = b.set_column_statistics_enabled(path, EnabledStatistics::None);
    }
    b.build()
}

/// Writes `batches` sorted by (ts, row) as one Parquet file into `out` (a file, or a buffer
/// for object storage); `path` names it in errors.
pub(crate) fn encode_sorted_part<W: Write + Send>(
    out: W,
    path: &Path,
    batches: Vec<RecordBatch>,
    options: &WriterOptions,
) -> Result<W, StoreError> {
    let parquet_err = |source| StoreError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let props = writer_properties(options);
    let group_rows = props.max_row_group_row_count().unwrap_or(usize::MAX).max(1);
    let schema = sample_schema();
    // Made through `ArrowWriter`, so that the file's metadata (the Arrow schema) is its.
    let (mut file, factory) = ArrowWriter::try_new(out, schema.clone(), Some(props))
        .and_then(ArrowWriter::into_serialized_writer)
        .map_err(parquet_err)?;
    let order = sorted_order(&batches)?;
    let rows = PartRows::new(&batches, order.as_deref(), group_rows);
    let columns = Columns::new(&schema, file.schema_descr(), &batches)?;
    let total = rows.len();
    for (index, start) in (0..total).step_by(group_rows).enumerate() {
        let group = start..total.min(start + group_rows);
        let writers = factory.create_column_writers(index).map_err(parquet_err)?;
        let chunks = columns
            .encode(&rows, &rows.pieces(group), writers)
            .map_err(parquet_err)?;
        let mut row_group = file.next_row_group().map_err(parquet_err)?;
        for chunk in chunks {
            chunk
                .append_to_row_group(&mut row_group)
                .map_err(parquet_err)?;
        }
        row_group.close().map_err(parquet_err)?;
    }
    file.into_inner().map_err(parquet_err)
}

/// A part's rows in the order they are written, and where the arrays handed to the column
/// writers begin and end.
struct PartRows<'a> {
    batches: &'a [RecordBatch],
    /// The position (counted through the batches) of each row in (ts, row) order; `None`: the
    /// batches are in order.
    order: Option<&'a [u32]>,
    /// The row (in written order) each batch starts at, and the rows' count last.
    starts: Vec<usize>,
    /// Each column's [`GatherSource`] once made, when the part has several row groups (each
    /// gathers from the whole part); `None`: a column's is made for its one group and dropped
    /// after it, so that the part is not held twice.
    kept: Option<Vec<OnceLock<GatherSource>>>,
}

impl<'a> PartRows<'a> {
    /// The rows of `batches` in `order`, written in row groups of `group_rows`.
    fn new(batches: &'a [RecordBatch], order: Option<&'a [u32]>, group_rows: usize) -> Self {
        let starts = starts(batches.iter().map(RecordBatch::num_rows));
        let several_groups = starts.last().is_some_and(|&rows| rows > group_rows);
        let columns = batches.first().map_or(0, RecordBatch::num_columns);
        PartRows {
            batches,
            order,
            starts,
            kept: several_groups.then(|| (0..columns).map(|_| OnceLock::new()).collect()),
        }
    }

    fn len(&self) -> usize {
        self.starts.last().copied().unwrap_or(0)
    }

    /// The arrays `group`'s rows are handed over in: cut where a batch (in order) or a slice of
    /// [`SORT_SLICE_ROWS`] (gathered) ends, and at the group's ends — where `ArrowWriter` cuts
    /// what it is given.
    fn pieces(&self, group: Range<usize>) -> Vec<Range<usize>> {
        let cut_after = |row: usize| match self.order {
            Some(_) => (row / SORT_SLICE_ROWS + 1) * SORT_SLICE_ROWS,
            None => {
                // The start of the batch after the one holding `row`.
                let next = self.starts.partition_point(|&s| s <= row);
                self.starts.get(next).copied().unwrap_or(usize::MAX)
            }
        };
        let mut pieces = Vec::new();
        let mut at = group.start;
        while at < group.end {
            let end = cut_after(at).min(group.end);
            pieces.push(at..end);
            at = end;
        }
        pieces
    }

    /// Column `c` of the batches, ready to be cut into pieces ([`PartRows::column`]).
    fn source(&self, c: usize) -> Result<Source<'_>, ParquetError> {
        let Some(order) = self.order else {
            return Ok(Source::InOrder(c));
        };
        let kept = self.kept.as_ref().and_then(|kept| kept.get(c));
        if let Some(from) = kept.and_then(OnceLock::get) {
            return Ok(Source::Gathered {
                from: Cow::Borrowed(from),
                order,
            });
        }
        let sources: Vec<&ArrayRef> = self.batches.iter().map(|b| b.column(c)).collect();
        let made = GatherSource::new(&sources)?;
        let from = match kept {
            // Only the thread that encodes column `c` makes it: nobody else sets it.
            Some(kept) => Cow::Borrowed(kept.get_or_init(|| made)),
            None => Cow::Owned(made),
        };
        Ok(Source::Gathered { from, order })
    }

    /// The rows `piece` (one of [`PartRows::pieces`]) of `source`.
    fn column(&self, source: &Source<'_>, piece: Range<usize>) -> Result<ArrayRef, ParquetError> {
        match source {
            Source::Gathered { from, order } => Ok(from.gather(&order[piece])?),
            &Source::InOrder(c) => {
                let b = self.starts.partition_point(|&s| s <= piece.start) - 1;
                let batch = &self.batches[b];
                Ok(batch
                    .column(c)
                    .slice(piece.start - self.starts[b], piece.len()))
            }
        }
    }
}

/// One column of a part's rows, as [`PartRows::source`] prepares it.
enum Source<'a> {
    /// The column with this number of batches that are in order: a piece is a slice of one.
    InOrder(usize),
    /// The batches' column (made for this group, or kept for all), and the positions its rows
    /// are gathered from.
    Gathered {
        from: Cow<'a, GatherSource>,
        order: &'a [u32],
    },
}

/// A column's chunks (one a leaf), or why it could not be encoded.
type Encoded = Result<Vec<ArrowColumnChunk>, ParquetError>;

/// The schema's columns and the Parquet leaves each is written as (the `vars` map as two).
struct Columns {
    fields: Vec<FieldRef>,
    /// For each leaf, in the file's order, the column it belongs to.
    leaf_column: Vec<usize>,
    /// The columns, the largest (in the batches' memory) first: the order they are taken in.
    by_size: Vec<usize>,
}

impl Columns {
    fn new(
        schema: &SchemaRef,
        parquet: &SchemaDescriptor,
        batches: &[RecordBatch],
    ) -> Result<Self, StoreError> {
        let leaf_column = parquet
            .columns()
            .iter()
            .map(|leaf| {
                let name = leaf.path().parts().first().map(String::as_str);
                name.and_then(|n| schema.index_of(n).ok()).ok_or_else(|| {
                    arrow::error::ArrowError::SchemaError(format!(
                        "Parquet column {} is no column of the schema",
                        leaf.path()
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let size = |c: usize| -> usize {
            batches
                .iter()
                .map(|b| b.column(c).get_array_memory_size())
                .sum()
        };
        let mut by_size: Vec<usize> = (0..schema.fields().len()).collect();
        by_size.sort_by_key(|&c| std::cmp::Reverse(size(c)));
        Ok(Columns {
            fields: schema.fields().iter().cloned().collect(),
            leaf_column,
            by_size,
        })
    }

    /// Encodes the rows `pieces` of every column with `writers` (one a leaf, in the file's
    /// order) on up to [`MAX_ENCODE_THREADS`] threads: the row group's column chunks, in the
    /// file's order.
    fn encode(
        &self,
        rows: &PartRows<'_>,
        pieces: &[Range<usize>],
        writers: Vec<ArrowColumnWriter>,
    ) -> Result<Vec<ArrowColumnChunk>, ParquetError> {
        if writers.len() != self.leaf_column.len() {
            return Err(ParquetError::General(format!(
                "{} column writers for {} Parquet columns",
                writers.len(),
                self.leaf_column.len()
            )));
        }
        // Each column's writers, taken by the thread that encodes it.
        let mut by_column: Vec<Vec<ArrowColumnWriter>> =
            self.fields.iter().map(|_| Vec::new()).collect();
        for (writer, &c) in writers.into_iter().zip(&self.leaf_column) {
            by_column[c].push(writer);
        }
        let todo: Vec<Mutex<Vec<ArrowColumnWriter>>> =
            by_column.into_iter().map(Mutex::new).collect();
        let done: Vec<Mutex<Option<Encoded>>> =
            self.fields.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let work = || {
            while let Some(&c) = self.by_size.get(next.fetch_add(1, Ordering::Relaxed)) {
                let writers = std::mem::take(&mut *lock(&todo[c]));
                let chunks = self.encode_column(rows, pieces, c, writers);
                *lock(&done[c]) = Some(chunks);
            }
        };
        let rows: usize = pieces.iter().map(ExactSizeIterator::len).sum();
        let threads = if rows < MIN_ROWS_TO_SPREAD {
            1
        } else {
            std::thread::available_parallelism()
                .map_or(1, NonZeroUsize::get)
                .min(MAX_ENCODE_THREADS)
                .min(self.fields.len())
        };
        std::thread::scope(|scope| {
            for _ in 1..threads {
                scope.spawn(work);
            }
            work();
        });
        let mut chunks = Vec::with_capacity(self.leaf_column.len());
        for (c, slot) in done.into_iter().enumerate() {
            let encoded = slot.into_inner().unwrap_or_else(|p| p.into_inner());
            match encoded {
                Some(encoded) => chunks.extend(encoded?),
                None => {
                    return Err(ParquetError::General(format!(
                        "column {} was not encoded",
                        self.fields[c].name()
                    )));
                }
            }
        }
        Ok(chunks)
    }

    /// Column `c`'s rows `pieces`, handed to its leaves' `writers` piece by piece.
    fn encode_column(
        &self,
        rows: &PartRows<'_>,
        pieces: &[Range<usize>],
        c: usize,
        mut writers: Vec<ArrowColumnWriter>,
    ) -> Result<Vec<ArrowColumnChunk>, ParquetError> {
        let source = rows.source(c)?;
        for piece in pieces {
            let array = rows.column(&source, piece.clone())?;
            let leaves = compute_leaves(&self.fields[c], &array)?;
            if leaves.len() != writers.len() {
                return Err(ParquetError::General(format!(
                    "column {}: {} leaves for {} writers",
                    self.fields[c].name(),
                    leaves.len(),
                    writers.len()
                )));
            }
            for (leaf, writer) in leaves.iter().zip(&mut writers) {
                writer.write(leaf)?;
            }
        }
        writers.into_iter().map(ArrowColumnWriter::close).collect()
    }
}

/// The value behind `m`, also when a thread panicked holding it (the panic is passed on by
/// the scope; the value is only moved out).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use arrow::compute::interleave_record_batch;
    use loadlake_schema::{SampleBatchBuilder, SampleKind, SampleRecord};

    use super::*;
    use fastrand::Rng;

    /// Batches of `lens` rows with every kind of value a part holds (strings, nulls, the
    /// `vars` map, booleans); timestamps from `ts(row)`, `None` for a null.
    fn batches(
        rng: &mut Rng,
        lens: &[usize],
        ts: impl Fn(&mut Rng, i64) -> Option<i64>,
    ) -> Vec<RecordBatch> {
        let mut builder = SampleBatchBuilder::new(0);
        let labels = [
            "home",
            "search",
            "cart ✓",
            "a label longer than sixteen bytes",
        ];
        let mut out = Vec::new();
        for &n in lens {
            for _ in 0..n {
                let row = builder.next_row();
                let ok = rng.u64(..5) != 0;
                let code = rng.u64(..600).to_string();
                let thread = format!("group 1-{}", rng.u64(..50));
                let var = rng.u64(..9).to_string();
                // Lengths on both sides of the gather's 16, 32 and 64-byte block copies.
                let url = format!(
                    "https://shop.example.com/{}",
                    "p".repeat(rng.u64(..60) as usize)
                );
                let record = SampleRecord {
                    ts_ms: ts(rng, row),
                    elapsed_ms: Some(rng.u64(..5_000) as i64),
                    latency_ms: (rng.u64(..3) != 0).then(|| rng.u64(..900) as i64),
                    label: labels[rng.u64(..4) as usize],
                    thread: (rng.u64(..7) != 0).then_some(thread.as_str()),
                    kind: Some(SampleKind::Sample),
                    response_code: Some(code.as_str()),
                    response_message: (!ok).then_some("Internal Server Error"),
                    success: ok,
                    bytes_received: Some(rng.u64(..100_000) as i64),
                    url: (rng.u64(..4) != 0).then_some(url.as_str()),
                    elapsed_us: (rng.u64(..2) == 0).then(|| rng.u64(..5_000_000) as i64),
                    vars: if rng.u64(..3) == 0 {
                        vec![("k", var.as_str())]
                    } else {
                        Vec::new()
                    },
                    ..SampleRecord::default()
                };
                builder.push(&record).expect("push");
            }
            out.push(builder.finish().expect("batch"));
        }
        out
    }

    /// What arrow's own `ArrowWriter` writes for the part: the batches as they are when in
    /// (ts, row) order (nulls first), else the rows put in that order by a plain sort and
    /// gathered by arrow's `interleave_record_batch`, [`SORT_SLICE_ROWS`] at a time.
    fn reference(batches: &[RecordBatch], options: &WriterOptions) -> Vec<u8> {
        let mut keys = Vec::new();
        for (b, batch) in batches.iter().enumerate() {
            let ts = batch.column_by_name(col::TS).expect("ts");
            let ts = ts
                .as_any()
                .downcast_ref::<arrow::array::TimestampMillisecondArray>()
                .expect("ts type");
            let row = batch.column_by_name(col::ROW).expect("row");
            let row = row
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .expect("row type");
            for i in 0..batch.num_rows() {
                keys.push(((ts.is_valid(i).then(|| ts.value(i)), row.value(i)), (b, i)));
            }
        }
        let in_order = keys.windows(2).all(|w| w[0].0 <= w[1].0);
        keys.sort();
        let order: Vec<(usize, usize)> = keys.into_iter().map(|(_, at)| at).collect();
        let mut w = ArrowWriter::try_new(
            Vec::new(),
            sample_schema(),
            Some(writer_properties(options)),
        )
        .expect("writer");
        if in_order {
            for batch in batches {
                w.write(batch).expect("write");
            }
        } else {
            let refs: Vec<&RecordBatch> = batches.iter().collect();
            for slice in order.chunks(SORT_SLICE_ROWS) {
                w.write(&interleave_record_batch(&refs, slice).expect("interleave"))
                    .expect("write");
            }
        }
        w.into_inner().expect("close")
    }

    fn ours(batches: &[RecordBatch], options: &WriterOptions) -> Vec<u8> {
        encode_sorted_part(
            Vec::new(),
            Path::new("part-0.parquet"),
            batches.to_vec(),
            options,
        )
        .expect("encode")
    }

    /// Our part and arrow's are the same bytes.
    fn assert_same_file(batches: &[RecordBatch], opts: &WriterOptions) {
        assert_eq!(ours(batches, opts), reference(batches, opts), "{opts:?}");
    }

    fn options(part_rows: usize) -> WriterOptions {
        WriterOptions {
            part_rows,
            ..WriterOptions::default()
        }
    }

    /// Completion order, as JMeter writes: starts a little out of order, some unknown.
    fn jittered(rng: &mut Rng, row: i64) -> Option<i64> {
        (rng.u64(..50) != 0).then(|| 1_700_000_000_000 + row * 3 - rng.u64(..2_000) as i64)
    }

    #[test]
    fn a_part_out_of_order_is_the_file_arrow_writes_for_its_rows_sorted() {
        let mut rng = Rng::with_seed(0x9a27);
        // Over a slice of gathered rows, in row groups of 25 000 (cut inside a slice) and of
        // the default size (one).
        let batches = batches(&mut rng, &[16_384, 9_000, 1, 15_000], jittered);
        for opts in [options(25_000), WriterOptions::default()] {
            assert_same_file(&batches, &opts);
        }
    }

    #[test]
    fn a_part_in_order_is_the_file_arrow_writes_for_its_batches() {
        let mut rng = Rng::with_seed(0x51de);
        let batches = batches(&mut rng, &[700, 1, 1_300, 2_000], |_, row| {
            Some(1_000 + row)
        });
        for opts in [options(1_000), options(999), WriterOptions::default()] {
            assert_same_file(&batches, &opts);
        }
    }

    #[test]
    fn random_parts_are_the_files_arrow_writes() {
        let mut rng = Rng::with_seed(0x77e1);
        // Row groups below and above MIN_ROWS_TO_SPREAD: on one thread and on several.
        for _ in 0..15 {
            let lens: Vec<usize> = (0..1 + rng.u64(..4))
                .map(|_| 1 + rng.u64(..1500) as usize)
                .collect();
            let sorted = rng.u64(..3) == 0;
            let batches = batches(&mut rng, &lens, |rng, row| {
                if sorted {
                    Some(row)
                } else {
                    jittered(rng, row)
                }
            });
            let opts = options(1 + rng.u64(..3000) as usize);
            assert_eq!(
                ours(&batches, &opts),
                reference(&batches, &opts),
                "{lens:?} {opts:?}"
            );
        }
    }

    #[test]
    fn no_rows_is_a_file_without_row_groups() {
        let opts = WriterOptions::default();
        assert_eq!(ours(&[], &opts), reference(&[], &opts));
        let bytes = bytes::Bytes::from(ours(&[], &opts));
        let reader = parquet::file::reader::SerializedFileReader::new(bytes).expect("read");
        use parquet::file::reader::FileReader;
        assert_eq!(reader.metadata().num_row_groups(), 0);
    }

    #[test]
    fn every_column_but_the_vars_entries_and_url_has_min_max_statistics() {
        let mut rng = Rng::with_seed(7);
        let opts = WriterOptions::default();
        let bytes = bytes::Bytes::from(ours(&batches(&mut rng, &[300], |_, row| Some(row)), &opts));
        let reader = parquet::file::reader::SerializedFileReader::new(bytes).expect("read");
        use parquet::file::reader::FileReader;
        let group = reader.metadata().row_group(0);
        let mut checked = Vec::new();
        for chunk in group.columns() {
            let path = chunk.column_path().string();
            let has_min_max = chunk
                .statistics()
                .is_some_and(|s| s.min_bytes_opt().is_some() && s.max_bytes_opt().is_some());
            match path.as_str() {
                "vars.entries.key" | "vars.entries.value" | "url" => {
                    assert!(chunk.statistics().is_none(), "{path}: statistics written");
                }
                "ts" | "row" | "label" | "response_code" | "elapsed_ms" | "success" => {
                    assert!(has_min_max, "{path}: no min/max");
                }
                _ => continue,
            }
            checked.push(path);
        }
        assert_eq!(checked.len(), 9, "{checked:?}");
    }
}
