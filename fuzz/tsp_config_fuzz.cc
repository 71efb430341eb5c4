// The remote TSP's configuration: the file (`key = value` lines,
// ParseTspConfig) and the registry values (DecodeRegistryValue into
// settings, then TspConfigFromSettings). Runs in a directory of its own
// holding the files a configuration names (ca.pem, client.pem, client.key,
// token), so that seeds reach the TLS and token settings; inputs that name
// devices or kernel files are skipped (reading them says nothing about the
// parser and may block).
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_check.h"
#include "tsp/tsp_config.h"
#include "tsp/tsp_settings.h"

namespace tsp = linebridge::tsp;

namespace {

std::string work_dir;

void RemoveWorkDir() {
  for (const char* f : {"ca.pem", "client.pem", "client.key", "token"}) {
    (void)unlink((work_dir + "/" + f).c_str());
  }
  (void)rmdir(work_dir.c_str());
}

void CheckConfig(const absl::StatusOr<tsp::TspConfig>& config) {
  if (!config.ok()) {
    FUZZ_CHECK(!config.status().message().empty(), "a refusal without a message");
    return;
  }
  for (char c : config->token) {
    FUZZ_CHECK(c > ' ' && c <= '~', "a token that is not one printable word");
  }
}

bool NamesSystemFiles(absl::string_view text) {
  for (absl::string_view dir : {"/dev", "/proc", "/sys", "/run"}) {
    if (absl::StrContains(text, dir)) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  char dir[] = "/tmp/tsp_config_fuzz.XXXXXX";
  if (mkdtemp(dir) == nullptr || chdir(dir) != 0) std::abort();
  work_dir = dir;
  std::atexit(RemoveWorkDir);
  std::ofstream("ca.pem") << "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  std::ofstream("client.pem") << "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  std::ofstream("client.key") << "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
  std::ofstream("token") << "lb1.0123456789abcdef.0123456789abcdef0123456789abcdef0123456789abcdef"
                            "0123456789abcdef\n";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view raw(reinterpret_cast<const char*>(data), size);
  if (NamesSystemFiles(raw)) return -1;
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool()) {
    // A configuration file.
    const std::string text = in.ConsumeRemainingBytesAsString();
    CheckConfig(tsp::ParseTspConfig(text, "fuzz.conf"));
    return 0;
  }
  // Registry values: name, type, data; then the settings as a configuration.
  constexpr uint32_t kTypes[] = {tsp::kRegSz, tsp::kRegExpandSz, tsp::kRegMultiSz, tsp::kRegDword};
  std::vector<tsp::RawSetting> settings;
  while (in.remaining_bytes() > 0 && settings.size() < 64) {
    const std::string name = in.ConsumeRandomLengthString(70);
    const uint32_t type = in.ConsumeBool() ? in.PickValueInArray(kTypes) : in.ConsumeIntegral<uint32_t>();
    const std::vector<unsigned char> value =
        in.ConsumeBytes<unsigned char>(in.ConsumeIntegralInRange<size_t>(0, 512));
    std::string error;
    const size_t before = settings.size();
    const bool ok = tsp::DecodeRegistryValue(
        name, type, value.data(), value.size(),
        [](const std::string& s) { return absl::StrCat("C:\\expanded\\", s); }, &settings, &error);
    FUZZ_CHECK(ok == error.empty(), "an error message without a failure, or the reverse");
    if (!ok) {
      FUZZ_CHECK(settings.size() == before, "a failed value added settings");
      continue;
    }
    for (size_t i = before; i < settings.size(); ++i) {
      FUZZ_CHECK(!settings[i].value.empty(), "an empty setting");
      FUZZ_CHECK(!settings[i].key.empty() && settings[i].key.size() <= 64, "a setting's key");
    }
  }
  for (const tsp::RawSetting& s : settings) {
    if (NamesSystemFiles(s.value)) return 0;  // decoded from UTF-16
  }
  CheckConfig(tsp::TspConfigFromSettings(settings, tsp::kTspRegistryKeyDisplay));
  return 0;
}
