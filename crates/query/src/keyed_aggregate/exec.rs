//! [`KeyedAggregateExec`]: a partial aggregation run segment by segment of one key.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, ScalarValue, internal_err};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode, PhysicalGroupBy};
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::StreamExt;

use super::feed::{Feed, FeedSlot, SegmentExec, put_feed, take_feed};

/// A partial `AggregateExec` whose grouping includes columns constant within each input batch
/// (the key: partition columns of a file scan). Each run of consecutive batches with one key
/// is aggregated on the other grouping columns only, and the key is added to the output: the
/// same partial states, the key hashed once per segment instead of once per row.
#[derive(Debug)]
pub(crate) struct KeyedAggregateExec {
    /// The aggregation replaced: its schema, properties and display are this node's.
    aggregate: Arc<dyn ExecutionPlan>,
    input: Arc<dyn ExecutionPlan>,
    /// In grouping order: `Some(input column)` for a key column, `None` for one grouped on.
    keys: Vec<Option<usize>>,
    /// What each segment runs: the aggregation without the key columns, over a
    /// [`SegmentExec`] (built per partition, with its own feed).
    inner_group_by: Arc<PhysicalGroupBy>,
    aggregate_exec: AggregateExec,
}

impl KeyedAggregateExec {
    /// `node` (which is `aggregate`) with the grouping columns `keys` marks as keys.
    pub(super) fn try_new(
        node: Arc<dyn ExecutionPlan>,
        aggregate: &AggregateExec,
        keys: Vec<Option<usize>>,
    ) -> Result<Self> {
        let group_by = aggregate.group_expr();
        let kept: Vec<_> = (group_by.expr().iter().zip(&keys))
            .filter(|(_, key)| key.is_none())
            .map(|(expr, _)| expr.clone())
            .collect();
        Ok(KeyedAggregateExec {
            input: Arc::clone(aggregate.input()),
            aggregate: node,
            keys,
            inner_group_by: Arc::new(PhysicalGroupBy::new_single(kept)),
            aggregate_exec: aggregate.clone(),
        })
    }

    fn key_columns(&self) -> Vec<usize> {
        self.keys.iter().flatten().copied().collect()
    }
}

impl DisplayAs for KeyedAggregateExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let schema = self.input.schema();
        let names: Vec<&str> = (self.key_columns().into_iter())
            .map(|c| schema.field(c).name().as_str())
            .collect();
        write!(
            f,
            "KeyedAggregateExec: per segment of [{}], ",
            names.join(", ")
        )?;
        self.aggregate.fmt_as(t, f)
    }
}

impl ExecutionPlan for KeyedAggregateExec {
    fn name(&self) -> &str {
        "KeyedAggregateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.aggregate.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        self.aggregate.apply_expressions(f)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let aggregate = Arc::clone(&self.aggregate).replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )?;
        Ok(match super::keyed(&aggregate)? {
            Some(keyed) => Arc::new(keyed),
            None => aggregate,
        })
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, Arc::clone(&context))?;
        let slot = FeedSlot::default();
        let source = Arc::new(SegmentExec::new(self.input.schema(), Arc::clone(&slot)));
        let inner = AggregateExec::try_new(
            AggregateMode::Partial,
            Arc::clone(&self.inner_group_by),
            self.aggregate_exec.aggr_expr().to_vec(),
            self.aggregate_exec.filter_expr().to_vec(),
            source,
            self.aggregate_exec.input_schema(),
        )?;
        let segments = Segments {
            feed: Some(Feed::new(input, self.key_columns())),
            slot,
            inner: Arc::new(inner),
            context,
            schema: self.schema(),
            keys: self.keys.clone(),
            out: VecDeque::new(),
        };
        let stream = futures::stream::unfold(Some(segments), |segments| async move {
            let mut segments = segments?;
            match segments.next().await {
                Ok(Some(batch)) => Some((Ok(batch), Some(segments))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            stream,
        )))
    }
}

/// One partition's run: segment after segment through the inner aggregation.
struct Segments {
    /// The input, between segments (in `slot` while a segment is aggregated); `None` at its end.
    feed: Option<Feed>,
    slot: FeedSlot,
    inner: Arc<AggregateExec>,
    context: Arc<TaskContext>,
    schema: SchemaRef,
    keys: Vec<Option<usize>>,
    /// Output of the last segment not returned yet.
    out: VecDeque<RecordBatch>,
}

impl Segments {
    /// The next output batch; `None` at the end.
    async fn next(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if let Some(batch) = self.out.pop_front() {
                return Ok(Some(batch));
            }
            let Some(mut feed) = self.feed.take() else {
                return Ok(None);
            };
            let first = match futures::future::poll_fn(|cx| feed.poll_batch(cx)).await {
                Some(first) => first?,
                None => return Ok(None),
            };
            let key = feed.start_segment(first)?;
            put_feed(&self.slot, feed);
            let mut stream = self.inner.execute(0, Arc::clone(&self.context))?;
            let mut states = Vec::new();
            while let Some(batch) = stream.next().await {
                states.push(batch?);
            }
            drop(stream);
            self.feed = Some(take_feed(&self.slot)?);
            for batch in states {
                let batch = self.with_key(&batch, &key)?;
                self.out.push_back(batch);
            }
        }
    }

    /// The inner aggregation's `batch` with the key's columns put back in grouping order.
    fn with_key(&self, batch: &RecordBatch, key: &[ScalarValue]) -> Result<RecordBatch> {
        let rows = batch.num_rows();
        let mut inner = batch.columns().iter().cloned();
        let mut key = key.iter();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        for slot in &self.keys {
            let column = match slot {
                Some(_) => key.next().map(|v| v.to_array_of_size(rows)).transpose()?,
                None => inner.next(),
            };
            match column {
                Some(column) => columns.push(column),
                None => return internal_err!("keyed aggregate: output has too few columns"),
            }
        }
        columns.extend(inner);
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}
