// The voice compression methods of a V.253 modem (+VSM): parsing what
// AT+VSM=? offers, choosing one the server can convert, and the command that
// selects it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace linebridge::modem::voice {

// Sample encodings the server converts to and from its 16-bit 8 kHz audio.
enum class SampleEncoding {
  kLinear16,     // 16-bit signed linear, little-endian ("16-BIT LINEAR")
  kMuLaw,        // G.711 mu-law ("8-BIT ULAW")
  kALaw,         // G.711 A-law ("8-BIT ALAW")
  kLinear8,      // 8-bit unsigned linear, 128 = silence ("8-BIT LINEAR", "UNSIGNED PCM")
};
absl::string_view EncodingName(SampleEncoding encoding);  // "linear16", "ulaw", ...
int BytesPerSample(SampleEncoding encoding);

// One method the modem lists.
struct VoiceMethod {
  int id = 0;                // <cml>, what AT+VSM=<cml>,<vsr> names
  std::string name;          // as the modem names it, without quotes
  SampleEncoding encoding = SampleEncoding::kLinear8;
  std::vector<int> rates;    // samples per second it offers
};

// The methods of an AT+VSM=? answer, one per line, with or without a
// "+VSM:" prefix, in the forms modems use:
//   128,"8-BIT LINEAR",8,0,(7200,8000,11025),(0),(0)
//   +VSM: 131,"8-BIT ULAW",(8000)
// Methods the server cannot convert (ADPCM, signed 8-bit, ...) and lines
// that do not parse are left out.
std::vector<VoiceMethod> ParseVsmMethods(const std::vector<std::string>& lines);

// The chosen method and rate.
struct VoiceFormat {
  int id = 0;
  std::string name;
  SampleEncoding encoding = SampleEncoding::kLinear8;
  int rate = 8000;
  bool operator==(const VoiceFormat&) const = default;
};

// Prefers 16-bit linear, then mu-law, A-law, 8-bit linear; at 8000 samples/s
// when offered, else the offered rate nearest to it (the audio is then
// rate-adapted). nullopt when nothing is usable.
std::optional<VoiceFormat> ChooseVoiceFormat(const std::vector<VoiceMethod>& methods);

// "AT+VSM=<id>,<rate>".
std::string VsmCommand(const VoiceFormat& format);

}  // namespace linebridge::modem::voice
