#!/usr/bin/env bash
# The modem provider against a real peer: two Debian iaxmodem instances (spandsp's
# AT interpreter on a pty) calling each other over IAX2 on 127.0.0.1, owned by a
# real linebridged as lines iax/a and iax/b, driven with linectl. Scenarios:
# call with caller id, answer (fax class 1), both connected, remote hang-up;
# rejection; caller abandons; no answer (linebridged's connect timeout); the
# emulator killed mid-call (line out of service, call disconnected) and
# restarted (line back in service).
source "$(dirname "$0")/lib.sh"

command -v iaxmodem >/dev/null || fail "iaxmodem is not installed (scripts/bootstrap.sh installs it)"

free_udp_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
PORT_A=$(free_udp_port)
PORT_B=$(free_udp_port)
while [ "$PORT_B" = "$PORT_A" ]; do PORT_B=$(free_udp_port); done

# iaxmodem reads /etc/iaxmodem/<name> but takes the name unchecked: a relative
# name reaches a private file.
write_iax_config() {  # name port peer_port number cidname
  cat >"$E2E_TMP/$1" <<CONF
device $E2E_TMP/tty-$1
owner $(id -un):$(id -gn)
mode 600
port $2
refresh 0
server 127.0.0.1:$3
peername peer
secret secret
cidname $5
cidnumber $4
codec slinear
CONF
}
write_iax_config a "$PORT_A" "$PORT_B" 5550001 LineA
write_iax_config b "$PORT_B" "$PORT_A" 5550002 LineB

declare -A IAX_PID
start_iax() {
  rm -f "$E2E_TMP/tty-$1"
  stdbuf -oL iaxmodem "../..$E2E_TMP/$1" >>"$E2E_TMP/iax-$1.log" 2>&1 &
  IAX_PID[$1]=$!
  BACKGROUND_PIDS+=($!)
  for _ in $(seq 1 100); do
    [ -e "$E2E_TMP/tty-$1" ] && return 0
    sleep 0.05
  done
  fail "iaxmodem $1 did not create its pty: $(tail -n 5 "$E2E_TMP/iax-$1.log")"
}
start_iax a
start_iax b

port_config() {  # name number
  cat <<CONF
    ports {
      name: "$1"
      device: "$E2E_TMP/tty-$1"
      number: "$2"
      init: "ATV1Q0"
      init: "AT+VCID=1"
      init: "AT+FCLASS=1"
      ring_timeout_ms: 7000
      connect_timeout_ms: 15000
      retry_interval_ms: 300
    }
CONF
}
{
  echo 'providers {'
  echo '  modem {'
  echo '    name: "iax"'
  port_config a 5550001
  port_config b 5550002
  echo '  }'
  echo '}'
} >"$E2E_TMP/lb.conf"
start_daemon 127.0.0.1:0 --config "$E2E_TMP/lb.conf"

# wait_line LINE STATE [seconds]
wait_line() {
  local deadline=$((SECONDS + ${3:-20}))
  while [ $SECONDS -lt $deadline ]; do
    ctl lines | grep -Eq "^$1 .* $2 " && return 0
    sleep 0.1
  done
  ctl lines
  fail "line $1 is not $2"
}
wait_line iax/a in_service
wait_line iax/b in_service
ctl lines caps iax/b | has "hayes-data" || fail "iaxmodem not probed as a Hayes data/fax modem"
pass "two iaxmodem lines in service (probed as hayes-data)"

start_watch watch.log
W="$E2E_TMP/watch.log"

# iaxmodem busies a line out for 5 s after ATZ or ATH (it fails calls with NO
# DIALTONE meanwhile); each scenario waits that out first.
settle() { sleep 5.5; }

make_call() {  # from number -> prints the call id
  local out
  out=$(ctl call make "$1" "$2" --media fax)
  awk '$1 == "call" {print $2; exit}' <<<"$out"
}

# The offering call on iax/b (waits for it).
offered_on_b() {
  local deadline=$((SECONDS + 20)) id=""
  while [ $SECONDS -lt $deadline ]; do
    id=$(call_on iax/b 2>/dev/null || true)
    [ -n "$id" ] && { echo "$id"; return 0; }
    sleep 0.1
  done
  return 1
}

# Drops a call that is already disconnected; the engine forgets such calls
# after disconnected_linger_ms (5 s), so it may be gone.
forget() { ctl call drop "$1" >/dev/null 2>&1 || true; }

# 1. A calls B: B is offered the call with A's caller id, answers (class 1),
#    both connect; A hangs up, B sees the remote hang-up.
settle
A=$(make_call iax/a 5550002)
[ -n "$A" ] || fail "no call id from call make"
B=$(offered_on_b) || fail "no call offered on iax/b"
wait_for "$W" "iax/b call_created call=$B offering.* caller=5550001 \"LineA\"" 20
pass "B offered the call with A's caller id (5550001 \"LineA\")"
ctl call answer "$B" >/dev/null
wait_for "$W" "iax/a call_state call=$A connected" 30
wait_for "$W" "iax/b call_state call=$B connected" 30
pass "answered (fax class 1): both sides connected"
ctl call drop "$A" >/dev/null
wait_for "$W" "iax/b call_state call=$B disconnected\(normal\)" 30
forget "$B"
pass "A hung up; B saw the remote hang-up"

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
