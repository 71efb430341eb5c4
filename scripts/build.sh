#!/usr/bin/env bash
# Configures and builds linebridge.   scripts/build.sh [release|asan|fuzz] [targets...]
#   release  -> build/       (RelWithDebInfo, warnings are errors)
#   asan     -> build-asan/  (clang: AddressSanitizer + UndefinedBehaviorSanitizer,
#                             and the thread-safety analysis as errors)
#   fuzz     -> build-fuzz/  (clang, libFuzzer + ASan + UBSan; builds only the
#                             fuzzers unless targets are given: docs/fuzzing.md)
set -euo pipefail
cd "$(dirname "$0")/.."
flavor="${1:-release}"
shift || true
case "$flavor" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  # clang: its thread-safety analysis runs in the same compile (-Wthread-safety).
  asan) dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DLINEBRIDGE_SANITIZE=ON -DCMAKE_CXX_COMPILER=clang++
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g") ;;
  fuzz)
    dir=build-fuzz
    args=(-DCMAKE_BUILD_TYPE=Debug -DLINEBRIDGE_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++
      -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only")
    [ $# -gt 0 ] || set -- fuzzers
    ;;
  *) echo "usage: $0 [release|asan|fuzz] [targets...]" >&2; exit 2 ;;
esac
jobs="${LINEBRIDGE_JOBS:-$(nproc)}"
# ccache, when installed, keeps compiled objects across builds and checkouts
# (paths are made relative to the checkout, so two checkouts share entries).
if command -v ccache >/dev/null; then
  args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
  export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-25G}"
fi
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "${args[@]}" >/dev/null
fi
ninja -C "$dir" -j "$jobs" "$@"
