// Files on the server (Media.PlayFile / RecordCall / StopMediaJob /
// GetMediaJob) against a real linebridged over real gRPC on the simulated
// PBX: a recording holds the far end's tone (its frequency measured in the
// WAV file), a played file reaches the other party's stream, recordings stop
// on silence, at their maximum length, when stopped and when the call ends
// (the file complete and valid), and bad names get clear errors.
#include <gtest/gtest.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "linebridge/lineerr.h"
#include "media/testing/signal.h"
#include "media_client.h"
#include "tapisrv_harness.h"
#include "test_server.h"
#include "testing/media_server_test.h"
#include "linebridge/deadline.h"

namespace linebridge::mtest {
namespace {

using itest::Ctx;
using itest::ExpectTapi;
using media::testing::MedianHz;
using media::testing::Rms;
using media::testing::Sine;

constexpr int kRate = 8000;

// A WAV file of `samples` at `rate`.
void WriteWav(const std::string& path, const std::vector<int16_t>& samples, int rate) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << path << ": " << sf_strerror(nullptr);
  sf_write_short(f, samples.data(), static_cast<sf_count_t>(samples.size()));
  sf_close(f);
}

// The samples of a recording, checked to be 8 kHz 16-bit mono WAV.
std::vector<int16_t> ReadWav(const std::string& path) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  EXPECT_NE(f, nullptr) << path << ": " << sf_strerror(nullptr);
  if (f == nullptr) return {};
  EXPECT_EQ(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  EXPECT_EQ(info.samplerate, kRate);
  EXPECT_EQ(info.channels, 1);
  std::vector<int16_t> out(static_cast<size_t>(info.frames));
  EXPECT_EQ(sf_read_short(f, out.data(), info.frames), info.frames);
  sf_close(f);
  return out;
}

class MediaFilesTest : public MediaServerTest {
 protected:
  static void SetUpTestSuite() {
    StartServer("mediafiles", [](const std::string& dir) {
      ::mkdir((dir + "/prompts").c_str(), 0750);
      ::mkdir((dir + "/outside").c_str(), 0750);
      return "media {\n  media_dir: \"" + dir + "/prompts\"\n" +
             "  recordings_dir: \"" + dir + "/rec\"\n" +
             "  max_record_ms: 20000\n  max_jobs: 16\n}\n" + "disconnected_linger_ms: 1\n";
    });
  }
  static void TearDownTestSuite() { StopServer(); }

