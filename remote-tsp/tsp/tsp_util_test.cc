#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tsp/device_map.h"
#include "tsp/handle_table.h"
#include "tsp/server_identity.h"
#include "tsp/var_struct.h"

namespace linebridge::tsp {
namespace {

// A variable structure the way TAPI lays them out: header, fixed DWORDs, then
// room for the variable part.
struct FakeCaps {
  uint32_t dwTotalSize, dwNeededSize, dwUsedSize;
  uint32_t dwNameSize, dwNameOffset;
  uint32_t dwDataSize, dwDataOffset;
  uint32_t dwValue;
};
constexpr uint32_t kFixed = sizeof(FakeCaps);

std::vector<unsigned char> Buffer(uint32_t total, size_t capacity = 256) {
  std::vector<unsigned char> b(capacity, 0xAB);  // poison past dwTotalSize
  std::memcpy(b.data(), &total, 4);
  return b;
}
FakeCaps Fixed(const std::vector<unsigned char>& b) {
  FakeCaps c;
  std::memcpy(&c, b.data(), sizeof c);
  return c;
}

void Fill(VarStructWriter& w) {
  w.SetDword(offsetof(FakeCaps, dwValue), 7);
  w.AppendString(offsetof(FakeCaps, dwNameSize), offsetof(FakeCaps, dwNameOffset), "Alice (100)");
  const unsigned char data[3] = {1, 2, 3};
  w.AppendBytes(offsetof(FakeCaps, dwDataSize), offsetof(FakeCaps, dwDataOffset), data, 3);
  w.Finish();
}

// TAPI's dwPermanentLineID of a line: kept in device maps and by
// applications across restarts, so pinned (32-bit FNV-1a of
// "<server id>/<line id>", or of the line id for a server without an id).
TEST(PermanentLineIdOf, GoldenValues) {
  EXPECT_EQ(PermanentLineIdOf("", "sim/100"), 0x57d6f650u);
  EXPECT_EQ(PermanentLineIdOf("pbx1", "sim/100"), 0xb7fb4314u);
  EXPECT_NE(PermanentLineIdOf("pbx2", "sim/100"), PermanentLineIdOf("pbx1", "sim/100"));
}

TEST(VarStructWriter, EverythingFits) {
  auto b = Buffer(200);
  VarStructWriter w(b.data(), kFixed);
  Fill(w);
  FakeCaps c = Fixed(b);
  EXPECT_EQ(c.dwNeededSize, kFixed + 12 * 2 + 3);
  EXPECT_EQ(c.dwUsedSize, c.dwNeededSize);
  EXPECT_EQ(c.dwValue, 7u);
  EXPECT_EQ(c.dwNameOffset, kFixed);
  EXPECT_EQ(c.dwNameSize, 24u);  // 11 UTF-16 units + NUL
  EXPECT_EQ(Utf16ToUtf8(reinterpret_cast<const char16_t*>(b.data() + c.dwNameOffset)),
            "Alice (100)");
  EXPECT_EQ(c.dwDataOffset, kFixed + 24);
  EXPECT_EQ(b[c.dwDataOffset + 2], 3);
  EXPECT_EQ(b[c.dwUsedSize], 0xAB);  // nothing written past the used part
}

TEST(VarStructWriter, TooSmallForTheVariablePartWritesNothingPastTotal) {
  const uint32_t total = kFixed + 10;
  auto b = Buffer(total);
  VarStructWriter w(b.data(), kFixed);
  Fill(w);
  FakeCaps c = Fixed(b);
  EXPECT_EQ(c.dwNeededSize, kFixed + 27);
  EXPECT_EQ(c.dwUsedSize, kFixed);
  EXPECT_EQ(c.dwNameSize, 0u);
  EXPECT_EQ(c.dwNameOffset, 0u);
  EXPECT_EQ(c.dwDataSize, 0u);  // fits alone, but parts stay contiguous
  for (size_t i = total; i < b.size(); ++i) ASSERT_EQ(b[i], 0xAB) << i;
}

TEST(VarStructWriter, OnlyTheHeaderFits) {
  auto b = Buffer(12);
  VarStructWriter w(b.data(), kFixed);
  Fill(w);
  FakeCaps c = Fixed(b);
  EXPECT_EQ(c.dwNeededSize, kFixed + 27);
  EXPECT_EQ(c.dwUsedSize, 12u);
  for (size_t i = 12; i < b.size(); ++i) ASSERT_EQ(b[i], 0xAB) << i;
}

TEST(Utf, RoundTripsAndReplacesInvalidInput) {
  EXPECT_EQ(Utf8ToUtf16("Zoë ☎ 😀"), u"Zoë ☎ 😀");
  EXPECT_EQ(Utf16ToUtf8(u"Zoë ☎ 😀"), "Zoë ☎ 😀");
  EXPECT_EQ(Utf8ToUtf16("a\xff" "b"), u"a\uFFFDb");
  EXPECT_EQ(Utf8ToUtf16("\xc0\xaf"), u"\uFFFD\uFFFD");  // overlong
  const char16_t lone[] = {u'x', 0xD800, u'y', 0};
  EXPECT_EQ(Utf16ToUtf8(lone), "x\xEF\xBF\xBDy");
  EXPECT_EQ(Utf16ToUtf8(u"abcdef", 3), "abc");
  EXPECT_EQ(Utf16ToUtf8(nullptr), "");
}

TEST(HandleTable, IdsAreCheckedAndNotReused) {
  HandleTable<std::string> t;
  const uint32_t a = t.Add("a");
  const uint32_t b = t.Add("b");
  EXPECT_NE(a, 0u);
  EXPECT_NE(a, b);
  EXPECT_EQ(*t.Find(a), "a");
  EXPECT_EQ(t.Find(12345), nullptr);
  EXPECT_EQ(t.Remove(a), "a");
  EXPECT_EQ(t.Find(a), nullptr);
  EXPECT_FALSE(t.Remove(a).has_value());
  EXPECT_NE(t.Add("c"), a);
}

TEST(DeviceMap, IndicesAreStableAcrossReloads) {
  const std::string path = ::testing::TempDir() + "/devices.map";
  std::remove(path.c_str());
  {
    auto m = DeviceMap::Load(path);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->IndexOf("pbx1", "sim/101"), 0u);
    EXPECT_EQ(m->IndexOf("pbx1", "sim/100"), 1u);
    EXPECT_EQ(m->IndexOf("pbx1", "sim/101"), 0u);
    ASSERT_TRUE(m->Save().ok());
  }
  auto m = DeviceMap::Load(path);
  ASSERT_TRUE(m.ok());
  // Another order of discovery does not move anyone.
  EXPECT_EQ(m->IndexOf("pbx1", "sim/100"), 1u);
  EXPECT_EQ(m->IndexOf("pbx1", "modem/usb-1"), 2u);
  EXPECT_EQ(m->LineAt(0), "sim/101");
  EXPECT_EQ(m->KeyAt(0).server_id, "pbx1");
  EXPECT_EQ(m->LineAt(9), "");
}

// Two servers with the same line ids (two default sims) are distinct devices.
TEST(DeviceMap, SameLineIdOnTwoServersIsTwoDevices) {
  auto m = DeviceMap::Load("");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->IndexOf("a", "sim/100"), 0u);
  EXPECT_EQ(m->IndexOf("b", "sim/100"), 1u);
  EXPECT_EQ(m->IndexOf("a", "sim/100"), 0u);
}

