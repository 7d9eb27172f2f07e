//! Grouping on a Hive partition column without hashing it per row.
//!
//! `group by run_id, label` over `samples` makes DataFusion's partial aggregation hash and
//! compare the `run_id` string of every row, though every file holds one run: the scan fills
//! the partition column with the file's value (one literal per file), and a scan batch never
//! spans two files. [`KeyedAggregates`] (a physical optimizer rule) replaces such a partial
//! aggregation with a [`KeyedAggregateExec`]: it cuts its input into segments of consecutive
//! batches with the same partition values (the *key*), aggregates each segment on the other
//! grouping columns only (DataFusion's own `AggregateExec`, so every aggregate function works
//! as before), and adds the key back to the segment's partial states. The final aggregation,
//! which merges the partial states of every segment, is unchanged, so results are the same.

mod exec;
mod feed;

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::config::ConfigOptions;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::InputOrderMode;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::projection::ProjectionExec;

pub(crate) use exec::KeyedAggregateExec;

/// The rule: every partial `AggregateExec` that groups (among others) on a partition column
/// read straight from a file scan becomes a [`KeyedAggregateExec`]. Single-node sessions only:
/// a cluster's workers would not know the node.
#[derive(Debug, Default)]
pub(crate) struct KeyedAggregates;

impl PhysicalOptimizerRule for KeyedAggregates {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            Ok(match keyed(&node)? {
                Some(keyed) => Transformed::yes(Arc::new(keyed) as Arc<dyn ExecutionPlan>),
                None => Transformed::no(node),
            })
        })
        .data()
    }

    fn name(&self) -> &str {
        "loadlake_keyed_aggregates"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `node` as a [`KeyedAggregateExec`], if it is a partial aggregation it can replace.
pub(crate) fn keyed(node: &Arc<dyn ExecutionPlan>) -> Result<Option<KeyedAggregateExec>> {
    let Some(aggregate) = node.downcast_ref::<AggregateExec>() else {
        return Ok(None);
    };
    let group_by = aggregate.group_expr();
    if *aggregate.mode() != AggregateMode::Partial
        || !group_by.is_single()
        || aggregate.limit_options().is_some()
        || !aggregate.dynamic_expressions_produced().is_empty()
        || *aggregate.input_order_mode() != InputOrderMode::Linear
    {
        return Ok(None);
    }
    // For each grouping expression: the input column if it is a partition column.
    let keys: Vec<Option<usize>> = group_by
        .expr()
        .iter()
        .map(|(expr, _)| {
            expr.downcast_ref::<Column>()
                .map(Column::index)
                .filter(|&i| is_partition_column(aggregate.input().as_ref(), i))
        })
        .collect();
    // Something left to aggregate per segment (`count(distinct run_id)` groups on the key
    // alone, computing nothing: an aggregation of no columns).
    let grouped_on_key_only = keys.iter().all(Option::is_some);
    if keys.iter().all(Option::is_none) || (grouped_on_key_only && aggregate.aggr_expr().is_empty())
    {
        return Ok(None);
    }
    KeyedAggregateExec::try_new(Arc::clone(node), aggregate, keys).map(Some)
}

/// Whether column `index` of `plan`'s output is a partition column of a file scan, passed
/// through projections only (operators that keep each batch whole: one file's rows).
fn is_partition_column(plan: &dyn ExecutionPlan, index: usize) -> bool {
    if let Some(projection) = plan.downcast_ref::<ProjectionExec>() {
        return (projection.expr().get(index))
            .and_then(|e| e.expr.downcast_ref::<Column>())
            .is_some_and(|c| is_partition_column(projection.input().as_ref(), c.index()));
    }
    let Some(config) = (plan.downcast_ref::<DataSourceExec>())
        .and_then(|scan| scan.data_source().downcast_ref::<FileScanConfig>())
    else {
        return false;
    };
    let table_index = match config.file_source().projection() {
        Some(projection) => {
            match (projection.as_ref().get(index)).and_then(|e| e.expr.downcast_ref::<Column>()) {
                Some(column) => column.index(),
                None => return false,
            }
        }
        None => index,
    };
    let files = config.file_schema().fields().len();
    (files..files + config.table_partition_cols().len()).contains(&table_index)
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
