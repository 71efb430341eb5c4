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

TEST(ArgsTest, TlsFlagsAndEnvironment) {
  Invocation plain;
  ASSERT_TRUE(Parse({"lines"}, &plain).ok());
  EXPECT_FALSE(plain.global.tls);

  Invocation system_roots;
  ASSERT_TRUE(Parse({"--tls", "lines"}, &system_roots).ok());
  EXPECT_TRUE(system_roots.global.tls);
  EXPECT_EQ(system_roots.global.tls_ca, "");

  // Any --tls-* flag implies TLS; both spellings; also after the command.
  Invocation all;
  ASSERT_TRUE(Parse({"--tls-ca", "ca.pem", "--tls-cert=c.pem", "lines", "--tls-key", "k.pem",
                     "--tls-server-name=pbx.example"},
                    &all)
                  .ok());
  EXPECT_TRUE(all.global.tls);
  EXPECT_EQ(all.global.tls_ca, "ca.pem");
  EXPECT_EQ(all.global.tls_cert, "c.pem");
  EXPECT_EQ(all.global.tls_key, "k.pem");
  EXPECT_EQ(all.global.tls_server_name, "pbx.example");
  Invocation name_only;
  ASSERT_TRUE(Parse({"--tls-server-name", "x", "lines"}, &name_only).ok());
  EXPECT_TRUE(name_only.global.tls);

  // The environment gives defaults; the command line wins.
  const Environment env = {{"LINEBRIDGE_TLS_CA", "env-ca.pem"},
                           {"LINEBRIDGE_TLS_CERT", "env-c.pem"},
                           {"LINEBRIDGE_TLS_KEY", "env-k.pem"},
                           {"LINEBRIDGE_TLS_SERVER_NAME", ""}};
  Invocation from_env;
  ASSERT_TRUE(
      ParseCommandLine({"--tls-ca", "flag-ca.pem", "lines"}, kTable, "", &from_env, env).ok());
  EXPECT_TRUE(from_env.global.tls);
  EXPECT_EQ(from_env.global.tls_ca, "flag-ca.pem");
  EXPECT_EQ(from_env.global.tls_cert, "env-c.pem");
  EXPECT_EQ(from_env.global.tls_key, "env-k.pem");
  EXPECT_EQ(from_env.global.tls_server_name, "");
  Invocation env_switch;
  ASSERT_TRUE(ParseCommandLine({"lines"}, kTable, "", &env_switch, {{"LINEBRIDGE_TLS", "1"}}).ok());
  EXPECT_TRUE(env_switch.global.tls);
  Invocation env_off;
  ASSERT_TRUE(ParseCommandLine({"lines"}, kTable, "", &env_off, {{"LINEBRIDGE_TLS", "no"}}).ok());
  EXPECT_FALSE(env_off.global.tls);

  // Usage errors.
  Invocation a;
  absl::Status status = Parse({"--tls-cert", "c.pem", "lines"}, &a);
  EXPECT_TRUE(IsUsageError(status));
  EXPECT_EQ(status.message(), "--tls-cert needs --tls-key");
  Invocation b;
  status = Parse({"lines", "--tls-key=k.pem"}, &b);
  EXPECT_EQ(status.message(), "--tls-key needs --tls-cert");
  Invocation c;
  status = Parse({"--tls-ca"}, &c);
  EXPECT_EQ(status.message(), "--tls-ca needs a value");
  Invocation d;
  status = Parse({"--tls-ca=", "lines"}, &d);
  EXPECT_EQ(status.message(), "--tls-ca needs a value");
  Invocation e;
  status = ParseCommandLine({"lines"}, kTable, "", &e, {{"LINEBRIDGE_TLS", "maybe"}});
  EXPECT_TRUE(IsUsageError(status));
  EXPECT_EQ(status.message(), "bad LINEBRIDGE_TLS=\"maybe\" (want 1 or 0)");
  Invocation f;
  EXPECT_TRUE(IsUsageError(Parse({"--tls=yes", "lines"}, &f)));  // a switch takes no value
  EXPECT_THAT(UsageText(kTable), ::testing::HasSubstr("--tls-ca FILE"));
}

TEST(ArgsTest, TokenFileFlagAndEnvironment) {
  Invocation flag;
  ASSERT_TRUE(Parse({"--token-file", "/run/me.token", "lines"}, &flag).ok());
  EXPECT_EQ(flag.global.token_file, "/run/me.token");
  EXPECT_FALSE(flag.global.tls);  // a token does not imply TLS
  Invocation env;
  ASSERT_TRUE(
      ParseCommandLine({"lines"}, kTable, "", &env, {{"LINEBRIDGE_TOKEN_FILE", "/env.token"}}).ok());
  EXPECT_EQ(env.global.token_file, "/env.token");
  Invocation missing;
  EXPECT_FALSE(Parse({"lines", "--token-file"}, &missing).ok());
  // There is no flag that takes a token itself.
  Invocation token;
  EXPECT_FALSE(Parse({"--token", "lb1.x.y", "lines"}, &token).ok());
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
