#!/usr/bin/env bash
# Script speed (issue 21): requests per CPU-second of a plan whose every request runs a small
# post-processor script (cut a value out of the JSON body, vars.put it), next to the same plan
# without it, for `loadlake run` and for JMeter 2.13 (BeanShell PostProcessor, the same script).
# Loopback scripts/fixture-server.py (GET /json); 2 threads × LOOPS loops; CPU = user + sys of
# the generator process (JMeter's includes its JVM start-up, about 2 CPU-s here).
#
# Usage: benches/script_speed.sh            Env: LOOPS (10000), BIN (the loadlake binary,
#        default the debug build in $CARGO_TARGET_DIR or ~/.cache/loadlake-target),
#        JMETER (/work/shared/tools/jmeter213/jmeter213; SKIP_JMETER=1 to skip), PORT (18241)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOOPS=${LOOPS:-10000}
PORT=${PORT:-18241}
BIN=${BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/loadlake-target}/debug/loadlake}
JMETER=${JMETER:-/work/shared/tools/jmeter213/jmeter213}
TMP=$(mktemp -d)
python3 "$ROOT/scripts/fixture-server.py" "$PORT" 600 2>"$TMP/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$TMP"' EXIT
sleep 1
python3 - "$TMP" "$LOOPS" <<'PY'
import sys
tmp, loops = sys.argv[1], sys.argv[2]
post = ('<BeanShellPostProcessor guiclass="TestBeanGUI" testclass="BeanShellPostProcessor" testname="extract" enabled="true">'
        '<stringProp name="script">String b = prev.getResponseDataAsString();\n'
        'vars.put(&quot;id&quot;, b.substring(b.indexOf(&quot;:&quot;) + 1, b.indexOf(&quot;,&quot;)));</stringProp>'
        '<stringProp name="filename"></stringProp><stringProp name="parameters"></stringProp>'
        '<boolProp name="resetInterpreter">false</boolProp></BeanShellPostProcessor><hashTree/>')
for name, children in [("none", ""), ("script", post)]:
    open(f"{tmp}/{name}.jmx", "w").write(f'''<?xml version="1.0" encoding="UTF-8"?>
<jmeterTestPlan version="1.2" properties="2.8" jmeter="2.13 r1665067"><hashTree>
<TestPlan guiclass="TestPlanGui" testclass="TestPlan" testname="script speed" enabled="true">
<elementProp name="TestPlan.user_defined_variables" elementType="Arguments" guiclass="ArgumentsPanel" testclass="Arguments" enabled="true"><collectionProp name="Arguments.arguments"/></elementProp>
</TestPlan><hashTree>
<ThreadGroup guiclass="ThreadGroupGui" testclass="ThreadGroup" testname="G" enabled="true">
<stringProp name="ThreadGroup.on_sample_error">continue</stringProp>
<elementProp name="ThreadGroup.main_controller" elementType="LoopController" guiclass="LoopControlPanel" testclass="LoopController" enabled="true">
<boolProp name="LoopController.continue_forever">false</boolProp><stringProp name="LoopController.loops">{loops}</stringProp></elementProp>
<stringProp name="ThreadGroup.num_threads">2</stringProp><stringProp name="ThreadGroup.ramp_time">0</stringProp>
</ThreadGroup><hashTree>
<HTTPSamplerProxy guiclass="HttpTestSampleGui" testclass="HTTPSamplerProxy" testname="json" enabled="true">
<elementProp name="HTTPsampler.Arguments" elementType="Arguments" guiclass="HTTPArgumentsPanel" testclass="Arguments" enabled="true"><collectionProp name="Arguments.arguments"/></elementProp>
<stringProp name="HTTPSampler.domain">127.0.0.1</stringProp><stringProp name="HTTPSampler.port">${{__P(fixture.port)}}</stringProp>
<stringProp name="HTTPSampler.protocol">http</stringProp><stringProp name="HTTPSampler.path">/json</stringProp>
<stringProp name="HTTPSampler.method">GET</stringProp><boolProp name="HTTPSampler.use_keepalive">true</boolProp>
</HTTPSamplerProxy><hashTree>{children}</hashTree>
</hashTree></hashTree></hashTree></jmeterTestPlan>
''')
PY
cpu() { awk '{print $1 + $2}' "$1"; }
rate() { awk -v n="$1" -v c="$2" 'BEGIN { printf "%.0f", n / c }'; }
N=$((2 * LOOPS))
printf '| generator | plan | requests | CPU-s | requests per CPU-s |\n|---|---|---:|---:|---:|\n'
for plan in none script; do
  /usr/bin/time -f "%U %S" -o "$TMP/t" "$BIN" --store "$TMP/store" run "$TMP/$plan.jmx" -Jfixture.port="$PORT" >/dev/null 2>&1
  printf '| loadlake | %s | %d | %s | %s |\n' "$plan" "$N" "$(cpu "$TMP/t")" "$(rate "$N" "$(cpu "$TMP/t")")"
done
if [ "${SKIP_JMETER:-0}" != 1 ] && [ -x "$JMETER" ]; then
  for plan in none script; do
    /usr/bin/time -f "%U %S" -o "$TMP/t" "$JMETER" -n -t "$TMP/$plan.jmx" -l "$TMP/$plan.jtl" -j "$TMP/$plan.log" -Jfixture.port="$PORT" >/dev/null 2>&1
    ok=$(grep -c ',true,' "$TMP/$plan.jtl" || true)
    printf '| JMeter 2.13 | %s | %d ok | %s | %s |\n' "$plan" "$ok" "$(cpu "$TMP/t")" "$(rate "$ok" "$(cpu "$TMP/t")")"
  done
fi
