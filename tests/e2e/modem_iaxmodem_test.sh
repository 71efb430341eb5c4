#!/usr/bin/env bash
# The modem provider against two real iaxmodems (see modem_iaxmodem_lib.sh).
# Scenarios: a fax call with caller id answered without override strings,
# the caller hangs up; the same with the callee hanging up; rejection; caller
# abandons; no answer (linebridged's connect timeout); the emulator killed
# mid-call (line out of service, call disconnected) and restarted; `linectl
# call make` without --media.
source "$(dirname "$0")/modem_iaxmodem_lib.sh"

# 1. A calls B: B is offered the call with A's caller id, answers (fax, from
#    the offered media mode), both connect; A hangs up, B sees the remote
#    hang-up; then B hangs up a call (DLE ETX, ATH) and A sees it.
fax_call a 1
fax_call b 2

# 2. B rejects: A's call fails at once.
settle
A=$(make_call iax/a 5550002)
B=$(offered_on_b) || fail "no call offered on iax/b"
ctl call drop "$B" >/dev/null
wait_for "$W" "iax/a call_state call=$A disconnected\((nodialtone|reject|busy)\)" 20
forget "$A"
pass "rejected by B: A disconnected"

# 3. A gives up while B rings: B's rings stop and its offering call ends.
settle
A=$(make_call iax/a 5550002)
B=$(offered_on_b) || fail "no call offered on iax/b"
wait_for "$W" "iax/b call_created call=$B offering" 10
ctl call drop "$A" >/dev/null
wait_for "$W" "iax/b call_state call=$B disconnected\(cancelled\)" 25
forget "$B"
pass "caller abandoned: B's offering call disconnected (cancelled)"

# 4. Nobody answers: linebridged's connect timeout (15 s) gives up the dial.
settle
A=$(make_call iax/a 5550002)
B=$(offered_on_b) || fail "no call offered on iax/b"
wait_for "$W" "iax/a call_state call=$A disconnected\(noanswer\)" 30
wait_for "$W" "iax/b call_state call=$B disconnected\(cancelled\)" 25
forget "$A"
forget "$B"
pass "no answer: A disconnected (noanswer), B's rings stopped"

# 5. B's modem is killed mid-call: iax/b goes out of service and its call is
#    disconnected; restarted, the line comes back in service.
settle
A=$(make_call iax/a 5550002)
B=$(offered_on_b) || fail "no call offered on iax/b"
ctl call answer "$B" >/dev/null
wait_for "$W" "iax/b call_state call=$B connected" 30
kill "${IAX_PID[b]}"
wait "${IAX_PID[b]}" 2>/dev/null || true
wait_for "$W" "iax/b call_state call=$B disconnected\(outoforder\)" 15
wait_line iax/b out_of_service 15
pass "modem killed mid-call: iax/b out of service, its call disconnected (outoforder)"
start_iax b
wait_line iax/b in_service 20
forget "$B"
forget "$A"
pass "modem restarted: iax/b back in service"

# 6. `linectl call make` without --media takes the line's first media mode:
#    data on this data/fax modem (not voice, which it cannot do).
settle
out=$(ctl call make iax/a 5550002)
has "media: datamodem" <<<"$out" || fail "call make without --media: $out"
A=$(awk '$1 == "call" {print $2; exit}' <<<"$out")
forget "$A"
pass "call make without --media: a data call (the line's first media mode)"
