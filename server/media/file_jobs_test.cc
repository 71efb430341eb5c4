// File jobs on a hub driven by hand (the jobs' worker thread is real).
#include "media/file_jobs.h"

#include <gtest/gtest.h>
#include <sndfile.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "linebridge/lineerr.h"
#include "media/testing/fake_directory.h"
#include "media/testing/signal.h"
#include "media/testing/temp_dir.h"
#include "media/wav_file.h"

namespace linebridge::media {
namespace {

using testing::FakeDirectory;
using testing::GoertzelPower;
using testing::MedianHz;
using testing::NewTempDir;
using testing::RecordingSink;
using testing::Sine;

MediaRoute Hears(const std::string& id) {
  MediaRoute r;
  r.hears = {id};
  return r;
}

// Waits for one answer of FileJobs.
class Answer {
 public:
  FileJobs::Done done() {
    return [this](absl::StatusOr<v1::MediaJob> r) {
      result_ = std::move(r);
      ready_.Notify();
    };
  }
  absl::StatusOr<v1::MediaJob> Get() {
    EXPECT_TRUE(ready_.WaitForNotificationWithTimeout(absl::Seconds(10)));
    return result_;
  }

 private:
  absl::Notification ready_;
  absl::StatusOr<v1::MediaJob> result_ = absl::UnknownError("no answer");
};

class FileJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir(options_.media_dir.c_str(), 0750), 0);
    ASSERT_EQ(::mkdir(options_.recordings_dir.c_str(), 0750), 0);
    calls_.Set("a", Hears("b"));
    calls_.Set("b", Hears("a"));
  }
  FileJobsOptions Options() {
    FileJobsOptions o;
    o.media_dir = dir_ + "/media";
    o.recordings_dir = dir_ + "/rec";
    o.max_jobs = 2;
    o.max_record_ms = 5000;
    return o;
  }
  void WriteMedia(const std::string& name, const std::vector<int16_t>& samples) {
    SF_INFO info{};
    info.samplerate = 8000;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* f = sf_open((options_.media_dir + "/" + name).c_str(), SFM_WRITE, &info);
    ASSERT_NE(f, nullptr);
    sf_write_short(f, samples.data(), static_cast<sf_count_t>(samples.size()));
    sf_close(f);
  }
  absl::StatusOr<v1::MediaJob> Play(const std::string& call, const std::string& file) {
    v1::PlayFileRequest req;
    req.set_call_id(call);
    req.set_file(file);
    Answer a;
    jobs_.Play(call, "test/" + call, req, a.done());
    return a.Get();
  }
  absl::StatusOr<v1::MediaJob> Record(const std::string& call, v1::RecordCallRequest req) {
    req.set_call_id(call);
    Answer a;
    jobs_.Record(call, "test/" + call, req, a.done());
    return a.Get();
  }
  absl::StatusOr<v1::MediaJob> Wait(const v1::MediaJob& job, bool stop = false) {
    v1::MediaJobRequest req;
    req.set_line_id(job.line_id());
    req.set_job_id(job.job_id());
    req.set_wait_ms(10000);
    Answer a;
    if (stop) {
      jobs_.Stop(req, a.done());
    } else {
      jobs_.Get(req, a.done());
    }
    return a.Get();
  }
  // Ticks `ticks` times (enough for the job to end), then waits for the
  // worker to have finished it.
  v1::MediaJob TickUntilDone(const v1::MediaJob& job, int ticks) {
    for (int i = 0; i < ticks; ++i) hub_.Tick();
    absl::StatusOr<v1::MediaJob> done = Wait(job);
    EXPECT_TRUE(done.ok()) << done.status();
    if (!done.ok()) return job;
    EXPECT_EQ(done->state(), v1::MEDIA_JOB_STATE_DONE) << job.job_id();
    return *done;
  }
  std::vector<int16_t> ReadRecording(const std::string& name) {
    absl::StatusOr<std::vector<int16_t>> s = ReadWav(options_.recordings_dir + "/" + name, 1 << 24);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : std::vector<int16_t>();
  }

  std::string dir_ = NewTempDir("jobs");
  FileJobsOptions options_ = Options();
  FakeDirectory calls_;
  RecordingSink b_;  // a stream on "b" (outlives the hub)
  MediaHub hub_{&calls_, HubOptions{.run_clock = false}};
  FileJobs jobs_{&hub_, options_};
};

