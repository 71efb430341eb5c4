#!/usr/bin/env bash
# The OCI image (deploy/container): built with podman from the .deb that
# deploy_package made; run the way docs/deployment.md says, with a read-only
# root filesystem, the configuration and TLS files mounted read-only, a named
# volume for the state and the gRPC port published on 127.0.0.1 only.
# Checks: without the TLS files the default configuration refuses to start;
# the first admin's token comes from `linebridged --bootstrap_admin` run in
# the container plus SIGHUP; this build's linectl on the host reaches the
# daemon over TLS through the published port and lists the lines; podman's
# health check (gRPC health service) reports healthy; a principal and the
# server id survive `podman restart` and a new container on the same volume;
# `podman stop -t 10` stops it by SIGTERM at once with exit code 0. Prints the
# image size. Removes every container, volume and image it made. Run as root.
#   LINEBRIDGE_PACKAGE_DIR   where deploy_package left linebridge_*.deb
#   LINEBRIDGE_BIN_DIR       this build's bin/ (linectl)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$here/../.."
pkgdir="${LINEBRIDGE_PACKAGE_DIR:?}"
linectl="${LINEBRIDGE_BIN_DIR:?}/linectl"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (podman)"
for t in podman runc openssl python3; do
  command -v "$t" >/dev/null || fail "$t not installed (scripts/bootstrap.sh --test)"
done
[ -x "$linectl" ] || fail "$linectl not built"

. "$repo/deploy/container/podman-env.sh"
# shellcheck source=tests/deploy/test_certs.sh
. "$repo/tests/deploy/test_certs.sh"
image="localhost/linebridge-imagetest:$$"
name="linebridge-imagetest-$$"
volume="linebridge-imagetest-$$"
tmp=$(mktemp -d)
cleanup() {
  for c in "$name" "$name-2" "$name-nosecret"; do
    timeout 60 podman rm -f -v -t 0 "$c" >/dev/null 2>&1 || true
  done
  timeout 60 podman volume rm -f "$volume" >/dev/null 2>&1 || true
  timeout 60 podman rmi -f "$image" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

start=$SECONDS
timeout 600 "$repo/deploy/container/build-image.sh" "$pkgdir" "$image" ||
  fail "build-image.sh failed"
size=$(timeout 30 podman image inspect --format '{{.Size}}' "$image")
echo "ok: image built in $((SECONDS - start)) s, $((size / 1000000)) MB ($size bytes)"
config=$(timeout 30 podman image inspect --format \
  '{{.Config.User}} {{.Config.StopSignal}} {{index .Config.Volumes "/var/lib/linebridge"}}' "$image")
case "$config" in
  "10001:10001 SIGTERM {}"|"10001:10001 15 {}") ;;
  *) fail "image user/stop signal/volume: $config" ;;
esac
timeout 30 podman image inspect --format '{{json .Config.Healthcheck}}' "$image" |
  grep -q '127.0.0.1:50052' || fail "no health check through the health port"

# Without the TLS secret the image's default configuration refuses to start.
rc=0
timeout 60 podman run --rm --name "$name-nosecret" --read-only "$image" >"$tmp/nosecret.log" 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat "$tmp/nosecret.log"; fail "started without TLS files (rc $rc)"; }
grep -q '/run/secrets/linebridge/tls' "$tmp/nosecret.log" ||
  { cat "$tmp/nosecret.log"; fail "the refusal does not name the TLS file"; }
echo "ok: refuses to start without the TLS files"
timeout 60 podman run --rm --read-only "$image" --check_config \
  --config /usr/share/doc/linebridge/examples/linebridged.insecure.textproto >"$tmp/insecure.log" 2>&1 ||
  { cat "$tmp/insecure.log"; fail "the insecure example configuration does not check"; }
echo "ok: the insecure example configuration checks"

# A CA and a server certificate for 127.0.0.1 and localhost, readable by the
# image's user (uid 10001) only.
mkdir -p "$tmp/secrets" "$tmp/client"
make_server_cert "$tmp/client" "$tmp/secrets/tls.key" "$tmp/secrets/tls.crt" localhost \
  DNS:localhost IP:127.0.0.1 || fail "openssl"
chown 10001:10001 "$tmp/secrets/tls.key" "$tmp/secrets/tls.crt"
chmod 0400 "$tmp/secrets/tls.key"
chmod 0444 "$tmp/secrets/tls.crt"
chmod 0755 "$tmp/secrets"
# The image's default configuration, mounted read-only as an operator's own.
install -m 0644 "$repo/deploy/container/linebridged.container.textproto" "$tmp/linebridged.textproto"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
timeout 60 podman volume create "$volume" >/dev/null
run_container() {  # name
  timeout 60 podman run -d --name "$1" --read-only --tmpfs /tmp:rw,size=16m,mode=1777 \
    -v "$volume:/var/lib/linebridge" \
    -v "$tmp/linebridged.textproto:/etc/linebridge/linebridged.textproto:ro" \
    -v "$tmp/secrets:/run/secrets/linebridge:ro" \
    -p "127.0.0.1:$port:50051" "$image" >/dev/null
}
ctl() { timeout 20 "$linectl" --server "127.0.0.1:$port" --tls-ca "$tmp/client/ca.pem" --timeout 3s "$@"; }
server_id() {
  ctl --token-file "$tmp/client/ops.token" --json status | grep -o '"server_id": *"[^"]*"' | head -n1 | cut -d'"' -f4
}
logs() { timeout 30 podman logs "$1" 2>&1 | tail -n 30 >&2; }
# Polls until the command succeeds (about 30 s at most); the container must stay up.
until_ok() {  # container command...
  local c=$1
  shift
  for _ in $(seq 150); do
    if "$@" >"$tmp/out" 2>&1; then return 0; fi
    [ "$(timeout 10 podman inspect --format '{{.State.Running}}' "$c")" = true ] ||
      { logs "$c"; fail "container $c exited"; }
    sleep 0.2
  done
  cat "$tmp/out" >&2
  return 1
}

