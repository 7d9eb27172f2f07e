//! [`QueryEngine`]: the DataFusion session over one store.

use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::{SQLOptions, SessionContext};
use datafusion::execution::memory_pool::MemoryConsumer;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::SessionConfig;
use datafusion::scalar::ScalarValue;
use futures::StreamExt;
use loadlake_schema::{col, sample_schema};
use loadlake_store::{Store, StoreError};
use object_store::local::LocalFileSystem;

use datafusion::functions::expr_fn::coalesce;
use datafusion::logical_expr::{Explain, LogicalPlan};
use datafusion::prelude::{Expr, col as df_col, lit};

use crate::cluster::QueryCluster;
use crate::error::QueryError;
use crate::hide_deleted::HideDeletedRuns;
use crate::rollups_table::RollupsTable;
use crate::runs_table::RunsTable;
use crate::time_unit::TimeUnit;

/// A session with `samples` (committed runs), `live_samples` (the parts written so far of runs
/// still being written), `rollups` (per committed run, what `queries/rollup.sql` sums up) and
/// `runs` registered.
pub struct QueryEngine {
    pub(crate) ctx: SessionContext,
    /// The store (rollups are kept there).
    pub(crate) store: Store,
    /// The `rollups` table (consolidations read and write through it).
    pub(crate) rollups: Arc<RollupsTable>,
    /// How many runs read from per-run rollup files make `ensure_rollups` consolidate
    /// (`None`: never).
    pub(crate) consolidate_after: Option<usize>,
    /// The cluster queries are planned over, if any.
    cluster: Option<Arc<dyn QueryCluster>>,
}

/// A table of Parquet files in Hive partitions `run_id=<id>/*.parquet` under `url` (a local
/// directory or an object-store URL) with `schema`, listed afresh by every query.
fn partitioned_table(url: &str, schema: SchemaRef) -> Result<Arc<ListingTable>, QueryError> {
    let mut url = url.to_string();
    if !url.ends_with('/') {
        url.push('/');
    }
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(vec![(col::RUN_ID.to_string(), DataType::Utf8)]);
    let config = ListingTableConfig::new(ListingTableUrl::parse(&url)?)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// Times a query that met a vanished file is planned again before its error is returned.
pub const VANISHED_FILE_RETRIES: usize = 3;

/// How a session runs its queries: resource limits (servers set them; the CLI uses none) and
/// the cluster it may spread them over.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Memory the session's queries may hold, bytes; a query that needs more fails with
    /// "resources exhausted" instead of taking the process down.
    pub memory_bytes: Option<usize>,
    /// Query workers: plans worth distributing run there, the rest on this node
    /// ([`QueryCluster`]); none: every query on this node.
    pub cluster: Option<Arc<dyn QueryCluster>>,
}

impl QueryEngine {
    /// Registers the store's tables. `runs` is read from the store by each query that scans it.
    pub async fn open(store: &Store) -> Result<Self, QueryError> {
        Self::open_with(store, &EngineOptions::default()).await
    }

