#!/usr/bin/env bash
# Ingest benchmark: `loadlake import` of a JMeter CSV JTL versus DuckDB's CSV -> Parquet COPY
# on the same file, plus loadlake's XML import speed. See benches/README.md.
#
# Usage: benches/import_vs_duckdb.sh [ROWS]        (default 10_000_000; underscores allowed)
#
# Environment:
#   SKIP_LOADLAKE=1     only generate inputs and time DuckDB (no cargo build, no loadlake runs)
#   LOADLAKE_BIN=PATH   use this binary instead of building with `cargo build --release`
#   DUCKDB_THREADS=N    DuckDB threads (default 2, the core count of the reference machine)
#   STRICT_TARGETS=1    exit 3 when a target is missed (by default only correctness fails)
#
# Outputs live in bench-out/ at the repository root: the generated inputs jtl-ROWS.csv and
# jtl-ROWS/5.xml (kept for reuse), the venv, duck.parquet, per-step *.log / *.time files, and
# one line per run appended to results.tsv. loadlake's stores are deleted on exit.
set -euo pipefail

ROWS=${1:-10000000}
ROWS=${ROWS//_/}
[[ $ROWS =~ ^[0-9]+$ && $ROWS -ge 5 ]] || { echo "ROWS must be an integer >= 5, got '${1:-}'" >&2; exit 2; }
XML_ROWS=$((ROWS / 5))
DUCKDB_THREADS=${DUCKDB_THREADS:-2}
SKIP_LOADLAKE=${SKIP_LOADLAKE:-0}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench-out
mkdir -p "$OUT"
CSV=$OUT/jtl-$ROWS.csv
XML=$OUT/jtl-$XML_ROWS.xml
STORE=$OUT/store-$$
XSTORE=$OUT/store-$$-xml
DUCK_PARQUET=$OUT/duck.parquet

die() { echo "ERROR: $*" >&2; exit 1; }
say() { echo "== $*" >&2; }
cleanup() { rm -rf -- "$STORE" "$XSTORE"; }
trap cleanup EXIT

# ---------------------------------------------------------------- tools
if [[ ! -x /usr/bin/time ]]; then
    say "installing GNU time (/usr/bin/time is missing)"
    SUDO=; [[ $(id -u) -eq 0 ]] || SUDO=sudo
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq time >/dev/null
    [[ -x /usr/bin/time ]] || die "could not install /usr/bin/time (apt package 'time')"
fi

# shellcheck source=benches/common.sh
source "$ROOT/benches/common.sh"
ensure_duckdb_venv
say "DuckDB $DUCK_VERSION (Python $("$PY" -c 'import platform; print(platform.python_version())'))"

# ---------------------------------------------------------------- inputs (kept for reuse)
ensure_jtl_csv "$CSV" "$ROWS"
if [[ ! -s $XML ]]; then
    say "generating $XML"
    "$PY" "$ROOT/benches/gen_jtl.py" "$XML_ROWS" --format xml -o "$XML"
fi
CSV_BYTES=$(stat -c %s "$CSV")
XML_BYTES=$(stat -c %s "$XML")

# ---------------------------------------------------------------- helpers
# timed NAME CMD...: runs CMD under /usr/bin/time -v, output to bench-out/NAME.log; sets WALL
# (seconds, from a nanosecond clock around the process) and RSS_KB (Maximum resident set size).
timed() {
    local name=$1; shift
    local tfile=$OUT/$name.time log=$OUT/$name.log t0 t1 rc=0
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$tfile" "$@" >"$log" 2>&1 || rc=$?
    t1=$(date +%s%N)
    if [[ $rc -ne 0 ]]; then
        echo "---- last lines of $log:" >&2; tail -n 40 "$log" >&2
        die "$name failed with exit code $rc: $*"
    fi
    WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tfile")
    [[ -n $RSS_KB ]] || die "no 'Maximum resident set size' in $tfile"
    say "$name: ${WALL} s wall (/usr/bin/time: $(awk -F'): ' '/Elapsed \(wall clock\)/ { print $2 }' "$tfile")), max RSS $((RSS_KB / 1024)) MiB"
}
warm() { cat "$1" >/dev/null; }  # every timed run reads its input from the page cache
# cpu_seconds TIMEFILE: user + system seconds from a /usr/bin/time -v report
cpu_seconds() { awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$1"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
# parquet_rows FILE...: row count over the files, via DuckDB
parquet_rows() {
    "$PY" - "$@" <<'EOF'
import sys, duckdb
print(duckdb.sql("SELECT count(*) FROM read_parquet($files)",
                 params={"files": sys.argv[1:]}).fetchall()[0][0])
EOF
}

LOAD=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$LOAD" 'BEGIN { exit !(l > 0.5) }'; then
    say "WARNING: load average is $LOAD; other work on this machine will skew the timings"
fi

CHECK_FAILED=0
rm -f -- "$OUT"/{duckdb,loadlake-csv,loadlake-xml}.{log,time}  # no stale logs from an earlier run

# ---------------------------------------------------------------- DuckDB
rm -f -- "$DUCK_PARQUET"
warm "$CSV"
say "DuckDB: COPY $CSV -> $DUCK_PARQUET ($DUCKDB_THREADS threads)"
timed duckdb "$PY" "$ROOT/benches/duck_import.py" "$CSV" "$DUCK_PARQUET" "$DUCKDB_THREADS" plain
DUCK_WALL=$WALL DUCK_RSS_KB=$RSS_KB
read -r DUCK_ROWS DUCK_COPY_S DUCK_CPU < <(tail -n 1 "$OUT/duckdb.log")
say "DuckDB: COPY itself took $DUCK_COPY_S s of the $DUCK_WALL s (the rest is Python + duckdb import)"
if [[ $DUCK_ROWS -ne $ROWS ]]; then
    echo "CHECK FAILED: DuckDB read $DUCK_ROWS rows from $CSV, expected $ROWS" >&2; CHECK_FAILED=1
fi
DUCK_PQ_BYTES=$(stat -c %s "$DUCK_PARQUET")
DUCK_RATE=$(calc "%.0f" "$ROWS / $DUCK_WALL")
DUCK_COPY_RATE=$(calc "%.0f" "$ROWS / $DUCK_COPY_S")

# ---------------------------------------------------------------- loadlake
LL_CPU=n/a SAME_S=n/a SAME_CPU=n/a RATIO_SAME=n/a
LL_WALL=n/a LL_RATE=n/a LL_RSS=n/a LL_PQ_BYTES=n/a LL_PCT=n/a RATIO=n/a RATIO_WALL=n/a
X_WALL=n/a X_RATE=n/a X_RSS=n/a
if [[ $SKIP_LOADLAKE == 1 ]]; then
    say "SKIP_LOADLAKE=1: not building or running loadlake"
else
    if [[ -n ${LOADLAKE_BIN:-} ]]; then
        BIN=$LOADLAKE_BIN
    else
        say "cargo build --release (workspace root $ROOT)"
        (cd "$ROOT" && cargo build --release)
        # Where cargo put it: honours CARGO_TARGET_DIR and .cargo/config.toml build.target-dir.
        TARGET_DIR=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps 2>/dev/null \
            | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])') || TARGET_DIR=
        if [[ -z $TARGET_DIR ]]; then
            TARGET_DIR=${CARGO_TARGET_DIR:-target}
            [[ $TARGET_DIR == /* ]] || TARGET_DIR=$ROOT/$TARGET_DIR
        fi
        BIN=$TARGET_DIR/release/loadlake
    fi
    [[ -x $BIN ]] || die "no loadlake binary at $BIN (set LOADLAKE_BIN, or check the workspace has a [[bin]] named loadlake)"
    say "loadlake binary: $BIN"

    # CSV import
    rm -rf -- "$STORE" "$XSTORE"
    warm "$CSV"
    say "loadlake: import $CSV"
    timed loadlake-csv "$BIN" --store "$STORE" import "$CSV" --name bench
    LL_WALL=$WALL LL_RSS=$((RSS_KB / 1024))
    shopt -s nullglob
    PQ_FILES=("$STORE"/samples/*/*.parquet)
    shopt -u nullglob
    [[ ${#PQ_FILES[@]} -gt 0 ]] || die "loadlake exited 0 but wrote no $STORE/samples/*/*.parquet (see $OUT/loadlake-csv.log)"
    LL_PQ_BYTES=$(stat -c %s "${PQ_FILES[@]}" | awk '{ s += $1 } END { printf "%d", s }')
    LL_ROWS=$(parquet_rows "${PQ_FILES[@]}")
    if [[ $LL_ROWS -ne $ROWS ]]; then
        echo "CHECK FAILED: loadlake's Parquet holds $LL_ROWS rows, expected $ROWS" >&2; CHECK_FAILED=1
    fi
    LL_RATE=$(calc "%.0f" "$ROWS / $LL_WALL")
    LL_PCT=$(calc "%.2f" "100 * $LL_PQ_BYTES / $CSV_BYTES")
    # The target compares against DuckDB's COPY alone (stricter: DuckDB's process wall also
    # pays ~0.3 s of Python start-up and `import duckdb`, loadlake's wall pays its own start-up).
    RATIO=$(calc "%.2f" "$LL_RATE / $DUCK_COPY_RATE")
    RATIO_WALL=$(calc "%.2f" "$LL_RATE / $DUCK_RATE")
    LL_CPU=$(cpu_seconds "$OUT/loadlake-csv.time")

    # DuckDB doing loadlake's job (30 of its 31 columns, sorted by time): not the target's
    # peer, the measure of how much of the gap is the job rather than the code.
    warm "$CSV"
    say "DuckDB: loadlake's job on $CSV (30 of its columns, sorted by time)"
    read -r SAME_ROWS SAME_S SAME_CPU < <("$PY" "$ROOT/benches/duck_import.py" \
        "$CSV" "$OUT/duck-same.parquet" "$DUCKDB_THREADS" same)
    rm -f -- "$OUT/duck-same.parquet"
    if [[ $SAME_ROWS -ne $ROWS ]]; then
        echo "CHECK FAILED: DuckDB's same job wrote $SAME_ROWS rows, expected $ROWS" >&2; CHECK_FAILED=1
    fi
    RATIO_SAME=$(calc "%.2f" "$SAME_S / $LL_WALL")

    # XML import
    warm "$XML"
    say "loadlake: import $XML"
    timed loadlake-xml "$BIN" --store "$XSTORE" import "$XML" --name bench-xml
    X_WALL=$WALL X_RSS=$((RSS_KB / 1024))
    shopt -s nullglob
    XPQ_FILES=("$XSTORE"/samples/*/*.parquet)
    shopt -u nullglob
    [[ ${#XPQ_FILES[@]} -gt 0 ]] || die "loadlake exited 0 but wrote no $XSTORE/samples/*/*.parquet (see $OUT/loadlake-xml.log)"
    X_ROWS=$(parquet_rows "${XPQ_FILES[@]}")
    if [[ $X_ROWS -ne $XML_ROWS ]]; then
        echo "CHECK FAILED: loadlake's XML Parquet holds $X_ROWS rows, expected $XML_ROWS" >&2; CHECK_FAILED=1
    fi
    X_RATE=$(calc "%.0f" "$XML_ROWS / $X_WALL")
fi
DUCK_PCT=$(calc "%.2f" "100 * $DUCK_PQ_BYTES / $CSV_BYTES")

# ---------------------------------------------------------------- report
MISSED=0
# verdict VALUE OP LIMIT: PASS / MISS (or "-" when VALUE is n/a)
verdict() {
    if [[ $1 == n/a ]]; then echo "-"
    elif awk -v v="$1" -v l="$3" "BEGIN { exit !(v $2 l) }"; then echo PASS
    else echo MISS
    fi
}
V_RATIO=$(verdict "$RATIO" '>=' 2); V_RSS=$(verdict "$LL_RSS" '<' 300)
V_PCT=$(verdict "$LL_PCT" '<=' 8); V_XML=$(verdict "$X_RATE" '>=' 1000000)
for v in "$V_RATIO" "$V_RSS" "$V_PCT" "$V_XML"; do [[ $v == MISS ]] && MISSED=1; done

row() { printf '%-40s %16s   %-14s %s\n' "$@"; }
echo
echo "Ingest benchmark: $ROWS rows, CSV $CSV_BYTES bytes ($(calc "%.1f" "$CSV_BYTES / $ROWS") B/row); XML $XML_ROWS samples, $XML_BYTES bytes"
echo "$(nproc) cores, load average at start $LOAD, DuckDB $DUCK_VERSION with $DUCKDB_THREADS threads"
echo
row "metric" "value" "target" "verdict"
row "----------------------------------------" "----------------" "--------------" "-------"
row "rows" "$ROWS" "" ""
row "loadlake CSV import wall (s)" "$LL_WALL" "" ""
row "loadlake CSV rows/s" "$LL_RATE" "" ""
row "loadlake CSV import CPU (s, all threads)" "$LL_CPU" "" ""
row "loadlake CSV peak RSS (MiB)" "$LL_RSS" "< 300" "$V_RSS"
row "DuckDB process wall (s)" "$DUCK_WALL" "" ""
row "DuckDB rows/s (process wall)" "$DUCK_RATE" "" ""
row "DuckDB COPY statement alone (s)" "$DUCK_COPY_S" "" ""
row "DuckDB rows/s (COPY alone)" "$DUCK_COPY_RATE" "" ""
row "DuckDB COPY CPU (s, all threads)" "$DUCK_CPU" "" ""
row "DuckDB doing loadlake's job, COPY (s)" "$SAME_S" "" ""
row "DuckDB doing loadlake's job, CPU (s)" "$SAME_CPU" "" ""
row "loadlake / DuckDB doing loadlake's job" "$RATIO_SAME" "" ""
row "loadlake / DuckDB rows/s (COPY alone)" "$RATIO" ">= 2" "$V_RATIO"
row "loadlake / DuckDB rows/s (process wall)" "$RATIO_WALL" "" ""
row "loadlake Parquet, % of CSV bytes" "$LL_PCT" "<= 8" "$V_PCT"
row "DuckDB Parquet (zstd), % of CSV bytes" "$DUCK_PCT" "" ""
row "loadlake XML import wall (s)" "$X_WALL" "" ""
row "loadlake XML samples/s" "$X_RATE" ">= 1000000" "$V_XML"
row "loadlake XML peak RSS (MiB)" "$X_RSS" "" ""
row "DuckDB peak RSS (MiB)" "$((DUCK_RSS_KB / 1024))" "" ""
echo

RESULTS=$OUT/results.tsv
[[ -s $RESULTS ]] || printf 'date\tgit\trows\tll_wall_s\tll_rows_s\tll_rss_mib\tduck_version\tduck_wall_s\tduck_rows_s\tduck_copy_s\tduck_copy_rows_s\tratio_vs_copy\tll_pq_pct\tduck_pq_pct\txml_samples\txml_wall_s\txml_samples_s\tload\tchecks\n' >"$RESULTS"
GIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$GIT" \
    "$ROWS" "$LL_WALL" "$LL_RATE" "$LL_RSS" "$DUCK_VERSION" "$DUCK_WALL" "$DUCK_RATE" "$DUCK_COPY_S" "$DUCK_COPY_RATE" "$RATIO" \
    "$LL_PCT" "$DUCK_PCT" "$XML_ROWS" "$X_WALL" "$X_RATE" "$LOAD" \
    "$([[ $CHECK_FAILED == 0 ]] && echo ok || echo FAILED)" >>"$RESULTS"
say "appended to $RESULTS"

[[ $CHECK_FAILED == 0 ]] || die "row-count check failed (see above): the timings are not valid"
if [[ $MISSED == 1 && ${STRICT_TARGETS:-0} == 1 ]]; then
    echo "targets missed (STRICT_TARGETS=1)" >&2; exit 3
fi
