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

#[tokio::test]
async fn a_deleted_runs_files_are_told_apart_and_a_new_plan_sees_the_store_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    commit_run(&store, 3);
    let gone = commit_run(&store, 300_000);
    let engine = QueryEngine::open(&store).await.unwrap();
    let sql = "select count(*) from samples where elapsed_ms % 2 = 0";

    // The plan lists both runs' files; one run is deleted before they are read.
    let df = engine.dataframe_read_only(sql).await.unwrap();
    let task = Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await.unwrap();
    store.delete_run(&gone).unwrap();
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

    // The engine's own path plans again, on the run that is left: of its elapsed times
    // 0, 7919, 15838 two are even.
    let (_, batches) = engine.sql_with_params(sql, vec![]).await.unwrap();
    assert_eq!(batches[0].column(0).as_primitive::<Int64Type>().value(0), 2);
}
