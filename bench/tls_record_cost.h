// What TLS record protection alone costs a unary call: two OpenSSL endpoints
// joined by memory BIOs (gRPC's TLS frame protector works the same way:
// SSL_write/SSL_read against memory BIOs, the socket I/O is separate), one
// request record and one response record per round, timed on one thread.
#pragma once

#include <string>

namespace linebridge::bench {

struct RecordCost {
  std::string version;     // negotiated, e.g. "TLSv1.3"
  std::string cipher;      // negotiated, e.g. "TLS_AES_128_GCM_SHA256"
  double round_p50_us = 0;  // protect + unprotect of both records
};

// `tls13_suites`: an OpenSSL TLS 1.3 cipher-suite list; `tls12_ciphers` a
// TLS 1.2 cipher list (used when `tls12` is true, which pins TLS 1.2).
// Returns false with `error` set if the handshake or a record fails.
bool MeasureRecordCost(const std::string& cert_file, const std::string& key_file, bool tls12,
                       const std::string& suites, int request_bytes, int response_bytes,
                       int rounds, RecordCost* out, std::string* error);

}  // namespace linebridge::bench
