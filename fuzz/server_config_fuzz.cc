// linebridged's configuration file: the textproto parser with line
// locations (ParseConfigTextRaw), defaults and validation (ParseConfigText)
// and the listen-address helpers. A configuration that validates, printed
// back as text, parses and validates to the same configuration (defaults
// are idempotent). Validation only stats the modem devices it names.
#include <cstddef>
#include <cstdint>
#include <string>

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>

#include "config/config.h"
#include "fuzz/fuzz_check.h"

namespace config = linebridge::v1::config;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  {
    config::ServerConfig raw;
    linebridge::ParseLocations locations("fuzz.textproto");
    if (linebridge::ParseConfigTextRaw(text, "fuzz.textproto", &raw, &locations).ok()) {
      (void)locations.Where("listen");
      (void)locations.Where("providers.sim.lines");
    }
  }
  const absl::StatusOr<config::ServerConfig> parsed =
      linebridge::ParseConfigText(text, "fuzz.textproto");
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.status().message().empty(), "a refusal without a message");
    return 0;
  }
  absl::string_view host, port;
  (void)linebridge::SplitHostPort(parsed->listen(), &host, &port);
  (void)linebridge::IsLoopbackListen(parsed->listen());
  (void)linebridge::TlsEnabled(*parsed);
  (void)linebridge::CheckListenSecurity(*parsed);

  std::string printed;
  FUZZ_CHECK(google::protobuf::TextFormat::PrintToString(*parsed, &printed), "printing");
  const absl::StatusOr<config::ServerConfig> again =
      linebridge::ParseConfigText(printed, "printed.textproto");
  FUZZ_CHECK(again.ok(), "a validated configuration, printed, does not validate");
  FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(*parsed, *again),
             "defaults are not idempotent");
  return 0;
}
