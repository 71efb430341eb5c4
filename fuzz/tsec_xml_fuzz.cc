// linectl's tsecimp XML reader (expat underneath, linectl/tsec_xml.h): any
// input parses or is refused with InvalidArgument, and what it reads,
// written back with WriteTsecXml, reads back the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "linectl/tsec_xml.h"

namespace lc = linebridge::linectl;

namespace {

bool Same(const std::vector<lc::TsecUser>& a, const std::vector<lc::TsecUser>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const lc::TsecUser& x = a[i];
    const lc::TsecUser& y = b[i];
    if (x.domain_user_name != y.domain_user_name || x.friendly_name != y.friendly_name ||
        x.no_merge != y.no_merge || x.has_line_list != y.has_line_list ||
        x.lines.size() != y.lines.size()) {
      return false;
    }
    for (size_t j = 0; j < x.lines.size(); ++j) {
      if (x.lines[j].address != y.lines[j].address ||
          x.lines[j].permanent_id != y.lines[j].permanent_id ||
          x.lines[j].remove != y.lines[j].remove) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string xml(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<std::vector<lc::TsecUser>> users = lc::ParseTsecXml(xml);
  if (!users.ok()) {
    FUZZ_CHECK(users.status().code() == absl::StatusCode::kInvalidArgument,
               "a refusal other than InvalidArgument");
    return 0;
  }
  for (const lc::TsecUser& u : *users) {
    FUZZ_CHECK(!u.domain_user_name.empty(), "a user without a name");
    for (const lc::TsecLine& l : u.lines) {
      FUZZ_CHECK(l.address.empty() || l.permanent_id.empty(), "a line with both ids");
    }
  }
  const std::string written = lc::WriteTsecXml(*users);
  const absl::StatusOr<std::vector<lc::TsecUser>> again = lc::ParseTsecXml(written);
  FUZZ_CHECK(again.ok(), "WriteTsecXml wrote what ParseTsecXml refuses");
  FUZZ_CHECK(Same(*users, *again), "a write and read changed the assignments");
  return 0;
}
