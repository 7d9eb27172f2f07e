//! Rollups give the numbers the samples give: every field of `ScopeMetrics` of every scope (the
//! run, each case, each label with and without its case, labels and cases a run lacks), for
//! several percentiles and every histogram method, from `scope_metrics_of_runs` (rollups, one
//! query for all runs) and from `scope_metrics` (the samples, run by run), over three runs of
//! generated samples with sub-samples, transactions, empty transactions and every error family.
//!
//! Consolidated rollups (issue 16) give the same numbers as the per-run files and the samples,
//! never count a deleted run, count a run committed after a consolidation once, and stay
//! correct when two consolidations race (local directory, `InMemory`, and S3 when
//! `$LOADLAKE_TEST_S3` names one: scripts/with-s3).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Barrier};

use loadlake_query::functions::PercentileMethod;
use loadlake_query::reports::scope::{Scope, ScopeMetrics, scope_metrics, scope_metrics_of_runs};
use loadlake_query::reports::sla::Metric;
use loadlake_query::reports::trend::trend;
use loadlake_query::{CONSOLIDATE_AFTER, Consolidation, QueryEngine, queries};
use loadlake_schema::{RunStatus, SampleBatchBuilder, SampleKind, SampleRecord};
use loadlake_store::{RunDraft, Store, WriterOptions};
use object_store::memory::InMemory;

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

