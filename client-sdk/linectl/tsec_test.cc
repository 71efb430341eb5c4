// tsecimp XML: parsing the Windows Telephony Server format and writing it back.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "linectl/security_commands.h"

namespace linebridge::linectl {
namespace {

constexpr char kSample[] = R"xml(<?xml version="1.0" encoding="utf-8"?>
<!-- assignments exported from a Telephony Server -->
<UserList>
  <User NoMerge="1">
    <DomainUserName>CORP\jsmith</DomainUserName>
    <FriendlyName>Jo &amp; Smith</FriendlyName>
    <LineList>
      <Line><Address>101</Address></Line>
      <Line Remove="1"><PermanentID>123456</PermanentID></Line>
      <Line><Addr>102</Addr></Line>
    </LineList>
  </User>
  <User>
    <DomainUserName>CORP\gone</DomainUserName>
  </User>
</UserList>
)xml";

TEST(TsecXml, ParsesUsersLinesAndAttributes) {
  auto users = ParseTsecXml(kSample);
  ASSERT_TRUE(users.ok()) << users.status();
  ASSERT_EQ(users->size(), 2u);
  const TsecUser& a = (*users)[0];
  EXPECT_EQ(a.domain_user_name, "CORP\\jsmith");
  EXPECT_EQ(a.friendly_name, "Jo & Smith");
  EXPECT_TRUE(a.no_merge);
  EXPECT_TRUE(a.has_line_list);
  ASSERT_EQ(a.lines.size(), 3u);
  EXPECT_EQ(a.lines[0].address, "101");
  EXPECT_FALSE(a.lines[0].remove);
  EXPECT_EQ(a.lines[1].permanent_id, "123456");
  EXPECT_TRUE(a.lines[1].remove);
  EXPECT_EQ(a.lines[2].address, "102");  // <Addr> is read as <Address>
  const TsecUser& b = (*users)[1];
  EXPECT_FALSE(b.no_merge);
  EXPECT_FALSE(b.has_line_list);  // no LineList: all of its lines go
}

TEST(TsecXml, RoundTrip) {
  auto users = ParseTsecXml(kSample);
  ASSERT_TRUE(users.ok());
  const std::string written = WriteTsecXml(*users);
  auto again = ParseTsecXml(written);
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << written;
  ASSERT_EQ(again->size(), users->size());
  for (size_t i = 0; i < users->size(); ++i) {
    const TsecUser& x = (*users)[i];
    const TsecUser& y = (*again)[i];
    EXPECT_EQ(x.domain_user_name, y.domain_user_name);
    EXPECT_EQ(x.friendly_name, y.friendly_name);
    EXPECT_EQ(x.no_merge, y.no_merge);
    EXPECT_EQ(x.has_line_list, y.has_line_list);
    ASSERT_EQ(x.lines.size(), y.lines.size());
    for (size_t j = 0; j < x.lines.size(); ++j) {
      EXPECT_EQ(x.lines[j].address, y.lines[j].address);
      EXPECT_EQ(x.lines[j].permanent_id, y.lines[j].permanent_id);
      EXPECT_EQ(x.lines[j].remove, y.lines[j].remove);
    }
  }
  EXPECT_EQ(WriteTsecXml(*again), written);
}

TEST(TsecXml, CarriageReturnsSurviveARoundTrip) {
  // Found by tsec_xml_fuzz: a CR from &#13; was written raw and read back as LF.
  auto users = ParseTsecXml("<UserList><User><DomainUserName>a&#13;b</DomainUserName>"
                            "</User></UserList>");
  ASSERT_TRUE(users.ok()) << users.status();
  EXPECT_EQ((*users)[0].domain_user_name, "a\rb");
  auto again = ParseTsecXml(WriteTsecXml(*users));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)[0].domain_user_name, "a\rb");
}

TEST(TsecXml, RejectsMalformedFiles) {
  for (const char* bad : {
           "",
           "<UserList>",
           "<Users></Users>",
           "<UserList><User></User></UserList>",  // no DomainUserName
           "<UserList><User><DomainUserName>a</DomainUserName><LineList><Line></Line>"
           "</LineList></User></UserList>",  // Line with neither
           "<UserList><User><DomainUserName>a</DomainUserName><LineList><Line><Address>1"
           "</Address><PermanentID>2</PermanentID></Line></LineList></User></UserList>",
           "<UserList><User><DomainUserName>a&bogus;</DomainUserName></User></UserList>",
           "<UserList></UserLis>",
           "<UserList/><extra/>",
       }) {
    EXPECT_FALSE(ParseTsecXml(bad).ok()) << bad;
  }
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  EXPECT_FALSE(ParseTsecXml(deep).ok());
}

