#!/usr/bin/env bash
# Report benchmark: `loadlake report` + `loadlake curve --interval 1s` versus DuckDB computing
# the same numbers (quantile_disc) on loadlake's own Parquet files, and loadlake's percentile
# UDAF versus DataFusion's built-in percentile_cont. See benches/README.md.
#
# Usage: benches/report_vs_duckdb.sh [ROWS]        (default 10_000_000; underscores allowed)
#
# Environment:
#   LOADLAKE_BIN=PATH   the loadlake binary (default /root/.cache/loadlake-release/release/loadlake;
#                       the script waits up to BIN_WAIT seconds, default 2400, for it to appear)
#   DUCKDB_THREADS=N    DuckDB threads (default 2, the core count of the reference machine)
#   REPEAT=N            timed runs of each command, the median is reported (default 3)
#   REPORT_STORE=DIR    another store than bench-out/report-store
#   STRICT_TARGETS=1    exit 3 when a target is missed (by default only a wrong number fails)
#
# Inputs and outputs live in bench-out/ at the repository root: jtl-ROWS.csv (generated if
# missing), the venv, the store report-store/ (kept: the run `bench-ROWS` is imported once and
# reused), report-ROWS/ (every command's last output, logs), report-results.tsv (one line per run).
set -euo pipefail

ROWS=${1:-10000000}
ROWS=${ROWS//_/}
[[ $ROWS =~ ^[0-9]+$ && $ROWS -ge 5 ]] || { echo "ROWS must be an integer >= 5, got '${1:-}'" >&2; exit 2; }
DUCKDB_THREADS=${DUCKDB_THREADS:-2}
REPEAT=${REPEAT:-3}
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || { echo "REPEAT must be a positive integer" >&2; exit 2; }
BIN=${LOADLAKE_BIN:-/root/.cache/loadlake-release/release/loadlake}
BIN_WAIT=${BIN_WAIT:-2400}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench-out
CSV=$OUT/jtl-$ROWS.csv
STORE=${REPORT_STORE:-$OUT/report-store}
WORK=$OUT/report-$ROWS
RUN_NAME=bench-$ROWS
HELPER=$ROOT/benches/report_vs_duckdb.py
mkdir -p "$OUT" "$WORK"

die() { echo "ERROR: $*" >&2; exit 1; }
say() { echo "== $*" >&2; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2); printf "%.3f\n", (NR % 2) ? v[m] : (v[m] + v[m + 1]) / 2 }'; }
minimum() { printf '%s\n' "$@" | sort -g | head -n 1; }
# CPU seconds the whole machine spent busy, and CPU seconds of this script's finished children:
# their difference over the timed section is what other processes took (a contended machine).
machine_busy() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / { printf "%.2f %.2f\n", ($2 + $3 + $4 + $7 + $8) / hz, $9 / hz }' /proc/stat; }
children_cpu() {  # sets CHILD (`times` must run in this shell, not in a pipe or $(...))
    times >"$WORK/times"
    CHILD=$(tail -n 1 "$WORK/times" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); s += a[1] * 60 + a[2] } printf "%.2f", s }')
}

# ---------------------------------------------------------------- tools and inputs
# shellcheck source=benches/common.sh
source "$ROOT/benches/common.sh"
ensure_duckdb_venv
HAVE_GNU_TIME=0; [[ -x /usr/bin/time ]] && HAVE_GNU_TIME=1

ensure_jtl_csv "$CSV" "$ROWS"

# The binary may still be being built by someone else: wait for it, and for the linker to finish.
waited=0
until [[ -x $BIN ]] && (( $(date +%s) - $(stat -c %Y "$BIN") >= 15 )); do
    (( waited == 0 )) && say "waiting up to ${BIN_WAIT} s for $BIN"
    (( waited >= BIN_WAIT )) && die "no loadlake binary at $BIN after ${BIN_WAIT} s (set LOADLAKE_BIN)"
    sleep 15; waited=$((waited + 15))
done
for sub in report curve sql; do
    "$BIN" "$sub" --help >/dev/null 2>&1 || die "$BIN has no '$sub' command (an older build?)"
done
say "loadlake binary: $BIN ($(stat -c %y "$BIN" | cut -d. -f1))"

