#!/usr/bin/env bash
# The systemd unit is valid and stays hardened.
set -euo pipefail
unit="$(dirname "$0")/../../deploy/systemd/linebridged.service"
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# verify resolves ExecStart: point it at stand-ins in a private root.
mkdir -p "$tmp/bin"
printf '#!/bin/sh\n' >"$tmp/bin/linebridged"; cp "$tmp/bin/linebridged" "$tmp/bin/linectl"
chmod +x "$tmp/bin/"*
sed "s#/usr/local/bin/#$tmp/bin/#g" "$unit" >"$tmp/linebridged.service"
out=$(systemd-analyze verify "$tmp/linebridged.service" 2>&1 | grep -v -e 'Failed to open' -e 'user.*not found' -e 'group.*not found' || true)
if [ -n "$out" ]; then echo "$out"; echo "FAIL: systemd-analyze verify complained" >&2; exit 1; fi
score=$(systemd-analyze security --offline=true "$tmp/linebridged.service" 2>/dev/null \
  | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
echo "exposure score: $score"
awk -v s="$score" 'BEGIN { exit !(s != "" && s + 0 <= 2.5) }' || { echo "FAIL: exposure $score > 2.5" >&2; exit 1; }
echo "ok: unit verified, exposure $score"
