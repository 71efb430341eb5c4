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

TEST(SipConfigTest, TlsAccountsAndSipsUris) {
  // The system's bundle stands for the authorities (the loader checks the
  // file holds PEM certificates).
  auto c = Parse(R"(providers { sip {
      accounts { name: "a" uri: "sips:alice@127.0.0.1" }
      accounts { name: "b" uri: "sip:bob@127.0.0.1" transport: SIP_TRANSPORT_TLS }
      tls { ca_file: "/etc/ssl/certs/ca-certificates.crt" } } })");
  ASSERT_TRUE(c.ok()) << c.status();
  const auto& sip = c->providers(0).sip();
  EXPECT_EQ(sip.accounts(0).transport(), v1::config::SIP_TRANSPORT_TLS);  // from sips:
  EXPECT_EQ(sip.accounts(1).transport(), v1::config::SIP_TRANSPORT_TLS);
}

TEST(SipConfigTest, TlsErrorsNameFileLineAndField) {
  auto c = Parse(
      "providers { sip {\n"
      "  accounts { name: \"a\" uri: \"sips:alice@127.0.0.1\"\n"
      "    transport: SIP_TRANSPORT_UDP }\n"
      "  tls {\n"
      "    ca_file: \"/nonexistent/ca.pem\"\n"
      "    cert_file: \"/nonexistent/cert.pem\"\n"
      "    key_file: \"key.pem\"\n"
      "  }\n"
      "} }\n");
  ASSERT_FALSE(c.ok());
  const std::string m(c.status().message());
  EXPECT_THAT(m, HasSubstr("lb.conf:3: providers[0].sip.accounts[0].transport: a sips: account "
                           "uri needs transport SIP_TRANSPORT_TLS"));
  EXPECT_THAT(m, HasSubstr("lb.conf:5: providers[0].sip.tls.ca_file: cannot read "
                           "\"/nonexistent/ca.pem\": No such file or directory"));
  EXPECT_THAT(m, HasSubstr("lb.conf:6: providers[0].sip.tls.cert_file: cannot read "
                           "\"/nonexistent/cert.pem\""));
  EXPECT_THAT(m, HasSubstr("lb.conf:7: providers[0].sip.tls.key_file: \"key.pem\" is not an "
                           "absolute path"));
}

TEST(SipConfigTest, TlsNeedsAuthoritiesUnlessVerificationIsOff) {
  auto c = Parse(R"(providers { sip { accounts { name: "a" uri: "sips:alice@127.0.0.1" } } })");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("providers[0].sip.tls.ca_file: an account uses TLS"));
  c = Parse(R"(providers { sip { accounts { name: "a" uri: "sips:alice@127.0.0.1" }
      tls { verify_server: false } } })");
  EXPECT_TRUE(c.ok()) << c.status();
  // A file that is not PEM, and a certificate without its key.
  c = Parse(R"(providers { sip { accounts { name: "a" uri: "sips:alice@127.0.0.1" }
      tls { ca_file: "/etc/hostname" cert_file: "/etc/hostname" } } })");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(),
              HasSubstr("sip.tls.ca_file: \"/etc/hostname\" holds no PEM certificate"));
  EXPECT_THAT(c.status().message(),
              HasSubstr("sip.tls.key_file: set cert_file and key_file together"));
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
  // tel: URIs (RFC 3966) as RFC 3261 section 19.1.6 maps them.
  EXPECT_EQ(sip::DestinationUri("tel:+1-555-010-0100", "pbx"), "sip:+15550100100@pbx;user=phone");
  EXPECT_EQ(sip::DestinationUri("TEL:7042;phone-context=example.com", "pbx"),
            "sip:7042;phone-context=example.com@pbx;user=phone");
  EXPECT_EQ(sip::DestinationUri("tel:*72#", "pbx"), "sip:*72%23@pbx;user=phone");
  for (const char* bad : {"tel:", "tel:+", "tel:555x0100", "tel:5+55", "tel:555;a b", "tel:555;x@y"}) {
    EXPECT_EQ(sip::DestinationUri(bad, "pbx"), "") << bad;
  }
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

