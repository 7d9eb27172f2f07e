#!/usr/bin/env bash
# Cross-run SQL benchmark (issue 17): P95 per run per label over RUNS runs of ROWS samples each,
# by `loadlake sql` on one node, by `loadlake sql --workers` over two query workers on this
# machine, and by DuckDB (quantile_disc) on the same Parquet files. Prints the times, the
# ratios against DuckDB measured in the same run, and how many P95 values differ.
#
# Usage: benches/cross_run_sql.sh [RUNS] [ROWS]        (defaults 50 and 1_000_000)
#
# Environment:
#   LOADLAKE_BIN=PATH   the release binary (default $CARGO_TARGET_DIR/release/loadlake)
#   DUCKDB_THREADS=N    DuckDB threads (default 2)
#   REPEAT=N            timed runs of each, the median is reported (default 3)
#   SCAN_BYTES=N        the coordinator's --workers-scan-bytes (default 16 MiB, loadlake's own)
#   BASELINE_BIN=PATH   also time this binary on one node (e.g. the previous release), same rounds
#   SKIP_SPREAD=1       leave the two query workers out
#
# The runs are one generated JMeter CSV imported RUNS times (`--force`): the same files for
# every engine. Everything lives in bench-out/cross-run-RUNS-ROWS/ (the store is kept).
set -euo pipefail

RUNS=${1:-50}
ROWS=${2:-1000000}
ROWS=${ROWS//_/}
DUCKDB_THREADS=${DUCKDB_THREADS:-2}
REPEAT=${REPEAT:-3}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${LOADLAKE_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/loadlake-target}/release/loadlake}
OUT=$ROOT/bench-out
WORK=$OUT/cross-run-$RUNS-$ROWS
STORE=$WORK/store
mkdir -p "$WORK"
say() { echo "== $*" >&2; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2); printf "%.3f\n", (NR % 2) ? v[m] : (v[m] + v[m + 1]) / 2 }'; }
[[ -x $BIN ]] || { echo "no release binary at $BIN (cargo build --release)" >&2; exit 1; }

# shellcheck source=benches/common.sh
source "$ROOT/benches/common.sh"
ensure_duckdb_venv
CSV=$OUT/jtl-$ROWS.csv
ensure_jtl_csv "$CSV" "$ROWS"

have=$("$BIN" --store "$STORE" sql "select count(*) as n from runs" --format csv 2>/dev/null | tail -n 1 || echo 0)
for ((i = ${have:-0}; i < RUNS; i++)); do
    "$BIN" --store "$STORE" import "$CSV" --name "cross-$i" --force >/dev/null
done
say "$RUNS runs of $ROWS samples in $STORE"

QUERY="select run_id, label, hist_percentile(ms_histogram(elapsed_ms), 0.95) as p95 from samples group by run_id, label order by run_id, label"

# Two query workers on loopback (killed by PID on exit).
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
URLS=()
[[ ${SKIP_SPREAD:-} == 1 ]] || for w in 1 2; do
    "$BIN" --store "$STORE" serve --role worker --listen 127.0.0.1:0 2>"$WORK/worker-$w.log" &
    PIDS+=($!)
done
[[ ${SKIP_SPREAD:-} == 1 ]] || for w in 1 2; do
    for _ in $(seq 100); do grep -q "query worker on" "$WORK/worker-$w.log" && break; sleep 0.1; done
    URLS+=("http://$(sed -n 's/.*query worker on //p' "$WORK/worker-$w.log" | head -n 1)")
done
WORKERS=$(IFS=,; echo "${URLS[*]}")
SPREAD_ARGS=(--workers "$WORKERS" --workers-scan-bytes "${SCAN_BYTES:-16777216}")