TEST_F(FileJobsTest, APlayedFileIsHeardByTheOtherPartyAndFinishes) {
  WriteMedia("tone.wav", Sine(1000, 8000, 8000, 3200));  // 400 ms
  RecordingSink& b = b_;
  ASSERT_TRUE(hub_.Attach("b", &b).ok());
  absl::StatusOr<v1::MediaJob> job = Play("a", "tone.wav");
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state(), v1::MEDIA_JOB_STATE_RUNNING);
  EXPECT_EQ(job->kind(), v1::MEDIA_JOB_KIND_PLAY);
  EXPECT_EQ(job->file_duration_ms(), 400u);
  const v1::MediaJob done = TickUntilDone(*job, 25);
  EXPECT_EQ(done.end(), v1::MEDIA_JOB_END_FINISHED);
  EXPECT_FALSE(done.cancelled());
  EXPECT_EQ(done.duration_ms(), 400u);
  ASSERT_GE(b.audio.size(), 3200u);
  EXPECT_NEAR(MedianHz(std::vector<int16_t>(b.audio.begin(), b.audio.begin() + 3200), 8000, 640),
              1000, 5);
  EXPECT_EQ(jobs_.running(), 0u);
}

TEST_F(FileJobsTest, StoppingAPlayCancelsIt) {
  WriteMedia("long.wav", Sine(500, 8000, 8000, 80000));
  absl::StatusOr<v1::MediaJob> job = Play("a", "long.wav");
  ASSERT_TRUE(job.ok()) << job.status();
  for (int i = 0; i < 10; ++i) hub_.Tick();
  absl::StatusOr<v1::MediaJob> stopped = Wait(*job, /*stop=*/true);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(stopped->state(), v1::MEDIA_JOB_STATE_DONE);
  EXPECT_EQ(stopped->end(), v1::MEDIA_JOB_END_STOPPED);
  EXPECT_TRUE(stopped->cancelled());
  EXPECT_EQ(stopped->duration_ms(), 200u);
  EXPECT_EQ(hub_.totals().streams, 0u);
}

TEST_F(FileJobsTest, ARecordingHoldsWhatTheCallHearsUntilItsMaxDuration) {
  absl::StatusOr<MediaHub::StreamId> sb = hub_.Attach("b", &b_);
  ASSERT_TRUE(sb.ok());
  v1::GenerateTone tone;
  tone.set_kind(v1::TONE_KIND_CUSTOM);
  tone.mutable_custom()->set_frequency1_hz(1000);
  tone.mutable_custom()->set_on_ms(10000);
  hub_.PlayTone(*sb, *ToneSource::ForTone(tone));
  v1::RecordCallRequest req;
  req.set_file("r1.wav");
  req.set_max_duration_ms(1000);
  req.set_silence_ms(300);  // never: the tone goes on
  absl::StatusOr<v1::MediaJob> job = Record("a", req);
  ASSERT_TRUE(job.ok()) << job.status();
  const v1::MediaJob done = TickUntilDone(*job, 55);
  EXPECT_EQ(done.end(), v1::MEDIA_JOB_END_MAX_DURATION);
  EXPECT_EQ(done.duration_ms(), 1000u);
  const std::vector<int16_t> rec = ReadRecording("r1.wav");
  EXPECT_EQ(rec.size(), 8000u);
  EXPECT_NEAR(MedianHz(rec, 8000, 640), 1000, 5);
}

TEST_F(FileJobsTest, SilenceEndsARecording) {
  v1::RecordCallRequest req;
  req.set_file("quiet.wav");
  req.set_silence_ms(300);
  absl::StatusOr<v1::MediaJob> job = Record("a", req);
  ASSERT_TRUE(job.ok()) << job.status();
  const v1::MediaJob done = TickUntilDone(*job, 20);
  EXPECT_EQ(done.end(), v1::MEDIA_JOB_END_SILENCE);
  EXPECT_EQ(done.duration_ms(), 300u);
  EXPECT_EQ(ReadRecording("quiet.wav").size(), 2400u);
}

