// WAV files through libsndfile: reading a whole file into the call's format
// (16-bit linear PCM at 8 kHz), and writing one frame by frame.
//
// Both block on the disk: never call them on the media clock's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

struct sf_private_tag;

namespace linebridge::media {

// Reads a WAV file at 8000 or 16000 samples/s (16 kHz is low-pass filtered
// and resampled), 16-bit PCM, G.711 mu-law or A-law, any number of channels
// (mixed down), of at most `max_bytes` bytes on disk. Errors are
// INVALID_ARGUMENT + LINEERR_INVALPARAM saying what the file is and what
// would do (NOT_FOUND if it cannot be opened).
absl::StatusOr<std::vector<int16_t>> ReadWav(const std::string& path, uint64_t max_bytes);

// Writes a mono 16-bit PCM WAV file at 8000 samples/s. The header is brought
// up to date with every write, so the file is valid even if the process dies
// before Close.
class WavWriter {
 public:
  // Takes `fd` (a new, empty file open for writing) and closes it in the end.
  static absl::StatusOr<std::unique_ptr<WavWriter>> Open(int fd);
  ~WavWriter();
  WavWriter(const WavWriter&) = delete;
  WavWriter& operator=(const WavWriter&) = delete;

  absl::Status Write(const int16_t* samples, size_t count);
  absl::Status Close();
  uint64_t samples() const { return samples_; }
  // Bytes on disk so far (the 44-byte header and the samples).
  uint64_t bytes() const { return kHeaderBytes + samples_ * 2; }

  static constexpr uint64_t kHeaderBytes = 44;

 private:
  explicit WavWriter(sf_private_tag* file) : file_(file) {}
  sf_private_tag* file_;
  uint64_t samples_ = 0;
};

}  // namespace linebridge::media
