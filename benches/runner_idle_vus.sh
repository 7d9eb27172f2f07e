#!/usr/bin/env bash
# Idle virtual users benchmark: the memory a `loadlake run` user costs while it waits in a long
# think time, holding its keep-alive connection. Runs the same plan with 1 user and with VUS
# users (all started at once: one GET, then a 60 s Constant Timer cut by `--duration`), samples
# the process's VmRSS once every user has sent its request and gone idle, and divides the growth
# by the extra users. Optionally JMeter 2.13 with JM_VUS threads for comparison. See
# benches/README.md, section "Runner".
#
# Usage: benches/runner_idle_vus.sh
#
# Environment:
#   VUS=N               idle users of the big run (default 10000)
#   SECS=N              loadlake's --duration (default 20): the users sit idle until then
#   SETTLE=N            seconds between the last user's request and the RSS sample (default 3)
#   LOADLAKE_BIN=PATH   the loadlake binary (default: the release build in
#                       /root/.cache/loadlake-release, waited for up to BIN_WAIT s, default 2400)
#   LOADLAKE_COMMIT=c   the commit the binary was built from, for the table (default: HEAD of
#                       /tmp/bench-src for the default binary, else unknown)
#   SKIP_JMETER=1       do not run JMeter 2.13 (also skipped when it is not installed)
#   JM_VUS=N            JMeter threads (default 1000)
#   STRICT_TARGETS=1    exit 3 when the target is missed (by default only a failed check fails)
#   KEEP_TMP=1          keep the temp dir
#
# Checks (exit 1 when one fails): every user's first request reached nginx and its connection is
# still open when RSS is sampled; loadlake ends by itself after SECS and its summary and store
# hold exactly one sample per user. One line per run is appended to bench-out/runner-idle-results.tsv.
set -euo pipefail

VUS=${VUS:-10000}
SECS=${SECS:-20}
SETTLE=${SETTLE:-3}
JM_VUS=${JM_VUS:-1000}
THINK_MS=60000
SKIP_JMETER=${SKIP_JMETER:-0}
JMETER=${JMETER:-/work/shared/tools/jmeter213/jmeter213}
for v in VUS SECS SETTLE JM_VUS; do
    [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 2 ]] || { echo "$v must be an integer >= 2, got '${!v}'" >&2; exit 2; }
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench-out
mkdir -p "$OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/loadlake-runner-idle.XXXXXX")


# shellcheck source=benches/runner/lib.sh
source "$ROOT/benches/runner/lib.sh"

