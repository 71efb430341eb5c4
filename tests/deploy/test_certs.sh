# shellcheck shell=bash
# Sourced by the container tests: a throwaway CA and a server certificate.
# make_server_cert WORKDIR KEY CRT CN SAN...: the CA in WORKDIR (ca.pem,
# ca.key), the server key and certificate (EC P-256, 2 days) at KEY and CRT,
# with the subjectAltName entries SAN... (e.g. DNS:localhost IP:127.0.0.1).
make_server_cert() {
  local dir=$1 key=$2 crt=$3 cn=$4
  shift 4
  local sans
  sans=$(IFS=,; echo "$*")
  (
    cd "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -subj "/CN=linebridge test CA" -keyout ca.key -out ca.pem \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj "/CN=$cn" -keyout "$key" -out server.csr
    printf '%s\n' "basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth" \
      "subjectAltName=$sans" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile server.ext -out "$crt"
  ) >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log"; return 1; }
}
