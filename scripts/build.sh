#!/usr/bin/env bash
# Configures and builds linebridge.   scripts/build.sh [release|asan] [targets...]
#   release  -> build/       (RelWithDebInfo, warnings are errors)
#   asan     -> build-asan/  (AddressSanitizer + UndefinedBehaviorSanitizer)
set -euo pipefail
cd "$(dirname "$0")/.."
flavor="${1:-release}"
shift || true
case "$flavor" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan) dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DLINEBRIDGE_SANITIZE=ON -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g") ;;
  *) echo "usage: $0 [release|asan] [targets...]" >&2; exit 2 ;;
esac
jobs="${LINEBRIDGE_JOBS:-$(nproc)}"
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "${args[@]}" >/dev/null
fi
ninja -C "$dir" -j "$jobs" "$@"
