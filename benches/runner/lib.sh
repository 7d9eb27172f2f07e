# Shared by benches/runner_vs_wrk.sh and benches/runner_idle_vus.sh (sourced, not run): the
# loopback nginx, the generated JMX plans, the loadlake binary and process measurements.
# The caller defines ROOT (the repository) and TMP (the run's temp dir).

die() { echo "ERROR: $*" >&2; exit 1; }
say() { echo "== $*" >&2; }

RUNNER_DIR=$ROOT/benches/runner
NGINX_CPU=${NGINX_CPU:-0}
GEN_CPU=${GEN_CPU:-1}

# bench_cleanup: stops nginx and removes $TMP (kept with KEEP_TMP=1); the scripts' EXIT trap.
bench_cleanup() {
    stop_nginx
    if [[ ${KEEP_TMP:-0} == 1 ]]; then say "kept $TMP"; else rm -rf -- "$TMP"; fi
}

# want_jmeter: true when JMeter 2.13 is to run (SKIP_JMETER is not 1 and $JMETER and Debian's
# jmeter are installed); otherwise says why not.
want_jmeter() {
    if [[ ${SKIP_JMETER:-0} == 1 ]]; then
        say "SKIP_JMETER=1: not running JMeter"
        return 1
    fi
    if [[ ! -x $JMETER || ! -x /usr/bin/jmeter ]]; then
        say "JMeter 2.13 not installed ($JMETER, /usr/bin/jmeter): skipped (apt-get install -y jmeter jmeter-http)"
        return 1
    fi
}

# require_tools CMD...: dies naming the apt package of the first missing command.
require_tools() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 && continue
        case $c in
            nginx) die "nginx is missing: apt-get install -y nginx-light" ;;
            wrk) die "wrk is missing: apt-get install -y wrk" ;;
            taskset) die "taskset is missing: apt-get install -y util-linux" ;;
            curl) die "curl is missing: apt-get install -y curl" ;;
            *) die "$c is missing" ;;
        esac
    done
    if [[ ! -x /usr/bin/time ]]; then
        say "installing GNU time (/usr/bin/time is missing)"
        local sudo=; [[ $(id -u) -eq 0 ]] || sudo=sudo
        $sudo apt-get update -qq && $sudo apt-get install -y -qq time >/dev/null
        [[ -x /usr/bin/time ]] || die "could not install /usr/bin/time (apt package 'time')"
    fi
}

