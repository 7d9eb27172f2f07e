#!/usr/bin/env bash
# Back-fill benchmark (issue 18): `loadlake import --each` over many small files, in files/s,
# against a baseline binary (main's, one file at a time) in the same run. See benches/README.md
# ("Back-fills: import --each").
#
# Usage: benches/import_each.sh
#
# Environment:
#   LOADLAKE_BIN=PATH   the loadlake binary (default /root/.cache/loadlake-release/release/loadlake)
#   BASE_BIN=PATH       the binary to compare with (default /work/bin/loadlake; empty: none)
#   JOBS="1 8"          the --jobs values of LOADLAKE_BIN to time ("" for its default only)
#   REPEAT=N            timed rounds, interleaved (default 3); the table shows medians
#   EACH_FILES=N        files (default 1000)
#   EACH_ROWS=N         rows per file (default 1000)
#
# Inputs: bench-out/each-FILESxROWS/part-NNNN.csv (shared with import_more.sh), kept. Every
# command imports them into a fresh store (deleted after), its input read into the page cache
# first, under /usr/bin/time -v; the store's samples are then counted with DuckDB and its runs
# counted, and a mismatch fails the script.
set -euo pipefail

REPEAT=${REPEAT:-3}
EACH_FILES=${EACH_FILES:-1000}
EACH_ROWS=${EACH_ROWS:-1000}
BIN=${LOADLAKE_BIN:-/root/.cache/loadlake-release/release/loadlake}
BASE_BIN=${BASE_BIN-/work/bin/loadlake}
JOBS=${JOBS-1 8}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench-out
mkdir -p "$OUT"
EACH_DIR=$OUT/each-${EACH_FILES}x$EACH_ROWS
STORE=$OUT/each-store-$$
LOGDIR=$OUT/each-bench
mkdir -p "$LOGDIR"

die() { echo "ERROR: $*" >&2; exit 1; }
say() { echo "== $*" >&2; }
trap 'rm -rf -- "$STORE"' EXIT

[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (Debian package 'time')"
[[ -x $BIN ]] || die "no loadlake binary at $BIN (set LOADLAKE_BIN)"
[[ -z $BASE_BIN || -x $BASE_BIN ]] || die "no baseline binary at $BASE_BIN (set BASE_BIN)"
# shellcheck source=benches/common.sh
source "$ROOT/benches/common.sh"
ensure_duckdb_venv
ensure_each_files "$EACH_DIR" "$EACH_FILES" "$EACH_ROWS"

# The commands: NAME and arguments after the binary's path.
NAMES=() CMDS=()
if [[ -n $BASE_BIN ]]; then NAMES+=(base); CMDS+=("$BASE_BIN"); fi
if [[ -z $JOBS ]]; then NAMES+=(new); CMDS+=("$BIN"); fi
for j in $JOBS; do NAMES+=("jobs-$j"); CMDS+=("$BIN --jobs $j"); done

# timed NAME ROUND BIN [--jobs J]: one back-fill into a fresh store; appends
# "NAME wall_s cpu_s rss_kb" to $LOGDIR/times.
timed() {
    local name=$1 round=$2 bin=$3; shift 3
    local tfile=$LOGDIR/$name-$round.time log=$LOGDIR/$name-$round.log t0 t1 rc=0
    rm -rf -- "$STORE"
    cat "$EACH_DIR"/*.csv >/dev/null
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$tfile" "$bin" --store "$STORE" import --each "$EACH_DIR/part-*.csv" "$@" \
        >"$log" 2>&1 || rc=$?
    t1=$(date +%s%N)
    [[ $rc -eq 0 ]] || { tail -n 20 "$log" >&2; die "$name failed with exit code $rc"; }
    local wall cpu rss
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$tfile")
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tfile")
    echo "$name $wall $cpu $rss" >>"$LOGDIR/times"
    say "$name round $round: $wall s wall, $cpu CPU-s, max RSS $((rss / 1024)) MiB, load $(cut -d' ' -f1 /proc/loadavg)"
    local got runs
    got=$("$PY" - "$STORE" <<'EOF'
import sys, glob, duckdb
files = glob.glob(sys.argv[1] + "/samples/*/*.parquet")
print(duckdb.sql("SELECT count(*) FROM read_parquet($f)", params={"f": files}).fetchall()[0][0] if files else 0)
EOF
)
    [[ $got -eq $((EACH_FILES * EACH_ROWS)) ]] || die "$name: the store holds $got samples, expected $((EACH_FILES * EACH_ROWS))"
    runs=$(find "$STORE/runs" -name '*.json' | wc -l)
    [[ $runs -eq $EACH_FILES ]] || die "$name: the store holds $runs runs, expected $EACH_FILES"
}
best() { awk -v n="$1" '$1 == n { print $2 }' "$LOGDIR/times" | sort -g | head -n 1; }

LOAD=$(cut -d' ' -f1 /proc/loadavg)
rm -f -- "$LOGDIR/times"
B0=$(busy); T0=$(date +%s%N)
for round in $(seq 1 "$REPEAT"); do
    for i in "${!NAMES[@]}"; do
        # shellcheck disable=SC2086 # CMDS[i] is a binary and its flags
        timed "${NAMES[$i]}" "$round" ${CMDS[$i]}
    done
done
B1=$(busy); T1=$(date +%s%N)
MACHINE=$(calc "%.2f" "($B1 - $B0) / $(getconf CLK_TCK) / (($T1 - $T0) / 1e9)")

row() { printf '%-12s %10s %10s %10s %12s %12s %10s %10s\n' "$@"; }
echo
echo "import --each: $EACH_FILES files x $EACH_ROWS rows ($(du -sh "$EACH_DIR" | cut -f1)), $(nproc) cores,"
echo "load average at start $LOAD, machine busy $MACHINE cores on average over the rounds; medians of $REPEAT interleaved rounds"
echo
row command "wall (s)" "best (s)" "CPU (s)" "peak RSS MiB" "files/s" "vs base" "target"
BASE_RATE=
[[ -n $BASE_BIN ]] && BASE_RATE=$(calc "%.1f" "$EACH_FILES / $(median base 2)")
for name in "${NAMES[@]}"; do
    rate=$(calc "%.1f" "$EACH_FILES / $(median "$name" 2)")
    ratio=n/a
    [[ -n $BASE_RATE ]] && ratio=$(calc "%.2fx" "$rate / $BASE_RATE")
    verdict=MISS
    awk -v r="$rate" 'BEGIN { exit !(r >= 200) }' && verdict=PASS
    row "$name" "$(median "$name" 2)" "$(best "$name")" "$(median "$name" 3)" \
        "$(($(median "$name" 4 | cut -d. -f1) / 1024))" "$rate" "$ratio" ">=200 $verdict"
done
GIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)
echo
echo "$(date -u +%FT%TZ) commit $GIT; per-run logs in $LOGDIR"
