#include "providers/sip/sip_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "config/config.h"
#include "providers/builtin.h"
#include "providers/sip/sip_mapping.h"

namespace linebridge {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<v1::config::ServerConfig> Parse(const std::string& text) {
  RegisterBuiltinProviders();
  return ParseConfigText(text, "lb.conf");
}

TEST(SipConfigTest, DefaultsApplied) {
  ::setenv("SIP_CONFIG_TEST_PW", "secret", 1);
  auto c = Parse(R"(providers { sip { accounts { name: "a" uri: "sip:alice@127.0.0.1"
      registrar: "127.0.0.1:5060" auth_user: "alice" password_env: "SIP_CONFIG_TEST_PW" } } })");
  ASSERT_TRUE(c.ok()) << c.status();
  const auto& sip = c->providers(0).sip();
  EXPECT_EQ(sip.name(), "sip");
  EXPECT_EQ(sip.bind_address(), "127.0.0.1");
  EXPECT_EQ(sip.accounts(0).transport(), v1::config::SIP_TRANSPORT_UDP);
  EXPECT_EQ(sip.accounts(0).register_expiry_s(), 600u);
  EXPECT_EQ(sip.accounts(0).register_retry_s(), 30u);
}

TEST(SipConfigTest, ErrorsNameFileLineAndField) {
  auto c = Parse(
      "providers { sip {\n"
      "  accounts { name: \"a\" uri: \"sip:alice@127.0.0.1\" }\n"
      "  accounts {\n"
      "    name: \"a\"\n"
      "    uri: \"alice\"\n"
      "    backup_registrar: \"127.0.0.1:5070\"\n"
      "    auth_user: \"alice\"\n"
      "    register_expiry_s: 2\n"
      "  }\n"
      "} }\n");
  ASSERT_FALSE(c.ok());
  const std::string m(c.status().message());
  EXPECT_THAT(m, HasSubstr("lb.conf:4: providers[0].sip.accounts[1].name: duplicate account name"));
  EXPECT_THAT(m, HasSubstr("lb.conf:5: providers[0].sip.accounts[1].uri:"));
  EXPECT_THAT(m, HasSubstr("lb.conf:6: providers[0].sip.accounts[1].backup_registrar: set without "
                           "registrar"));
  EXPECT_THAT(m, HasSubstr("lb.conf:7: providers[0].sip.accounts[1].auth_user: set without "
                           "password_file or password_env"));
  EXPECT_THAT(m, HasSubstr("lb.conf:8: providers[0].sip.accounts[1].register_expiry_s: 2 out of "
                           "range [5, 86400]"));
}

TEST(SipConfigTest, DuplicateProviderNameAcrossKinds) {
  auto c = Parse(R"(providers { sim { name: "x" } }
providers { sip { name: "x" accounts { name: "a" uri: "sip:a@h" } } })");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("lb.conf:2: providers[1].sip.name: duplicate provider name \"x\""));
}

TEST(SipConfigTest, MissingEnvAndUnreadableFileAreErrorsWithoutTheSecret) {
  ::unsetenv("SIP_CONFIG_TEST_UNSET");
  auto c = Parse(R"(providers { sip { accounts { name: "a" uri: "sip:a@h" auth_user: "a"
      password_env: "SIP_CONFIG_TEST_UNSET" } accounts { name: "b" uri: "sip:b@h" auth_user: "b"
      password_file: "/nonexistent/pw" } } })");
  ASSERT_FALSE(c.ok());
  const std::string m(c.status().message());
  EXPECT_THAT(m, HasSubstr("accounts[0].password_env: environment variable SIP_CONFIG_TEST_UNSET "
                           "is not set"));
  EXPECT_THAT(m, HasSubstr("accounts[1].password_file: cannot read \"/nonexistent/pw\""));
}

TEST(SipConfigTest, PasswordFileFirstLine) {
  const std::string path = ::testing::TempDir() + "/sip_pw";
  std::ofstream(path) << "s3cret\nignored\n";
  v1::config::SipAccount a;
  a.set_name("a");
  a.set_password_file(path);
  auto pw = sip::ReadAccountPassword(a);
  ASSERT_TRUE(pw.ok());
  EXPECT_EQ(*pw, "s3cret");
}

