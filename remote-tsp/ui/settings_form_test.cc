// The configuration dialog's model (settings_form.h) and the registry
// encoding it writes with (tsp_settings.h): fields <-> settings, the
// provider's validation and messages, values that read back as written.
#include "ui/settings_form.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace linebridge::tspui {
namespace {

using tsp::DecodeRegistryValue;
using tsp::EncodeRegistrySettings;
using tsp::RegistryValue;

std::string Same(const std::string& s) { return s; }

FormValues Form(std::initializer_list<std::pair<const char*, std::string>> values) {
  FormValues form;
  for (const auto& [key, value] : values) form[FieldIndex(key)] = value;
  return form;
}

// The settings a registry round trip gives back (Encode, then Decode as the
// provider reads them).
std::vector<RawSetting> RoundTrip(const std::vector<RawSetting>& settings,
                                  std::vector<RegistryValue>* values = nullptr) {
  std::vector<RegistryValue> encoded = EncodeRegistrySettings(settings);
  std::vector<RawSetting> decoded;
  for (const RegistryValue& v : encoded) {
    std::string error;
    EXPECT_TRUE(DecodeRegistryValue(v.name, v.type, v.data.data(), v.data.size(),
                                    [](const std::string& s) { return "[" + s + "]"; }, &decoded,
                                    &error))
        << error;
  }
  if (values != nullptr) *values = encoded;
  return decoded;
}

TEST(SettingsForm, EveryProviderSettingHasAField) {
  // Each key the provider accepts (tsp_config.h) but config_file, which only
  // points at a file.
  for (const char* key : {"server", "device_map", "client_name", "deadline_ms", "tls", "ca_file",
                          "cert_file", "key_file", "server_name", "token_file", "log_file",
                          "log_level", "log_max_bytes", "log_files"}) {
    EXPECT_LT(FieldIndex(key), kFields.size()) << key;
  }
  EXPECT_EQ(FieldIndex("config_file"), kFields.size());
  // And every field is a setting the provider accepts.
  for (const Field& f : kFields) {
    std::vector<RawSetting> s = {{"server", "127.0.0.1:1", "x"}};
    if (std::string(f.key) != "server") s.push_back({f.key, "1", "x"});
    TspConfig config;
    std::string error;
    tsp::CheckTspSettings(s, "src", &config, &error);
    EXPECT_EQ(error.find("unknown setting"), std::string::npos) << f.key << ": " << error;
  }
}

TEST(SettingsForm, FromSettings) {
  FormValues form;
  std::string error;
  ASSERT_TRUE(FormFromSettings({{"server", "a:1", "r"},
                                {"server", "b:2", "r"},
                                {"tls", "Yes", "r"},
                                {"log_file", "%TEMP%\\tsp.log", "r"}},
                               &form, &error));
  EXPECT_EQ(form[FieldIndex("server")], "a:1\r\nb:2");
  EXPECT_EQ(form[FieldIndex("tls")], "on");
  EXPECT_EQ(form[FieldIndex("log_file")], "%TEMP%\\tsp.log");
  EXPECT_EQ(form[FieldIndex("ca_file")], "");

  ASSERT_TRUE(FormFromSettings({{"tls", "off", "r"}}, &form, &error));
  EXPECT_EQ(form[FieldIndex("tls")], "");

  EXPECT_FALSE(FormFromSettings({{"config_file", "C:\\tsp.conf", "HKLM: value config_file"}},
                                &form, &error));
  EXPECT_EQ(error,
            "HKLM: value config_file: config_file: the settings are in the file "
            "\"C:\\tsp.conf\"; edit that file");
  EXPECT_FALSE(FormFromSettings({{"colour", "red", "w"}}, &form, &error));
  EXPECT_EQ(error, "w: colour: unknown setting");
}

TEST(SettingsForm, ToSettingsTrimsSplitsAndNamesTheField) {
  const std::vector<RawSetting> s = SettingsFromForm(
      Form({{"server", " a:1 \r\n\r\nb:2\n c:3"}, {"tls", "on"}, {"client_name", "  "},
            {"deadline_ms", " 500 "}}));
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0].key, "server");
  EXPECT_EQ(s[0].value, "a:1");
  EXPECT_EQ(s[1].value, "b:2");
  EXPECT_EQ(s[2].value, "c:3");
  EXPECT_EQ(s[0].where, kFields[FieldIndex("server")].label);
  EXPECT_EQ(s[3].key, "deadline_ms");
  EXPECT_EQ(s[3].value, "500");
  EXPECT_EQ(s[4].key, "tls");
  EXPECT_EQ(s[4].value, "on");
  EXPECT_TRUE(SettingsFromForm(FormValues{}).empty());
}

