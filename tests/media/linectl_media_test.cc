// `linectl media` against a real linebridged: a WAV played into one party of
// a sim call is recorded from the other by a second linectl at the same
// time, and a tone likewise; both measured by frequency. The same with files
// on the server (play-file, record-file).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "media/testing/signal.h"
#include "tapisrv_harness.h"
#include "test_server.h"
#include "linebridge/deadline.h"

namespace linebridge::mtest {
namespace {

using media::testing::Rms;
using media::testing::Sine;
using media::testing::MedianHz;

// A 16-bit mono PCM WAV file (RIFF header facts: 44 bytes, little-endian).
void WriteWav(const std::string& path, const std::vector<int16_t>& s, int rate) {
  auto u32 = [](uint32_t v) { return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; };
  auto u16 = [](uint16_t v) { return std::string{char(v), char(v >> 8)}; };
  const uint32_t data = static_cast<uint32_t>(s.size() * 2);
  std::string h = "RIFF" + u32(36 + data) + "WAVEfmt " + u32(16) + u16(1) + u16(1) + u32(rate) +
                  u32(rate * 2) + u16(2) + u16(16) + "data" + u32(data);
  std::ofstream out(path, std::ios::binary);
  out << h;
  for (int16_t x : s) out << u16(static_cast<uint16_t>(x));
}

// The samples of a 16-bit mono WAV (its "data" chunk), and its rate.
std::vector<int16_t> ReadWav(const std::string& path, int* rate) {
  std::ifstream in(path, std::ios::binary);
  std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto u32 = [&](size_t at) {
    return static_cast<uint32_t>(static_cast<uint8_t>(b[at]) | static_cast<uint8_t>(b[at + 1]) << 8 |
                                 static_cast<uint8_t>(b[at + 2]) << 16 |
                                 static_cast<uint8_t>(b[at + 3]) << 24);
  };
  std::vector<int16_t> out;
  if (b.size() < 12 || b.compare(0, 4, "RIFF") != 0) return out;
  for (size_t at = 12; at + 8 <= b.size();) {
    const std::string id = b.substr(at, 4);
    const uint32_t size = u32(at + 4);
    if (id == "fmt ") *rate = static_cast<int>(u32(at + 12));
    if (id == "data") {
      for (size_t i = at + 8; i + 1 < at + 8 + size && i + 1 < b.size(); i += 2) {
        out.push_back(static_cast<int16_t>(static_cast<uint8_t>(b[i]) | (b[i + 1] << 8)));
      }
      return out;
    }
    at += 8 + size + (size & 1);
  }
  return out;
}

std::string Shell(const std::string& cmd, int* status) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  *status = ::pclose(p);
  return out;
}

class LinectlMediaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = itest::NewTempDir("linectl-media");
    std::string error;
    ASSERT_TRUE(server_.Start(dir_, &error)) << error;
    channel_ = grpc::CreateChannel(server_.address(), grpc::InsecureChannelCredentials());
    telephony_ = v1::Telephony::NewStub(channel_);
    const char* bin = std::getenv("LINEBRIDGE_BIN_DIR");
    ASSERT_NE(bin, nullptr);
    linectl_ = absl::StrCat(bin, "/linectl --server ", server_.address(), " ");
    // sim/100 calls 101, which answers.
    v1::Call a;
    ASSERT_TRUE(itest::MakeCall(*telephony_, "sim/100", "101", &a).ok());
    a_ = a.id();
    const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
    while (b_.empty() && MonotonicNow() < deadline) {
      for (const v1::Call& c : itest::CallsOn(*telephony_, "sim/101")) b_ = c.id();
    }
    ASSERT_FALSE(b_.empty());
    ASSERT_TRUE(itest::Answer(*telephony_, b_).ok());
  }

  // Records `seconds` of what `call` hears while `action` runs.
  std::vector<int16_t> RecordWhile(const std::string& call, const std::string& seconds,
                                   const std::string& action, std::string* action_out) {
    const std::string wav = dir_ + "/rec-" + call + ".wav";
    auto rec = std::async(std::launch::async, [&] {
      int st = 0;
      std::string out = Shell(linectl_ + "media record " + call + " " + wav + " --duration " + seconds, &st);
      EXPECT_EQ(st, 0) << out;
      return out;
    });
    // linectl creates the file once the server has started its stream.
    const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
    while (!std::ifstream(wav).good() && MonotonicNow() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    int st = 0;
    *action_out = Shell(linectl_ + action, &st);
    EXPECT_EQ(st, 0) << *action_out;
    EXPECT_NE(rec.get().find("ms recorded"), std::string::npos);
    int rate = 0;
    std::vector<int16_t> s = ReadWav(wav, &rate);
    EXPECT_EQ(rate, 8000);
    return s;
  }

  std::string dir_;
  tsp_test::ServerProcess server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Telephony::Stub> telephony_;
  std::string linectl_;
  std::string a_, b_;
};

