//! Rollups give the numbers the samples give: every field of `ScopeMetrics` of every scope (the
//! run, each case, each label with and without its case, labels and cases a run lacks), for
//! several percentiles and every histogram method, from `scope_metrics_of_runs` (rollups, one
//! query for all runs) and from `scope_metrics` (the samples, run by run), over three runs of
//! generated samples with sub-samples, transactions, empty transactions and every error family.

use std::collections::BTreeMap;

use loadlake_query::QueryEngine;
use loadlake_query::functions::PercentileMethod;
use loadlake_query::reports::scope::{Scope, ScopeMetrics, scope_metrics, scope_metrics_of_runs};
use loadlake_query::reports::sla::Metric;
use loadlake_query::reports::trend::trend;
use loadlake_schema::{RunStatus, SampleBatchBuilder, SampleKind, SampleRecord};
use loadlake_store::{RunDraft, Store, WriterOptions};

/// Response code, message and failure message of the error families, and of a success.
const OUTCOMES: [(&str, &str, Option<&str>, bool); 7] = [
    ("200", "OK", None, true),
    ("200", "OK", Some("Test failed: text expected"), false),
    ("404", "Not Found", None, false),
    ("500", "Internal Server Error", None, false),
    (
        "Non HTTP response code: java.net.ConnectException",
        "Non HTTP response message: Connection refused",
        None,
        false,
    ),
    (
        "Non HTTP response code: java.net.SocketTimeoutException",
        "Non HTTP response message: Read timed out",
        None,
        false,
    ),
    (
        "Non HTTP response code: org.apache.http.MalformedChunkCodingException",
        "Non HTTP response message: Bad chunk header",
        None,
        false,
    ),
];
const TX_ONE: &str = "Number of samples in transaction : 1, number of failing samples : 0";
const TX_EMPTY: &str = "Number of samples in transaction : 0, number of failing samples : 0";

/// A small deterministic generator (xorshift), so the runs differ but the test repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// `n` samples of run `seed`: labels a–d in cases X and Y (d only in seed 1), a sub-sample
/// after every fifth sample, a transaction `t` (sometimes empty) after every seventh.
fn samples(seed: u64, n: usize) -> Vec<SampleRecord<'static>> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (seed * 7919 + 1));
    let labels: &[&'static str] = if seed == 1 {
        &["a", "b", "c", "d"]
    } else {
        &["a", "b", "c"]
    };
    let mut rows = Vec::new();
    let mut ts = 1_767_225_600_000 + seed as i64 * 3_600_000;
    for i in 0..n {
        ts += rng.next(200) as i64;
        let (code, message, failure, success) = OUTCOMES[rng.next(7) as usize];
        let case = if rng.next(3) == 0 { "Y" } else { "X" };
        let parent = rows.len() as i64;
        rows.push(SampleRecord {
            ts_ms: Some(ts),
            elapsed_ms: Some(rng.next(3000) as i64),
            label: labels[rng.next(labels.len() as u64) as usize],
            case_name: Some(case),
            success,
            response_code: Some(code),
            response_message: Some(message),
            failure_message: failure,
            ..Default::default()
        });
        if i % 5 == 0 {
            rows.push(SampleRecord {
                ts_ms: Some(ts),
                elapsed_ms: Some(rng.next(500) as i64),
                label: "a-0",
                case_name: Some(case),
                kind: Some(SampleKind::Subsample),
                parent_row: Some(parent),
                success: true,
                response_code: Some("200"),
                response_message: Some("OK"),
                ..Default::default()
            });
        }
        if i % 7 == 0 {
            let empty = rng.next(4) == 0;
            rows.push(SampleRecord {
                ts_ms: Some(ts),
                elapsed_ms: Some(if empty { 0 } else { rng.next(4000) as i64 }),
                label: "t",
                case_name: Some(case),
                success: empty || success,
                response_code: Some(if empty { "" } else { code }),
                response_message: Some(if empty { TX_EMPTY } else { TX_ONE }),
                ..Default::default()
            });
        }
    }
    rows
}

fn commit(store: &Store, seed: u64, n: usize) -> String {
    let mut writer = store.begin_run(WriterOptions::default()).unwrap();
    let mut builder = SampleBatchBuilder::new(0);
    for row in samples(seed, n) {
        builder.push(&row).unwrap();
    }
    writer.write(builder.finish().unwrap()).unwrap();
    let draft = RunDraft {
        name: format!("run {seed}"),
        tags: BTreeMap::new(),
        status: RunStatus::Complete,
        sources: vec![],
        plan: None,
    };
    writer
        .commit(draft, &[] as &[&str])
        .unwrap()
        .run_id
        .to_string()
}

