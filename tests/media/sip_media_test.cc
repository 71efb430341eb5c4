// SIP calls' audio on media streams, against real peers on 127.0.0.1: a
// real server (in process, over real gRPC) whose line sip/alice registers
// with digest auth at kamailio and calls through it to a sipp far end. The
// far end's RTP is the test's RtpPeer (providers/sip/testing/rtp_peer.h
// says why not sipp's), except in the echo test, where sipp's own RTP echo
// is the far end. Frequencies are measured, not assumed.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "linebridge/v1/media.grpc.pb.h"
#include "media/testing/signal.h"
#include "media_client.h"
#include "providers/builtin.h"
#include "providers/sip/testing/rtp_peer.h"
#include "providers/sip/testing/sip_peers.h"
#include "providers/sip/testing/sip_ua_fixture.h"
#include "test_server.h"
#include "linebridge/deadline.h"

namespace linebridge::mtest {
namespace {

using itest::EventReader;
using itest::IsCallState;
using itest::TestServer;
using media::testing::GoertzelPower;
using media::testing::MedianHz;
using media::testing::Rms;
using media::testing::Sine;
using sip::testing::AwaitCounter;
using sip::testing::ChildProcess;
using sip::testing::CounterOf;
using sip::testing::FreePort;
using sip::testing::IsDisconnected;
using sip::testing::IsLineState;
using sip::testing::IsNewCallOn;
using sip::testing::kWait;
using sip::testing::RtpPeer;
using sip::testing::RtpRecord;
using sip::testing::SippOptions;
using sip::testing::StartKamailio;
using sip::testing::StartSipp;

constexpr int kRate = 8000;
constexpr int kFrame = 160;
constexpr char kLine[] = "sip/alice";

// A provider counter of sip/alice with this `reason` label.
uint64_t DiscardedFor(TestServer& t, const std::string& reason) {
  uint64_t total = 0;
  for (const auto& c : t.server().engine().TakeFigures().provider_counters) {
    if (c.name != "sip_rtp_packets_discarded_total") continue;
    bool line = false, why = false;
    for (const auto& [k, v] : c.labels) {
      line = line || (k == "line" && v == kLine);
      why = why || (k == "reason" && v == reason);
    }
    if (line && why) total += c.value;
  }
  return total;
}

// DiscardedFor, polled until it reaches `at_least` (the far end's packets
// are counted as they arrive; nothing else tells the test).
uint64_t AwaitDiscarded(TestServer& t, const std::string& reason, uint64_t at_least) {
  const absl::Time deadline = MonotonicNow() + kWait;
  uint64_t v = DiscardedFor(t, reason);
  while (v < at_least && MonotonicNow() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
    v = DiscardedFor(t, reason);
  }
  return v;
}

class SipMediaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterBuiltinProviders();
    dir_ = itest::NewTempDir("sipmedia");
    registrar_ = FreePort();
    const int registrar = registrar_;
    far_port_ = FreePort();
    const int alice_port = FreePort();
    ASSERT_GT(registrar, 0);
    ASSERT_GT(far_port_, 0);
    ASSERT_GT(alice_port, 0);
    std::string error;
    ASSERT_TRUE(StartKamailio(kamailio_, registrar, "m3dia", dir_, &error, far_port_)) << error;
    const std::string pw = dir_ + "/alice_pw";
    std::ofstream(pw) << "m3dia\n";
    server_ = TestServer::Start(absl::StrFormat(
        R"(providers { sip { name: "sip" accounts { name: "alice" uri: "sip:alice@127.0.0.1"
            local_port: %d registrar: "127.0.0.1:%d" outbound_proxy: "127.0.0.1:%d"
            auth_user: "alice" password_file: "%s" } } })",
        alice_port, registrar, registrar, pw));
    ASSERT_NE(server_, nullptr);
    EventReader reader(server_->telephony(), v1::SubscribeRequest());
    std::optional<v1::EventBatch> first = reader.Next();
    ASSERT_TRUE(first.has_value());
    bool in_service = false;
    for (const auto& l : first->snapshot().lines()) {
      in_service = in_service || (l.id() == kLine &&
                                  l.status().state() == v1::LINE_STATE_IN_SERVICE);
    }
    if (!in_service) {
      ASSERT_TRUE(reader.WaitFor(IsLineState(kLine, v1::LINE_STATE_IN_SERVICE), kWait))
          << "alice never registered at kamailio";
    }
    media_ = v1::Media::NewStub(server_->channel());
  }

  void TearDown() override {
    server_.reset();
    kamailio_.Kill();
  }

  // sipp as the far end (through kamailio), answering with `scenario`; the
  // call from sip/alice once connected, or "".
  std::string Call(ChildProcess& sipp, SippOptions options) {
    options.port = far_port_;
    EXPECT_TRUE(StartSipp(sipp, options, dir_)) << options.scenario;
    EventReader reader(server_->telephony(), v1::SubscribeRequest());
    if (!reader.Next().has_value()) return "";
    v1::Call call;
    grpc::Status s = itest::MakeCall(server_->telephony(), kLine, "5550100", &call);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok()) return "";
    EXPECT_TRUE(reader.WaitFor(IsCallState(call.id(), v1::CALL_STATE_CONNECTED), kWait))
        << sipp.ReadLog();
    return call.id();
  }

  static SippOptions PeerScenario(const RtpPeer& peer, int pt, bool far_end_hangs_up = false) {
    return {.scenario = far_end_hangs_up ? "uas_media_bye.xml" : "uas_media.xml",
            .keys = {{"rtp_port", absl::StrCat(peer.sdp_port())},
                     {"pt", absl::StrCat(pt)},
                     {"codec", pt == 8 ? "PCMA" : "PCMU"}}};
  }

  // Exchanges `frames` frames in step with the server's clock: sends
  // `send(k)` and collects what the call hears.
  static std::vector<int16_t> Exchange(MediaClient& c, int frames,
                                       const std::function<std::vector<int16_t>(int)>& send) {
    std::vector<int16_t> heard;
    for (int k = 0; k < frames; ++k) {
      if (!c.SendFrame(send(k), v1::AUDIO_FORMAT_L16_8K)) break;
      v1::AudioFrame f;
      if (!c.ReadFrame(&f)) break;
      std::vector<int16_t> s = DecodePayload(f.payload(), v1::AUDIO_FORMAT_L16_8K);
      heard.insert(heard.end(), s.begin(), s.end());
    }
    return heard;
  }

  static std::vector<int16_t> Tail(const std::vector<int16_t>& s, size_t frames) {
    const size_t n = std::min(s.size(), frames * kFrame);
    return std::vector<int16_t>(s.end() - static_cast<std::ptrdiff_t>(n), s.end());
  }

  // Reads until the stream ends; true when its last stats say the call ended.
  static bool EndsWithTheCall(MediaClient& c) {
    v1::AudioFrame f;
    while (c.ReadFrame(&f)) {
    }
    const grpc::Status st = c.Finish();
    EXPECT_TRUE(st.ok()) << st.error_message();
    for (const v1::MediaResponse& r : c.others) {
      if (r.has_stats() && r.stats().call_ended()) return true;
    }
    return false;
  }

  std::string dir_;
  int registrar_ = 0;
  int far_port_ = 0;
  ChildProcess kamailio_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<v1::Media::Stub> media_;
};

