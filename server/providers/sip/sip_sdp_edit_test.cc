#include "providers/sip/sip_sdp_edit.h"

#include <gtest/gtest.h>

#include <string>

namespace linebridge::sip {
namespace {

constexpr char kPhone[] =
    "v=0\r\n"
    "o=alice 4711 3 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "a=sendonly\r\n"
    "m=audio 4000 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=recvonly\r\n"
    "a=ptime:20\r\n"
    "m=video 4002 RTP/AVP 96\r\n"
    "a=rtpmap:96 H264/90000\r\n";

TEST(SdpWithDirectionTest, ReplacesEveryDirectionWithOnePerMediaSection) {
  EXPECT_EQ(SdpWithDirection(kPhone, "inactive"),
            "v=0\r\n"
            "o=alice 4711 3 IN IP4 127.0.0.1\r\n"
            "s=-\r\n"
            "c=IN IP4 127.0.0.1\r\n"
            "t=0 0\r\n"
            "m=audio 4000 RTP/AVP 0 8 101\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n"
            "a=ptime:20\r\n"
            "a=inactive\r\n"
            "m=video 4002 RTP/AVP 96\r\n"
            "a=rtpmap:96 H264/90000\r\n"
            "a=inactive\r\n");
}

TEST(SdpWithDirectionTest, ReadsBareLineFeedsAndWritesCrlf) {
  EXPECT_EQ(SdpWithDirection("v=0\no=- 1 1 IN IP4 ::1\nm=audio 9 RTP/AVP 0\n", "sendrecv"),
            "v=0\r\no=- 1 1 IN IP4 ::1\r\nm=audio 9 RTP/AVP 0\r\na=sendrecv\r\n");
  EXPECT_EQ(SdpWithDirection("", "inactive"), "");
}

TEST(SdpVersionTest, ReadsAndSetsTheOriginsSessionVersion) {
  EXPECT_EQ(SdpVersion(kPhone), 3u);
  EXPECT_EQ(SdpVersion("v=0\r\no=- 1 x IN IP4 ::1\r\n"), std::nullopt);
  EXPECT_EQ(SdpVersion("v=0\r\no=- 1 IN IP4 ::1\r\n"), std::nullopt);
  EXPECT_EQ(SdpVersion("v=0\r\n"), std::nullopt);
  const std::string bumped = SdpWithVersion(kPhone, 18446744073709551615u);
  EXPECT_EQ(SdpVersion(bumped), 18446744073709551615u);
  EXPECT_NE(bumped.find("o=alice 4711 18446744073709551615 IN IP4 127.0.0.1\r\n"),
            std::string::npos);
}

TEST(SdpVersionKeeperTest, KeepsTheVersionOfAnUnchangedDescription) {
  SdpVersionKeeper to_far_end;
  EXPECT_EQ(to_far_end.Send(kPhone), kPhone);  // the first: as it is
  EXPECT_EQ(SdpVersion(to_far_end.Send(kPhone)), 3u);
  // The same description with a higher version of its own (a refresh by a
  // party that bumps it anyway): still the version the far end knows.
  EXPECT_EQ(SdpVersion(to_far_end.Send(SdpWithVersion(kPhone, 9))), 3u);
}

TEST(SdpVersionKeeperTest, RaisesTheVersionOfAnEditedDescription) {
  SdpVersionKeeper to_far_end;
  to_far_end.Send(kPhone);
  // The controller's hold: the phone's description edited, same version.
  const std::string held = to_far_end.Send(SdpWithDirection(kPhone, "inactive"));
  EXPECT_EQ(SdpVersion(held), 4u);
  // The phone's own next change carries 4 too: it goes on as 5.
  const std::string phone_next = SdpWithVersion(SdpWithDirection(kPhone, "sendonly"), 4);
  EXPECT_EQ(SdpVersion(to_far_end.Send(phone_next)), 5u);
  // A description well ahead keeps its own version.
  EXPECT_EQ(SdpVersion(to_far_end.Send(SdpWithVersion(kPhone, 40))), 40u);
}

TEST(SdpVersionKeeperTest, PassesOnWhatHasNoReadableOrigin) {
  SdpVersionKeeper keeper;
  EXPECT_EQ(keeper.Send("v=0\r\nm=audio 9 RTP/AVP 0\r\n"), "v=0\r\nm=audio 9 RTP/AVP 0\r\n");
  EXPECT_EQ(keeper.Send(""), "");
}

}  // namespace
}  // namespace linebridge::sip
