#!/usr/bin/env bash
# Microsecond reports: `loadlake report --resolution us` on a run whose samples carry µs, against
# the same report in ms on the same run and against DuckDB's quantile_disc of elapsed_us on the
# same Parquet files; checks that every label's tp50/90/95/99 in µs equals DuckDB's. See
# benches/README.md "Microsecond reports".
#
# Usage: benches/micros_report.sh [ROWS]        (default 10_000_000; underscores allowed)
#
# Environment:
#   LOADLAKE_BIN=PATH   the loadlake binary (default /root/.cache/loadlake-release/release/loadlake)
#   PYTHON=PATH         a Python with pyarrow and duckdb (default .venv/bin/python)
#   DUCKDB_THREADS=N    DuckDB threads (default 2)
#   REPEAT=N            timed rounds, interleaved; medians reported (default 3)
#
# The run is a generated JMeter CSV (benches/gen_jtl.py) imported once into
# bench-out/micros-store, whose parts are then given µs as k6 or `loadlake run` would write them
# (benches/micros_report.py add-micros: elapsed_ms × 1000 + 0..999 µs).
set -euo pipefail

ROWS=${1:-10000000}
ROWS=${ROWS//_/}
[[ $ROWS =~ ^[0-9]+$ && $ROWS -ge 5 ]] || { echo "ROWS must be an integer >= 5" >&2; exit 2; }
REPEAT=${REPEAT:-3}
DUCKDB_THREADS=${DUCKDB_THREADS:-2}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${LOADLAKE_BIN:-/root/.cache/loadlake-release/release/loadlake}
PY=${PYTHON:-$ROOT/.venv/bin/python}
OUT=$ROOT/bench-out
CSV=$OUT/jtl-$ROWS.csv
STORE=$OUT/micros-store
WORK=$OUT/micros-$ROWS
HELPER=$ROOT/benches/micros_report.py
mkdir -p "$WORK"
say() { echo "== $*" >&2; }
[[ -x $BIN ]] || { echo "no loadlake binary at $BIN (build it with cargo build --release)" >&2; exit 1; }
"$PY" -c 'import pyarrow, duckdb' || { echo "$PY lacks pyarrow or duckdb" >&2; exit 1; }
# shellcheck source=benches/common.sh
source "$ROOT/benches/common.sh"
ensure_jtl_csv "$CSV" "$ROWS"

RUN=$("$BIN" --store "$STORE" runs --format json 2>/dev/null | "$PY" -c '
import json, sys
runs = [r["run_id"] for r in json.load(sys.stdin) if r["name"] == sys.argv[1]]
print(runs[-1] if runs else "")' "micros-$ROWS" 2>/dev/null || true)
if [[ -z $RUN ]]; then
    say "importing $CSV"
    RUN=$("$BIN" --store "$STORE" import "$CSV" --name "micros-$ROWS" 2>"$WORK/import.log")
    "$PY" "$HELPER" add-micros "$STORE" "$RUN"
fi
say "run $RUN ($ROWS samples with µs)"

now() { date +%s.%N; }
# DuckDB's query, in loadlake's SQL (the whole process timed: start, listing, the query).
SQL="select label, hist_percentile(ms_histogram(elapsed_us), 0.95, 'nearest-rank') as tp95 \
     from samples where run_id = '$RUN' and kind = 'sample' group by label"
declare -a T_MS T_US T_SQL T_DUCK
for ((i = 1; i <= REPEAT; i++)); do
    t0=$(now); "$BIN" --store "$STORE" report "$RUN" --format json >"$WORK/ms.json"; t1=$(now)
    "$BIN" --store "$STORE" report "$RUN" --format json --resolution us >"$WORK/us.json"; t2=$(now)
    "$BIN" --store "$STORE" sql "$SQL" --format csv >"$WORK/sql.csv"; t3=$(now)
    "$PY" "$HELPER" duckdb "$STORE" "$RUN" "$DUCKDB_THREADS" >"$WORK/duck.json"
    T_MS+=("$(echo "$t1 - $t0" | bc)"); T_US+=("$(echo "$t2 - $t1" | bc)"); T_SQL+=("$(echo "$t3 - $t2" | bc)")
    T_DUCK+=("$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$WORK/duck.json")")
    say "round $i: report ms ${T_MS[-1]} s, report us ${T_US[-1]} s, sql ${T_SQL[-1]} s, DuckDB ${T_DUCK[-1]} s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
MS=$(median "${T_MS[@]}"); US=$(median "${T_US[@]}"); SQLT=$(median "${T_SQL[@]}"); DUCK=$(median "${T_DUCK[@]}")

"$PY" - "$WORK/us.json" "$WORK/duck.json" "$MS" "$US" "$DUCK" "$ROWS" "$SQLT" <<'PY'
import json, sys
us, duck = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
ms_s, us_s, duck_s, rows, sql_s = map(float, sys.argv[3:8])
assert us.get("timeUnit") == "us", "the report is not in µs"
ours = {d["name"]: d for d in us["details"] if d["level"] == "request"}
diff = 0
for label, q in duck["labels"].items():
    for k, v in q.items():
        if ours[label][k] != v:
            diff += 1
            print(f"DIFF {label} {k}: loadlake {ours[label][k]}, DuckDB {v}", file=sys.stderr)
print(f"rows {int(rows)}  labels {len(duck['labels'])}  percentiles differing from DuckDB: {diff}")
print(f"report ms {ms_s:.3f} s | report us {us_s:.3f} s | DuckDB quantile_disc(elapsed_us) {duck_s:.3f} s")
print(f"loadlake sql, DuckDB's query in µs (whole process) {sql_s:.3f} s")
print(f"report us / report ms = {us_s / ms_s:.2f}x   loadlake sql / DuckDB (same query) = {sql_s / duck_s:.2f}x")
sys.exit(1 if diff else 0)
PY
