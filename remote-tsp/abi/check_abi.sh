#!/usr/bin/env bash
# ABI conformance check of the remote TSP's TAPI header (ctest tsp_abi_conformance).
#
#   check_abi.sh <remote-tsp source dir> <proto source dir> <work dir> [native c++]
#                [generated proto headers dir] [UI DLL build dir]
#
# 1. abi_conformance.cc compiles with x86_64- and i686-w64-mingw32-g++ against
#    the real <windows.h>/<tapi.h>/<tspi.h> (all checks are static_asserts), and
#    with the native compiler against linebridge/tapi_abi.h alone.
#    same_source.cc (TSP-style code) compiles against tapi_abi.h natively and
#    on both Windows targets, in SDK mode and with our own declarations.
# 2. Every constant family in tapi_abi_constants.h is complete: each macro of
#    the real headers with a listed family prefix is in the lists.
# 3. linebridge.def, the TSPI list in tapi_abi_decls.h and the TSPI_provider*/
#    TSPI_line*/TSPI_phone* functions declared by tspi.h are the same set.
# 4. A DLL linked from tspi_stubs.cc with linebridge.def exports exactly those
#    names, undecorated (no @N, no leading underscore), on both architectures.
#    The UI DLL: ui/linebridge_ui.def lists exactly the TUISPI_* functions of
#    tspi.h, and (with the UI DLL build dir given) the linebridge_ui.dll built
#    for each architecture exports exactly those, undecorated.
# 5. The registry reader (tsp/tsp_registry.cc) compiles for both Windows
#    targets and links into a program against advapi32.
# 6. docs/remote-tsp.md maps every export (linebridge.tsp's and
#    linebridge_ui.dll's), and says "not supported" for exactly the
#    exports.cc stubs returning LINEERR_OPERATIONUNAVAIL.
# 7. With the generated proto headers given: the Windows build's translation
#    units compile (-fsyntax-only) for x86_64 and i686 with mingw-w64's posix
#    compilers, the SDK's tapi.h/tspi.h (LINEBRIDGE_USE_SDK_TAPI, as the
#    Windows CMake build) and the host's Abseil/gRPC/protobuf headers: the
#    export layer against tspi.h's prototypes, the provider, the
#    configuration, registry and device map code, the C++ SDK.
# Skips (exit 0) only when no mingw-w64 compiler is installed.
set -euo pipefail

src=${1:?remote-tsp source dir}
proto=${2:?proto source dir}
work=${3:?work dir}
native=${4:-g++}
gen=${5:-}
uibuild=${6:-}
archs=(x86_64 i686)
std=(-std=c++20 -Wall -Wextra -Wshadow=local -Werror)
inc=(-I"$src/include" -I"$proto")

for a in "${archs[@]}"; do
  if ! command -v "$a-w64-mingw32-g++" >/dev/null 2>&1 ||
     ! command -v "$a-w64-mingw32-objdump" >/dev/null 2>&1; then
    echo "SKIPPED: $a-w64-mingw32-g++/objdump not found (install g++-mingw-w64-x86-64," \
         "g++-mingw-w64-i686 and mingw-w64-common); the TAPI ABI was NOT checked"
    exit 77  # ctest: skipped (SKIP_RETURN_CODE), which scripts/test.sh counts as a failure
  fi
done

skipped=0
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

# Expands an X-macro list to one item per line with the given X.
expand() {  # expand <X definition> <list invocation>
  printf '#include "linebridge/tapi_abi_constants.h"\n#include "linebridge/tapi_abi_decls.h"\n%s\n%s\n' \
    "$1" "$2" | "$native" -E -P "${inc[@]}" -x c++ - | tr ' ' '\n' | sed '/^$/d'
}

