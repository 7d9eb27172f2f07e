#!/usr/bin/env bash
# Regenerates the runner fidelity corpus: real Apache JMeter 2.13 runs of the count-driven
# plans in tests/data/runner/fidelity/*.jmx, kept as
#   tests/data/runner/fidelity/<plan>.jmeter.jtl
# tests/e2e/fidelity.rs runs `loadlake run` on the same plans, with the same -J properties,
# against the same fixture server, and compares per case, label and kind (counts, outcomes,
# response codes, failure messages). The test itself never needs JMeter.
#
# Every .jtl is JMeter's own output, byte for byte: nothing is post-processed. Timings and
# timestamps change from run to run; the per-label counts, outcomes, codes and failure
# messages do not (the plans are count-driven: loop counts, never durations). After a re-run,
# check tests/data/runner/fidelity/README.md (its per-label tables) against the new files:
#   scripts/make-runner-fidelity.sh --summary    prints those tables from the current files.
#
# All traffic goes to 127.0.0.1 only: to scripts/fixture-server.py (started here, with a hard
# max lifetime). Every JMeter run is bounded by loop counts (each plan takes < 20 s) and by
# `timeout 120`.
#
# Requirements: Debian bookworm with `apt-get install -y jmeter jmeter-http jmeter-java` (done here when
# missing, needs root), Java 17, python3, and the wrapper ../shared/tools/jmeter213/jmeter213
# (puts an XStream shim on the classpath; see its README.md).
#
# Usage: scripts/make-runner-fidelity.sh [--summary] [PLAN...]   (default: every plan)
# Env:   FIXTURE_PORT (default 18214; the plans read it as -Jfixture.port, default 18213)
#        JMETER213    (path of the jmeter213 wrapper)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DIR=tests/data/runner/fidelity
S=jmeter.save.saveservice
# The -J properties of every run. tests/e2e/fidelity.rs passes the same ones to `loadlake run`:
# keep the two lists equal.
PROPS=(
  -J$S.output_format=csv
  -J$S.print_field_names=true
  -J$S.assertion_results_failure_message=true
  -J$S.bytes=true
  -J$S.thread_counts=true
  -J$S.url=true
  -J$S.latency=true
  -J$S.encoding=true
  -J$S.sample_count=true
  -J$S.idle_time=true
  -J$S.connect_time=true
)

# Properties of one plan only (tests/e2e/fidelity.rs passes the same ones to `loadlake run`).
# resources: Debian's 2.13 lacks the default HTML parser (LagartoBasedHtmlParser needs jodd,
# which Debian does not package), so the page parser is the Jsoup one of the same release.
plan_props() {
  case "$1" in
    resources) echo "-JhtmlParser.className=org.apache.jmeter.protocol.http.parser.JsoupBasedHtmlParser" ;;
  esac
}

# --summary: per plan, the per-case/label counts of the committed .jtl files (README tables).
summary() {
  python3 - "$DIR" "$@" <<'EOF'
import csv, glob, os, sys
from collections import defaultdict
d = sys.argv[1]
names = sys.argv[2:] or sorted(os.path.basename(p)[:-len('.jmeter.jtl')] for p in glob.glob(os.path.join(d, '*.jmeter.jtl')))
for name in names:
    rows = list(csv.DictReader(open(os.path.join(d, name + '.jmeter.jtl'), newline='', encoding='utf-8')))
    agg = defaultdict(lambda: [0, 0, defaultdict(int), set()])
    for r in rows:
        case = r['threadName'].rsplit(' ', 1)[0]
        a = agg[(case, r['label'])]
        a[0] += 1
        a[1] += r['success'] == 'false'
        a[2][r['responseCode']] += 1
        if r.get('failureMessage'):
            a[3].add(r['failureMessage'].split('\n')[0][:70])
    print(f'\n### {name}.jmx ({len(rows)} rows)\n')
    print('| case | label | samples | failed | codes | failure message (first line) |')
    print('|---|---|---:|---:|---|---|')
    for (case, label), (n, f, codes, msgs) in sorted(agg.items()):
        c = ', '.join(f'{k or "(empty)"} ×{v}' for k, v in sorted(codes.items()))
        m = '; '.join(sorted(msgs)).replace('|', '\\|')
        print(f'| {case} | `{label}` | {n} | {f} | {c} | {m} |')
EOF
}
if [ "${1:-}" = "--summary" ]; then
  shift
  summary "$@"
  exit 0
fi

PORT=${FIXTURE_PORT:-18214}
JM=${JMETER213:-$ROOT/../shared/tools/jmeter213/jmeter213}
log() { printf '== %s\n' "$*" >&2; }

# ---------------------------------------------------------------- JMeter 2.13
WORK=$(mktemp -d "${TMPDIR:-/tmp}/runner-fidelity.XXXXXX")   # jmeter.log files, scratch
# shellcheck source=scripts/lib/jmeter213.sh
source scripts/lib/jmeter213.sh
ensure_jmeter213 "$WORK"
export TZ=UTC

# ---------------------------------------------------------------- fixture server
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

# shellcheck source=scripts/lib/fixture-server.sh
source scripts/lib/fixture-server.sh
start_fixture_server "$PORT" "$WORK"
log "fixture server pid $SERVER_PID on 127.0.0.1:$PORT"

# ---------------------------------------------------------------- the runs
PLANS=("$@")
[ ${#PLANS[@]} -gt 0 ] || PLANS=(flow data extract timers logic labels modifiers scripts actions modules auth cache iterate inputs resources)
for name in "${PLANS[@]}"; do
  plan="$DIR/$name.jmx"
  out="$DIR/$name.jmeter.jtl"
  [ -f "$plan" ] || { echo "no plan $plan" >&2; exit 1; }
  rm -f "$out"   # -l appends to an existing file
  log "run $name: $plan -> $out"
  timeout 120 "$JM" -n -t "$plan" -l "$out" -j "$WORK/$name.log" -Jfixture.port="$PORT" "${PROPS[@]}" $(plan_props "$name") \
    >"$WORK/$name.out" 2>&1 || { cat "$WORK/$name.out" >&2; exit 1; }
  grep -E '^summary =' "$WORK/$name.out" >&2 || true
  if grep -E ' (WARN|ERROR) ' "$WORK/$name.log" >&2; then log "$name: JMeter logged the WARN/ERROR lines above"; fi
done

log "done; JMeter logs in $WORK"
ls -l "$DIR"/*.jmeter.jtl >&2
summary "${PLANS[@]}"
