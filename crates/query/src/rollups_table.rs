//! The `rollups` table: the rows of the newest consolidated rollup for the runs it covers that
//! still exist, and the per-run rollup files of the existing runs it does not cover
//! (crates/store's `merged_rollups.rs`), read as of each scan.
//!
//! A `ListingTable` over `rollups/run_id=<id>/` lists and opens one file per run: about
//! 0.5–1 ms a run before any row is read, so a trend over 1 000 runs spent most of its time
//! there (benches/README.md, "Trend from rollups"). This table lists nothing per run: the store
//! tells it which runs exist and which one file holds most of them, and it builds the Parquet
//! scans itself — the consolidated file (its own `run_id` column, filtered to the runs that
//! still exist when some covered run is gone) united with the per-run files (their `run_id`
//! from the Hive partition, as before). Both have the same columns, so queries see one table.
//!
//! Filters that name runs (`run_id = …`, `run_id IN (…)`, `array_has([…], run_id)`, as
//! `queries/scope_metrics_rollups.sql` does with its list parameter) restrict which per-run
//! files are looked up and which consolidated rows are kept; every filter is also applied
//! again above the scan (they are all "inexact" here).

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DataFusionError, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_expr::expressions::{Column, in_list, lit};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::union::UnionExec;
use loadlake_schema::{RunId, col};
use loadlake_store::{RollupSnapshot, Store};

/// The `rollups` table of a session (see the module doc).
#[derive(Debug)]
pub(crate) struct RollupsTable {
    store: Store,
    /// What `queries/rollup.sql` gives: the columns of a per-run file.
    file_schema: SchemaRef,
    /// `file_schema` and `run_id`: the table, and the columns of a consolidated file.
    schema: SchemaRef,
    /// The object store the files are read from (`file:///`, `s3://bucket`).
    url: ObjectStoreUrl,
    /// What store-relative keys are under in that object store: the store's absolute
    /// directory, or its prefix (maybe empty).
    base: String,
}

impl RollupsTable {
    /// The table over `store`'s rollups, whose files are `base/<key>` in the object store at
    /// `url`; `file_schema`: `queries/rollup.sql`'s columns.
    pub(crate) fn new(
        store: Store,
        file_schema: SchemaRef,
        url: ObjectStoreUrl,
        base: &str,
    ) -> Self {
        let mut fields: Vec<Field> = file_schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new(col::RUN_ID, DataType::Utf8, false));
        RollupsTable {
            store,
            file_schema,
            schema: Arc::new(Schema::new(fields)),
            url,
            base: base.trim_matches('/').to_string(),
        }
    }

    /// The table's columns (those of a consolidated file).
    pub(crate) fn table_schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn object_path(&self, rel: &str) -> String {
        if self.base.is_empty() {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.base)
        }
    }

    /// The store's rollups as of now, for the runs of `wanted` if given.
    pub(crate) async fn snapshot(
        &self,
        wanted: Option<HashSet<RunId>>,
    ) -> Result<RollupSnapshot, DataFusionError> {
        let store = self.store.clone();
        // The store's calls block (requests to object storage): off the async threads.
        tokio::task::spawn_blocking(move || store.rollup_snapshot(wanted.as_ref()))
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?
            .map_err(|e| DataFusionError::External(Box::new(e)))
    }

    /// The scan of `snapshot` (only the runs of `wanted`, if given) with `projection`.
    pub(crate) async fn plan(
        &self,
        state: &dyn Session,
        snapshot: &RollupSnapshot,
        wanted: Option<&HashSet<RunId>>,
        projection: Option<&Vec<usize>>,
    ) -> Result<Arc<dyn ExecutionPlan>, DataFusionError> {
        let mut inputs: Vec<Arc<dyn ExecutionPlan>> = Vec::new();
        if let Some(merged) = &snapshot.merged {
            let keep: BTreeSet<&RunId> = merged
                .runs
                .iter()
                .filter(|r| snapshot.live.contains(*r) && wanted.is_none_or(|w| w.contains(*r)))
                .collect();
            if !keep.is_empty() {
                let file =
                    PartitionedFile::new(self.object_path(&merged.file.rel), merged.file.size);
                let all = keep.len() == merged.runs.len();
                inputs.push(
                    self.merged_scan(state, file, (!all).then_some(&keep), projection)
                        .await?,
                );
            }
        }
        if !snapshot.per_run.is_empty() {
            let files: Vec<PartitionedFile> = snapshot
                .per_run
                .iter()
                .filter(|(r, _)| wanted.is_none_or(|w| w.contains(r)))
                .map(|(run, object)| {
                    let mut file = PartitionedFile::new(self.object_path(&object.rel), object.size);
                    file.partition_values = vec![ScalarValue::Utf8(Some(run.to_string()))];
                    file
                })
                .collect();
            if !files.is_empty() {
                let groups = state.config().target_partitions().max(1);
                let per_group = files.len().div_ceil(groups);
                let file_groups = files
                    .chunks(per_group)
                    .map(|c| FileGroup::new(c.to_vec()))
                    .collect();
                let partition = Arc::new(Field::new(col::RUN_ID, DataType::Utf8, false));
                let table_schema = TableSchema::builder(Arc::clone(&self.file_schema))
                    .with_table_partition_cols(vec![partition])
                    .build();
                inputs.push(
                    self.parquet_scan(state, table_schema, file_groups, projection.cloned())
                        .await?,
                );
            }
        }
        match inputs.len() {
            0 => {
                let schema = match projection {
                    Some(p) => Arc::new(self.schema.project(p)?),
                    None => Arc::clone(&self.schema),
                };
                Ok(Arc::new(EmptyExec::new(schema)))
            }
            _ => UnionExec::try_new(inputs),
        }
    }

    /// The consolidated file's rows, of the runs of `keep` only if given.
    async fn merged_scan(
        &self,
        state: &dyn Session,
        file: PartitionedFile,
        keep: Option<&BTreeSet<&RunId>>,
        projection: Option<&Vec<usize>>,
    ) -> Result<Arc<dyn ExecutionPlan>, DataFusionError> {
        let table_schema = TableSchema::from(Arc::clone(&self.schema));
        let groups = vec![FileGroup::new(vec![file])];
        let Some(keep) = keep else {
            return self
                .parquet_scan(state, table_schema, groups, projection.cloned())
                .await;
        };
        // The filter needs run_id: scan it too, and project it away after.
        let run_id = self.schema.index_of(col::RUN_ID)?;
        let mut columns: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        let wanted_columns = columns.len();
        if !columns.contains(&run_id) {
            columns.push(run_id);
        }
        let scan = self
            .parquet_scan(state, table_schema, groups, Some(columns.clone()))
            .await?;
        let scanned = scan.schema();
        let run_col = Arc::new(Column::new_with_schema(col::RUN_ID, &scanned)?);
        let ids = keep
            .iter()
            .map(|r| lit(ScalarValue::Utf8(Some(r.to_string()))))
            .collect();
        let predicate = in_list(run_col, ids, &false, &scanned)?;
        let filtered: Arc<dyn ExecutionPlan> = Arc::new(FilterExec::try_new(predicate, scan)?);
        if columns.len() == wanted_columns {
            return Ok(filtered);
        }
        let exprs: Vec<(Arc<dyn datafusion::physical_expr::PhysicalExpr>, String)> = scanned
            .fields()
            .iter()
            .enumerate()
            .take(wanted_columns)
            .map(|(i, f)| (Arc::new(Column::new(f.name(), i)) as _, f.name().clone()))
            .collect();
        Ok(Arc::new(ProjectionExec::try_new(exprs, filtered)?))
    }

    async fn parquet_scan(
        &self,
        state: &dyn Session,
        table_schema: TableSchema,
        groups: Vec<FileGroup>,
        projection: Option<Vec<usize>>,
    ) -> Result<Arc<dyn ExecutionPlan>, DataFusionError> {
        let format = ParquetFormat::default();
        let source = format.file_source(table_schema);
        let config = FileScanConfigBuilder::new(self.url.clone(), source)
            .with_file_groups(groups)
            .with_projection_indices(projection)?
            .build();
        format.create_physical_plan(state, config).await
    }
}

