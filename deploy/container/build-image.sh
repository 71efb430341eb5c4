#!/usr/bin/env bash
# Builds the linebridged image from the project's .deb with podman, FROM
# localhost/linebridge-base:bookworm (made by base.sh when missing; no
# registry). Run as root.
#   deploy/container/build-image.sh DEB_DIR [IMAGE]
#     DEB_DIR  the directory holding exactly one linebridge_*.deb
#              (cpack -G DEB, or what the deploy_package test leaves in
#              build/package)
#     IMAGE    name:tag to build, default localhost/linebridge:latest
# Uses the private podman settings and storage of podman-env.sh
# (LINEBRIDGE_CACHE_DIR, default /var/cache/linebridge). Docker image format:
# the OCI format has no HEALTHCHECK. No layer cache: each .deb would leave
# another copy behind.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 DEB_DIR [IMAGE]" >&2
  exit 2
fi
debdir=$1
image=${2:-localhost/linebridge:latest}
shopt -s nullglob
debs=("$debdir"/linebridge_*.deb)
shopt -u nullglob
if [ ${#debs[@]} -ne 1 ]; then
  echo "build-image: expected one linebridge_*.deb in $debdir, found ${#debs[@]}" >&2
  exit 1
fi

"$here/base.sh"
# shellcheck source=deploy/container/podman-env.sh
. "$here/podman-env.sh"

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp "${debs[0]}" "$here/Containerfile" "$here/linebridged.container.textproto" \
  "$here/linebridged.insecure.textproto" "$context/"
version=$(dpkg-deb --field "${debs[0]}" Version)
echo "build-image: $image from $(basename "${debs[0]}")"
podman build --quiet --pull=never --layers=false --format docker --file "$context/Containerfile" \
  --label "org.opencontainers.image.title=linebridged" \
  --label "org.opencontainers.image.version=$version" \
  --tag "$image" "$context" >/dev/null
podman image inspect --format 'build-image: {{.Id}} {{.Size}} bytes' "$image"
