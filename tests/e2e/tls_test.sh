#!/usr/bin/env bash
# Transport security with the real binaries: linebridged serves TLS (and mutual
# TLS) with certificates made here by openssl, linectl connects with --tls-ca
# (and a client certificate) and fails in one line without; a plaintext
# listener off loopback is refused unless the config allows it (with a warning).
source "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || fail "the openssl command line tool is not installed (scripts/bootstrap.sh installs it)"

# --- certificates: a CA, a server certificate for localhost/127.0.0.1, a client
P="$E2E_TMP/pki"
mkdir -p "$P"
ossl() { openssl "$@" >>"$P/openssl.log" 2>&1 || fail "openssl $1 failed: $(tail -n 5 "$P/openssl.log")"; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=e2e test CA" -keyout "$P/ca.key" -out "$P/ca.pem" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
leaf() {  # leaf NAME CN SAN
  ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$2" \
    -keyout "$P/$1.key" -out "$P/$1.csr"
  printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n%s\n' "$3" >"$P/$1.ext"
  ossl x509 -req -in "$P/$1.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial -days 2 \
    -extfile "$P/$1.ext" -out "$P/$1.pem"
}
leaf server localhost "subjectAltName=DNS:localhost,IP:127.0.0.1"
leaf client linectl-e2e ""
pass "certificates made with openssl"

# Off plaintext loopback every call needs credentials: the first admin's token
# comes from linebridged itself (docs/security.md).
"$BIN/linebridged" --data_dir "$E2E_TMP/data" --bootstrap_admin ops >"$E2E_TMP/token" \
  2>"$E2E_TMP/bootstrap.log" || fail "--bootstrap_admin: $(cat "$E2E_TMP/bootstrap.log")"
export LINEBRIDGE_TOKEN_FILE="$E2E_TMP/token"

# --- TLS ---------------------------------------------------------------------
start_daemon 127.0.0.1:0 --tls_cert "$P/server.pem" --tls_key "$P/server.key"
grep -q "tls: certificate $P/server.pem" "$E2E_TMP/daemon.log" || fail "no tls line in the log"
ctl --tls-ca "$P/ca.pem" lines | has '^sim/100 ' || fail "linectl --tls-ca lines"
LINEBRIDGE_TLS_CA="$P/ca.pem" ctl lines | has '^sim/100 ' || fail "LINEBRIDGE_TLS_CA"
pass "linectl --tls-ca (and LINEBRIDGE_TLS_CA) lists lines over TLS"

for flags in "" "--tls"; do
  # shellcheck disable=SC2086
  expect_fail 1 "$E2E_TMP/err" "$BIN/linectl" --timeout 3s $flags lines
  cat "$E2E_TMP/err"
  [ "$(wc -l <"$E2E_TMP/err")" -eq 1 ] || fail "want one line of error for '$flags': $(cat "$E2E_TMP/err")"
  grep -q '^linectl: .*UNAVAILABLE' "$E2E_TMP/err" || fail "error line for '$flags' is not UNAVAILABLE"
  [ ! -s "$E2E_TMP/err.stdout" ] || fail "output on stdout for '$flags'"
done
pass "without the CA (plaintext, or system roots) linectl fails with exit 1 and one line"

expect_fail 1 "$E2E_TMP/err" "$BIN/linectl" --tls-ca "$P/nope.pem" lines
grep -q "^linectl: cannot read TLS CA file $P/nope.pem: No such file or directory" "$E2E_TMP/err" \
  || fail "unreadable CA file: $(cat "$E2E_TMP/err")"
expect_fail 2 "$E2E_TMP/err" "$BIN/linectl" --tls-cert "$P/client.pem" lines
grep -q "^linectl: --tls-cert needs --tls-key" "$E2E_TMP/err" || fail "$(cat "$E2E_TMP/err")"
pass "unreadable TLS files and half a client certificate are reported"
stop_daemon

# --- mutual TLS --------------------------------------------------------------
cat >"$E2E_TMP/mtls.textproto" <<EOF
tls {
  cert_file: "$P/server.pem"
  key_file: "$P/server.key"
  client_ca_file: "$P/ca.pem"
  require_client_cert: true
}
auth { admin_principals: "linectl-e2e" }
EOF
start_daemon 127.0.0.1:0 --config "$E2E_TMP/mtls.textproto"
expect_fail 1 "$E2E_TMP/err" "$BIN/linectl" --timeout 3s --tls-ca "$P/ca.pem" lines
[ "$(wc -l <"$E2E_TMP/err")" -eq 1 ] || fail "want one line: $(cat "$E2E_TMP/err")"
LINEBRIDGE_TOKEN_FILE= ctl --tls-ca "$P/ca.pem" --tls-cert "$P/client.pem" --tls-key "$P/client.key" lines \
  | has '^sim/100 ' || fail "mutual TLS with a client certificate"
pass "mutual TLS: refused without a client certificate, works with one"
stop_daemon

# --- the loopback rule ---------------------------------------------------------
expect_fail 2 "$E2E_TMP/err" "$BIN/linebridged" --listen 0.0.0.0:0 --data_dir "$E2E_TMP/d"
cat "$E2E_TMP/err"
grep -q 'flags:0: listen: plaintext (no tls) listener on non-loopback address "0.0.0.0:0" refused' \
  "$E2E_TMP/err" || fail "refusal does not name listen"
grep -q 'allow_insecure_non_loopback' "$E2E_TMP/err" || fail "refusal does not name the override"
expect_fail 2 "$E2E_TMP/err" "$BIN/linebridged" --listen '[::]:0' --check_config
pass "plaintext on 0.0.0.0 / [::] exits 2 naming listen and allow_insecure_non_loopback"

"$BIN/linebridged" --listen 0.0.0.0:0 --tls_cert "$P/server.pem" --tls_key "$P/server.key" \
  --check_config >/dev/null || fail "TLS on 0.0.0.0 rejected"
expect_fail 2 "$E2E_TMP/err" "$BIN/linebridged" --tls_cert "$P/server.pem" --check_config
grep -q 'flags:0: tls.cert_file: set without tls.key_file' "$E2E_TMP/err" || fail "$(cat "$E2E_TMP/err")"
pass "TLS on 0.0.0.0 is fine; --tls_cert without --tls_key is not"

printf 'allow_insecure_non_loopback: true\n' >"$E2E_TMP/insecure.textproto"
start_daemon 0.0.0.0:0 --config "$E2E_TMP/insecure.textproto"
grep -q 'WARNING: INSECURE: serving PLAINTEXT gRPC (no TLS) on non-loopback address 0.0.0.0:0' \
  "$E2E_TMP/daemon.log" || fail "no warning in the log: $(cat "$E2E_TMP/daemon.log")"
ctl lines | has '^sim/100 ' || fail "allowed plaintext listener does not serve"
pass "allow_insecure_non_loopback starts with a loud warning"
