#!/usr/bin/env bash
# The Kubernetes manifests: deploy/k8s/tools/validate.mjs renders the base
# and every overlay (the kustomize subset it documents) and validates each
# resource against the API schemas (kubernetes-models) and the pod policies;
# then each manifest in tests/deploy/k8s-invalid must fail, for its reason.
# The tool is copied into WORK_DIR and installed there with `npm ci` from its
# lockfile (kept while the lockfile is unchanged, so later runs need no
# network).
# With LINEBRIDGE_BIN_DIR set, the configuration in each rendered ConfigMap
# must pass that linebridged's --check_config.
#   k8s_test.sh K8S_DIR WORK_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
k8s=$1 work=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
for t in node npm; do
  command -v "$t" >/dev/null || fail "$t is needed (scripts/bootstrap.sh --test installs node and npm)"
done

start=$SECONDS
mkdir -p "$work"
for f in package.json package-lock.json; do
  if ! cmp -s "$k8s/tools/$f" "$work/$f"; then
    cp "$k8s/tools/$f" "$work/$f"
    rm -rf "$work/node_modules"  # the lockfile changed: install again
  fi
done
cp "$k8s/tools/validate.mjs" "$work/"
if [ ! -d "$work/node_modules" ]; then
  (cd "$work" && timeout 240 npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci"
fi
echo "ok: validator ready in $((SECONDS - start)) s"

start=$SECONDS
dirs=("$k8s/base")
for d in "$k8s"/overlays/*/; do dirs+=("${d%/}"); done
[ ${#dirs[@]} -ge 3 ] || fail "expected the base and at least two overlays, found ${dirs[*]}"
timeout 60 node "$work/validate.mjs" "${dirs[@]}" || fail "the manifests do not validate"

# linebridged's configuration in every rendered ConfigMap passes
# --check_config of this build's daemon (TLS paths replaced by test files).
if [ -n "${LINEBRIDGE_BIN_DIR:-}" ]; then
  daemon="$LINEBRIDGE_BIN_DIR/linebridged"
  [ -x "$daemon" ] || fail "$daemon not built"
  command -v openssl >/dev/null || fail "openssl not installed"
  cfg=$(mktemp -d)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=linebridged" -keyout "$cfg/tls.key" -out "$cfg/tls.crt" >"$cfg/openssl.log" 2>&1 ||
    { cat "$cfg/openssl.log"; fail "openssl"; }
  for d in "${dirs[@]}"; do
    out="$cfg/$(basename "$d")"
    mkdir -p "$out"
    timeout 60 node "$work/validate.mjs" --print "$d" 2>/dev/null >"$out/rendered.yaml"
    # shellcheck disable=SC2016  # JavaScript template strings, not shell
    NODE_PATH="$work/node_modules" timeout 60 node -e '
      const fs = require("fs"), yaml = require("js-yaml");
      const [file, out] = process.argv.slice(1);
      let n = 0;
      for (const d of yaml.loadAll(fs.readFileSync(file, "utf8"))) {
        if (d && d.kind === "ConfigMap" && d.data && d.data["linebridged.textproto"]) {
          fs.writeFileSync(`${out}/${d.metadata.name}.textproto`, d.data["linebridged.textproto"]);
          n++;
        }
      }
      if (!n) { console.error("no linebridged.textproto in any ConfigMap"); process.exit(1); }
    ' "$out/rendered.yaml" "$out" || fail "$d: extracting the configuration"
    for f in "$out"/*.textproto; do
      timeout 30 "$daemon" --config "$f" --check_config --tls_cert "$cfg/tls.crt" --tls_key "$cfg/tls.key" \
        --tls_client_ca "$cfg/tls.crt" >"$cfg/check.log" 2>&1 ||
        { cat "$cfg/check.log"; rm -rf "$cfg"; fail "$d: $(basename "$f"): linebridged --check_config"; }
      echo "ok: $(basename "$d")/$(basename "$f"): linebridged --check_config"
    done
  done
  rm -rf "$cfg"
fi

# Each broken manifest must fail, with its reason.
declare -A expect=(
  [replicas-not-integer]="spec/replicas must be integer"
  [unknown-field]="unknown field spec.template.spec.containers[0].securityContxt"
  [privileged]="container linebridged: privileged"
  [writable-root]="readOnlyRootFilesystem is not true"
  [http-probe]="livenessProbe is httpGet, not grpc"
  [host-path]="hostPath /etc (type Directory) is neither a serial device"
)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for d in "$here"/k8s-invalid/*/; do
  name=$(basename "$d")
  [ -n "${expect[$name]:-}" ] || fail "k8s-invalid/$name: no expected failure listed in this test"
  rc=0
  timeout 60 node "$work/validate.mjs" "$d" 2>"$tmp/err" || rc=$?
  [ "$rc" = 1 ] || { cat "$tmp/err"; fail "k8s-invalid/$name: exit $rc, expected 1"; }
  grep -qF -- "${expect[$name]}" "$tmp/err" ||
    { cat "$tmp/err"; fail "k8s-invalid/$name: failed, but not for \"${expect[$name]}\""; }
  echo "ok: k8s-invalid/$name refused: $(head -n1 "$tmp/err")"
  n=$((n + 1))
done
[ "$n" = "${#expect[@]}" ] || fail "ran $n of ${#expect[@]} broken manifests"
echo "ok: ${#dirs[@]} kustomizations valid, $n broken manifests refused in $((SECONDS - start)) s"
