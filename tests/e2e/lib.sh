# Helpers for end-to-end tests: real linebridged and linectl processes on
# 127.0.0.1, a private temp dir per test, every wait bounded. Source it.
set -euo pipefail

BIN="${LINEBRIDGE_BIN_DIR:?LINEBRIDGE_BIN_DIR must point at the build bin directory}"
E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/lb-e2e.XXXXXX")
DAEMON_PID=""
BACKGROUND_PIDS=()

SANITIZER_REPORT='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: [A-Za-z]+Sanitizer'

# The daemon is stopped the way systemd stops it (SIGTERM) at the end of every
# test, and must then exit 0 with no sanitizer report in its log: a test
# passes only if linebridged also shut down cleanly (under ASan: no leak).
cleanup() {
  local status=$?
  for pid in "${BACKGROUND_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$DAEMON_PID" ]; then
    if ! terminate_daemon; then
      echo "FAIL: $TERMINATE_WHY" >&2
      status=1
    fi
  elif ! daemon_log_clean; then
    echo "FAIL: sanitizer report in the linebridged log" >&2
    status=1
  fi
  wait 2>/dev/null || true
  if [ $status -ne 0 ] && [ -f "$E2E_TMP/daemon.log" ]; then
    echo "--- linebridged log"; tail -n 60 "$E2E_TMP/daemon.log"
  fi
  rm -rf "$E2E_TMP"
  exit $status
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# True unless the daemon's log holds an ASan/LSan/UBSan report.
daemon_log_clean() {
  ! grep -Eq "$SANITIZER_REPORT" "$E2E_TMP/daemon.log" 2>/dev/null
}

# SIGTERM to the daemon, then its exit status within 30 s; returns 1 (the
# reason in TERMINATE_WHY) if it hung, exited non-zero or left a sanitizer
# report. Runs in this shell: the daemon is its child.
TERMINATE_WHY=""
terminate_daemon() {
  local pid=$DAEMON_PID rc=0
  DAEMON_PID=""
  kill -TERM "$pid" 2>/dev/null || true
  # Until it has exited (a zombie until `wait` reaps it), at most 30 s.
  local deadline=$((SECONDS + 30)) state
  while [ $SECONDS -lt $deadline ]; do
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo gone)
    case $state in Z | gone) break ;; esac
    sleep 0.05
  done
  case $state in
    Z | gone) ;;
    *)
      kill -9 "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      TERMINATE_WHY="linebridged did not stop within 30 s of SIGTERM"
      return 1
      ;;
  esac
  wait "$pid" 2>/dev/null || rc=$?
  if [ "$rc" -ne 0 ]; then
    TERMINATE_WHY="linebridged exited with status $rc on SIGTERM"
    return 1
  fi
  daemon_log_clean || { TERMINATE_WHY="sanitizer report in the linebridged log"; return 1; }
}

# stop_daemon: SIGTERM; the test fails unless linebridged exits 0 within 30 s
# with a clean log.
stop_daemon() {
  [ -n "$DAEMON_PID" ] || return 0
  terminate_daemon || fail "$TERMINATE_WHY"
}

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

# A crash: SIGKILL (tests of what survives one). The log is still checked.
kill9_daemon() {
  kill -9 "$DAEMON_PID"
  wait "$DAEMON_PID" 2>/dev/null || true
  DAEMON_PID=""
  daemon_log_clean || fail "sanitizer report in the linebridged log"
}

ctl() { "$BIN/linectl" --timeout 5s "$@"; }

# expect_fail STATUS OUTFILE CMD...: CMD exits STATUS; its stderr is in
# OUTFILE, its stdout in OUTFILE.stdout.
expect_fail() {
  local want=$1 out=$2 status=0
  shift 2
  "$@" >"$out.stdout" 2>"$out" || status=$?
  [ "$status" -eq "$want" ] || fail "exit status $status, want $want: $* ($(cat "$out") $(cat "$out.stdout"))"
}

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
