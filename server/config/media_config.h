// The `media` block of the daemon's config (docs/configuration.md#media):
// defaults and validation, called by ApplyDefaults and ValidateConfig.
#pragma once

#include <cstdint>
#include <string>

#include "config/provider_config_hooks.h"
#include "linebridge/v1/config.pb.h"

namespace linebridge {

inline constexpr char kDefaultMediaSubdir[] = "media";
inline constexpr char kDefaultRecordingsSubdir[] = "recordings";
inline constexpr uint64_t kDefaultMediaMaxFileBytes = uint64_t{16} << 20;
inline constexpr uint64_t kMinMediaMaxFileBytes = 1024;
inline constexpr uint64_t kMaxMediaMaxFileBytes = uint64_t{1} << 30;
inline constexpr uint32_t kDefaultMediaMaxRecordMs = 3600000;
inline constexpr uint32_t kMinMediaMaxRecordMs = 1000;
inline constexpr uint32_t kMaxMediaMaxRecordMs = 86400000;
inline constexpr uint32_t kDefaultMediaMaxJobs = 32;
inline constexpr uint32_t kMaxMediaMaxJobs = 1000;

// Fills unset fields; the directories default to <data_dir>/media and
// <data_dir>/recordings.
void ApplyMediaDefaults(const std::string& data_dir, v1::config::MediaConfig* media);

// Checks a block that had its defaults: errors name "media.<field>".
void ValidateMediaConfig(const v1::config::MediaConfig& media, const ConfigErrorFn& error);

}  // namespace linebridge
