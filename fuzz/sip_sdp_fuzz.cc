// The SIP provider's SDP reader (ParseSdpAudio, providers/sip/sip_mapping.h):
// any body either has no usable audio stream or yields an RTP destination
// the user agent can send to — an address of address characters only, a
// port in range, a G.711 payload type or none — and the SDP the agent
// writes for that destination reads back as the same destination.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "fuzz/fuzz_check.h"
#include "providers/sip/sip_mapping.h"

namespace sip = linebridge::sip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  sip::SdpAudio audio;
  if (!sip::ParseSdpAudio(body, &audio)) return 0;
  FUZZ_CHECK(!audio.address.empty() && audio.address.size() <= 255, "address length");
  for (const char c : audio.address) {
    FUZZ_CHECK(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ':' ||
                   c == '-' || c == '_',
               "address holds a character no address has");
  }
  FUZZ_CHECK(audio.port >= 0 && audio.port <= 65535, "port out of range");
  FUZZ_CHECK(audio.payload_type == -1 || audio.payload_type == 0 || audio.payload_type == 8,
             "payload type is not G.711");
  if (audio.port == 0) return 0;
  sip::SdpAudio again;
  FUZZ_CHECK(sip::ParseSdpAudio(sip::LocalSdp(audio.address, audio.port), &again),
             "own SDP does not read back");
  FUZZ_CHECK(again.address == audio.address && again.port == audio.port,
             "own SDP reads back as another destination");
  return 0;
}
