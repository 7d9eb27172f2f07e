#!/usr/bin/env bash
# Regenerates the real Apache JMeter 2.13 result fixtures:
#   tests/data/jmeter213/{default.csv,header.csv,tab-formatted.csv,all-fields.csv,
#                         subsamples.xml,killed.xml,killed.csv}
#   sample-data/checkout.jtl
# from the plans in tests/data/jmeter213/plans/ and sample-data/checkout.jmx.
#
# Every file is JMeter's own output, byte for byte: nothing is post-processed.
# The results are not deterministic (timestamps, timings, thread interleaving, random
# think times), so re-running changes the data but not its shape; update
# tests/data/jmeter213/README.md (row counts) after a re-run.
#
# All traffic goes to 127.0.0.1 only: to scripts/fixture-server.py (started here, with a
# hard max lifetime) and to 127.0.0.1:1 (nothing listens: "connection refused").
# Every JMeter run is bounded: fixed loop counts (about 3-20 s each), the killed runs are
# kill -9'ed after a few seconds (and their plan has a 30 s scheduler limit anyway).
#
# Requirements: Debian bookworm with `apt-get install -y jmeter jmeter-http` (done here when
# missing, needs root), Java 17, python3, and the wrapper ../shared/tools/jmeter213/jmeter213
# (puts an XStream shim on the classpath; see its README.md / build-shim.sh).
#
# Usage: scripts/make-jmeter213-data.sh            (from anywhere; paths are repo-relative)
# Env:   FIXTURE_PORT (default 18213; the plans read it as -Jfixture.port, default 18213 too)
#        JMETER213    (path of the jmeter213 wrapper)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PORT=${FIXTURE_PORT:-18213}
JM=${JMETER213:-$ROOT/../shared/tools/jmeter213/jmeter213}
PLANS=tests/data/jmeter213/plans
OUT=tests/data/jmeter213
S=jmeter.save.saveservice
# Formatted timestamps (tab-formatted.csv) are written in the JVM default time zone: pin it.
export TZ=UTC

log() { printf '== %s\n' "$*" >&2; }

# ---------------------------------------------------------------- JMeter 2.13
WORK=$(mktemp -d "${TMPDIR:-/tmp}/jmeter213-data.XXXXXX")   # jmeter.log files, scratch
# shellcheck source=scripts/lib/jmeter213.sh
source scripts/lib/jmeter213.sh
ensure_jmeter213 "$WORK"

# ---------------------------------------------------------------- fixture server
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "${JM_PID:-}" ] && kill -0 "$JM_PID" 2>/dev/null; then kill -9 "$JM_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

# shellcheck source=scripts/lib/fixture-server.sh
source scripts/lib/fixture-server.sh
start_fixture_server "$PORT" "$WORK"
log "fixture server pid $SERVER_PID on 127.0.0.1:$PORT"

# run NAME PLAN OUTFILE [-Jprop=value ...]: one bounded, non-GUI JMeter run.
run() {
  local name=$1 plan=$2 out=$3; shift 3
  rm -f "$out"   # -l appends to an existing file
  log "run $name: $plan -> $out $*"
  timeout 120 "$JM" -n -t "$plan" -l "$out" -j "$WORK/$name.log" -Jfixture.port="$PORT" "$@" >"$WORK/$name.out" 2>&1 \
    || { cat "$WORK/$name.out" >&2; exit 1; }
  grep -E '^summary =' "$WORK/$name.out" >&2 || true
}

