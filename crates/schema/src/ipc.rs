//! Bounded decoding of Arrow IPC streams of samples: what `StreamSamples` receives (and what the
//! IPC fuzz target feeds). Nothing in a message is trusted before it is checked:
//!
//! 1. the stream's framing is walked over the bytes given (metadata and body lengths must fit in
//!    them; every flatbuffer header is verified);
//! 2. the schema message must be loadlake's sample schema, checked on the flatbuffer itself
//!    (no dictionary, no other type), so nothing is decoded for a schema that would be refused;
//! 3. every record batch header is checked before arrow reads it: buffers inside the body, row
//!    and node counts, and the size the batch decodes to — for a compressed batch the sum of the
//!    8-byte uncompressed-length prefixes of its buffers — against [`IpcLimits`];
//! 4. LZ4 buffers are decompressed once into a small scratch buffer to confirm their prefix (an
//!    LZ4 frame may hold more than its prefix says, and arrow's LZ4 reader grows to whatever it
//!    holds); zstd output is bounded by the prefix in arrow itself;
//! 5. only then arrow decodes the batches, in the canonical schema, and every row's `ts` and
//!    durations are checked by [`crate::range::validate_batch`].
//!
//! Compressed IPC (LZ4 frame and zstd, arrow's `IpcWriteOptions::try_with_compression`) is
//! accepted within these limits.

use std::io::Read;
use std::ops::Range;
use std::sync::Arc;

use arrow::array::{RecordBatch, new_null_array};
use arrow::buffer::Buffer;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::ipc::reader::RecordBatchDecoder;
use arrow::ipc::{
    BodyCompressionMethod, CompressionType, Endianness, MessageHeader, MetadataVersion,
    TimeUnit as FbTimeUnit, Type,
};

use crate::range::{RowRangeError, validate_batch};
use crate::sample::sample_schema;

/// How much one IPC message may hold once decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpcLimits {
    /// Bytes all the message's batches take decoded (decompressed), summed.
    pub max_decoded_bytes: u64,
    /// Rows of all the message's batches, summed.
    pub max_rows: u64,
}

impl IpcLimits {
    /// Default [`IpcLimits::max_decoded_bytes`]: 64 MiB.
    pub const DEFAULT_MAX_DECODED_BYTES: u64 = 64 << 20;
    /// Default [`IpcLimits::max_rows`]: one million.
    pub const DEFAULT_MAX_ROWS: u64 = 1_000_000;
}

impl Default for IpcLimits {
    fn default() -> Self {
        IpcLimits {
            max_decoded_bytes: Self::DEFAULT_MAX_DECODED_BYTES,
            max_rows: Self::DEFAULT_MAX_ROWS,
        }
    }
}

/// What a message holds, from its headers alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IpcSummary {
    /// Record batches.
    pub batches: usize,
    /// Rows of all batches.
    pub rows: u64,
    /// Bytes the batches take decoded, as their headers (and compression prefixes) declare.
    pub decoded_bytes: u64,
}

/// Why a message was refused.
#[derive(Debug, thiserror::Error)]
pub enum IpcError {
    /// The bytes are not a well-formed Arrow IPC stream.
    #[error("not a well-formed Arrow IPC stream: {0}")]
    Malformed(String),
    /// The stream's schema is not the sample schema.
    #[error("the stream is not in loadlake's sample schema (docs/schema.md): {0}")]
    NotSampleSchema(String),
    /// A well-formed stream using something loadlake does not take (dictionaries, codecs…).
    #[error("unsupported Arrow IPC: {0}")]
    Unsupported(String),
    /// The batches would decode to more bytes than allowed.
    #[error(
        "the message decodes to at least {decoded} bytes, over the limit of {limit} bytes per message; send smaller batches"
    )]
    TooLarge {
        /// Bytes declared so far when the limit was passed.
        decoded: u64,
        /// [`IpcLimits::max_decoded_bytes`].
        limit: u64,
    },
    /// The batches hold more rows than allowed.
    #[error(
        "the message holds at least {rows} rows, over the limit of {limit} rows per message; send smaller batches"
    )]
    TooManyRows {
        /// Rows counted so far when the limit was passed.
        rows: u64,
        /// [`IpcLimits::max_rows`].
        limit: u64,
    },
    /// Arrow refused the batch while decoding it.
    #[error("batch {batch}: {source}")]
    Decode {
        /// 0-based index of the batch in the message.
        batch: usize,
        /// Arrow's error.
        source: ArrowError,
    },
    /// A row's value is outside its plausible range.
    #[error("batch {batch}, {source}")]
    OutOfRange {
        /// 0-based index of the batch in the message.
        batch: usize,
        /// The row, its field and value.
        source: RowRangeError,
    },
}

