#!/usr/bin/env bash
# HTML report benchmark: the page of the report benchmark's run (10 M samples by default): its
# size (target < 2 MB) and the time headless Chromium takes to open it and draw every chart
# (target < 2 s, median of 5). Needs the run imported by benches/report_vs_duckdb.sh, Debian's
# chromium, and playwright in .venv (scripts/test sets it up).
#
# Usage: benches/html_report.sh [ROWS]       LOADLAKE_BIN=PATH to choose the binary
set -euo pipefail
ROWS=${1:-10000000}
ROWS=${ROWS//_/}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${LOADLAKE_BIN:-/root/.cache/loadlake-release/release/loadlake}
STORE=${REPORT_STORE:-$ROOT/bench-out/report-store}
OUT=$ROOT/bench-out/html-$ROWS
PY=${LOADLAKE_TEST_PYTHON:-$ROOT/.venv/bin/python}
mkdir -p "$OUT"
RUN=$("$BIN" --store "$STORE" runs --format csv | awk -F, -v n="bench-$ROWS" '$2 == n { print $1 }' | tail -n 1)
[[ -n $RUN ]] || { echo "no run bench-$ROWS in $STORE: run benches/report_vs_duckdb.sh $ROWS first" >&2; exit 1; }
start=$(date +%s.%N)
"$BIN" --store "$STORE" report "$RUN" --html "$OUT/report.html"
end=$(date +%s.%N)
"$PY" "$ROOT/benches/html_open_time.py" "$OUT/report.html" 5 | tee "$OUT/open.json"
awk -v s="$start" -v e="$end" 'BEGIN { printf "generation: %.2f s (%s)\n", e - s, "'"$BIN"'" }'
"$PY" - "$OUT/open.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
size_ok = r["bytes"] < 2_000_000
time_ok = r["median_ms"] < 2000
print(f"size {r['bytes']} bytes: {'PASS' if size_ok else 'MISS'} (< 2 MB); "
      f"open + draw {r['median_ms']} ms median: {'PASS' if time_ok else 'MISS'} (< 2 s); charts {r['charts']}")
PY
