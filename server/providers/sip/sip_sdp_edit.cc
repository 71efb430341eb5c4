#include "providers/sip/sip_sdp_edit.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace linebridge::sip {
namespace {

std::vector<std::string> Lines(absl::string_view sdp) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(sdp, '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    if (!line.empty()) lines.emplace_back(line);
  }
  return lines;
}

std::string Text(const std::vector<std::string>& lines) {
  if (lines.empty()) return "";
  return absl::StrCat(absl::StrJoin(lines, "\r\n"), "\r\n");
}

bool IsDirection(absl::string_view line) {
  return line == "a=sendrecv" || line == "a=sendonly" || line == "a=recvonly" ||
         line == "a=inactive";
}

// The o= line's fields: username sess-id sess-version nettype addrtype
// unicast-address.
std::optional<std::vector<std::string>> OriginFields(absl::string_view line) {
  if (!absl::ConsumePrefix(&line, "o=")) return std::nullopt;
  std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
  if (fields.size() != 6) return std::nullopt;
  uint64_t version = 0;
  if (!absl::SimpleAtoi(fields[2], &version)) return std::nullopt;
  return fields;
}

std::string WithoutOrigin(absl::string_view sdp) {
  std::vector<std::string> lines = Lines(sdp);
  std::erase_if(lines, [](const std::string& l) { return absl::StartsWith(l, "o="); });
  return Text(lines);
}

}  // namespace

std::string SdpWithDirection(absl::string_view sdp, absl::string_view direction) {
  std::vector<std::string> out;
  const std::string attribute = absl::StrCat("a=", direction);
  bool in_media = false;
  for (std::string& line : Lines(sdp)) {
    if (IsDirection(line)) continue;
    if (absl::StartsWith(line, "m=")) {
      if (in_media) out.push_back(attribute);
      in_media = true;
    }
    out.push_back(std::move(line));
  }
  if (in_media) out.push_back(attribute);
  return Text(out);
}

std::optional<uint64_t> SdpVersion(absl::string_view sdp) {
  for (const std::string& line : Lines(sdp)) {
    if (auto fields = OriginFields(line); fields.has_value()) {
      uint64_t version = 0;
      if (absl::SimpleAtoi((*fields)[2], &version)) return version;
    }
  }
  return std::nullopt;
}

std::string SdpWithVersion(absl::string_view sdp, uint64_t version) {
  std::vector<std::string> lines = Lines(sdp);
  for (std::string& line : lines) {
    auto fields = OriginFields(line);
    if (!fields.has_value()) continue;
    (*fields)[2] = absl::StrCat(version);
    line = absl::StrCat("o=", absl::StrJoin(*fields, " "));
    break;
  }
  return Text(lines);
}

std::string SdpVersionKeeper::Send(absl::string_view sdp) {
  const std::optional<uint64_t> own = SdpVersion(sdp);
  if (!own.has_value()) return std::string(sdp);
  std::string content = WithoutOrigin(sdp);
  uint64_t version = *own;
  if (sent_ && content == content_) {
    version = version_;
  } else if (sent_ && version <= version_) {
    version = version_ + 1;
  }
  sent_ = true;
  version_ = version;
  content_ = std::move(content);
  return version == *own ? std::string(sdp) : SdpWithVersion(sdp, version);
}

}  // namespace linebridge::sip
