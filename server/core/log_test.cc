#include "core/log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace linebridge {
namespace {

// Captures what the log writes (a memory stream) and restores the defaults.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stream_ = open_memstream(&buffer_, &size_);
    ASSERT_NE(stream_, nullptr);
    SetLogStream(stream_);
  }
  void TearDown() override {
    SetLogStream(nullptr);
    SetLogLevel(LogLevel::kInfo);
    SetLogFormat(LogFormat::kText);
    std::fclose(stream_);
    std::free(buffer_);
  }
  std::string Written() {
    std::fflush(stream_);
    return std::string(buffer_, size_);
  }

  std::FILE* stream_ = nullptr;
  char* buffer_ = nullptr;
  size_t size_ = 0;
};

TEST_F(LogTest, TextLineHasTimeLevelAndMessage) {
  LB_LOG("listener: port %d", 5);
  LB_WARN("cdr: queue full (%d so far)", 3);
  const std::string out = Written();
  // 2026-12-05T07:50:01.123Z listener: port 5
  const size_t first = std::string("2026-12-05T07:50:01.123Z listener: port 5\n").size();
  const size_t second =
      std::string("2026-12-05T07:50:01.123Z WARNING: cdr: queue full (3 so far)\n").size();
  ASSERT_EQ(out.size(), first + second) << out;
  EXPECT_EQ(out.substr(10, 1), "T");
  EXPECT_EQ(out.substr(23, 19), "Z listener: port 5\n");
  EXPECT_NE(out.find("Z WARNING: cdr: queue full (3 so far)\n"), std::string::npos) << out;
}

TEST_F(LogTest, TextKeepsOneMessageOnOneLine) {
  LB_WARN("api: request from %s did not parse", std::string("evil\ninjected\x01"));
  const std::string out = Written();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_NE(out.find("evil\\ninjected\\x01 did not parse"), std::string::npos) << out;
}

TEST_F(LogTest, LevelFiltersMessagesBelowIt) {
  SetLogLevel(LogLevel::kWarning);
  LB_DEBUG("debug %d", 1);
  LB_LOG("info %d", 2);
  LB_WARN("warning %d", 3);
  LB_ERROR("error %d", 4);
  const std::string out = Written();
  EXPECT_EQ(out.find("debug 1"), std::string::npos);
  EXPECT_EQ(out.find("info 2"), std::string::npos);
  EXPECT_NE(out.find("WARNING: warning 3"), std::string::npos);
  EXPECT_NE(out.find("ERROR: error 4"), std::string::npos);
  SetLogLevel(LogLevel::kDebug);
  LB_DEBUG("debug %d", 5);
  EXPECT_NE(Written().find("DEBUG: debug 5"), std::string::npos);
}

TEST_F(LogTest, JsonLineIsOneObjectWithFields) {
  SetLogFormat(LogFormat::kJson);
  LogWithFields(LogLevel::kWarning, {{"line", "sim/200"}}, "modem %s: device went away", "sim/200");
  const std::string out = Written();
  ASSERT_EQ(out.back(), '\n');
  ASSERT_EQ(out.substr(0, 9), "{\"time\":\"");
  // {"time":"2026-12-05T07:50:01.123Z",...
  EXPECT_EQ(out.substr(9 + 24, 1), "\"");
  EXPECT_EQ(out.substr(9 + 24),
            "\",\"level\":\"warning\",\"message\":\"modem sim/200: device went away\","
            "\"line\":\"sim/200\"}\n");
}

TEST_F(LogTest, JsonEscapesWhatAPeerSends) {
  EXPECT_EQ(FormatJsonLogLine("t", LogLevel::kInfo, "a\"b\\c\nd\te\x01\x7f", {}),
            R"({"time":"t","level":"info","message":"a\"b\\c\nd\te\u0001\u007f"})");
  // Valid UTF-8 passes; bytes that are not UTF-8 become U+FFFD, one each.
  EXPECT_EQ(FormatJsonLogLine("t", LogLevel::kError, "caf\xc3\xa9 \xff\xc3 \xed\xa0\x80", {}),
            R"({"time":"t","level":"error","message":"café \ufffd\ufffd \ufffd\ufffd\ufffd"})");
  // A field cannot replace the fixed keys.
  EXPECT_EQ(FormatJsonLogLine("t", LogLevel::kDebug, "m", {{"level", "x"}, {"k\"", "v\n"}}),
            R"({"time":"t","level":"debug","message":"m","k\"":"v\n"})");
}

TEST(LogNames, ParseAndName) {
  LogLevel level;
  ASSERT_TRUE(ParseLogLevel("WARN", &level));
  EXPECT_EQ(level, LogLevel::kWarning);
  ASSERT_TRUE(ParseLogLevel("debug", &level));
  EXPECT_EQ(LogLevelName(level), "debug");
  EXPECT_FALSE(ParseLogLevel("verbose", &level));
  LogFormat format;
  ASSERT_TRUE(ParseLogFormat("json", &format));
  EXPECT_EQ(format, LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormat("xml", &format));
}

}  // namespace
}  // namespace linebridge
