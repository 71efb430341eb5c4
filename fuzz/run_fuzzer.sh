#!/usr/bin/env bash
# Runs one fuzzer as CI does (ctest -L fuzz): each checked-in regression
# input once, then LINEBRIDGE_FUZZ_SECONDS (default 20) of fuzzing from a
# copy of the seed corpus (the tree is never written). A crash fails the run;
# its input is printed and kept in LINEBRIDGE_FUZZ_ARTIFACTS (default
# ./fuzz-artifacts) to be fixed and added to the regressions.
#   fuzz/run_fuzzer.sh FUZZER CORPUS_DIR REGRESSIONS_DIR [libFuzzer flags...]
set -euo pipefail
bin=$1 corpus=$2 regressions=$3
shift 3
name=$(basename "$bin")
seconds="${LINEBRIDGE_FUZZ_SECONDS:-20}"
artifacts="${LINEBRIDGE_FUZZ_ARTIFACTS:-$PWD/fuzz-artifacts}"
work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/crash"
flags=(-timeout=30 -rss_limit_mb=2048 -artifact_prefix="$work/crash/" "$@")

report() {
  echo "run_fuzzer.sh: $name failed" >&2
  mkdir -p "$artifacts"
  for f in "$work"/crash/*; do
    [ -f "$f" ] || continue
    cp "$f" "$artifacts/$name-$(basename "$f")"
    echo "input $artifacts/$name-$(basename "$f") ($(stat -c %s "$f") bytes):" >&2
    od -A d -t x1z -v "$f" | head -n 64 >&2
  done
  exit 1
}

shopt -s nullglob
inputs=("$regressions"/*)
if [ ${#inputs[@]} -gt 0 ]; then
  echo "== $name: ${#inputs[@]} regression inputs"
  "$bin" "${flags[@]}" "${inputs[@]}" || report
fi
seeds=("$corpus"/*)
[ ${#seeds[@]} -gt 0 ] || { echo "run_fuzzer.sh: no seeds in $corpus" >&2; exit 1; }
cp "${seeds[@]}" "$work/corpus/"
echo "== $name: ${#seeds[@]} seeds, ${seconds} s"
"$bin" "${flags[@]}" -seed="${LINEBRIDGE_FUZZ_SEED:-1}" -max_total_time="$seconds" \
  -print_final_stats=1 "$work/corpus" || report
