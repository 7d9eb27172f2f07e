#!/usr/bin/env bash
# Runner benchmark: `loadlake run` against wrk and JMeter 2.13 on a loopback nginx, in the same
# run. nginx (one worker) is pinned to CPU 0, each generator in turn to CPU 1; every generator
# keeps CONNS keep-alive connections busy for SECS seconds with no think time on a 100-byte
# resource. See benches/README.md, section "Runner".
#
# Usage: benches/runner_vs_wrk.sh
#
# Environment:
#   SECS=N              seconds of load per generator (default 15)
#   CONNS=N             wrk connections = loadlake / JMeter threads (default 50)
#   LOADLAKE_BIN=PATH   the loadlake binary (default: the release build in
#                       /root/.cache/loadlake-release, waited for up to BIN_WAIT s, default 2400)
#   LOADLAKE_COMMIT=c   the commit the binary was built from, for the table (default: HEAD of
#                       /tmp/bench-src for the default binary, else unknown)
#   SKIP_JMETER=1       do not run JMeter 2.13 (also skipped when it is not installed)
#   JMETER=PATH         JMeter 2.13 launcher (default /work/shared/tools/jmeter213/jmeter213)
#   STRICT_TARGETS=1    exit 3 when a target is missed (by default only a failed check fails)
#   KEEP_TMP=1          keep the temp dir (nginx.conf, plans, logs, the store) for inspection
#
# Checks (exit 1 when one fails): every generator's requests all got 200 / no socket error, and
# loadlake recorded exactly as many samples as nginx served (stub_status request counter), both
# in its summary line and in its store (`loadlake sql`). One line per run is appended to
# bench-out/runner-results.tsv.
set -euo pipefail

SECS=${SECS:-15}
CONNS=${CONNS:-50}
SKIP_JMETER=${SKIP_JMETER:-0}
JMETER=${JMETER:-/work/shared/tools/jmeter213/jmeter213}
[[ $SECS =~ ^[0-9]+$ && $SECS -ge 2 ]] || { echo "SECS must be an integer >= 2, got '$SECS'" >&2; exit 2; }
[[ $CONNS =~ ^[0-9]+$ && $CONNS -ge 1 ]] || { echo "CONNS must be an integer >= 1, got '$CONNS'" >&2; exit 2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench-out
mkdir -p "$OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/loadlake-runner-vs-wrk.XXXXXX")


# shellcheck source=benches/runner/lib.sh
source "$ROOT/benches/runner/lib.sh"

trap bench_cleanup EXIT
trap 'exit 130' INT TERM

require_tools nginx wrk taskset curl python3
find_loadlake
say "loadlake binary: $BIN"
[[ $(nproc) -ge 2 ]] || say "WARNING: $(nproc) CPU: nginx and the generator share it"

check_idle

start_nginx
CHECK_FAILED=0
check_fail() { echo "CHECK FAILED: $*" >&2; CHECK_FAILED=1; }

# served CMD...: runs CMD and sets SERVED to the requests nginx served meanwhile (the status
# request that reads the counter afterwards is not counted).
served() {
    local r0 r1
    r0=$(nginx_requests)
    "$@"
    r1=$(nginx_requests)
    SERVED=$((r1 - r0 - 1))
}

# Results per generator: G_REQ (nginx-served), G_LOAD_S (the generator's own load window),
# G_CPU, G_RSS, G_WALL, G_NGX (nginx's CPU meanwhile) and G_OTHERS (other processes' CPU
# seconds on the generator's core / on nginx's core).
declare -A G_REQ G_LOAD_S G_CPU G_RSS G_WALL G_NGX G_OTHERS
# note_others NAME: records and warns about CPU that other processes took meanwhile.
note_others() {
    G_NGX[$1]=$NGINX_S G_OTHERS[$1]="$OTHERS_GEN_S/$OTHERS_NGX_S"
    if awk -v a="$OTHERS_GEN_S" -v b="$OTHERS_NGX_S" -v w="$WALL_S" 'BEGIN { exit !(a > 0.05 * w || b > 0.05 * w) }'; then
        say "WARNING: other processes took $OTHERS_GEN_S CPU-s on CPU $GEN_CPU and $OTHERS_NGX_S on CPU $NGINX_CPU during $1 (${WALL_S}s): its numbers are skewed"
    fi
}

