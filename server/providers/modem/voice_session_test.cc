// VoiceSession on a real pty: the modem's audio through the jitter buffer
// (and rate adapter) to the hub's frames, the call's frames shielded to the
// port, no blocking when the modem takes nothing, and nothing written once
// closed.
#include "providers/modem/voice_session.h"

#include <poll.h>
#include <pty.h>
#include <stdlib.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "media/testing/signal.h"
#include "providers/modem/voice/dle.h"
#include "providers/modem/voice/voice_codec.h"
#include "linebridge/deadline.h"

namespace linebridge::modem {
namespace {

using media::testing::Sine;
using media::testing::ZeroCrossingHz;
using voice::SampleEncoding;
using voice::VoiceFormat;

// A PortLoop open on a pty whose master plays the modem.
class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[256] = {};
    ASSERT_EQ(::openpty(&master_, &slave_, name, nullptr, nullptr), 0);
    char tmpl[] = "/tmp/lb-voice-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    link_ = dir_ + "/tty";
    ASSERT_EQ(::symlink(name, link_.c_str()), 0);
    PortLoop::Callbacks cb;
    cb.opened = [](uint64_t) {};
    cb.bytes = [](uint64_t, std::string) {};
    cb.gone = [](uint64_t, std::string) {};
    loop_ = std::make_unique<PortLoop>(SerialSettings{link_, 115200, false},
                                       absl::Milliseconds(50), cb);
    loop_->Start();
    const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
    while (!loop_->is_open() && MonotonicNow() < deadline) absl::SleepFor(absl::Milliseconds(2));
    ASSERT_TRUE(loop_->is_open());
  }
  void TearDown() override {
    loop_.reset();
    ::close(master_);
    ::close(slave_);
    ::unlink(link_.c_str());
    ::rmdir(dir_.c_str());
  }
  // What the port wrote, until `n` bytes or 2 s.
  std::string ReadModem(size_t n) {
    std::string out;
    const absl::Time deadline = MonotonicNow() + absl::Seconds(2);
    char buf[4096];
    while (out.size() < n && MonotonicNow() < deadline) {
      pollfd p{master_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const ssize_t r = ::read(master_, buf, sizeof buf);
      if (r > 0) out.append(buf, static_cast<size_t>(r));
    }
    return out;
  }

  int master_ = -1, slave_ = -1;
  std::string dir_, link_;
  std::unique_ptr<PortLoop> loop_;
};

std::string Encode(const std::vector<int16_t>& s, SampleEncoding e) {
  std::string out;
  voice::SampleCodec(e).Encode(s.data(), s.size(), &out);
  return out;
}

TEST_F(SessionTest, ModemAudioIsPlayedOutAfterTwoFramesAndTheCallsFramesAreShielded) {
  VoiceSession session(loop_.get());
  session.Open(VoiceFormat{129, "16-BIT LINEAR", SampleEncoding::kLinear16, 8000}, true);
  session.Attached(true);
  DeviceFrame f;
  const std::string bytes = Encode(Sine(1000, 8000, 8000, 480), SampleEncoding::kLinear16);
  session.OnModemAudio(bytes.substr(0, 301));  // a 16-bit sample cut in two
  EXPECT_FALSE(session.Pull(&f));             // under two frames: not yet
  session.OnModemAudio(bytes.substr(301));
  std::vector<int16_t> heard;
  for (int k = 0; k < 3; ++k) {
    ASSERT_TRUE(session.Pull(&f)) << k;
    heard.insert(heard.end(), f.begin(), f.end());
  }
  EXPECT_EQ(heard, Sine(1000, 8000, 8000, 480));
  EXPECT_FALSE(session.Pull(&f));  // ran dry: primes again
  EXPECT_EQ(session.stats().frames_in, 3u);

  // 0x1010 is two <DLE> bytes: shielded as four.
  DeviceFrame out{};
  out[0] = 0x1010;
  out[1] = -2;
  session.Push(out);
  const std::string wire = ReadModem(322);
  ASSERT_EQ(wire.size(), 322u);
  EXPECT_EQ(wire.substr(0, 6), std::string("\x10\x10\x10\x10\xfe\xff", 6));
  voice::DleDecoder dle;
  voice::DleDecoder::Output decoded;
  dle.Feed(wire, &decoded);
  std::vector<int16_t> samples;
  voice::SampleCodec(SampleEncoding::kLinear16).Decode(decoded.data, &samples);
  EXPECT_EQ(samples, std::vector<int16_t>(out.begin(), out.end()));
}

TEST_F(SessionTest, OtherRatesAreAdaptedBothWays) {
  VoiceSession session(loop_.get());
  session.Open(VoiceFormat{128, "8-BIT LINEAR", SampleEncoding::kLinear8, 7200}, true);
  session.Attached(true);
  // 1 s at 7200/s, 20 ms at a time as the modem's clock gives it, pulled
  // once per 20 ms tick: 1 s at 8000/s (less the two frames kept primed).
  const std::string bytes = Encode(Sine(1000, 8000, 7200, 7200), SampleEncoding::kLinear8);
  std::vector<int16_t> heard;
  DeviceFrame f;
  for (size_t at = 0; at < bytes.size(); at += 144) {
    session.OnModemAudio(bytes.substr(at, 144));
    if (session.Pull(&f)) heard.insert(heard.end(), f.begin(), f.end());
  }
  EXPECT_GE(heard.size(), 47u * kDeviceFrameSamples);
  EXPECT_EQ(session.stats().trimmed, 0u);
  EXPECT_NEAR(ZeroCrossingHz(heard, 8000), 1000, 10);
  const std::vector<int16_t> tone = Sine(1000, 8000, 8000, kDeviceFrameSamples);
  std::copy(tone.begin(), tone.end(), f.begin());
  session.Push(f);
  EXPECT_EQ(ReadModem(144).size(), 144u);  // 20 ms at 7200/s, one byte each
}

TEST_F(SessionTest, PushNeverBlocksAndDropsWhileTheModemTakesNothing) {
  VoiceSession session(loop_.get());
  session.Open(VoiceFormat{129, "16-BIT LINEAR", SampleEncoding::kLinear16, 8000}, true);
  DeviceFrame f{};
  // Nobody reads the pty: after its buffer fills, at most 100 ms wait in
  // the port's buffer and the rest is dropped, without waiting.
  const absl::Time start = absl::Now();
  for (int k = 0; k < 2000; ++k) session.Push(f);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_GT(session.stats().dropped_out, 0u);
  EXPECT_LE(loop_->backlog(), 1600u + 2 * 320u);
}

TEST_F(SessionTest, ClosedWritesNothingAndDigitsOnlyWhileAttached) {
  VoiceSession session(loop_.get());
  DeviceFrame f{};
  session.Push(f);  // not open yet
  session.Open(VoiceFormat{131, "8-BIT ULAW", SampleEncoding::kMuLaw, 8000}, false);
  session.Push(f);  // receive only
  std::string digits;
  session.OnDigit('5');
  session.TakeDigits(&digits);
  EXPECT_EQ(digits, "");  // nobody attached
  session.Attached(true);
  session.OnDigit('#');
  session.TakeDigits(&digits);
  EXPECT_EQ(digits, "#");
  session.Close();
  session.Open(VoiceFormat{131, "8-BIT ULAW", SampleEncoding::kMuLaw, 8000}, true);
  session.Close();
  session.Push(f);
  EXPECT_EQ(ReadModem(1), "");
  EXPECT_FALSE(session.open());
}

}  // namespace
}  // namespace linebridge::modem
