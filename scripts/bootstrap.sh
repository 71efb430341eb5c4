#!/usr/bin/env bash
# Installs every system package linebridge needs to build, test and run on
# Debian 12. Idempotent; run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libabsl-dev libsqlite3-dev sqlite3 libgtest-dev libgmock-dev googletest
  python3 procps clang systemd openssl
  mingw-w64-common g++-mingw-w64-x86-64 g++-mingw-w64-i686
  iaxmodem socat
  g++-mingw-w64-x86-64-posix g++-mingw-w64-i686-posix
  python3-grpcio python3-protobuf python3-venv
)
# The Node client's tests: node and npm from Debian (nodejs 18, npm 9) unless
# some node and npm are already installed.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  PACKAGES+=(nodejs npm)
fi

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