GEN_PID=
cleanup() {
    if [[ -n $GEN_PID ]] && kill -0 "$GEN_PID" 2>/dev/null; then
        kill -TERM "$GEN_PID" 2>/dev/null || true; wait "$GEN_PID" 2>/dev/null || true
    fi
    bench_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_tools nginx taskset curl python3
find_loadlake
say "loadlake binary: $BIN"
NOFILE=$(ulimit -n)
[[ $NOFILE == unlimited || $NOFILE -gt $((VUS + 100)) ]] || ulimit -n $((VUS + 1000)) 2>/dev/null \
    || die "ulimit -n is $NOFILE: too low for $VUS connections (raise it)"
check_idle
start_nginx
CHECK_FAILED=0
check_fail() { echo "CHECK FAILED: $*" >&2; CHECK_FAILED=1; }

# idle_sample NAME USERS LIMIT_S: waits (at most LIMIT_S) until nginx has seen USERS requests
# since R0, then SETTLE seconds more, and samples GEN_PID. Sets RSS_KB, HWM_KB, ANON_KB,
# THREADS, ACTIVE (open client connections at nginx) and READY_S (seconds until every user had
# sent its request).
idle_sample() {
    local name=$1 users=$2 limit=$3 t0 now served=0
    t0=$(date +%s%N)
    while :; do
        kill -0 "$GEN_PID" 2>/dev/null || { tail -n 20 "$TMP/$name.err" >&2; die "$name exited before its users were idle"; }
        served=$(($(nginx_requests) - R0 - 1))
        [[ $served -ge $users ]] && break
        now=$(date +%s%N)
        [[ $(((now - t0) / 1000000000)) -lt $limit ]] || die "$name: only $served of $users users sent their request within ${limit}s"
        sleep 0.2
    done
    READY_S=$(calc "%.1f" "($(date +%s%N) - $t0) / 1e9")
    sleep "$SETTLE"
    RSS_KB=$(proc_kb "$GEN_PID" VmRSS) HWM_KB=$(proc_kb "$GEN_PID" VmHWM) ANON_KB=$(proc_kb "$GEN_PID" RssAnon)
    THREADS=$(proc_kb "$GEN_PID" Threads)
    ACTIVE=$(($(nginx_active) - 1))
    [[ -n $RSS_KB ]] || die "$name: cannot read /proc/$GEN_PID/status"
    say "$name ($users users): all requests sent after ${READY_S}s; ${SETTLE}s later VmRSS $RSS_KB kB (RssAnon $ANON_KB, VmHWM $HWM_KB), $THREADS OS threads, $ACTIVE open connections"
    [[ $ACTIVE -ge $users ]] || check_fail "$name: nginx sees $ACTIVE open connections, expected at least $users idle ones"
}

declare -A RSS HWM ANON

# ---------------------------------------------------------------- loadlake
# ll_idle USERS: one loadlake run; fills RSS[ll-USERS] etc. and checks its samples.
ll_idle() {
    local n=$1 name=loadlake-$1 plan=$TMP/idle-$1.jmx store=$TMP/store-$1 run_id summary stored
    render_jmx idle.jmx.in "$plan" THREADS="$n" SECS="$SECS" PORT="$PORT" THINK_MS="$THINK_MS"
    R0=$(nginx_requests)
    say "loadlake run: $n users, --duration ${SECS}s (CPU $GEN_CPU)"
    taskset -c "$GEN_CPU" "$BIN" --store "$store" run "$plan" --duration "${SECS}s" --name "idle-$n" \
        >"$TMP/$name.out" 2>"$TMP/$name.err" &
    GEN_PID=$!
    idle_sample "$name" "$n" "$SECS"
    RSS[$name]=$RSS_KB HWM[$name]=$HWM_KB ANON[$name]=$ANON_KB
    # It must stop by itself at the end of --duration (the think time is cut).
    local waited=0
    while kill -0 "$GEN_PID" 2>/dev/null; do
        [[ $waited -lt $((SECS + 60)) ]] || { kill -TERM "$GEN_PID"; check_fail "$name did not stop after --duration ${SECS}s"; break; }
        sleep 1; waited=$((waited + 1))
    done
    wait "$GEN_PID" || check_fail "$name exited with $?: $(tail -n 5 "$TMP/$name.err")"
    GEN_PID=
    run_id=$(tail -n 1 "$TMP/$name.out")
    summary=$(sed -nE 's/^ran ([0-9]+) samples \(0 failed\) in .*/\1/p' "$TMP/$name.err")
    stored=$("$BIN" --store "$store" sql --format csv "SELECT count(*) FROM samples WHERE run_id = '$run_id' AND success" | tail -n 1)
    say "$name: summary '$(grep '^ran ' "$TMP/$name.err")'; $stored successful samples in the store"
    [[ ${summary:-x} == "$n" ]] || check_fail "$name: expected 'ran $n samples (0 failed)', got: $(grep '^ran ' "$TMP/$name.err")"
    [[ $stored == "$n" ]] || check_fail "$name: the store holds $stored successful samples, expected $n"
    rm -rf -- "$store"
}

ll_idle 1
ll_idle "$VUS"
LL_GROW_KB=$((RSS[loadlake-$VUS] - RSS[loadlake-1]))
LL_PER_VU=$(calc "%.1f" "$LL_GROW_KB / ($VUS - 1)")
LL_PER_VU_ANON=$(calc "%.1f" "(${ANON[loadlake-$VUS]} - ${ANON[loadlake-1]}) / ($VUS - 1)")
LL_PER_VU_HWM=$(calc "%.1f" "(${HWM[loadlake-$VUS]} - ${HWM[loadlake-1]}) / ($VUS - 1)")

# ---------------------------------------------------------------- JMeter 2.13
HAVE_JMETER=0
jm_idle() {
    local n=$1 name=jmeter-$1 plan=$TMP/jm-idle-$1.jmx
    # JMeter 2.13 does not cut a timer at the end of its schedule: it is stopped once sampled.
    render_jmx idle.jmx.in "$plan" THREADS="$n" SECS="$SECS" PORT="$PORT" THINK_MS="$THINK_MS"
    R0=$(nginx_requests)
    say "JMeter 2.13 -n: $n threads (CPU $GEN_CPU)"
    taskset -c "$GEN_CPU" timeout -k 10 $((THINK_MS / 1000 + 120)) "$JMETER" -n -t "$plan" -l "$TMP/$name.csv" -j "$TMP/$name.log" \
        >"$TMP/$name.out" 2>"$TMP/$name.err" &
    GEN_PID=$!
    # timeout forks JMeter: sample its child, the JVM (the launcher scripts exec).
    local i jvm=
    for i in $(seq 50); do jvm=$(pgrep -P "$GEN_PID" | head -n 1) && [[ -n $jvm ]] && break; sleep 0.1; done
    [[ -n $jvm ]] || die "$name: no JVM under timeout (pid $GEN_PID)"
    local outer=$GEN_PID
    GEN_PID=$jvm
    idle_sample "$name" "$n" 120
    RSS[$name]=$RSS_KB HWM[$name]=$HWM_KB ANON[$name]=$ANON_KB
    kill -TERM "$jvm" 2>/dev/null || true
    wait "$outer" 2>/dev/null || true
    GEN_PID=
}
if want_jmeter; then
    HAVE_JMETER=1
    jm_idle 1
    jm_idle "$JM_VUS"
    JM_PER_VU=$(calc "%.1f" "(${RSS[jmeter-$JM_VUS]} - ${RSS[jmeter-1]}) / ($JM_VUS - 1)")
fi
stop_nginx

# ---------------------------------------------------------------- report
V=$(awk -v v="$LL_PER_VU" 'BEGIN { print (v <= 16 ? "PASS" : "FAIL") }')
GIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)
echo
echo "Idle users benchmark, $(date -u +%FT%TZ), git $GIT: one GET each, then a ${THINK_MS} ms think time holding the"
echo "keep-alive connection; RSS sampled ${SETTLE} s after the last user's request. CPUs $BUSY_PCT % busy before the start"
echo "$(machine_line); loadlake $BIN (tree $BIN_GIT)"
echo
printf '%-16s %8s %12s %12s %12s\n' process users "VmRSS kB" "RssAnon kB" "VmHWM kB"
printf '%-16s %8s %12s %12s %12s\n' ---------------- -------- ------------ ------------ ------------
for k in loadlake-1 "loadlake-$VUS" $([[ $HAVE_JMETER == 1 ]] && echo jmeter-1 "jmeter-$JM_VUS"); do
    printf '%-16s %8s %12s %12s %12s\n' "${k%-*}" "${k##*-}" "${RSS[$k]}" "${ANON[$k]}" "${HWM[$k]}"
