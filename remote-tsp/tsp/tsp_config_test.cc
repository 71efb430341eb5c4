// TspConfig: the file syntax, the registry value decoding and the shared
// validation (client-side TLS and bearer token settings).
#include "tsp/tsp_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tsp/tsp_settings.h"

namespace linebridge::tsp {
namespace {

class TspConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lb-tspconf.XXXXXX";
    dir_ = mkdtemp(tmpl);
    ca_ = Write("ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    cert_ = Write("client.pem", "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n");
    key_ = Write("client.key", "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
    token_ = Write("tsp.token", "  s3cr3t.T0ken-abc_~+/=  \n");
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  // The error message of parsing `text` as file "tsp.conf" ("" if it parsed).
  static std::string ErrorOf(const std::string& text) {
    absl::StatusOr<TspConfig> c = ParseTspConfig(text, "tsp.conf");
    return c.ok() ? "" : std::string(c.status().message());
  }

  std::string dir_, ca_, cert_, key_, token_;
};

TEST_F(TspConfigTest, PlainConfigHasNoSecurity) {
  absl::StatusOr<TspConfig> c = ParseTspConfig(
      "# comment\nserver = 127.0.0.1:5\nserver = [::1]:6\ndevice_map = /x\n"
      "client_name = ws1\ndeadline_ms = 250\n",
      "tsp.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->servers, (std::vector<std::string>{"127.0.0.1:5", "[::1]:6"}));
  EXPECT_EQ(c->device_map, "/x");
  EXPECT_EQ(c->client_name, "ws1");
  EXPECT_EQ(c->deadline_ms, 250u);
  EXPECT_FALSE(c->tls);
  EXPECT_EQ(c->token, "");
  EXPECT_EQ(c->source, "tsp.conf");
}

TEST_F(TspConfigTest, TlsAndTokenSettings) {
  absl::StatusOr<TspConfig> c = ParseTspConfig(
      absl::StrCat("\xEF\xBB\xBFserver = pbx.example.com:50051\nserver = 10.0.0.5:50051\n",
                   "CA_File = ", ca_, "\ncert_file = ", cert_, "\nkey_file = ", key_,
                   "\nserver_name = pbx.example.com\ntoken_file = ", token_, "\n"),
      "tsp.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->tls);  // implied by the files
  EXPECT_EQ(c->ca_file, ca_);
  EXPECT_EQ(c->cert_file, cert_);
  EXPECT_EQ(c->key_file, key_);
  EXPECT_EQ(c->server_name, "pbx.example.com");
  EXPECT_EQ(c->token_file, token_);
  EXPECT_EQ(c->token, "s3cr3t.T0ken-abc_~+/=");  // surrounding whitespace dropped
}

TEST_F(TspConfigTest, TlsOnAloneUsesSystemRoots) {
  absl::StatusOr<TspConfig> c =
      ParseTspConfig(absl::StrCat("server = pbx:1\ntls = on\ntoken_file = ", token_), "f");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->tls);
  EXPECT_EQ(c->ca_file, "");
  for (const char* v : {"true", "yes", "1", "ON"}) {
    EXPECT_TRUE(ParseTspConfig(absl::StrCat("server = a:1\ntls = ", v), "f")->tls) << v;
  }
  for (const char* v : {"false", "no", "0", "off"}) {
    EXPECT_FALSE(ParseTspConfig(absl::StrCat("server = a:1\ntls = ", v), "f")->tls) << v;
  }
}

TEST_F(TspConfigTest, ErrorsNameFileLineAndSetting) {
  EXPECT_EQ(ErrorOf("server = a:1\nbogus = 1\n"), "tsp.conf:2: bogus: unknown setting");
  EXPECT_EQ(ErrorOf("server = a:1\n\n# c\nfoo\n"), "tsp.conf:4: expected `key = value`");
  EXPECT_EQ(ErrorOf("server = a:1\nca_file =\n"), "tsp.conf:2: empty value for `ca_file`");
  EXPECT_EQ(ErrorOf("server = nohost\n"), "tsp.conf:1: server: \"nohost\" is not host:port");
  EXPECT_EQ(ErrorOf("deadline_ms = 0\nserver = a:1\n"),
            "tsp.conf:1: deadline_ms: \"0\" is not 1..600000");
  EXPECT_EQ(ErrorOf("# only a comment\n"), "tsp.conf: no `server` (host:port) given");
  EXPECT_EQ(ErrorOf("server = a:1\ntls = maybe\n"), "tsp.conf:2: tls: \"maybe\" is not on/off");
  EXPECT_EQ(ErrorOf("server = a:1\nclient_name = x\nclient_name = y\n"),
            "tsp.conf:3: client_name: given twice (first at tsp.conf:2)");
  EXPECT_EQ(ErrorOf("server = a:1\nserver_name = a b\n"),
            "tsp.conf:2: server_name: \"a b\" is not a host name");
  EXPECT_EQ(ErrorOf("server = a:1\nconfig_file = x\n"),
            "tsp.conf:2: config_file: only valid in the registry (it names the file to read "
            "instead)");
}

TEST_F(TspConfigTest, TlsFileErrors) {
  EXPECT_EQ(ErrorOf(absl::StrCat("server = a:1\nca_file = ", dir_, "/missing.pem\n")),
            absl::StrCat("tsp.conf:2: ca_file: cannot read \"", dir_, "/missing.pem\""));
  EXPECT_EQ(ErrorOf(absl::StrCat("server = a:1\nca_file = ", key_, "\n")),
            absl::StrCat("tsp.conf:2: ca_file: \"", key_,
                         "\" is not PEM (no \"-----BEGIN CERTIFICATE\")"));
  EXPECT_EQ(ErrorOf(absl::StrCat("server = a:1\nkey_file = ", cert_, "\n")),
            absl::StrCat("tsp.conf:2: key_file: \"", cert_,
                         "\" is not PEM (no \"PRIVATE KEY-----\")"));
  EXPECT_EQ(ErrorOf(absl::StrCat("server = a:1\n\ncert_file = ", cert_, "\n")),
            "tsp.conf:3: cert_file: needs key_file too (mutual TLS uses both)");
  EXPECT_EQ(ErrorOf(absl::StrCat("server = a:1\nkey_file = ", key_, "\n")),
            "tsp.conf:2: key_file: needs cert_file too (mutual TLS uses both)");
  EXPECT_EQ(ErrorOf(absl::StrCat("server = a:1\ntls = off\nca_file = ", ca_, "\n")),
            "tsp.conf:2: tls: off, but ca_file/cert_file/key_file/server_name are set");
}

TEST_F(TspConfigTest, TokenErrors) {
  EXPECT_EQ(ErrorOf(absl::StrCat("server = a:1\ntls = on\ntoken_file = ", dir_, "/none\n")),
            absl::StrCat("tsp.conf:3: token_file: cannot read \"", dir_, "/none\""));
  const std::string empty = Write("empty.token", " \n\n");
  EXPECT_EQ(ErrorOf(absl::StrCat("server = a:1\ntls = on\ntoken_file = ", empty)),
            absl::StrCat("tsp.conf:3: token_file: \"", empty, "\" is empty"));
  const std::string two = Write("two.token", "abc\ndef\n");
  EXPECT_EQ(ErrorOf(absl::StrCat("server = a:1\ntls = on\ntoken_file = ", two)),
            absl::StrCat("tsp.conf:3: token_file: \"", two,
                         "\" must hold one token (printable ASCII, no spaces or line breaks)"));
  // A device or a huge file fails instead of being read without end.
  EXPECT_EQ(ErrorOf("server = a:1\ntls = on\ntoken_file = /dev/zero\n"),
            "tsp.conf:3: token_file: \"/dev/zero\" is larger than 4 MiB");
  EXPECT_EQ(ErrorOf("server = a:1\nca_file = /dev/zero\n"),
            "tsp.conf:2: ca_file: \"/dev/zero\" is larger than 4 MiB");
  // Never in plaintext off loopback ...
  EXPECT_EQ(ErrorOf(absl::StrCat("server = 127.0.0.1:1\nserver = pbx.example.com:1\n"
                                 "token_file = ", token_)),
            "tsp.conf:3: token_file: the token would be sent in plaintext to "
            "pbx.example.com:1; enable TLS (tls = on or ca_file)");
  // ... but to a server on this machine, yes.
  absl::StatusOr<TspConfig> local = ParseTspConfig(
      absl::StrCat("server = 127.0.0.1:1\nserver = localhost:2\nserver = [::1]:3\n"
                   "token_file = ", token_),
      "f");
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_FALSE(local->tls);
  EXPECT_EQ(local->token, "s3cr3t.T0ken-abc_~+/=");
}

TEST(TspConfigLoopback, Addresses) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:50051"));
  EXPECT_TRUE(IsLoopbackAddress("127.1.2.3:1"));
  EXPECT_TRUE(IsLoopbackAddress("LocalHost:1"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:50051"));
  EXPECT_FALSE(IsLoopbackAddress("127.example.com:1"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.5:1"));
  EXPECT_FALSE(IsLoopbackAddress("[::]:1"));
  EXPECT_FALSE(IsLoopbackAddress("localhost.evil.com:1"));
}

TEST_F(TspConfigTest, LoadFromTheFileNamedByTheEnvironment) {
  const std::string conf = Write("tsp.conf", "server = 127.0.0.1:9\ndeadline_ms = 77\n");
  setenv(kTspConfigEnv, conf.c_str(), 1);
  absl::StatusOr<TspConfig> c = LoadTspConfig();
  unsetenv(kTspConfigEnv);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->deadline_ms, 77u);
  EXPECT_EQ(c->source, conf);
  setenv(kTspConfigEnv, (dir_ + "/absent.conf").c_str(), 1);
  c = LoadTspConfig();
  unsetenv(kTspConfigEnv);
  EXPECT_TRUE(absl::IsNotFound(c.status())) << c.status();
}

// ---- registry values ---------------------------------------------------------

std::vector<unsigned char> Utf16(const std::u16string& s, bool terminated = true) {
  std::vector<unsigned char> bytes;
  for (char16_t c : s) {
    bytes.push_back(static_cast<unsigned char>(c & 0xFF));
    bytes.push_back(static_cast<unsigned char>(c >> 8));
  }
  if (terminated) bytes.insert(bytes.end(), {0, 0});
  return bytes;
}

std::string NoExpand(const std::string& s) { return s; }

TEST(TspRegistry, DecodesEachValueType) {
  std::vector<RawSetting> out;
  std::string error;
  auto sz = Utf16(u"  pbx.example.com:50051 ");
  ASSERT_TRUE(DecodeRegistryValue("Server", kRegSz, sz.data(), sz.size(), NoExpand, &out, &error))
      << error;
  auto multi = Utf16(std::u16string(u"a:1\0\0b:2\0c:3\0", 14));
  ASSERT_TRUE(DecodeRegistryValue("server", kRegMultiSz, multi.data(), multi.size(), NoExpand,
                                  &out, &error))
      << error;
  const unsigned char dword[4] = {0xB8, 0x0B, 0, 0};  // 3000
  ASSERT_TRUE(DecodeRegistryValue("deadline_ms", kRegDword, dword, 4, NoExpand, &out, &error));
  auto expand = Utf16(u"%ProgramData%\\linebridge\\ca.pem", /*terminated=*/false);
  ASSERT_TRUE(DecodeRegistryValue(
      "ca_file", kRegExpandSz, expand.data(), expand.size(),
      [](const std::string& s) { return "C:\\ProgramData" + s.substr(13); }, &out, &error));
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[0].key, "server");
  EXPECT_EQ(out[0].value, "pbx.example.com:50051");
  EXPECT_EQ(out[0].where, "HKLM\\SOFTWARE\\linebridge\\TSP: value Server");
  EXPECT_EQ(out[1].value, "a:1");
  EXPECT_EQ(out[2].value, "b:2");  // the empty string between is skipped
  EXPECT_EQ(out[3].value, "c:3");
  EXPECT_EQ(out[4].key, "deadline_ms");
  EXPECT_EQ(out[4].value, "3000");
  EXPECT_EQ(out[5].value, "C:\\ProgramData\\linebridge\\ca.pem");
}

TEST(TspRegistry, RejectsMalformedValues) {
  std::vector<RawSetting> out;
  std::string error;
  const unsigned char three[3] = {1, 2, 3};
  EXPECT_FALSE(DecodeRegistryValue("deadline_ms", kRegDword, three, 3, NoExpand, &out, &error));
  EXPECT_EQ(error, "HKLM\\SOFTWARE\\linebridge\\TSP: value deadline_ms: REG_DWORD with 3 bytes");
  EXPECT_FALSE(DecodeRegistryValue("server", kRegSz, three, 3, NoExpand, &out, &error));
  EXPECT_EQ(error,
            "HKLM\\SOFTWARE\\linebridge\\TSP: value server: string value with an odd byte count (3)");
  EXPECT_FALSE(DecodeRegistryValue("server", 3 /* REG_BINARY */, three, 3, NoExpand, &out, &error));
  EXPECT_EQ(error,
            "HKLM\\SOFTWARE\\linebridge\\TSP: value server: unsupported registry type 3 (use "
            "REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ or REG_DWORD)");
  EXPECT_TRUE(out.empty());
}

TEST(TspRegistry, RegistryTextToUtf8) {
  const std::u16string path = u"C:\\Users\u00FC\u20AC\\x";
  EXPECT_EQ(RegistryTextToUtf8(path.data(), path.size()), "C:\\Users\xC3\xBC\xE2\x82\xAC\\x");
  const char16_t pair[] = {0xD83D, 0xDE00};  // U+1F600
  EXPECT_EQ(RegistryTextToUtf8(pair, 2), "\xF0\x9F\x98\x80");
  const char16_t lone[] = {0xD83D, u'a'};
  EXPECT_EQ(RegistryTextToUtf8(lone, 2), "\xEF\xBF\xBD" "a");
}

// Registry values go through the same validation as the file; errors name the value.
TEST_F(TspConfigTest, RegistrySettingsValidateLikeTheFile) {
  std::vector<RawSetting> settings;
  std::string error;
  auto servers = Utf16(std::u16string(u"pbx1.example.com:50051\0pbx2.example.com:50051\0", 46));
  ASSERT_TRUE(DecodeRegistryValue("Server", kRegMultiSz, servers.data(), servers.size(), NoExpand,
                                  &settings, &error));
  auto token = Utf16(std::u16string(token_.begin(), token_.end()));
  ASSERT_TRUE(DecodeRegistryValue("TokenFile", kRegSz, token.data(), token.size(), NoExpand,
                                  &settings, &error));
  absl::StatusOr<TspConfig> c = TspConfigFromSettings(settings, kTspRegistryKeyDisplay);
  EXPECT_EQ(c.status().message(),
            "HKLM\\SOFTWARE\\linebridge\\TSP: value TokenFile: tokenfile: unknown setting");

  settings.clear();
  ASSERT_TRUE(DecodeRegistryValue("Server", kRegMultiSz, servers.data(), servers.size(), NoExpand,
                                  &settings, &error));
  ASSERT_TRUE(DecodeRegistryValue("token_file", kRegSz, token.data(), token.size(), NoExpand,
                                  &settings, &error));
  c = TspConfigFromSettings(settings, kTspRegistryKeyDisplay);
  EXPECT_EQ(c.status().message(),
            "HKLM\\SOFTWARE\\linebridge\\TSP: value token_file: token_file: the token would be "
            "sent in plaintext to pbx1.example.com:50051; enable TLS (tls = on or ca_file)");
  const unsigned char on[4] = {1, 0, 0, 0};
  ASSERT_TRUE(DecodeRegistryValue("TLS", kRegDword, on, 4, NoExpand, &settings, &error));
  c = TspConfigFromSettings(settings, kTspRegistryKeyDisplay);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->servers.size(), 2u);
  EXPECT_TRUE(c->tls);
  EXPECT_EQ(c->token, "s3cr3t.T0ken-abc_~+/=");
  EXPECT_EQ(c->source, "HKLM\\SOFTWARE\\linebridge\\TSP");
}

// The order of the sources (LoadTspConfig on Windows passes the registry).
TEST_F(TspConfigTest, SourcePrecedence) {
  const std::string env_file = Write("env.conf", "server = 127.0.0.1:1\nclient_name = env\n");
  const std::string other = Write("other.conf", "server = 127.0.0.1:2\nclient_name = other\n");
  const std::string fallback = Write("default.conf", "server = 127.0.0.1:3\nclient_name = dflt\n");
  RegistryRead registry;
  registry.exists = true;
  registry.settings = {{"server", "127.0.0.1:4", "HKLM\\SOFTWARE\\linebridge\\TSP: value server"},
                       {"client_name", "reg", "HKLM\\SOFTWARE\\linebridge\\TSP: value client_name"}};
  // The environment wins over the registry.
  EXPECT_EQ(SelectTspConfig(env_file.c_str(), &registry, fallback)->client_name, "env");
  // Then the registry (an empty variable counts as unset).
  absl::StatusOr<TspConfig> c = SelectTspConfig("", &registry, fallback);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->client_name, "reg");
  EXPECT_EQ(c->source, "HKLM\\SOFTWARE\\linebridge\\TSP");
  // Then the default file (no key; or not Windows).
  RegistryRead absent;
  EXPECT_EQ(SelectTspConfig(nullptr, &absent, fallback)->client_name, "dflt");
  EXPECT_EQ(SelectTspConfig(nullptr, nullptr, fallback)->client_name, "dflt");
  // A key that cannot be read is an error, not a fall-back.
  RegistryRead broken;
  broken.exists = false;
  broken.error = "HKLM\\SOFTWARE\\linebridge\\TSP: cannot open: Access is denied. (5)";
  EXPECT_EQ(SelectTspConfig(nullptr, &broken, fallback).status().message(), broken.error);
  // config_file alone names the file to read instead ...
  RegistryRead redirect;
  redirect.exists = true;
  redirect.settings = {{"config_file", other, "HKLM\\SOFTWARE\\linebridge\\TSP: value config_file"}};
  EXPECT_EQ(SelectTspConfig(nullptr, &redirect, fallback)->client_name, "other");
  // ... and with other values it is an error naming it.
  redirect.settings.push_back(registry.settings[0]);
  EXPECT_EQ(SelectTspConfig(nullptr, &redirect, fallback).status().message(),
            "HKLM\\SOFTWARE\\linebridge\\TSP: value config_file: config_file names a file to "
            "read instead; remove the other values");
}

}  // namespace
}  // namespace linebridge::tsp
