#!/usr/bin/env bash
# A store on object storage against a local directory (issue 16, "Speed"): `loadlake import` of
# one big JMeter CSV, `report` of that run, and `trend` over many small runs, each timed into an
# `s3://` store on a local S3 server (moto, through scripts/with-s3) and into a local directory,
# in interleaved rounds (local, S3, local, S3 …: a noisy machine slows both alike). Prints the
# median of each and the S3/local ratio. See benches/README.md ("Store on object storage").
#
# Usage: benches/s3_store.sh [ROWS] [RUNS]   (ROWS default 10_000_000, RUNS default 200)
#
# Environment:
#   LOADLAKE_BIN=PATH     the release binary (default $CARGO_TARGET_DIR/release/loadlake)
#   ROUNDS=N              rounds of each measurement (default 3)
#   TREND_ROWS=N          rows of each of the RUNS small runs (default 5_000)
#   LOADLAKE_S3_VENV=DIR  the venv with moto (scripts/with-s3; default .venv)
#   KEEP_INPUTS=1         keep the generated JTLs in bench-out/ (deleted by default: ~1.3 GB)
#
# Not AWS S3: moto is a Python server on this machine (no network latency, but every request
# goes through Python), so its figures say what the object-storage code path costs here, not
# what a real bucket costs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Without an S3 endpoint, run under scripts/with-s3 (starts moto, creates bucket `lake`).
if [[ -z ${LOADLAKE_TEST_S3:-} ]]; then
    exec "$ROOT/scripts/with-s3" "$ROOT/benches/s3_store.sh" "$@"
fi

