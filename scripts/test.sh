#!/usr/bin/env bash
# Runs every test: installs dependencies, builds twice (release with g++, and
# ASan+UBSan with clang, whose thread-safety analysis runs in that compile),
# runs unit, integration and end-to-end tests in both builds, and
# in the release build the Debian package's tests (package: cpack and the
# .deb's contents; container: install, run, remove and purge in a Debian 12
# container, the OCI image and compose with Prometheus, as root) and a quick
# benchmark smoke run; then the fuzzers (a clang build of their own, each
# for a short fixed time: docs/fuzzing.md).
#   scripts/test.sh            everything
#   scripts/test.sh -L unit    only one label (passed to ctest), both builds
#   scripts/test.sh -L fuzz    only the fuzzers
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --test

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
jobs="${LINEBRIDGE_JOBS:-$(nproc)}"
# Each stage's heading says when it started and how long the run has taken.
stage() { printf '== [%s, %d min in] %s\n' "$(date -u +%H:%M:%S)" $((SECONDS / 60)) "$*"; }
filter=("$@")
asan_filter=("$@")
if [ ${#filter[@]} -eq 0 ]; then
  filter=(-L 'unit|integration|e2e|package|container')
  # The package is made from the release build only.
  asan_filter=(-L 'unit|integration|e2e')
fi

# ctest in DIR with the given arguments. A selection that matches no test
# (a mistyped label) fails, unless NO_TESTS=ignore, and so does a skipped
# test: a skip is not a pass.
run_ctest() {
  local dir=$1
  shift
  local log rc=0
  log=$(mktemp)
  (cd "$dir" && ctest --output-on-failure --no-tests="${NO_TESTS:-error}" "$@") 2>&1 |
    tee "$log" || rc=$?
  if grep -Eq '\*\*\*Skipped|\(Skipped\)|\*\*\*Not Run' "$log"; then
    echo "test.sh: a skipped test counts as failed:"
    grep -E '\*\*\*Skipped|\*\*\*Not Run' "$log" || true
    rc=1
  fi
  rm -f "$log"
  return $rc
}

# The libFuzzer targets: their own build (clang, build-fuzz/), each run for
# LINEBRIDGE_FUZZ_SECONDS (default 20) after its regression inputs.
run_fuzzers() {
  stage "fuzzers (libFuzzer + ASan + UBSan, docs/fuzzing.md)"
  scripts/build.sh fuzz
  run_ctest build-fuzz -j "$jobs" -L fuzz
}
if [ "$*" = "-L fuzz" ]; then
  run_fuzzers
  exit
fi

stage "release build"
scripts/build.sh release
stage "tests: ${filter[*]} (release build)"
run_ctest build -j "$jobs" "${filter[@]}"
if [ $# -eq 0 ]; then
  stage "50,000 idle connections against the listener (release build only)"
  run_ctest build -L flood
  stage "chaos: 100 SIGKILLs under load, runtime faults (release build only; docs/reliability.md)"
  run_ctest build -L chaos
  stage "benchmark smoke run (figures: docs/benchmarks.md)"
  run_ctest build -L bench
  stage "SIP provider against kamailio and sipp (docs/sip.md)"
  run_ctest build -L sip
  stage "the remote TSP's UI DLL under wine and Xvfb (docs/remote-tsp.md)"
  run_ctest build -L wine
  stage "the shared store on a real PostgreSQL 15 (docs/deployment.md#a-fleet-on-postgresql)"
  run_ctest build -L postgres
fi

stage "ASan + UBSan build (clang; thread-safety findings are build errors)"
scripts/build.sh asan
# The ABI conformance check and the Windows units cross-compile with
# mingw-w64 and run no code of this build, and the package, container, flood, chaos and benchmark labels belong to
# the release build: they ran above already. (A label only they carry selects
# nothing here; the release run above has already failed a mistyped one.)
stage "tests: ${asan_filter[*]} (ASan + UBSan build)"
NO_TESTS=ignore run_ctest build-asan -j "$jobs" "${asan_filter[@]}" \
  -E '^(tsp_abi_conformance|tsp_windows_units_.*)$' -LE '^(package|container|flood|bench|chaos)$'
if [ $# -eq 0 ]; then
  stage "chaos under ASan + UBSan: 20 SIGKILLs (the release run above did 100)"
  LINEBRIDGE_CHAOS_KILLS=20 run_ctest build-asan -R '^chaos_test$'
  stage "SIP provider against kamailio and sipp, ASan + UBSan"
  run_ctest build-asan -L sip
  stage "the shared store on a real PostgreSQL 15, ASan + UBSan"
  run_ctest build-asan -L postgres
  run_fuzzers
fi
stage "all tests passed"
