#!/usr/bin/env bash
# The Debian package: cpack builds linebridge_<version>-1_<arch>.deb from the
# build tree; its control data (dependencies from dpkg-shlibdeps, conffiles,
# maintainer scripts) and its files are checked. Leaves the .deb in
# $LINEBRIDGE_PACKAGE_DIR for deploy_package_install, with a copy of release 2
# (the same files, version <version>-2) in upgrade/ to upgrade to. lintian runs
# if installed (advisory only).
#   LINEBRIDGE_BUILD_DIR   the build tree (linebridged and linectl built)
set -euo pipefail
build="${LINEBRIDGE_BUILD_DIR:?}"
out="${LINEBRIDGE_PACKAGE_DIR:-$build/package}"
fail() { echo "FAIL: $*" >&2; exit 1; }
for b in linebridged linectl; do
  [ -x "$build/bin/$b" ] || fail "$build/bin/$b not built (scripts/build.sh release linebridged linectl)"
done
for t in cpack dpkg-deb dpkg-shlibdeps; do
  command -v "$t" >/dev/null || fail "$t not installed (scripts/bootstrap.sh --test)"
done

rm -rf "$out"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
timeout 240 cpack --config "$build/CPackConfig.cmake" -G DEB -B "$tmp/cpack" >"$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log"; fail "cpack failed"; }
debs=("$tmp"/cpack/linebridge_*.deb)
if [ ${#debs[@]} -ne 1 ] || [ ! -f "${debs[0]}" ]; then ls -l "$tmp/cpack"; fail "expected one linebridge_*.deb"; fi
deb="${debs[0]}"
echo "built $(basename "$deb") in $((SECONDS - start)) s"

dpkg-deb --info "$deb" >"$tmp/info"
dpkg-deb --field "$deb" >"$tmp/control"
cat "$tmp/control"
field() { sed -n "s/^$1: //p" "$tmp/control"; }
[ "$(field Package)" = linebridge ] || fail "Package: $(field Package)"
version=$(sed -n 's/^project(linebridge VERSION \([0-9.]*\).*/\1/p' "$(dirname "$0")/../../CMakeLists.txt")
[ "$(field Version)" = "$version-1" ] || fail "Version $(field Version), project $version"
[ "$(field Section)" = comm ] || fail "Section: $(field Section)"
[ "$(field Priority)" = optional ] || fail "Priority: $(field Priority)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture: $(field Architecture)"
depends=$(field Depends)
[ -n "$depends" ] || fail "Depends is empty"
for d in libc6 'libgrpc++' libprotobuf libsqlite3 adduser; do
  grep -q "$d" <<<"$depends" || fail "Depends lacks $d: $depends"
done

dpkg-deb --ctrl-tarfile "$deb" | tar -t >"$tmp/ctrl"
for f in conffiles postinst prerm postrm md5sums; do
  grep -qx "\./$f" "$tmp/ctrl" || fail "control member $f missing: $(tr '\n' ' ' <"$tmp/ctrl")"
done
mkdir "$tmp/ctl"
dpkg-deb --control "$deb" "$tmp/ctl"
[ "$(cat "$tmp/ctl/conffiles")" = /etc/linebridge/linebridged.textproto ] ||
  fail "conffiles: $(cat "$tmp/ctl/conffiles")"
for s in postinst prerm postrm; do
  [ -x "$tmp/ctl/$s" ] || fail "$s not executable"
  sh -n "$tmp/ctl/$s" || fail "$s: syntax error"
done

dpkg-deb --contents "$deb" >"$tmp/contents"
for f in ./usr/bin/linebridged ./usr/bin/linectl ./lib/systemd/system/linebridged.service \
    ./etc/linebridge/linebridged.textproto ./usr/share/doc/linebridge/README.md \
    ./usr/share/doc/linebridge/deployment.md; do
  grep -q " $f\$" "$tmp/contents" || { cat "$tmp/contents"; fail "$f not in the package"; }
done
! grep -q '/usr/local' "$tmp/contents" || fail "files under /usr/local"

mkdir "$tmp/root"
dpkg-deb --extract "$deb" "$tmp/root"
unit="$tmp/root/lib/systemd/system/linebridged.service"
grep -qx 'ExecStart=/usr/bin/linebridged --config /etc/linebridge/linebridged.textproto --data_dir /var/lib/linebridge' "$unit" ||
  fail "unit ExecStart: $(grep ExecStart "$unit")"
grep -qx 'User=linebridge' "$unit" || fail "unit does not run as linebridge"
grep -qx 'ProtectSystem=strict' "$unit" || fail "unit lost its hardening"
grep -q '^data_dir: "/var/lib/linebridge"' "$tmp/root/etc/linebridge/linebridged.textproto" ||
  fail "the packaged configuration's data_dir is not /var/lib/linebridge"
"$tmp/root/usr/bin/linebridged" --config "$tmp/root/etc/linebridge/linebridged.textproto" --check_config ||
  fail "the packaged configuration does not validate"
"$tmp/root/usr/bin/linebridged" --help >"$tmp/help" 2>&1 || true
grep -q -- '--data_dir' "$tmp/help" || fail "linebridged --help: $(head -5 "$tmp/help")"
"$tmp/root/usr/bin/linectl" --help >"$tmp/help" 2>&1 || true
grep -q 'usage: linectl' "$tmp/help" || fail "linectl --help: $(head -5 "$tmp/help")"

if command -v lintian >/dev/null; then
  echo "lintian (advisory):"
  lintian --tag-display-limit 0 "$deb" || true
fi

cp "$deb" "$out/"
# The same package as release 2: what deploy_package_install upgrades to.
mkdir -p "$out/upgrade"
timeout 240 cpack --config "$build/CPackConfig.cmake" -G DEB -B "$tmp/cpack2" \
  -D CPACK_DEBIAN_PACKAGE_RELEASE=2 >"$tmp/cpack2.log" 2>&1 ||
  { cat "$tmp/cpack2.log"; fail "cpack (release 2) failed"; }
[ "$(dpkg-deb --field "$tmp"/cpack2/linebridge_*.deb Version)" = "$version-2" ] ||
  fail "release 2 has version $(dpkg-deb --field "$tmp"/cpack2/linebridge_*.deb Version)"
cp "$tmp"/cpack2/linebridge_*.deb "$out/upgrade/"
echo "ok: $(basename "$deb") ($(stat -c %s "$deb") bytes), Depends: $depends"