time_cmd() {  # prints seconds of one run of "$@" (output to $WORK/last.csv)
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >"$WORK/last.csv"
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

duck_once() {  # prints DuckDB's seconds for the query (result to $WORK/duck.csv)
    "$PY" - "$STORE" "$DUCKDB_THREADS" "$WORK/duck.csv" <<'PY'
import sys, time, duckdb
store, threads, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
t0 = time.perf_counter()
rows = con.execute(
    "select run_id, label, quantile_disc(elapsed_ms, 0.95) from "
    f"read_parquet('{store}/samples/*/*.parquet', hive_partitioning = true) "
    "group by run_id, label order by run_id, label").fetchall()
t1 = time.perf_counter()
with open(out, "w") as f:
    for r in rows:
        f.write(f"{r[0]},{r[1]},{float(r[2])}\n")
print(f"{t1 - t0:.3f}")
PY
}

# Interleaved rounds (the machine's speed drifts): baseline, one node, two workers, DuckDB.
single=(); spread=(); duck=(); base=()
for ((r = 0; r < REPEAT; r++)); do
    if [[ -n ${BASELINE_BIN:-} ]]; then
        base+=("$(time_cmd "$BASELINE_BIN" --store "$STORE" sql "$QUERY" --format csv)")
        cp "$WORK/last.csv" "$WORK/baseline.csv"
    fi
    single+=("$(time_cmd "$BIN" --store "$STORE" sql "$QUERY" --format csv)")
    cp "$WORK/last.csv" "$WORK/single.csv"
    if [[ ${SKIP_SPREAD:-} != 1 ]]; then
        spread+=("$(time_cmd "$BIN" --store "$STORE" "${SPREAD_ARGS[@]}" sql "$QUERY" --format csv)")
        cp "$WORK/last.csv" "$WORK/spread.csv"
    fi
    duck+=("$(duck_once)")
    say "round $((r + 1)): baseline ${base[r]:--} one node ${single[r]} workers ${spread[r]:--} DuckDB ${duck[r]}"
done
if [[ ${SKIP_SPREAD:-} == 1 ]]; then
    cp "$WORK/single.csv" "$WORK/spread.csv"
    spread=("${single[@]}")
    : >"$WORK/explain.csv"
else
    "$BIN" --store "$STORE" "${SPREAD_ARGS[@]}" sql "explain $QUERY" --format csv >"$WORK/explain.csv"
fi

S=$(median "${single[@]}"); D=$(median "${spread[@]}"); K=$(median "${duck[@]}")
tail -n +2 "$WORK/single.csv" | awk -F, '{ printf "%s,%s,%.1f\n", $1, $2, $3 }' >"$WORK/single.norm"
tail -n +2 "$WORK/spread.csv" | awk -F, '{ printf "%s,%s,%.1f\n", $1, $2, $3 }' >"$WORK/spread.norm"
awk -F, '{ printf "%s,%s,%.1f\n", $1, $2, $3 }' "$WORK/duck.csv" >"$WORK/duck.norm"
NGROUPS=$(wc -l <"$WORK/single.norm")
VS_DUCK=$(diff "$WORK/single.norm" "$WORK/duck.norm" | grep -c '^<' || true)
VS_SPREAD=$(diff "$WORK/single.norm" "$WORK/spread.norm" | grep -c '^<' || true)
VS_BASE=-
if [[ -n ${BASELINE_BIN:-} ]]; then
    tail -n +2 "$WORK/baseline.csv" | awk -F, '{ printf "%s,%s,%.1f\n", $1, $2, $3 }' >"$WORK/baseline.norm"
    VS_BASE=$(diff "$WORK/single.norm" "$WORK/baseline.norm" | grep -c '^<' || true)
fi
TASKS=$(grep -o 'tasks=[0-9]*' "$WORK/explain.csv" | sort -u | tr '\n' ' ' || true)
TASKS=${TASKS:-"none (the plan stayed on the coordinator)"}
cat <<TABLE
cross-run P95: $RUNS runs × $ROWS samples, $NGROUPS (run, label) groups; median of $REPEAT; DuckDB $DUCK_VERSION, $DUCKDB_THREADS threads
| engine | seconds | vs DuckDB |
|---|---:|---:|
| loadlake sql, one node (whole process) | $S | $(awk -v a="$S" -v b="$K" 'BEGIN { printf "%.2f×", a / b }') |
$(if [[ ${SKIP_SPREAD:-} != 1 ]]; then echo "| loadlake sql --workers (2 workers, same machine) | $D | $(awk -v a="$D" -v b="$K" 'BEGIN { printf "%.2f×", a / b }') |"; fi)
| DuckDB quantile_disc (query alone) | $K | 1.00× |
$(if [[ -n ${BASELINE_BIN:-} ]]; then B=$(median "${base[@]}"); echo "| baseline one node ($BASELINE_BIN) | $B | $(awk -v a="$B" -v b="$K" 'BEGIN { printf "%.2f×", a / b }') |"; fi)
differing P95 values: one node vs DuckDB $VS_DUCK, one node vs 2 workers $VS_SPREAD, one node vs baseline $VS_BASE; stage tasks: $TASKS
TABLE
