# Sourced by the scripts that run JMeter 2.13 (from the repository root): ensure_jmeter213 WORK
# installs Debian's jmeter and jmeter-http when they are missing, checks that the wrapper $JM
# (../shared/tools/jmeter213/jmeter213 by default) is there and really is JMeter 2.13, and sets
# VERSION. `jmeter -v` writes jmeter.log into the current directory: it runs in WORK.

ensure_jmeter213() {
  local work=$1
  if ! command -v jmeter >/dev/null 2>&1 || [ ! -f /usr/share/jmeter/lib/ext/ApacheJMeter_http.jar ]; then
    printf '== %s\n' "installing jmeter 2.13 (Debian packages jmeter, jmeter-http)" >&2
    apt-get update
    apt-get install -y jmeter jmeter-http
  fi
  [ -x "$JM" ] || { echo "missing wrapper $JM (see ../shared/tools/jmeter213/README.md)" >&2; exit 1; }
  VERSION=$(cd "$work" && "$JM" -v 2>&1 | grep -o 'Version 2\.13[^ ]*' | head -1 || true)
  [ -n "$VERSION" ] || { echo "jmeter is not 2.13: $(cd "$work" && "$JM" -v 2>&1 | tail -3)" >&2; exit 1; }
  printf '== %s\n' "JMeter: $VERSION" >&2
}
