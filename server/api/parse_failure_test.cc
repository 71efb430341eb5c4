#include "api/parse_failure.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"

namespace linebridge {
namespace {

class ParseFailureLogTest : public ::testing::Test {
 protected:
  ParseFailureLog::Options Opts(size_t max_peers = 4096) {
    ParseFailureLog::Options o;
    o.interval = absl::Seconds(10);
    o.max_peers = max_peers;
    o.clock = [this] { return now_; };
    o.sink = [this](const std::string& line) { lines_.push_back(line); };
    return o;
  }
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
  std::vector<std::string> lines_;
};

TEST_F(ParseFailureLogTest, PeerAddressDropsSchemeAndPort) {
  EXPECT_EQ(ParseFailureLog::PeerAddress("ipv4:127.0.0.1:5432"), "127.0.0.1");
  EXPECT_EQ(ParseFailureLog::PeerAddress("ipv6:[::1]:5432"), "::1");
  EXPECT_EQ(ParseFailureLog::PeerAddress("unix:/run/x"), "/run/x");
}

TEST_F(ParseFailureLogTest, OneLinePerIntervalPerPeerWithTheCount) {
  ParseFailureLog log(Opts());
  for (int i = 0; i < 100; ++i) log.Record("ipv4:10.0.0.1:" + std::to_string(1000 + i), "/m", "x");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_TRUE(absl::StrContains(lines_[0], "a request from 10.0.0.1 to /m did not parse (x)"))
      << lines_[0];
  // Another peer gets its own first line.
  log.Record("ipv4:10.0.0.2:1", "/m", "x");
  ASSERT_EQ(lines_.size(), 2u);

  now_ += absl::Seconds(9);
  log.Record("ipv4:10.0.0.1:1", "/n", "y");
  EXPECT_EQ(lines_.size(), 2u);
  now_ += absl::Seconds(1);
  log.Record("ipv4:10.0.0.1:1", "/o", "z");
  ASSERT_EQ(lines_.size(), 3u);
  // 99 + 1 counted, plus this one.
  EXPECT_TRUE(absl::StrContains(lines_[2], "api: 101 request(s) from 10.0.0.1 did not parse in "
                                           "the last 10s (latest: /o, z)"))
      << lines_[2];
  EXPECT_EQ(log.total(), 103u);
}

TEST_F(ParseFailureLogTest, CountsNotLoggedYetAreWrittenAtTheEnd) {
  {
    ParseFailureLog log(Opts());
    for (int i = 0; i < 5; ++i) log.Record("ipv4:10.0.0.1:1", "/m", "x");
    log.Record("ipv4:10.0.0.2:1", "/m", "x");
    EXPECT_EQ(lines_.size(), 2u);
  }
  ASSERT_EQ(lines_.size(), 3u);
  EXPECT_EQ(lines_[2], "api: 4 more request(s) from 10.0.0.1 did not parse (latest: /m)");
}

TEST_F(ParseFailureLogTest, ManyPeersStayBounded) {
  ParseFailureLog log(Opts(/*max_peers=*/4));
  for (int i = 0; i < 4; ++i) {
    log.Record("ipv4:10.0.0." + std::to_string(i) + ":1", "/m", "x");
    log.Record("ipv4:10.0.0." + std::to_string(i) + ":1", "/m", "x");
  }
  EXPECT_EQ(lines_.size(), 4u);
  // All four are active: a fifth peer is counted without a line.
  log.Record("ipv4:10.0.0.9:1", "/m", "x");
  EXPECT_EQ(lines_.size(), 4u);
  // Once they are quiet, they are forgotten with their counts written.
  now_ += absl::Seconds(11);
  log.Record("ipv4:10.0.0.9:1", "/m", "x");
  ASSERT_EQ(lines_.size(), 6u);
  EXPECT_EQ(lines_[4], "api: 4 more request(s) from 4 peer(s) did not parse");
  EXPECT_TRUE(absl::StrContains(lines_[5], "a request from 10.0.0.9 to /m")) << lines_[5];
  EXPECT_EQ(log.total(), 10u);
}

}  // namespace
}  // namespace linebridge