impl IpcError {
    /// True when the message was refused for its size ([`IpcLimits`]), not its content.
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            IpcError::TooLarge { .. } | IpcError::TooManyRows { .. }
        )
    }
}

fn malformed(why: impl Into<String>) -> IpcError {
    IpcError::Malformed(why.into())
}

/// One message of the stream: its verified header and where its body lies in the input.
struct Frame<'a> {
    message: arrow::ipc::Message<'a>,
    body: Range<usize>,
}

/// Marks a message length that follows (IPC format ≥ 0.15).
const CONTINUATION: [u8; 4] = [0xff; 4];

/// Splits `bytes` into messages, as arrow's stream reader would, but only within `bytes`.
fn frames(bytes: &[u8]) -> Result<Vec<Frame<'_>>, IpcError> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let take4 = |pos: usize| -> Result<[u8; 4], IpcError> {
        bytes
            .get(pos..pos + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .ok_or_else(|| malformed(format!("cut off at byte {pos}")))
    };
    while pos < bytes.len() {
        let mut word = take4(pos)?;
        pos += 4;
        if word == CONTINUATION {
            word = take4(pos)?;
            pos += 4;
        }
        let meta_len = i32::from_le_bytes(word);
        if meta_len == 0 {
            break; // end-of-stream marker
        }
        let meta_len = usize::try_from(meta_len)
            .map_err(|_| malformed(format!("negative metadata length {meta_len}")))?;
        let meta = bytes
            .get(pos..pos.saturating_add(meta_len))
            .ok_or_else(|| malformed(format!("metadata of {meta_len} bytes past the end")))?;
        let message = arrow::ipc::root_as_message(meta)
            .map_err(|e| malformed(format!("message header: {e}")))?;
        pos += meta_len;
        let body_len = usize::try_from(message.bodyLength())
            .map_err(|_| malformed(format!("body length {}", message.bodyLength())))?;
        let end = pos
            .checked_add(body_len)
            .filter(|&end| end <= bytes.len())
            .ok_or_else(|| {
                malformed(format!(
                    "a body of {body_len} bytes, {} left",
                    bytes.len() - pos
                ))
            })?;
        out.push(Frame {
            message,
            body: pos..end,
        });
        pos = end;
    }
    Ok(out)
}

/// Does the flatbuffer field `f` describe `want`? Top-level nullability is not compared (a
/// sender may declare a column nullable or not); nested fields must match exactly.
fn check_field(f: arrow::ipc::Field<'_>, want: &Field, top: bool) -> Result<(), String> {
    let name = f.name().unwrap_or_default();
    if name != want.name() {
        return Err(format!("field '{name}' where '{}' belongs", want.name()));
    }
    if f.dictionary().is_some() {
        return Err(format!("'{name}' is dictionary-encoded"));
    }
    if !top && f.nullable() != want.is_nullable() {
        return Err(format!("'{name}' nullable = {}", f.nullable()));
    }
    let children: Vec<arrow::ipc::Field<'_>> =
        f.children().map(|c| c.iter().collect()).unwrap_or_default();
    let wrong = || format!("'{name}' is not {}", want.data_type());
    let wanted_children: Vec<&Field> = match want.data_type() {
        DataType::Int64 | DataType::Int32 => {
            let bits = if *want.data_type() == DataType::Int64 {
                64
            } else {
                32
            };
            let int = f.type_as_int().ok_or_else(wrong)?;
            if int.bitWidth() != bits || !int.is_signed() {
                return Err(wrong());
            }
            vec![]
        }
        DataType::Utf8 if f.type_type() == Type::Utf8 => vec![],
        DataType::Boolean if f.type_type() == Type::Bool => vec![],
        DataType::Timestamp(arrow::datatypes::TimeUnit::Millisecond, tz) => {
            let ts = f.type_as_timestamp().ok_or_else(wrong)?;
            if ts.unit() != FbTimeUnit::MILLISECOND || ts.timezone() != tz.as_deref() {
                return Err(wrong());
            }
            vec![]
        }
        DataType::Map(entries, sorted) => {
            let map = f.type_as_map().ok_or_else(wrong)?;
            if map.keysSorted() != *sorted {
                return Err(wrong());
            }
            vec![entries.as_ref()]
        }
        DataType::Struct(fields) if f.type_type() == Type::Struct_ => {
            fields.iter().map(|f| f.as_ref()).collect()
        }
        _ => return Err(wrong()),
    };
    if children.len() != wanted_children.len() {
        return Err(wrong());
    }
    for (c, w) in children.into_iter().zip(wanted_children) {
        check_field(c, w, false)?;
    }
    Ok(())
}

