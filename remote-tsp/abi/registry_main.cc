// Links the TSP's registry reader (tsp/tsp_registry.cc) into a Windows
// program with mingw-w64 (check_abi.sh): proves the Win32 half compiles and
// resolves against advapi32. Run on Windows it prints what it read.
#include <cstdio>
#include <string>
#include <vector>

#include "tsp/tsp_settings.h"

int main() {
  std::vector<linebridge::tsp::RawSetting> settings;
  std::string error;
  if (!linebridge::tsp::ReadRegistrySettings(&settings, &error)) {
    std::printf("%s\n", error.empty() ? "no registry configuration" : error.c_str());
    return error.empty() ? 0 : 1;
  }
  for (const auto& s : settings) std::printf("%s = %s\n", s.key.c_str(), s.value.c_str());
  return 0;
}
