# Helpers for end-to-end tests: real linebridged and linectl processes on
# 127.0.0.1, a private temp dir per test, every wait bounded. Source it.
set -euo pipefail

BIN="${LINEBRIDGE_BIN_DIR:?LINEBRIDGE_BIN_DIR must point at the build bin directory}"
E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/lb-e2e.XXXXXX")
DAEMON_PID=""
BACKGROUND_PIDS=()

cleanup() {
  local status=$?
  for pid in "${BACKGROUND_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$DAEMON_PID" ]; then kill -9 "$DAEMON_PID" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  if [ $status -ne 0 ] && [ -f "$E2E_TMP/daemon.log" ]; then
    echo "--- linebridged log"; tail -n 40 "$E2E_TMP/daemon.log"
  fi
  rm -rf "$E2E_TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# A free TCP port on 127.0.0.1 (for tests that must restart on the same port).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_daemon [listen] [extra flags...]: starts linebridged, sets DAEMON_PID and
# LINEBRIDGE_SERVER, waits until it serves.
start_daemon() {
  local listen="${1:-127.0.0.1:0}"
  shift || true
  rm -f "$E2E_TMP/port"
  "$BIN/linebridged" --listen "$listen" --data_dir "$E2E_TMP/data" \
    --port_file "$E2E_TMP/port" "$@" >>"$E2E_TMP/daemon.log" 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 1 200); do
    [ -s "$E2E_TMP/port" ] && break
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "linebridged exited at start: $(tail -n 5 "$E2E_TMP/daemon.log")"
    sleep 0.05
  done
  [ -s "$E2E_TMP/port" ] || fail "linebridged did not report its port"
  export LINEBRIDGE_SERVER="127.0.0.1:$(cat "$E2E_TMP/port")"
}

kill9_daemon() {
  kill -9 "$DAEMON_PID"
  wait "$DAEMON_PID" 2>/dev/null || true
  DAEMON_PID=""
}

ctl() { "$BIN/linectl" --timeout 5s "$@"; }

# `cmd | has PATTERN`: like grep -q, but reads all its input, so that `cmd` is
# never killed by SIGPIPE after an early match (pipefail would fail the test).
has() { grep "$@" >/dev/null; }

# wait_for FILE PATTERN [seconds]: until an extended regex matches a line of FILE.
wait_for() {
  local file=$1 pattern=$2 seconds=${3:-10}
  local deadline=$((SECONDS + seconds))
  while [ $SECONDS -lt $deadline ]; do
    grep -Eq -- "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "--- $file:"; cat "$file" 2>/dev/null || true
  fail "timed out waiting for /$pattern/ in $(basename "$file")"
}

# The id of the first call on LINE (from `linectl calls LINE`).
call_on() {
  ctl calls "$1" | awk 'NR == 2 {print $1}'
}

# Starts `linectl watch` in the background, output in $E2E_TMP/$1.
start_watch() {
  local log="$E2E_TMP/$1"
  shift
  "$BIN/linectl" watch "$@" >"$log" 2>&1 &
  BACKGROUND_PIDS+=($!)
  wait_for "$log" 'snapshot' 10
}
