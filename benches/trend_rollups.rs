//! Trend benchmark (`cargo bench --workspace --bench trend_rollups`; benches/README.md): the
//! trend of a label's p95 over `RUNS` runs (default 1 000) of `SAMPLES` samples each (default
//! 2 000), from their samples (`queries/scope_metrics.sql`, one query per run, as before
//! rollups), from the runs' per-run rollup files and from the consolidated rollup
//! (`queries/scope_metrics_rollups.sql`, one query, through `scope_metrics_of_runs` as `trend`
//! calls it), in one process on one store. Prints the time of each, the ratios, the one-off
//! costs of writing the rollups and consolidating them, and fails unless every point of every
//! path is equal.

use std::collections::{BTreeMap, HashMap};
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

/// The trend's numbers from the rollups, and the best time of 5 computations.
async fn best_of_5(
    engine: &QueryEngine,
    ids: &[&str],
    scope: &Scope,
) -> Result<(f64, HashMap<String, ScopeMetrics>), Error> {
    let method = PercentileMethod::NearestRank;
    let mut best = f64::INFINITY;
    let mut rolled = HashMap::new();
    for _ in 0..5 {
        let t = Instant::now();
        rolled = scope_metrics_of_runs(engine, ids, scope, 95.0, method).await?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok((best, rolled))
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
        let mut engine = QueryEngine::open(&store).await?;
        // The per-run files first: no consolidation until asked.
        engine.set_consolidate_after(None);

        let t = Instant::now();
        let mut raw = Vec::with_capacity(ids.len());
        for id in &ids {
            raw.push(scope_metrics(&engine, id, &scope, 95.0, method).await?);
        }
        let raw_s = t.elapsed().as_secs_f64();

        let t = Instant::now();
        engine.ensure_rollups(&ids).await?;
        let write_s = t.elapsed().as_secs_f64();

        let (per_run_s, per_run) = best_of_5(&engine, &ids, &scope).await?;

        let t = Instant::now();
        let outcome = engine.consolidate_rollups().await?;
        let consolidate_s = t.elapsed().as_secs_f64();
        // The first trend of a fresh session (as a CLI process runs it), then the best of 5.
        let fresh = QueryEngine::open(&store).await?;
        let t = Instant::now();
        let first = scope_metrics_of_runs(&fresh, &ids, &scope, 95.0, method).await?;
        let first_s = t.elapsed().as_secs_f64();
        let (merged_s, merged) = best_of_5(&fresh, &ids, &scope).await?;

        if std::env::var_os("EXPLAIN").is_some() {
            // Where the time of the consolidated path goes (EXPLAIN=1).
            let sql = "explain analyze select run_id, hist_merge(histogram) from rollups \
                       where label = 'checkout' and kind = 'sample' group by run_id";
            let plan = fresh.sql_read_only(sql).await?;
            println!("{}", arrow::util::pretty::pretty_format_batches(&plan)?);
        }
        for (id, raw) in ids.iter().zip(&raw) {
            for (path, rolled) in [
                ("per-run rollups", &per_run),
                ("consolidated rollup (first)", &first),
                ("consolidated rollup", &merged),
            ] {
                let from_rollup = rolled.get(*id).cloned().unwrap_or_else(ScopeMetrics::empty);
                if &from_rollup != raw {
                    return Err(
                        format!("run {id}: {path} {from_rollup:?} != samples {raw:?}").into()
                    );
                }
            }
        }
        println!("trend of checkout p95 over {runs} runs of {samples} samples:");
        println!("  from samples (one query per run):             {raw_s:8.3} s");
        println!(
            "  from per-run rollups (one query, best of 5):  {per_run_s:8.3} s  ({:.0}×)",
            raw_s / per_run_s
        );
        println!(
            "  from the consolidated rollup, first query:    {first_s:8.3} s  ({:.0}×)",
            raw_s / first_s
        );
        println!(
            "  from the consolidated rollup (best of 5):     {merged_s:8.3} s  ({:.0}×, goal ≥ 50×)",
            raw_s / merged_s
        );
        println!("  writing the {runs} per-run rollups once: {write_s:.3} s");
        println!("  consolidating them: {consolidate_s:.3} s ({outcome:?})");
        println!("  every point equal: yes ({} runs, 3 paths)", ids.len());
        Ok::<_, Error>(())
    })
}
