// CallTasks on a hand-ticked hub and a directory the test sets up.
#include "media/call_tasks.h"

#include <gtest/gtest.h>

#include "media/testing/fake_directory.h"
#include "media/testing/signal.h"

namespace linebridge::media {
namespace {

using testing::FakeDirectory;
using testing::RecordingSink;

MediaRoute Hears(std::vector<std::string> ids) {
  MediaRoute r;
  r.hears = std::move(ids);
  return r;
}

class CallTasksTest : public ::testing::Test {
 protected:
  CallTasksTest()
      : b_(),
        tasks_(&dir_,
               [this](std::vector<std::pair<std::string, v1::Event>> events) {
                 absl::MutexLock lock(&mu_);
                 for (auto& [call, ev] : events) events_.push_back(std::move(ev));
               }),
        hub_(&tasks_, Options()) {
    tasks_.set_hub(&hub_);
    dir_.Set("a", Hears({"b"}));
    dir_.Set("b", Hears({"a"}));
  }
  static HubOptions Options() {
    HubOptions o;
    o.run_clock = false;
    o.jitter_frames = 1;
    return o;
  }
  void Ticks(int n) {
    for (int i = 0; i < n; ++i) hub_.Tick();
  }
  std::vector<v1::Event> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }

  FakeDirectory dir_;
  RecordingSink b_;  // the other party's stream: outlives the hub
  CallTasks tasks_;
  MediaHub hub_;
  absl::Mutex mu_;
  std::vector<v1::Event> events_ ABSL_GUARDED_BY(mu_);
};

v1::GenerateTone Custom(uint32_t hz, uint32_t duration_ms) {
  v1::GenerateTone t;
  t.set_kind(v1::TONE_KIND_CUSTOM);
  t.mutable_custom()->set_frequency1_hz(hz);
  t.mutable_custom()->set_on_ms(10000);
  t.set_duration_ms(duration_ms);
  return t;
}

TEST_F(CallTasksTest, ToneIsHeardByTheOtherPartyAndReportsDone) {
  RecordingSink& b = b_;
  ASSERT_TRUE(hub_.Attach("b", &b).ok());
  ASSERT_TRUE(tasks_.GenerateTone("a", "s1", Custom(1000, 400), 41).ok());
  EXPECT_EQ(tasks_.num_streams(), 1u);
  Ticks(30);
  ASSERT_GE(b.audio.size(), 20u * kFrameSamples);
  EXPECT_NEAR(testing::ZeroCrossingHz(std::vector<int16_t>(b.audio.begin() + 2 * kFrameSamples,
                                                           b.audio.begin() + 18 * kFrameSamples),
                                      kSampleRate),
              1000, 5);
  std::vector<v1::Event> ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].tone_generated().call_id(), "a");
  EXPECT_EQ(ev[0].tone_generated().session_id(), "s1");
  EXPECT_EQ(ev[0].tone_generated().end_to_end_id(), 41u);
  EXPECT_FALSE(ev[0].tone_generated().cancelled());
  EXPECT_EQ(tasks_.num_streams(), 0u);  // nothing left to do: detached
}

TEST_F(CallTasksTest, NewToneCancelsTheRunningOneAndCancelStopsIt) {
  ASSERT_TRUE(tasks_.GenerateTone("a", "s1", Custom(1000, 0), 1).ok());
  Ticks(3);
  ASSERT_TRUE(tasks_.GenerateTone("a", "s1", Custom(800, 0), 2).ok());
  Ticks(3);
  ASSERT_TRUE(tasks_.CancelTone("a", "s1").ok());
  std::vector<v1::Event> ev = events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].tone_generated().end_to_end_id(), 1u);
  EXPECT_TRUE(ev[0].tone_generated().cancelled());
  EXPECT_EQ(ev[1].tone_generated().end_to_end_id(), 2u);
  EXPECT_TRUE(ev[1].tone_generated().cancelled());
  EXPECT_EQ(tasks_.num_streams(), 0u);
}

TEST_F(CallTasksTest, GathersDigitsTheOtherPartyPlays) {
  MediaHub::StreamId bs = *hub_.Attach("b", &b_);
  v1::GatherDigits rules;
  rules.set_max_digits(10);
  rules.set_termination_digits("#");
  ASSERT_TRUE(tasks_.GatherDigits("a", "s1", rules, 7).ok());
  hub_.PlayTone(bs, *ToneSource::ForDigits("12#4"));
  Ticks(100);
  std::vector<v1::Event> ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].gather_completed().digits(), "12#");
  EXPECT_EQ(ev[0].gather_completed().termination(), v1::GATHER_TERMINATION_TERMINATION_DIGIT);
  EXPECT_EQ(ev[0].gather_completed().end_to_end_id(), 7u);
}

TEST_F(CallTasksTest, MonitorsTonesAndMediaUntilStopped) {
  MediaHub::StreamId bs = *hub_.Attach("b", &b_);
  v1::MonitorTonesRequest req;
  req.set_tone_list_id(5);
  v1::MonitoredTone* t = req.add_tones();
  t->set_app_specific(77);
  t->set_duration_ms(200);
  t->add_frequencies_hz(1300);
  ASSERT_TRUE(tasks_.MonitorTones("a", "s1", req).ok());
  hub_.PlayTone(bs, *ToneSource::ForTone(Custom(1300, 500)));
  Ticks(40);
  std::vector<v1::Event> ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].tone_detected().tone_list_id(), 5u);
  EXPECT_EQ(ev[0].tone_detected().app_specific(), 77u);
  EXPECT_EQ(tasks_.num_streams(), 1u);  // monitoring goes on
  ASSERT_TRUE(tasks_.MonitorTones("a", "s1", v1::MonitorTonesRequest()).ok());
  EXPECT_EQ(tasks_.num_streams(), 0u);
}

TEST_F(CallTasksTest, SessionsHaveTheirOwnWorkAndACallThatEndsEndsIt) {
  v1::GatherDigits rules;
  rules.set_max_digits(4);
  ASSERT_TRUE(tasks_.GatherDigits("a", "s1", rules, 1).ok());
  ASSERT_TRUE(tasks_.GatherDigits("a", "s2", rules, 2).ok());
  EXPECT_EQ(tasks_.num_streams(), 2u);
  Ticks(2);
  dir_.End("a");
  Ticks(2);
  EXPECT_EQ(tasks_.num_streams(), 0u);
  EXPECT_TRUE(events().empty());
  // A new request on the same key after the end starts afresh.
  dir_.Set("a", Hears({"b"}));
  ASSERT_TRUE(tasks_.GatherDigits("a", "s1", rules, 3).ok());
  ASSERT_TRUE(tasks_.CancelGather("a", "s1").ok());
  std::vector<v1::Event> ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].gather_completed().end_to_end_id(), 3u);
  EXPECT_EQ(ev[0].gather_completed().termination(), v1::GATHER_TERMINATION_CANCELLED);
}

}  // namespace
}  // namespace linebridge::media
