use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{AsArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::datasource::MemTable;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::{ExecutionPlan, collect, displayable};
use datafusion::prelude::{SessionConfig, SessionContext};
use loadlake_schema::{RunStatus, SampleBatchBuilder, SampleRecord};
use loadlake_store::{RunDraft, Store, WriterOptions};

use super::KeyedAggregateExec;
use crate::QueryEngine;

const LABELS: [&str; 3] = ["home", "login", "search"];

/// The elapsed time of sample `i` of run number `run` (spread, with repeats).
fn elapsed(run: i64, i: i64) -> i64 {
    (i * 7_919 + run * 13) % 997
}

/// Commits run number `run`: `n` samples, label `LABELS[i % 3]`, in parts of 7 000 rows.
fn commit_run(store: &Store, run: i64, n: i64) -> String {
    let options = WriterOptions {
        part_rows: 7_000,
        ..Default::default()
    };
    let mut w = store.begin_run(options).unwrap();
    let mut b = SampleBatchBuilder::new(0);
    for i in 0..n {
        b.push(&SampleRecord {
            ts_ms: Some(1_000 + i),
            elapsed_ms: Some(elapsed(run, i)),
            label: LABELS[(i % 3) as usize],
            success: true,
            ..Default::default()
        })
        .unwrap();
    }
    w.write(b.finish().unwrap()).unwrap();
    let draft = RunDraft {
        name: format!("r{run}"),
        tags: Default::default(),
        status: RunStatus::Complete,
        sources: vec![],
        plan: None,
    };
    w.commit(draft, &[] as &[&str]).unwrap().run_id.to_string()
}

/// `row` of every row of `batches`.
fn rows<T>(batches: &[RecordBatch], row: impl Fn(&RecordBatch, usize) -> T) -> Vec<T> {
    (batches.iter())
        .flat_map(|b| (0..b.num_rows()).map(|r| row(b, r)).collect::<Vec<_>>())
        .collect()
}

/// The string in `column` of `b`'s row `r`.
fn text(b: &RecordBatch, column: usize, r: usize) -> String {
    b.column(column).as_string::<i32>().value(r).to_string()
}

/// The integer in `column` of `b`'s row `r`.
fn int(b: &RecordBatch, column: usize, r: usize) -> i64 {
    b.column(column).as_primitive::<Int64Type>().value(r)
}

/// The nearest-rank median of `values` (sorted here).
fn median(mut values: Vec<i64>) -> f64 {
    values.sort_unstable();
    values[values.len().div_ceil(2) - 1] as f64
}

// Three runs of 20 000 samples in parts of 7 000 (several files and batches per run, files of
// one run read by both partitions): count, sum and median per (run, label) against the same
// numbers computed here from the generating formula.
#[tokio::test]
async fn grouping_on_run_id_is_per_segment_and_exact() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let n = 20_000;
    let runs: Vec<String> = (0..3).map(|run| commit_run(&store, run, n)).collect();
    let engine = QueryEngine::open(&store).await.unwrap();
    let sql = "select run_id, label, count(*) as n, sum(elapsed_ms) as s, \
               hist_percentile(ms_histogram(elapsed_ms), 0.5) as p50 \
               from samples group by run_id, label order by run_id, label";
    let plan = engine
        .sql_read_only(&format!("explain {sql}"))
        .await
        .unwrap();
    let plan = format!("{:?}", plan[0].column(1).as_string::<i32>());
    assert!(
        plan.contains("KeyedAggregateExec: per segment of [run_id]"),
        "{plan}"
    );

    let mut want = BTreeMap::<(String, &str), Vec<i64>>::new();
    for (run, id) in runs.iter().enumerate() {
        for i in 0..n {
            let label = LABELS[(i % 3) as usize];
            (want.entry((id.clone(), label)).or_default()).push(elapsed(run as i64, i));
        }
    }
    let batches = engine.sql_read_only(sql).await.unwrap();
    let got = rows(&batches, |b, r| {
        let p50 = b.column(4).as_primitive::<Float64Type>().value(r);
        (
            text(b, 0, r),
            text(b, 1, r),
            int(b, 2, r),
            int(b, 3, r),
            p50,
        )
    });
    let want: Vec<_> = (want.into_iter())
        .map(|((run, label), v)| {
            let sum = v.iter().sum();
            (run, label.to_string(), v.len() as i64, sum, median(v))
        })
        .collect();
    assert_eq!(got, want);
}