done
echo
printf '%-52s %10s   %-8s %s\n' "per extra user" "value" "target" "verdict"
printf '%-52s %10s   %-8s %s\n' "loadlake, VmRSS growth (KiB per user)" "$LL_PER_VU" "<= 16" "$V"
printf '%-52s %10s\n' "loadlake, RssAnon growth (KiB per user)" "$LL_PER_VU_ANON"
printf '%-52s %10s\n' "loadlake, peak (VmHWM) growth (KiB per user)" "$LL_PER_VU_HWM"
if [[ $HAVE_JMETER == 1 ]]; then
    printf '%-52s %10s   (%s MiB)\n' "JMeter 2.13, VmRSS growth (KiB per thread)" "$JM_PER_VU" "$(calc "%.2f" "$JM_PER_VU / 1024")"
    printf '%-52s %10s\n' "JMeter / loadlake per user" "$(calc "%.0f" "$JM_PER_VU / $LL_PER_VU")"
fi
echo

RESULTS=$OUT/runner-idle-results.tsv
[[ -s $RESULTS ]] || printf 'date\tgit\tbin_git\tvus\tll_rss_1_kb\tll_rss_n_kb\tll_kb_per_vu\tll_hwm_kb_per_vu\tjm_vus\tjm_rss_1_kb\tjm_rss_n_kb\tjm_kb_per_vu\tbusy_pct\tchecks\n' >"$RESULTS"
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$GIT" "$BIN_GIT" "$VUS" \
    "${RSS[loadlake-1]}" "${RSS[loadlake-$VUS]}" "$LL_PER_VU" "$LL_PER_VU_HWM" \
    "$([[ $HAVE_JMETER == 1 ]] && echo "$JM_VUS" || echo n/a)" "${RSS[jmeter-1]:-n/a}" "${RSS[jmeter-$JM_VUS]:-n/a}" "${JM_PER_VU:-n/a}" \
    "$BUSY_PCT" "$([[ $CHECK_FAILED == 0 ]] && echo ok || echo FAILED)" >>"$RESULTS"
say "appended to $RESULTS"

[[ $CHECK_FAILED == 0 ]] || die "a check failed (see above): the numbers are not valid"
if [[ $V == FAIL && ${STRICT_TARGETS:-0} == 1 ]]; then
    echo "target missed (STRICT_TARGETS=1)" >&2; exit 3
fi