TEST(TsecXml, ErrorsNameTheLineAndTheRule) {
  auto error = [](const char* xml) { return std::string(ParseTsecXml(xml).status().message()); };
  EXPECT_EQ(error("<UserList>\n<User>\n</Userx>"), "XML line 3: mismatched tag");
  EXPECT_EQ(error("<UserList>\n\n<User>&bogus;</User></UserList>"),
            "XML line 3: unknown entity (only &amp; &lt; &gt; &quot; &apos; and character "
            "references)");
  EXPECT_EQ(error("<UserList/>\n<extra/>"), "XML line 2: content after the root element");
  EXPECT_EQ(error("<UserList>\x01</UserList>"), "XML line 1: control character 0x01");
  EXPECT_EQ(error("<UserList>\n\xff</UserList>"),
            "XML line 2: not valid UTF-8 (byte 0xff); save the file as UTF-8");
  // Control characters as character references: C0 (not XML characters)
  // and C1 (XML characters, but a terminal acts on them).
  EXPECT_EQ(error("<UserList>&#27;</UserList>"),
            "XML line 1: bad character reference (a control character or not a character)");
  EXPECT_EQ(error("<UserList>\n<User><DomainUserName>a&#x9b;</DomainUserName></User></UserList>"),
            "XML line 2: control character U+009B in <DomainUserName>");
  EXPECT_EQ(error("<UserList><User NoMerge=\"&#133;\"/></UserList>"),
            "XML line 1: control character U+0085 in attribute NoMerge of <User>");
}

TEST(TsecXml, RefusesDtds) {
  // No entity expansion (billion laughs), no external entities.
  const char* laughs =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE UserList [<!ENTITY a \"aaaaaaaaaa\">"
      "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>\n<UserList>&b;</UserList>";
  EXPECT_EQ(ParseTsecXml(laughs).status().message(),
            "XML line 2: DTDs (<!DOCTYPE>) are not allowed");
  EXPECT_FALSE(
      ParseTsecXml("<!DOCTYPE UserList SYSTEM \"file:///etc/passwd\"><UserList/>").ok());
}

TEST(TsecXml, LimitsDepthAndElements) {
  std::string deep;
  for (int i = 0; i < kMaxTsecDepth; ++i) deep += "<a>";
  for (int i = 0; i < kMaxTsecDepth; ++i) deep += "</a>";
  EXPECT_EQ(ParseTsecXml(deep).status().message(),
            "the root element is <a>, not <UserList>");  // deep enough, not too deep
  EXPECT_EQ(ParseTsecXml("<b>" + deep + "</b>").status().message(),
            "XML line 1: elements nested too deeply");
  std::string many = "<UserList>";
  for (int i = 0; i < kMaxTsecElements; ++i) many += "<a/>";
  EXPECT_EQ(ParseTsecXml(many + "</UserList>").status().message(),
            "XML line 1: more than 100000 elements");
}

TEST(TsecXml, SurvivesMutatedInput) {
  // Every truncation, and bytes flipped all over: an error or a parse, never
  // a crash (run under ASan too).
  const std::string sample = kSample;
  for (size_t n = 0; n < sample.size(); ++n) (void)ParseTsecXml(sample.substr(0, n));
  uint32_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return seed >> 8;
  };
  for (int i = 0; i < 3000; ++i) {
    std::string m = sample;
    for (int k = 0; k < 4; ++k) m[next() % m.size()] = static_cast<char>(next() & 0xff);
    (void)ParseTsecXml(m);
  }
  SUCCEED();
}

TEST(Ttl, Parses) {
  uint64_t s = 0;
  ASSERT_TRUE(ParseTtl("90d", &s));
  EXPECT_EQ(s, 90u * 86400);
  ASSERT_TRUE(ParseTtl("12h", &s));
  EXPECT_EQ(s, 12u * 3600);
  ASSERT_TRUE(ParseTtl("3600", &s));
  EXPECT_EQ(s, 3600u);
  EXPECT_FALSE(ParseTtl("0", &s));
  EXPECT_FALSE(ParseTtl("x", &s));
  EXPECT_FALSE(ParseTtl("-1d", &s));
}

}  // namespace
}  // namespace linebridge::linectl
