// Profile choice from identities; the full probe conversations are the
// probe_*.at transcripts.
#include "providers/modem/at/probe.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/modem/at/test_fakes.h"

namespace linebridge::at {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ParseFclassList, Forms) {
  EXPECT_THAT(ParseFclassList("0,1,2,8"), ElementsAre("0", "1", "2", "8"));
  EXPECT_THAT(ParseFclassList("(0,1,1.0,2,2.0,8)"), ElementsAre("0", "1", "1.0", "2", "2.0", "8"));
  EXPECT_THAT(ParseFclassList("+FCLASS: (0-2,8)"), ElementsAre("0", "1", "2", "8"));
  EXPECT_THAT(ParseFclassList("0,1,8,80"), ElementsAre("0", "1", "8", "80"));
  EXPECT_THAT(ParseFclassList(""), IsEmpty());
  EXPECT_THAT(ParseFclassList("(9999-1)"), ElementsAre("9999-1"));  // no silly ranges
}

TEST(DescribeIdentity, MakerAndModelElseAtiElseUnidentified) {
  ModemIdentity id;
  EXPECT_EQ(DescribeIdentity(id), "an unidentified modem");
  id.ati = {"", "spandsp", "  "};  // a modem that answers only ATI (iaxmodem)
  EXPECT_EQ(DescribeIdentity(id), "ATI: spandsp");
  id.model = "USR5637";
  EXPECT_EQ(DescribeIdentity(id), "USR5637");
  id.manufacturer = "U.S. Robotics";
  EXPECT_EQ(DescribeIdentity(id), "U.S. Robotics USR5637");
}

TEST(PickProfile, Rules) {
  ModemIdentity id;
  EXPECT_EQ(PickProfile(id), ModemProfile::kHayesData);  // answers nothing else
  id.fclass = {"0", "1", "2.0"};
  EXPECT_EQ(PickProfile(id), ModemProfile::kHayesData);
  id.fclass = {"0", "1", "8"};
  EXPECT_EQ(PickProfile(id), ModemProfile::kV253Voice);
  id.fclass = {"80"};  // 80 is not 8
  EXPECT_EQ(PickProfile(id), ModemProfile::kHayesData);
  id.cgmi = true;  // +CGMI alone is not enough
  EXPECT_EQ(PickProfile(id), ModemProfile::kHayesData);
  id.cpas = true;
  EXPECT_EQ(PickProfile(id), ModemProfile::k3gppCellular);
  id.fclass = {"0", "8"};
  EXPECT_EQ(PickProfile(id), ModemProfile::k3gppCellular);
}

TEST(Probe, KeepsRawIdentity) {
  testing::FakePort port;
  testing::FakeClock clock;
  CommandQueue queue(port, clock);
  absl::StatusOr<ModemIdentity> got = absl::UnknownError("not done");
  Probe(queue, [&got](absl::StatusOr<ModemIdentity> id) { got = std::move(id); });
  const char* answers[] = {
      "ATE0\r\r\nOK\r\n",
      "\r\nIAXmodem\r\nspandsp\r\nOK\r\n",
      "\r\n+GMI: spandsp\r\nOK\r\n",
      "\r\nERROR\r\n",
      "\r\nIAXmodem\r\nOK\r\n",
      "\r\nERROR\r\n",
      "\r\n0,1,1.0\r\nOK\r\n",
      "\r\nERROR\r\n",
  };
  for (const char* answer : answers) {
    ASSERT_FALSE(port.Take().empty());
    queue.OnBytes(answer);
  }
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->profile, ModemProfile::kHayesData);
  EXPECT_THAT(got->ati, ElementsAre("IAXmodem", "spandsp"));
  EXPECT_EQ(got->manufacturer, "spandsp");
  EXPECT_EQ(got->model, "IAXmodem");
  EXPECT_EQ(got->fclass_raw, "0,1,1.0");
  EXPECT_FALSE(got->cgmi);
  EXPECT_FALSE(got->cpas);
  EXPECT_TRUE(queue.idle());
  EXPECT_EQ(ProfileName(got->profile), "hayes-data");
}

}  // namespace
}  // namespace linebridge::at
