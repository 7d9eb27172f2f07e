#!/usr/bin/env bash
# Import benchmark, the rows of issue 18's speed table that import_vs_duckdb.sh does not time:
# a gzip'd CSV against the same CSV uncompressed, the XML JTL in samples/s, a back-fill
# (`import --each`) of many small files in files/s, and the peak RSS of each. See
# benches/README.md ("More import numbers").
#
# Usage: benches/import_more.sh [ROWS]        (default 10_000_000; underscores allowed)
#
# Environment:
#   LOADLAKE_BIN=PATH   the loadlake binary (default /root/.cache/loadlake-release/release/loadlake)
#   REPEAT=N            timed rounds, interleaved (default 3); the table shows medians
#   EACH_FILES=N        files of the back-fill (default 1000)
#   EACH_ROWS=N         rows per file of the back-fill (default 1000)
#   STRICT_TARGETS=1    exit 3 when a target is missed
#
# Inputs are generated into bench-out/ and kept: jtl-ROWS.csv (shared with
# import_vs_duckdb.sh), jtl-ROWS.csv.gz (gzip -6 of it), jtl-ROWS/5.xml, and
# each-FILESxROWS/part-NNNN.csv (header + EACH_ROWS rows each, cut from one generated CSV, so
# every file has different bytes). Stores are deleted after each command.
set -euo pipefail