TEST(SipMappingTest, FailureResponsesToDisconnectModes) {
  EXPECT_EQ(sip::DisconnectModeForStatus(486), v1::DISCONNECT_MODE_BUSY);
  EXPECT_EQ(sip::DisconnectModeForStatus(404), v1::DISCONNECT_MODE_BADADDRESS);
  EXPECT_EQ(sip::DisconnectModeForStatus(484), v1::DISCONNECT_MODE_BADADDRESS);
  EXPECT_EQ(sip::DisconnectModeForStatus(480), v1::DISCONNECT_MODE_NOANSWER);
  EXPECT_EQ(sip::DisconnectModeForStatus(408), v1::DISCONNECT_MODE_NOANSWER);
  EXPECT_EQ(sip::DisconnectModeForStatus(603), v1::DISCONNECT_MODE_REJECT);
  EXPECT_EQ(sip::DisconnectModeForStatus(503), v1::DISCONNECT_MODE_CONGESTION);
  EXPECT_EQ(sip::DisconnectModeForStatus(488), v1::DISCONNECT_MODE_INCOMPATIBLE);
  EXPECT_EQ(sip::DisconnectModeForStatus(500), v1::DISCONNECT_MODE_UNAVAIL);
  EXPECT_EQ(sip::DisconnectModeForStatus(420), v1::DISCONNECT_MODE_UNKNOWN);
}

TEST(SipMappingTest, DestinationUris) {
  EXPECT_EQ(sip::DestinationUri("sip:bob@127.0.0.1:5090", "pbx"), "sip:bob@127.0.0.1:5090");
  EXPECT_EQ(sip::DestinationUri("bob@10.0.0.1", "pbx"), "sip:bob@10.0.0.1");
  EXPECT_EQ(sip::DestinationUri("+1 (555) 010-0#", "pbx"), "sip:+15550100%23@pbx");
  EXPECT_EQ(sip::DestinationUri("  ", "pbx"), "");
  EXPECT_EQ(sip::DestinationUri("sip:a b@c", "pbx"), "");
}

TEST(SipMappingTest, SdpAudio) {
  sip::SdpAudio audio;
  ASSERT_TRUE(sip::ParseSdpAudio(
      "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 8 0 101\r\nc=IN IP4 10.0.0.2\r\n", &audio));
  EXPECT_EQ(audio.address, "10.0.0.2");
  EXPECT_EQ(audio.port, 4000);
  EXPECT_EQ(audio.payload_type, 8);
  EXPECT_FALSE(sip::ParseSdpAudio("v=0\r\nm=video 4000 RTP/AVP 96\r\n", &audio));
}

TEST(SipMappingTest, SdpAudioToleratesLineEndingsAndPortCounts) {
  sip::SdpAudio audio;
  // Bare LF, tabs, a port count and a multicast TTL.
  ASSERT_TRUE(
      sip::ParseSdpAudio("v=0\nm=audio\t4000/2 RTP/AVP 0\nc=IN IP4 224.2.1.1/127\n", &audio));
  EXPECT_EQ(audio.address, "224.2.1.1");
  EXPECT_EQ(audio.port, 4000);
  EXPECT_EQ(audio.payload_type, 0);
  // A bare CR ends a line: it never stays inside the address (a fuzzer's find).
  ASSERT_TRUE(
      sip::ParseSdpAudio("v=0\r\nc=IN IP4 10.0.0.1\r\rm=audio 4000 RTP/AVP 8\r\n", &audio));
  EXPECT_EQ(audio.address, "10.0.0.1");
  ASSERT_TRUE(sip::ParseSdpAudio("c=IN IP4 10.0.0.1\rX\nm=audio 4000 RTP/AVP 8\n", &audio));
  EXPECT_EQ(audio.address, "10.0.0.1");
}

TEST(SipMappingTest, SdpAudioRefusesAddressesThatAreNotAddresses) {
  sip::SdpAudio audio;
  EXPECT_FALSE(sip::ParseSdpAudio("c=IN IP4 \"10.0.0.1\"\nm=audio 4000 RTP/AVP 8\n", &audio));
  EXPECT_FALSE(sip::ParseSdpAudio("c=IN IP4 10.0.0.1\x01\nm=audio 4000 RTP/AVP 8\n", &audio));
  // A bad media-level address falls back to the session-level one.
  ASSERT_TRUE(sip::ParseSdpAudio(
      "c=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 8\nc=IN IP4 a;b\n", &audio));
  EXPECT_EQ(audio.address, "10.0.0.1");
  EXPECT_FALSE(sip::ParseSdpAudio("c=IN IP4 10.0.0.1\nm=audio 70000 RTP/AVP 8\n", &audio));
}

TEST(SipMappingTest, PartiesFromIdentities) {
  v1::PartyId p = sip::PartyFromIdentity("\"Alice A\"", "1001", "pbx");
  EXPECT_EQ(p.number(), "1001");
  EXPECT_EQ(p.name(), "Alice A");
  EXPECT_TRUE(p.available());
  EXPECT_TRUE(sip::PartyFromIdentity("Anonymous", "anonymous", "anonymous.invalid").blocked());
}

}  // namespace
}  // namespace linebridge
