#include "media/wav_file.h"

#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "linebridge/lineerr.h"
#include "media/audio_format.h"

namespace linebridge::media {
namespace {

const char* SubtypeName(int format) {
  switch (format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_16:
      return "16-bit PCM";
    case SF_FORMAT_ULAW:
      return "mu-law";
    case SF_FORMAT_ALAW:
      return "A-law";
    case SF_FORMAT_PCM_U8:
      return "8-bit PCM";
    case SF_FORMAT_PCM_24:
      return "24-bit PCM";
    case SF_FORMAT_PCM_32:
      return "32-bit PCM";
    case SF_FORMAT_FLOAT:
      return "32-bit float";
    case SF_FORMAT_GSM610:
      return "GSM 6.10";
    case SF_FORMAT_IMA_ADPCM:
    case SF_FORMAT_MS_ADPCM:
      return "ADPCM";
    default:
      return "an unsupported encoding";
  }
}

absl::Status Bad(const std::string& path, absl::string_view what) {
  return InvalidArgument(LINEERR_INVALPARAM, absl::StrCat("\"", path, "\": ", what));
}

// Resamples 16 kHz to 8 kHz with the stream codec's filter (the same path
// a 16 kHz client's audio takes).
std::vector<int16_t> Downsample(const std::vector<int16_t>& wide) {
  Codec codec(v1::AUDIO_FORMAT_L16_16K);
  std::vector<int16_t> out;
  out.reserve(wide.size() / 2 + kFrameSamples);
  std::string payload(FrameBytes(v1::AUDIO_FORMAT_L16_16K), '\0');
  const size_t per_frame = payload.size() / 2;
  Frame frame;
  for (size_t at = 0; at < wide.size(); at += per_frame) {
    for (size_t i = 0; i < per_frame; ++i) {
      const int16_t s = at + i < wide.size() ? wide[at + i] : 0;
      payload[2 * i] = static_cast<char>(static_cast<uint16_t>(s) & 0xff);
      payload[2 * i + 1] = static_cast<char>(static_cast<uint16_t>(s) >> 8);
    }
    codec.Decode(payload, &frame);
    const size_t keep = std::min<size_t>(kFrameSamples, (wide.size() - at + 1) / 2);
    out.insert(out.end(), frame.begin(), frame.begin() + static_cast<ptrdiff_t>(keep));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<int16_t>> ReadWav(const std::string& path, uint64_t max_bytes) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return NotFound(LINEERR_INVALPARAM, absl::StrCat("\"", path, "\": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) return Bad(path, "not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return Bad(path, absl::StrFormat("%d bytes, over the limit of %d (media.max_file_bytes)",
                                     st.st_size, max_bytes));
  }
  SF_INFO info{};
  SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
  if (file == nullptr) {
    return Bad(path, absl::StrCat("not a sound file libsndfile reads (", sf_strerror(nullptr), ")"));
  }
  auto close = [&] { sf_close(file); };
  const int major = info.format & SF_FORMAT_TYPEMASK;
  const int sub = info.format & SF_FORMAT_SUBMASK;
  absl::Status bad;
  if (major != SF_FORMAT_WAV && major != SF_FORMAT_WAVEX) {
    bad = Bad(path, "not a WAV file");
  } else if (sub != SF_FORMAT_PCM_16 && sub != SF_FORMAT_ULAW && sub != SF_FORMAT_ALAW) {
    bad = Bad(path, absl::StrCat("encoded as ", SubtypeName(info.format),
                                 "; 16-bit PCM, mu-law or A-law only"));
  } else if (info.samplerate != 8000 && info.samplerate != 16000) {
    bad = Bad(path, absl::StrCat(info.samplerate, " samples/s; 8000 or 16000 only"));
  } else if (info.channels < 1 || info.channels > 16) {
    bad = Bad(path, absl::StrCat(info.channels, " channels; 1 to 16 only"));
  }
  if (!bad.ok()) {
    close();
    return bad;
  }
  std::vector<int16_t> mono;
  std::vector<int16_t> block(static_cast<size_t>(1024 * info.channels));
  for (;;) {
    const sf_count_t got = sf_readf_short(file, block.data(), 1024);
    if (got <= 0) break;
    for (sf_count_t i = 0; i < got; ++i) {
      int32_t sum = 0;
      for (int c = 0; c < info.channels; ++c) sum += block[static_cast<size_t>(i * info.channels + c)];
      mono.push_back(static_cast<int16_t>(sum / info.channels));
    }
  }
  const int error = sf_error(file);
  close();
  if (error != SF_ERR_NO_ERROR) return Bad(path, sf_error_number(error));
  if (info.samplerate == 16000) return Downsample(mono);
  return mono;
}

absl::StatusOr<std::unique_ptr<WavWriter>> WavWriter::Open(int fd) {
  SF_INFO info{};
  info.samplerate = kSampleRate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* file = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
  if (file == nullptr) {
    ::close(fd);
    return absl::InternalError(absl::StrCat("cannot write a WAV file: ", sf_strerror(nullptr)));
  }
  sf_command(file, SFC_SET_UPDATE_HEADER_AUTO, nullptr, SF_TRUE);
  return std::unique_ptr<WavWriter>(new WavWriter(file));
}

WavWriter::~WavWriter() { (void)Close(); }

absl::Status WavWriter::Write(const int16_t* samples, size_t count) {
  if (file_ == nullptr) return absl::FailedPreconditionError("the WAV file is closed");
  const sf_count_t wrote = sf_write_short(file_, samples, static_cast<sf_count_t>(count));
  if (wrote > 0) samples_ += static_cast<uint64_t>(wrote);
  if (wrote != static_cast<sf_count_t>(count)) {
    return absl::DataLossError(absl::StrCat("writing the WAV file failed: ", sf_strerror(file_)));
  }
  return absl::OkStatus();
}

absl::Status WavWriter::Close() {
  if (file_ == nullptr) return absl::OkStatus();
  sf_write_sync(file_);
  const int error = sf_close(file_);
  file_ = nullptr;
  if (error != 0) {
    return absl::DataLossError(absl::StrCat("closing the WAV file failed: ", sf_error_number(error)));
  }
  return absl::OkStatus();
}

}  // namespace linebridge::media
