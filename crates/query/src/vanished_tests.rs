//! Queries that meet a file deleted under them (a run deleted while they ran).

use std::sync::Arc;

use arrow::array::AsArray;
use arrow::datatypes::Int64Type;
use loadlake_schema::{RunStatus, SampleBatchBuilder, SampleRecord};
use loadlake_store::{RunDraft, Store, WriterOptions};

use crate::{QueryEngine, is_vanished_file};

/// Commits a run of `n` samples; returns its id.
fn commit_run(store: &Store, n: i64) -> String {
    let mut w = store.begin_run(WriterOptions::default()).unwrap();
    let mut b = SampleBatchBuilder::new(0);
    for i in 0..n {
        b.push(&SampleRecord {
            ts_ms: Some(1_000 + i),
            // Values that do not compress away: the file must be larger than what reading its
            // footer fetches, or its data would come from the planner's cached read.
            elapsed_ms: Some(i.wrapping_mul(7_919) % 100_003),
            label: "home",
            success: true,
            ..Default::default()
        })
        .unwrap();
    }
    w.write(b.finish().unwrap()).unwrap();
    let draft = RunDraft {
        name: "r".into(),
        tags: Default::default(),
        status: RunStatus::Complete,
        sources: vec![],
        plan: None,
    };
    w.commit(draft, &[] as &[&str]).unwrap().run_id.to_string()
}

/// Of the elapsed times `commit_run(_, n)` writes, how many are even.
fn even_elapsed(n: i64) -> i64 {
    (0..n)
        .filter(|i| (i.wrapping_mul(7_919) % 100_003) % 2 == 0)
        .count() as i64
}

fn count(batches: &[arrow::record_batch::RecordBatch]) -> i64 {
    batches[0].column(0).as_primitive::<Int64Type>().value(0)
}

/// Even elapsed times, over every run of `samples`.
const EVEN_COUNT: &str = "select count(*) from samples where elapsed_ms % 2 = 0";

/// A store of two runs (3 and 300 000 samples, the bigger one `gone`), an engine over it, and
/// [`EVEN_COUNT`] planned — its files listed — but not run yet.
struct PlannedScan {
    dir: tempfile::TempDir,
    store: Store,
    engine: QueryEngine,
    gone: String,
    plan: Arc<dyn datafusion::physical_plan::ExecutionPlan>,
    task: Arc<datafusion::execution::TaskContext>,
}

impl PlannedScan {
    async fn new() -> PlannedScan {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        commit_run(&store, 3);
        let gone = commit_run(&store, 300_000);
        let engine = QueryEngine::open(&store).await.unwrap();
        let df = engine.dataframe_read_only(EVEN_COUNT).await.unwrap();
        let task = Arc::new(df.task_ctx());
        let plan = df.create_physical_plan().await.unwrap();
        PlannedScan {
            dir,
            store,
            engine,
            gone,
            plan,
            task,
        }
    }
}

#[tokio::test]
async fn a_run_deleted_under_a_planned_query_is_still_read_and_hidden_from_new_ones() {
    // The plan lists both runs' files; one run is deleted before they are read: the query
    // still reads what it listed.
    let PlannedScan {
        dir,
        store,
        engine,
        gone,
        plan,
        task,
    } = PlannedScan::new().await;
    let sql = EVEN_COUNT;
    store.delete_run(&gone).unwrap();
    assert!(store.run(&gone).is_err(), "a deleted run is not found");
    let planned_before = datafusion::physical_plan::collect(plan, task)
        .await
        .unwrap();
    assert_eq!(
        count(&planned_before),
        even_elapsed(3) + even_elapsed(300_000)
    );

    // A new query (of this engine or a new one) does not see it: of the other run's elapsed
    // times 0, 7919, 15838 two are even.
    let (_, batches) = engine.sql_with_params(sql, vec![]).await.unwrap();
    assert_eq!(count(&batches), 2);
    let (_, batches) = engine
        .sql_with_params("select count(distinct run_id) from samples", vec![])
        .await
        .unwrap();
    assert_eq!(count(&batches), 1);

    // Opening the store again within the grace keeps its files; a purge after it removes them.
    let samples_dir = store
        .layout()
        .run_samples_dir(&loadlake_schema::RunId::parse(&gone).unwrap());
    let reopened = Store::open(dir.path()).unwrap();
    assert!(samples_dir.exists(), "removed within the grace");
    assert_eq!(
        reopened.purge_deleted(std::time::Duration::ZERO).unwrap(),
        1
    );
    assert!(!samples_dir.exists());
    assert!(reopened.deleted_runs().unwrap().is_empty());
}

#[tokio::test]
async fn files_purged_under_a_planned_query_are_told_apart_and_a_new_plan_sees_the_store_as_it_is()
{
    // The plan lists both runs' files; they are purged (a query that outlived the grace)
    // before they are read.
    let PlannedScan {
        dir: _dir,
        store,
        engine,
        gone,
        plan,
        task,
    } = PlannedScan::new().await;
    let sql = EVEN_COUNT;
    store.delete_run(&gone).unwrap();
    store.purge_deleted(std::time::Duration::ZERO).unwrap();
    let err = datafusion::physical_plan::collect(plan, task)
        .await
        .unwrap_err();
    assert!(is_vanished_file(&err), "not told apart: {err}");

    // Other failures are not mistaken for it.
    let planning = engine
        .dataframe_read_only("select * from nosuchtable")
        .await;
    let Err(crate::QueryError::DataFusion(planning)) = planning else {
        panic!("expected a planning error");
    };
    assert!(!is_vanished_file(&planning));

    // The engine's own path plans again, on the run that is left.
    let (_, batches) = engine.sql_with_params(sql, vec![]).await.unwrap();
    assert_eq!(count(&batches), 2);
}