/// Checks the stream's first message: the sample schema, little-endian.
fn check_schema(frame: &Frame<'_>) -> Result<SchemaRef, IpcError> {
    let not = IpcError::NotSampleSchema;
    let schema = frame
        .message
        .header_as_schema()
        .ok_or_else(|| malformed("the first message is not a schema"))?;
    if schema.endianness() != Endianness::Little {
        return Err(IpcError::Unsupported("big-endian data".into()));
    }
    let canonical = sample_schema();
    let fields: Vec<arrow::ipc::Field<'_>> = schema
        .fields()
        .map(|f| f.iter().collect())
        .unwrap_or_default();
    let older = columns_before_micros();
    let stream_schema = if fields.len() == canonical.fields().len() {
        canonical
    } else if fields.len() == older {
        // A sender of the schema before the µs columns (an agent of an earlier version): its
        // batches get them as NULLs once decoded (`with_all_columns`).
        Arc::new(Schema::new(canonical.fields()[..older].to_vec()))
    } else {
        return Err(not(format!(
            "{} columns, the sample schema has {} ({older} before its µs columns)",
            fields.len(),
            canonical.fields().len()
        )));
    };
    for (i, (f, want)) in fields.into_iter().zip(stream_schema.fields()).enumerate() {
        check_field(f, want, true).map_err(|why| not(format!("column {i}: {why}")))?;
    }
    Ok(stream_schema)
}

/// The sample schema's columns before the µs ones (`elapsed_us`, …), which came last.
fn columns_before_micros() -> usize {
    sample_schema()
        .index_of(crate::sample::col::ELAPSED_US)
        .unwrap_or_else(|_| sample_schema().fields().len())
}

/// `batch` in the whole sample schema: a batch of an older sender gets the columns it did not
/// have as NULLs.
fn with_all_columns(batch: RecordBatch) -> Result<RecordBatch, ArrowError> {
    let canonical = sample_schema();
    if batch.num_columns() == canonical.fields().len() {
        return Ok(batch);
    }
    let rows = batch.num_rows();
    let mut columns = batch.columns().to_vec();
    for field in &canonical.fields()[columns.len()..] {
        columns.push(new_null_array(field.data_type(), rows));
    }
    RecordBatch::try_new(canonical, columns)
}

/// Adds `n` to `total`, refusing what passes `limit` (or overflows).
fn add_within(
    total: &mut u64,
    n: u64,
    limit: u64,
    err: fn(u64, u64) -> IpcError,
) -> Result<(), IpcError> {
    *total = total.saturating_add(n);
    if *total > limit {
        return Err(err(*total, limit));
    }
    Ok(())
}

fn too_large(decoded: u64, limit: u64) -> IpcError {
    IpcError::TooLarge { decoded, limit }
}

fn too_many_rows(rows: u64, limit: u64) -> IpcError {
    IpcError::TooManyRows { rows, limit }
}

/// A compressed buffer that decompression must confirm: where it lies and what it declares.
struct Lz4Buffer {
    range: Range<usize>,
    declared: u64,
}