TEST(SettingsForm, CheckIsTheProvidersValidation) {
  TspConfig config;
  std::string error;
  // Nothing: the provider's "no server" message, naming the source.
  EXPECT_FALSE(CheckForm(FormValues{}, Same, "HKLM\\SOFTWARE\\linebridge\\TSP", &config, &error));
  EXPECT_EQ(error, "HKLM\\SOFTWARE\\linebridge\\TSP: no `server` (host:port) given");
  // Each message is exactly what CheckTspSettings says for the same values.
  for (const FormValues& form :
       {Form({{"server", "pbx"}}), Form({{"server", "a:1"}, {"deadline_ms", "0"}}),
        Form({{"server", "a:1"}, {"log_level", "loud"}}),
        Form({{"server", "a:1"}, {"ca_file", "/nonexistent/ca.pem"}}),
        Form({{"server", "a:1"}, {"cert_file", "/nonexistent/c.pem"}}),
        Form({{"server", "a:1"}, {"server_name", "a b"}}),
        Form({{"server", "a:1"}, {"log_files", "21"}})}) {
    std::string direct;
    EXPECT_FALSE(tsp::CheckTspSettings(SettingsFromForm(form), "src", &config, &direct));
    EXPECT_FALSE(CheckForm(form, Same, "src", &config, &error));
    EXPECT_EQ(error, direct);
  }
  EXPECT_EQ(error.rfind(std::string(kFields[FieldIndex("log_files")].label) + ": log_files: ", 0),
            0u)
      << error;
  ASSERT_TRUE(CheckForm(Form({{"server", "a:1\r\nb:2"}, {"deadline_ms", "250"}}), Same, "src",
                        &config, &error))
      << error;
  EXPECT_EQ(config.servers, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_EQ(config.deadline_ms, 250u);
}

TEST(SettingsForm, CheckExpandsValuesFirst) {
  char dir[] = "/tmp/tspui-form-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string ca = std::string(dir) + "/ca.pem";
  std::ofstream(ca) << "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n";
  const auto expand = [&](const std::string& s) {
    return s == "%CA%" ? ca : s;  // stands in for ExpandEnvironmentStrings
  };
  TspConfig config;
  std::string error;
  EXPECT_TRUE(CheckForm(Form({{"server", "a:1"}, {"ca_file", "%CA%"}}), expand, "src", &config,
                        &error))
      << error;
  EXPECT_EQ(config.ca_file, ca);
  EXPECT_TRUE(config.tls);
  EXPECT_FALSE(CheckForm(Form({{"server", "a:1"}, {"ca_file", "%CA%"}}), Same, "src", &config,
                         &error));
  std::remove(ca.c_str());
  rmdir(dir);
}

TEST(RegistryEncoding, ValuesReadBackAsWritten) {
  std::vector<RegistryValue> values;
  const std::vector<RawSetting> back = RoundTrip(
      {{"server", "a:1", "f"}, {"device_map", "C:\\m\\d\u00e9vices.map", "f"},
       {"server", "b:2", "f"}, {"log_file", "%TEMP%\\tsp.log", "f"}, {"tls", "on", "f"},
       {"client_name", "", "f"}},
      &values);
  ASSERT_EQ(values.size(), 4u);  // the empty client_name is left out
  EXPECT_EQ(values[0].name, "server");
  EXPECT_EQ(values[0].type, tsp::kRegMultiSz);
  EXPECT_EQ(values[1].type, tsp::kRegSz);
  EXPECT_EQ(values[2].type, tsp::kRegExpandSz);
  // REG_MULTI_SZ: "a:1\0b:2\0\0" in UTF-16LE.
  const std::vector<unsigned char> multi = {'a', 0, ':', 0, '1', 0, 0, 0, 'b', 0,
                                            ':', 0, '2', 0, 0,   0, 0, 0};
  EXPECT_EQ(values[0].data, multi);
  ASSERT_EQ(back.size(), 5u);
  EXPECT_EQ(back[0].value, "a:1");
  EXPECT_EQ(back[1].value, "b:2");
  EXPECT_EQ(back[2].value, "C:\\m\\d\u00e9vices.map");
  EXPECT_EQ(back[3].value, "[%TEMP%\\tsp.log]");  // REG_EXPAND_SZ goes through `expand`
  EXPECT_EQ(back[4].value, "on");
}

TEST(RegistryEncoding, Utf8ToUtf16) {
  EXPECT_EQ(tsp::Utf8ToRegistryText("a\u00e9\u20ac\U0001F600"), u"a\u00e9\u20ac\U0001F600");
  EXPECT_EQ(tsp::Utf8ToRegistryText("\xC3"), u"\uFFFD");           // truncated
  EXPECT_EQ(tsp::Utf8ToRegistryText("\xC0\xAF"), u"\uFFFD\uFFFD");  // overlong
  EXPECT_EQ(tsp::Utf8ToRegistryText("\xED\xA0\x80"), u"\uFFFD\uFFFD\uFFFD");  // a surrogate
  const std::u16string round = tsp::Utf8ToRegistryText("x\U0001F600y");
  EXPECT_EQ(tsp::RegistryTextToUtf8(round.data(), round.size()), "x\U0001F600y");
}

}  // namespace
}  // namespace linebridge::tspui
