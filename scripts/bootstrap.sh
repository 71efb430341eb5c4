#!/usr/bin/env bash
# Installs the Debian 12 packages linebridge needs. Idempotent; run as root
# (or with sudo available).
#   scripts/bootstrap.sh          to build and run (scripts/quickstart.sh);
#                                 with mold and ccache, which scripts/build.sh
#                                 uses to link and rebuild faster
#   scripts/bootstrap.sh --test   also what the tests use (scripts/test.sh):
#                                 clang (and its libFuzzer runtime), the
#                                 mingw-w64 cross compilers, wine, Xvfb and
#                                 ImageMagick (the UI DLL's test), iaxmodem,
#                                 socat, the Python and Node clients' toolchains,
#                                 podman, runc and debootstrap (the Debian
#                                 package's container test), prometheus (the
#                                 metrics test scrapes with it), podman-compose
#                                 and the CNI dnsname plugin (the compose
#                                 test: services find each other by name),
#                                 postgresql-15 (the `postgres` tests start
#                                 their own server from its binaries)
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libabsl-dev libsqlite3-dev sqlite3 libgtest-dev libgmock-dev googletest
  prometheus-cpp-dev libexpat1-dev python3 procps openssl
  libsofia-sip-ua-dev libssl-dev libpq-dev libspandsp-dev libsndfile1-dev
  mold ccache
)
TEST_PACKAGES=(
  clang libclang-rt-14-dev systemd
  mingw-w64-common g++-mingw-w64-x86-64 g++-mingw-w64-i686
  g++-mingw-w64-x86-64-posix g++-mingw-w64-i686-posix
  wine wine64 xvfb imagemagick
  iaxmodem socat
  sip-tester kamailio kamailio-presence-modules kamailio-tls-modules baresip-core
  python3-grpcio python3-protobuf python3-venv
  podman runc debootstrap dpkg-dev prometheus
  podman-compose golang-github-containernetworking-plugin-dnsname
  postgresql-15
)
case "${1:-}" in
  "") ;;
  --test)
    PACKAGES+=("${TEST_PACKAGES[@]}")
    # The Node client's tests: node and npm from Debian (nodejs 18, npm 9)
    # unless some node and npm are already installed.
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
      PACKAGES+=(nodejs npm)
    fi
    ;;
  *) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "bootstrap: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "bootstrap: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
