#!/usr/bin/env bash
# kill -9 of the daemon: a running `linectl watch` reconnects by itself and gets a
# snapshot flagged as an epoch change (no silent gap), and a call-detail record
# written before the kill is there after the restart.
source "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_daemon "127.0.0.1:$PORT"
start_watch watch.log

out=$(ctl call make sim/100 5550100)
A=$(awk '$1 == "call" {print $2; exit}' <<<"$out")
wait_for "$E2E_TMP/watch.log" "call_state call=$A connected"
ctl call drop "$A" >/dev/null
ctl cdr | has "$A" || fail "record of $A not listed before the kill"

kill9_daemon
wait_for "$E2E_TMP/watch.log" "disconnected|reconnecting"
start_daemon "127.0.0.1:$PORT"
wait_for "$E2E_TMP/watch.log" "snapshot \(epoch_changed\)" 20
pass "watch reconnected and got an epoch-change snapshot"

out=$(ctl call make sim/101 5550100)
B=$(awk '$1 == "call" {print $2; exit}' <<<"$out")
wait_for "$E2E_TMP/watch.log" "call_created call=$B"
pass "live events flow after the restart"

ctl cdr | has "$A" || fail "record of $A lost across kill -9"
pass "call-detail record survived kill -9"
