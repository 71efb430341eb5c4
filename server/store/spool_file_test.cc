#include "store/spool_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "store/testing/store_test_util.h"

namespace linebridge {
namespace {

std::vector<SpoolEntry> Entries(int from, int n) {
  std::vector<SpoolEntry> out(n);
  for (int i = 0; i < n; ++i) {
    out[i].key = absl::StrCat("key-", from + i);
    out[i].payload = std::string(100 + (from + i) % 7, static_cast<char>('a' + (from + i) % 26));
  }
  return out;
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  EXPECT_EQ(stat(path.c_str(), &st), 0);
  return static_cast<uint64_t>(st.st_size);
}

std::unique_ptr<SpoolFile> OpenOrDie(const std::string& path, uint64_t max = 1 << 20) {
  absl::StatusOr<std::unique_ptr<SpoolFile>> f = SpoolFile::Open(path, max);
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? std::move(*f) : nullptr;
}

// Every key waiting in `f`, in order.
std::vector<std::string> Keys(SpoolFile& f) {
  std::vector<uint64_t> ends;
  absl::StatusOr<std::vector<SpoolEntry>> read = f.ReadFront(1 << 20, 1 << 30, &ends);
  EXPECT_TRUE(read.ok()) << read.status();
  std::vector<std::string> keys;
  if (read.ok()) {
    for (const SpoolEntry& e : *read) keys.push_back(e.key);
  }
  return keys;
}

std::vector<std::string> KeyRange(int from, int n) {
  std::vector<std::string> keys;
  for (int i = from; i < from + n; ++i) keys.push_back(absl::StrCat("key-", i));
  return keys;
}

TEST(Crc32c, KnownValue) {
  // The check value of CRC-32C (RFC 3720, appendix B.4).
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);
}

TEST(SpoolFile, EntriesSurviveReopenInOrderAndConsumeMovesTheHead) {
  const std::string path = store_testing::MakeTempDir("spool") + "/cdr.spool";
  {
    auto f = OpenOrDie(path);
    ASSERT_NE(f, nullptr);
    EXPECT_TRUE(f->empty());
    ASSERT_TRUE(f->Append(Entries(0, 3), 1000).ok());
    ASSERT_TRUE(f->Append(Entries(3, 2), 2000).ok());
    EXPECT_EQ(f->rows(), 5u);
    EXPECT_EQ(f->oldest_us(), 1000);
    std::vector<uint64_t> ends;
    absl::StatusOr<std::vector<SpoolEntry>> read = f->ReadFront(2, 1 << 20, &ends);
    ASSERT_TRUE(read.ok());
    ASSERT_EQ(read->size(), 2u);
    EXPECT_EQ((*read)[0].payload, Entries(0, 1)[0].payload);
    EXPECT_EQ((*read)[1].time_us, 1000);
    ASSERT_TRUE(f->Consume(ends[1], 2).ok());
    EXPECT_EQ(f->rows(), 3u);
  }
  auto f = OpenOrDie(path);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->torn_bytes(), 0u);
  EXPECT_EQ(f->rows(), 3u);
  EXPECT_EQ(Keys(*f), KeyRange(2, 3));
  EXPECT_EQ(f->oldest_us(), 1000);  // key-2 was spooled with the first batch
  // All delivered: the file goes back to its header.
  ASSERT_TRUE(f->Consume(f->file_bytes(), f->rows()).ok());
  EXPECT_TRUE(f->empty());
  EXPECT_EQ(f->oldest_us(), 0);
  EXPECT_EQ(FileSize(path), SpoolFile::kHeaderBytes);
  f.reset();
  EXPECT_TRUE(OpenOrDie(path)->empty());
}

// A crash in the middle of an append leaves part of a frame: every cut
// point of the last frame is found and cut away, the whole ones before it
// are kept, and appends go on after them.
TEST(SpoolFile, ATornTailIsDetectedAndCut) {
  const std::string dir = store_testing::MakeTempDir("spool");
  const std::string path = dir + "/cdr.spool";
  uint64_t two = 0, three = 0;
  {
    auto f = OpenOrDie(path);
    ASSERT_TRUE(f->Append(Entries(0, 2), 1).ok());
    two = f->file_bytes();
    ASSERT_TRUE(f->Append(Entries(2, 1), 2).ok());
    three = f->file_bytes();
  }
  std::string whole;
  {
    std::ifstream in(path, std::ios::binary);
    whole.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_EQ(whole.size(), three);
  for (uint64_t cut = two + 1; cut < three; ++cut) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << whole.substr(0, cut);
    auto f = OpenOrDie(path);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->rows(), 2u) << "cut at " << cut;
    EXPECT_EQ(f->torn_bytes(), cut - two);
    EXPECT_EQ(FileSize(path), two);
  }
  // A whole-length frame whose bytes are wrong (a sector never written):
  // the checksum catches it.
  std::string garbled = whole;
  garbled[three - 5] ^= 0x40;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << garbled;
  {
    auto f = OpenOrDie(path);
    EXPECT_EQ(f->rows(), 2u);
    EXPECT_EQ(f->torn_bytes(), three - two);
    // Zeros after the last frame (a file extended but not written).
    ASSERT_TRUE(f->Append(Entries(7, 1), 3).ok());
  }
  {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << std::string(300, '\0');
  }
  auto f = OpenOrDie(path);
  EXPECT_EQ(f->torn_bytes(), 300u);
  EXPECT_EQ(Keys(*f), (std::vector<std::string>{"key-0", "key-1", "key-7"}));
}

