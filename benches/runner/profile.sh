#!/usr/bin/env bash
# Where `loadlake run` spends its CPU in the runner_vs_wrk.sh setup (nginx on CPU 0, loadlake on
# CPU 1, CONNS keep-alive users, no think time). See benches/README.md, section "Runner".
#
# Usage: benches/runner/profile.sh perf|strace|ctxsw
#   perf     perf record -e cpu-clock (DWARF call graphs) for SECS s; prints the CPU per thread
#            and bucket (syscall, context switch, user-space crate; perf_breakdown.py) and the
#            top symbols, self and children; KEEP_TMP=1 keeps perf.data
#   strace   strace -c -f for SECS s: syscalls per sample (strace itself slows the run down ~3×,
#            the counts per sample stay meaningful)
#   ctxsw    voluntary / involuntary context switches and threads of the process, per sample
#
# Environment: SECS (default 10), CONNS (50), LOADLAKE_BIN, KEEP_TMP=1.
set -euo pipefail

MODE=${1:-}
[[ $MODE == perf || $MODE == strace || $MODE == ctxsw ]] || { sed -n '2,14p' "$0" >&2; exit 2; }
SECS=${SECS:-10}
CONNS=${CONNS:-50}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/loadlake-runner-profile.XXXXXX")
# shellcheck source=benches/runner/lib.sh
source "$ROOT/benches/runner/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

require_tools nginx taskset curl python3
find_loadlake
start_nginx
PLAN=$TMP/plan.jmx
render_jmx keepalive.jmx.in "$PLAN" THREADS="$CONNS" SECS="$SECS" PORT="$PORT"
RUN=("$BIN" --store "$TMP/store" run "$PLAN" --duration "${SECS}s")

samples() { sed -nE 's/^ran ([0-9]+) samples .*/\1/p' "$TMP/run.err"; }

case $MODE in
perf)
    command -v perf >/dev/null || die "perf is missing: apt-get install -y linux-perf"
    taskset -c "$GEN_CPU" perf record -q -e cpu-clock -F 999 --call-graph dwarf,16384 -o "$TMP/perf.data" -- \
        "${RUN[@]}" >"$TMP/run.out" 2>"$TMP/run.err"
    say "$(grep '^ran ' "$TMP/run.err")"
    echo "---- by thread and bucket (benches/runner/perf_breakdown.py)"
    perf script -i "$TMP/perf.data" --no-inline -F comm,tid,ip,sym 2>/dev/null >"$TMP/perf-script.txt"
    python3 "$RUNNER_DIR/perf_breakdown.py" "$TMP/perf-script.txt" "$(samples)" 999
    echo "---- self (top 40)"
    perf report -i "$TMP/perf.data" --no-inline --no-children --sort symbol --stdio -g none --percent-limit 0.7 2>/dev/null \
        | grep -v '^#' | grep -v '^$' | head -n 40
    echo "---- children (top 60)"
    perf report -i "$TMP/perf.data" --no-inline --children --sort symbol --stdio -g none --percent-limit 2 2>/dev/null \
        | grep -v '^#' | grep -v '^$' | head -n 60
    ;;
strace)
    command -v strace >/dev/null || die "strace is missing: apt-get install -y strace"
    taskset -c "$GEN_CPU" strace -c -f -o "$TMP/strace.txt" -- "${RUN[@]}" >"$TMP/run.out" 2>"$TMP/run.err"
    n=$(samples)
    say "$(grep '^ran ' "$TMP/run.err")"
    awk -v n="$n" 'NR <= 2 || /^-/ { print; next }
        $4 ~ /^[0-9]+$/ { printf "%s   %.2f per sample\n", $0, $4 / n; next } { print }' "$TMP/strace.txt"
    ;;
ctxsw)
    r0=$(nginx_requests)
    taskset -c "$GEN_CPU" "${RUN[@]}" >"$TMP/run.out" 2>"$TMP/run.err" &
    pid=$!
    sleep $((SECS / 2))
    n=$(($(nginx_requests) - r0 - 1))
    echo "threads of pid $pid half-way, after $n requests (context switches per request):"
    for t in /proc/$pid/task/*; do
        awk -v c="$(cat "$t/comm")" -v n="$n" '
            /^voluntary_ctxt_switches/ { v = $2 } /^nonvoluntary_ctxt_switches/ { i = $2 }
            END { printf "  %-18s voluntary %9d (%.3f)   involuntary %9d (%.3f)\n", c, v, v / n, i, i / n }' "$t/status"
    done
    wait "$pid"
    say "$(grep '^ran ' "$TMP/run.err")"
    ;;
esac
