//! The percentile functions take fractions in [0, 1], like `percentile_cont` and DuckDB's
//! `quantile_cont`, and refuse a percent: real queries through the engine over 1 … n, each
//! answer computed by hand from the method's definition (docs/metrics.md).

use arrow::util::display::array_value_to_string;
use loadlake_store::Store;

use crate::{EngineOptions, QueryEngine};

async fn engine(dir: &tempfile::TempDir) -> QueryEngine {
    let store = Store::open(dir.path()).expect("open a store in a temporary directory");
    QueryEngine::open_with(&store, &EngineOptions::default())
        .await
        .expect("open the engine")
}

/// `select <expr> from (the values 1 … n as v)`: the only value, as text, or the error.
async fn over_1_to(engine: &QueryEngine, n: i64, expr: &str) -> Result<String, String> {
    let sql = format!(
        "select {expr} from (select value as v from range(1, {}))",
        n + 1
    );
    let batches = engine
        .sql_read_only(&sql)
        .await
        .map_err(|e| e.to_string())?;
    let batch = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .ok_or_else(|| format!("{sql}: no row"))?;
    array_value_to_string(batch.column(0), 0).map_err(|e| e.to_string())
}

#[tokio::test]
async fn percentiles_are_fractions_like_every_sql_engine() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = engine(&dir).await;
    let cases = [
        // nearest rank: x_k, k = ⌈p·n⌉.
        (100, "hist_percentile(ms_histogram(v), 0.95)", "95.0"),
        (1000, "hist_percentile(ms_histogram(v), 0.999)", "999.0"),
        (10, "hist_percentile(ms_histogram(v), 0.0)", "1.0"),
        (10, "hist_percentile(ms_histogram(v), 1.0)", "10.0"),
        // linear: h = (n−1)·p = 49.5 → 50 + 0.5 · (51 − 50).
        (
            100,
            "hist_percentile(ms_histogram(v), 0.5, 'linear')",
            "50.5",
        ),
        // JMeter's dashboard (LEGACY): pos = p·(n+1) = 50.5 → 50 + 0.5 · (51 − 50).
        (
            100,
            "jmeter_window_percentile(array_agg(v order by v), 0.5, 0)",
            "50.5",
        ),
    ];
    for (n, expr, want) in cases {
        assert_eq!(
            over_1_to(&engine, n, expr).await.as_deref(),
            Ok(want),
            "{expr}"
        );
    }
}

#[tokio::test]
async fn a_percent_is_refused_not_read_as_a_tiny_fraction() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = engine(&dir).await;
    for expr in [
        "hist_percentile(ms_histogram(v), 95)",
        "hist_percentile(ms_histogram(v), -0.1)",
        "jmeter_window_percentile(array_agg(v order by v), 90, 0)",
    ] {
        let e = over_1_to(&engine, 100, expr).await.expect_err(expr);
        assert!(
            e.contains("takes a fraction in [0, 1]") && e.contains("0.95 for the 95th"),
            "{expr}: {e}"
        );
    }
}

/// An empty transaction is one whose message says 0 samples: not 10, not 1, not a NULL message.
#[tokio::test]
async fn only_a_transaction_of_zero_samples_is_empty() {
    let prefix = loadlake_schema::sample::TRANSACTION_MESSAGE_PREFIX;
    assert!(super::udf::EMPTY_TRANSACTION_MESSAGE.starts_with(prefix));
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = engine(&dir).await;
    let cases = [
        (
            "'Number of samples in transaction : 0, number of failing samples : 0'",
            "true",
        ),
        (
            "'Number of samples in transaction : 10, number of failing samples : 0'",
            "false",
        ),
        (
            "'Number of samples in transaction : 1, number of failing samples : 1'",
            "false",
        ),
        ("'OK'", "false"),
        ("''", "false"),
        ("NULL", "false"),
    ];
    for (message, want) in cases {
        let expr = format!("is_empty_transaction({message})");
        assert_eq!(
            over_1_to(&engine, 1, &expr).await.as_deref(),
            Ok(want),
            "{expr}"
        );
    }
}
