//! Trend benchmark (`cargo bench --workspace --bench trend_rollups`; benches/README.md): the
//! trend of a label's p95 over `RUNS` runs (default 1 000) of `SAMPLES` samples each (default
//! 2 000), from the runs' rollups (`queries/scope_metrics_rollups.sql`, one query) against
//! from their samples (`queries/scope_metrics.sql`, one query per run, as before rollups), in
//! one process on one store. Prints the time of each, the ratio, the one-off cost of writing
//! the rollups, and checks that both give the same points.

use std::collections::BTreeMap;
use std::time::Instant;

use loadlake_query::QueryEngine;
use loadlake_query::functions::PercentileMethod;
use loadlake_query::reports::scope::{Scope, ScopeMetrics, scope_metrics, scope_metrics_of_runs};
use loadlake_schema::{RunStatus, SampleBatchBuilder, SampleRecord};
use loadlake_store::{RunDraft, Store, WriterOptions};

type Error = Box<dyn std::error::Error + Send + Sync>;

const LABELS: [&str; 8] = [
    "home", "search", "login", "cart", "checkout", "pay", "logout", "profile",
];

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Commits run `i` of `n` samples (a deterministic mix of labels, times and failures).
fn commit(store: &Store, i: usize, n: usize) -> Result<String, Error> {
    let mut writer = store.begin_run(WriterOptions::default())?;
    let mut builder = SampleBatchBuilder::new(0);
    let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let start = 1_767_225_600_000 + i as i64 * 3_600_000;
    for row in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let ok = !x.is_multiple_of(50);
        builder.push(&SampleRecord {
            ts_ms: Some(start + row as i64 * 10),
            elapsed_ms: Some((x % 2_000) as i64 + (i % 7) as i64 * 10),
            label: LABELS[(x >> 20) as usize % LABELS.len()],
            case_name: Some("Shop"),
            success: ok,
            response_code: Some(if ok { "200" } else { "500" }),
            response_message: Some("OK"),
            ..Default::default()
        })?;
    }
    writer.write(builder.finish()?)?;
    let draft = RunDraft {
        name: "nightly".into(),
        tags: BTreeMap::new(),
        status: RunStatus::Complete,
        sources: vec![],
        plan: None,
    };
    Ok(writer.commit(draft, &[] as &[&str])?.run_id.to_string())
}

fn main() -> Result<(), Error> {
    let runs = env_or("RUNS", 1_000);
    let samples = env_or("SAMPLES", 2_000);
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?;
    let started = Instant::now();
    let ids = (0..runs)
        .map(|i| commit(&store, i, samples))
        .collect::<Result<Vec<_>, _>>()?;
    eprintln!(
        "store: {runs} runs × {samples} samples written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let scope = Scope::of(None, Some("checkout"));
    let method = PercentileMethod::NearestRank;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let engine = QueryEngine::open(&store).await?;

        let t = Instant::now();
        let mut raw = Vec::with_capacity(ids.len());
        for id in &ids {
            raw.push(scope_metrics(&engine, id, &scope, 95.0, method).await?);
        }
        let raw_s = t.elapsed().as_secs_f64();

        let t = Instant::now();
        engine.ensure_rollups(&ids).await?;
        let write_s = t.elapsed().as_secs_f64();

        let mut best = f64::INFINITY;
        let mut rolled = Default::default();
        for _ in 0..5 {
            let t = Instant::now();
            rolled = scope_metrics_of_runs(&engine, &ids, &scope, 95.0, method).await?;
            best = best.min(t.elapsed().as_secs_f64());
        }
        for (id, raw) in ids.iter().zip(&raw) {
            let from_rollup = rolled.get(*id).cloned().unwrap_or_else(ScopeMetrics::empty);
            if &from_rollup != raw {
                return Err(format!("run {id}: rollup {from_rollup:?} != samples {raw:?}").into());
            }
        }
        println!("trend of checkout p95 over {runs} runs of {samples} samples:");
        println!("  from samples (one query per run): {raw_s:8.3} s");
        println!("  from rollups (one query, best of 5): {best:8.3} s");
        println!(
            "  ratio: {:.0}× faster from rollups (goal ≥ 50×)",
            raw_s / best
        );
        println!("  writing the {runs} rollups once: {write_s:.3} s");
        println!("  every point equal: yes ({} runs)", ids.len());
        Ok::<_, Error>(())
    })
}