// Batches whose key changes inside them and comes back (a, b, a; then a batch of b alone):
// the node splits them where the key changes, and per (key, label) the counts and sums are
// those counted by hand.
#[tokio::test]
async fn a_key_changing_inside_a_batch_is_split() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Utf8, false),
        Field::new("l", DataType::Utf8, false),
        Field::new("v", DataType::Int64, false),
    ]));
    let batch = |k: Vec<&str>, l: Vec<&str>, v: Vec<i64>| {
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(k)),
                Arc::new(StringArray::from(l)),
                Arc::new(Int64Array::from(v)),
            ],
        )
        .unwrap()
    };
    let batches = vec![
        batch(
            vec!["a", "a", "b", "b", "a"],
            vec!["x", "y", "x", "x", "x"],
            vec![1, 2, 3, 4, 5],
        ),
        batch(vec![], vec![], vec![]),
        batch(vec!["b", "b"], vec!["y", "x"], vec![10, 20]),
    ];
    let table = MemTable::try_new(schema.clone(), vec![batches]).unwrap();
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    ctx.register_table("t", Arc::new(table)).unwrap();
    let df = ctx
        .sql("select k, l, count(*) as n, sum(v) as s from t group by k, l order by k, l")
        .await
        .unwrap();
    let plan = df.create_physical_plan().await.unwrap();
    // Not a file scan, so the rule leaves it; wrap the partial aggregation by hand.
    let plan = plan
        .transform_up(|node| {
            let Some(agg) = node.downcast_ref::<AggregateExec>() else {
                return Ok(Transformed::no(node));
            };
            if *agg.mode() != AggregateMode::Partial {
                return Ok(Transformed::no(node));
            }
            let keyed = KeyedAggregateExec::try_new(node.clone(), agg, vec![Some(0), None])?;
            Ok(Transformed::yes(Arc::new(keyed) as Arc<dyn ExecutionPlan>))
        })
        .data()
        .unwrap();
    let shown = displayable(plan.as_ref()).indent(false).to_string();
    assert!(shown.contains("KeyedAggregateExec"), "{shown}");
    let out = collect(plan, ctx.task_ctx()).await.unwrap();
    let got = rows(&out, |b, r| {
        (text(b, 0, r), text(b, 1, r), int(b, 2, r), int(b, 3, r))
    });
    let row = |k: &str, l: &str, n, s| (k.to_string(), l.to_string(), n, s);
    assert_eq!(
        got,
        vec![
            row("a", "x", 2, 6),
            row("a", "y", 1, 2),
            row("b", "x", 3, 27),
            row("b", "y", 1, 10),
        ]
    );
}

// Grouping on the key alone: with an aggregate (one row of states per segment) and without
// any (`count(distinct run_id)`, which the rule leaves as it is).
#[tokio::test]
async fn grouping_on_the_key_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // Run number `run` holds 10 000 + `run` samples.
    let mut want: Vec<(String, i64)> = (0..2)
        .map(|run| (commit_run(&store, run, 10_000 + run), 10_000 + run))
        .collect();
    want.sort();
    let engine = QueryEngine::open(&store).await.unwrap();
    let batches = engine
        .sql_read_only("select run_id, count(*) from samples group by run_id order by run_id")
        .await
        .unwrap();
    let got = rows(&batches, |b, r| (text(b, 0, r), int(b, 1, r)));
    assert_eq!(got, want);
    let batches = engine
        .sql_read_only("select count(distinct run_id) from samples")
        .await
        .unwrap();
    assert_eq!(int(&batches[0], 0, 0), 2);
}