  grpc::Status Record(const std::string& call, const std::string& file, uint32_t max_ms,
                      uint32_t silence_ms, v1::MediaJob* job) {
    v1::RecordCallRequest req;
    req.set_call_id(call);
    req.set_file(file);
    req.set_max_duration_ms(max_ms);
    req.set_silence_ms(silence_ms);
    return media_->RecordCall(Ctx().get(), req, job);
  }
  grpc::Status Play(const std::string& call, const std::string& file, v1::MediaJob* job) {
    v1::PlayFileRequest req;
    req.set_call_id(call);
    req.set_file(file);
    return media_->PlayFile(Ctx().get(), req, job);
  }
  // Waits for the job to end (GetMediaJob with wait_ms, as a client would).
  v1::MediaJob AwaitEnd(const v1::MediaJob& job) {
    v1::MediaJobRequest get;
    get.set_line_id(job.line_id());
    get.set_job_id(job.job_id());
    get.set_wait_ms(2000);
    v1::MediaJob now = job;
    const absl::Time deadline = MonotonicNow() + absl::Seconds(40);
    while (now.state() != v1::MEDIA_JOB_STATE_DONE && MonotonicNow() < deadline) {
      grpc::Status st = media_->GetMediaJob(Ctx(absl::Seconds(5)).get(), get, &now);
      if (!st.ok()) {
        ADD_FAILURE() << st.error_message();
        break;
      }
    }
    EXPECT_EQ(now.state(), v1::MEDIA_JOB_STATE_DONE) << job.job_id();
    return now;
  }
  std::string Unique(const std::string& stem) {
    static int n = 0;
    return absl::StrCat(stem, "-", ::getpid(), "-", ++n, ".wav");
  }
  std::string Recording(const std::string& name) { return *dir_ + "/rec/" + name; }

};

TEST_F(MediaFilesTest, ARecordingHoldsTheFarEndsToneUpToItsMaximumLength) {
  // The Weather Line answers with its prompt: 660 Hz, 800 ms on, 400 ms off.
  auto [call, unused] = Connect("sim/100", "5550100");
  const std::string name = Unique("weather");
  v1::MediaJob job;
  grpc::Status st = Record(call, name, 2400, 0, &job);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(job.kind(), v1::MEDIA_JOB_KIND_RECORD);
  EXPECT_EQ(job.state(), v1::MEDIA_JOB_STATE_RUNNING);
  EXPECT_EQ(job.line_id(), "sim/100");
  EXPECT_EQ(job.file(), name);
  const v1::MediaJob done = AwaitEnd(job);
  EXPECT_EQ(done.end(), v1::MEDIA_JOB_END_MAX_DURATION);
  EXPECT_EQ(done.duration_ms(), 2400u);
  const std::vector<int16_t> samples = ReadWav(Recording(name));
  ASSERT_EQ(samples.size(), 2400u * 8);
  EXPECT_NEAR(MedianHz(samples, kRate, 640), 660, 10);
  EXPECT_GT(Rms(samples), 1000);
}

TEST_F(MediaFilesTest, APlayedFileReachesTheOtherPartysStream) {
  WriteWav(*dir_ + "/prompts/tone1k.wav", Sine(1000, 8000, 16000, 16000), 16000);  // 1 s at 16 kHz
  auto [a, b] = Connect("sim/101", "102", "sim/102");
  MediaClient cb(*media_);
  ASSERT_TRUE(cb.Start(b)) << cb.Finish().error_message();
  v1::MediaJob job;
  grpc::Status st = Play(a, "tone1k.wav", &job);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(job.file_duration_ms(), 1000u);
  std::vector<int16_t> heard;
  for (int k = 0; k < 100; ++k) {  // 2 s
    v1::AudioFrame f;
    ASSERT_TRUE(cb.ReadFrame(&f));
    std::vector<int16_t> s = DecodePayload(f.payload(), v1::AUDIO_FORMAT_L16_8K);
    heard.insert(heard.end(), s.begin(), s.end());
  }
  // The loud part is the file: about a second of it, at 1 kHz.
  std::vector<int16_t> loud;
  for (size_t at = 0; at + 160 <= heard.size(); at += 160) {
    std::vector<int16_t> frame(heard.begin() + at, heard.begin() + at + 160);
    if (Rms(frame) > 2000) loud.insert(loud.end(), frame.begin(), frame.end());
  }
  EXPECT_NEAR(static_cast<double>(loud.size()) / kRate, 1.0, 0.1);
  EXPECT_NEAR(MedianHz(loud, kRate, 640), 1000, 10);
  const v1::MediaJob done = AwaitEnd(job);
  EXPECT_EQ(done.end(), v1::MEDIA_JOB_END_FINISHED);
  EXPECT_FALSE(done.cancelled());
  EXPECT_EQ(done.duration_ms(), 1000u);
  EXPECT_TRUE(cb.Finish().ok());
}

TEST_F(MediaFilesTest, ARecordingStopsAfterSilence) {
  auto [a, b] = Connect("sim/103", "104", "sim/104");  // nobody talks
  const std::string name = Unique("quiet");
  v1::MediaJob job;
  grpc::Status st = Record(a, name, 0, 600, &job);
  ASSERT_TRUE(st.ok()) << st.error_message();
  const v1::MediaJob done = AwaitEnd(job);
  EXPECT_EQ(done.end(), v1::MEDIA_JOB_END_SILENCE);
  EXPECT_EQ(done.duration_ms(), 600u);
  EXPECT_EQ(ReadWav(Recording(name)).size(), 600u * 8);
}

TEST_F(MediaFilesTest, SilenceCountsOnlyWhileTheFarEndIsQuiet) {
  // The prompt's 400 ms pauses are shorter than 1000 ms of silence: the
  // recording runs to its maximum.
  auto [call, unused] = Connect("sim/105", "5550100");
  const std::string name = Unique("prompt");
  v1::MediaJob job;
  ASSERT_TRUE(Record(call, name, 3000, 1000, &job).ok());
  EXPECT_EQ(AwaitEnd(job).end(), v1::MEDIA_JOB_END_MAX_DURATION);
}

TEST_F(MediaFilesTest, ACallThatEndsLeavesACompleteValidFile) {
  auto [a, b] = Connect("sim/106", "107", "sim/107");
  MediaClient cb(*media_);
  ASSERT_TRUE(cb.Start(b)) << cb.Finish().error_message();
  v1::MediaRequest tone;
  tone.mutable_tone()->set_kind(v1::TONE_KIND_CUSTOM);
  tone.mutable_tone()->mutable_custom()->set_frequency1_hz(1200);
  tone.mutable_tone()->mutable_custom()->set_on_ms(10000);
  ASSERT_TRUE(cb.Send(tone));
  const std::string name = Unique("ended");
  v1::MediaJob job;
  ASSERT_TRUE(Record(a, name, 0, 0, &job).ok());
  // Until half a second is recorded.
  v1::MediaJobRequest get;
  get.set_line_id(job.line_id());
  get.set_job_id(job.job_id());
  get.set_wait_ms(100);
  v1::MediaJob now = job;
  const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
  while (now.duration_ms() < 500 && MonotonicNow() < deadline) {
    ASSERT_TRUE(media_->GetMediaJob(Ctx().get(), get, &now).ok());
  }
  EXPECT_EQ(now.state(), v1::MEDIA_JOB_STATE_RUNNING);
  Drop(a);
  const v1::MediaJob done = AwaitEnd(job);
  EXPECT_EQ(done.end(), v1::MEDIA_JOB_END_CALL_ENDED);
  EXPECT_GE(done.duration_ms(), 500u);
  const std::vector<int16_t> samples = ReadWav(Recording(name));
  EXPECT_EQ(samples.size(), done.duration_ms() * 8u);
  EXPECT_NEAR(MedianHz(samples, kRate, 640), 1200, 10);
  cb.Finish();
}

TEST_F(MediaFilesTest, StopEndsAJobAndAnswersWhenItHasEnded) {
  WriteWav(*dir_ + "/prompts/long.wav", Sine(500, 8000, kRate, kRate * 10), kRate);
  auto [call, unused] = Connect("sim/100", "5550105");  // the IVR echoes
  v1::MediaJob play, rec;
  ASSERT_TRUE(Play(call, "long.wav", &play).ok());
  const std::string name = Unique("stopped");
  ASSERT_TRUE(Record(call, name, 0, 0, &rec).ok());
  v1::MediaJobRequest stop;
  stop.set_line_id(play.line_id());
  stop.set_job_id(play.job_id());
  v1::MediaJob out;
  ASSERT_TRUE(media_->StopMediaJob(Ctx().get(), stop, &out).ok());
  EXPECT_EQ(out.state(), v1::MEDIA_JOB_STATE_DONE);
  EXPECT_EQ(out.end(), v1::MEDIA_JOB_END_STOPPED);
  EXPECT_TRUE(out.cancelled());
  EXPECT_LT(out.duration_ms(), 10000u);
  stop.set_job_id(rec.job_id());
  ASSERT_TRUE(media_->StopMediaJob(Ctx().get(), stop, &out).ok());
  EXPECT_EQ(out.end(), v1::MEDIA_JOB_END_STOPPED);
  EXPECT_EQ(ReadWav(Recording(name)).size(), out.duration_ms() * 8u);
  // Ended jobs are still there to ask.
  ASSERT_TRUE(media_->GetMediaJob(Ctx().get(), stop, &out).ok());
  EXPECT_EQ(out.end(), v1::MEDIA_JOB_END_STOPPED);
}

TEST_F(MediaFilesTest, BadNamesAndCallsGetClearErrors) {
  std::ofstream(*dir_ + "/outside/secret.wav") << "x";
  ::symlink((*dir_ + "/outside/secret.wav").c_str(), (*dir_ + "/prompts/escape.wav").c_str());
  std::ofstream(*dir_ + "/prompts/text.wav") << "not a wav file at all, only text";
  auto [call, unused] = Connect("sim/107", "5550100");
  v1::MediaJob job;
  ExpectTapi(Play(call, "../outside/secret.wav", &job), grpc::StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALPARAM, "traversal");
  ExpectTapi(Play(call, "/etc/passwd.wav", &job), grpc::StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALPARAM, "absolute");
  ExpectTapi(Play(call, "prompt.mp3", &job), grpc::StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALPARAM, "not .wav");
  ExpectTapi(Play(call, "missing.wav", &job), grpc::StatusCode::NOT_FOUND, LINEERR_INVALPARAM,
             "missing");
  ExpectTapi(Play(call, "escape.wav", &job), grpc::StatusCode::NOT_FOUND, LINEERR_INVALPARAM,
             "symlink out");
  ExpectTapi(Play(call, "text.wav", &job), grpc::StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM,
             "not audio");
  ExpectTapi(Play("no-such-call", "text.wav", &job), grpc::StatusCode::NOT_FOUND,
             LINEERR_INVALCALLHANDLE, "no call");
  ExpectTapi(Play("", "text.wav", &job), grpc::StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALCALLHANDLE, "empty call");
  ExpectTapi(Record(call, "../x.wav", 0, 0, &job), grpc::StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALPARAM, "record traversal");
  ExpectTapi(Record(call, "nodir/x.wav", 0, 0, &job), grpc::StatusCode::NOT_FOUND,
             LINEERR_INVALPARAM, "record into a missing directory");
  ExpectTapi(Record(call, Unique("long"), 20001, 0, &job), grpc::StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALPARAM, "over max_record_ms");
  ExpectTapi(Record(call, Unique("s"), 0, 99, &job), grpc::StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALPARAM, "silence_ms");
  const std::string name = Unique("twice");
  ASSERT_TRUE(Record(call, name, 200, 0, &job).ok());
  ExpectTapi(Record(call, name, 200, 0, &job), grpc::StatusCode::ALREADY_EXISTS,
             LINEERR_INVALPARAM, "existing file");
  v1::MediaJobRequest get;
  get.set_line_id("sim/100");  // not the job's line
  get.set_job_id(job.job_id());
  v1::MediaJob out;
  ExpectTapi(media_->GetMediaJob(Ctx().get(), get, &out), grpc::StatusCode::NOT_FOUND,
             LINEERR_INVALPARAM, "job on another line");
  get.set_line_id("sim/107");
  get.set_wait_ms(60001);
  ExpectTapi(media_->GetMediaJob(Ctx().get(), get, &out), grpc::StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALPARAM, "wait too long");
}

}  // namespace
}  // namespace linebridge::mtest