fn scopes() -> Vec<Scope> {
    let mut scopes = vec![Scope::Run];
    for case in ["X", "Y", "Z"] {
        scopes.push(Scope::of(Some(case), None));
    }
    for label in ["a", "b", "c", "d", "t", "a-0", "none"] {
        scopes.push(Scope::of(None, Some(label)));
        scopes.push(Scope::of(Some("X"), Some(label)));
    }
    scopes
}

#[tokio::test]
async fn every_scope_metric_from_rollups_equals_the_samples() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let ids = [
        commit(&store, 1, 1_500),
        commit(&store, 2, 900),
        commit(&store, 3, 40),
    ];
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let engine = QueryEngine::open(&store).await.unwrap();
    let methods = [
        PercentileMethod::NearestRank,
        PercentileMethod::Linear,
        PercentileMethod::JmeterAggregate,
        PercentileMethod::Legacy,
    ];
    let mut compared = 0;
    for scope in scopes() {
        for method in methods {
            for percentile in [50.0, 90.0, 99.9] {
                let rolled = scope_metrics_of_runs(&engine, &ids, &scope, percentile, method)
                    .await
                    .unwrap();
                for id in &ids {
                    let raw = scope_metrics(&engine, id, &scope, percentile, method)
                        .await
                        .unwrap();
                    let from_rollup = rolled.get(*id).cloned().unwrap_or_else(ScopeMetrics::empty);
                    assert_eq!(
                        from_rollup, raw,
                        "{scope:?} {method:?} p{percentile} of run {id}"
                    );
                    compared += usize::from(raw.requests > 0);
                }
            }
        }
    }
    // Most scopes have samples in every run: the comparison is not between empty results.
    assert!(compared > 300, "only {compared} non-empty comparisons");
}

#[tokio::test]
async fn a_rollup_is_written_once_and_leaves_with_its_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = commit(&store, 2, 100);
    let engine = QueryEngine::open(&store).await.unwrap();
    engine.ensure_rollups(&[&id]).await.unwrap();
    let file = dir
        .path()
        .join(format!("rollups/run_id={id}/rollup.parquet"));
    let written = std::fs::metadata(&file).unwrap().modified().unwrap();
    engine.ensure_rollups(&[&id]).await.unwrap();
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        written
    );
    // Only the finished file is in the partition.
    let names: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["rollup.parquet"]);

    let rows = rollup_rows(&engine).await;
    assert!(rows > 0);
    store.delete_run(&id).unwrap();
    // Hidden at once (with the samples), removed with them after the grace period.
    assert_eq!(rollup_rows(&engine).await, 0);
    store.purge_deleted(std::time::Duration::ZERO).unwrap();
    assert!(!file.exists());
}

#[tokio::test]
async fn a_trend_where_rollups_cannot_be_written_is_computed_from_the_samples() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let writable = commit(&store, 1, 300);
    let blocked = commit(&store, 2, 300);
    // A file where the rollup's directory would go: writing the rollup fails (as on a store this
    // process may only read; tests run as root, so permissions would not stop it).
    std::fs::write(dir.path().join(format!("rollups/run_id={blocked}")), b"").unwrap();
    let engine = QueryEngine::open(&store).await.unwrap();
    let runs = store.runs().unwrap();
    let runs: Vec<_> = runs.iter().collect();
    let scope = Scope::of(None, Some("a"));
    let method = PercentileMethod::NearestRank;
    let trend = trend(
        &engine,
        &runs,
        &scope,
        Metric::Percentile(95.0),
        "tp95",
        method,
    )
    .await
    .unwrap();
    assert_eq!(trend.points.len(), 2);
    for point in &trend.points {
        let raw = scope_metrics(&engine, &point.run_id, &scope, 95.0, method)
            .await
            .unwrap();
        assert_eq!(point.value, raw.percentile, "run {}", point.run_id);
        assert_eq!(point.samples, raw.requests);
        assert!(raw.requests > 0);
    }
    assert!(
        trend.points.iter().any(|p| p.run_id == writable)
            && trend.points.iter().any(|p| p.run_id == blocked)
    );
}

/// Rows of the `rollups` table.
async fn rollup_rows(engine: &QueryEngine) -> i64 {
    let batches = engine
        .sql_read_only("select count(*) as n from rollups")
        .await
        .unwrap();
    let n = arrow::compute::cast(batches[0].column(0), &arrow::datatypes::DataType::Int64).unwrap();
    n.as_any()
        .downcast_ref::<arrow::array::Int64Array>()
        .unwrap()
        .value(0)
}
