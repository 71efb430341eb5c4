#!/usr/bin/env bash
# Runs every test: installs dependencies, builds twice (release, and
# ASan+UBSan), runs unit, integration and end-to-end tests in both builds, and
# in the release build the Debian package's tests (package: cpack and the
# .deb's contents; container: install, run, remove and purge in a Debian 12
# container, the OCI image and compose with Prometheus, as root) and a quick
# benchmark smoke run.
#   scripts/test.sh            everything
#   scripts/test.sh -L unit    only one label (passed to ctest), both builds
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --test

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
jobs="${LINEBRIDGE_JOBS:-$(nproc)}"
filter=("$@")
asan_filter=("$@")
if [ ${#filter[@]} -eq 0 ]; then
  filter=(-L 'unit|integration|e2e|package|container')
  # The package is made from the release build only.
  asan_filter=(-L 'unit|integration|e2e')
fi

echo "== release build"
scripts/build.sh release
echo "== clang thread-safety analysis"
scripts/check-thread-safety.sh build
(cd build && ctest --output-on-failure -j "$jobs" "${filter[@]}")
if [ $# -eq 0 ]; then
  echo "== 50,000 idle connections against the listener (release build only)"
  (cd build && ctest --output-on-failure -L flood)
  echo "== benchmark smoke run (figures: docs/benchmarks.md)"
  (cd build && ctest --output-on-failure -L bench)
fi

echo "== ASan + UBSan build"
scripts/build.sh asan
# The ABI conformance check cross-compiles with mingw-w64 and runs no code of
# this build: it ran above already.
(cd build-asan && ctest --output-on-failure -j "$jobs" "${asan_filter[@]}" \
  -E '^(tsp_abi_conformance|deploy_package|deploy_package_install)$')
