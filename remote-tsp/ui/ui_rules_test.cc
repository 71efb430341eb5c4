// The UI DLL's install/remove rules and the generic dialog's parameter block.
#include "ui/ui_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "linebridge/tapi_abi.h"
#include "tsp/ui_identify.h"

namespace linebridge::tspui {
namespace {

TEST(UiRules, ProviderFileNames) {
  EXPECT_TRUE(IsLinebridgeProvider("linebridge.tsp"));
  EXPECT_TRUE(IsLinebridgeProvider("C:\\Windows\\System32\\LineBridge.TSP"));
  EXPECT_TRUE(IsLinebridgeProvider("/opt/x/linebridge.tsp"));
  EXPECT_FALSE(IsLinebridgeProvider("unimdm.tsp"));
  EXPECT_FALSE(IsLinebridgeProvider("linebridge.tsp.bak"));
  EXPECT_FALSE(IsLinebridgeProvider("mylinebridge.tsp"));
  EXPECT_FALSE(IsLinebridgeProvider(""));
}

TEST(UiRules, InstalledOnce) {
  const std::vector<TapiProvider> none = {{1, "unimdm.tsp"}, {2, "kmddsp.tsp"}};
  const std::vector<TapiProvider> ours = {{1, "unimdm.tsp"}, {7, "LINEBRIDGE.TSP"}};
  EXPECT_EQ(CheckInstall({}, 7), 0);
  EXPECT_EQ(CheckInstall(none, 7), 0);
  // TAPI may list the new provider before calling TUISPI_providerInstall,
  // and may call it again for the same id: both fine.
  EXPECT_EQ(CheckInstall(ours, 7), 0);
  EXPECT_EQ(CheckInstall(ours, 8), LINEERR_NOMULTIPLEINSTANCE);
}

TEST(UiRules, RemoveOnlyOurs) {
  const std::vector<TapiProvider> list = {{1, "unimdm.tsp"}, {7, "linebridge.tsp"}};
  EXPECT_EQ(CheckRemove(list, 7), 0);
  EXPECT_EQ(CheckRemove(list, 1), LINEERR_INVALPARAM);
  EXPECT_EQ(CheckRemove(list, 9), 0);  // TAPI has already dropped it: clean up anyway
  EXPECT_EQ(CheckRemove({}, 7), 0);
}

std::vector<unsigned char> Bytes(const std::u16string& s, bool nul = true) {
  std::vector<unsigned char> b;
  for (char16_t u : s) {
    b.push_back(static_cast<unsigned char>(u & 0xFF));
    b.push_back(static_cast<unsigned char>(u >> 8));
  }
  if (nul) b.insert(b.end(), {0, 0});
  return b;
}

TEST(UiRules, DialogText) {
  std::u16string text;
  std::vector<unsigned char> b = Bytes(u"Certificate expired \u2013 renew it");
  ASSERT_TRUE(ParseDialogText(b.data(), b.size(), &text));
  EXPECT_EQ(text, u"Certificate expired \u2013 renew it");
  b = Bytes(u"");
  ASSERT_TRUE(ParseDialogText(b.data(), b.size(), &text));
  EXPECT_EQ(text, u"");
  EXPECT_FALSE(ParseDialogText(nullptr, 2, &text));
  b = Bytes(u"abc", false);
  EXPECT_FALSE(ParseDialogText(b.data(), b.size(), &text));      // no NUL
  EXPECT_FALSE(ParseDialogText(b.data(), b.size() - 1, &text));  // odd size
  b = Bytes(std::u16string(u"a\0b", 3));
  EXPECT_FALSE(ParseDialogText(b.data(), b.size(), &text));  // two strings
  EXPECT_FALSE(ParseDialogText(b.data(), 0, &text));
  std::vector<unsigned char> big(kMaxDialogTextBytes + 2, 'a');
  big[big.size() - 1] = big[big.size() - 2] = 0;
  EXPECT_FALSE(ParseDialogText(big.data(), big.size(), &text));
}

TEST(UiIdentify, BesideTheProvider) {
  using tsp::UiDllPathBeside;
  EXPECT_EQ(UiDllPathBeside(u"C:\\Windows\\System32\\linebridge.tsp"),
            u"C:\\Windows\\System32\\linebridge_ui.dll");
  EXPECT_EQ(UiDllPathBeside(u"/usr/lib/liblinebridge_tsp.so"), u"/usr/lib/linebridge_ui.dll");
  EXPECT_EQ(UiDllPathBeside(u"linebridge.tsp"), u"linebridge_ui.dll");
  // This test links the provider's library code: a path, ending in the name.
  const std::u16string path = tsp::UiDllPath();
  ASSERT_FALSE(path.empty());
  EXPECT_EQ(path.substr(path.size() - 17), u"linebridge_ui.dll");
  EXPECT_EQ(path[0], u'/');
}

}  // namespace
}  // namespace linebridge::tspui