# ---------------------------------------------------------------- wrk
say "wrk -t1 -c$CONNS -d${SECS}s (CPU $GEN_CPU)"
served timed_gen wrk wrk -t1 -c"$CONNS" -d"${SECS}s" "$URL"
WRK_COUNT=$(awk '/requests in/ { print $1 }' "$TMP/wrk.out")
WRK_LOAD_S=$(awk '/requests in/ { sub(/s,$/, "", $4); print $4 }' "$TMP/wrk.out")
[[ -n $WRK_COUNT && -n $WRK_LOAD_S ]] || die "cannot read wrk's output: $(cat "$TMP/wrk.out")"
if grep -q 'Socket errors\|Non-2xx' "$TMP/wrk.out"; then check_fail "wrk: $(grep 'Socket errors\|Non-2xx' "$TMP/wrk.out")"; fi
# wrk does not count the requests in flight when its time is up: nginx served a few more.
G_REQ[wrk]=$SERVED G_LOAD_S[wrk]=$WRK_LOAD_S G_CPU[wrk]=$CPU_S G_RSS[wrk]=$RSS_MIB G_WALL[wrk]=$WALL_S
note_others wrk
say "wrk: nginx served $SERVED (wrk counted $WRK_COUNT) in $WRK_LOAD_S s; CPU $CPU_S s (user $USER_S, sys $SYS_S), max RSS $RSS_MIB MiB"

# ---------------------------------------------------------------- loadlake
PLAN=$TMP/runner_vs_wrk.jmx
render_jmx keepalive.jmx.in "$PLAN" THREADS="$CONNS" SECS="$SECS" PORT="$PORT"
STORE=$TMP/store
"$BIN" --store "$STORE" run "$PLAN" --validate >"$TMP/validate.out" 2>&1 \
    || { cat "$TMP/validate.out" >&2; die "loadlake cannot run $PLAN"; }
say "loadlake run ($CONNS threads, --duration ${SECS}s, store $STORE, CPU $GEN_CPU)"
served timed_gen loadlake "$BIN" --store "$STORE" run "$PLAN" --duration "${SECS}s" --name runner-vs-wrk
RUN_ID=$(tail -n 1 "$TMP/loadlake.out")
# "ran N samples (E failed) in X s as run ID"
read -r LL_SUMMARY LL_FAILED LL_SUMMARY_S < <(sed -nE 's/^ran ([0-9]+) samples \(([0-9]+) failed\) in ([0-9.]+) s as run .*/\1 \2 \3/p' "$TMP/loadlake.err")
[[ -n ${LL_SUMMARY:-} ]] || die "no 'ran N samples' line from loadlake (see $TMP/loadlake.err)"
"$BIN" --store "$STORE" sql --format csv \
    "SELECT count(*) AS n, count(*) FILTER (WHERE NOT success) AS failed, count(*) FILTER (WHERE response_code <> '200') AS not_200, count(DISTINCT thread) AS threads, (max(CAST(ts AS BIGINT) + elapsed_ms) - min(CAST(ts AS BIGINT))) / 1000.0 AS span_s FROM samples WHERE run_id = '$RUN_ID'" \
    >"$TMP/count.csv" 2>"$TMP/count.err" || { cat "$TMP/count.err" >&2; die "loadlake sql failed"; }
IFS=, read -r LL_STORED LL_STORED_FAILED LL_NOT_200 LL_THREADS LL_SPAN_S < <(tail -n 1 "$TMP/count.csv")
# The load window as for JMeter's JTL: first sample start to last sample end (the summary's
# elapsed has one decimal).
LL_LOAD_S=$(calc "%.3f" "$LL_SPAN_S")
G_REQ[loadlake]=$SERVED G_LOAD_S[loadlake]=$LL_LOAD_S G_CPU[loadlake]=$CPU_S G_RSS[loadlake]=$RSS_MIB G_WALL[loadlake]=$WALL_S
note_others loadlake
say "loadlake: nginx served $SERVED; summary $LL_SUMMARY samples ($LL_FAILED failed) in $LL_SUMMARY_S s; store $LL_STORED rows ($LL_THREADS threads) over $LL_LOAD_S s; CPU $CPU_S s (user $USER_S, sys $SYS_S), max RSS $RSS_MIB MiB"
[[ $LL_SUMMARY -eq $SERVED ]] || check_fail "loadlake's summary says $LL_SUMMARY samples, nginx served $SERVED requests"
[[ $LL_STORED -eq $SERVED ]] || check_fail "loadlake's store holds $LL_STORED samples of run $RUN_ID, nginx served $SERVED requests"
[[ $LL_FAILED -eq 0 && $LL_STORED_FAILED -eq 0 && $LL_NOT_200 -eq 0 ]] \
    || check_fail "loadlake: $LL_FAILED failed samples in the summary, $LL_STORED_FAILED failed / $LL_NOT_200 not 200 in the store"
