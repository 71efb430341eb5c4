# Setup shared by the iaxmodem end-to-end tests: two Debian iaxmodem instances
# (spandsp's AT interpreter on a pty) calling each other over IAX2 on
# 127.0.0.1, owned by a real linebridged as lines iax/a and iax/b (offered
# calls are fax calls: incoming_media), driven with linectl. Source it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v iaxmodem >/dev/null || fail "iaxmodem is not installed (scripts/bootstrap.sh --test installs it)"

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
      incoming_media: MEDIA_MODE_G3FAX
      ring_timeout_ms: 7000
      connect_timeout_ms: ${CONNECT_TIMEOUT_MS:-15000}
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
# The same events as JSON, for the exact state times.
"$BIN/linectl" --json watch >"$E2E_TMP/watch.json" 2>&1 &
BACKGROUND_PIDS+=($!)
J="$E2E_TMP/watch.json"

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


# check_record CALL: the call's record (polled until written: a call that did
# not hang up first lingers 5 s in DISCONNECTED) lasts from its CONNECTED to
# its DISCONNECTED event, to 100 ms, and is a fax call.
check_record() {
  local deadline=$((SECONDS + 15))
  while [ $SECONDS -lt $deadline ]; do
    ctl --json cdr --limit 50 >"$E2E_TMP/cdr.json"
    if /usr/bin/python3 - "$1" "$J" "$E2E_TMP/cdr.json" <<'PY'
import datetime, json, sys
call, events, cdr = sys.argv[1], sys.argv[2], sys.argv[3]
def t(s):
    s = s.rstrip("Z")
    if "." not in s:
        s += ".0"
    return datetime.datetime.fromisoformat(s[:26])
rec = [r for r in json.load(open(cdr)).get("records", []) if r["call_id"] == call]
if not rec:
    sys.exit(2)
rec = rec[0]
times = {}
for line in open(events):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    cs = e.get("call_state")
    if cs and cs["call_id"] == call:
        st = cs["status"]["state"]
        times.setdefault(st, t(cs["status"]["state_entered"]))
conn, disc = times.get("CALL_STATE_CONNECTED"), times.get("CALL_STATE_DISCONNECTED") or times.get("CALL_STATE_IDLE")
if conn is None or disc is None:
    print("no CONNECTED/DISCONNECTED events for", call, times); sys.exit(1)
talk = (disc - conn).total_seconds() * 1000
dur = int(rec.get("duration_ms", 0))
print("record %s: duration %d ms, connected %.0f ms, media %s" % (call, dur, talk, rec.get("media_mode")))
if abs(dur - talk) > 100 or rec.get("media_mode") != "MEDIA_MODE_G3FAX":
    sys.exit(1)
PY
    then return 0; else [ $? -eq 2 ] || fail "record of $1 is wrong"; fi
    sleep 0.2
  done
  fail "no record of $1"
}

# fax_call DROPPER ROUND: A calls B (fax), B answers in fax class 1 without
# override strings, both connect; DROPPER ("a" or "b") hangs up, the other
# side sees the remote hang-up; both records last as long as the call.
fax_call() {
  local dropper=$1 round=$2 A B
  settle
  A=$(make_call iax/a 5550002)
  [ -n "$A" ] || fail "no call id from call make"
  B=$(offered_on_b) || fail "no call offered on iax/b"
  wait_for "$W" "iax/b call_created call=$B offering.* caller=5550001 \"LineA\"" 20
  ctl call answer "$B" >/dev/null
  wait_for "$W" "iax/a call_state call=$A connected" 30
  wait_for "$W" "iax/b call_state call=$B connected.* media=g3fax" 30
  sleep 1  # talk time
  if [ "$dropper" = a ]; then
    ctl call drop "$A" >/dev/null
    wait_for "$W" "iax/b call_state call=$B disconnected\(normal\)" 30
  else
    ctl call drop "$B" >/dev/null
    wait_for "$W" "iax/a call_state call=$A disconnected\(normal\)" 30
  fi
  ctl lines | grep -Eq "^iax/b .* in_service " || fail "iax/b left in service after the hang-up"
  ctl lines | grep -Eq "^iax/a .* in_service " || fail "iax/a left in service after the hang-up"
  if grep -q "timed out" "$E2E_TMP/daemon.log"; then
    fail "a hang-up timed out: $(grep "timed out" "$E2E_TMP/daemon.log" | head -3)"
  fi
  check_record "$A"
  check_record "$B"
  pass "fax call $round: answered as fax, $dropper hung up, both sides ended, records as long as the call"
}