# ---------------------------------------------------------------- the run (imported once)
"$BIN" --store "$STORE" runs --format json >"$WORK/runs.json" 2>/dev/null || echo '[]' >"$WORK/runs.json"
RUN=$("$PY" "$HELPER" find-run "$WORK/runs.json" "$RUN_NAME" "$ROWS")
if [[ -z $RUN ]]; then
    say "importing $CSV into $STORE as '$RUN_NAME'"
    t0=$(date +%s%N)
    RUN=$("$BIN" --store "$STORE" import "$CSV" --name "$RUN_NAME" 2>"$WORK/import.log") \
        || { cat "$WORK/import.log" >&2; die "import failed (if the file was imported under another name, delete $STORE)"; }
    say "imported as run $RUN in $(calc %.1f "($(date +%s%N) - $t0) / 1e9") s"
else
    say "reusing run $RUN ('$RUN_NAME') of $STORE"
fi
[[ $RUN =~ ^[0-9a-z-]+$ ]] || die "unexpected run id '$RUN'"
shopt -s nullglob
PQ=("$STORE/samples/run_id=$RUN"/*.parquet)
shopt -u nullglob
(( ${#PQ[@]} > 0 )) || die "no Parquet files in $STORE/samples/run_id=$RUN"
PQ_BYTES=$(stat -c %s "${PQ[@]}" | awk '{ s += $1 } END { printf "%d", s }')
cat "${PQ[@]}" >/dev/null   # every timed run reads the files from the page cache

# ---------------------------------------------------------------- the per-label queries
pct_cols() {  # pct_cols FORMAT: one column per percentile; FORMAT gets (percent, fraction, name)
    local out= spec p f n
    for spec in 50.0:0.5:p50 75.0:0.75:p75 85.0:0.85:p85 90.0:0.9:p90 95.0:0.95:p95 \
                99.0:0.99:p99 99.9:0.999:p999 99.99:0.9999:p9999; do
        IFS=: read -r p f n <<<"$spec"
        out+=", $(printf "$1" "$p" "$f" "$n")"
    done
    echo "$out"
}
UDAF_SQL="SELECT label$(pct_cols "hist_percentile(ms_histogram(elapsed_ms), %.0s%s, 'nearest-rank') AS %s") FROM samples WHERE run_id = '$RUN' GROUP BY label ORDER BY label"
BUILTIN_SQL="SELECT label$(pct_cols "%.0spercentile_cont(%s) WITHIN GROUP (ORDER BY elapsed_ms) AS %s") FROM samples WHERE run_id = '$RUN' GROUP BY label ORDER BY label"
echo "$UDAF_SQL" >"$WORK/udaf.sql"
echo "$BUILTIN_SQL" >"$WORK/builtin.sql"

# ---------------------------------------------------------------- timing
# timed NAME OUTFILE CMD...: runs CMD with stdout to OUTFILE, stderr to WORK/NAME.err; sets WALL
# (s, nanosecond clock around the process) and RSS (MiB, /usr/bin/time, or n/a).
timed() {
    local name=$1 outfile=$2; shift 2
    local t0 t1 rc=0
    t0=$(date +%s%N)
    if [[ $HAVE_GNU_TIME == 1 ]]; then
        /usr/bin/time -f %M -o "$WORK/$name.rss" "$@" >"$outfile" 2>"$WORK/$name.err" || rc=$?
    else
        "$@" >"$outfile" 2>"$WORK/$name.err" || rc=$?
    fi
    t1=$(date +%s%N)
    if [[ $rc -ne 0 ]]; then
        tail -n 20 "$WORK/$name.err" >&2
        die "$name failed with exit code $rc: $*"
    fi
    WALL=$(calc %.3f "($t1 - $t0) / 1e9")
    RSS=n/a
    [[ $HAVE_GNU_TIME == 1 ]] && RSS=$(( $(tail -n 1 "$WORK/$name.rss") / 1024 ))
}

LOAD=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$LOAD" 'BEGIN { exit !(l > 0.5) }'; then
    say "WARNING: load average is $LOAD; other work on this machine skews the timings"
fi

read -r BUSY0 STEAL0 < <(machine_busy); children_cpu; CHILD0=$CHILD; T0=$(date +%s%N)
T_REP=() T_CUR=() T_FULL=() T_DQ_REP=() T_DQ_CUR=() T_DQ=() T_DWALL=() T_UDAF=() T_BUILTIN=()
for ((i = 1; i <= REPEAT; i++)); do
    say "round $i/$REPEAT"
    timed ll-report "$WORK/report.json" "$BIN" --store "$STORE" report "$RUN" --format json
    T_REP+=("$WALL"); RSS_REP=$RSS
    timed ll-curve "$WORK/curve.json" "$BIN" --store "$STORE" curve "$RUN" --interval 1s --format json
    T_CUR+=("$WALL"); RSS_CUR=$RSS
    T_FULL+=("$(calc %.3f "${T_REP[-1]} + ${T_CUR[-1]}")")
    say "   loadlake report ${T_REP[-1]} s + curve ${T_CUR[-1]} s = ${T_FULL[-1]} s"

    timed duckdb "$WORK/duck.out" "$PY" "$HELPER" duck "$STORE" "$RUN" "$DUCKDB_THREADS" "$WORK/duck.json"
    T_DWALL+=("$WALL"); RSS_DUCK=$RSS
    read -r dr dc <"$WORK/duck.out"
    T_DQ_REP+=("$dr"); T_DQ_CUR+=("$dc"); T_DQ+=("$(calc %.3f "$dr + $dc")")
    say "   DuckDB report $dr s + curve $dc s = ${T_DQ[-1]} s of queries, ${WALL} s process"

    timed udaf "$WORK/udaf.csv" "$BIN" --store "$STORE" sql "$UDAF_SQL" --format csv
    T_UDAF+=("$WALL"); RSS_UDAF=$RSS
    timed builtin "$WORK/builtin.csv" "$BIN" --store "$STORE" sql "$BUILTIN_SQL" --format csv
    T_BUILTIN+=("$WALL"); RSS_BUILTIN=$RSS
    say "   per-label percentiles: UDAF ${T_UDAF[-1]} s, percentile_cont ${T_BUILTIN[-1]} s"
done

read -r BUSY1 STEAL1 < <(machine_busy); children_cpu; CHILD1=$CHILD; T1=$(date +%s%N)
SPAN=$(calc %.1f "($T1 - $T0) / 1e9")
OTHER_CPU=$(calc %.1f "($BUSY1 - $BUSY0) - ($CHILD1 - $CHILD0)")
OTHER_PCT=$(calc %.0f "100 * ($OTHER_CPU < 0 ? 0 : $OTHER_CPU) / ($SPAN * $(nproc))")
STEAL=$(calc %.1f "$STEAL1 - $STEAL0")

M_REP=$(median "${T_REP[@]}") M_CUR=$(median "${T_CUR[@]}") M_FULL=$(median "${T_FULL[@]}")
M_DQ_REP=$(median "${T_DQ_REP[@]}") M_DQ_CUR=$(median "${T_DQ_CUR[@]}")
M_DQ=$(median "${T_DQ[@]}") M_DWALL=$(median "${T_DWALL[@]}")
M_UDAF=$(median "${T_UDAF[@]}") M_BUILTIN=$(median "${T_BUILTIN[@]}")
R_FULL=$(calc %.2f "$M_FULL / $M_DQ")
R_FULL_WALL=$(calc %.2f "$M_FULL / $M_DWALL")
R_UDAF=$(calc %.2f "$M_UDAF / $M_BUILTIN")
R_FULL_BEST=$(calc %.2f "$(minimum "${T_FULL[@]}") / $(minimum "${T_DQ[@]}")")
R_UDAF_BEST=$(calc %.2f "$(minimum "${T_UDAF[@]}") / $(minimum "${T_BUILTIN[@]}")")

# ---------------------------------------------------------------- correctness
say "checking loadlake's numbers against DuckDB's"
CHECK=ok
"$PY" "$HELPER" verify "$WORK/report.json" "$WORK/curve.json" "$WORK/duck.json" \
    "$WORK/udaf.csv" "$WORK/builtin.csv" "$STORE" "$RUN" >"$WORK/verify.txt" 2>&1 || CHECK=FAILED

# ---------------------------------------------------------------- table
verdict() { awk -v v="$1" -v l="$3" "BEGIN { exit !(v $2 l) }" && echo PASS || echo MISS; }
V_FULL=$(verdict "$R_FULL" '<=' 1)
V_UDAF=$(verdict "$R_UDAF" '<' 1)
row() { printf '%-52s %12s   %-8s %s\n' "$@"; }
all() { local IFS=' '; echo "$*"; }
echo
echo "Report benchmark: run $RUN, $ROWS rows, $(calc %.1f "$PQ_BYTES / 1048576") MiB of Parquet; median of $REPEAT runs"
echo "$(nproc) cores, load average at start $LOAD, DuckDB $DUCK_VERSION with $DUCKDB_THREADS threads"
echo
row "metric" "value" "target" "verdict"
row "----------------------------------------------------" "------------" "--------" "-------"
row "loadlake report --format json (s)" "$M_REP" "" ""
row "loadlake curve --interval 1s --format json (s)" "$M_CUR" "" ""
row "loadlake full report = report + curve (s)" "$M_FULL" "" ""
row "DuckDB report queries (s)" "$M_DQ_REP" "" ""
row "DuckDB 1 s curve query (s)" "$M_DQ_CUR" "" ""
row "DuckDB full report, queries alone (s)" "$M_DQ" "" ""
row "DuckDB full report, process wall (s)" "$M_DWALL" "" ""
row "loadlake / DuckDB time (queries alone)" "$R_FULL" "<= 1" "$V_FULL"
row "loadlake / DuckDB time (process wall)" "$R_FULL_WALL" "" ""
row "loadlake / DuckDB time (queries alone), best runs" "$R_FULL_BEST" "" ""
row "per-label 8 percentiles, UDAF hist_percentile (s)" "$M_UDAF" "" ""
row "per-label 8 percentiles, percentile_cont (s)" "$M_BUILTIN" "" ""
row "UDAF / percentile_cont time" "$R_UDAF" "< 1" "$V_UDAF"
row "UDAF / percentile_cont time, best runs" "$R_UDAF_BEST" "" ""
row "peak RSS MiB: report / curve / DuckDB" "$RSS_REP/$RSS_CUR/$RSS_DUCK" "" ""
row "peak RSS MiB: UDAF / percentile_cont" "$RSS_UDAF/$RSS_BUILTIN" "" ""
echo
echo "every run (s): report [$(all "${T_REP[@]}")] curve [$(all "${T_CUR[@]}")] DuckDB queries [$(all "${T_DQ[@]}")]"
echo "               DuckDB process [$(all "${T_DWALL[@]}")] UDAF [$(all "${T_UDAF[@]}")] percentile_cont [$(all "${T_BUILTIN[@]}")]"
echo "other processes used $OTHER_CPU CPU-s during the $SPAN s of timed runs ($OTHER_PCT % of the $(nproc) cores; steal $STEAL s)"
if (( OTHER_PCT > 5 )); then
    echo "WARNING: the machine was shared: medians are skewed; the best-run ratios are the more robust numbers"
fi
echo "correctness ($CHECK):"
sed 's/^/  /' "$WORK/verify.txt"
echo

RESULTS=$OUT/report-results.tsv
[[ -s $RESULTS ]] || printf 'date\tgit\trows\tll_report_s\tll_curve_s\tll_full_s\tduck_version\tduck_threads\tduck_queries_s\tduck_wall_s\tratio_full\tudaf_s\tpercentile_cont_s\tratio_udaf\tload\tother_cpu_pct\tcheck\n' >"$RESULTS"
GIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$GIT" "$ROWS" \
    "$M_REP" "$M_CUR" "$M_FULL" "$DUCK_VERSION" "$DUCKDB_THREADS" "$M_DQ" "$M_DWALL" "$R_FULL" \
    "$M_UDAF" "$M_BUILTIN" "$R_UDAF" "$LOAD" "$OTHER_PCT" "$CHECK" >>"$RESULTS"
say "outputs in $WORK; appended to $RESULTS"

[[ $CHECK == ok ]] || die "loadlake's numbers differ from DuckDB's (see above, $WORK/verify.txt)"
if [[ ${STRICT_TARGETS:-0} == 1 && ( $V_FULL == MISS || $V_UDAF == MISS ) ]]; then
    echo "targets missed (STRICT_TARGETS=1)" >&2; exit 3
fi