/// Checks one record batch header against the body it comes with and the limits, adding to
/// `summary`; LZ4 buffers to confirm go to `lz4`.
fn check_batch(
    bytes: &[u8],
    frame: &Frame<'_>,
    schema: &SchemaRef,
    limits: &IpcLimits,
    summary: &mut IpcSummary,
    lz4: &mut Vec<Lz4Buffer>,
) -> Result<(), IpcError> {
    let version = frame.message.version();
    if version != MetadataVersion::V4 && version != MetadataVersion::V5 {
        return Err(IpcError::Unsupported(format!(
            "metadata version {version:?} (V4 or V5 are read)"
        )));
    }
    let batch = frame
        .message
        .header_as_record_batch()
        .ok_or_else(|| malformed("a record batch message without its header"))?;
    let rows =
        u64::try_from(batch.length()).map_err(|_| malformed(format!("{} rows", batch.length())))?;
    add_within(&mut summary.rows, rows, limits.max_rows, too_many_rows)?;
    let nodes = batch
        .nodes()
        .ok_or_else(|| malformed("a record batch without field nodes"))?;
    for node in nodes.iter() {
        let (len, nulls) = (node.length(), node.null_count());
        let fits = u64::try_from(len).is_ok_and(|l| l <= limits.max_decoded_bytes);
        if !fits || nulls < 0 || nulls > len {
            return Err(malformed(format!(
                "a field node of {len} values, {nulls} null"
            )));
        }
    }
    if batch.variadicBufferCounts().is_some_and(|v| !v.is_empty()) {
        return Err(IpcError::Unsupported("variadic buffers".into()));
    }
    let codec = body_codec(&batch)?;
    let buffers = batch
        .buffers()
        .ok_or_else(|| malformed("a record batch without buffers"))?;
    let body_len = frame.body.len();
    let mut sizes = Vec::with_capacity(buffers.len());
    for b in buffers.iter() {
        let (offset, len) = (b.offset(), b.length());
        let place = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(len).ok())
            .and_then(|(o, l)| Some(o..o.checked_add(l)?))
            .filter(|r| r.end <= body_len)
            .ok_or_else(|| {
                malformed(format!(
                    "a buffer at {offset} of {len} bytes in a body of {body_len}"
                ))
            })?;
        let at = frame.body.start + place.start..frame.body.start + place.end;
        let decoded = decoded_len(bytes, at, codec, lz4)?;
        add_within(
            &mut summary.decoded_bytes,
            decoded,
            limits.max_decoded_bytes,
            too_large,
        )?;
        sizes.push(decoded);
    }
    let mut nodes = nodes.iter().map(|n| (n.length(), n.null_count()));
    let mut sizes = sizes.into_iter();
    for field in schema.fields() {
        check_layout(
            field.data_type(),
            Some(batch.length()),
            &mut nodes,
            &mut sizes,
        )
        .map_err(|why| malformed(format!("column {}: {why}", field.name())))?;
    }
    summary.batches += 1;
    Ok(())
}

/// The compression codec of a record batch's body: none, LZ4 frame or zstd per buffer.
fn body_codec(batch: &arrow::ipc::RecordBatch<'_>) -> Result<Option<CompressionType>, IpcError> {
    match batch.compression() {
        None => Ok(None),
        Some(c) if c.method() != BodyCompressionMethod::BUFFER => Err(IpcError::Unsupported(
            format!("compression method {:?}", c.method()),
        )),
        Some(c)
            if c.codec() == CompressionType::LZ4_FRAME || c.codec() == CompressionType::ZSTD =>
        {
            Ok(Some(c.codec()))
        }
        Some(c) => Err(IpcError::Unsupported(format!("codec {:?}", c.codec()))),
    }
}

