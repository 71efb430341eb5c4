// Call media on the server: the Telephony RPCs that generate or analyse a
// call's audio without a client media stream (GenerateTone, GatherDigits,
// MonitorTones, MonitorMedia). The engine validates a request, checks the
// caller and the call, and hands it to the CallMedia the server installed
// (server/media/call_tasks.h), which runs it in the media hub.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "linebridge/v1/media.pb.h"
#include "linebridge/v1/telephony.pb.h"

namespace linebridge {

// What lines with audio can do (LineCaps fields of the same names).
inline constexpr uint32_t kGenerateToneMaxNumFreq = 2;
inline constexpr uint32_t kMonitorToneMaxNumFreq = 3;
inline constexpr uint32_t kMonitorToneMaxNumEntries = 16;
inline constexpr uint32_t kGatherMinTimeoutMs = 20;
inline constexpr uint32_t kGatherMaxTimeoutMs = 600000;
inline constexpr uint32_t kGatherMaxDigits = 64;
inline constexpr uint32_t kMonitorToneMinMs = 20;
inline constexpr uint32_t kMonitorToneMaxMs = 60000;

// Fills the media fields of a line's caps (and its addresses' call
// features) for a line whose provider carries audio.
void AddCallMediaCaps(v1::Line* line);

// The media modes MonitorMedia detects.
bool MonitorsMediaMode(v1::MediaMode mode);

// Request checks with TAPI's errors; they turn a request into what the
// media hub plays or gathers.
// Cancel (kind UNSPECIFIED): an unset kind in the result.
absl::StatusOr<v1::GenerateTone> ToneOfRequest(const v1::GenerateToneRequest& req);
absl::StatusOr<v1::GatherDigits> GatherOfRequest(const v1::GatherDigitsRequest& req);
absl::Status CheckMonitorTones(const v1::MonitorTonesRequest& req);
absl::Status CheckMonitorMedia(const v1::MonitorMediaRequest& req);

// Runs checked requests on a call that carries audio. Called without the
// engine lock; must not block. A request replaces the same session's
// running one of its kind on the call.
class CallMedia {
 public:
  virtual ~CallMedia() = default;
  virtual absl::Status GenerateTone(const std::string& call_id, const std::string& session_id,
                                    const v1::GenerateTone& tone, uint32_t end_to_end_id) = 0;
  virtual absl::Status CancelTone(const std::string& call_id, const std::string& session_id) = 0;
  virtual absl::Status GatherDigits(const std::string& call_id, const std::string& session_id,
                                    const v1::GatherDigits& rules, uint32_t end_to_end_id) = 0;
  virtual absl::Status CancelGather(const std::string& call_id, const std::string& session_id) = 0;
  // An empty list stops.
  virtual absl::Status MonitorTones(const std::string& call_id, const std::string& session_id,
                                    const v1::MonitorTonesRequest& req) = 0;
  virtual absl::Status MonitorMedia(const std::string& call_id, const std::string& session_id,
                                    const v1::MonitorMediaRequest& req) = 0;
};

}  // namespace linebridge