TEST(SipMappingTest, SdpTelephoneEvents) {
  sip::SdpAudio a;
  ASSERT_TRUE(sip::ParseSdpAudio(sip::LocalSdp("127.0.0.1", 4000), &a));
  EXPECT_EQ(a.telephone_event, sip::kTelephoneEventPayloadType);
  ASSERT_TRUE(sip::ParseSdpAudio("c=IN IP4 10.0.0.1\r\nm=audio 5 RTP/AVP 8 96\r\n"
                                 "a=rtpmap:96 telephone-event/8000\r\n",
                                 &a));
  EXPECT_EQ(a.payload_type, 8);
  EXPECT_EQ(a.telephone_event, 96);
  ASSERT_TRUE(sip::ParseSdpAudio("c=IN IP4 10.0.0.1\r\nm=audio 5 RTP/AVP 0\r\n", &a));
  EXPECT_EQ(a.telephone_event, -1);
}

TEST(SipMappingTest, DtmfFromInfoBodies) {
  EXPECT_EQ(sip::DtmfFromInfo("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n"), "5");
  EXPECT_EQ(sip::DtmfFromInfo("Application/DTMF-Relay", "signal= #\r\n"), "#");
  EXPECT_EQ(sip::DtmfFromInfo("application/dtmf-relay", "Signal=11\r\n"), "#");
  EXPECT_EQ(sip::DtmfFromInfo("application/dtmf", "9\r\n"), "9");
  EXPECT_EQ(sip::DtmfFromInfo("application/dtmf", "x"), "");
  EXPECT_EQ(sip::DtmfFromInfo("text/plain", "Signal=5"), "");
  EXPECT_EQ(sip::DtmfFromInfo("application/dtmf-relay", "Signal=!"), "");
}

TEST(SipMappingTest, SipfragStatus) {
  EXPECT_EQ(sip::SipfragStatus("SIP/2.0 200 OK\r\n"), 200);
  EXPECT_EQ(sip::SipfragStatus("SIP/2.0 100 Trying"), 100);
  EXPECT_EQ(sip::SipfragStatus("SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n"), 486);
  EXPECT_EQ(sip::SipfragStatus("HTTP/1.1 200 OK"), -1);
  EXPECT_EQ(sip::SipfragStatus("SIP/2.0 2"), -1);
}

TEST(SipMappingTest, RedirectingIds) {
  sip::Redirecting r;
  ASSERT_TRUE(sip::RedirectingFromDiversion(
      "\"Bob Boss\" <sip:3000@pbx>;reason=user-busy;counter=1, <sip:4000@pbx>;reason=no-answer",
      &r));
  EXPECT_EQ(r.party.number(), "3000");
  EXPECT_EQ(r.party.name(), "Bob Boss");
  EXPECT_EQ(r.reason, v1::CALL_REASON_FWDBUSY);
  ASSERT_TRUE(sip::RedirectingFromDiversion("<sip:4000@pbx>;reason=\"no-answer\"", &r));
  EXPECT_EQ(r.reason, v1::CALL_REASON_FWDNOANSWER);
  ASSERT_TRUE(sip::RedirectingFromDiversion("<tel:+15550100>;reason=unconditional", &r));
  EXPECT_EQ(r.party.number(), "+15550100");
  EXPECT_EQ(r.reason, v1::CALL_REASON_FWDUNCOND);
  EXPECT_FALSE(sip::RedirectingFromDiversion("garbage", &r));
  ASSERT_TRUE(sip::RedirectingFromHistoryInfo(
      "<sip:3001@pbx>;index=1, <sip:alice@pbx;cause=408>;index=1.1", &r));
  EXPECT_EQ(r.party.number(), "3001");
  EXPECT_EQ(r.reason, v1::CALL_REASON_FWDNOANSWER);
  ASSERT_TRUE(sip::RedirectingFromHistoryInfo(
      "<sip:3002@pbx?Reason=SIP%3Bcause%3D486>;index=1, <sip:alice@pbx?Reason=SIP%3Bcause%3D486>;index=1.1",
      &r));
  EXPECT_EQ(r.party.number(), "3002");
  EXPECT_EQ(r.reason, v1::CALL_REASON_FWDBUSY);
  EXPECT_FALSE(sip::RedirectingFromHistoryInfo("<sip:alice@pbx>;index=1", &r));
}

}  // namespace
}  // namespace linebridge
