// The provider's log: levels, size-based rotation, secrets scrubbed, and the
// settings that configure it (file and registry value decoding).
#include "tsp/tsp_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "tsp/tsp_config.h"

namespace linebridge::tsp {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}
bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

class TspLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lb-tsplog.XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override {
    TspLog::Instance().Configure(LogSettings());  // back to stderr, closes the file
    (void)std::system(absl::StrCat("rm -rf '", dir_, "'").c_str());
  }
  std::string dir_;
};

TEST(LogLevel, ParsesTheFourNames) {
  LogLevel level;
  ASSERT_TRUE(ParseLogLevel("DEBUG", &level));
  EXPECT_EQ(level, LogLevel::kDebug);
  ASSERT_TRUE(ParseLogLevel("error", &level));
  EXPECT_EQ(level, LogLevel::kError);
  EXPECT_FALSE(ParseLogLevel("verbose", &level));
}

TEST(ScrubSecrets, RemovesTokensBearerValuesAndPem) {
  EXPECT_EQ(ScrubSecrets("token s3cr3t-t0k refused", "s3cr3t-t0k"), "token [redacted] refused");
  EXPECT_EQ(ScrubSecrets("authorization: Bearer abc.def xyz", ""),
            "authorization: Bearer [redacted] xyz");
  EXPECT_EQ(ScrubSecrets("key -----BEGIN PRIVATE KEY-----MIIE...-----END PRIVATE KEY----- ok", ""),
            "key [redacted PEM] ok");
  EXPECT_EQ(ScrubSecrets("-----BEGIN PRIVATE KEY-----MIIE", ""), "[redacted PEM]");
  EXPECT_EQ(ScrubSecrets("plain text", "s3cr3t"), "plain text");
}

TEST_F(TspLogTest, WritesOnlyLinesAtOrAboveTheLevel) {
  LogSettings s;
  s.file = dir_ + "/tsp.log";
  s.level = LogLevel::kInfo;
  TspLog::Instance().Configure(s);
  LogDebug("not written");
  LogInfo("opened line sim/101");
  LogError("no session yet: UNAVAILABLE\nsecond line");
  const std::string text = Read(s.file);
  EXPECT_EQ(text.find("not written"), std::string::npos) << text;
  EXPECT_NE(text.find(" INFO opened line sim/101\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" ERROR no session yet: UNAVAILABLE second line\n"), std::string::npos)
      << text;
  EXPECT_TRUE(TspLog::Instance().Enabled(LogLevel::kInfo));
  EXPECT_FALSE(TspLog::Instance().Enabled(LogLevel::kDebug));
}

TEST_F(TspLogTest, RotatesBySizeAndKeepsTheConfiguredNumberOfFiles) {
  LogSettings s;
  s.file = dir_ + "/tsp.log";
  s.level = LogLevel::kDebug;
  s.max_bytes = 4096;
  s.files = 2;
  TspLog::Instance().Configure(s);
  const std::string filler(100, 'x');
  for (int i = 0; i < 200; ++i) LogInfo(absl::StrCat("line ", i, " ", filler));
  ASSERT_TRUE(Exists(s.file));
  EXPECT_TRUE(Exists(s.file + ".1"));
  EXPECT_TRUE(Exists(s.file + ".2"));
  EXPECT_FALSE(Exists(s.file + ".3"));
  for (const std::string& f : {s.file, s.file + ".1", s.file + ".2"}) {
    const std::string text = Read(f);
    EXPECT_LE(text.size(), 4096u) << f;
    EXPECT_GT(text.size(), 0u) << f;
  }
  // The newest line is in the current file, the one before in ".1".
  EXPECT_NE(Read(s.file).find("line 199 "), std::string::npos);
  EXPECT_EQ(Read(s.file + ".1").find("line 199 "), std::string::npos);
}

TEST_F(TspLogTest, TheConfiguredTokenNeverReachesTheFile) {
  LogSettings s;
  s.file = dir_ + "/tsp.log";
  s.secret = "lbt_0123456789abcdef";
  TspLog::Instance().Configure(s);
  LogError("server refused lbt_0123456789abcdef (authorization: Bearer lbt_0123456789abcdef)");
  const std::string text = Read(s.file);
  EXPECT_EQ(text.find("0123456789abcdef"), std::string::npos) << text;
  EXPECT_NE(text.find("server refused [redacted]"), std::string::npos) << text;
}

TEST(TspLogConfig, FileSettingsAreValidated) {
  absl::StatusOr<TspConfig> c = ParseTspConfig(
      "server = 127.0.0.1:1\nlog_file = /tmp/x.log\nlog_level = Info\nlog_max_bytes = 65536\n"
      "log_files = 5\n",
      "t.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->log_file, "/tmp/x.log");
  EXPECT_EQ(c->log_level, "info");
  EXPECT_EQ(c->log_max_bytes, 65536u);
  EXPECT_EQ(c->log_files, 5u);
  EXPECT_EQ(ParseTspConfig("server = 127.0.0.1:1\nlog_level = loud\n", "t.conf").status().message(),
            "t.conf:2: log_level: \"loud\" is not error, warning, info or debug");
  EXPECT_EQ(ParseTspConfig("server = 127.0.0.1:1\nlog_max_bytes = 10\n", "t.conf").status().message(),
            "t.conf:2: log_max_bytes: \"10\" is not 4096..1073741824");
  EXPECT_EQ(ParseTspConfig("server = 127.0.0.1:1\nlog_files = 0\n", "t.conf").status().message(),
            "t.conf:2: log_files: \"0\" is not 1..20");
}

// The registry gives the same settings (REG_SZ path, REG_DWORD numbers).
TEST(TspLogConfig, RegistryValuesConfigureTheLog) {
  std::vector<RawSetting> settings;
  std::string error;
  auto sz = [](const std::u16string& s) {
    return std::string(reinterpret_cast<const char*>(s.c_str()), (s.size() + 1) * 2);
  };
  auto expand = [](const std::string& s) { return s; };
  const std::string server = sz(u"127.0.0.1:1"), file = sz(u"C:\\ProgramData\\tsp.log"),
                    level = sz(u"debug");
  const uint32_t bytes = 8192, files = 4;
  ASSERT_TRUE(DecodeRegistryValue("server", kRegSz,
                                  reinterpret_cast<const unsigned char*>(server.data()),
                                  server.size(), expand, &settings, &error));
  ASSERT_TRUE(DecodeRegistryValue("log_file", kRegSz,
                                  reinterpret_cast<const unsigned char*>(file.data()), file.size(),
                                  expand, &settings, &error));
  ASSERT_TRUE(DecodeRegistryValue("Log_Level", kRegSz,
                                  reinterpret_cast<const unsigned char*>(level.data()),
                                  level.size(), expand, &settings, &error));
  ASSERT_TRUE(DecodeRegistryValue("log_max_bytes", kRegDword,
                                  reinterpret_cast<const unsigned char*>(&bytes), sizeof bytes,
                                  expand, &settings, &error));
  ASSERT_TRUE(DecodeRegistryValue("log_files", kRegDword,
                                  reinterpret_cast<const unsigned char*>(&files), sizeof files,
                                  expand, &settings, &error));
  absl::StatusOr<TspConfig> c = TspConfigFromSettings(settings, kTspRegistryKeyDisplay);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->log_file, "C:\\ProgramData\\tsp.log");
  EXPECT_EQ(c->log_level, "debug");
  EXPECT_EQ(c->log_max_bytes, 8192u);
  EXPECT_EQ(c->log_files, 4u);
}

}  // namespace
}  // namespace linebridge::tsp
