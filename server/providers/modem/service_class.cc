#include "providers/modem/service_class.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace linebridge::modem {
namespace {

bool Lists(const std::vector<std::string>& fclass, absl::string_view c) {
  return std::find(fclass.begin(), fclass.end(), c) != fclass.end();
}

}  // namespace

bool IsFaxClass(absl::string_view c) { return c == "1" || c == "1.0" || c == "2" || c == "2.0"; }

std::string ClassForMedia(v1::MediaMode media, const std::vector<std::string>& fclass,
                          at::ModemProfile profile) {
  if (profile == at::ModemProfile::k3gppCellular) return "";
  switch (media) {
    case v1::MEDIA_MODE_G3FAX:
      for (const char* c : {"1", "1.0", "2.0", "2"}) {
        if (Lists(fclass, c)) return c;
      }
      return fclass.empty() ? "1" : "";  // silent about classes: try class 1
    case v1::MEDIA_MODE_DATAMODEM:
      return fclass.empty() || Lists(fclass, "0") ? "0" : "";
    case v1::MEDIA_MODE_INTERACTIVE_VOICE:
    case v1::MEDIA_MODE_AUTOMATED_VOICE:
      return profile == at::ModemProfile::kV253Voice ? "8" : "";
    default:
      return "";
  }
}

v1::MediaMode MediaForClass(absl::string_view c) {
  if (c == "0") return v1::MEDIA_MODE_DATAMODEM;
  if (IsFaxClass(c)) return v1::MEDIA_MODE_G3FAX;
  if (c == "8") return v1::MEDIA_MODE_INTERACTIVE_VOICE;
  return v1::MEDIA_MODE_UNSPECIFIED;
}

std::optional<std::string> ClassSetBy(const std::vector<std::string>& commands) {
  std::optional<std::string> out;
  for (const std::string& command : commands) {
    const std::string upper = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(command));
    absl::string_view rest = upper;
    if (!absl::ConsumePrefix(&rest, "AT+FCLASS=")) continue;
    if (rest.empty() || rest == "?") continue;
    out = std::string(rest);
  }
  return out;
}

v1::MediaMode OfferedMedia(const v1::config::ModemPort& config, at::ModemProfile profile) {
  if (profile == at::ModemProfile::k3gppCellular) return v1::MEDIA_MODE_INTERACTIVE_VOICE;
  const v1::MediaMode configured = config.incoming_media();
  const bool voice_ok = profile != at::ModemProfile::kHayesData;
  auto usable = [&](v1::MediaMode m) {
    if (m == v1::MEDIA_MODE_INTERACTIVE_VOICE || m == v1::MEDIA_MODE_AUTOMATED_VOICE) {
      return voice_ok;
    }
    return m == v1::MEDIA_MODE_DATAMODEM || m == v1::MEDIA_MODE_G3FAX;
  };
  if (configured != v1::MEDIA_MODE_UNSPECIFIED && usable(configured)) return configured;
  // A class chosen by the override strings (the answer's, else init's).
  for (const auto* strings : {&config.answer(), &config.init()}) {
    const std::vector<std::string> list(strings->begin(), strings->end());
    if (std::optional<std::string> c = ClassSetBy(list)) {
      const v1::MediaMode m = MediaForClass(*c);
      if (m != v1::MEDIA_MODE_UNSPECIFIED && usable(m)) return m;
    }
  }
  return voice_ok ? v1::MEDIA_MODE_INTERACTIVE_VOICE : v1::MEDIA_MODE_DATAMODEM;
}

}  // namespace linebridge::modem