/// The size of the buffer at `at` in `bytes` once decompressed: its length when the body is not
/// compressed, else what its 8-byte length prefix declares (-1: stored uncompressed after the
/// prefix). LZ4 buffers go to `lz4`, for decompression to confirm what they declare.
fn decoded_len(
    bytes: &[u8],
    at: Range<usize>,
    codec: Option<CompressionType>,
    lz4: &mut Vec<Lz4Buffer>,
) -> Result<u64, IpcError> {
    let Some(codec) = codec else {
        return Ok(at.len() as u64);
    };
    if at.is_empty() {
        return Ok(0);
    }
    let prefix = bytes
        .get(at.start..at.start.saturating_add(8))
        .filter(|_| at.len() >= 8)
        .and_then(|p| <[u8; 8]>::try_from(p).ok())
        .map(i64::from_le_bytes)
        .ok_or_else(|| {
            malformed(format!(
                "a compressed buffer of {} bytes, without its 8-byte length prefix",
                at.len()
            ))
        })?;
    match prefix {
        -1 => Ok(at.len() as u64 - 8),
        0 => Ok(0),
        n if n > 0 => {
            if codec == CompressionType::LZ4_FRAME {
                lz4.push(Lz4Buffer {
                    range: at.start + 8..at.end,
                    declared: n as u64,
                });
            }
            Ok(n as u64)
        }
        n => Err(malformed(format!("an uncompressed length of {n}"))),
    }
}

/// Checks that the next field node (and its children's) of a column of type `data_type` fit
/// its buffers (their sizes once decompressed, in IPC order): a validity bitmap of ⌈len/8⌉
/// bytes when it has nulls, offsets for len + 1 values, len fixed-width values — what
/// arrow-ipc assumes (it panics otherwise) — and, where it is known, the length its parent
/// implies (`expect_len`).
fn check_layout(
    data_type: &DataType,
    expect_len: Option<i64>,
    nodes: &mut impl Iterator<Item = (i64, i64)>,
    sizes: &mut impl Iterator<Item = u64>,
) -> Result<(), String> {
    let (len, nulls) = nodes
        .next()
        .ok_or("fewer field nodes than the schema has columns")?;
    if let Some(want) = expect_len
        && len != want
    {
        return Err(format!("a field node of {len} values where {want} are due"));
    }
    let count = u64::try_from(len).map_err(|_| format!("a field node of {len} values"))?;
    // `width`: the buffer is read as values of that many bytes (arrow asserts whole values).
    let mut next = |what: &str, need: u64, width: u64| -> Result<(), String> {
        let size = sizes.next().ok_or_else(|| format!("no {what} buffer"))?;
        if size < need {
            return Err(format!(
                "a {what} buffer of {size} bytes for {len} values (needs {need})"
            ));
        }
        if size % width != 0 {
            return Err(format!(
                "a {what} buffer of {size} bytes, not whole values of {width} bytes"
            ));
        }
        Ok(())
    };
    let bitmap = count.div_ceil(8);
    next("validity", if nulls > 0 { bitmap } else { 0 }, 1)?;
    let offsets = |width: u64| {
        if count == 0 {
            0
        } else {
            (count + 1).saturating_mul(width)
        }
    };
    match data_type {
        DataType::Boolean => next("values", bitmap, 1),
        DataType::Utf8 | DataType::Binary => {
            next("offsets", offsets(4), 4)?;
            next("values", 0, 1)
        }
        DataType::LargeUtf8 | DataType::LargeBinary => {
            next("offsets", offsets(8), 8)?;
            next("values", 0, 1)
        }
        DataType::List(child) | DataType::Map(child, _) => {
            next("offsets", offsets(4), 4)?;
            check_layout(child.data_type(), None, nodes, sizes)
        }
        DataType::Struct(children) => children
            .iter()
            .try_for_each(|c| check_layout(c.data_type(), Some(len), nodes, sizes)),
        other => match other.primitive_width() {
            Some(width) => next("values", count.saturating_mul(width as u64), width as u64),
            None => Err(format!(
                "a column of type {other}, not in the sample schema"
            )),
        },
    }
}

/// The walked stream: its schema, its record batch messages, what they declare.
struct Scan<'a> {
    schema: SchemaRef,
    batches: Vec<Frame<'a>>,
    summary: IpcSummary,
    lz4: Vec<Lz4Buffer>,
}

