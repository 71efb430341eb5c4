// tsecimp XML (the Windows Telephony Server's user/line assignment format):
// reading it with expat into users and lines, and writing it back.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linebridge::linectl {

// <UserList><User NoMerge="1"><DomainUserName>DOMAIN\user</DomainUserName>
// <FriendlyName>..</FriendlyName><LineList><Line Remove="1"><Address>101</Address> |
// <PermanentID>123</PermanentID></Line></LineList></User></UserList>.
struct TsecLine {
  std::string address;       // <Address> (or <Addr>)
  std::string permanent_id;  // <PermanentID>
  bool remove = false;
};
struct TsecUser {
  std::string domain_user_name;
  std::string friendly_name;
  bool no_merge = false;
  bool has_line_list = false;  // no <LineList>: every line of the user is removed
  std::vector<TsecLine> lines;
};

// The file must be UTF-8 without control characters (raw or as character
// references, C1 included), hold no DTD, nest at most kMaxTsecDepth elements
// deep and hold at most kMaxTsecElements elements (memory stays bounded
// whatever it holds). Errors are InvalidArgument, "XML line N: ..." for the
// XML itself.
inline constexpr int kMaxTsecDepth = 17;
inline constexpr int kMaxTsecElements = 100000;
absl::StatusOr<std::vector<TsecUser>> ParseTsecXml(absl::string_view xml);
std::string WriteTsecXml(const std::vector<TsecUser>& users);

}  // namespace linebridge::linectl
