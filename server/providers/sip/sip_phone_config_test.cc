#include "providers/sip/sip_phone_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace linebridge
