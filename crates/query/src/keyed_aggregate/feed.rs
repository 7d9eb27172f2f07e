//! The input of a [`KeyedAggregateExec`](super::KeyedAggregateExec) cut into segments of one
//! key: [`Feed`] reads it, [`SegmentExec`] hands one segment to an inner `AggregateExec`.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use arrow::array::{ArrayRef, AsArray, GenericStringArray, OffsetSizeTrait, RecordBatch};
use arrow::compute::kernels::partition::partition;
use arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, ScalarValue, internal_datafusion_err, internal_err};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::{Stream, StreamExt};

/// One partition's input, read batch by batch; each batch handed out holds one key.
pub(super) struct Feed {
    input: SendableRecordBatchStream,
    input_done: bool,
    /// Batches read but not handed out yet (a segment's end: the next key's first rows).
    pending: VecDeque<RecordBatch>,
    /// The input columns of the key.
    key_columns: Vec<usize>,
    /// The current segment: its first batch (not yet handed out), its key, whether it ended.
    first: Option<RecordBatch>,
    key: Vec<ScalarValue>,
    segment_done: bool,
}

impl Feed {
    pub(super) fn new(input: SendableRecordBatchStream, key_columns: Vec<usize>) -> Self {
        Feed {
            input,
            input_done: false,
            pending: VecDeque::new(),
            key_columns,
            first: None,
            key: Vec::new(),
            segment_done: true,
        }
    }

    /// The next non-empty batch of one key (a batch is split where its key changes), `None`
    /// at the end of the input.
    pub(super) fn poll_batch(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<RecordBatch>>> {
        loop {
            let batch = match self.pending.pop_front() {
                Some(batch) => batch,
                None if self.input_done => return Poll::Ready(None),
                None => match ready!(self.input.poll_next_unpin(cx)) {
                    Some(Ok(batch)) => batch,
                    Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                    None => {
                        self.input_done = true;
                        return Poll::Ready(None);
                    }
                },
            };
            if batch.num_rows() == 0 {
                continue;
            }
            return Poll::Ready(Some(self.first_run(batch)));
        }
    }

    /// `batch`'s rows up to the first change of key; the rest goes back to `pending`.
    fn first_run(&mut self, batch: RecordBatch) -> Result<RecordBatch> {
        let columns: Vec<ArrayRef> = (self.key_columns.iter())
            .map(|&c| Arc::clone(batch.column(c)))
            .collect();
        if columns.iter().all(repeats_one_value) {
            return Ok(batch);
        }
        let runs = partition(&columns)?.ranges();
        for run in runs.iter().skip(1).rev() {
            self.pending.push_front(batch.slice(run.start, run.len()));
        }
        let end = runs.first().map_or(batch.num_rows(), |r| r.end);
        Ok(batch.slice(0, end))
    }

    /// The key of `batch`'s row `row`.
    pub(super) fn key_at(&self, batch: &RecordBatch, row: usize) -> Result<Vec<ScalarValue>> {
        (self.key_columns.iter())
            .map(|&c| ScalarValue::try_from_array(batch.column(c), row))
            .collect()
    }

    /// Starts the segment that begins with `first`; returns its key.
    pub(super) fn start_segment(&mut self, first: RecordBatch) -> Result<Vec<ScalarValue>> {
        self.key = self.key_at(&first, 0)?;
        self.first = Some(first);
        self.segment_done = false;
        Ok(self.key.clone())
    }

    /// The current segment's next batch; `None` once a batch of another key (kept for the
    /// next segment) or the end of the input is met.
    fn poll_segment(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<RecordBatch>>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(first)));
        }
        if self.segment_done {
            return Poll::Ready(None);
        }
        let batch = match ready!(self.poll_batch(cx)) {
            Some(Ok(batch)) => batch,
            other => {
                self.segment_done = true;
                return Poll::Ready(other);
            }
        };
        match self.key_at(&batch, 0) {
            Ok(key) if key == self.key => Poll::Ready(Some(Ok(batch))),
            Ok(_) => {
                self.pending.push_front(batch);
                self.segment_done = true;
                Poll::Ready(None)
            }
            Err(e) => Poll::Ready(Some(Err(e))),
        }
    }
}

