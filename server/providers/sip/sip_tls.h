// TLS (SIPS) for the SIP provider: the `tls` block's validation, the files
// sofia-sip's transport reads its certificates from, and the TLS failures it
// logs, kept so a line can say why it is out of service.
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "config/provider_config_hooks.h"
#include "linebridge/v1/config.pb.h"

namespace linebridge::sip {

// The account speaks TLS: transport SIP_TRANSPORT_TLS or a sips: uri.
bool UsesTls(const v1::config::SipAccount& account);
bool IsSipsUri(const std::string& uri);
// verify_server, true unless set false.
bool VerifiesServer(const v1::config::SipTls& tls);

// Checks `sip.tls` (files readable and PEM, key matching the certificate)
// and the accounts' TLS settings; reports through `error`.
void ValidateSipTls(const v1::config::SipConfig& sip, const std::string& path,
                    const ConfigErrorFn& error);

// A server's address for requests from `account`: "sips:<hostport>" for a
// sips: account, else "sip:<hostport>;transport=udp|tcp|tls".
std::string ServerUri(const v1::config::SipAccount& account, const std::string& hostport);

// The address a TLS account sends a request to: a sips: uri as it is; a
// sip: uri of a sips: account made sips:; any other sip: uri without a
// transport parameter gets ;transport=tls.
std::string TlsTarget(const std::string& uri, bool sips_account);

// sofia-sip's transport reads its certificates from one directory
// (agent.pem: certificate and key; cafile.pem: the authorities) when the
// agent is created. This builds such a directory (mode 0700, files 0600)
// from the configured files; the caller removes it with RemoveTlsDir() as
// soon as the agent exists, so the key's copy lives only for that moment.
absl::StatusOr<std::string> MakeTlsDir(const v1::config::SipTls& tls);
void RemoveTlsDir(const std::string& dir);

// What nua_create needs for `account`: for a TLS account, the certificate
// directory (RemoveTlsDir() it once the agent exists) and the verify policy
// (tport_tag.h's TPTLS_VERIFY_*); also starts CaptureTlsLog().
struct TlsSetup {
  bool on = false;
  std::string dir;
  unsigned policy = 0;
};
absl::StatusOr<TlsSetup> PrepareTls(const v1::config::SipAccount& account,
                                    const v1::config::SipTls& tls);

// Routes sofia-sip's transport log into linebridged's log and remembers the
// last TLS failure it reported (untrusted or misnamed certificate, failed
// handshake). Idempotent; any thread.
void CaptureTlsLog();
// The TLS failure reported since the last call ("" if none), cleared.
std::string TakeTlsFailure();
// `fn` runs (on the thread where sofia-sip reported it, inside sofia-sip:
// post the work elsewhere) after each TLS failure is noted. A connection that
// fails its handshake fails none of sofia's transactions (they time out after
// 32 s), so this is how an agent learns of it at once.
int AddTlsFailureListener(std::function<void()> fn);
void RemoveTlsFailureListener(int id);

}  // namespace linebridge::sip