/// `n` samples of run `seed`: labels a–d in cases X and Y (d only in seed 1), a sub-sample
/// after every fifth sample, a transaction `t` (sometimes empty) after every seventh.
fn samples(seed: u64, n: usize) -> Vec<SampleRecord<'static>> {
    // Seeded, so the runs differ but the test repeats.
    let mut rng = fastrand::Rng::with_seed(0x9E37_79B9_7F4A_7C15 ^ (seed * 7919 + 1));
    let labels: &[&'static str] = if seed == 1 {
        &["a", "b", "c", "d"]
    } else {
        &["a", "b", "c"]
    };
    let mut rows = Vec::new();
    let mut ts = 1_767_225_600_000 + seed as i64 * 3_600_000;
    for i in 0..n {
        ts += rng.u64(..200) as i64;
        let (code, message, failure, success) = OUTCOMES[rng.u64(..7) as usize];
        let case = if rng.u64(..3) == 0 { "Y" } else { "X" };
        let parent = rows.len() as i64;
        rows.push(SampleRecord {
            ts_ms: Some(ts),
            elapsed_ms: Some(rng.u64(..3000) as i64),
            label: labels[rng.u64(..labels.len() as u64) as usize],
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
                elapsed_ms: Some(rng.u64(..500) as i64),
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
            let empty = rng.u64(..4) == 0;
            rows.push(SampleRecord {
                ts_ms: Some(ts),
                elapsed_ms: Some(if empty { 0 } else { rng.u64(..4000) as i64 }),
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

/// Three committed runs of 1 500, 900 and 40 samples: their ids.
fn three_runs(store: &Store) -> [String; 3] {
    [
        commit(store, 1, 1_500),
        commit(store, 2, 900),
        commit(store, 3, 40),
    ]
}

#[tokio::test]
async fn every_scope_metric_from_rollups_equals_the_samples() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let ids = three_runs(&store);
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

/// Rows of each run in the `rollups` table.
async fn rows_by_run(engine: &QueryEngine) -> BTreeMap<String, i64> {
    let batches = engine
        .sql_read_only("select run_id, count(*) as n from rollups group by run_id")
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for b in &batches {
        let runs = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8).unwrap();
        let n = arrow::compute::cast(b.column(1), &arrow::datatypes::DataType::Int64).unwrap();
        let runs = runs
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .unwrap();
        let n = n
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap();
        for row in 0..b.num_rows() {
            out.insert(runs.value(row).to_string(), n.value(row));
        }
    }
    out
}

/// Rows of run `id`'s rollup as `queries/rollup.sql` computes it from the samples now.
async fn rollup_rows_of(engine: &QueryEngine, id: &str) -> i64 {
    let params = vec![datafusion::scalar::ScalarValue::Utf8(Some(id.to_string()))];
    let (_, batches) = engine
        .sql_with_params(queries::ROLLUP, params)
        .await
        .unwrap();
    batches.iter().map(|b| b.num_rows() as i64).sum()
}

/// The whole `rollups` table as text, in a fixed order: every column, histograms included.
async fn rollups_text(engine: &QueryEngine) -> String {
    let batches = engine
        .sql_read_only(
            "select * from rollups order by run_id, case_name, label, kind, empty_transaction",
        )
        .await
        .unwrap();
    arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string()
}

/// Every (scope, method, percentile) of the comparisons of consolidated rollups.
fn combinations() -> Vec<(Scope, PercentileMethod, f64)> {
    let mut out = Vec::new();
    for scope in scopes() {
        for method in [
            PercentileMethod::NearestRank,
            PercentileMethod::Linear,
            PercentileMethod::JmeterAggregate,
            PercentileMethod::Legacy,
        ] {
            for percentile in [50.0, 99.9] {
                out.push((scope.clone(), method, percentile));
            }
        }
    }
    out
}

type Metrics = Vec<HashMap<String, ScopeMetrics>>;

/// `scope_metrics_of_runs` of `ids` for every combination.
async fn from_rollups(engine: &QueryEngine, ids: &[&str]) -> Metrics {
    let mut out = Vec::new();
    for (scope, method, percentile) in combinations() {
        out.push(
            scope_metrics_of_runs(engine, ids, &scope, percentile, method)
                .await
                .unwrap(),
        );
    }
    out
}

/// `scope_metrics` of each run of `ids` for every combination, from the samples.
async fn from_samples(engine: &QueryEngine, ids: &[&str]) -> Metrics {
    let mut out = Vec::new();
    for (scope, method, percentile) in combinations() {
        let mut by_run = HashMap::new();
        for id in ids {
            let m = scope_metrics(engine, id, &scope, percentile, method)
                .await
                .unwrap();
            if m.requests > 0 {
                by_run.insert(id.to_string(), m);
            }
        }
        out.push(by_run);
    }
    out
}

/// Overwrites run `id`'s per-run rollup file with bytes that are no Parquet: a query that
/// read it would fail.
fn spoil_rollup_file(dir: &std::path::Path, id: &str) {
    std::fs::write(
        dir.join(format!("rollups/run_id={id}/rollup.parquet")),
        b"not parquet",
    )
    .unwrap();
}

#[tokio::test]
async fn every_scope_metric_from_consolidated_rollups_equals_the_per_run_rollups_and_samples() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let ids = three_runs(&store);
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let engine = QueryEngine::open(&store).await.unwrap();
    let per_run = from_rollups(&engine, &ids).await;
    let per_run_table = rollups_text(&engine).await;
    assert!(!dir.path().join("rollups/merged").exists());

    assert_eq!(
        engine.consolidate_rollups().await.unwrap(),
        Consolidation::Committed {
            generation: 1,
            runs: 3
        }
    );
    assert_eq!(
        engine.consolidate_rollups().await.unwrap(),
        Consolidation::UpToDate
    );
    // From now on the per-run files are not read: reading one would fail.
    for id in &ids {
        spoil_rollup_file(dir.path(), id);
    }
    assert_eq!(rollups_text(&engine).await, per_run_table);
    let consolidated = from_rollups(&engine, &ids).await;
    let raw = from_samples(&engine, &ids).await;
    let mut compared = 0;
    for (i, (scope, method, percentile)) in combinations().iter().enumerate() {
        assert_eq!(
            consolidated[i], per_run[i],
            "{scope:?} {method:?} p{percentile}"
        );
        assert_eq!(
            consolidated[i], raw[i],
            "{scope:?} {method:?} p{percentile}"
        );
        compared += raw[i].len();
    }
    assert!(compared > 200, "only {compared} non-empty comparisons");
    // A run of the list filter alone reads its rows only.
    let one = scope_metrics_of_runs(
        &engine,
        &ids[1..2],
        &Scope::Run,
        90.0,
        PercentileMethod::Linear,
    )
    .await
    .unwrap();
    assert_eq!(one.keys().collect::<Vec<_>>(), [&ids[1].to_string()]);
}

#[tokio::test]
async fn a_deleted_run_is_not_counted_and_a_run_committed_after_is_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let a = commit(&store, 1, 300);
    let b = commit(&store, 2, 200);
    let engine = QueryEngine::open(&store).await.unwrap();
    engine.ensure_rollups(&[&a, &b]).await.unwrap();
    engine.consolidate_rollups().await.unwrap();
    let (rows_a, rows_b) = (
        rollup_rows_of(&engine, &a).await,
        rollup_rows_of(&engine, &b).await,
    );
    assert!(rows_a > 0 && rows_b > 0);

    // Deleted after the consolidation: its rows stay in the file, and are not counted.
    store.delete_run(&a).unwrap();
    assert_eq!(
        rows_by_run(&engine).await,
        BTreeMap::from([(b.clone(), rows_b)])
    );
    // A query that reads no column of the table (count(*)) is filtered the same way.
    assert_eq!(rollup_rows(&engine).await, rows_b);
    let m = scope_metrics_of_runs(
        &engine,
        &[&a, &b],
        &Scope::Run,
        95.0,
        PercentileMethod::NearestRank,
    )
    .await
    .unwrap();
    assert!(!m.contains_key(&a));

    // Committed after the consolidation: read from its own file, once.
    let c = commit(&store, 3, 100);
    engine.ensure_rollups(&[&b, &c]).await.unwrap();
    let rows_c = rollup_rows_of(&engine, &c).await;
    let expected = BTreeMap::from([(b.clone(), rows_b), (c.clone(), rows_c)]);
    assert_eq!(rows_by_run(&engine).await, expected);
    for id in [&b, &c] {
        let rolled =
            scope_metrics_of_runs(&engine, &[id], &Scope::Run, 95.0, PercentileMethod::Linear)
                .await
                .unwrap();
        let raw = scope_metrics(&engine, id, &Scope::Run, 95.0, PercentileMethod::Linear)
            .await
            .unwrap();
        assert_eq!(rolled.get(id.as_str()), Some(&raw));
    }

    // The next consolidation holds b and c, not a.
    assert_eq!(
        engine.consolidate_rollups().await.unwrap(),
        Consolidation::Committed {
            generation: 2,
            runs: 2
        }
    );
    spoil_rollup_file(dir.path(), &b);
    spoil_rollup_file(dir.path(), &c);
    assert_eq!(rows_by_run(&engine).await, expected);
    // Superseded generations are removed once the grace period has passed.
    assert_eq!(
        store
            .collect_merged_rollups(std::time::Duration::ZERO, std::time::Duration::ZERO)
            .unwrap(),
        2
    );
    assert_eq!(rows_by_run(&engine).await, expected);
}

#[tokio::test]
async fn enough_runs_outside_the_consolidated_rollup_are_consolidated_by_ensure_rollups() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let ids: Vec<String> = (0..CONSOLIDATE_AFTER as u64)
        .map(|seed| commit(&store, seed, 20))
        .collect();
    let engine = QueryEngine::open(&store).await.unwrap();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    engine
        .ensure_rollups(&refs[..CONSOLIDATE_AFTER - 1])
        .await
        .unwrap();
    assert_eq!(store.merged_rollup().unwrap(), None);
    engine.ensure_rollups(&refs).await.unwrap();
    let merged = store.merged_rollup().unwrap().unwrap();
    assert_eq!(merged.runs.len(), CONSOLIDATE_AFTER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_per_run_files_on_object_storage_are_found_by_one_listing() {
    let objects = Arc::new(InMemory::new());
    let store = Store::open_object_store(objects, "memory://many", "lake").unwrap();
    // More runs outside the consolidated rollup than the store asks for one by one.
    let ids: Vec<String> = (0..25).map(|seed| commit(&store, seed, 20)).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut engine = QueryEngine::open(&store).await.unwrap();
    engine.set_consolidate_after(None);
    engine.ensure_rollups(&refs[..5]).await.unwrap();
    engine.consolidate_rollups().await.unwrap();
    engine.ensure_rollups(&refs).await.unwrap();
    assert_eq!(store.merged_rollup().unwrap().unwrap().runs.len(), 5);
    let mut expected = BTreeMap::new();
    for id in &ids {
        expected.insert(id.clone(), rollup_rows_of(&engine, id).await);
    }
    assert_eq!(rows_by_run(&engine).await, expected);
}

/// Commits runs to a store `open` opens, then twice consolidates from two store handles and
/// two engines in two threads at once, committing a run between rounds, and checks after each
/// round that every run's rows are in the table once and give the samples' numbers.
fn racing_consolidations_leave_a_correct_table(open: impl Fn() -> Store + Send + Sync + 'static) {
    let open = Arc::new(open);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let store = open();
    let mut ids = vec![commit(&store, 1, 200), commit(&store, 2, 150)];
    let engine = rt.block_on(QueryEngine::open(&store)).unwrap();
    let scope = Scope::of(None, Some("a"));
    let method = PercentileMethod::NearestRank;
    for round in 0..3 {
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        rt.block_on(engine.ensure_rollups(&refs)).unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let (open, barrier) = (open.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Runtime::new().unwrap();
                    let store = open();
                    let engine = rt.block_on(QueryEngine::open(&store)).unwrap();
                    barrier.wait();
                    rt.block_on(engine.consolidate_rollups()).unwrap()
                })
            })
            .collect();
        let outcomes: Vec<Consolidation> = racers.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(
            outcomes
                .iter()
                .any(|o| matches!(o, Consolidation::Committed { .. })),
            "round {round}: {outcomes:?}"
        );
        let merged = store.merged_rollup().unwrap().unwrap();
        assert_eq!(merged.runs.len(), ids.len(), "round {round}");
        rt.block_on(async {
            let mut expected = BTreeMap::new();
            for id in &ids {
                expected.insert(id.clone(), rollup_rows_of(&engine, id).await);
            }
            assert_eq!(rows_by_run(&engine).await, expected, "round {round}");
            let rolled = scope_metrics_of_runs(&engine, &refs, &scope, 90.0, method)
                .await
                .unwrap();
            for id in &refs {
                let raw = scope_metrics(&engine, id, &scope, 90.0, method)
                    .await
                    .unwrap();
                assert!(raw.requests > 0);
                assert_eq!(rolled.get(*id), Some(&raw), "round {round}, run {id}");
            }
        });
        ids.push(commit(&store, 10 + round, 100));
    }
}

#[test]
fn racing_consolidations_on_a_local_directory_leave_a_correct_table() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    racing_consolidations_leave_a_correct_table(move || Store::open(&root).unwrap());
}

#[test]
fn racing_consolidations_on_object_storage_leave_a_correct_table() {
    let objects = Arc::new(InMemory::new());
    racing_consolidations_leave_a_correct_table(move || {
        Store::open_object_store(objects.clone(), "memory://race", "lake/ci").unwrap()
    });
}

#[test]
fn racing_consolidations_on_s3_leave_a_correct_table() {
    let Ok(base) = std::env::var("LOADLAKE_TEST_S3") else {
        assert!(
            std::env::var("LOADLAKE_REQUIRE_S3").as_deref() != Ok("1"),
            "LOADLAKE_TEST_S3 is required (LOADLAKE_REQUIRE_S3=1) but unset"
        );
        eprintln!("SKIP (s3): LOADLAKE_TEST_S3 is unset");
        return;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let url = format!("{}/rollup-race-{nanos}", base.trim_end_matches('/'));
    let location = loadlake_store::parse_location(&url).unwrap();
    racing_consolidations_leave_a_correct_table(move || Store::open_location(&location).unwrap());
}