// The loudest stretch of `s`: its samples from the first to the last frame
// louder than `threshold`.
std::vector<int16_t> Loud(const std::vector<int16_t>& s, double threshold = 1000) {
  size_t first = s.size(), last = 0;
  for (size_t at = 0; at + 160 <= s.size(); at += 160) {
    if (Rms(std::vector<int16_t>(s.begin() + at, s.begin() + at + 160)) > threshold) {
      first = std::min(first, at);
      last = at + 160;
    }
  }
  if (first >= last) return {};
  return std::vector<int16_t>(s.begin() + first, s.begin() + last);
}

TEST_F(LinectlMediaTest, AWavPlayedOnOnePartyIsRecordedOnTheOther) {
  // 1 s of 1 kHz at 16 kHz: the server resamples it.
  const std::string in = dir_ + "/in.wav";
  WriteWav(in, Sine(1000, 9000, 16000, 16000), 16000);
  std::string out;
  std::vector<int16_t> heard = RecordWhile(b_, "3s", "media play " + a_ + " " + in, &out);
  EXPECT_NE(out.find("1000 ms played"), std::string::npos) << out;
  std::vector<int16_t> loud = Loud(heard);
  EXPECT_NEAR(loud.size(), 8000u, 480u);  // 1 s, give or take three frames
  EXPECT_NEAR(MedianHz(loud, 8000, 640), 1000, 10);
}

TEST_F(LinectlMediaTest, ATonePlayedOnOnePartyIsRecordedOnTheOther) {
  std::string out;
  std::vector<int16_t> heard = RecordWhile(a_, "2s", "media tone " + b_ + " 1400 --duration 600ms", &out);
  std::vector<int16_t> loud = Loud(heard, 300);
  EXPECT_NEAR(loud.size(), 4800u, 480u);
  EXPECT_NEAR(MedianHz(loud, 8000, 640), 1400, 10);
}

