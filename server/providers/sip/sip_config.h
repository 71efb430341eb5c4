// The SIP provider's configuration block (SipConfig in config.proto):
// defaults, validation and the account password, registered with the config
// loader through RegisterSipProvider (providers/builtin.cc).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "config/provider_config_hooks.h"
#include "linebridge/v1/config.pb.h"

namespace linebridge::sip {

inline constexpr char kDefaultSipName[] = "sip";
inline constexpr char kDefaultSipBindAddress[] = "127.0.0.1";
inline constexpr uint32_t kDefaultRegisterExpiryS = 600;
inline constexpr uint32_t kDefaultRegisterRetryS = 30;

void ApplySipDefaults(v1::config::SipConfig* sip);

// Reports every problem through `error`; returns the instance name.
std::string ValidateSipConfig(const v1::config::SipConfig& sip, const std::string& path,
                              const ConfigErrorFn& error);

// The hooks registered for ProviderConfig.sip.
ProviderConfigHooks SipConfigHooks();

// The account's password: the first line of password_file, or the value of
// password_env; "" when the account has no credentials. The error never
// contains the password.
absl::StatusOr<std::string> ReadAccountPassword(const v1::config::SipAccount& account);

// "host" and "port" of "host[:port]" (IPv6 as [::1]:port); false if malformed.
bool SplitSipHostPort(const std::string& hostport, std::string* host, uint32_t* port);

}  // namespace linebridge::sip
