#!/usr/bin/env bash
# Runs inside a fresh Debian 12 container (package_install_test.sh): /pkg
# holds linebridge_*.deb.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; [ -f /tmp/linebridged.log ] && tail -n 20 /tmp/linebridged.log >&2; exit 1; }
step() { echo "== $*"; }
export DEBIAN_FRONTEND=noninteractive
deb=$(ls /pkg/linebridge_*.deb)

step "apt-get install ./$(basename "$deb") (with its dependencies)"
timeout 120 apt-get update -qq
cp "$deb" /tmp/
timeout 180 apt-get install -y -qq --no-install-recommends /tmp/"$(basename "$deb")" >/tmp/apt.log 2>&1 ||
  { tail -n 30 /tmp/apt.log; fail "apt-get install"; }
dpkg-query -W -f='${Status}\n' linebridge | grep -qx 'install ok installed' || fail "not installed"

step "the user, the data directory, the configuration"
getent passwd linebridge | grep -q ':/var/lib/linebridge:/usr/sbin/nologin$' ||
  fail "user: $(getent passwd linebridge)"
getent group linebridge >/dev/null || fail "no linebridge group"
[ "$(stat -c '%U:%G %a' /var/lib/linebridge)" = "linebridge:linebridge 750" ] ||
  fail "/var/lib/linebridge: $(stat -c '%U:%G %a' /var/lib/linebridge)"
[ "$(stat -c '%U:%G %a' /etc/linebridge/linebridged.textproto)" = "root:linebridge 640" ] ||
  fail "config: $(stat -c '%U:%G %a' /etc/linebridge/linebridged.textproto)"
grep -qx /etc/linebridge/linebridged.textproto /var/lib/dpkg/info/linebridge.conffiles ||
  fail "config not a conffile"
linebridged --help >/tmp/help 2>&1 || true
grep -q -- '--data_dir' /tmp/help || fail "linebridged --help"
linectl --help >/tmp/help 2>&1 || true
grep -q 'usage: linectl' /tmp/help || fail "linectl --help"

step "linebridged as linebridge, started the way the unit starts it"
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/linebridged.service)
[ -n "$exec_start" ] || fail "no ExecStart"
# shellcheck disable=SC2086  # the unit's command line, split as systemd does here
setpriv --reuid=linebridge --regid=linebridge --init-groups --no-new-privs \
  $exec_start >/tmp/linebridged.log 2>&1 &
pid=$!
ok=0
for _ in $(seq 100); do
  if linectl --timeout 2s lines >/tmp/lines 2>&1; then ok=1; break; fi
  kill -0 "$pid" 2>/dev/null || fail "linebridged exited"
  sleep 0.1
done
((ok)) || { cat /tmp/lines; fail "linectl lines did not answer within ~10 s"; }
cat /tmp/lines
for line in Reception "Back Office" "Bench A"; do
  grep -q "$line" /tmp/lines || fail "line $line not listed"
done
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$uid" = "$(id -u linebridge)" ] || fail "linebridged runs as uid $uid"
[ -n "$(ls -A /var/lib/linebridge)" ] || fail "nothing written to /var/lib/linebridge"
[ "$(find /var/lib/linebridge -mindepth 1 ! -user linebridge | wc -l)" = 0 ] ||
  fail "files in /var/lib/linebridge not owned by linebridge"

step "upgrade to the next release keeps an edited conffile"
echo '# local edit' >>/etc/linebridge/linebridged.textproto
next=$(ls /pkg/upgrade/linebridge_*.deb)
cp "$next" /tmp/
timeout 120 apt-get install -y -qq -o Dpkg::Options::=--force-confold \
  /tmp/"$(basename "$next")" >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; fail "upgrade"; }
[ "$(dpkg-query -W -f='${Version}' linebridge)" = "$(dpkg-deb --field "$next" Version)" ] ||
  fail "version after upgrade: $(dpkg-query -W -f='${Version}' linebridge)"
tail -n1 /etc/linebridge/linebridged.textproto | grep -qx '# local edit' || fail "conffile edit lost"
[ "$(stat -c '%U:%G %a' /var/lib/linebridge)" = "linebridge:linebridge 750" ] || fail "data dir after upgrade"
[ "$(stat -c '%U:%G %a' /etc/linebridge/linebridged.textproto)" = "root:linebridge 640" ] ||
  fail "config mode after upgrade"

step "apt-get remove: the daemon is stopped, data and user stay"
timeout 120 apt-get remove -y -qq linebridge >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; fail "apt-get remove"; }
gone=0
for _ in $(seq 100); do
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo gone)
  if [ "$state" = Z ] || [ "$state" = gone ]; then gone=1; break; fi
  sleep 0.2
done
((gone)) || fail "linebridged still running after remove"
wait "$pid" || true
for p in /proc/[0-9]*; do
  [ "$(cat "$p/comm" 2>/dev/null)" != linebridged ] || fail "a linebridged process is left: $p"
done
[ ! -e /usr/bin/linebridged ] || fail "binary left after remove"
[ -d /var/lib/linebridge ] || fail "remove deleted /var/lib/linebridge"
getent passwd linebridge >/dev/null || fail "remove deleted the user"

step "apt-get purge: data, configuration and user are gone"
timeout 120 apt-get purge -y -qq linebridge >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; fail "apt-get purge"; }
[ ! -e /var/lib/linebridge ] || fail "/var/lib/linebridge left after purge"
[ ! -e /etc/linebridge ] || fail "/etc/linebridge left after purge: $(ls -la /etc/linebridge)"
! getent passwd linebridge >/dev/null || fail "user left after purge"
! getent group linebridge >/dev/null || fail "group left after purge"
dpkg-statoverride --list | grep -q linebridge && fail "statoverride left after purge"
! dpkg-query -W -f='${Status}\n' linebridge 2>/dev/null | grep -q installed || fail "still known to dpkg"
echo "ok: in-container scenario passed"
