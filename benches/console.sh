#!/usr/bin/env bash
# Web console benchmark (issue 20): `loadlake serve --http` over one store holding RUNS small
# runs and one run of ROWS samples.
#   1. the runs page: the time of each request it makes (HTML, script, the API's first page,
#      a deep page through the next tokens, each filter) — target < 100 ms;
#   2. the run page of the big run in Chromium: navigation → first chart drawn, next to
#      `loadlake report <run> --format json` on the same store, rounds alternating — target
#      < 1.5 s;
#   3. CLIENTS concurrent API clients on the runs and report endpoints for LOAD_SECONDS: p50,
#      p99 and errors per endpoint.
# The store (bench-out/console/store) is built once and reused; delete it to rebuild.
#
# Usage: benches/console.sh [RUNS] [ROWS]     defaults 10000 and 10000000
# Env: LOADLAKE_BIN (release binary), ROUNDS (5), DEEP (pages walked to the deep page, 100),
#      SMALL_ROWS (rows per small run, 20), CLIENTS (50), LOAD_SECONDS (30),
#      STRICT_TARGETS=1 (exit 3 when a target is missed)
set -euo pipefail
RUNS=${1:-10000}
RUNS=${RUNS//_/}
ROWS=${2:-10000000}
ROWS=${ROWS//_/}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${LOADLAKE_BIN:-/root/.cache/loadlake-release/release/loadlake}
PY=${LOADLAKE_TEST_PYTHON:-$ROOT/.venv/bin/python}
ROUNDS=${ROUNDS:-5}
DEEP=${DEEP:-100}
SMALL_ROWS=${SMALL_ROWS:-20}
CLIENTS=${CLIENTS:-50}
LOAD_SECONDS=${LOAD_SECONDS:-30}
OUT=$ROOT/bench-out/console
STORE=$OUT/store
BENCH=$ROOT/benches/console_bench.py
BATCHES=10
mkdir -p "$OUT"
say() { echo "== $*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# ---------------------------------------------------------------- the store, built once
# The store's runs as CSV (run_id,name,…), listed again after each import: listing 10 000
# manifests takes a new process a few seconds.
LIST=$OUT/runs.csv
list_runs() { "$BIN" --store "$STORE" runs --format csv >"$LIST"; }
# Runs named NAME in the listing (its second column is the name).
count_named() { awk -F, -v n="$1" '$2 == n' "$LIST" | wc -l; }

list_runs
if [[ $(count_named "bench-$ROWS") -eq 0 ]]; then
    JTL=$OUT/jtl-$ROWS.csv
    [[ -s $JTL ]] || { say "generating $JTL"; python3 "$ROOT/benches/gen_jtl.py" "$ROWS" -o "$JTL"; }
    say "importing $JTL"
    /usr/bin/env time -f "import of $ROWS rows: %e s" "$BIN" --store "$STORE" import "$JTL" --name "bench-$ROWS" --tag kind=big
    list_runs
fi
SMALL=$OUT/small-$RUNS-$SMALL_ROWS
python3 "$BENCH" small-runs "$SMALL" "$RUNS" "$SMALL_ROWS" "$BATCHES" >/dev/null
for ((b = 0; b < BATCHES; b++)); do
    # --each skips the files already imported, so an interrupted build resumes.
    if [[ $(count_named "svc-$b") -lt $((RUNS / BATCHES)) ]]; then
        env=$([[ $((b % 2)) -eq 0 ]] && echo prod || echo staging)
        say "importing batch $b of $BATCHES ($((RUNS / BATCHES)) runs)"
        start=$(date +%s.%N)
        "$BIN" --store "$STORE" import --each "$SMALL/b$b/*.csv" --name "svc-$b" \
            --tag "batch=b$b" --tag "env=$env" >/dev/null
        awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "   %.1f s\n", e - s }' >&2
        list_runs
    fi
done
BIG=$(awk -F, -v n="bench-$ROWS" '$2 == n { print $1 }' "$LIST" | tail -n 1)
TOTAL=$(tail -n +2 "$LIST" | wc -l)
SMALL_IDS=$(awk -F, '$2 == "svc-0" && n++ < 200 { print $1 }' "$LIST" | paste -sd,)
say "store $STORE: $TOTAL runs; big run $BIG"

# ---------------------------------------------------------------- the server
LOG=$OUT/serve.log
"$BIN" --store "$STORE" serve --listen 127.0.0.1:0 --http 127.0.0.1:0 2>"$LOG" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    grep -q 'JSON API on' "$LOG" && break
    sleep 0.1
done
BASE=$(sed -n 's|.*JSON API on \(http://[^/]*\)/api/v1/.*|\1|p' "$LOG")
[[ -n $BASE ]] || { cat "$LOG" >&2; exit 1; }
say "serving $BASE (load $(load))"

# ---------------------------------------------------------------- 1. the runs page
say "runs page: $ROUNDS rounds, deep page $((DEEP + 1)) (load $(load))"
"$PY" "$BENCH" runs "$BASE" "$ROUNDS" "$DEEP" "$SERVER" >"$OUT/runs.json"

# ---------------------------------------------------------------- 2. the run page vs report
# Rounds alternate: one report, one page load, so a noisy machine slows both alike.
say "run page of $BIG vs loadlake report, $ROUNDS rounds (load $(load))"
: >"$OUT/report.jsonl"
: >"$OUT/browser.jsonl"
for ((r = 0; r < ROUNDS; r++)); do
    "$PY" "$BENCH" report "$BIN" "$STORE" "$BIG" 1 >>"$OUT/report.jsonl"
    "$PY" "$BENCH" browser "$BASE" "$BIG" 1 "$SERVER" >>"$OUT/browser.jsonl"
done

# ---------------------------------------------------------------- 3. concurrent clients
say "$CLIENTS clients for $LOAD_SECONDS s (load $(load))"
"$PY" "$BENCH" load "$BASE" "$CLIENTS" "$LOAD_SECONDS" "$SMALL_IDS" >"$OUT/load.json"
LOAD_AFTER=$(load)

# ---------------------------------------------------------------- the table
"$PY" - "$OUT" "$TOTAL" "$ROWS" "$LOAD_AFTER" "${STRICT_TARGETS:-0}" <<'PY'
import json, statistics, sys
out, total, rows, load_after, strict = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1"
runs = json.load(open(out + "/runs.json"))
report = [json.loads(l) for l in open(out + "/report.jsonl")]
browser = [json.loads(l) for l in open(out + "/browser.jsonl")]
load = json.load(open(out + "/load.json"))
missed = False
print(f"\nruns page, {total} runs in the store (median of {runs['requests']['api first page']['n']} per request, ms):")
print(f"{'request':<34} {'median':>8} {'min':>8} {'max':>8} {'CPU':>6}  rows/total   target    verdict")
for name, r in runs["requests"].items():
    ok = r["median"] < 100
    missed |= not ok
    rt = f"{r['runs']}/{r['total']}" if "runs" in r else ""
    print(f"{name:<34} {r['median']:>8.1f} {r['min']:>8.1f} {r['max']:>8.1f} {r.get('cpu_ms', 0):>6.1f}  {rt:<11}  < 100 ms  {'PASS' if ok else 'MISS'}")
print(f"(walking {runs['walk_pages']} pages: median {runs['walk']['median']} ms, max {runs['walk']['max']} ms)")
h = runs["headlines"]
print(f"p95 column of page {runs['walk_pages'] + 1} ({h['runs']} runs, /api/v1/run-headlines, after the table): "
      f"first view {h['cold_ms']} ms ({h['cold_cpu_ms']} ms CPU: their rollups written), "
      f"then median {h['median']} ms ({h['cpu_ms']} ms CPU)")
each = lambda key: [b[key]["each"][0] for b in browser]
chart, ready = each("first_chart"), each("run_ready")
rep = [r["each"][0] for r in report]
med = statistics.median
ok = med(chart) < 1500
missed |= not ok
print(f"\nrun page of the {rows}-sample run in Chromium, {len(chart)} rounds (ms; each round in brackets):")
print(f"  first chart drawn       {med(chart):>8.0f}   ({' / '.join(f'{x:.0f}' for x in chart)})  < 1500 ms  {'PASS' if ok else 'MISS'}")
print(f"  everything shown        {med(ready):>8.0f}   ({' / '.join(f'{x:.0f}' for x in ready)})")
print(f"  loadlake report (json)  {med(rep):>8.0f}   ({' / '.join(f'{x:.0f}' for x in rep)})")
cpu_chart, cpu_ready = each("server_cpu_first_chart"), each("server_cpu_run_ready")
cpu_rep = [r["cpu_each"][0] for r in report]
print(f"  CPU: server to first chart {med(cpu_chart):.0f}, to everything {med(cpu_ready):.0f}; loadlake report {med(cpu_rep):.0f}")
print(f"  first chart / report    {med(chart) / med(rep):>8.2f}x")
print(f"  runs page ready {med(each('runs_ready')):.0f} ms, next page {med(each('next_page')):.0f} ms (median, browser)")
print(f"  chart: {browser[-1]['chart_points']} points, {browser[-1]['chart_requests']} requests; page errors: {sum(len(b['errors']) for b in browser)}")
print(f"\n{load['clients']} concurrent clients for {load['seconds']} s: {load['requests_per_s']} requests/s (ms):")
print(f"{'endpoint':<24} {'requests':>9} {'errors':>7} {'p50':>8} {'p99':>8} {'max':>8}")
for name, e in load["endpoints"].items():
    print(f"{name:<24} {e['requests']:>9} {e['errors']:>7} {e['p50']:>8} {e['p99']:>8} {e['max']:>8}")
print(f"\nload average after: {load_after}")
sys.exit(3 if missed and strict else 0)
PY