[[ $LL_THREADS -eq $CONNS ]] || check_fail "loadlake: samples from $LL_THREADS threads, expected $CONNS"
LL_STORE_BYTES=$(du -sb "$STORE" | cut -f1)

# ---------------------------------------------------------------- JMeter 2.13
HAVE_JMETER=0
if want_jmeter; then
    HAVE_JMETER=1
    JTL=$TMP/jmeter.csv
    rm -f -- "$JTL"
    say "JMeter 2.13 -n ($CONNS threads, scheduler ${SECS}s, CPU $GEN_CPU)"
    # timeout: a bound in case JMeter hangs; its own scheduler ends the test after SECS.
    served timed_gen jmeter timeout -k 10 $((SECS + 120)) "$JMETER" -n -t "$PLAN" -l "$JTL" -j "$TMP/jmeter.log" \
        -Jjmeter.save.saveservice.output_format=csv -Jjmeter.save.saveservice.print_field_names=false
    # 2.13 columns: timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,bytes,grpThreads,allThreads,Latency
    read -r JM_ROWS JM_BAD JM_LOAD_S < <(awk -F, '
        { n++; if ($4 != "200" || $8 != "true") bad++
          if (min == "" || $1 < min) min = $1; if ($1 + $2 > max) max = $1 + $2 }
        END { printf "%d %d %.3f\n", n, bad, (max - min) / 1000 }' "$JTL")
    G_REQ[jmeter]=$SERVED G_LOAD_S[jmeter]=$JM_LOAD_S G_CPU[jmeter]=$CPU_S G_RSS[jmeter]=$RSS_MIB G_WALL[jmeter]=$WALL_S
    note_others jmeter
    say "JMeter: nginx served $SERVED; JTL $JM_ROWS rows ($JM_BAD not 200/true) over $JM_LOAD_S s; CPU $CPU_S s (user $USER_S, sys $SYS_S), max RSS $RSS_MIB MiB, wall $WALL_S s"
    [[ $JM_BAD -eq 0 ]] || check_fail "JMeter: $JM_BAD samples not 200 / successful"
    [[ $JM_ROWS -eq $SERVED ]] || say "note: JMeter's JTL has $JM_ROWS rows, nginx served $SERVED"
fi
stop_nginx

# ---------------------------------------------------------------- report
GENS=(wrk loadlake); [[ $HAVE_JMETER == 1 ]] && GENS+=(jmeter)
declare -A RPS PER_CPU
for g in "${GENS[@]}"; do
    RPS[$g]=$(calc "%.0f" "${G_REQ[$g]} / ${G_LOAD_S[$g]}")
    PER_CPU[$g]=$(calc "%.0f" "${G_REQ[$g]} / ${G_CPU[$g]}")
done
R_CPU_WRK=$(calc "%.2f" "${PER_CPU[loadlake]} / ${PER_CPU[wrk]}")
R_RPS_WRK=$(calc "%.2f" "${RPS[loadlake]} / ${RPS[wrk]}")
R_CPU_JM=n/a R_RPS_JM=n/a
if [[ $HAVE_JMETER == 1 ]]; then
    R_CPU_JM=$(calc "%.1f" "${PER_CPU[loadlake]} / ${PER_CPU[jmeter]}")
    R_RPS_JM=$(calc "%.1f" "${RPS[loadlake]} / ${RPS[jmeter]}")
fi

verdict() {
    if [[ $1 == n/a ]]; then echo "-"
    elif awk -v v="$1" -v l="$3" "BEGIN { exit !(v $2 l) }"; then echo PASS
    else echo FAIL
    fi
}
V_CPU_WRK=$(verdict "$R_CPU_WRK" '>=' 0.8)
V_RPS_WRK=$(verdict "$R_RPS_WRK" '>=' 0.9)
V_CPU_JM=$(verdict "$R_CPU_JM" '>=' 10)
MISSED=0
for v in "$V_CPU_WRK" "$V_RPS_WRK" "$V_CPU_JM"; do [[ $v == FAIL ]] && MISSED=1; done

GIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)
echo
echo "Runner benchmark, $(date -u +%FT%TZ), git $GIT: nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') (1 worker, CPU $NGINX_CPU) serving 100 B with keep-alive;"
echo "$CONNS connections / threads, no think time, ${SECS} s per generator (CPU $GEN_CPU); CPUs $BUSY_PCT % busy before the start"
echo "$(machine_line); loadlake $BIN (tree $BIN_GIT)"
echo
F='%-10s %10s %9s %8s %8s %12s %8s %8s %8s %12s\n'
printf "$F" generator requests "req/s" "load s" "CPU s" "req/CPU-s" "RSS MiB" "wall s" "nginx %" "others CPU-s"
printf "$F" ---------- ---------- --------- -------- -------- ------------ -------- -------- -------- ------------
for g in "${GENS[@]}"; do
    printf "$F" "$g" "${G_REQ[$g]}" "${RPS[$g]}" "${G_LOAD_S[$g]}" "${G_CPU[$g]}" "${PER_CPU[$g]}" "${G_RSS[$g]}" "${G_WALL[$g]}" \
        "$(calc "%.0f" "100 * ${G_NGX[$g]} / ${G_WALL[$g]}")" "${G_OTHERS[$g]}"
