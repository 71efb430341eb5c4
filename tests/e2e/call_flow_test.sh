#!/usr/bin/env bash
# The README's promise, end to end with the real binaries: linectl lists the
# simulated lines, places a call between two extensions, `watch` sees both sides
# connect, a transfer and a conference work, the calls drop and CDR rows appear.
source "$(dirname "$0")/lib.sh"

start_daemon
lines=$(ctl lines)
echo "$lines"
for l in sim/100 sim/101 sim/107 sim/199; do
  grep -q "^$l " <<<"$lines" || fail "line $l missing from 'linectl lines'"
done
[ "$(grep -c '^sim/' <<<"$lines")" -eq 9 ] || fail "expected 9 sim lines"
ctl --json lines | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["lines"]) == 9, d' \
  || fail "--json lines is not the 9 lines"
pass "lines listed"

phones=$(ctl phones)
echo "$phones"
[ "$(grep -c '^sim/phone/' <<<"$phones")" -eq 9 ] || fail "expected 9 sim phones"
ctl phones show sim/phone/100 | has -E '^  12: call/callapp "100" lamp=off$' \
  || fail "'linectl phones show' lists no call appearance button"
pass "phones listed"

start_watch watch.log
out=$(ctl call make sim/100 101)
A=$(awk '$1 == "call" {print $2; exit}' <<<"$out")
[ -n "$A" ] || fail "call make printed no call id: $out"
B=$(call_on sim/101)
[ -n "$B" ] || fail "no call offered on sim/101"
wait_for "$E2E_TMP/watch.log" "call_created call=$B offering"
wait_for "$E2E_TMP/watch.log" "sim/101 phone_state phone=sim/phone/101 changed=ring_mode"
ctl call answer "$B" >/dev/null
wait_for "$E2E_TMP/watch.log" "sim/100 call_state call=$A connected"
wait_for "$E2E_TMP/watch.log" "sim/101 call_state call=$B connected"
pass "call 100 -> 101 connected on both sides (seen by watch)"

# Blind transfer: Bob sends Alice to Carol.
ctl call transfer "$B" 102 >/dev/null
C=$(call_on sim/102)
[ -n "$C" ] || fail "transfer did not offer the call to sim/102"
ctl call answer "$C" >/dev/null
wait_for "$E2E_TMP/watch.log" "sim/102 call_state call=$C connected"
ctl calls | has "$B" && fail "Bob's leg still exists after the transfer"
pass "blind transfer to 102"

# Conference: Carol conferences in Dave.
out=$(ctl call conference "$C")
CONF=$(awk '$1 == "conference" {print $2}' <<<"$out")
CONSULT=$(awk '$1 == "consultation" {print $2}' <<<"$out")
[ -n "$CONF" ] && [ -n "$CONSULT" ] || fail "conference setup printed: $out"
ctl call dial "$CONSULT" 103 >/dev/null
D=$(call_on sim/103)
ctl call answer "$D" >/dev/null
ctl call conference-add "$CONF" "$CONSULT" >/dev/null
wait_for "$E2E_TMP/watch.log" "call_state call=$CONSULT conferenced"
calls=$(ctl calls sim/102)
[ "$(grep -c conferenced <<<"$calls")" -eq 2 ] || fail "expected two conferenced legs on 102: $calls"
pass "three-party conference"

# Everyone hangs up.
ctl call drop "$CONF" >/dev/null
wait_for "$E2E_TMP/watch.log" "call_state call=$A disconnected"
ctl call drop "$A" >/dev/null
ctl call drop "$D" >/dev/null 2>&1 || true
cdr=$(ctl cdr)
echo "$cdr"
for l in sim/100 sim/101 sim/102 sim/103; do
  grep -q "$l" <<<"$cdr" || fail "no call-detail record for $l"
done
pass "calls dropped, call-detail records written"

# Bad input is a one-line error with the gRPC code and the TAPI error.
if err=$(ctl call hold no-such-call 2>&1); then fail "hold of an unknown call succeeded"; fi
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "error is not one line: $err"
grep -q "NOT_FOUND" <<<"$err" && grep -q "LINEERR_INVALCALLHANDLE" <<<"$err" || fail "unexpected: $err"
if err=$(ctl call make sim/100 '12;ATZ' 2>&1); then fail "injection dial string accepted"; fi
grep -q "INVALID_ARGUMENT" <<<"$err" && grep -q "LINEERR_INVALADDRESS" <<<"$err" || fail "unexpected: $err"
pass "errors carry the gRPC code and LINEERR"

# SIGTERM: subscribers are told, the daemon exits cleanly.
stop_daemon
wait_for "$E2E_TMP/watch.log" "server_shutdown"
pass "graceful shutdown announced to watchers"
