#!/usr/bin/env bash
# The Node client's ctest: a copy of the package in the build tree (so that
# two build trees never write into the sources), `npm ci` from the lockfile
# unless node_modules is already there (offline runs), then `npm test`
# against the build's linebridged.   ctest.sh SOURCE_DIR WORK_DIR PROTO_DIR
set -euo pipefail
src=$1 work=$2 proto=$3
command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "node and npm are needed (scripts/bootstrap.sh --test installs them)" >&2; exit 1; }
mkdir -p "$work"
rm -rf "$work/src" "$work/test" "$work/tools" "$work/examples"
cp -r "$src/src" "$src/test" "$src/tools" "$src/examples" "$work/"
rm -rf "$work/src/gen"
for f in package.json package-lock.json tsconfig.json; do
  if ! cmp -s "$src/$f" "$work/$f"; then
    cp "$src/$f" "$work/$f"
    rm -rf "$work/node_modules"  # the lockfile changed: install again
  fi
done
cd "$work"
if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi
export LINEBRIDGE_PROTO_DIR="$proto"
npm test