struct Leg {
  int payload_type;
  bool far_end_hangs_up;
};

class SipMediaToneTest : public SipMediaTest, public ::testing::WithParamInterface<Leg> {};

TEST_P(SipMediaToneTest, TonesCrossBothWaysAndTheCallsEndEndsTheStream) {
  const Leg leg = GetParam();
  RtpPeer peer(leg.payload_type);
  ASSERT_TRUE(peer.ok());
  peer.SetTone(1000);
  ChildProcess sipp;
  const std::string id = Call(sipp, PeerScenario(peer, leg.payload_type, leg.far_end_hangs_up));
  ASSERT_FALSE(id.empty());
  MediaClient c(*media_);
  std::optional<v1::MediaStarted> started = c.Start(id);
  ASSERT_TRUE(started.has_value()) << c.Finish().error_message();
  EXPECT_EQ(started->line_id(), kLine);
  // 1.2 s of an 800 Hz tone from the client while the far end sends 1 kHz.
  int64_t mid_us = 0;
  const std::vector<int16_t> heard = Exchange(c, 60, [&](int k) {
    if (k == 20) mid_us = RtpPeer::NowUs();
    return Sine(800, 8000, kRate, kFrame, int64_t{k} * kFrame);
  });
  ASSERT_EQ(heard.size(), 60u * kFrame);
  const std::vector<int16_t> late = Tail(heard, 40);
  const double hz = MedianHz(late, kRate, 640);
  EXPECT_NEAR(hz, 1000, 10) << "the client heard " << hz << " Hz";
  EXPECT_GT(Rms(late), 8000 * 0.707 * 0.7);
  // The far end heard the client's tone, on the socket it sends from
  // (symmetric RTP), in the negotiated payload type.
  const std::vector<int16_t> far = peer.AudioSince(mid_us);
  ASSERT_GE(far.size(), 20u * kFrame);
  const double far_hz = MedianHz(far, kRate, 640);
  EXPECT_NEAR(far_hz, 800, 10) << "the far end heard " << far_hz << " Hz";
  EXPECT_GT(Rms(far), 8000 * 0.707 * 0.7);
  const std::vector<RtpRecord> got = peer.Received();
  int markers = 0;
  bool symmetric = false;
  for (size_t i = 0; i < got.size(); ++i) {
    const RtpRecord& r = got[i];
    EXPECT_EQ(r.payload_type, leg.payload_type);
    ASSERT_EQ(r.samples.size(), static_cast<size_t>(kFrame));
    markers += r.marker ? 1 : 0;
    symmetric = symmetric || r.on_send_socket;
    if (i > 0) {
      EXPECT_EQ(static_cast<uint16_t>(got[i - 1].seq + 1), r.seq);
      EXPECT_EQ(got[i - 1].timestamp + kFrame, r.timestamp);
      EXPECT_EQ(got[i - 1].ssrc, r.ssrc);
    }
  }
  // The first packet of the stream, and the first the media hub sent if
  // silence went before it; nowhere else.
  EXPECT_TRUE(got.front().marker);
  EXPECT_LE(markers, 2);
  EXPECT_TRUE(symmetric) << "the line never sent to where the far end's packets came from";
  EXPECT_TRUE(got.back().on_send_socket);
  // The call ends (BYE either way): so does the stream.
  if (!leg.far_end_hangs_up) {
    ASSERT_TRUE(itest::Drop(server_->telephony(), id).ok());
  }
  EXPECT_TRUE(EndsWithTheCall(c));
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
  EXPECT_GE(CounterOf(*server_, "sip_rtp_audio_packets_sent_total", kLine), 40u);
  EXPECT_GE(CounterOf(*server_, "sip_rtp_audio_packets_received_total", kLine), 40u);
}

