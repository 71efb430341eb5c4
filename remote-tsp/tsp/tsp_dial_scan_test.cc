// The pre-scan of destinations (provider_internal.h): TAPI's dialable-address
// grammar for every line, SIP URIs on lines whose server dials them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tsp/provider_internal.h"

namespace linebridge::tsp {
namespace {

TEST(ScanDestination, NumbersAsTapiHasThem) {
  for (bool uris : {false, true}) {
    EXPECT_EQ(ScanDestination("+1 (555) 0100", uris), 0);
    EXPECT_EQ(ScanDestination("*72#,T5550100", uris), 0);
    EXPECT_EQ(ScanDestination("5550100|sub address", uris), 0);
    EXPECT_EQ(ScanDestination("555x0100", uris), LINEERR_INVALADDRESS);
    EXPECT_EQ(ScanDestination("5550100W", uris), LINEERR_DIALDIALTONE);
    EXPECT_EQ(ScanDestination("5550100@", uris), LINEERR_DIALQUIET);
    EXPECT_EQ(ScanDestination("5550100$", uris), LINEERR_DIALBILLING);
    EXPECT_EQ(ScanDestination("carol@pbx", uris), LINEERR_INVALADDRESS);  // no scheme
  }
}

TEST(ScanDestination, UrisOnlyWhereTheLineDialsThem) {
  EXPECT_EQ(ScanDestination("sip:carol@pbx.example.com", true), 0);
  EXPECT_EQ(ScanDestination("SIPS:carol@pbx.example.com;transport=tls", true), 0);
  EXPECT_EQ(ScanDestination("sip:5550100@127.0.0.1:5060", true), 0);
  // Other lines: TAPI's grammar, unchanged ('s' is no dialable character).
  EXPECT_EQ(ScanDestination("sip:carol@pbx.example.com", false), LINEERR_INVALADDRESS);
  EXPECT_EQ(ScanDestination("sips:carol@pbx", false), LINEERR_INVALADDRESS);
  // tel: URIs too (RFC 3966), where the line dials URIs.
  EXPECT_EQ(ScanDestination("tel:+1-555-0100", true), 0);
  EXPECT_EQ(ScanDestination("TEL:7042;phone-context=example.com", true), 0);
  EXPECT_EQ(ScanDestination("tel:+15550100", false), LINEERR_INVALADDRESS);
}

TEST(ScanDestination, MalformedUrisAreInvalAddress) {
  for (const std::string& bad : std::vector<std::string>{
           "sip:", "sips:", "sip:carol @pbx", "sip:<carol@pbx>", "sip:\"c\"@pbx", "sip:c\t@pbx",
        std::string("sip:caf\xc3\xa9@pbx"), "sip:" + std::string(125, 'a')}) {
    EXPECT_EQ(ScanDestination(bad, true), LINEERR_INVALADDRESS) << bad;
  }
  EXPECT_EQ(ScanDestination("sip:" + std::string(124, 'a'), true), 0);  // 128 characters
}

}  // namespace
}  // namespace linebridge::tsp
