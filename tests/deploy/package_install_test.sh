#!/usr/bin/env bash
# The .deb from deploy_package in a fresh Debian 12 container (podman, base
# image from deploy/container/base.sh, no registry): apt installs it with its
# dependencies; the linebridge user and /var/lib/linebridge exist; linebridged
# runs as that user the way the unit starts it (no systemd in the container);
# linectl lists the simulated lines; an upgrade to the next release keeps an
# edited conffile; remove stops the daemon and keeps the data; purge removes the
# data, the configuration and the user. Then the same with systemd as the
# container's PID 1 (an image made from the base with systemd added, removed
# afterwards): the unit is enabled and started as linebridge, restarted on an
# upgrade, stopped on removal, and purge leaves no systemd state. Run as root.
#   LINEBRIDGE_PACKAGE_DIR   where deploy_package left linebridge_*.deb (and
#                            upgrade/, its next release)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pkgdir="${LINEBRIDGE_PACKAGE_DIR:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (podman)"
for t in podman runc; do
  command -v "$t" >/dev/null || fail "$t not installed (scripts/bootstrap.sh --test)"
done
debs=("$pkgdir"/linebridge_*.deb)
[ -f "${debs[0]}" ] || fail "no linebridge_*.deb in $pkgdir (run deploy_package)"

timeout 300 "$here/../../deploy/container/base.sh"
# shellcheck source=deploy/container/podman-env.sh
. "$here/../../deploy/container/podman-env.sh"

name="linebridge-pkgtest-$$"
sd_image="localhost/linebridge-pkgtest-systemd:$$"
cleanup() {
  for c in "$name" "$name-sd-build" "$name-sd"; do
    timeout 60 podman rm -f -t 0 "$c" >/dev/null 2>&1 || true
  done
  timeout 60 podman rmi -f "$sd_image" >/dev/null 2>&1 || true
}
trap cleanup EXIT
start=$SECONDS
timeout 300 podman run --name "$name" --rm \
  -v "$pkgdir:/pkg:ro" -v "$here/in_container_install.sh:/test.sh:ro" \
  localhost/linebridge-base:bookworm bash /test.sh ||
  fail "the install/remove/purge scenario failed in the container (rc $?)"
echo "ok: install, run, upgrade, remove and purge in Debian 12 in $((SECONDS - start)) s"

start=$SECONDS
timeout 300 podman run --name "$name-sd-build" localhost/linebridge-base:bookworm bash -c \
  'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq &&
   apt-get install -y -qq --no-install-recommends systemd systemd-sysv >/tmp/apt.log 2>&1 ||
   { tail -n 20 /tmp/apt.log; exit 1; }' || fail "installing systemd into the image failed"
timeout 120 podman commit -q "$name-sd-build" "$sd_image" >/dev/null
timeout 60 podman rm "$name-sd-build" >/dev/null
# /lib/systemd/systemd as the command: podman runs it in systemd mode.
timeout 60 podman run -d --name "$name-sd" -v "$pkgdir:/pkg:ro" \
  -v "$here/in_container_systemd.sh:/test.sh:ro" "$sd_image" /lib/systemd/systemd >/dev/null
booted=0
for _ in $(seq 150); do
  state=$(timeout 10 podman exec "$name-sd" systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) booted=1; break ;; esac
  sleep 0.2
done
((booted)) || fail "systemd in the container did not come up within ~30 s (state: $state)"
timeout 300 podman exec "$name-sd" bash /test.sh ||
  fail "the systemd install/upgrade/remove/purge scenario failed in the container (rc $?)"
echo "ok: the same under systemd in $((SECONDS - start)) s"
