#!/usr/bin/env bash
# deploy/compose.postgres.yaml with podman-compose: PostgreSQL 15 (its image
# from deploy/container/Containerfile.postgres) and two linebridged servers,
# pbx-a and pbx-b (the image from the .deb of deploy_package), on one store.
# The first admin is made on pbx-a (--bootstrap_admin, into PostgreSQL); a
# user and her token are issued through pbx-a with this build's linectl over
# TLS; both tokens work on pbx-b at once (one store, no restart). Then `down`
# and everything the run made is removed (project, containers, network,
# volumes, images). Run as root.
#   LINEBRIDGE_PACKAGE_DIR   where deploy_package left linebridge_*.deb
#   LINEBRIDGE_BIN_DIR       this build's bin/ (linectl)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$here/../.."
pkgdir="${LINEBRIDGE_PACKAGE_DIR:?}"
linectl="${LINEBRIDGE_BIN_DIR:?}/linectl"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (podman)"
for t in podman runc podman-compose openssl python3; do
  command -v "$t" >/dev/null || fail "$t not installed (scripts/bootstrap.sh --test)"
done
[ -x "$linectl" ] || fail "$linectl not built"
[ -x /usr/lib/cni/dnsname ] || [ -x /usr/libexec/cni/dnsname ] ||
  fail "the CNI dnsname plugin is not installed (golang-github-containernetworking-plugin-dnsname; scripts/bootstrap.sh --test): services cannot find each other by name"

