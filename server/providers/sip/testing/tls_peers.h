// TLS peers for the SIP provider's tests: certificates made with the openssl
// command in the test's temp directory, and kamailio (its tls module) as a
// registrar and proxy that takes requests over TLS only.
#pragma once

#include <string>

#include "providers/sip/testing/sip_peers.h"

namespace linebridge::sip::testing {

// Files written by MakeTestCertificates() into `dir`.
struct TestCertificates {
  std::string ca;             // the authority linebridged trusts
  std::string server_cert;    // the registrar's, signed by `ca`, for 127.0.0.1
  std::string server_key;
  std::string client_cert;    // linebridged's, signed by `ca`
  std::string client_key;
  std::string rogue_cert;     // a registrar's for 127.0.0.1 from another authority
  std::string rogue_key;
  std::string misnamed_cert;  // signed by `ca`, but for "pbx.invalid" only
  std::string misnamed_key;
};
bool MakeTestCertificates(const std::string& dir, TestCertificates* out, std::string* error);

// kamailio on 127.0.0.1:`port`: TLS (with `cert`/`key`, `method` as its tls
// module spells it) for SIP, UDP only for the readiness probe (OPTIONS).
// Any user registers with `password` (digest); an INVITE goes to the
// registered contact of its request URI's user (404 if none); requests
// inside a dialog go to their request URI. Requests that did not come over
// TLS are refused 403. Waits until it answers OPTIONS.
struct KamailioTls {
  int port = 0;
  std::string password;
  std::string cert;
  std::string key;
  std::string method = "TLSv1.2+";
  // Non-empty: clients must present a certificate signed by this authority.
  std::string client_ca;
};
bool StartKamailioTls(ChildProcess& child, const KamailioTls& options, const std::string& dir,
                      std::string* error);

}  // namespace linebridge::sip::testing
