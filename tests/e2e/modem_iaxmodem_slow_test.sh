#!/usr/bin/env bash
# The slow iaxmodem suite (ctest label modem-slow): fax calls answered and hung
# up from each side, three times each, back to back; and a call nobody
# answers, left to iaxmodem's own NO ANSWER (45 s): the calling line is hung
# up and stays in service. (iaxmodem keeps the called side ringing after its
# NO ANSWER whatever the caller's modem is sent -- ATH, ATZ, ATH1/ATH0 --
# so B's offering call is rejected here; docs/modems.md.)
CONNECT_TIMEOUT_MS=60000  # longer than iaxmodem's fixed 45 s NO ANSWER
source "$(dirname "$0")/modem_iaxmodem_lib.sh"

for round in 1 2 3; do
  fax_call a "a$round"
  fax_call b "b$round"
done

settle
A=$(make_call iax/a 5550002)
B=$(offered_on_b) || fail "no call offered on iax/b"
wait_for "$W" "iax/a call_state call=$A disconnected\(noanswer\)" 60
ctl call drop "$B" >/dev/null
forget "$A"
ctl lines | grep -Eq "^iax/a .* in_service " || fail "iax/a not in service after NO ANSWER"
if grep -q "timed out" "$E2E_TMP/daemon.log"; then fail "the hang-up after NO ANSWER timed out"; fi
pass "NO ANSWER from the modem: A hung up and in service"
# The next call goes through.
fax_call a after-noanswer
