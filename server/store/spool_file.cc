#include "store/spool_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/log.h"

namespace linebridge {
namespace {

constexpr char kMagic[8] = {'L', 'B', 'S', 'P', 'O', 'O', 'L', '1'};

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}

void Put32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void Put64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t Get32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t Get64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

bool PreadAll(int fd, char* buf, size_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t r = pread(fd, buf, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    buf += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return true;
}

bool PwriteAll(int fd, const char* buf, size_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t r = pwrite(fd, buf, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    buf += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return true;
}

// The frame for `e` at time `time_us`, appended to `out`.
void Encode(const SpoolEntry& e, int64_t time_us, std::string* out) {
  const size_t body = 2 + e.key.size() + e.payload.size();
  const size_t at = out->size();
  out->resize(at + SpoolFile::kFrameBytes + body);
  char* p = out->data() + at;
  Put32(p, static_cast<uint32_t>(body));
  Put64(p + 8, static_cast<uint64_t>(time_us));
  p[16] = static_cast<char>(e.key.size() & 0xff);
  p[17] = static_cast<char>((e.key.size() >> 8) & 0xff);
  std::memcpy(p + 18, e.key.data(), e.key.size());
  std::memcpy(p + 18 + e.key.size(), e.payload.data(), e.payload.size());
  Put32(p + 4, Crc32c(p + 8, 8 + body));
}

}  // namespace

uint32_t Crc32c(const void* data, size_t n, uint32_t crc) {
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  const auto* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

absl::StatusOr<std::unique_ptr<SpoolFile>> SpoolFile::Open(const std::string& path,
                                                           uint64_t max_bytes) {
  std::unique_ptr<SpoolFile> f(new SpoolFile(path, max_bytes));
  f->fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (f->fd_ < 0) return f->Error("open");
  if (flock(f->fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "spool ", path, " is in use by another process (two servers on one data_dir?)"));
    }
    return f->Error("lock");
  }
  if (absl::Status st = f->Load(); !st.ok()) return st;
  return f;
}

SpoolFile::~SpoolFile() {
  if (fd_ >= 0) close(fd_);
}

absl::Status SpoolFile::Error(absl::string_view what) const {
  return absl::UnavailableError(
      absl::StrCat("spool ", path_, ": ", what, ": ", std::strerror(errno)));
}

absl::Status SpoolFile::Load() {
  struct stat st;
  if (fstat(fd_, &st) != 0) return Error("stat");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < kHeaderBytes) {
    // New (or cut before its header was whole): start it.
    char header[kHeaderBytes];
    std::memcpy(header, kMagic, sizeof(kMagic));
    Put64(header + 8, kHeaderBytes);
    if (ftruncate(fd_, 0) != 0 || !PwriteAll(fd_, header, sizeof(header), 0) ||
        fdatasync(fd_) != 0) {
      return Error("write header");
    }
    head_ = tail_ = kHeaderBytes;
    return absl::OkStatus();
  }
  char header[kHeaderBytes];
  if (!PreadAll(fd_, header, sizeof(header), 0)) return Error("read header");
  if (std::memcmp(header, kMagic, sizeof(kMagic)) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("spool ", path_, ": not a linebridge spool file (move it away)"));
  }
  head_ = Get64(header + 8);
  // The head is written without a sync: it may point past a file that was
  // cut back to its header (then nothing waits) or, after a crash, behind.
  if (head_ < kHeaderBytes || head_ > size) head_ = kHeaderBytes;
  uint64_t at = head_;
  SpoolEntry e;
  while (at < size) {
    uint64_t next = 0;
    if (!ReadFrame(at, &e, &next) || next > size) break;
    if (rows_ == 0) oldest_us_ = e.time_us;
    ++rows_;
    at = next;
  }
  tail_ = at;
  if (at < size) {
    torn_bytes_ = size - at;
    LB_WARN("spool %s: %d bytes at offset %d are not a whole entry (cut short by a crash): "
            "dropped; %d entries before them are kept",
            path_, torn_bytes_, at, rows_);
    if (ftruncate(fd_, static_cast<off_t>(at)) != 0 || fdatasync(fd_) != 0) {
      return Error("cut torn tail");
    }
  }
  if (rows_ > 0) {
    LB_LOG("spool %s: %d entries (%d bytes) from an earlier run wait to be delivered", path_,
           rows_, bytes());
  }
  return absl::OkStatus();
}

bool SpoolFile::ReadFrame(uint64_t offset, SpoolEntry* entry, uint64_t* next) const {
  char frame[kFrameBytes];
  if (!PreadAll(fd_, frame, sizeof(frame), offset)) return false;
  const uint32_t body = Get32(frame);
  if (body < 2 || body > kMaxBody) return false;
  std::string buf(8 + static_cast<size_t>(body), '\0');
  std::memcpy(buf.data(), frame + 8, 8);
  if (!PreadAll(fd_, buf.data() + 8, body, offset + kFrameBytes)) return false;
  if (Crc32c(buf.data(), buf.size()) != Get32(frame + 4)) return false;
  const size_t key_len = static_cast<uint8_t>(buf[8]) | (static_cast<size_t>(static_cast<uint8_t>(buf[9])) << 8);
  if (2 + key_len > body) return false;
  entry->time_us = static_cast<int64_t>(Get64(frame + 8));
  entry->key.assign(buf.data() + 10, key_len);
  entry->payload.assign(buf.data() + 10 + key_len, body - 2 - key_len);
  *next = offset + kFrameBytes + body;
  return true;
}