# killed NAME PLAN OUTFILE MIN_BYTES [-Jprop=value ...]: start JMeter, kill -9 it once
# OUTFILE has at least MIN_BYTES (or after 10 s). Retries (up to 3 times) if the file
# happens to end exactly on a line boundary, so the fixture really is cut mid-record.
killed() {
  local name=$1 plan=$2 out=$3 min=$4; shift 4
  local attempt size
  for attempt in 1 2 3; do
    rm -f "$out"
    log "run $name (attempt $attempt, kill -9 at >= $min bytes): $plan -> $out $*"
    "$JM" -n -t "$plan" -l "$out" -j "$WORK/$name.log" -Jfixture.port="$PORT" "$@" >"$WORK/$name.out" 2>&1 &
    JM_PID=$!   # the wrapper scripts exec, so this is the java process itself
    for _ in $(seq 100); do
      size=$(stat -c %s "$out" 2>/dev/null || echo 0)
      [ "$size" -ge "$min" ] && break
      kill -0 "$JM_PID" 2>/dev/null || break
      sleep 0.1
    done
    if ! kill -9 "$JM_PID" 2>/dev/null; then
      echo "JMeter ($name) ended before it could be killed; see $WORK/$name.out" >&2; exit 1
    fi
    wait "$JM_PID" 2>/dev/null || true
    JM_PID=
    if [ "$(tail -c 1 "$out" | od -An -c | tr -d ' ')" != '\n' ]; then
      log "killed $name: $(stat -c %s "$out") bytes, last bytes: $(tail -c 60 "$out" | tr '\n' '|')"
      return 0
    fi
    log "killed $name: file ends on a line boundary, retrying"
  done
  echo "could not produce a file cut mid-record for $name" >&2; exit 1
}

# ---------------------------------------------------------------- the runs
# a. default.csv: plan shop.jmx, no saveservice property: 2.13 defaults
#    (CSV, no header, 12 columns, epoch-ms timestamps, comma).
run default "$PLANS/shop.jmx" "$OUT/default.csv"

# b. header.csv: plan shop.jmx, only the header line turned on.
run header "$PLANS/shop.jmx" "$OUT/header.csv" \
  -J$S.print_field_names=true

# c. tab-formatted.csv: plan shop.jmx, header, TAB delimiter (JMeter itself turns the
#    two characters backslash-t into a TAB), SimpleDateFormat timestamps (UTC).
run tab-formatted "$PLANS/shop.jmx" "$OUT/tab-formatted.csv" \
  -J$S.print_field_names=true \
  '-Jjmeter.save.saveservice.default_delimiter=\t' \
  "-J$S.timestamp_format=yyyy/MM/dd HH:mm:ss.SSS"

# d. all-fields.csv: plan all-fields.jmx, header and every optional CSV column 2.13 has,
#    plus two sample variables (ORDER_ID values contain a comma and double quotes).
run all-fields "$PLANS/all-fields.jmx" "$OUT/all-fields.csv" \
  -J$S.print_field_names=true \
  -J$S.assertion_results_failure_message=true \
  -J$S.bytes=true \
  -J$S.thread_counts=true \
  -J$S.url=true \
  -J$S.filename=true \
  -J$S.latency=true \
  -J$S.encoding=true \
  -J$S.sample_count=true \
  -J$S.hostname=true \
  -J$S.idle_time=true \
  -J$S.connect_time=true \
  -Jsample_variables=USER_ID,ORDER_ID

# e. subsamples.xml: plan subsamples.jmx, XML with every assertion result, plus the URL
#    (<java.net.URL> child) and the response data of failed samples (<responseData>, holds
#    the Java stack trace for exceptions). Debian's 2.13 lacks the default HTML parser
#    (LagartoBasedHtmlParser: jodd is not packaged), so the embedded-resource download
#    needs another parser.
run subsamples "$PLANS/subsamples.jmx" "$OUT/subsamples.xml" \
  -J$S.output_format=xml \
  -J$S.assertion_results=all \
  -J$S.url=true \
  -J$S.response_data.on_error=true \
  -JhtmlParser.className=org.apache.jmeter.protocol.http.parser.JsoupBasedHtmlParser

# f. killed.xml / killed.csv: plan killed.jmx (3 threads, no think time to speak of),
#    autoflush off (the 2.13 default), kill -9 once about 120 KB were flushed.
killed killed-xml "$PLANS/killed.jmx" "$OUT/killed.xml" 120000 \
  -J$S.output_format=xml
killed killed-csv "$PLANS/killed.jmx" "$OUT/killed.csv" 60000 \
  -J$S.print_field_names=true

# g. sample-data/checkout.jtl: the README demo, CSV with header, otherwise 2.13 defaults.
run checkout sample-data/checkout.jmx sample-data/checkout.jtl \
  -J$S.print_field_names=true

log "done; JMeter logs in $WORK"
ls -l "$OUT"/*.csv "$OUT"/*.xml sample-data/checkout.jtl >&2