start=$SECONDS
run_container "$name"
until_ok "$name" timeout 10 podman exec "$name" linectl --server 127.0.0.1:50052 --timeout 2s health ||
  { logs "$name"; fail "the health service did not answer SERVING"; }
uid=$(timeout 10 podman top "$name" huser | sed -n 2p | tr -d ' ')
[ "$uid" = 10001 ] || fail "linebridged runs as $uid, not 10001"
# Anonymous calls are refused on the TLS listener.
if ctl lines >"$tmp/anon" 2>&1; then fail "anonymous linectl lines succeeded"; fi

# The first admin: --bootstrap_admin in the container writes it to the store
# on the volume and prints its token; SIGHUP makes the daemon read it.
timeout 30 podman exec "$name" linebridged --config /etc/linebridge/linebridged.textproto \
  --bootstrap_admin ops >"$tmp/client/ops.token" 2>"$tmp/bootstrap.log" ||
  { cat "$tmp/bootstrap.log"; fail "--bootstrap_admin"; }
chmod 600 "$tmp/client/ops.token"
grep -q '^lb1\.' "$tmp/client/ops.token" || fail "no token printed"
timeout 10 podman kill --signal HUP "$name" >/dev/null
until_ok "$name" ctl --token-file "$tmp/client/ops.token" lines ||
  { logs "$name"; fail "linectl on the host did not list the lines over TLS"; }
cat "$tmp/out"
grep -q Reception "$tmp/out" || fail "line Reception not listed"
grep -q "Back Office" "$tmp/out" || fail "line Back Office not listed"
echo "ok: first admin and linectl over TLS through 127.0.0.1:$port in $((SECONDS - start)) s"

# podman runs a HEALTHCHECK on a timer where systemd runs; here it is run
# once by hand, which records the result in the container's health state.
until_ok "$name" timeout 20 podman healthcheck run "$name" || fail "podman healthcheck run"
health=$(timeout 10 podman inspect --format '{{.State.Health.Status}}' "$name" 2>/dev/null ||
  timeout 10 podman inspect --format '{{.State.Healthcheck.Status}}' "$name")
[ "$health" = healthy ] || fail "health status $health"
echo "ok: podman health status: $health"

# State on the volume survives a restart and a new container.
ctl --token-file "$tmp/client/ops.token" principal add crm --display-name "CRM connector" >/dev/null ||
  fail "principal add"
server_id=$(server_id)
[ -n "$server_id" ] || fail "no server id"
timeout 60 podman restart -t 10 "$name" >/dev/null
until_ok "$name" ctl --token-file "$tmp/client/ops.token" principal list ||
  { logs "$name"; fail "not back after podman restart"; }
grep -q crm "$tmp/out" || fail "principal lost by podman restart"

# podman stop: SIGTERM, a clean shutdown well within the 10 s grace period.
t0=$(date +%s%N)
timeout 60 podman stop -t 10 "$name" >/dev/null
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
code=$(timeout 10 podman inspect --format '{{.State.ExitCode}}' "$name")
[ "$code" = 0 ] || { logs "$name"; fail "exit code $code after podman stop"; }
# Exit code 0 means linebridged exited by itself (SIGKILL would give 137);
# linebridged itself is gone within ~0.1 s of SIGTERM; podman adds ~2 s here.
((elapsed_ms < 8000)) || fail "podman stop took $elapsed_ms ms (SIGKILL after the grace period?)"
timeout 30 podman logs "$name" >"$tmp/stop.log" 2>&1 || true
grep -q 'signal 15: shutting down' "$tmp/stop.log" ||
  { logs "$name"; fail "no SIGTERM shutdown in the log"; }
echo "ok: podman stop -t 10: SIGTERM, exit code 0 in $elapsed_ms ms"
timeout 60 podman rm -v "$name" >/dev/null

run_container "$name-2"
until_ok "$name-2" ctl --token-file "$tmp/client/ops.token" principal list ||
  { logs "$name-2"; fail "a new container on the volume does not accept the admin token"; }
grep -q crm "$tmp/out" || fail "principal lost in a new container on the same volume"
id2=$(server_id)
[ "$id2" = "$server_id" ] || fail "server id $server_id became $id2"
timeout 60 podman stop -t 10 "$name-2" >/dev/null
echo "ok: principal, token and server id $server_id kept on volume $volume"
echo "ok: image test passed; image size $((size / 1000000)) MB"
