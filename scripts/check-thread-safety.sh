#!/usr/bin/env bash
# Clang's -Wthread-safety over the project's own sources (the build uses g++,
# which has no such analysis): each translation unit is compiled syntax-only
# with the flags from the release build's compile_commands.json.
#   scripts/check-thread-safety.sh [build-dir]
# The test command does not need it: its sanitizer build is compiled by clang
# with -Wthread-safety (scripts/build.sh asan). This is the quick check for a
# g++ build tree without building again.
# A unit found clean is remembered under ${XDG_CACHE_HOME:-~/.cache}/linebridge/
# thread-safety, keyed by clang's version, the unit's flags and the contents of
# the unit and of every header it includes (ninja's dependency log of the
# build): a later run analyses again only what changed.
# LINEBRIDGE_TSA_CACHE=0 analyses everything; LINEBRIDGE_TSA_FILES=<regex>
# only the units whose path (from the repository root) matches.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
[ -f "$build/compile_commands.json" ] || { echo "run scripts/build.sh first" >&2; exit 2; }
python3 - "$build" <<'PY'
import hashlib, json, os, re, shlex, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
build = sys.argv[1]
entries = json.load(open(os.path.join(build, "compile_commands.json")))
root = os.getcwd()
use_cache = os.environ.get("LINEBRIDGE_TSA_CACHE", "1") != "0"
only = re.compile(os.environ.get("LINEBRIDGE_TSA_FILES", ""))
cache_dir = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                         "linebridge", "thread-safety")
clang_version = subprocess.run(["clang++", "--version"], capture_output=True, text=True).stdout

# object file -> the files it was compiled from (ninja's dependency log).
deps = {}
if use_cache:
    p = subprocess.run(["ninja", "-C", build, "-t", "deps"], capture_output=True, text=True)
    current = None
    for line in p.stdout.splitlines():
        if not line.strip():
            current = None
        elif not line.startswith(" "):
            obj, _, status = line.partition(":")
            current = obj if "(VALID)" in status else None
            if current is not None:
                deps[current] = []
        elif current is not None:
            deps[current].append(line.strip())

def key_of(obj, cmd):
    files = deps.get(obj)
    if not files:
        return None
    h = hashlib.sha256(clang_version.encode())
    h.update("\0".join(cmd).replace(root, ".").encode())
    for f in files:
        path = f if os.path.isabs(f) else os.path.join(build, f)
        try:
            with open(path, "rb") as fh:
                h.update(f.replace(root, ".").encode() + b"\0" + hashlib.sha256(fh.read()).digest())
        except OSError:
            return None
    return h.hexdigest()

todo = []
for e in entries:
    f = e["file"]
    rel = os.path.relpath(f, root)
    if not rel.startswith(("server/", "client-sdk/", "proto/linebridge/", "remote-tsp/")) or "/gen/" in rel:
        continue
    if not only.search(rel):
        continue
    args = shlex.split(e["command"])[1:]
    out = []
    obj = None
    skip = None
    for a in args:
        if skip:
            if skip == "-o":
                obj = a
            skip = None
            continue
        if a in ("-o", "-MF", "-MT"):
            skip = a
            continue
        if a in ("-c", "-MD") or a.startswith("-Wshadow=") or a.startswith("-fsanitize"):
            continue
        out.append(a)
    cmd = ["clang++", "-fsyntax-only", "-Wthread-safety", "-Werror=thread-safety",
           "-Wno-unknown-warning-option", "-Wno-error"] + out
    todo.append((rel, cmd, key_of(obj, cmd) if use_cache and obj else None))

def run(item):
    rel, cmd, key = item
    if key and os.path.exists(os.path.join(cache_dir, key)):
        return rel, 0, "", True
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
    bad = [l for l in p.stderr.splitlines() if "thread-safety" in l or "error:" in l]
    err = p.stderr if (p.returncode or bad) else ""
    if key and p.returncode == 0 and not err:
        os.makedirs(cache_dir, exist_ok=True)
        open(os.path.join(cache_dir, key), "w").close()
    return rel, p.returncode, err, False

failed = 0
cached = 0
with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
    for rel, rc, err, hit in pool.map(run, todo):
        cached += hit
        if rc != 0 or err:
            failed += 1
            print(f"--- {rel}\n{err}")
print(f"thread-safety analysis: {len(todo)} files ({cached} unchanged since a clean analysis),"
      f" {failed} with findings")
sys.exit(1 if failed else 0)
PY
