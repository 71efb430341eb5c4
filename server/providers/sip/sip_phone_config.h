// Phone lines' part of the SIP provider's configuration (SipPhone in
// config.proto): defaults and validation, called by sip_config.cc.
#pragma once

#include <string>
#include <vector>

#include "config/provider_config_hooks.h"
#include "linebridge/v1/config.pb.h"

namespace linebridge::sip {

inline constexpr uint32_t kDefaultSubscribeExpiryS = 600;
inline constexpr uint32_t kDefaultAnswerTimeoutS = 20;
inline constexpr uint32_t kDefaultPbxTimeoutMs = 2000;

void ApplySipPhoneDefaults(v1::config::SipConfig* sip);

// Reports every problem of sip.phones through `error` (fields under `path`).
void ValidateSipPhones(const v1::config::SipConfig& sip, const std::string& path,
                       const ConfigErrorFn& error);

// Where a phone's SUBSCRIBE goes ("host[:port]"): presence_server, else the
// control account's outbound proxy, else its registrar, else the host of the
// phone's URI.
// The pbx_control block: kamailio_jsonrpc an ipv4:port, timeout_ms in
// [100, 10000].
void ValidateSipPbxControl(const v1::config::SipConfig& sip, const std::string& path,
                           const ConfigErrorFn& error);

std::string PresenceServerOf(const v1::config::SipPhone& phone,
                             const v1::config::SipAccount& control);

}  // namespace linebridge::sip
