#include "linectl/args.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linebridge::linectl {
namespace {

using ::testing::ElementsAre;

const CommandSpec kTable[] = {
    {"lines", "[list]", 0, 0, "", ""},
    {"lines caps", "<line>", 1, 1, "", ""},
    {"call make", "<line> <destination>", 2, 2, "media= uui=", ""},
    {"call transfer-complete", "<call> <consultation>", 2, 2, "conference", ""},
    {"watch", "", 0, 0, "line= count= duration=", ""},
};

absl::Status Parse(std::vector<std::string> argv, Invocation* invocation,
                   absl::string_view env = "") {
  return ParseCommandLine(argv, kTable, env, invocation);
}

TEST(ArgsTest, DefaultsAndGlobalFlags) {
  Invocation a;
  ASSERT_TRUE(Parse({"lines"}, &a).ok());
  EXPECT_THAT(a.global.servers, ElementsAre("127.0.0.1:50051"));
  EXPECT_FALSE(a.global.json);
  EXPECT_EQ(a.global.timeout, absl::Seconds(5));
  EXPECT_EQ(a.command, &kTable[0]);

  Invocation b;
  ASSERT_TRUE(
      Parse({"--server", "a:1,b:2", "--json", "--timeout=250ms", "lines"}, &b, "env:9").ok());
  EXPECT_THAT(b.global.servers, ElementsAre("a:1", "b:2"));
  EXPECT_TRUE(b.global.json);
  EXPECT_EQ(b.global.timeout, absl::Milliseconds(250));

  Invocation c;
  ASSERT_TRUE(Parse({"--timeout", "2", "lines"}, &c, "env:9").ok());
  EXPECT_THAT(c.global.servers, ElementsAre("env:9"));
  EXPECT_EQ(c.global.timeout, absl::Seconds(2));
}

TEST(ArgsTest, LongestPathWinsAndArgumentsCollect) {
  Invocation invocation;
  ASSERT_TRUE(Parse({"lines", "caps", "sim/100"}, &invocation).ok());
  EXPECT_EQ(invocation.command, &kTable[1]);
  EXPECT_THAT(invocation.args, ElementsAre("sim/100"));
}

TEST(ArgsTest, CommandFlags) {
  Invocation invocation;
  ASSERT_TRUE(
      Parse({"call", "make", "sim/100", "--media", "fax", "101", "--uui=hello"}, &invocation).ok());
  EXPECT_THAT(invocation.args, ElementsAre("sim/100", "101"));
  EXPECT_EQ(invocation.Get("media"), "fax");
  EXPECT_EQ(invocation.Get("uui"), "hello");
  EXPECT_EQ(invocation.Get("missing", "x"), "x");

  Invocation watch;
  ASSERT_TRUE(
      Parse({"watch", "--line", "a", "--line", "b", "--count", "3", "--json"}, &watch).ok());
  EXPECT_THAT(watch.GetAll("line"), ElementsAre("a", "b"));
  EXPECT_EQ(watch.Get("count"), "3");
  EXPECT_TRUE(watch.global.json);  // global flags are accepted after the command too

  Invocation transfer;
  ASSERT_TRUE(Parse({"call", "transfer-complete", "c1", "c2", "--conference"}, &transfer).ok());
  EXPECT_TRUE(transfer.Has("conference"));
}

TEST(ArgsTest, DoubleDashEndsFlags) {
  Invocation invocation;
  ASSERT_TRUE(Parse({"call", "make", "--", "sim/100", "--weird"}, &invocation).ok());
  EXPECT_THAT(invocation.args, ElementsAre("sim/100", "--weird"));
}

TEST(ArgsTest, UsageErrors) {
  Invocation a;
  absl::Status status = Parse({"call", "make", "sim/100"}, &a);
  EXPECT_TRUE(IsUsageError(status));
  EXPECT_EQ(a.command, &kTable[2]);  // usage of the matched command applies
  EXPECT_EQ(status.message(), "missing arguments");

  Invocation b;
  EXPECT_TRUE(IsUsageError(Parse({"lines", "extra"}, &b)));
  Invocation c;
  EXPECT_TRUE(IsUsageError(Parse({"call", "make", "a", "b", "--color", "red"}, &c)));
  Invocation d;
  EXPECT_TRUE(IsUsageError(Parse({"bogus"}, &d)));
  EXPECT_EQ(d.command, nullptr);
  Invocation e;
  EXPECT_TRUE(IsUsageError(Parse({}, &e)));
  Invocation f;
  EXPECT_TRUE(IsUsageError(Parse({"--timeout", "soon", "lines"}, &f)));
  Invocation g;
  EXPECT_TRUE(IsUsageError(Parse({"call", "make", "a", "b", "--media"}, &g)));
  Invocation h;
  EXPECT_TRUE(IsUsageError(Parse({"call", "transfer-complete", "a", "b", "--conference=1"}, &h)));
  EXPECT_FALSE(IsUsageError(absl::InvalidArgumentError("server said no")));
}

TEST(ArgsTest, Help) {
  Invocation invocation;
  ASSERT_TRUE(Parse({"--help"}, &invocation).ok());
  EXPECT_TRUE(invocation.global.help);
  EXPECT_THAT(UsageText(kTable), ::testing::HasSubstr("call make <line> <destination>"));
  EXPECT_EQ(UsageLine(kTable[1]), "linectl lines caps <line>");
}

TEST(ArgsTest, Timeouts) {
  absl::Duration d;
  EXPECT_TRUE(ParseTimeout("10s", &d));
  EXPECT_EQ(d, absl::Seconds(10));
  EXPECT_TRUE(ParseTimeout("1.5", &d));
  EXPECT_EQ(d, absl::Milliseconds(1500));
  EXPECT_FALSE(ParseTimeout("-1s", &d));
  EXPECT_FALSE(ParseTimeout("abc", &d));
}

}  // namespace
}  // namespace linebridge::linectl
