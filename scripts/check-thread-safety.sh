#!/usr/bin/env bash
# Clang's -Wthread-safety over the project's own sources (the build uses g++,
# which has no such analysis): each translation unit is compiled syntax-only
# with the flags from the release build's compile_commands.json.
#   scripts/check-thread-safety.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
[ -f "$build/compile_commands.json" ] || { echo "run scripts/build.sh first" >&2; exit 2; }
python3 - "$build/compile_commands.json" <<'PY'
import json, shlex, subprocess, sys, os
from concurrent.futures import ThreadPoolExecutor
entries = json.load(open(sys.argv[1]))
root = os.getcwd()
todo = []
for e in entries:
    f = e["file"]
    rel = os.path.relpath(f, root)
    if not rel.startswith(("server/", "client-sdk/", "proto/linebridge/", "remote-tsp/")) or "/gen/" in rel:
        continue
    args = shlex.split(e["command"])[1:]
    out = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT"):
            skip = True
            continue
        if a in ("-c", "-MD") or a.startswith("-Wshadow=") or a.startswith("-fsanitize"):
            continue
        out.append(a)
    todo.append((rel, ["clang++", "-fsyntax-only", "-Wthread-safety", "-Werror=thread-safety",
                       "-Wno-unknown-warning-option", "-Wno-error"] + out))
def run(item):
    rel, cmd = item
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
    bad = [l for l in p.stderr.splitlines() if "thread-safety" in l or "error:" in l]
    return rel, p.returncode, p.stderr if (p.returncode or bad) else ""
failed = 0
with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
    for rel, rc, err in pool.map(run, todo):
        if rc != 0 or err:
            failed += 1
            print(f"--- {rel}\n{err}")
print(f"thread-safety analysis: {len(todo)} files, {failed} with findings")
sys.exit(1 if failed else 0)
PY