# ---- 7. the Windows build's translation units ----------------------------------------
# (A function: with LINEBRIDGE_ABI_UNITS_ONLY=<arch> the script runs only this
# step, for that architecture; ctest runs each architecture as a test of its
# own, tsp_windows_units_<arch>, beside the others.)
windows_units() {
  if [[ -n $gen ]]; then
    if [[ ! -d $gen/linebridge ]]; then
      fail "generated proto headers not found in $gen"
    elif ! command -v x86_64-w64-mingw32-g++-posix >/dev/null 2>&1 ||
         ! command -v i686-w64-mingw32-g++-posix >/dev/null 2>&1; then
      echo "SKIPPED 7: *-w64-mingw32-g++-posix not found (std::thread needs the posix thread model)"
      skipped=1
    elif [[ ! -d /usr/include/absl || ! -d /usr/include/grpcpp || ! -d /usr/include/google/protobuf ]]; then
      echo "SKIPPED 7: Abseil/gRPC/protobuf headers not in /usr/include"
      skipped=1
    else
      # Only these headers from the host (not glibc's).
      wininc=$work/wininc
      mkdir -p "$wininc"
      for d in absl google grpc grpcpp grpc++; do ln -sfn "/usr/include/$d" "$wininc/$d"; done
      root=$src/..
      # Every source of the provider (tsp/*.cc but the tests).
      units=()
      for u in "$src"/tsp/*.cc; do
        [[ $u == *_test.cc ]] || units+=("$u")
      done
      units+=("$src/tapi_mapping.cc"
             "$root/client-sdk/cpp/connection.cc" "$root/client-sdk/cpp/client.cc"
             "$root/client-sdk/cpp/backoff.cc" "$root/client-sdk/cpp/routing_table.cc")
      # Each unit parses the gRPC and protobuf headers (some 10 s of CPU):
      # as many compilers at once as there are CPUs.
      parallel=$(nproc 2>/dev/null || echo 2)
      for a in "${archs[@]}"; do
        for u in "${units[@]}"; do
          while (($(jobs -rp | wc -l) >= parallel)); do wait -n || true; done
          log="$work/win-$a-$(basename "$u")"
          { "$a-w64-mingw32-g++-posix" "${std[@]}" -DLINEBRIDGE_USE_SDK_TAPI -isystem "$wininc" \
              -isystem "$gen" -I"$src" "${inc[@]}" -I"$root/client-sdk/cpp/include" -fsyntax-only \
              "$u" 2> "$log.log" && touch "$log.ok"; } &
        done
      done
      wait
      for a in "${archs[@]}"; do
        for u in "${units[@]}"; do
          log="$work/win-$a-$(basename "$u")"
          [ -f "$log.ok" ] || { cat "$log.log" >&2; fail "$a: $u does not compile for Windows"; }
        done
      done
      echo "ok   ${#units[@]} translation units of the Windows build compile (x86_64, i686; SDK" \
           "tapi.h/tspi.h), every part of the provider included"
    fi
  fi
}

if [[ -n ${LINEBRIDGE_ABI_UNITS_ONLY:-} ]]; then
  archs=("$LINEBRIDGE_ABI_UNITS_ONLY")
  [[ -n $gen ]] || fail "LINEBRIDGE_ABI_UNITS_ONLY needs the generated proto headers"
  windows_units
  if ((skipped)); then exit 77; fi
  echo "PASS: the Windows build's translation units compile for $LINEBRIDGE_ABI_UNITS_ONLY"
  exit 0
fi

# ---- 1. compile-time checks -----------------------------------------------
"$native" "${std[@]}" -pedantic "${inc[@]}" -fsyntax-only "$src/abi/abi_conformance.cc" ||
  fail "native compile of abi_conformance.cc against tapi_abi.h"
echo "ok   native $("$native" -dumpmachine): tapi_abi.h is self-contained, LP64 sizes equal Windows'"
for a in "${archs[@]}"; do
  "$a-w64-mingw32-g++" "${std[@]}" "${inc[@]}" -fsyntax-only "$src/abi/abi_conformance.cc" ||
    fail "$a: abi_conformance.cc against the mingw-w64 Windows headers"
  echo "ok   $a-w64-mingw32: layouts, types, signatures and constants equal the Windows headers'"
done

# The same TSP-style source against each header: ours (Linux and Windows)
# and the SDK's (LINEBRIDGE_USE_SDK_TAPI).
"$native" "${std[@]}" "${inc[@]}" -fsyntax-only "$src/abi/same_source.cc" ||
  fail "native compile of same_source.cc"
for a in "${archs[@]}"; do
  for mode in "" -DLINEBRIDGE_USE_SDK_TAPI; do
    "$a-w64-mingw32-g++" "${std[@]}" "${inc[@]}" $mode -fsyntax-only "$src/abi/same_source.cc" ||
      fail "$a ${mode:-(own declarations)}: same_source.cc"
  done
done
echo "ok   same_source.cc compiles with tapi_abi.h and with the SDK headers (native, x86_64, i686)"

# ---- 2. constant families complete ------------------------------------------
mine=$work/constants.mine
expand '#define N(NAME, VALUE) NAME' \
  'LINEBRIDGE_TAPI_CONSTANTS(N) LINEBRIDGE_TAPI_LONG_CONSTANTS(N)' > "$mine.tmp"
expand '#define N(NAME, VALUE) LINEERR_##NAME' 'LINEBRIDGE_LINEERR_LIST(N)' >> "$mine.tmp"
expand '#define N(NAME, VALUE) NAME' 'LINEBRIDGE_TAPI_PHONEERR(N)' >> "$mine.tmp"
sort -u "$mine.tmp" > "$mine"
printf '#include <windows.h>\n#include <tapi.h>\n#include <tspi.h>\n' |
  x86_64-w64-mingw32-g++ -x c++ -dM -E - | awk '$1 == "#define" && $2 !~ /\(/ { print $2 }' |
  sort -u > "$work/macros.sdk"
# A family is the name up to and including its first underscore (LINEMAPPER: itself).
sed -E 's/^([A-Z0-9]*_).*/\1/' "$mine" | sort -u > "$work/families"
missing=$(grep -E "^($(paste -sd'|' "$work/families"))" "$work/macros.sdk" |
  grep -E "^($(sed 's/_$/_[A-Z0-9_]+/' "$work/families" | paste -sd'|'))$" |
  comm -23 - "$mine" || true)
[[ -z $missing ]] || fail "constants in the Windows headers missing from the lists: $missing"
echo "ok   $(wc -l < "$mine") constants in $(wc -l < "$work/families") families, none missing"

# ---- 3. export list ------------------------------------------------------------
expand '#define N(NAME, PARAMS) NAME' 'LINEBRIDGE_TSPI_FUNCTIONS(N)' | sort > "$work/tspi.mine"
sed -n '/^EXPORTS/,$p' "$src/linebridge.def" | sed '1d; s/;.*//; s/[[:space:]]//g; /^$/d' |
  sort > "$work/tspi.def"
printf '#include <windows.h>\n#include <tspi.h>\n' | x86_64-w64-mingw32-g++ -x c++ -E - |
  grep -oE '\bTSPI_(line|phone|provider)[A-Za-z]+\b' | sort -u > "$work/tspi.sdk"
diff -u "$work/tspi.sdk" "$work/tspi.mine" || fail "TSPI list (tapi_abi_decls.h) differs from tspi.h"
diff -u "$work/tspi.mine" "$work/tspi.def" || fail "linebridge.def differs from the TSPI list"
echo "ok   $(wc -l < "$work/tspi.def") TSPI functions: linebridge.def = tapi_abi_decls.h = tspi.h"

# ---- 4. DLL exports --------------------------------------------------------------
for a in "${archs[@]}"; do
  cxx=$a-w64-mingw32-g++
  dll=$work/linebridge-abi-$a.tsp
  extra=()
  # __stdcall symbols are _Name@N on x86; let the .def's plain names bind to them.
  [[ $a == i686 ]] && extra=(-Wl,--enable-stdcall-fixup)
  "$cxx" "${std[@]}" -Wno-unused-parameter "${inc[@]}" -c "$src/abi/tspi_stubs.cc" \
    -o "$work/tspi_stubs-$a.o" || fail "$a: tspi_stubs.cc against tspi.h"
  "$cxx" -shared -static-libgcc -static-libstdc++ -o "$dll" "$work/tspi_stubs-$a.o" \
    "$src/linebridge.def" "${extra[@]}" || fail "$a: linking the stub DLL"
  "$a-w64-mingw32-objdump" -p "$dll" > "$work/objdump-$a.txt"
  awk '/\[Ordinal\/Name Pointer\] Table/ { on = 1; next } on && /^\t\[/ { print $NF; next }
       on && !/^\t\[/ { on = 0 }' "$work/objdump-$a.txt" | sort > "$work/exports-$a"
  bad=$(grep -E '@|^_' "$work/exports-$a" || true)
  [[ -z $bad ]] || fail "$a: decorated exports: $bad"
  diff -u "$work/tspi.def" "$work/exports-$a" || fail "$a: DLL exports differ from linebridge.def"
  echo "ok   $a: $(wc -l < "$work/exports-$a") undecorated exports in $(basename "$dll")"
done

# The UI DLL's exports.
sed -n '/^EXPORTS/,$p' "$src/ui/linebridge_ui.def" | sed '1d; s/;.*//; s/[[:space:]]//g; /^$/d' |
  sort > "$work/tuispi.def"
printf '#include <windows.h>\n#include <tspi.h>\n' | x86_64-w64-mingw32-g++ -x c++ -E - |
  grep -oE '\bTUISPI_[A-Za-z]+\b' | sort -u > "$work/tuispi.sdk"
diff -u "$work/tuispi.sdk" "$work/tuispi.def" || fail "ui/linebridge_ui.def differs from tspi.h's TUISPI_*"
echo "ok   $(wc -l < "$work/tuispi.def") TUISPI functions: ui/linebridge_ui.def = tspi.h"
if [[ -n $uibuild ]]; then
  for a in "${archs[@]}"; do
    dll=$uibuild/$a/linebridge_ui.dll
    [[ -f $dll ]] || fail "$dll not built"
    "$a-w64-mingw32-objdump" -p "$dll" > "$work/objdump-ui-$a.txt"
    awk '/\[Ordinal\/Name Pointer\] Table/ { on = 1; next } on && /^\t\[/ { print $NF; next }
         on && !/^\t\[/ { on = 0 }' "$work/objdump-ui-$a.txt" | sort > "$work/exports-ui-$a"
    bad=$(grep -E '@|^_' "$work/exports-ui-$a" || true)
    [[ -z $bad ]] || fail "$a: decorated exports in linebridge_ui.dll: $bad"
    diff -u "$work/tuispi.def" "$work/exports-ui-$a" || fail "$a: linebridge_ui.dll exports differ"
    # Only system DLLs (the C++ runtime and winpthreads are linked in).
    deps=$(grep 'DLL Name:' "$work/objdump-ui-$a.txt" | awk '{ print tolower($3) }' |
      grep -vE '^(kernel32|user32|advapi32|msvcrt)\.dll$' || true)
    [[ -z $deps ]] || fail "$a: linebridge_ui.dll needs non-system DLLs: $deps"
    echo "ok   $a: linebridge_ui.dll exports the $(wc -l < "$work/exports-ui-$a") TUISPI functions, undecorated; imports only system DLLs"
  done
fi

# ---- 5. the registry reader ------------------------------------------------------
# tsp/tsp_registry.cc (Win32 registry API under _WIN32) compiles warning-free
# natively and for both Windows targets, and links into a Windows program.
"$native" "${std[@]}" -pedantic -I"$src" -fsyntax-only "$src/tsp/tsp_registry.cc" ||
  fail "native compile of tsp/tsp_registry.cc"
for a in "${archs[@]}"; do
  cxx=$a-w64-mingw32-g++
  "$cxx" "${std[@]}" -pedantic -I"$src" -c "$src/tsp/tsp_registry.cc" \
    -o "$work/tsp_registry-$a.o" || fail "$a: tsp/tsp_registry.cc (registry reader)"
  "$cxx" "${std[@]}" -I"$src" -c "$src/abi/registry_main.cc" -o "$work/registry_main-$a.o" ||
    fail "$a: abi/registry_main.cc"
  "$cxx" -static -o "$work/registry-$a.exe" "$work/registry_main-$a.o" \
    "$work/tsp_registry-$a.o" -ladvapi32 || fail "$a: linking the registry reader"
  "$a-w64-mingw32-objdump" -p "$work/registry-$a.exe" > "$work/registry-$a.txt"
  grep -q 'RegEnumValueW' "$work/registry-$a.txt" ||
    fail "$a: registry reader does not import RegEnumValueW"
done
echo "ok   tsp/tsp_registry.cc compiles (native, x86_64, i686) and links against advapi32"

# ---- 6. docs/remote-tsp.md's function table ---------------------------------------
# Lists every export once, and "not supported" exactly for the exports that
# return LINEERR_OPERATIONUNAVAIL in tsp/exports.cc.
doc=$src/../docs/remote-tsp.md
if [[ -f $doc && -f $src/tsp/exports.cc ]]; then
  grep -E '^\| TSPI_' "$doc" | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | sort > "$work/tspi.doc"
  diff -u "$work/tspi.def" "$work/tspi.doc" || fail "docs/remote-tsp.md table differs from linebridge.def"
  grep -E '^\| TUISPI_' "$doc" | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | sort > "$work/tuispi.doc"
  diff -u "$work/tuispi.def" "$work/tuispi.doc" ||
    fail "docs/remote-tsp.md TUISPI table differs from ui/linebridge_ui.def"
  grep -E '^\| TSPI_[A-Za-z]+ \| not supported' "$doc" | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' |
    sort > "$work/tspi.doc-unavail"
  grep -oE 'TSPI_[A-Za-z]+\([^)]*\) *\{ *return LINEERR_OPERATIONUNAVAIL; *\}' "$src/tsp/exports.cc" |
    grep -oE '^TSPI_[A-Za-z]+' | sort > "$work/tspi.unavail"
  diff -u "$work/tspi.unavail" "$work/tspi.doc-unavail" ||
    fail "docs/remote-tsp.md 'not supported' rows differ from exports.cc's OPERATIONUNAVAIL stubs"
  echo "ok   docs/remote-tsp.md maps all $(wc -l < "$work/tspi.doc") + $(wc -l < "$work/tuispi.doc") exports;" \
       "$(wc -l < "$work/tspi.unavail") not supported, as in exports.cc"
fi

windows_units

count() { expand "$1" "$2" | wc -l; }
structs=$(count '#define N(S) S' 'LINEBRIDGE_TAPI_STRUCTS(N)')
fields=$(count '#define N(S, T, F) S.F' \
  '#define S(NAME) LINEBRIDGE_TAPI_STRUCT_FIELDS_##NAME(N)
   LINEBRIDGE_TAPI_STRUCTS(S) LINEBRIDGE_TAPI_STRUCT_FIELDS_GUID(N) LINEBRIDGE_TAPI_STRUCT_FIELDS_SYSTEMTIME(N)')
types=$(count '#define N(T) T' 'LINEBRIDGE_TAPI_BASE_TYPES(N)')
callbacks=$(count '#define N(R, NAME, P) NAME' 'LINEBRIDGE_TAPI_CALLBACKS(N)')
absent=$(count '#define N(NAME, V) NAME' 'LINEBRIDGE_TAPI_VERSIONS(N)')
echo "PASS: $structs structs (+GUID, SYSTEMTIME) / $fields fields, $types types," \
     "$callbacks callbacks, $(wc -l < "$work/tspi.mine") TSPI prototypes," \
     "$(wc -l < "$mine") constants checked on x86_64 and i686; $absent TAPI_VERSION*" \
     "documented-only (absent from mingw-w64)"
if ((skipped)); then
  echo "SKIPPED: step 7 did not run (see above)"
  exit 77
fi