. "$repo/deploy/container/podman-env.sh"
# shellcheck source=tests/deploy/test_certs.sh
. "$repo/tests/deploy/test_certs.sh"
project="linebridge-pgcomposetest-$$"
export LINEBRIDGE_IMAGE="localhost/linebridge-pgcomposetest:$$"
export LINEBRIDGE_POSTGRES_IMAGE="localhost/linebridge-pgcomposetest-postgres:$$"
tmp=$(mktemp -d)
export LINEBRIDGE_TLS_DIR="$tmp/tls"
export LINEBRIDGE_PG_PASSWORD_FILE="$tmp/pg-password"
compose() { timeout 300 podman-compose -f "$repo/deploy/compose.postgres.yaml" -p "$project" "$@"; }
cleanup() {
  compose down -t 5 >>"$tmp/compose.log" 2>&1 || true
  local label="label=io.podman.compose.project=$project" c
  for c in $(timeout 30 podman ps -a -q --filter "$label" 2>/dev/null); do
    timeout 60 podman rm -f -v -t 0 "$c" >/dev/null 2>&1 || true
  done
  timeout 60 podman network rm -f "${project}_default" >/dev/null 2>&1 || true
  for c in $(timeout 30 podman volume ls -q --filter "$label" 2>/dev/null); do
    timeout 60 podman volume rm -f "$c" >/dev/null 2>&1 || true
  done
  timeout 60 podman volume rm -f "${project}_postgres-data" "${project}_pbx-a-data" \
    "${project}_pbx-b-data" >/dev/null 2>&1 || true
  timeout 60 podman rmi -f "$LINEBRIDGE_IMAGE" "$LINEBRIDGE_POSTGRES_IMAGE" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
LINEBRIDGE_GRPC_PORT_A=$(free_port)
LINEBRIDGE_GRPC_PORT_B=$(free_port)
export LINEBRIDGE_GRPC_PORT_A LINEBRIDGE_GRPC_PORT_B

start=$SECONDS
timeout 600 "$repo/deploy/container/build-image.sh" "$pkgdir" "$LINEBRIDGE_IMAGE" || fail "build-image.sh"
timeout 600 podman build --quiet --pull=never --layers=false -t "$LINEBRIDGE_POSTGRES_IMAGE" \
  -f "$repo/deploy/container/Containerfile.postgres" "$repo/deploy/container" >"$tmp/build.log" 2>&1 ||
  { tail -n 30 "$tmp/build.log"; fail "building the PostgreSQL image"; }
echo "ok: images built in $((SECONDS - start)) s"

# One certificate for both servers (127.0.0.1, localhost), readable by the
# image's user (uid 10001); the database password, readable by the
# containers' users.
mkdir -p "$LINEBRIDGE_TLS_DIR" "$tmp/client"
make_server_cert "$tmp/client" "$LINEBRIDGE_TLS_DIR/tls.key" "$LINEBRIDGE_TLS_DIR/tls.crt" \
  localhost DNS:localhost IP:127.0.0.1 || fail "openssl"
chown 10001:10001 "$LINEBRIDGE_TLS_DIR"/tls.*
chmod 0400 "$LINEBRIDGE_TLS_DIR/tls.key"
chmod 0755 "$LINEBRIDGE_TLS_DIR"
openssl rand -hex 16 >"$LINEBRIDGE_PG_PASSWORD_FILE"
chmod 0644 "$LINEBRIDGE_PG_PASSWORD_FILE"

start=$SECONDS
compose up -d >"$tmp/compose.log" 2>&1 || { tail -n 40 "$tmp/compose.log"; fail "podman-compose up"; }
echo "ok: podman-compose up (project $project) in $((SECONDS - start)) s"

logs() {
  local c
  for c in $(timeout 30 podman ps -a -q --filter "label=io.podman.compose.project=$project"); do
    timeout 30 podman logs "$c" 2>&1 | tail -n 15 >&2
  done
}
container() {  # service -> the id of its running container
  timeout 30 podman ps -q --filter "label=io.podman.compose.project=$project" \
    --filter "label=com.docker.compose.service=$1" --filter status=running | head -n 1
}
ctl() {  # A|B args...
  local port=$LINEBRIDGE_GRPC_PORT_A
  [ "$1" = B ] && port=$LINEBRIDGE_GRPC_PORT_B
  shift
  timeout 20 "$linectl" --server "127.0.0.1:$port" --tls-ca "$tmp/client/ca.pem" --timeout 3s "$@"
}
until_ok() {  # command... (up to ~60 s: the servers wait for PostgreSQL's first start)
  for _ in $(seq 300); do
    if "$@" >"$tmp/out" 2>&1; then return 0; fi
    sleep 0.2
  done
  cat "$tmp/out" >&2
  return 1
}

# The first admin, made on pbx-a once it runs (it has migrated the schema).
start=$SECONDS
a_healthy() {
  a=$(container pbx-a)
  [ -n "$a" ] && timeout 10 podman exec "$a" linectl --server 127.0.0.1:50052 --timeout 2s health
}
until_ok a_healthy || { logs; fail "pbx-a did not report SERVING"; }
a=$(container pbx-a)
timeout 30 podman exec "$a" linebridged --config /etc/linebridge/linebridged.textproto \
  --bootstrap_admin ops >"$tmp/client/ops.token" 2>"$tmp/bootstrap.log" ||
  { cat "$tmp/bootstrap.log"; logs; fail "--bootstrap_admin on pbx-a"; }
chmod 600 "$tmp/client/ops.token"
grep -q '^lb1\.' "$tmp/client/ops.token" || fail "no token printed"
echo "ok: pbx-a up, first admin made on it in $((SECONDS - start)) s"

# A user and her token, issued through pbx-a.
start=$SECONDS
until_ok ctl A --token-file "$tmp/client/ops.token" principal add alice ||
  { logs; fail "principal add through pbx-a"; }
ctl A --token-file "$tmp/client/ops.token" assign alice office-a/201 --control ||
  fail "assign through pbx-a"
ctl A --token-file "$tmp/client/ops.token" token issue --principal alice \
  >"$tmp/client/alice.token" 2>"$tmp/issue.log" || { cat "$tmp/issue.log"; fail "token issue through pbx-a"; }
chmod 600 "$tmp/client/alice.token"

# Both tokens on pbx-b: the admin lists pbx-b's own line, alice sees pbx-b's
# view of her assignment (a line pbx-b does not have is not listed).
until_ok ctl B --token-file "$tmp/client/ops.token" lines || { logs; fail "the admin token on pbx-b"; }
grep -q "Reception b" "$tmp/out" || { cat "$tmp/out"; fail "pbx-b's line not listed"; }
until_ok ctl B --token-file "$tmp/client/alice.token" whoami ||
  { logs; fail "alice's token (issued on pbx-a) on pbx-b"; }
grep -q alice "$tmp/out" || { cat "$tmp/out"; fail "whoami on pbx-b does not name alice"; }
grep -q "office-a/201" "$tmp/out" || { cat "$tmp/out"; fail "alice's line not shared with pbx-b"; }
echo "ok: tokens issued on pbx-a work on pbx-b in $((SECONDS - start)) s"

start=$SECONDS
compose down -t 10 >>"$tmp/compose.log" 2>&1 || { tail -n 20 "$tmp/compose.log"; fail "podman-compose down"; }
left=$(timeout 30 podman ps -a -q --filter "label=io.podman.compose.project=$project" | wc -l)
[ "$left" = 0 ] || fail "$left containers left after down"
echo "ok: podman-compose down in $((SECONDS - start)) s"
