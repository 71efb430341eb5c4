#!/usr/bin/env bash
# The data directory on a full filesystem (a small tmpfs mounted by the test;
# needs root): calls go on, call-record and audit writes fail visibly
# (linectl status, metrics), and when space returns the queued records are
# written, none lost. Then a clean SIGTERM exit.
source "$(dirname "$0")/lib.sh"

DATA="$E2E_TMP/data"
mkdir -p "$DATA"
mount -t tmpfs -o size=4m tmpfs "$DATA" || fail "cannot mount a tmpfs on $DATA (needs root)"
# Detach the filesystem at exit (lazily: the daemon may still hold it), then
# lib.sh's cleanup stops the daemon and removes the temp dir.
trap 'rc=$?; umount -l "$DATA" 2>/dev/null; (exit $rc); cleanup' EXIT

start_daemon
call_once() {
  local out id
  out=$(ctl call make sim/100 5550100)
  id=$(awk '$1 == "call" {print $2; exit}' <<<"$out")
  [ -n "$id" ] || fail "no call id from: $out"
  ctl call drop "$id" >/dev/null
}
records() { ctl status | awk '$1 == "call_records:" {print $2}'; }

call_once
ctl cdr >/dev/null
[ "$(records)" = 1 ] || fail "want 1 record before the disk fills, got $(records)"

# Fill the filesystem.
dd if=/dev/zero of="$DATA/filler" bs=64k 2>/dev/null || true
for _ in 1 2 3 4 5; do call_once; done
pass "calls succeed on a full disk"

deadline=$((SECONDS + 20))
until ctl status >"$E2E_TMP/status" && grep -Eq "failing_since: [0-9]" "$E2E_TMP/status"; do
  [ $SECONDS -lt $deadline ] || { cat "$E2E_TMP/status"; fail "status never showed a failing store"; }
  sleep 0.1
done
grep -q "full" "$E2E_TMP/status" || { cat "$E2E_TMP/status"; fail "status does not name the error"; }
grep -q "ERROR: cdr: writing" "$E2E_TMP/daemon.log" || fail "write failure not logged"
pass "write failures visible in linectl status and the log"

rm -f "$DATA/filler"
deadline=$((SECONDS + 20))
until [ "$(records)" = 6 ]; do
  [ $SECONDS -lt $deadline ] || { ctl status; fail "queued records not written after space returned"; }
  sleep 0.1
done
# Each writer retries on its own backoff (at most 2 s apart): wait, bounded,
# until neither store reports a failure.
deadline=$((SECONDS + 20))
while ctl status >"$E2E_TMP/status" && grep -Eq "failing_since: [0-9]" "$E2E_TMP/status"; do
  [ $SECONDS -lt $deadline ] || { cat "$E2E_TMP/status"; fail "still failing"; }
  sleep 0.1
done
grep -q "cdr: writing works again" "$E2E_TMP/daemon.log" || fail "recovery not logged"
pass "all 6 records written once space returned"

stop_daemon
pass "clean exit"