fn scan<'a>(bytes: &'a [u8], limits: &IpcLimits) -> Result<Scan<'a>, IpcError> {
    let mut frames = frames(bytes)?.into_iter();
    let first = frames
        .next()
        .ok_or_else(|| malformed("no schema message (an empty stream)"))?;
    if first.message.header_type() != MessageHeader::Schema {
        return Err(malformed(format!(
            "the first message is a {:?}, not the schema",
            first.message.header_type()
        )));
    }
    let schema = check_schema(&first)?;
    let mut scan = Scan {
        schema,
        batches: Vec::new(),
        summary: IpcSummary::default(),
        lz4: Vec::new(),
    };
    for frame in frames {
        match frame.message.header_type() {
            MessageHeader::RecordBatch => {
                check_batch(
                    bytes,
                    &frame,
                    &scan.schema,
                    limits,
                    &mut scan.summary,
                    &mut scan.lz4,
                )?;
                scan.batches.push(frame);
            }
            MessageHeader::DictionaryBatch => {
                return Err(IpcError::Unsupported(
                    "dictionary batches (the sample schema has no dictionary)".into(),
                ));
            }
            MessageHeader::Schema => return Err(malformed("a second schema message")),
            other => return Err(IpcError::Unsupported(format!("a {other:?} message"))),
        }
    }
    Ok(scan)
}

/// Reads an IPC message's headers only — schema, batch headers, compression prefixes — and
/// says what it would decode to, or why it is refused ([`IpcLimits`] included). Cheap: nothing
/// is decompressed or allocated in proportion to what the headers claim.
pub fn inspect_sample_ipc(bytes: &[u8], limits: &IpcLimits) -> Result<IpcSummary, IpcError> {
    Ok(scan(bytes, limits)?.summary)
}

/// Decompresses an LZ4 frame into a scratch buffer, refusing it as soon as it holds more than
/// `declared` bytes, and unless it holds exactly that.
fn confirm_lz4(input: &[u8], declared: u64) -> Result<(), IpcError> {
    let mut decoder = lz4_flex::frame::FrameDecoder::new(input);
    let mut scratch = vec![0u8; 64 << 10];
    let mut total = 0u64;
    loop {
        let n = match decoder.read(&mut scratch) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(malformed(format!("an LZ4 buffer: {e}"))),
        };
        total += n as u64;
        if total > declared {
            return Err(malformed(format!(
                "an LZ4 buffer holds more than the {declared} bytes its prefix declares"
            )));
        }
    }
    if total != declared {
        return Err(malformed(format!(
            "an LZ4 buffer holds {total} bytes, its prefix declares {declared}"
        )));
    }
    Ok(())
}

/// Decodes one IPC message of samples — an Arrow IPC stream: the sample schema, then record
/// batches, optionally LZ4- or zstd-compressed — into batches in the canonical schema
/// ([`sample_schema`]), within `limits`, with every row's `ts` and durations in their plausible
/// range ([`crate::range`]). See the module documentation for the order of the checks; memory
/// use is bounded by the input and `limits.max_decoded_bytes`, whatever the input claims.
pub fn decode_sample_ipc(bytes: &[u8], limits: &IpcLimits) -> Result<Vec<RecordBatch>, IpcError> {
    let scan = scan(bytes, limits)?;
    for b in &scan.lz4 {
        let input = bytes
            .get(b.range.clone())
            .ok_or_else(|| malformed("an LZ4 buffer past the end"))?;
        confirm_lz4(input, b.declared)?;
    }
    let data = Buffer::from(bytes.to_vec());
    let no_dictionaries = Default::default();
    let mut out = Vec::with_capacity(scan.batches.len());
    for (i, frame) in scan.batches.iter().enumerate() {
        let decode_error = |source| IpcError::Decode { batch: i, source };
        let header = frame
            .message
            .header_as_record_batch()
            .ok_or_else(|| malformed("a record batch message without its header"))?;
        let version = frame.message.version();
        let body = data.slice_with_length(frame.body.start, frame.body.len());
        let batch = RecordBatchDecoder::try_new(
            &body,
            header,
            Arc::clone(&scan.schema),
            &no_dictionaries,
            &version,
        )
        .map_err(decode_error)?
        .with_require_alignment(false)
        .read_record_batch()
        .and_then(with_all_columns)
        .map_err(decode_error)?;
        validate_batch(&batch).map_err(|source| IpcError::OutOfRange { batch: i, source })?;
        out.push(batch);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