TEST_F(LinectlMediaTest, FilesOnTheServerArePlayedAndRecordedThere) {
  // The server's default directories: <data_dir>/media and /recordings.
  WriteWav(dir_ + "/data/media/prompt.wav", Sine(1000, 9000, 8000, 8000), 8000);  // 1 s
  auto rec = std::async(std::launch::async, [&] {
    int st = 0;
    std::string out = Shell(linectl_ + "media record-file " + b_ + " call.wav --max-ms 3000", &st);
    EXPECT_EQ(st, 0) << out;
    return out;
  });
  // The server creates the file when the recording starts.
  const std::string wav = dir_ + "/data/recordings/call.wav";
  const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
  while (!std::ifstream(wav).good() && MonotonicNow() < deadline) absl::SleepFor(absl::Milliseconds(5));
  int st = 0;
  std::string out = Shell(linectl_ + "media play-file " + a_ + " prompt.wav", &st);
  EXPECT_EQ(st, 0) << out;
  EXPECT_NE(out.find("prompt.wav: 1000 ms played, finished"), std::string::npos) << out;
  out = rec.get();
  EXPECT_NE(out.find("call.wav: 3000 ms recorded, max_duration"), std::string::npos) << out;
  int rate = 0;
  std::vector<int16_t> heard = ReadWav(wav, &rate);
  EXPECT_EQ(rate, 8000);
  EXPECT_EQ(heard.size(), 24000u);
  std::vector<int16_t> loud = Loud(heard);
  EXPECT_NEAR(loud.size(), 8000u, 480u);
  EXPECT_NEAR(MedianHz(loud, 8000, 640), 1000, 10);
  // Nobody talks now: silence ends the next one.
  out = Shell(linectl_ + "media record-file " + a_ + " quiet.wav --silence-ms 300", &st);
  EXPECT_EQ(st, 0) << out;
  EXPECT_NE(out.find("quiet.wav: 300 ms recorded, silence"), std::string::npos) << out;
  out = Shell(linectl_ + "media play-file " + a_ + " ../etc/x.wav", &st);
  EXPECT_NE(st, 0);
  EXPECT_NE(out.find("LINEERR_INVALPARAM"), std::string::npos) << out;
  out = Shell(linectl_ + "media record-file " + a_ + " quiet.wav", &st);
  EXPECT_NE(st, 0);
  EXPECT_NE(out.find("the file exists"), std::string::npos) << out;
}

TEST_F(LinectlMediaTest, TheServerGathersTheDigitsTheOtherPartyPlays) {
  // b keys "47#9" (linectl media digits, in band), again until linectl media
  // gather on a has its answer; the gathering ends at '#'.
  auto gather = std::async(std::launch::async, [&] {
    int st = 0;
    std::string out = Shell(linectl_ + "media gather " + a_ + " --term '#' --first-timeout 10s", &st);
    EXPECT_EQ(st, 0) << out;
    return out;
  });
  // Keyed until the gathering is running (a keying before it is not heard).
  std::string out;
  for (int i = 0; i < 20 && gather.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready;
       ++i) {
    int st = 0;
    out = Shell(linectl_ + "media digits " + b_ + " 47#9", &st);
    EXPECT_EQ(st, 0) << out;
  }
  // A keying that began before the gathering did is heard from the middle.
  const std::string got = gather.get();
  EXPECT_TRUE(got == "47# termination_digit\n" || got == "7# termination_digit\n" ||
              got == "# termination_digit\n")
      << got;
  int st = 0;
  out = Shell(linectl_ + "media gather " + a_ + " --max 3 --first-timeout 200ms", &st);
  EXPECT_EQ(st, 0) << out;
  EXPECT_EQ(out, "- first_timeout\n");
  out = Shell(linectl_ + "media gather " + a_ + " --max 0", &st);
  EXPECT_NE(st, 0);
  EXPECT_NE(out.find("LINEERR_INVALPARAM"), std::string::npos) << out;
}

TEST_F(LinectlMediaTest, ClearErrors) {
  int st = 0;
  std::string out = Shell(linectl_ + "media tone c-nope beep", &st);
  EXPECT_NE(st, 0);
  EXPECT_NE(out.find("LINEERR_INVALCALLHANDLE"), std::string::npos) << out;
  out = Shell(linectl_ + "media tone " + a_ + " 50", &st);
  EXPECT_NE(out.find("frequency1_hz"), std::string::npos) << out;
  out = Shell(linectl_ + "media tone " + a_ + " loud", &st);
  EXPECT_EQ(WEXITSTATUS(st), 2) << out;
  const std::string stereo = dir_ + "/missing.wav";
  out = Shell(linectl_ + "media play " + a_ + " " + stereo, &st);
  EXPECT_NE(st, 0);
  EXPECT_NE(out.find("cannot read"), std::string::npos) << out;
}

}  // namespace
}  // namespace linebridge::mtest