INSTANTIATE_TEST_SUITE_P(Codecs, SipMediaToneTest,
                         ::testing::Values(Leg{0, false}, Leg{8, true}),
                         [](const ::testing::TestParamInfo<Leg>& p) {
                           return std::string(p.param.payload_type == 8 ? "PcmaFarEndHangsUp"
                                                                        : "PcmuLineHangsUp");
                         });

TEST_F(SipMediaTest, AnInboundCallThroughTheRegistrarCarriesAudioBothWays) {
  RtpPeer peer(0);
  ASSERT_TRUE(peer.ok());
  peer.SetTone(1000);
  EventReader reader(server_->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  // The caller reaches alice through kamailio's location lookup.
  ChildProcess sipp;
  SippOptions o{.scenario = "uac_media.xml",
                .remote = absl::StrCat("127.0.0.1:", registrar_),
                .service = "alice",
                .keys = {{"rtp_port", absl::StrCat(peer.sdp_port())}}};
  o.port = FreePort();
  ASSERT_TRUE(StartSipp(sipp, o, dir_));
  auto created = reader.WaitFor(IsNewCallOn(kLine), kWait);
  ASSERT_TRUE(created.has_value()) << sipp.ReadLog();
  const std::string id = created->call_created().call().id();
  ASSERT_TRUE(itest::Answer(server_->telephony(), id).ok());
  ASSERT_TRUE(reader.WaitFor(IsCallState(id, v1::CALL_STATE_CONNECTED), kWait));
  MediaClient c(*media_);
  ASSERT_TRUE(c.Start(id).has_value()) << c.Finish().error_message();
  int64_t mid_us = 0;
  const std::vector<int16_t> heard = Exchange(c, 50, [&](int k) {
    if (k == 20) mid_us = RtpPeer::NowUs();
    return Sine(800, 8000, kRate, kFrame, int64_t{k} * kFrame);
  });
  EXPECT_NEAR(MedianHz(Tail(heard, 30), kRate, 640), 1000, 10);
  EXPECT_NEAR(MedianHz(peer.AudioSince(mid_us), kRate, 640), 800, 10);
  // The caller hangs up after 2.5 s: the stream ends with the call.
  EXPECT_TRUE(EndsWithTheCall(c));
  EXPECT_TRUE(reader.WaitFor(IsDisconnected(id, v1::DISCONNECT_MODE_NORMAL), kWait));
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
}

TEST_F(SipMediaTest, DigitsReachTheFarEndAsEventsAndInBand) {
  RtpPeer peer(0);
  ASSERT_TRUE(peer.ok());
  ChildProcess sipp;
  const std::string id = Call(sipp, PeerScenario(peer, 0));
  ASSERT_FALSE(id.empty());
  MediaClient c(*media_);
  ASSERT_TRUE(c.Start(id).has_value()) << c.Finish().error_message();
  // RFC 4733 telephone-events (Telephony.GenerateDigits) while a stream is on.
  v1::GenerateDigitsRequest gen;
  gen.set_call_id(id);
  gen.set_digits("5");
  gen.set_duration_ms(100);
  v1::Call out;
  ASSERT_TRUE(itest::Rpc(server_->telephony(), &v1::Telephony::Stub::GenerateDigits, gen, &out).ok());
  const std::vector<int16_t> silence(kFrame, 0);
  Exchange(c, 25, [&](int) { return silence; });
  // In band through the stream: DTMF 9 (852 + 1477 Hz) in the RTP audio.
  v1::MediaRequest play;
  play.mutable_digits()->set_digits("9");
  ASSERT_TRUE(c.Send(play));
  const int64_t from_us = RtpPeer::NowUs();
  Exchange(c, 25, [&](int) { return silence; });
  bool event_end = false;
  for (const RtpRecord& r : peer.Received()) {
    if (r.payload_type == 101) event_end = true;
  }
  EXPECT_TRUE(event_end) << "no telephone-event reached the far end";
  EXPECT_GE(AwaitCounter(*server_, "sip_dtmf_digits_sent_total", kLine, 1), 1u);
  const std::vector<int16_t> far = peer.AudioSince(from_us);
  ASSERT_GE(far.size(), 10u * kFrame);
  EXPECT_GT(Rms(far), 300);
  const double high = GoertzelPower(far, 852, kRate) + GoertzelPower(far, 1477, kRate);
  const double other = GoertzelPower(far, 697, kRate) + GoertzelPower(far, 1209, kRate);
  EXPECT_GT(high, 50 * other) << "852/1477 Hz: " << high << ", 697/1209 Hz: " << other;
  ASSERT_TRUE(itest::Drop(server_->telephony(), id).ok());
  EXPECT_TRUE(EndsWithTheCall(c));
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
}

TEST_F(SipMediaTest, SilenceAndGarbageFromTheFarEndAreSurvivedAndCounted) {
  RtpPeer peer(0);
  ASSERT_TRUE(peer.ok());
  peer.SetTone(1000);
  ChildProcess sipp;
  const std::string id = Call(sipp, PeerScenario(peer, 0));
  ASSERT_FALSE(id.empty());
  MediaClient c(*media_);
  ASSERT_TRUE(c.Start(id).has_value()) << c.Finish().error_message();
  const std::vector<int16_t> silence(kFrame, 0);
  auto quiet = [&](int) { return silence; };
  EXPECT_NEAR(MedianHz(Tail(Exchange(c, 40, quiet), 25), kRate, 640), 1000, 10);
  // Each tone packet followed by a foreign SSRC, a foreign payload type, a
  // truncated datagram, a version-1 packet, a duplicate and a late packet.
  peer.SendGarbage(40);
  const std::vector<int16_t> during = Tail(Exchange(c, 50, quiet), 40);
  EXPECT_NEAR(MedianHz(during, kRate, 640), 1000, 10);
  EXPECT_GT(Rms(during), 8000 * 0.707 * 0.7);
  // 40 of each kind (malformed: two kinds); the far end may still be
  // sending the last ones.
  EXPECT_GE(AwaitDiscarded(*server_, "ssrc", 40), 40u);
  EXPECT_GE(AwaitDiscarded(*server_, "payload_type", 40), 40u);
  EXPECT_GE(AwaitDiscarded(*server_, "malformed", 80), 80u);
  EXPECT_GE(AwaitCounter(*server_, "sip_rtp_jitter_buffer_drops_total", kLine, 40), 40u);
  EXPECT_GE(AwaitCounter(*server_, "sip_rtp_packets_late_total", kLine, 40), 40u);
  EXPECT_EQ(CounterOf(*server_, "sip_rtp_ssrc_changes_total", kLine), 0u);
  // The far end falls silent: the client hears silence, underruns counted.
  const uint64_t underruns = CounterOf(*server_, "sip_rtp_underruns_total", kLine);
  peer.SetTone(0);
  const std::vector<int16_t> quiet_far = Tail(Exchange(c, 40, quiet), 25);
  EXPECT_LT(Rms(quiet_far), 50);
  EXPECT_GE(CounterOf(*server_, "sip_rtp_underruns_total", kLine), underruns + 25);
  // ... and talks again: a new talkspurt, heard again.
  peer.SetTone(1000);
  EXPECT_NEAR(MedianHz(Tail(Exchange(c, 40, quiet), 25), kRate, 640), 1000, 10);
  ASSERT_TRUE(itest::Drop(server_->telephony(), id).ok());
  EXPECT_TRUE(EndsWithTheCall(c));
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
}

TEST_F(SipMediaTest, SippEchoesTheClientsToneBack) {
  // sipp's own RTP stack as the far end: it echoes what it receives.
  ChildProcess sipp;
  const std::string id = Call(sipp, {.scenario = "uas_answer.xml"});
  ASSERT_FALSE(id.empty());
  MediaClient c(*media_);
  ASSERT_TRUE(c.Start(id).has_value()) << c.Finish().error_message();
  const std::vector<int16_t> heard = Exchange(
      c, 75, [&](int k) { return Sine(1000, 8000, kRate, kFrame, int64_t{k} * kFrame); });
  const std::vector<int16_t> echoed = Tail(heard, 40);
  EXPECT_NEAR(MedianHz(echoed, kRate, 640), 1000, 10);
  EXPECT_GT(Rms(echoed), 8000 * 0.707 * 0.7);
  ASSERT_TRUE(itest::Drop(server_->telephony(), id).ok());
  EXPECT_TRUE(EndsWithTheCall(c));
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
}

}  // namespace
}  // namespace linebridge::mtest
