//! The query memory limit holds for scalar functions: real queries through the engine under a
//! 64 MiB limit. Each refused query asks for 1.5–4 times the limit (small enough to run to the
//! end without the guards, which is how these tests fail without them); each small use is
//! compared with a hand-computed answer.

use arrow::util::display::array_value_to_string;
use datafusion::error::DataFusionError;
use loadlake_schema::fault::{Fault, HasFault};
use loadlake_store::Store;

use crate::{EngineOptions, QueryEngine, QueryError};

const LIMIT: usize = 64 << 20;

async fn engine(dir: &tempfile::TempDir, limit: Option<usize>) -> QueryEngine {
    let store = Store::open(dir.path()).expect("open a store in a temporary directory");
    QueryEngine::open_with(
        &store,
        &EngineOptions {
            memory_bytes: limit,
            ..EngineOptions::default()
        },
    )
    .await
    .expect("open the engine")
}

/// The first column of the only row, as text.
async fn one_value(engine: &QueryEngine, sql: &str) -> String {
    let batches = engine
        .sql_read_only(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let batch = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .unwrap_or_else(|| panic!("{sql}: no row"));
    array_value_to_string(batch.column(0), 0).expect("display the value")
}

/// Asserts `sql` fails with `ResourcesExhausted` naming the limit.
async fn assert_refused(engine: &QueryEngine, sql: &str, message: &str) {
    if let Err(problem) = refusal(engine, sql, message).await {
        panic!("{problem}");
    }
}

/// Whether `sql` fails with `ResourcesExhausted` and `message`, else what happened instead.
async fn refusal(engine: &QueryEngine, sql: &str, message: &str) -> Result<(), String> {
    let e = match engine.sql_read_only(sql).await {
        Ok(batches) => {
            let rows = batches.iter().map(|b| b.num_rows()).sum::<usize>();
            return Err(format!("{sql}: expected a refusal, got {rows} rows"));
        }
        Err(e) => e,
    };
    if e.fault() != Fault::Exhausted {
        return Err(format!("{sql}: fault {:?}: {e}", e.fault()));
    }
    let QueryError::DataFusion(d) = &e else {
        return Err(format!("{sql}: not a DataFusion error: {e}"));
    };
    if !matches!(d.find_root(), DataFusionError::ResourcesExhausted(_)) {
        return Err(format!("{sql}: {d:?}"));
    }
    let text = e.to_string();
    if !text.contains(message) {
        return Err(format!("{sql}: expected '{message}' in: {text}"));
    }
    Ok(())
}

#[tokio::test]
async fn amplifying_functions_are_refused_over_the_limit() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let engine = engine(&dir, Some(LIMIT)).await;
    let limit = format!("the query memory limit is {LIMIT} bytes");
    let y100 = "y".repeat(100);
    let queries = [
        ("select cardinality(range(1, 20000000))", "range would need"),
        (
            "select cardinality(generate_series(1, 20000000))",
            "generate_series would need",
        ),
        (
            "select cardinality(range(timestamp '2000-01-01T00:00:00', timestamp '2000-12-31T00:00:00', interval '1 second'))",
            "range would need",
        ),
        ("select length(repeat('x', 100000000))", "repeat would need"),
        ("select length(lpad('x', 100000000))", "lpad would need"),
        (
            "select length(rpad('x', 50000000, 'ab'))",
            "rpad would need",
        ),
        (
            "select length(replace(repeat('x', 1000000), 'x', repeat('y', 100)))",
            "replace would need",
        ),
        (
            &format!("select length(regexp_replace(repeat('x', 1000000), 'x', '{y100}', 'g'))"),
            "regexp_replace would need",
        ),
        (
            "select cardinality(array_repeat(1, 10000000))",
            "array_repeat would need",
        ),
        (
            "select cardinality(list_repeat(1, 10000000))",
            "array_repeat would need",
        ),
        (
            "select cardinality(array_resize([1], 10000000, 0))",
            "array_resize would need",
        ),
        (
            "select cardinality(array_replace_all(array_repeat('a', 100000), 'a', repeat('x', 1000)))",
            "array_replace_all would need",
        ),
        (
            "select length(array_to_string(range(1, 1000000), repeat('x', 100)))",
            "array_to_string would need",
        ),
        (
            "select length(concat(repeat('x', 40000000), repeat('y', 40000000)))",
            "concat would need",
        ),
        // A constant is repeated on every row of a batch (8192 rows of 20 000 bytes).
        (
            "select length(repeat('x', 20000)) from range(10000)",
            "repeat would need",
        ),
    ];
    let mut problems = Vec::new();
    for (sql, message) in queries {
        for needle in [message, limit.as_str()] {
            if let Err(problem) = refusal(&engine, sql, needle).await {
                problems.push(problem);
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn a_step_that_may_not_advance_is_refused() {
    // 2021-02-01 + 1 month - 28 days is 2021-02-01 again: the built-in would loop for ever.
    let dir = tempfile::tempdir().expect("temporary directory");
    let engine = engine(&dir, Some(LIMIT)).await;
    assert_refused(
        &engine,
        "select cardinality(range(date '2021-02-01', date '2021-06-01', interval '1 month -28 days'))",
        "an unbounded number of bytes",
    )
    .await;
}

#[tokio::test]
async fn small_uses_give_the_right_answers_under_the_limit() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let engine = engine(&dir, Some(LIMIT)).await;
    let cases = [
        ("select cardinality(range(1, 11))", "10"),
        ("select cardinality(range(5))", "5"),
        ("select cardinality(generate_series(1, 10))", "10"),
        ("select array_to_string(range(1, 10, 3), ',')", "1,4,7"),
        (
            "select cardinality(range(date '2024-01-01', date '2024-01-31', interval '1 day'))",
            "30",
        ),
        ("select repeat('ab', 3)", "ababab"),
        ("select length(repeat('x', 1000000))", "1000000"),
        ("select lpad('7', 3, '0')", "007"),
        ("select rpad('ab', 5, 'xy')", "abxyx"),
        ("select replace('a-b-c', '-', '+')", "a+b+c"),
        ("select regexp_replace('a1b22', '[0-9]+', 'N', 'g')", "aNbN"),
        ("select array_to_string(array_repeat('z', 3), ',')", "z,z,z"),
        ("select cardinality(list_repeat(1, 4))", "4"),
        (
            "select array_to_string(array_resize([1, 2], 4, 0), ',')",
            "1,2,0,0",
        ),
        (
            "select array_to_string(array_replace_all([1, 2, 1], 1, 9), '-')",
            "9-2-9",
        ),
        (
            "select array_to_string(array_replace([1, 2, 1], 1, 9), '-')",
            "9-2-1",
        ),
        ("select concat('a', 'b', 'c')", "abc"),
        ("select concat_ws('-', 'a', 'b')", "a-b"),
        ("select array_to_string(array_append([1], 2), ',')", "1,2"),
        (
            "select array_to_string(array_concat([1], [2, 3]), ',')",
            "1,2,3",
        ),
        // A constant on many rows within the limit: 10 000 rows of 100 bytes.
        (
            "select sum(length(repeat('x', 100))) from range(10000)",
            "1000000",
        ),
    ];
    for (sql, want) in cases {
        assert_eq!(one_value(&engine, sql).await, want, "{sql}");
    }
}

#[tokio::test]
async fn a_collected_result_counts_against_the_limit() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // 1 000 000 Int64 values are 8 MB: over a 1 MiB limit, within none.
    let small = engine(&dir, Some(1 << 20)).await;
    assert_refused(
        &small,
        "select value from range(1000000)",
        "collected result",
    )
    .await;
    let unlimited = engine(&dir, None).await;
    let rows: usize = unlimited
        .sql_read_only("select value from range(1000000)")
        .await
        .expect("no limit")
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(rows, 1_000_000);
}

#[tokio::test]
async fn faults_of_real_query_errors() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let engine = engine(&dir, Some(LIMIT)).await;
    for users in [
        "select * from nosuchtable",
        "select nosuchcolumn from runs",
        "selec 1",
        "select 1 + 'a' from runs where",
        "create table t as select 1",
    ] {
        let e = engine
            .sql_read_only(users)
            .await
            .expect_err("a mistake in the SQL");
        assert_eq!(e.fault(), Fault::User, "{users}: {e}");
    }
}