/// Whether every row of `array` holds its first row's value, told cheaply for what a file scan
/// makes of a partition value (a string repeated: equal lengths, bytes periodic with that
/// length); `false` may also mean "not checked cheaply" (the caller then compares row by row).
fn repeats_one_value(array: &ArrayRef) -> bool {
    if array.null_count() > 0 {
        return false;
    }
    match array.data_type() {
        DataType::Utf8 => repeats_first_string(array.as_string::<i32>()),
        DataType::LargeUtf8 => repeats_first_string(array.as_string::<i64>()),
        DataType::Utf8View => {
            let views = array.as_string_view().views();
            views.iter().all(|v| *v == views[0])
        }
        _ => false,
    }
}

/// [`repeats_one_value`] of a string array without NULLs.
fn repeats_first_string<O: OffsetSizeTrait>(array: &GenericStringArray<O>) -> bool {
    let offsets = array.value_offsets();
    let (Some(&start), Some(&end)) = (offsets.first(), offsets.last()) else {
        return true;
    };
    let len = offsets.get(1).map_or(O::zero(), |&o| o - start);
    if !offsets.windows(2).all(|w| w[1] - w[0] == len) {
        return false;
    }
    let bytes = &array.value_data()[start.as_usize()..end.as_usize()];
    let len = len.as_usize();
    // Periodic with the length of a value: every value is the first.
    len == 0 || bytes[len..] == bytes[..bytes.len() - len]
}

/// Where a [`Feed`] waits between segments: taken by [`SegmentExec::execute`], put back when
/// the segment's stream is dropped.
pub(super) type FeedSlot = Arc<Mutex<Option<Feed>>>;

/// Takes the feed out of `slot`.
pub(super) fn take_feed(slot: &FeedSlot) -> Result<Feed> {
    (slot.lock())
        .map_err(|_| internal_datafusion_err!("keyed aggregate: feed lock poisoned"))?
        .take()
        .ok_or_else(|| internal_datafusion_err!("keyed aggregate: no input to aggregate"))
}

/// Puts `feed` into `slot`.
pub(super) fn put_feed(slot: &FeedSlot, feed: Feed) {
    if let Ok(mut held) = slot.lock() {
        *held = Some(feed);
    }
}

/// The input of the inner aggregation: the current segment of the feed in its slot.
#[derive(Debug)]
pub(super) struct SegmentExec {
    slot: FeedSlot,
    properties: Arc<PlanProperties>,
}

impl fmt::Debug for Feed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Feed").field("key", &self.key).finish()
    }
}

impl SegmentExec {
    pub(super) fn new(schema: SchemaRef, slot: FeedSlot) -> Self {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        SegmentExec {
            slot,
            properties: Arc::new(properties),
        }
    }
}

impl DisplayAs for SegmentExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "SegmentExec")
    }
}

impl ExecutionPlan for SegmentExec {
    fn name(&self) -> &str {
        "SegmentExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            internal_err!("SegmentExec has no children")
        }
    }

    fn execute(
        &self,
        _partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        Ok(Box::pin(SegmentStream {
            feed: Some(take_feed(&self.slot)?),
            slot: Arc::clone(&self.slot),
            schema: self.schema(),
        }))
    }
}

/// The batches of one segment; gives the feed back to its slot when dropped.
struct SegmentStream {
    feed: Option<Feed>,
    slot: FeedSlot,
    schema: SchemaRef,
}

impl Stream for SegmentStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.feed.as_mut() {
            Some(feed) => feed.poll_segment(cx),
            None => Poll::Ready(None),
        }
    }
}

impl RecordBatchStream for SegmentStream {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

impl Drop for SegmentStream {
    fn drop(&mut self) {
        if let Some(feed) = self.feed.take() {
            put_feed(&self.slot, feed);
        }
    }
}
