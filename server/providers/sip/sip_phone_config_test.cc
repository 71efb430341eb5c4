#include "providers/sip/sip_phone_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "config/config.h"
#include "providers/builtin.h"

namespace linebridge {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<v1::config::ServerConfig> Parse(const std::string& text) {
  RegisterBuiltinProviders();
  return ParseConfigText(text, "lb.conf");
}

TEST(SipPhoneConfigTest, DefaultsAndPresenceServer) {
  auto c = Parse(R"(providers { sip {
      accounts { name: "ctl" uri: "sip:ctl@pbx" outbound_proxy: "127.0.0.1:5062" }
      phones { name: "desk" uri: "sip:alice@pbx" control_account: "ctl" } } })");
  ASSERT_TRUE(c.ok()) << c.status();
  const auto& sip = c->providers(0).sip();
  const auto& p = sip.phones(0);
  ASSERT_EQ(p.auto_answer_size(), 2);
  EXPECT_EQ(p.auto_answer(0), v1::config::SIP_AUTO_ANSWER_CALL_INFO);
  EXPECT_EQ(p.auto_answer(1), v1::config::SIP_AUTO_ANSWER_ALERT_INFO);
  EXPECT_EQ(p.subscribe_expiry_s(), 600u);
  EXPECT_EQ(p.answer_timeout_s(), 20u);
  EXPECT_EQ(sip::PresenceServerOf(p, sip.accounts(0)), "127.0.0.1:5062");
  v1::config::SipPhone direct = p;
  direct.set_presence_server("10.0.0.7:5060");
  EXPECT_EQ(sip::PresenceServerOf(direct, sip.accounts(0)), "10.0.0.7:5060");
  v1::config::SipAccount bare;
  bare.set_registrar("pbx.example.com");
  EXPECT_EQ(sip::PresenceServerOf(p, bare), "pbx.example.com");
  EXPECT_EQ(sip::PresenceServerOf(p, v1::config::SipAccount()), "pbx");
}

TEST(SipPhoneConfigTest, ErrorsNameFileLineAndField) {
  auto c = Parse(
      "providers { sip {\n"
      "  accounts { name: \"ctl\" uri: \"sip:ctl@pbx\" }\n"
      "  phones { name: \"desk\" uri: \"sip:alice@pbx\" control_account: \"ctl\" }\n"
      "  phones {\n"
      "    name: \"desk\"\n"
      "    uri: \"alice@pbx\"\n"
      "    control_account: \"nobody\"\n"
      "    presence_server: \"pbx:99999\"\n"
      "    subscribe_expiry_s: 2\n"
      "    answer_timeout_s: 301\n"
      "    display_name: \"a \\\"quoted\\\" name\"\n"
      "  }\n"
      "  phones { name: \"ctl\" uri: \"sip:alice@pbx\" }\n"
      "  phones { name: \"x\" uri: \"sip:x@pbx\" control_account: \"ctl\"\n"
      "    auto_answer: SIP_AUTO_ANSWER_CALL_INFO\n"
      "    auto_answer: SIP_AUTO_ANSWER_CALL_INFO }\n"
      "} }\n");
  ASSERT_FALSE(c.ok());
  const std::string m(c.status().message());
  EXPECT_THAT(m, HasSubstr("lb.conf:5: providers[0].sip.phones[1].name: duplicate phone name"));
  EXPECT_THAT(m, HasSubstr("lb.conf:6: providers[0].sip.phones[1].uri: \"alice@pbx\" is not"));
  EXPECT_THAT(m, HasSubstr("lb.conf:7: providers[0].sip.phones[1].control_account: no account "
                           "named \"nobody\""));
  EXPECT_THAT(m, HasSubstr("lb.conf:8: providers[0].sip.phones[1].presence_server:"));
  EXPECT_THAT(m, HasSubstr("lb.conf:9: providers[0].sip.phones[1].subscribe_expiry_s: 2 out of "
                           "range [5, 86400]"));
  EXPECT_THAT(m, HasSubstr("lb.conf:10: providers[0].sip.phones[1].answer_timeout_s: 301 out of "
                           "range [2, 300]"));
  EXPECT_THAT(m, HasSubstr("lb.conf:11: providers[0].sip.phones[1].display_name:"));
  EXPECT_THAT(m, HasSubstr("lb.conf:13: providers[0].sip.phones[2].name: \"ctl\" is an "
                           "account's name"));
  EXPECT_THAT(m, HasSubstr("providers[0].sip.phones[2].uri: duplicate phone uri"));
  EXPECT_THAT(m, HasSubstr("providers[0].sip.phones[2].control_account: required"));
  EXPECT_THAT(m, HasSubstr("providers[0].sip.phones[3].auto_answer: "
                           "SIP_AUTO_ANSWER_CALL_INFO listed twice"));
}

TEST(SipPhoneConfigTest, PbxControlDefaultsAndErrors) {
  constexpr char kAccount[] = "accounts { name: \"ctl\" uri: \"sip:ctl@pbx\" }\n";
  auto c = Parse(absl::StrCat("providers { sip { ", kAccount,
                              "pbx_control { kamailio_jsonrpc: \"127.0.0.1:8090\" } } }"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->providers(0).sip().pbx_control().timeout_ms(), 2000u);
  EXPECT_FALSE(Parse(absl::StrCat("providers { sip { ", kAccount, "} }"))
                   ->providers(0)
                   .sip()
                   .has_pbx_control());
  auto bad = Parse(
      absl::StrCat("providers { sip {\n", kAccount,
                   "  pbx_control {\n"
                   "    kamailio_jsonrpc: \"pbx.example.com:8090\"\n"
                   "    timeout_ms: 50\n"
                   "  }\n"
                   "} }\n"));
  ASSERT_FALSE(bad.ok());
  const std::string m(bad.status().message());
  EXPECT_THAT(m, HasSubstr("lb.conf:4: providers[0].sip.pbx_control.kamailio_jsonrpc: "
                           "\"pbx.example.com:8090\" is not ipv4:port"));
  EXPECT_THAT(m, HasSubstr("lb.conf:5: providers[0].sip.pbx_control.timeout_ms: 50 out of "
                           "range [100, 10000]"));
  for (const char* address : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", ":8090"}) {
    EXPECT_FALSE(Parse(absl::StrCat("providers { sip { ", kAccount,
                                    "pbx_control { kamailio_jsonrpc: \"", address, "\" } } }"))
                     .ok())
        << address;
  }
  EXPECT_THAT(std::string(Parse(absl::StrCat("providers { sip { ", kAccount, "pbx_control { } } }"))
                              .status()
                              .message()),
              HasSubstr("pbx_control.kamailio_jsonrpc: required"));
}

}  // namespace
}  // namespace linebridge