ROWS=${1:-10000000}
ROWS=${ROWS//_/}
RUNS=${2:-200}
RUNS=${RUNS//_/}
ROUNDS=${ROUNDS:-3}
TREND_ROWS=${TREND_ROWS:-5000}
TREND_ROWS=${TREND_ROWS//_/}
for v in ROWS RUNS ROUNDS TREND_ROWS; do
    [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || { echo "$v must be a positive integer, got '${!v}'" >&2; exit 2; }
done
BIN=${LOADLAKE_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/loadlake-target}/release/loadlake}
OUT=$ROOT/bench-out/s3-store
BUCKET=${LOADLAKE_TEST_S3%/}   # s3://lake/ci
TAG=$(date +%s)-$$

die() { echo "ERROR: $*" >&2; exit 1; }
say() { echo "== $*" >&2; }
[[ -x $BIN ]] || die "no loadlake binary at $BIN (set LOADLAKE_BIN)"
mkdir -p "$OUT"
cleanup() {
    rm -rf -- "$OUT"/store-*
    [[ ${KEEP_INPUTS:-0} == 1 ]] || rm -rf -- "$OUT/jtl-$ROWS.csv" "$OUT/trend-$RUNS"
}
trap cleanup EXIT

LOAD=$(cut -d' ' -f1 /proc/loadavg)
say "binary $BIN ($("$BIN" --version)); load average $LOAD; S3 endpoint $AWS_ENDPOINT (moto)"

# ---------------------------------------------------------------- inputs
CSV=$OUT/jtl-$ROWS.csv
if [[ ! -s $CSV ]]; then
    say "generating $CSV"
    python3 "$ROOT/benches/gen_jtl.py" "$ROWS" -o "$CSV" >&2
fi
# Independent of loadlake: the CSV's lines minus its header.
CSV_ROWS=$(($(wc -l <"$CSV") - 1))
[[ $CSV_ROWS -eq $ROWS ]] || die "$CSV has $CSV_ROWS rows, expected $ROWS"
TDIR=$OUT/trend-$RUNS
if [[ $(find "$TDIR" -name '*.csv' 2>/dev/null | wc -l) -ne $RUNS ]]; then
    say "generating $RUNS JTLs of $TREND_ROWS rows in $TDIR"
    rm -rf -- "$TDIR"; mkdir -p "$TDIR"
    for i in $(seq -w 1 "$RUNS"); do
        python3 "$ROOT/benches/gen_jtl.py" "$TREND_ROWS" --seed "$((10#$i))" -o "$TDIR/run-$i.csv" >/dev/null 2>&1
    done
fi

# ---------------------------------------------------------------- helpers
# timed CMD...: runs CMD (stdout to $OUT/last.out, stderr to $OUT/last.err); sets WALL (s).
timed() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >"$OUT/last.out" 2>"$OUT/last.err" || { tail -n 20 "$OUT/last.err" >&2; die "failed: $*"; }
    t1=$(date +%s%N)
    WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
}
median() { tr ' ' '\n' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ll() { "$BIN" --store "$1" "${@:2}"; }
# rows STORE RUN: the run's rows as its store's SQL counts them.
rows() { ll "$1" sql "select count(*) as n from samples where run_id = '$2'" --format csv | tail -n 1; }

declare -A T   # T[kind,store] = "t1 t2 …"
record() { T[$1,$2]="${T[$1,$2]:-} $3"; say "$1 $2 round $ROUND: $3 s"; }

# ---------------------------------------------------------------- import of the big file
# Every round imports into a fresh store: the same bytes are refused by a store that has them.
declare -A RUN   # RUN[store kind] = the last run id, STORE[kind] = its store
declare -A STORE
for ROUND in $(seq 1 "$ROUNDS"); do
    cat "$CSV" >/dev/null   # from the page cache, for both
    for kind in local s3; do
        if [[ $kind == local ]]; then store=$OUT/store-local-$ROUND; else store=$BUCKET/bench-$TAG-import-$ROUND; fi
        timed ll "$store" import "$CSV" --name big
        record import "$kind" "$WALL"
        RUN[$kind]=$(tail -n 1 "$OUT/last.out")
        STORE[$kind]=$store
    done
    # Keep the last round's stores only (local disk; moto holds its objects in memory).
    if [[ $ROUND -lt $ROUNDS ]]; then
        rm -rf -- "$OUT/store-local-$ROUND"
    fi
done
for kind in local s3; do
    n=$(rows "${STORE[$kind]}" "${RUN[$kind]}")
    [[ $n -eq $ROWS ]] || die "$kind store holds $n rows of run ${RUN[$kind]}, expected $ROWS"
done
say "both stores hold the $ROWS rows"

# ---------------------------------------------------------------- report of that run
for ROUND in $(seq 1 "$ROUNDS"); do
    for kind in local s3; do
        timed ll "${STORE[$kind]}" report "${RUN[$kind]}" --format json
        record report "$kind" "$WALL"
        cp "$OUT/last.out" "$OUT/report-$kind.json"
    done
done
python3 - "$OUT/report-local.json" "$OUT/report-s3.json" "$ROWS" <<'EOF' || die "the reports differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["outline"] == b["outline"], (a["outline"], b["outline"])
assert a["outline"]["requests"] == int(sys.argv[3]), a["outline"]["requests"]
EOF
say "both reports have the same outline ($ROWS requests)"

# ---------------------------------------------------------------- trend over RUNS runs
for kind in local s3; do
    if [[ $kind == local ]]; then store=$OUT/store-local-trend; else store=$BUCKET/bench-$TAG-trend; fi
    STORE[$kind]=$store
    ROUND=0
    timed ll "$store" import --each "$TDIR/*.csv" --tag suite=nightly
    record backfill "$kind" "$WALL"
done
trend() { ll "$1" trend --tag suite=nightly --metric tp95 --last "$RUNS" --format json; }
# The first trend writes each run's rollup (one-off), the next ones read them.
for kind in local s3; do
    ROUND=0
    timed trend "${STORE[$kind]}"
    record trend_first "$kind" "$WALL"
done
for ROUND in $(seq 1 "$ROUNDS"); do
    for kind in local s3; do
        timed trend "${STORE[$kind]}"
        record trend "$kind" "$WALL"
        cp "$OUT/last.out" "$OUT/trend-$kind.json"
    done
done
python3 - "$OUT/trend-local.json" "$OUT/trend-s3.json" "$RUNS" <<'EOF' || die "the trends differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
# By run name (the file's): runs that start at the same time may come in either order.
va = {p["name"]: p["value"] for p in a["points"]}
vb = {p["name"]: p["value"] for p in b["points"]}
assert len(va) == len(a["points"]) == int(sys.argv[3]), len(a["points"])
assert va == vb, sorted(k for k in va if va[k] != vb.get(k))[:5]
EOF
say "both trends have the same $RUNS points"

# ---------------------------------------------------------------- table
printf '\n%s rows (%s MB CSV), %s runs of %s rows, %s rounds, median seconds (all rounds):\n\n' \
    "$ROWS" "$(($(stat -c %s "$CSV") / 1000000))" "$RUNS" "$TREND_ROWS" "$ROUNDS"
printf '| measurement | local | s3:// on moto | S3 / local |\n|---|---:|---:|---:|\n'
for kind in import report backfill trend_first trend; do
    l=$(echo ${T[$kind,local]} | median); s=$(echo ${T[$kind,s3]} | median)
    ratio=$(awk -v a="$l" -v b="$s" 'BEGIN { printf "%.1f×", b / a }')
    printf '| %s | %s (%s) | %s (%s) | %s |\n' "$kind" "$l" "$(echo ${T[$kind,local]} | tr ' ' '/')" \
        "$s" "$(echo ${T[$kind,s3]} | tr ' ' '/')" "$ratio"
done