absl::Status SpoolFile::Append(const std::vector<SpoolEntry>& entries, int64_t now_us) {
  if (entries.empty()) return absl::OkStatus();
  std::string out;
  for (const SpoolEntry& e : entries) {
    if (e.key.size() > 0xffff || 2 + e.key.size() + e.payload.size() > kMaxBody) {
      return absl::InvalidArgumentError(absl::StrCat("spool ", path_, ": entry too large"));
    }
    Encode(e, now_us, &out);
  }
  if (tail_ + out.size() > max_bytes_ && head_ > kHeaderBytes) {
    if (absl::Status st = Compact(); !st.ok()) return st;
  }
  if (tail_ + out.size() > max_bytes_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "spool ", path_, " is full (", bytes(), " bytes waiting, at most ", max_bytes_, ")"));
  }
  if (!PwriteAll(fd_, out.data(), out.size(), tail_) || fdatasync(fd_) != 0) {
    absl::Status st = Error("append");
    // Nothing of it counts; cut it away so the next append starts clean.
    if (ftruncate(fd_, static_cast<off_t>(tail_)) != 0) {
      LB_ERROR("spool %s: cannot cut a failed append: %s", path_, std::strerror(errno));
    }
    return st;
  }
  if (rows_ == 0) oldest_us_ = now_us;
  rows_ += entries.size();
  tail_ += out.size();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SpoolEntry>> SpoolFile::ReadFront(size_t max_entries,
                                                             size_t max_bytes,
                                                             std::vector<uint64_t>* ends) {
  ends->clear();
  std::vector<SpoolEntry> entries;
  uint64_t at = head_;
  size_t bytes = 0;
  while (at < tail_ && entries.size() < max_entries && (entries.empty() || bytes < max_bytes)) {
    SpoolEntry e;
    uint64_t next = 0;
    if (!ReadFrame(at, &e, &next) || next > tail_) {
      return absl::DataLossError(
          absl::StrCat("spool ", path_, ": entry at offset ", at, " no longer checks out"));
    }
    bytes += next - at;
    entries.push_back(std::move(e));
    ends->push_back(next);
    at = next;
  }
  return entries;
}

absl::Status SpoolFile::Consume(uint64_t end, uint64_t count) {
  if (end <= head_) return absl::OkStatus();
  head_ = std::min(end, tail_);
  rows_ = count >= rows_ ? 0 : rows_ - count;
  if (head_ == tail_) {
    rows_ = 0;
    oldest_us_ = 0;
    // Everything delivered: back to the bare header. Cut first; a crash
    // between the two leaves a head past the end, which Load reads as empty.
    if (ftruncate(fd_, kHeaderBytes) != 0) return Error("cut delivered entries");
    head_ = tail_ = kHeaderBytes;
  } else {
    char frame[kFrameBytes];
    if (PreadAll(fd_, frame, sizeof(frame), head_)) {
      oldest_us_ = static_cast<int64_t>(Get64(frame + 8));
    }
  }
  return WriteHead();
}

absl::Status SpoolFile::WriteHead() {
  char head[8];
  Put64(head, head_);
  if (!PwriteAll(fd_, head, sizeof(head), 8)) return Error("write head");
  return absl::OkStatus();
}

absl::Status SpoolFile::Compact() {
  const std::string tmp = path_ + ".new";
  const int out = open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) return Error("compact: open");
  char header[kHeaderBytes];
  std::memcpy(header, kMagic, sizeof(kMagic));
  Put64(header + 8, kHeaderBytes);
  bool ok = PwriteAll(out, header, sizeof(header), 0);
  std::string buf(1 << 20, '\0');
  uint64_t to = kHeaderBytes;
  for (uint64_t at = head_; ok && at < tail_;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), tail_ - at));
    ok = PreadAll(fd_, buf.data(), n, at) && PwriteAll(out, buf.data(), n, to);
    at += n;
    to += n;
  }
  if (ok) {
    ok = flock(out, LOCK_EX | LOCK_NB) == 0 && fdatasync(out) == 0 &&
         rename(tmp.c_str(), path_.c_str()) == 0;
  }
  if (!ok) {
    absl::Status st = Error("compact");
    close(out);
    unlink(tmp.c_str());
    return st;
  }
  close(fd_);
  fd_ = out;
  tail_ = tail_ - head_ + kHeaderBytes;
  head_ = kHeaderBytes;
  // The rename itself is durable once the directory is.
  const std::string dir = path_.substr(0, path_.find_last_of('/') + 1);
  const int d = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d >= 0) {
    fsync(d);
    close(d);
  }
  return absl::OkStatus();
}

}  // namespace linebridge