ROWS=${1:-10000000}
ROWS=${ROWS//_/}
[[ $ROWS =~ ^[0-9]+$ && $ROWS -ge 5 ]] || { echo "ROWS must be an integer >= 5, got '${1:-}'" >&2; exit 2; }
XML_ROWS=$((ROWS / 5))
REPEAT=${REPEAT:-3}
EACH_FILES=${EACH_FILES:-1000}
EACH_ROWS=${EACH_ROWS:-1000}
BIN=${LOADLAKE_BIN:-/root/.cache/loadlake-release/release/loadlake}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench-out
mkdir -p "$OUT"
CSV=$OUT/jtl-$ROWS.csv
GZ=$CSV.gz
XML=$OUT/jtl-$XML_ROWS.xml
EACH_DIR=$OUT/each-${EACH_FILES}x$EACH_ROWS
STORE=$OUT/more-store-$$
LOGDIR=$OUT/more-$ROWS
mkdir -p "$LOGDIR"

die() { echo "ERROR: $*" >&2; exit 1; }
say() { echo "== $*" >&2; }
trap 'rm -rf -- "$STORE"' EXIT

[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (Debian package 'time')"
[[ -x $BIN ]] || die "no loadlake binary at $BIN (set LOADLAKE_BIN)"
# shellcheck source=benches/common.sh
source "$ROOT/benches/common.sh"
ensure_duckdb_venv

# ---------------------------------------------------------------- inputs (kept for reuse)
ensure_jtl_csv "$CSV" "$ROWS"
if [[ ! -s $GZ ]]; then
    say "compressing $CSV (gzip -6)"
    gzip -6 -c "$CSV" >"$GZ.tmp" && mv "$GZ.tmp" "$GZ"
fi
if [[ ! -s $XML ]]; then
    say "generating $XML"
    "$PY" "$ROOT/benches/gen_jtl.py" "$XML_ROWS" --format xml -o "$XML"
fi
ensure_each_files "$EACH_DIR" "$EACH_FILES" "$EACH_ROWS"
CSV_BYTES=$(stat -c %s "$CSV"); GZ_BYTES=$(stat -c %s "$GZ"); XML_BYTES=$(stat -c %s "$XML")

# ---------------------------------------------------------------- helpers
# timed NAME ROUND CMD...: runs CMD under /usr/bin/time -v into a fresh store; appends
# "NAME wall_s cpu_s rss_kb" to $LOGDIR/times.
timed() {
    local name=$1 round=$2; shift 2
    local tfile=$LOGDIR/$name-$round.time log=$LOGDIR/$name-$round.log t0 t1 rc=0
    rm -rf -- "$STORE"
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$tfile" "$@" >"$log" 2>&1 || rc=$?
    t1=$(date +%s%N)
    [[ $rc -eq 0 ]] || { tail -n 20 "$log" >&2; die "$name failed with exit code $rc: $*"; }
    local wall cpu rss
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$tfile")
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tfile")
    echo "$name $wall $cpu $rss" >>"$LOGDIR/times"
    say "$name round $round: $wall s wall, $cpu CPU-s, max RSS $((rss / 1024)) MiB"
}
# store_rows: the samples in the store's Parquet files, counted with DuckDB
store_rows() {
    "$PY" - "$STORE" <<'EOF'
import sys, glob, duckdb
files = glob.glob(sys.argv[1] + "/samples/*/*.parquet")
print(duckdb.sql("SELECT count(*) FROM read_parquet($f)", params={"f": files}).fetchall()[0][0] if files else 0)
EOF
}
check_rows() {
    local got
    got=$(store_rows)
    [[ $got -eq $2 ]] || die "$1: the store holds $got samples, expected $2"
    local runs
    runs=$(find "$STORE/runs" -name '*.json' | wc -l)
    [[ $runs -eq $3 ]] || die "$1: the store holds $runs runs, expected $3"
}

LOAD=$(cut -d' ' -f1 /proc/loadavg)
rm -f -- "$LOGDIR/times"
B0=$(busy); T0=$(date +%s%N)
for round in $(seq 1 "$REPEAT"); do
    cat "$CSV" "$GZ" "$XML" >/dev/null; cat "$EACH_DIR"/*.csv >/dev/null  # page cache
    timed csv "$round" "$BIN" --store "$STORE" import "$CSV" --name csv
    check_rows csv "$ROWS" 1
    timed csv-gz "$round" "$BIN" --store "$STORE" import "$GZ" --name gz
    check_rows csv-gz "$ROWS" 1
    timed xml "$round" "$BIN" --store "$STORE" import "$XML" --name xml
    check_rows xml "$XML_ROWS" 1
    timed each "$round" "$BIN" --store "$STORE" import --each "$EACH_DIR/part-*.csv"
    check_rows each $((EACH_FILES * EACH_ROWS)) "$EACH_FILES"
done
B1=$(busy); T1=$(date +%s%N)
MACHINE=$(calc "%.2f" "($B1 - $B0) / $(getconf CLK_TCK) / (($T1 - $T0) / 1e9)")

CSV_W=$(median csv 2); GZ_W=$(median csv-gz 2); XML_W=$(median xml 2); EACH_W=$(median each 2)
CSV_RATE=$(calc "%.0f" "$ROWS / $CSV_W"); GZ_RATE=$(calc "%.0f" "$ROWS / $GZ_W")
GZ_RATIO=$(calc "%.2f" "$GZ_RATE / $CSV_RATE")
XML_RATE=$(calc "%.0f" "$XML_ROWS / $XML_W")
FILES_S=$(calc "%.1f" "$EACH_FILES / $EACH_W")
RSS_MAX=0
for n in csv csv-gz xml each; do
    r=$(awk -v n="$n" '$1 == n { print $4 }' "$LOGDIR/times" | sort -g | tail -n 1)
    [[ $r -gt $RSS_MAX ]] && RSS_MAX=$r
done
mib() { echo $(($1 / 1024)); }
verdict() { if awk -v v="$1" -v l="$3" "BEGIN { exit !(v $2 l) }"; then echo PASS; else echo MISS; fi; }
V_GZ=$(verdict "$GZ_RATIO" '>=' 0.7); V_EACH=$(verdict "$FILES_S" '>=' 200)
V_XML=$(verdict "$XML_RATE" '>=' 1000000); V_RSS=$(verdict "$(mib "$RSS_MAX")" '<' 300)

row() { printf '%-44s %14s %14s %14s   %-12s %s\n' "$@"; }
echo
echo "Import, more numbers: $ROWS CSV rows ($CSV_BYTES bytes; gzip -6 $GZ_BYTES bytes), $XML_ROWS XML samples ($XML_BYTES bytes), --each $EACH_FILES files x $EACH_ROWS rows"
echo "$(nproc) cores, load average at start $LOAD, machine busy $MACHINE cores on average over the rounds (this benchmark included); medians of $REPEAT interleaved rounds"
echo
row "command" "wall (s)" "CPU (s)" "peak RSS MiB" "target" "verdict"
for n in csv csv-gz xml each; do
    row "$n" "$(median "$n" 2)" "$(median "$n" 3)" "$(mib "$(median "$n" 4 | cut -d. -f1)")" "" ""
done
echo
row "metric" "value" "" "" "target" "verdict"
row "CSV rows/s" "$CSV_RATE" "" "" "" ""
row "gzip'd CSV rows/s" "$GZ_RATE" "" "" "" ""
row "gzip'd / plain CSV" "$GZ_RATIO" "" "" ">= 0.7" "$V_GZ"
row "XML samples/s" "$XML_RATE" "" "" ">= 1000000" "$V_XML"
row "--each files/s" "$FILES_S" "" "" ">= 200" "$V_EACH"
row "highest peak RSS of any run (MiB)" "$(mib "$RSS_MAX")" "" "" "< 300" "$V_RSS"
echo

RESULTS=$OUT/more-results.tsv
[[ -s $RESULTS ]] || printf 'date\tgit\trows\tcsv_s\tgz_s\tgz_ratio\txml_samples\txml_s\txml_samples_s\teach_files\teach_s\tfiles_s\trss_max_mib\tload\tmachine_busy\n' >"$RESULTS"
GIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$GIT" "$ROWS" \
    "$CSV_W" "$GZ_W" "$GZ_RATIO" "$XML_ROWS" "$XML_W" "$XML_RATE" "$EACH_FILES" "$EACH_W" "$FILES_S" \
    "$(mib "$RSS_MAX")" "$LOAD" "$MACHINE" >>"$RESULTS"
say "appended to $RESULTS; per-run logs in $LOGDIR"
if [[ ${STRICT_TARGETS:-0} == 1 ]] && grep -q MISS <<<"$V_GZ $V_EACH $V_XML $V_RSS"; then
    echo "targets missed (STRICT_TARGETS=1)" >&2; exit 3
fi
