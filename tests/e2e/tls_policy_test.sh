#!/usr/bin/env bash
# What a TLS listener of linebridged accepts, seen from a real TLS client
# (openssl s_client): TLS 1.3 by default, TLS 1.2 only with ECDHE and an AEAD
# cipher (AES-GCM), nothing older or weaker. security_bench times these suites
# (docs/benchmarks.md), so the suites it reports are the ones served.
source "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || fail "the openssl command line tool is not installed (scripts/bootstrap.sh installs it)"

P="$E2E_TMP/pki"
mkdir -p "$P"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$P/server.key" -out "$P/server.pem" >"$P/openssl.log" 2>&1 \
  || fail "openssl req: $(tail -n 5 "$P/openssl.log")"

start_daemon 127.0.0.1:0 --tls_cert "$P/server.pem" --tls_key "$P/server.key"

# handshake ARGS...: "PROTOCOL CIPHER" negotiated by s_client with ARGS, or
# "(NONE) (NONE)" when the server refuses. Bounded by timeout.
handshake() {
  local out
  out=$(timeout 10 openssl s_client -connect "$LINEBRIDGE_SERVER" -servername localhost \
    -alpn h2 -CAfile "$P/server.pem" "$@" </dev/null 2>&1 | tr -d '\000' || true)
  local line
  line=$(printf '%s\n' "$out" | grep -a -m1 '^New, ' || true)
  [ -n "$line" ] || fail "no handshake summary from s_client $*: $(printf '%s\n' "$out" | tail -n 3)"
  # "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384" / "New, (NONE), Cipher is (NONE)"
  printf '%s\n' "$line" | sed -E 's/^New, ([^,]+), Cipher is (.*)$/\1 \2/'
}

got=$(handshake)
[[ "$got" =~ ^TLSv1\.3\ TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$ ]] \
  || fail "default handshake: $got, want TLS 1.3 with an AEAD suite"
pass "a default client gets $got"

got=$(handshake -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256)
[ "$got" = "TLSv1.3 TLS_AES_128_GCM_SHA256" ] || fail "TLS 1.3 AES-128-GCM: $got"
pass "TLS 1.3 with AES-128-GCM (gRPC's first choice) is served"

got=$(handshake -tls1_2)
[[ "$got" =~ ^TLSv1\.2\ ECDHE-ECDSA-AES(128|256)-GCM-SHA(256|384)$ ]] \
  || fail "TLS 1.2 handshake: $got, want ECDHE with AES-GCM"
pass "a TLS 1.2 client gets $got"

# Refused: every non-AEAD (CBC) TLS 1.2 suite the key could use, and anything
# before TLS 1.2 (the client's own floor lowered so only the server decides).
for args in "-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA" \
            "-tls1_2 -cipher ECDHE-ECDSA-AES256-SHA" \
            "-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256" \
            "-tls1_2 -cipher ECDHE-ECDSA-AES256-SHA384" \
            "-tls1_1 -cipher DEFAULT@SECLEVEL=0" \
            "-tls1 -cipher DEFAULT@SECLEVEL=0"; do
  # shellcheck disable=SC2086
  got=$(handshake $args)
  [ "$got" = "(NONE) (NONE)" ] || fail "s_client $args was served: $got"
done
pass "CBC suites and TLS 1.0/1.1 are refused"

stop_daemon

# GRPC_SSL_CIPHER_SUITES (gRPC's own variable) may narrow the list...
GRPC_SSL_CIPHER_SUITES="TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256" \
  start_daemon 127.0.0.1:0 --tls_cert "$P/server.pem" --tls_key "$P/server.key"
grep -q "tls: cipher suites restricted by GRPC_SSL_CIPHER_SUITES to TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256" \
  "$E2E_TMP/daemon.log" || fail "no log line for the restricted cipher list"
got=$(handshake -tls1_2)
[ "$got" = "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256" ] || fail "narrowed TLS 1.2: $got"
got=$(handshake -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384)
[ "$got" = "(NONE) (NONE)" ] || fail "a suite left out of GRPC_SSL_CIPHER_SUITES was served: $got"
pass "GRPC_SSL_CIPHER_SUITES narrows the TLS 1.2 suites"
stop_daemon

# ...but never widen it: a CBC suite in it stops the daemon, naming it.
status=0
GRPC_SSL_CIPHER_SUITES="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA" \
  timeout 20 "$BIN/linebridged" --listen 127.0.0.1:0 --data_dir "$E2E_TMP/data" \
  --tls_cert "$P/server.pem" --tls_key "$P/server.key" >"$E2E_TMP/weak.log" 2>&1 || status=$?
[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "linebridged started (status $status) with a CBC suite allowed"
grep -q 'GRPC_SSL_CIPHER_SUITES: "ECDHE-ECDSA-AES128-SHA" is not an AEAD cipher suite' "$E2E_TMP/weak.log" \
  || fail "the refusal does not name the suite: $(tail -n 3 "$E2E_TMP/weak.log")"
pass "a non-AEAD suite in GRPC_SSL_CIPHER_SUITES stops linebridged (exit $status): $(grep -o 'GRPC_SSL_CIPHER_SUITES: "[^"]*"' "$E2E_TMP/weak.log")"
