#!/usr/bin/env bash
# deploy/compose.yaml with podman-compose: linebridged (the image from
# deploy/container, made from the .deb of deploy_package) and Prometheus (its
# image built from deploy/container/Containerfile.prometheus). Waits, by
# polling Prometheus' HTTP API on 127.0.0.1, until the linebridged target is
# up and linebridge_* series are stored, then `down` and removes everything
# the run made (project, containers, network, volumes, images). Run as root.
#   LINEBRIDGE_PACKAGE_DIR   where deploy_package left linebridge_*.deb
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$here/../.."
pkgdir="${LINEBRIDGE_PACKAGE_DIR:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (podman)"
for t in podman runc podman-compose openssl python3; do
  command -v "$t" >/dev/null || fail "$t not installed (scripts/bootstrap.sh --test)"
done
[ -x /usr/lib/cni/dnsname ] || [ -x /usr/libexec/cni/dnsname ] ||
  fail "the CNI dnsname plugin is not installed (golang-github-containernetworking-plugin-dnsname; scripts/bootstrap.sh --test): services cannot find each other by name"

. "$repo/deploy/container/podman-env.sh"
# shellcheck source=tests/deploy/test_certs.sh
. "$repo/tests/deploy/test_certs.sh"
project="linebridge-composetest-$$"
export LINEBRIDGE_IMAGE="localhost/linebridge-composetest:$$"
export LINEBRIDGE_PROMETHEUS_IMAGE="localhost/linebridge-composetest-prometheus:$$"
tmp=$(mktemp -d)
export LINEBRIDGE_TLS_DIR="$tmp/tls"
compose() { timeout 300 podman-compose -f "$repo/deploy/compose.yaml" -p "$project" "$@"; }
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
  timeout 60 podman volume rm -f "${project}_linebridge-data" "${project}_prometheus-data" >/dev/null 2>&1 || true
  timeout 60 podman rmi -f "$LINEBRIDGE_IMAGE" "$LINEBRIDGE_PROMETHEUS_IMAGE" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
LINEBRIDGE_GRPC_PORT=$(free_port)
LINEBRIDGE_PROMETHEUS_PORT=$(free_port)
export LINEBRIDGE_GRPC_PORT LINEBRIDGE_PROMETHEUS_PORT

start=$SECONDS
timeout 600 "$repo/deploy/container/build-image.sh" "$pkgdir" "$LINEBRIDGE_IMAGE" || fail "build-image.sh"
timeout 600 podman build --quiet --pull=never -t "$LINEBRIDGE_PROMETHEUS_IMAGE" \
  -f "$repo/deploy/container/Containerfile.prometheus" "$repo/deploy/container" >"$tmp/build.log" 2>&1 ||
  { tail -n 30 "$tmp/build.log"; fail "building the Prometheus image"; }
echo "ok: images built in $((SECONDS - start)) s"

# The server's TLS files, for the image's default configuration.
mkdir -p "$LINEBRIDGE_TLS_DIR"
make_server_cert "$tmp" "$LINEBRIDGE_TLS_DIR/tls.key" "$LINEBRIDGE_TLS_DIR/tls.crt" linebridged \
  DNS:linebridged DNS:localhost IP:127.0.0.1 || fail "openssl"
chown 10001:10001 "$LINEBRIDGE_TLS_DIR"/tls.*
chmod 0400 "$LINEBRIDGE_TLS_DIR/tls.key"
chmod 0755 "$LINEBRIDGE_TLS_DIR"

start=$SECONDS
compose up -d >"$tmp/compose.log" 2>&1 || { tail -n 40 "$tmp/compose.log"; fail "podman-compose up"; }
echo "ok: podman-compose up (project $project) in $((SECONDS - start)) s"

# Prometheus' HTTP API: the linebridged target up, linebridge_* series stored.
query() {  # PromQL -> the JSON result list, or nothing
  python3 - "$LINEBRIDGE_PROMETHEUS_PORT" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = "http://127.0.0.1:%s/api/v1/query?query=%s" % (sys.argv[1], urllib.parse.quote(sys.argv[2]))
try:
    with urllib.request.urlopen(url, timeout=3) as r:
        body = json.load(r)
except Exception:
    sys.exit(1)
if body.get("status") != "success":
    sys.exit(1)
print(json.dumps(body["data"]["result"]))
PY
}
logs() {
  local c
  for c in $(timeout 30 podman ps -a -q --filter "label=io.podman.compose.project=$project"); do
    timeout 30 podman logs "$c" 2>&1 | tail -n 15 >&2
  done
}
start=$SECONDS
up="" series=""
for _ in $(seq 240); do
  up=$(query 'up{job="linebridged"}' || true)
  if python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if r and r[0]["value"][1]=="1" else 1)' "${up:-[]}"; then
    series=$(query 'count by (__name__) ({__name__=~"linebridge_.+"})' || true)
    if [ -n "$series" ] && [ "$series" != "[]" ]; then break; fi
  fi
  series=""
  sleep 0.5
done
if [ -z "$series" ]; then
  echo "up: $up" >&2
  python3 - "$LINEBRIDGE_PROMETHEUS_PORT" >&2 <<'PY' || true
import json, sys, urllib.request
with urllib.request.urlopen("http://127.0.0.1:%s/api/v1/targets" % sys.argv[1], timeout=3) as r:
    for t in json.load(r)["data"]["activeTargets"]:
        print("target", t["scrapeUrl"], t["health"], t.get("lastError", ""))
PY
  logs
  fail "Prometheus did not report linebridged up with linebridge_* series within ~2 min"
fi
names=$(python3 -c 'import json,sys; print(" ".join(sorted(r["metric"]["__name__"] for r in json.loads(sys.argv[1]))))' "$series")
echo "ok: Prometheus scrapes linebridged (up=1) in $((SECONDS - start)) s; series: $names"
case " $names " in *" linebridge_lines "*) ;; *) fail "no linebridge_lines series" ;; esac

start=$SECONDS
compose down -t 10 >>"$tmp/compose.log" 2>&1 || { tail -n 20 "$tmp/compose.log"; fail "podman-compose down"; }
left=$(timeout 30 podman ps -a -q --filter "label=io.podman.compose.project=$project" | wc -l)
[ "$left" = 0 ] || fail "$left containers left after down"
echo "ok: podman-compose down in $((SECONDS - start)) s"
