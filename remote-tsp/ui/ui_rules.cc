#include "ui/ui_rules.h"

#include <cctype>
#include <cstring>

#include "linebridge/tapi_abi.h"

namespace linebridge::tspui {

bool IsLinebridgeProvider(const std::string& file) {
  const size_t slash = file.find_last_of("\\/");
  const std::string name = slash == std::string::npos ? file : file.substr(slash + 1);
  const std::string ours = kProviderFileName;
  if (name.size() != ours.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(name[i])) != ours[i]) return false;
  }
  return true;
}

int32_t CheckInstall(const std::vector<TapiProvider>& installed, uint32_t permanent_id) {
  for (const TapiProvider& p : installed) {
    if (p.id != permanent_id && IsLinebridgeProvider(p.file)) return LINEERR_NOMULTIPLEINSTANCE;
  }
  return 0;
}

int32_t CheckRemove(const std::vector<TapiProvider>& installed, uint32_t permanent_id) {
  for (const TapiProvider& p : installed) {
    if (p.id == permanent_id && !IsLinebridgeProvider(p.file)) return LINEERR_INVALPARAM;
  }
  return 0;
}

bool ParseDialogText(const void* params, size_t size, std::u16string* text) {
  if (params == nullptr || size < 2 || size % 2 != 0 || size > kMaxDialogTextBytes) return false;
  const unsigned char* bytes = static_cast<const unsigned char*>(params);
  std::u16string units(size / 2, u'\0');
  for (size_t i = 0; i < units.size(); ++i) {
    units[i] = static_cast<char16_t>(bytes[2 * i] | bytes[2 * i + 1] << 8);
  }
  if (units.back() != u'\0') return false;
  units.pop_back();
  if (units.find(u'\0') != std::u16string::npos) return false;  // one string, no more
  *text = std::move(units);
  return true;
}

}  // namespace linebridge::tspui
