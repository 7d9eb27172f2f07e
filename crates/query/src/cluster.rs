//! [`QueryCluster`]: the seam between the query layer and a distributed engine.
//!
//! A [`QueryEngine`](crate::QueryEngine) opened with a cluster plans its queries with the
//! engine's planner: the same DataFusion plans, the same tables and functions, with the parts
//! worth spreading run elsewhere. Everything else (tables from the store, the read-only check,
//! retries of vanished files, the memory accounting of results) stays in the engine, so every
//! report, SLA rule, trend, compare, Flight SQL call and ad-hoc query runs through it alike.
//!
//! crates/cluster implements it on datafusion-distributed; another engine (Ballista: a
//! scheduler and executors) would be a second implementation of the same trait.

use std::fmt;

use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::physical_plan::ExecutionPlan;

/// A distributed engine a session can plan over.
#[async_trait::async_trait]
pub trait QueryCluster: Send + Sync + fmt::Debug {
    /// `state` — a single-node session with DataFusion's defaults, the store's object stores
    /// and limits — turned into a coordinator of this cluster. loadlake's tables and functions
    /// are registered on the result afterwards, by name, as on a single node.
    fn coordinate(
        &self,
        state: SessionStateBuilder,
    ) -> Result<SessionStateBuilder, DataFusionError>;

    /// `plan` (planned by a coordinator of this cluster) as `EXPLAIN` shows it: its stages and
    /// where they run.
    fn display_plan(&self, plan: &dyn ExecutionPlan) -> String;

    /// A query planned over this cluster failed with `error`: check the workers again at once
    /// (so that the next query is planned over those that answer) and say which stopped
    /// answering, if any did.
    async fn after_failure(&self, error: &DataFusionError) -> Option<String>;
}