    /// [`QueryEngine::open`] with resource limits, on a cluster if `options` names one.
    pub async fn open_with(store: &Store, options: &EngineOptions) -> Result<Self, QueryError> {
        let config = SessionConfig::new().with_information_schema(true);
        // DataFusion caches file listings for the session's life by default: a live run's new
        // parts, a run committed or deleted since, would go unseen by later queries. Listing a
        // local store is cheap; every query lists afresh.
        let mut runtime = RuntimeEnvBuilder::new().with_object_list_cache_limit(0);
        if let Some(bytes) = options.memory_bytes {
            runtime = runtime.with_memory_limit(bytes, 1.0);
        }
        let mut state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime.build_arc()?)
            .with_default_features();
        match &options.cluster {
            Some(cluster) => state = cluster.coordinate(state)?,
            // Grouping on `run_id` without hashing it per row (a worker would not know the node).
            None => {
                state = state
                    .with_physical_optimizer_rule(Arc::new(crate::keyed_aggregate::KeyedAggregates))
            }
        }
        let ctx = SessionContext::new_with_state(state.build());
        crate::functions::register_session_functions(&ctx, options.memory_bytes);
        // Deleted runs keep their files for a while (queries planned before may still read
        // them); new queries must not list them. On object storage only the parts the runs'
        // manifests list are listed (see `hide_deleted.rs`).
        // Where the rollup files are: the object store DataFusion reads them from and the
        // prefix of the store's keys in it.
        let (samples_url, rollups_at) = match store.object_storage()? {
            Some(objects) => {
                ctx.register_object_store(
                    ObjectStoreUrl::parse(&objects.url)?.as_ref(),
                    Arc::new(HideDeletedRuns::new(objects.objects.clone(), store.clone())),
                );
                // The parts of runs being written are in `samples/` too, with no manifest
                // listing them yet: the same objects under a second URL list them instead.
                ctx.register_object_store(
                    ObjectStoreUrl::parse(objects.live_url())?.as_ref(),
                    Arc::new(HideDeletedRuns::live_runs(
                        objects.objects.clone(),
                        store.clone(),
                    )),
                );
                ctx.register_table(
                    "live_samples",
                    partitioned_table(&objects.live_url_of("samples/"), sample_schema())?,
                )?;
                (
                    objects.url_of("samples/"),
                    (ObjectStoreUrl::parse(&objects.url)?, objects.prefix.clone()),
                )
            }
            None => {
                ctx.register_object_store(
                    ObjectStoreUrl::local_filesystem().as_ref(),
                    Arc::new(HideDeletedRuns::new(
                        Arc::new(LocalFileSystem::new()),
                        store.clone(),
                    )),
                );
                let layout = store.layout();
                ctx.register_table(
                    "live_samples",
                    partitioned_table(&layout.tmp_dir().to_string_lossy(), sample_schema())?,
                )?;
                let root = std::fs::canonicalize(layout.root()).map_err(|source| {
                    QueryError::RollupStore(StoreError::Io {
                        path: layout.root().to_path_buf(),
                        source,
                    })
                })?;
                let base = object_store::path::Path::from_absolute_path(&root)
                    .map_err(|e| DataFusionError::External(Box::new(e)))?;
                (
                    layout.samples_dir().to_string_lossy().into_owned(),
                    (ObjectStoreUrl::local_filesystem(), base.to_string()),
                )
            }
        };
        ctx.register_table("samples", partitioned_table(&samples_url, sample_schema())?)?;
        ctx.register_table("runs", Arc::new(RunsTable::new(store.clone())?))?;
        // The rollup files have the columns rollup.sql gives, whatever they are.
        let rollup_schema = ctx
            .sql(crate::queries::ROLLUP)
            .await?
            .with_param_values(vec![ScalarValue::Utf8(Some(String::new()))])?
            .schema()
            .as_arrow()
            .clone();
        let (rollups_url, rollups_base) = rollups_at;
        let rollups = Arc::new(RollupsTable::new(
            store.clone(),
            Arc::new(rollup_schema),
            rollups_url,
            &rollups_base,
        ));
        ctx.register_table("rollups", rollups.clone())?;
        Ok(QueryEngine {
            ctx,
            store: store.clone(),
            rollups,
            consolidate_after: Some(crate::rollups::CONSOLIDATE_AFTER),
            cluster: options.cluster.clone(),
        })
    }

    /// From now on `samples` also holds the rows written so far of runs still being written
    /// (`live_samples`), so every report can be computed for a live run; the committed table
    /// stays reachable as `samples_committed`. Call before [`QueryEngine::use_intended_latency`].
    pub async fn include_live_runs(&self) -> Result<(), QueryError> {
        if self.ctx.table_exist("samples_committed")? {
            return Ok(());
        }
        let Some(committed) = self.ctx.deregister_table("samples")? else {
            return Ok(());
        };
        self.ctx.register_table("samples_committed", committed)?;
        let both = self
            .ctx
            .table("samples_committed")
            .await?
            .union(self.ctx.table("live_samples").await?)?;
        self.ctx.register_table("samples", both.into_view())?;
        Ok(())
    }

    /// From now on `samples`' times are in **microseconds** where a run measured them
    /// (`elapsed_us`, `latency_us`, `connect_us`: k6 imports, the native runner) and whole
    /// milliseconds × 1000 elsewhere (JMeter files), under their `_ms` names, so that every
    /// report query computes percentiles, averages and curves to the µs; the table as stored
    /// (or as [`QueryEngine::use_intended_latency`] made it) stays reachable as `samples_ms`.
    /// Thresholds the queries take in ms (response-time ranges, APDEX, SLA rules) are scaled by
    /// [`QueryEngine::time_scale`]. With intended latencies, call that one first.
    pub async fn use_microseconds(&self) -> Result<(), QueryError> {
        if self.ctx.table_exist("samples_ms")? {
            return Ok(());
        }
        let Some(stored) = self.ctx.deregister_table("samples")? else {
            return Ok(());
        };
        self.ctx.register_table("samples_ms", stored)?;
        let table = self.ctx.table("samples_ms").await?;
        let in_us =
            |us: &str, ms: &str| coalesce(vec![df_col(us), df_col(ms) * lit(1000i64)]).alias(ms);
        let columns: Vec<Expr> = table
            .schema()
            .fields()
            .iter()
            .map(|f| match f.name().as_str() {
                name if name == col::ELAPSED_MS => in_us(col::ELAPSED_US, col::ELAPSED_MS),
                name if name == col::LATENCY_MS => in_us(col::LATENCY_US, col::LATENCY_MS),
                name if name == col::CONNECT_MS => in_us(col::CONNECT_US, col::CONNECT_MS),
                name if name == col::IDLE_MS || name == col::INTENDED_ELAPSED_MS => {
                    (df_col(name) * lit(1000i64)).alias(name)
                }
                name => df_col(format!("\"{name}\"")),
            })
            .collect();
        let view = table.select(columns)?.into_view();
        self.ctx.register_table("samples", view)?;
        // End times (`ts` + a duration) stay whole ms: queries divide by `time_scale()`.
        self.ctx
            .register_udf(crate::functions::time_scale::time_scale_udf(1000));
        Ok(())
    }

    /// What a time in the session's `samples` is, in ms: 1 (whole ms), or 1000 after
    /// [`QueryEngine::use_microseconds`]. Thresholds given in ms are multiplied by it.
    pub fn time_scale(&self) -> i64 {
        self.time_unit().per_ms()
    }

    /// The unit of the session's response times: ms, or µs after
    /// [`QueryEngine::use_microseconds`].
    pub fn time_unit(&self) -> TimeUnit {
        match self.ctx.table_exist("samples_ms") {
            Ok(true) => TimeUnit::Us,
            _ => TimeUnit::Ms,
        }
    }

    /// From now on `samples.elapsed_ms` is the latency from the **intended** send time where a
    /// run recorded it (open-model runs: `intended_elapsed_ms`, coordinated omission corrected),
    /// the service time elsewhere; every report query then shows the corrected latency. The
    /// recorded table stays reachable as `samples_recorded`. `elapsed_us` becomes the intended
    /// latency too where both are known: the µs service time plus the lateness, which the
    /// runner records in whole ms (`intended_elapsed_ms - elapsed_ms`), so that
    /// [`QueryEngine::use_microseconds`], called after this, reads intended latencies.
    pub async fn use_intended_latency(&self) -> Result<(), QueryError> {
        if self.ctx.table_exist("samples_recorded")? {
            return Ok(());
        }
        if self.ctx.table_exist("samples_ms")? {
            return Err(QueryError::MicrosWithIntended);
        }
        let Some(recorded) = self.ctx.deregister_table("samples")? else {
            return Ok(());
        };
        self.ctx.register_table("samples_recorded", recorded)?;
        let table = self.ctx.table("samples_recorded").await?;
        let columns: Vec<Expr> = table
            .schema()
            .fields()
            .iter()
            .map(|f| match f.name().as_str() {
                name if name == col::ELAPSED_MS => coalesce(vec![
                    df_col(col::INTENDED_ELAPSED_MS),
                    df_col(col::ELAPSED_MS),
                ])
                .alias(col::ELAPSED_MS),
                name if name == col::ELAPSED_US => coalesce(vec![
                    df_col(col::ELAPSED_US)
                        + (df_col(col::INTENDED_ELAPSED_MS) - df_col(col::ELAPSED_MS))
                            * lit(1000i64),
                    df_col(col::ELAPSED_US),
                ])
                .alias(col::ELAPSED_US),
                name => df_col(format!("\"{name}\"")),
            })
            .collect();
        let view = table.select(columns)?.into_view();
        self.ctx.register_table("samples", view)?;
        Ok(())
    }

    /// Runs one read-only SQL statement and collects its result.
    pub async fn sql_read_only(&self, sql: &str) -> Result<Vec<RecordBatch>, QueryError> {
        self.sql_with_params(sql, Vec::new()).await.map(|(_, b)| b)
    }

    /// Runs read-only SQL with `$1`, `$2`… parameters; returns the result schema and batches
    /// (the schema is kept so that empty results still print their columns). A query that met
    /// a file deleted under it (a run deleted while it ran) is planned and run again, up to
    /// [`VANISHED_FILE_RETRIES`] times.
    pub async fn sql_with_params(
        &self,
        sql: &str,
        params: Vec<ScalarValue>,
    ) -> Result<(Arc<Schema>, Vec<RecordBatch>), QueryError> {
        let mut retries = 0;
        loop {
            match self.sql_with_params_once(sql, params.clone()).await {
                Err(QueryError::DataFusion(e))
                    if retries < VANISHED_FILE_RETRIES && crate::is_vanished_file(&e) =>
                {
                    tracing::debug!("a file vanished under the query, planning it again: {e}");
                    retries += 1;
                }
                result => return result,
            }
        }
    }

    async fn sql_with_params_once(
        &self,
        sql: &str,
        params: Vec<ScalarValue>,
    ) -> Result<(Arc<Schema>, Vec<RecordBatch>), QueryError> {
        let mut df = self.dataframe_read_only(sql).await?;
        if !params.is_empty() {
            df = df.with_param_values(params)?;
        }
        let schema = Arc::new(Schema::new(
            df.schema()
                .fields()
                .iter()
                .map(|f| Field::new(f.name(), f.data_type().clone(), f.is_nullable()))
                .collect::<Vec<_>>(),
        ));
        let batches = self.collect_counted(df).await?;
        Ok((schema, batches))
    }

    /// Runs `df` and collects its batches, holding what is collected in the session's memory
    /// pool: a result larger than the query memory limit fails with `ResourcesExhausted`
    /// instead of growing without bound (DataFusion's `collect` does not count it).
    async fn collect_counted(&self, df: DataFrame) -> Result<Vec<RecordBatch>, QueryError> {
        let mut stream = match df.execute_stream().await {
            Ok(stream) => stream,
            Err(e) => return Err(self.query_failure(e).await),
        };
        let reservation =
            MemoryConsumer::new("collected result").register(&self.ctx.runtime_env().memory_pool);
        let mut batches = Vec::new();
        while let Some(batch) = stream.next().await {
            let batch = match batch {
                Ok(batch) => batch,
                Err(e) => return Err(self.query_failure(e).await),
            };
            reservation.try_grow(batch.get_array_memory_size())?;
            batches.push(batch);
        }
        Ok(batches)
    }

    /// `e`, the error a query of this engine met while it ran; on a cluster, with the workers
    /// that stopped answering named (see [`QueryCluster::after_failure`]).
    pub async fn query_failure(&self, e: DataFusionError) -> QueryError {
        if let Some(cluster) = &self.cluster
            && let Some(lost) = cluster.after_failure(&e).await
        {
            return QueryError::WorkerLost { lost, source: e };
        }
        QueryError::DataFusion(e)
    }

    /// Plans one SQL statement after checking it is read-only (no DDL, DML, COPY, SET); the
    /// caller executes it (collected or streamed).
    pub async fn dataframe_read_only(&self, sql: &str) -> Result<DataFrame, QueryError> {
        let plan = self.ctx.state().create_logical_plan(sql).await?;
        let read_only = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        read_only.verify_plan(&plan).map_err(|e| {
            QueryError::ReadOnly(
                e.strip_backtrace()
                    .trim_start_matches("Error during planning: ")
                    .to_string(),
            )
        })?;
        if let (Some(cluster), LogicalPlan::Explain(explain)) = (&self.cluster, &plan) {
            return self.explain_distributed(cluster.as_ref(), explain).await;
        }
        Ok(self.ctx.execute_logical_plan(plan).await?)
    }

    /// `EXPLAIN` on a cluster: the logical plan, and the physical plan as the cluster's planner
    /// makes it, with its stages (DataFusion's own EXPLAIN plans on one node).
    async fn explain_distributed(
        &self,
        cluster: &dyn QueryCluster,
        explain: &Explain,
    ) -> Result<DataFrame, QueryError> {
        let physical = self.ctx.state().create_physical_plan(&explain.plan).await?;
        let plan_type = StringArray::from(vec!["logical_plan", "physical_plan"]);
        let plan = StringArray::from(vec![
            explain.plan.display_indent().to_string(),
            cluster.display_plan(physical.as_ref()),
        ]);
        let batch = RecordBatch::try_from_iter(vec![
            ("plan_type", Arc::new(plan_type) as ArrayRef),
            ("plan", Arc::new(plan) as ArrayRef),
        ])?;
        Ok(self.ctx.read_batch(batch)?)
    }
}
