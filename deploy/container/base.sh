#!/usr/bin/env bash
# Makes the Debian 12 base image localhost/linebridge-base:bookworm without a
# registry: debootstrap --variant=minbase bookworm into a directory, the host's
# apt sources and settings and resolv.conf copied in, imported into podman.
# The rootfs tarball is cached as $LINEBRIDGE_CACHE_DIR/bookworm-minbase.tar
# (first build ~80 s) and reused while it is valid. Run as root.
#   deploy/container/base.sh            make the image unless present
#   deploy/container/base.sh --rebuild  make the tarball and image anew
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=deploy/container/podman-env.sh
. "$here/podman-env.sh"
image=localhost/linebridge-base:bookworm
tarball="$LINEBRIDGE_CACHE_DIR/bookworm-minbase.tar"

rebuild=0
case "${1:-}" in
  "") ;;
  --rebuild) rebuild=1 ;;
  *) echo "usage: $0 [--rebuild]" >&2; exit 2 ;;
esac

valid_tarball() {
  [ -s "$tarball" ] || return 1
  local listing
  listing=$(tar -tf "$tarball" 2>/dev/null) || return 1
  grep -qx './etc/debian_version' <<<"$listing" &&
    grep -qx './usr/bin/apt-get' <<<"$listing" &&
    grep -q '^\./etc/apt/sources.list' <<<"$listing" &&
    tar -xOf "$tarball" ./etc/debian_version 2>/dev/null | grep -q '^12\.'
}

if ((rebuild)); then
  podman rmi -f "$image" >/dev/null 2>&1 || true
  rm -f "$tarball"
fi
if podman image exists "$image"; then
  echo "base: $image present"
  exit 0
fi

if ! valid_tarball; then
  command -v debootstrap >/dev/null || { echo "base: debootstrap not installed" >&2; exit 1; }
  # The mirror the host uses (deb822 sources first, then sources.list).
  mirror=$(sed -n 's/^URIs:[[:space:]]*\(\S*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 || true)
  if [ -z "$mirror" ]; then
    mirror=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\(\S*\/debian\)\/\?[[:space:]]\+bookworm[[:space:]].*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n1 || true)
  fi
  mirror="${mirror:-http://deb.debian.org/debian}"
  mkdir -p "$LINEBRIDGE_CACHE_DIR"
  root=$(mktemp -d "$LINEBRIDGE_CACHE_DIR/rootfs.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  echo "base: debootstrap minbase bookworm from $mirror"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$LINEBRIDGE_CACHE_DIR/debootstrap.log" 2>&1 ||
    { tail -n 20 "$LINEBRIDGE_CACHE_DIR/debootstrap.log" >&2; exit 1; }
  # apt inside the image talks to the mirrors the host uses.
  rm -rf "$root/etc/apt/sources.list.d" "$root/etc/apt/apt.conf.d"
  cp -a /etc/apt/sources.list.d /etc/apt/apt.conf.d "$root/etc/apt/"
  if [ -f /etc/apt/sources.list ]; then cp /etc/apt/sources.list "$root/etc/apt/"; else : >"$root/etc/apt/sources.list"; fi
  cp -a /etc/apt/trusted.gpg.d/. "$root/etc/apt/trusted.gpg.d/" 2>/dev/null || true
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* 2>/dev/null || true
  tar -C "$root" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  valid_tarball || { echo "base: the new tarball is not valid" >&2; exit 1; }
fi

echo "base: importing $tarball as $image"
podman import --quiet - "$image" <"$tarball" >/dev/null
podman image exists "$image"
echo "base: $image ready"
