// An append-only file of rows waiting for the database (call records or
// audit rows, store/spooler.h): what a server keeps in its data_dir while
// PostgreSQL is unreachable, so that neither a restart nor a crash loses it.
//
// Format (all integers little-endian):
//   header (16 bytes): "LBSPOOL1", u64 head — the offset of the first entry
//     not yet delivered (entries before it were delivered).
//   entries, each: u32 body length, u32 CRC-32C of (time + body), i64 time
//     (microseconds since the Unix epoch, when spooled), body = u16 key
//     length, key, payload (a serialized proto).
// Appends are written with one write() and made durable with fdatasync()
// before Append returns. A crash may leave a torn last entry (a short or
// checksum-failing frame): Open finds the first entry that does not check
// out, logs it and cuts the file there; nothing after it was ever reported
// durable. The head is rewritten without a sync: after a crash it may be
// behind, so entries already delivered are delivered again — the database
// side makes that a no-op (each entry's key).
//
// The file is bounded: an Append that would take it past max_bytes first
// compacts it (drops the delivered prefix: the rest is copied to a new file
// renamed over the old one) and, if it still does not fit, is refused with
// ResourceExhausted. When every entry is delivered the file is cut back to
// its header.
//
// Not thread-safe: the Spooler serializes calls.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linebridge {

struct SpoolEntry {
  std::string key;      // the row's idempotency key ("" when the payload implies it)
  std::string payload;  // a serialized proto
  int64_t time_us = 0;  // when spooled (set by Append)
};

// CRC-32C (Castagnoli), as the frames use it.
uint32_t Crc32c(const void* data, size_t n, uint32_t crc = 0);

class SpoolFile {
 public:
  static constexpr size_t kHeaderBytes = 16;
  static constexpr size_t kFrameBytes = 16;  // before the body
  static constexpr uint32_t kMaxBody = 16u << 20;

  // Opens or creates `path` (0600), locks it (flock; held while open),
  // checks the entries from the head on and cuts a torn tail. A file that is
  // not a spool, or one another process holds, is FailedPrecondition.
  static absl::StatusOr<std::unique_ptr<SpoolFile>> Open(const std::string& path,
                                                         uint64_t max_bytes);
  ~SpoolFile();
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;

  // Appends `entries` (time_us set to `now_us`) and syncs. ResourceExhausted
  // when they do not fit in max_bytes (nothing written); Unavailable on an
  // I/O error (nothing reported written; a partial frame is cut away on the
  // next Append or Open).
  absl::Status Append(const std::vector<SpoolEntry>& entries, int64_t now_us);

  // Up to `max_entries` entries from the head (at least one if any, however
  // large), in order; `(*ends)[i]` is the offset after entry i, for Consume.
  // DataLoss if an entry no longer checks out (the file changed under us).
  absl::StatusOr<std::vector<SpoolEntry>> ReadFront(size_t max_entries, size_t max_bytes,
                                                    std::vector<uint64_t>* ends);
  // The entries before offset `end` (from ReadFront), `count` of them, were
  // delivered. Consume(file_bytes(), rows()) gives up everything.
  absl::Status Consume(uint64_t end, uint64_t count);

  bool empty() const { return rows_ == 0; }
  uint64_t rows() const { return rows_; }                // entries waiting
  uint64_t bytes() const { return tail_ - head_; }       // their size in the file
  uint64_t file_bytes() const { return tail_; }
  uint64_t max_bytes() const { return max_bytes_; }
  int64_t oldest_us() const { return oldest_us_; }       // 0 when empty
  // Bytes cut away as a torn or corrupt tail when the file was opened.
  uint64_t torn_bytes() const { return torn_bytes_; }
  const std::string& path() const { return path_; }

 private:
  SpoolFile(std::string path, uint64_t max_bytes) : path_(std::move(path)), max_bytes_(max_bytes) {}
  absl::Status Load();
  absl::Status WriteHead();
  absl::Status Compact();
  // The entry at `offset`: false if it is not a whole, checksummed frame.
  bool ReadFrame(uint64_t offset, SpoolEntry* entry, uint64_t* next) const;
  absl::Status Error(absl::string_view what) const;  // Unavailable with errno

  const std::string path_;
  const uint64_t max_bytes_;
  int fd_ = -1;
  uint64_t head_ = kHeaderBytes;
  uint64_t tail_ = kHeaderBytes;
  uint64_t rows_ = 0;
  int64_t oldest_us_ = 0;
  uint64_t torn_bytes_ = 0;
};

}  // namespace linebridge