#[async_trait::async_trait]
impl TableProvider for RollupsTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>, DataFusionError> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>, DataFusionError> {
        let wanted = wanted_runs(filters);
        let snapshot = self.snapshot(wanted.clone()).await?;
        self.plan(state, &snapshot, wanted.as_ref(), projection)
            .await
    }
}

/// The runs `filters` (a conjunction) restrict `run_id` to, if any of them does.
pub(crate) fn wanted_runs(filters: &[Expr]) -> Option<HashSet<RunId>> {
    let mut wanted: Option<HashSet<RunId>> = None;
    for filter in filters {
        if let Some(ids) = runs_of(filter) {
            let ids: HashSet<RunId> = ids.iter().filter_map(|s| RunId::parse(s).ok()).collect();
            wanted = Some(match wanted {
                Some(w) => w.intersection(&ids).cloned().collect(),
                None => ids,
            });
        }
    }
    wanted
}

/// The run ids `filter` allows, if it is one of the forms that name them.
fn runs_of(filter: &Expr) -> Option<Vec<String>> {
    let is_run_id = |e: &Expr| matches!(e, Expr::Column(c) if c.name == col::RUN_ID);
    match filter {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => {
            let (column, value) = if is_run_id(left) {
                (left, right)
            } else {
                (right, left)
            };
            match (is_run_id(column), value.as_ref()) {
                (true, Expr::Literal(v, _)) => Some(vec![utf8(v)?]),
                _ => None,
            }
        }
        Expr::InList(list) if !list.negated && is_run_id(&list.expr) => list
            .list
            .iter()
            .map(|e| match e {
                Expr::Literal(v, _) => utf8(v),
                _ => None,
            })
            .collect(),
        Expr::ScalarFunction(f) if f.name() == "array_has" && f.args.len() == 2 => {
            match (&f.args[0], &f.args[1]) {
                (Expr::Literal(list, _), column) if is_run_id(column) => list_values(list),
                _ => None,
            }
        }
        _ => None,
    }
}

fn utf8(v: &ScalarValue) -> Option<String> {
    match v {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(s.clone()),
        _ => None,
    }
}

/// The strings of a list literal (`None` if it holds anything else, a NULL included).
fn list_values(v: &ScalarValue) -> Option<Vec<String>> {
    let values = match v {
        ScalarValue::List(list) if list.len() == 1 && !list.is_null(0) => list.value(0),
        _ => return None,
    };
    let values = arrow::compute::cast(&values, &DataType::Utf8).ok()?;
    let values = values.as_string::<i32>();
    (0..values.len())
        .map(|i| (!values.is_null(i)).then(|| values.value(i).to_string()))
        .collect()
}
