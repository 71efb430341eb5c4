// Session descriptions as a third-party call controller passes them on
// (RFC 3725, RFC 3264): a phone line relays each leg's description to the
// other and, for an application's hold or resume, sends one with its media
// direction changed. The text is kept as it is apart from what is edited.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace linebridge::sip {

// `sdp` with its media direction attributes (a=sendrecv, sendonly, recvonly,
// inactive; session level or per media) replaced by one a=`direction` at
// the end of each media section. Lines end in CRLF.
std::string SdpWithDirection(absl::string_view sdp, absl::string_view direction);

// The session version of the o= line (RFC 4566 section 5.2), if readable.
std::optional<uint64_t> SdpVersion(absl::string_view sdp);

// `sdp` with the o= line's session version set to `version` (unchanged if
// it has no readable o= line).
std::string SdpWithVersion(absl::string_view sdp, uint64_t version);

// What one party was last sent. RFC 3264 section 8: a description that
// differs from the previous one carries a higher version, an unchanged one
// the same. The descriptions a controller sends one party come from the
// other party but not always unedited, so the versions it got from there
// cannot be passed on as they are: Send keeps them increasing.
class SdpVersionKeeper {
 public:
  // `sdp` as it is to be sent: with the previous version if nothing else
  // changed, else with its own version or one above the previous.
  std::string Send(absl::string_view sdp);

 private:
  bool sent_ = false;
  uint64_t version_ = 0;
  std::string content_;  // what was sent, without its o= line
};

}  // namespace linebridge::sip
