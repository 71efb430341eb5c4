#include "media/wav_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sndfile.h>

#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "linebridge/lineerr.h"
#include "media/testing/signal.h"
#include "media/testing/temp_dir.h"

namespace linebridge::media {
namespace {

using testing::MedianHz;
using testing::NewTempDir;
using testing::Rms;
using testing::Sine;

// Writes `samples` (per channel interleaved) with libsndfile in `format`.
void WriteFile(const std::string& path, int format, int rate, int channels,
               const std::vector<int16_t>& samples) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  sf_writef_short(f, samples.data(), static_cast<sf_count_t>(samples.size() / channels));
  sf_close(f);
}

class WavFileTest : public ::testing::Test {
 protected:
  std::string dir_ = NewTempDir("wav");
};

TEST_F(WavFileTest, ReadsPcm16At8k) {
  const std::string path = dir_ + "/a.wav";
  const std::vector<int16_t> tone = Sine(1000, 8000, 8000, 8000);
  WriteFile(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, tone);
  absl::StatusOr<std::vector<int16_t>> got = ReadWav(path, 1 << 20);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, tone);
}

TEST_F(WavFileTest, ReadsMuLawAndALaw) {
  const std::vector<int16_t> tone = Sine(440, 10000, 8000, 4000);
  for (int sub : {SF_FORMAT_ULAW, SF_FORMAT_ALAW}) {
    const std::string path = dir_ + "/g711-" + std::to_string(sub) + ".wav";
    WriteFile(path, SF_FORMAT_WAV | sub, 8000, 1, tone);
    absl::StatusOr<std::vector<int16_t>> got = ReadWav(path, 1 << 20);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->size(), tone.size());
    EXPECT_NEAR(MedianHz(*got, 8000, 640), 440, 5);
    EXPECT_NEAR(Rms(*got), Rms(tone), Rms(tone) * 0.05);
  }
}

TEST_F(WavFileTest, Resamples16kTo8k) {
  const std::string path = dir_ + "/wide.wav";
  WriteFile(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, Sine(1000, 8000, 16000, 16000));
  absl::StatusOr<std::vector<int16_t>> got = ReadWav(path, 1 << 20);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->size(), 8000u);
  EXPECT_NEAR(MedianHz(*got, 8000, 640), 1000, 5);
}

TEST_F(WavFileTest, MixesChannelsDown) {
  std::vector<int16_t> stereo;
  for (int16_t s : Sine(700, 6000, 8000, 1600)) {
    stereo.push_back(s);
    stereo.push_back(s);
  }
  const std::string path = dir_ + "/stereo.wav";
  WriteFile(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 2, stereo);
  absl::StatusOr<std::vector<int16_t>> got = ReadWav(path, 1 << 20);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, Sine(700, 6000, 8000, 1600));
}

TEST_F(WavFileTest, RefusesWhatItCannotPlayWithAClearError) {
  auto expect_bad = [&](const std::string& path, const std::string& says) {
    absl::StatusOr<std::vector<int16_t>> got = ReadWav(path, 1 << 20);
    ASSERT_FALSE(got.ok()) << path;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << got.status();
    EXPECT_EQ(LineErrOf(got.status()), LINEERR_INVALPARAM);
    EXPECT_NE(got.status().message().find(says), std::string::npos) << got.status();
  };
  WriteFile(dir_ + "/cd.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, Sine(1000, 8000, 44100, 4410));
  expect_bad(dir_ + "/cd.wav", "44100 samples/s; 8000 or 16000 only");
  WriteFile(dir_ + "/float.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 8000, 1, Sine(1000, 8000, 8000, 800));
  expect_bad(dir_ + "/float.wav", "32-bit float");
  WriteFile(dir_ + "/x.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 8000, 1, Sine(1000, 8000, 8000, 800));
  expect_bad(dir_ + "/x.aiff", "not a WAV file");
  std::ofstream(dir_ + "/text.wav") << "this is not audio at all, just some words in a file";
  expect_bad(dir_ + "/text.wav", "not a sound file");
  std::ofstream(dir_ + "/empty.wav");
  expect_bad(dir_ + "/empty.wav", "not a sound file");
}

TEST_F(WavFileTest, RefusesAFileOverTheLimit) {
  WriteFile(dir_ + "/big.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, Sine(1000, 8000, 8000, 8000));
  absl::StatusOr<std::vector<int16_t>> got = ReadWav(dir_ + "/big.wav", 10000);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("over the limit of 10000"), std::string::npos)
      << got.status();
  EXPECT_EQ(ReadWav(dir_ + "/none.wav", 10000).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(WavFileTest, ATruncatedFilePlaysWhatIsThere) {
  const std::string path = dir_ + "/cut.wav";
  WriteFile(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, Sine(1000, 8000, 8000, 8000));
  ASSERT_EQ(::truncate(path.c_str(), 44 + 2 * 3000), 0);
  absl::StatusOr<std::vector<int16_t>> got = ReadWav(path, 1 << 20);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->size(), 3000u);
}

TEST_F(WavFileTest, WriterMakesAValidFileAtEveryWrite) {
  const std::string path = dir_ + "/rec.wav";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0640);
  ASSERT_GE(fd, 0);
  absl::StatusOr<std::unique_ptr<WavWriter>> w = WavWriter::Open(fd);
  ASSERT_TRUE(w.ok()) << w.status();
  const std::vector<int16_t> tone = Sine(1000, 8000, 8000, 1600);
  ASSERT_TRUE((*w)->Write(tone.data(), 800).ok());
  // Readable before it is closed (the header is up to date).
  absl::StatusOr<std::vector<int16_t>> mid = ReadWav(path, 1 << 20);
  ASSERT_TRUE(mid.ok()) << mid.status();
  EXPECT_EQ(mid->size(), 800u);
  ASSERT_TRUE((*w)->Write(tone.data() + 800, 800).ok());
  EXPECT_EQ((*w)->samples(), 1600u);
  EXPECT_EQ((*w)->bytes(), 44u + 3200u);
  ASSERT_TRUE((*w)->Close().ok());
  absl::StatusOr<std::vector<int16_t>> got = ReadWav(path, 1 << 20);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, tone);
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(info.samplerate, 8000);
  EXPECT_EQ(info.channels, 1);
  EXPECT_EQ(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  sf_close(f);
}

TEST_F(WavFileTest, AnEmptyRecordingIsAValidFile) {
  const std::string path = dir_ + "/nothing.wav";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0640);
  absl::StatusOr<std::unique_ptr<WavWriter>> w = WavWriter::Open(fd);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Close().ok());
  absl::StatusOr<std::vector<int16_t>> got = ReadWav(path, 1 << 20);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->empty());
}

}  // namespace
}  // namespace linebridge::media
