#!/usr/bin/env bash
# Runs inside a Debian 12 container whose PID 1 is systemd
# (package_install_test.sh): the maintainer scripts' systemd path. /pkg holds
# linebridge_*.deb, /pkg/upgrade the same package's next release.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; journalctl -u linebridged --no-pager 2>/dev/null | tail -n 20 >&2; exit 1; }
step() { echo "== [systemd] $*"; }
export DEBIAN_FRONTEND=noninteractive
deb=$(ls /pkg/linebridge_*.deb)
cp "$deb" /tmp/
deb=/tmp/$(basename "$deb")
main_pid() { systemctl show -p MainPID --value linebridged; }
wait_active() {
  for _ in $(seq 100); do
    if systemctl -q is-active linebridged && linectl --timeout 2s lines >/tmp/lines 2>&1; then return 0; fi
    sleep 0.1
  done
  fail "linebridged.service not active and answering within ~10 s: $(systemctl is-active linebridged)"
}

step "install: the unit is enabled and started as linebridge"
timeout 180 apt-get install -y -qq --no-install-recommends "$deb" >/tmp/apt.log 2>&1 ||
  { tail -n 30 /tmp/apt.log; fail "apt-get install"; }
[ "$(systemctl is-enabled linebridged)" = enabled ] || fail "unit not enabled"
wait_active
grep -q "Reception" /tmp/lines || fail "linectl lines: $(cat /tmp/lines)"
pid1=$(main_pid)
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid1/status")
[ "$uid" = "$(id -u linebridge)" ] || fail "the service runs as uid $uid"

step "upgrade to the next release: the service is restarted"
next=$(ls /pkg/upgrade/linebridge_*.deb)
cp "$next" /tmp/
timeout 120 apt-get install -y -qq /tmp/"$(basename "$next")" >/tmp/apt.log 2>&1 ||
  { cat /tmp/apt.log; fail "upgrade"; }
[ "$(dpkg-query -W -f='${Version}' linebridge)" = "$(dpkg-deb --field "$next" Version)" ] ||
  fail "version after upgrade: $(dpkg-query -W -f='${Version}' linebridge)"
[ "$(systemctl is-enabled linebridged)" = enabled ] || fail "unit not enabled after upgrade"
wait_active
pid2=$(main_pid)
[ "$pid2" != "$pid1" ] || fail "not restarted (MainPID $pid1)"

step "remove: the service is stopped"
timeout 120 apt-get remove -y -qq linebridge >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; fail "apt-get remove"; }
! systemctl -q is-active linebridged || fail "still active after remove"
for p in /proc/[0-9]*; do
  [ "$(cat "$p/comm" 2>/dev/null)" != linebridged ] || fail "a linebridged process is left: $p"
done
[ -d /var/lib/linebridge ] || fail "remove deleted /var/lib/linebridge"

step "purge: nothing left"
timeout 120 apt-get purge -y -qq linebridge >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; fail "apt-get purge"; }
[ ! -e /var/lib/linebridge ] || fail "/var/lib/linebridge left"
[ ! -e /etc/linebridge ] || fail "/etc/linebridge left"
! getent passwd linebridge >/dev/null || fail "user left"
left=$(find /etc/systemd /var/lib/systemd -name '*linebridged*' 2>/dev/null)
[ -z "$left" ] || fail "systemd state left: $left"
echo "ok: systemd scenario passed"
