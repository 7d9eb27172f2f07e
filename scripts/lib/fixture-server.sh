# Sourced by the scripts that run JMeter 2.13 against scripts/fixture-server.py (from the
# repository root): start_fixture_server PORT WORK starts it on 127.0.0.1:PORT with a 300 s
# maximum lifetime, logging to WORK/server.log, waits until it answers, and sets SERVER_PID.
# It refuses a port something else already listens on. The caller's EXIT trap stops it.

start_fixture_server() {
  local port=$1 work=$2
  if python3 -c "import socket,sys; sys.exit(socket.socket().connect_ex(('127.0.0.1',$port)) == 0)"; then :; else
    echo "port $port is already in use on 127.0.0.1; set FIXTURE_PORT" >&2; exit 1
  fi
  # 300 s max lifetime: each script needs about 60 s.
  python3 scripts/fixture-server.py "$port" 300 2>"$work/server.log" &
  SERVER_PID=$!
  for _ in $(seq 50); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/ok', timeout=1)" 2>/dev/null; then break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
  done
}