# find_loadlake: sets BIN to $LOADLAKE_BIN, else the release build of /tmp/bench-src
# (CARGO_TARGET_DIR=/root/.cache/loadlake-release), waiting up to BIN_WAIT seconds for it;
# BIN_GIT to $LOADLAKE_COMMIT, else /tmp/bench-src's HEAD for that default binary.
find_loadlake() {
    BIN=${LOADLAKE_BIN:-/root/.cache/loadlake-release/release/loadlake}
    local waited=0 limit=${BIN_WAIT:-2400}
    while [[ ! -x $BIN ]]; do
        [[ $waited -ge $limit ]] && die "no loadlake binary at $BIN after ${limit}s (set LOADLAKE_BIN)"
        [[ $waited -eq 0 ]] && say "waiting for $BIN (BIN_WAIT=$limit s)"
        sleep 10; waited=$((waited + 10))
    done
    BIN_GIT=${LOADLAKE_COMMIT:-}
    if [[ -z $BIN_GIT && -z ${LOADLAKE_BIN:-} && -d /tmp/bench-src ]]; then
        BIN_GIT=$(git -C /tmp/bench-src rev-parse --short HEAD 2>/dev/null || true)
    fi
    BIN_GIT=${BIN_GIT:-unknown}
    case $BIN in
        */debug/*) say "WARNING: $BIN is a debug build: its numbers are meaningless" ;;
    esac
}

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_nginx: writes $TMP/nginx/nginx.conf from nginx.conf.in and starts nginx (master + one
# worker) pinned to CPU $NGINX_CPU. Sets PORT, NGINX_PID, URL (the 100-byte resource).
start_nginx() {
    local dir=$TMP/nginx body i
    mkdir -p "$dir"
    PORT=$(free_port)
    body=$(printf 'a%.0s' $(seq 100))
    sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$PORT|g" -e "s|@BODY@|$body|g" \
        "$RUNNER_DIR/nginx.conf.in" >"$dir/nginx.conf"
    taskset -c "$NGINX_CPU" nginx -p "$dir" -c "$dir/nginx.conf" >"$dir/stderr.log" 2>&1 &
    NGINX_PID=$!
    URL=http://127.0.0.1:$PORT/100b
    for i in $(seq 100); do
        if curl -fsS -o /dev/null "$URL" 2>/dev/null; then break; fi
        kill -0 "$NGINX_PID" 2>/dev/null || { cat "$dir/stderr.log" "$dir/error.log" >&2 2>/dev/null; die "nginx did not start"; }
        sleep 0.1
    done
    [[ $(curl -fsS "$URL" | wc -c) -eq 100 ]] || die "nginx at $URL does not serve 100 bytes"
    say "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') on 127.0.0.1:$PORT (pid $NGINX_PID, CPU $NGINX_CPU)"
}

stop_nginx() {
    if [[ -n ${NGINX_PID:-} ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
        kill -QUIT "$NGINX_PID" 2>/dev/null || true
        local i
        for i in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
    fi
    NGINX_PID=
}

# nginx_requests: nginx's total request count (stub_status), this status request included.
nginx_requests() {
    curl -fsS "http://127.0.0.1:$PORT/nginx_status" | awk 'NR == 3 { print $3 }'
}

# nginx_active: open client connections (stub_status "Active connections"), this one included.
nginx_active() {
    curl -fsS "http://127.0.0.1:$PORT/nginx_status" | awk 'NR == 1 { print $3 }'
}

# render_jmx TEMPLATE OUT KEY=VALUE...: replaces @KEY@ with VALUE in a JMX template.
render_jmx() {
    local in=$RUNNER_DIR/$1 out=$2 kv args=()
    shift 2
    for kv in "$@"; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
    sed "${args[@]}" "$in" >"$out"
    if grep -q '@[A-Z_]*@' "$out"; then die "unfilled placeholder in $out: $(grep -o '@[A-Z_]*@' "$out" | head -1)"; fi
}

# cpu_busy_s N: seconds CPU N was not idle so far (/proc/stat: user, nice, system, irq, softirq
# and steal; with tick accounting a process is charged the softirq ticks that hit it, so the
# loopback's softirq work is mostly in the generator's and nginx's own CPU time).
cpu_busy_s() {
    awk -v c="cpu$1" -v hz="$(getconf CLK_TCK)" '$1 == c { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat
}

# nginx_cpu_s: user + sys seconds of the nginx master and its worker so far.
nginx_cpu_s() {
    local p hz
    hz=$(getconf CLK_TCK)
    for p in "$NGINX_PID" $(pgrep -P "$NGINX_PID"); do
        # fields 14, 15 after the ")" that ends the command name
        sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }'
    done | awk -v hz="$hz" '{ s += $1 } END { printf "%.2f", s / hz }'
}

# timed_gen NAME CMD...: runs CMD pinned to CPU $GEN_CPU under /usr/bin/time; sets CPU_S
# (user + sys, children included), USER_S, SYS_S, RSS_MIB (max RSS) and WALL_S, and from
# /proc/stat: NGINX_S (nginx's CPU seconds meanwhile), OTHERS_GEN_S and OTHERS_NGX_S (CPU
# seconds that other processes took on the generator's core and on nginx's core). Output in
# $TMP/NAME.out / NAME.err, the time report in NAME.time.
timed_gen() {
    local name=$1 rc=0 g0 g1 n0 n1 x0 x1; shift
    g0=$(cpu_busy_s "$GEN_CPU") n0=$(cpu_busy_s "$NGINX_CPU") x0=$(nginx_cpu_s)
    /usr/bin/time -f '%U %S %M %e' -o "$TMP/$name.time" \
        taskset -c "$GEN_CPU" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
    g1=$(cpu_busy_s "$GEN_CPU") n1=$(cpu_busy_s "$NGINX_CPU") x1=$(nginx_cpu_s)
    if [[ $rc -ne 0 ]]; then
        echo "---- last lines of $TMP/$name.err:" >&2; tail -n 30 "$TMP/$name.err" >&2
        die "$name failed with exit code $rc: $*"
    fi
    read -r USER_S SYS_S RSS_KB WALL_S < <(tail -n 1 "$TMP/$name.time")
    CPU_S=$(awk -v u="$USER_S" -v s="$SYS_S" 'BEGIN { printf "%.2f", u + s }')
    RSS_MIB=$(awk -v k="$RSS_KB" 'BEGIN { printf "%.0f", k / 1024 }')
    NGINX_S=$(calc "%.2f" "$x1 - $x0")
    OTHERS_GEN_S=$(calc "%.2f" "$g1 - $g0 - $CPU_S")
    OTHERS_NGX_S=$(calc "%.2f" "$n1 - $n0 - $NGINX_S")
}

# proc_kb PID FIELD: a field of /proc/PID/status in kB (VmRSS, VmHWM, RssAnon…).
proc_kb() {
    awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# check_idle: sets BUSY_PCT, how busy the machine's CPUs were over 2 s, and warns above 5 %
# (the load average is no guide right after a JMeter run: its idle threads still count).
check_idle() {
    local a b
    a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
    sleep 2
    b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
    BUSY_PCT=$(echo "$a $b" | awk '{ printf "%.1f", 100 * ($3 - $1) / (($3 - $1) + ($4 - $2) + 1e-9) }')
    if awk -v b="$BUSY_PCT" 'BEGIN { exit !(b > 5) }'; then
        say "WARNING: the CPUs were $BUSY_PCT % busy before the start; other work on this machine will skew the numbers"
    fi
}

# machine_line: one line naming the machine, for the tables.
machine_line() {
    echo "$(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
}
