#!/usr/bin/env bash
# The .deb from deploy_package in a fresh Debian 12 container (podman, base
# image from deploy/container/base.sh, no registry): apt installs it with its
# dependencies; the linebridge user and /var/lib/linebridge exist; linebridged
# runs as that user the way the unit starts it (no systemd in the container);
# linectl lists the simulated lines; a reinstall (upgrade path) keeps an edited
# conffile; remove stops the daemon and keeps the data; purge removes the data,
# the configuration and the user. Run as root.
#   LINEBRIDGE_PACKAGE_DIR   where deploy_package left linebridge_*.deb
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
cleanup() { timeout 60 podman rm -f -t 0 "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
start=$SECONDS
timeout 300 podman run --name "$name" --rm \
  -v "$pkgdir:/pkg:ro" -v "$here/in_container_install.sh:/test.sh:ro" \
  localhost/linebridge-base:bookworm bash /test.sh ||
  fail "the install/remove/purge scenario failed in the container (rc $?)"
echo "ok: install, run, upgrade, remove and purge in Debian 12 in $((SECONDS - start)) s"