// A map written before servers had ids keeps every index: each entry goes to
// the first server that reports its line id; the file is rewritten with the
// servers named.
TEST(DeviceMap, FirstFormatEntriesAreTakenOverNotRenumbered) {
  const std::string path = ::testing::TempDir() + "/old.map";
  std::ofstream(path) << "# linebridge TSP device ids: <index> <permanent line id>\n"
                      << "0 sim/101\n1 sim/100\n3 modem/usb-1\n";
  {
    auto m = DeviceMap::Load(path);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->size(), 4u);
    EXPECT_EQ(m->KeyAt(1).server_id, "");
    EXPECT_EQ(m->IndexOf("b", "sim/100"), 1u);  // first to report it
    EXPECT_EQ(m->IndexOf("a", "sim/100"), 4u);  // the second server's: new
    EXPECT_EQ(m->IndexOf("a", "sim/101"), 0u);
    ASSERT_TRUE(m->Save().ok());
  }
  auto m = DeviceMap::Load(path);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->KeyAt(0).server_id, "a");
  EXPECT_EQ(m->KeyAt(1).server_id, "b");
  EXPECT_EQ(m->KeyAt(3).server_id, "");  // not claimed yet
  EXPECT_EQ(m->LineAt(3), "modem/usb-1");
  EXPECT_EQ(m->KeyAt(4).server_id, "a");
  EXPECT_EQ(m->IndexOf("c", "modem/usb-1"), 3u);
}

TEST(DeviceMap, CorruptFileNamesTheLine) {
  const std::string path = ::testing::TempDir() + "/bad.map";
  std::ofstream(path) << "# ok\n0 sim/100\nnonsense\n";
  auto m = DeviceMap::Load(path);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), path + ":3: expected \"<index> <line id>\"");
  std::ofstream(path) << "0 sim/100\n0 sim/101\n";
  EXPECT_EQ(DeviceMap::Load(path).status().message(), path + ":2: duplicate entry");
  std::ofstream(path) << "version 2\n0 a sim/100\n1 b\n";
  EXPECT_EQ(DeviceMap::Load(path).status().message(),
            path + ":3: expected \"<index> <server id> <line id>\"");
}

}  // namespace
}  // namespace linebridge::tsp