TEST(SpoolFile, AHeadPastTheEndMeansEverythingWasDelivered) {
  // A crash between cutting the delivered entries and rewriting the head.
  const std::string path = store_testing::MakeTempDir("spool") + "/a.spool";
  uint64_t end = 0;
  {
    auto f = OpenOrDie(path);
    ASSERT_TRUE(f->Append(Entries(0, 4), 1).ok());
    end = f->file_bytes();
  }
  const int fd = open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char head[8];
  for (int i = 0; i < 8; ++i) head[i] = static_cast<char>((end >> (8 * i)) & 0xff);
  ASSERT_EQ(pwrite(fd, head, 8, 8), 8);
  ASSERT_EQ(ftruncate(fd, SpoolFile::kHeaderBytes), 0);
  close(fd);
  auto f = OpenOrDie(path);
  EXPECT_TRUE(f->empty());
  ASSERT_TRUE(f->Append(Entries(9, 1), 1).ok());
  EXPECT_EQ(Keys(*f), KeyRange(9, 1));
}

TEST(SpoolFile, FullRefusesTheWholeBatchAndCompactsWhatWasDelivered) {
  const std::string path = store_testing::MakeTempDir("spool") + "/a.spool";
  const uint64_t frame = SpoolFile::kFrameBytes + 2 + 5 + 100;  // key-N, 100 bytes
  auto f = OpenOrDie(path, SpoolFile::kHeaderBytes + 10 * frame);
  for (int i = 0; i < 10; ++i) {
    SpoolEntry e{absl::StrCat("key-", i), std::string(100, 'x'), 0};
    ASSERT_TRUE(f->Append({e}, i).ok()) << i;
  }
  const uint64_t full = f->file_bytes();
  SpoolEntry more{"key-10", std::string(100, 'x'), 0};
  absl::Status st = f->Append({more}, 10);
  EXPECT_TRUE(absl::IsResourceExhausted(st)) << st;
  EXPECT_EQ(f->file_bytes(), full);
  EXPECT_EQ(f->rows(), 10u);
  // Three delivered: two fit again (the delivered prefix is compacted
  // away), a batch of two more does not (all or nothing).
  std::vector<uint64_t> ends;
  ASSERT_TRUE(f->ReadFront(3, 1 << 20, &ends).ok());
  ASSERT_TRUE(f->Consume(ends[2], 3).ok());
  std::vector<SpoolEntry> two = {{"key-10", std::string(100, 'x'), 0},
                                 {"key-11", std::string(100, 'x'), 0}};
  ASSERT_TRUE(f->Append(two, 11).ok());
  EXPECT_EQ(f->rows(), 9u);
  EXPECT_LE(f->file_bytes(), SpoolFile::kHeaderBytes + 10 * frame);
  std::vector<SpoolEntry> too_many = {{"key-12", std::string(100, 'x'), 0},
                                      {"key-13", std::string(100, 'x'), 0}};
  EXPECT_TRUE(absl::IsResourceExhausted(f->Append(too_many, 12)));
  f.reset();
  auto again = OpenOrDie(path, SpoolFile::kHeaderBytes + 10 * frame);
  std::vector<std::string> want = KeyRange(3, 9);
  EXPECT_EQ(Keys(*again), want);
  EXPECT_EQ(again->oldest_us(), 3);
}

TEST(SpoolFile, AnotherFileIsNotTakenForASpool) {
  const std::string path = store_testing::MakeTempDir("spool") + "/a.spool";
  std::ofstream(path) << "these are not the entries you are looking for\n";
  absl::StatusOr<std::unique_ptr<SpoolFile>> f = SpoolFile::Open(path, 1 << 20);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kFailedPrecondition) << f.status();
}

TEST(SpoolFile, OneProcessAtATime) {
  const std::string path = store_testing::MakeTempDir("spool") + "/a.spool";
  auto first = OpenOrDie(path);
  ASSERT_NE(first, nullptr);
  absl::StatusOr<std::unique_ptr<SpoolFile>> second = SpoolFile::Open(path, 1 << 20);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
  first.reset();
  EXPECT_NE(OpenOrDie(path), nullptr);
}

}  // namespace
}  // namespace linebridge
