#!/usr/bin/env bash
# Quick start: installs what linebridge needs, builds it, starts linebridged on
# its embedded default (a simulated PBX, call records in ./linebridge-data) and
# shows it working with linectl. linebridged then keeps running until Ctrl-C.
#
#   scripts/quickstart.sh            demo, then keep serving on 127.0.0.1:50051
#   QUICKSTART_EXIT=1 scripts/quickstart.sh   demo, then stop
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LISTEN="${LINEBRIDGE_LISTEN:-127.0.0.1:50051}"

# Bold step headers on a terminal, plain ones in a log.
if [ -t 1 ]; then
  step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
  step() { printf '\n== %s\n' "$*"; }
fi

step "Installing build dependencies (Debian packages)"
scripts/bootstrap.sh

step "Building linebridged and linectl"
scripts/build.sh release linebridged linectl
BIN="$ROOT/build/bin"
export LINEBRIDGE_SERVER="$LISTEN"
ctl() { echo "\$ linectl $*"; "$BIN/linectl" "$@"; }

step "Starting linebridged on $LISTEN (data in $ROOT/linebridge-data)"
"$BIN/linebridged" --listen "$LISTEN" --data_dir "$ROOT/linebridge-data" &
DAEMON=$!
WATCH=""
cleanup() {
  [ -n "$WATCH" ] && kill "$WATCH" 2>/dev/null || true
  kill -TERM "$DAEMON" 2>/dev/null || true
  wait "$DAEMON" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
for _ in $(seq 1 100); do
  "$BIN/linectl" --timeout 1s ping >/dev/null 2>&1 && break
  kill -0 "$DAEMON" 2>/dev/null || { echo "linebridged did not start" >&2; exit 1; }
  sleep 0.1
done

step "Server status and lines"
ctl status
ctl lines

step "Watching events while Alice (100) calls Bob (101)"
WATCH_LOG=$(mktemp)
"$BIN/linectl" watch --duration 30s >"$WATCH_LOG" 2>&1 &
WATCH=$!
sleep 0.5
OUT=$(ctl call make sim/100 101)
echo "$OUT"
A=$(echo "$OUT" | awk '$1 == "call" {print $2; exit}')
B=$("$BIN/linectl" calls sim/101 | awk 'NR == 2 {print $1}')
ctl call answer "$B"
ctl calls

step "Bob transfers Alice to Carol (102), consulting Carol first"
OUT=$(ctl call transfer-setup "$B")
echo "$OUT"
CONSULT=$(echo "$OUT" | awk '$1 == "consultation" {print $2}')
ctl call dial "$CONSULT" 102
C=$("$BIN/linectl" calls sim/102 | awk 'NR == 2 {print $1}')
ctl call answer "$C"
ctl call transfer-complete "$B" "$CONSULT"
ctl calls

step "Carol adds Dave (103) to a three-party conference"
OUT=$(ctl call conference "$C")
echo "$OUT"
CONF=$(echo "$OUT" | awk '$1 == "conference" {print $2}')
CONSULT=$(echo "$OUT" | awk '$1 == "consultation" {print $2}')
ctl call dial "$CONSULT" 103
D=$("$BIN/linectl" calls sim/103 | awk 'NR == 2 {print $1}')
ctl call answer "$D"
ctl call conference-add "$CONF" "$CONSULT"
ctl calls

step "Everyone hangs up"
ctl call drop "$CONF"
ctl call drop "$A" 2>/dev/null || true
ctl call drop "$D" 2>/dev/null || true
sleep 0.3
ctl calls

step "What linectl watch saw"
kill "$WATCH" 2>/dev/null || true
wait "$WATCH" 2>/dev/null || true
WATCH=""
cat "$WATCH_LOG"
rm -f "$WATCH_LOG"

step "Call-detail records"
ctl cdr --limit 10

if [ "${QUICKSTART_EXIT:-0}" = "1" ]; then
  step "Stopping linebridged"
  exit 0
fi
step "linebridged is running on $LISTEN. Try: build/bin/linectl lines   (Ctrl-C stops it)"
wait "$DAEMON"
