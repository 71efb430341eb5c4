#!/usr/bin/env bash
# tspui_wine_test: linebridge_ui.dll under wine on a private Xvfb display.
#
#   run_wine_test.sh <dir with linebridge_ui.dll and ui_wine_test.exe> <artefact dir>
#
# A temporary WINEPREFIX (its registry is what the dialog writes) and an
# Xvfb server on a display number it picks itself (-displayfd), both removed
# at the end. ui_wine_test.exe drives the dialogs ("dialog"), then the
# registry is read with wine's own `reg query`, then "remove". The
# screenshot is converted to <artefact dir>/tspui-dialog.png and checked to
# be a picture of a dialog, not a blank screen.
# A missing tool or build output is a failure, never a skip.
set -euo pipefail

bin=${1:?directory with linebridge_ui.dll and ui_wine_test.exe}
artefacts=${2:?artefact directory}
fail() { echo "FAIL: $*" >&2; exit 1; }

for tool in wine wineserver Xvfb convert identify; do
  command -v "$tool" >/dev/null ||
    fail "$tool not found (scripts/bootstrap.sh --test installs wine, wine64, xvfb, imagemagick)"
done
for f in linebridge_ui.dll ui_wine_test.exe; do
  [[ -f $bin/$f ]] || fail "$bin/$f not built (needs g++-mingw-w64-x86-64-posix)"
done

work=$(mktemp -d /tmp/tspui-wine.XXXXXX)
xvfb_pid=
cleanup() {
  WINEPREFIX=$work/prefix wineserver -k 2>/dev/null || true
  [[ -n $xvfb_pid ]] && kill "$xvfb_pid" 2>/dev/null && wait "$xvfb_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# A display of our own: Xvfb writes the number it chose to fd 5.
Xvfb -displayfd 5 -screen 0 1024x768x24 -nolisten tcp 5>"$work/display" 2>"$work/xvfb.log" &
xvfb_pid=$!
for _ in $(seq 1 200); do
  [[ -s $work/display ]] && break
  kill -0 "$xvfb_pid" 2>/dev/null || { cat "$work/xvfb.log" >&2; fail "Xvfb exited"; }
  sleep 0.05
done
[[ -s $work/display ]] || fail "Xvfb did not report its display within 10 s"
export DISPLAY=:$(tr -d '[:space:]' < "$work/display")

export WINEPREFIX=$work/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
winpath() { printf 'Z:%s' "${1//\//\\}"; }
mkdir -p "$work/files"
cp "$bin/linebridge_ui.dll" "$bin/ui_wine_test.exe" "$work/"

run() {  # run <mode>
  timeout 120 wine "$work/ui_wine_test.exe" "$(winpath "$work/linebridge_ui.dll")" \
    "$(winpath "$work/files")" "$(winpath "$work/shot.bmp")" "$1"
}

# The first run also creates the prefix (several seconds).
run dialog || fail "ui_wine_test.exe dialog"

# What the dialog wrote, as wine's registry tool sees it.
query=$(timeout 60 wine reg query 'HKLM\SOFTWARE\linebridge\TSP' 2>/dev/null | tr -d '\r')
echo "$query"
grep -Eq '^ +server +REG_MULTI_SZ +127\.0\.0\.1:50051\\0pbx\.example\.com:50052' <<<"$query" ||
  fail "reg query: server is not the REG_MULTI_SZ the dialog was given"
grep -Eq '^ +log_file +REG_EXPAND_SZ +%TEMP%\\linebridge-tsp\.log' <<<"$query" ||
  fail "reg query: log_file is not REG_EXPAND_SZ %TEMP%\\linebridge-tsp.log"
grep -Eq '^ +tls +REG_SZ +on$' <<<"$query" || fail "reg query: tls is not on"
grep -Eq '^ +log_level +REG_SZ +info$' <<<"$query" || fail "reg query: log_level is not info"

# The screenshot: a dialog-sized picture with more than a handful of colours.
png=$artefacts/tspui-dialog.png
convert "$work/shot.bmp" "$png" || fail "converting the screenshot"
read -r width height colours < <(identify -format '%w %h %k\n' "$png")
echo "screenshot: $png (${width}x${height}, $colours colours)"
((width >= 300 && height >= 300)) || fail "screenshot is ${width}x${height}, not the dialog"
((colours >= 4)) || fail "screenshot has $colours colours: blank"

run remove || fail "ui_wine_test.exe remove"
if timeout 60 wine reg query 'HKLM\SOFTWARE\linebridge\TSP' >/dev/null 2>&1; then
  fail "the settings key is still there after providerRemove"
fi
echo "PASS: tspui_wine_test"