TEST_F(FileJobsTest, BothDirectionsMixWhatTheCallSendsAndHears) {
  WriteMedia("low.wav", Sine(500, 6000, 8000, 16000));
  absl::StatusOr<MediaHub::StreamId> sb = hub_.Attach("b", &b_);
  ASSERT_TRUE(sb.ok());
  v1::GenerateTone tone;
  tone.set_kind(v1::TONE_KIND_CUSTOM);
  tone.mutable_custom()->set_frequency1_hz(1500);
  tone.mutable_custom()->set_on_ms(10000);
  hub_.PlayTone(*sb, *ToneSource::ForTone(tone));
  ASSERT_TRUE(Play("a", "low.wav").ok());
  v1::RecordCallRequest req;
  req.set_file("both.wav");
  req.set_max_duration_ms(500);
  req.set_audio(v1::RECORD_AUDIO_BOTH);
  absl::StatusOr<v1::MediaJob> job = Record("a", req);
  ASSERT_TRUE(job.ok()) << job.status();
  TickUntilDone(*job, 30);
  const std::vector<int16_t> rec = ReadRecording("both.wav");
  ASSERT_EQ(rec.size(), 4000u);
  const double low = GoertzelPower(rec, 500, 8000), high = GoertzelPower(rec, 1500, 8000);
  const double other = GoertzelPower(rec, 1000, 8000);
  EXPECT_GT(low, 100 * other);
  EXPECT_GT(high, 100 * other);
}

TEST_F(FileJobsTest, ACallThatEndsLeavesACompleteFile) {
  v1::RecordCallRequest req;
  req.set_file("ended.wav");
  absl::StatusOr<v1::MediaJob> job = Record("a", req);
  ASSERT_TRUE(job.ok()) << job.status();
  for (int i = 0; i < 40; ++i) hub_.Tick();
  calls_.End("a");
  const v1::MediaJob done = TickUntilDone(*job, 2);
  EXPECT_EQ(done.end(), v1::MEDIA_JOB_END_CALL_ENDED);
  EXPECT_EQ(done.duration_ms(), 800u);
  EXPECT_EQ(ReadRecording("ended.wav").size(), 6400u);
}

TEST_F(FileJobsTest, RefusesBadRequestsWithTheTapiDetail) {
  auto expect = [](const absl::StatusOr<v1::MediaJob>& r, absl::StatusCode code, uint32_t err) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), code) << r.status();
    EXPECT_EQ(LineErrOf(r.status()), err) << r.status();
  };
  expect(Play("a", "../x.wav"), absl::StatusCode::kInvalidArgument, LINEERR_INVALPARAM);
  expect(Play("a", "none.wav"), absl::StatusCode::kNotFound, LINEERR_INVALPARAM);
  v1::RecordCallRequest req;
  req.set_file("r.wav");
  req.set_max_duration_ms(99);
  expect(Record("a", req), absl::StatusCode::kInvalidArgument, LINEERR_INVALPARAM);
  req.set_max_duration_ms(5001);
  expect(Record("a", req), absl::StatusCode::kInvalidArgument, LINEERR_INVALPARAM);
  req.set_max_duration_ms(0);
  req.set_silence_ms(50);
  expect(Record("a", req), absl::StatusCode::kInvalidArgument, LINEERR_INVALPARAM);
  req.set_silence_ms(0);
  absl::StatusOr<v1::MediaJob> one = Record("a", req);
  ASSERT_TRUE(one.ok()) << one.status();
  req.set_file("r.wav");
  expect(Record("b", req), absl::StatusCode::kAlreadyExists, LINEERR_INVALPARAM);
  req.set_file("r2.wav");
  ASSERT_TRUE(Record("b", req).ok());
  req.set_file("r3.wav");  // max_jobs is 2
  expect(Record("b", req), absl::StatusCode::kResourceExhausted, LINEERR_RESOURCEUNAVAIL);
  // A job is found only on its own line.
  v1::MediaJobRequest get;
  get.set_job_id(one->job_id());
  get.set_line_id("test/b");
  Answer a;
  jobs_.Get(get, a.done());
  expect(a.Get(), absl::StatusCode::kNotFound, LINEERR_INVALPARAM);
}

TEST_F(FileJobsTest, ShutdownEndsRunningJobs) {
  v1::RecordCallRequest req;
  req.set_file("s.wav");
  absl::StatusOr<v1::MediaJob> job = Record("a", req);
  ASSERT_TRUE(job.ok());
  for (int i = 0; i < 5; ++i) hub_.Tick();
  hub_.Shutdown();
  jobs_.Shutdown();
  EXPECT_EQ(jobs_.running(), 0u);
  EXPECT_EQ(ReadRecording("s.wav").size(), 800u);
  absl::StatusOr<v1::MediaJob> late = Record("a", req);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace linebridge::media