done
echo
row() { printf '%-44s %8s   %-8s %s\n' "$@"; }
row "ratio" "value" "target" "verdict"
row "loadlake / wrk, requests per CPU-second" "$R_CPU_WRK" ">= 0.8" "$V_CPU_WRK"
row "loadlake / wrk, requests per second" "$R_RPS_WRK" ">= 0.9" "$V_RPS_WRK"
row "loadlake / JMeter 2.13, requests per CPU-second" "$R_CPU_JM" ">= 10" "$V_CPU_JM"
row "loadlake / JMeter 2.13, requests per second" "$R_RPS_JM" "" ""
echo
echo "every sample recorded: nginx served ${G_REQ[loadlake]}, loadlake's summary $LL_SUMMARY, its store $LL_STORED rows ($LL_STORE_BYTES bytes on disk) -> $([[ $LL_SUMMARY -eq ${G_REQ[loadlake]} && $LL_STORED -eq ${G_REQ[loadlake]} ]] && echo OK || echo MISMATCH)"
echo

RESULTS=$OUT/runner-results.tsv
[[ -s $RESULTS ]] || printf 'date\tgit\tbin_git\tsecs\tconns\twrk_req\twrk_rps\twrk_cpu_s\twrk_req_per_cpu_s\tll_req\tll_rps\tll_cpu_s\tll_req_per_cpu_s\tll_rss_mib\tjm_req\tjm_rps\tjm_cpu_s\tjm_req_per_cpu_s\tjm_rss_mib\tll_wrk_cpu\tll_wrk_rps\tll_jm_cpu\tbusy_pct\tchecks\n' >"$RESULTS"
jm() { if [[ $HAVE_JMETER == 1 ]]; then echo "$1"; else echo n/a; fi; }
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$GIT" "$BIN_GIT" "$SECS" "$CONNS" \
    "${G_REQ[wrk]}" "${RPS[wrk]}" "${G_CPU[wrk]}" "${PER_CPU[wrk]}" \
    "${G_REQ[loadlake]}" "${RPS[loadlake]}" "${G_CPU[loadlake]}" "${PER_CPU[loadlake]}" "${G_RSS[loadlake]}" \
    "$(jm "${G_REQ[jmeter]:-}")" "$(jm "${RPS[jmeter]:-}")" "$(jm "${G_CPU[jmeter]:-}")" "$(jm "${PER_CPU[jmeter]:-}")" "$(jm "${G_RSS[jmeter]:-}")" \
    "$R_CPU_WRK" "$R_RPS_WRK" "$R_CPU_JM" "$BUSY_PCT" "$([[ $CHECK_FAILED == 0 ]] && echo ok || echo FAILED)" >>"$RESULTS"
say "appended to $RESULTS"

[[ $CHECK_FAILED == 0 ]] || die "a check failed (see above): the numbers are not valid"
if [[ $MISSED == 1 && ${STRICT_TARGETS:-0} == 1 ]]; then
    echo "targets missed (STRICT_TARGETS=1)" >&2; exit 3
fi
