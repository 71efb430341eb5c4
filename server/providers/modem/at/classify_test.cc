#include "providers/modem/at/classify.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linebridge::at {
namespace {

using ::testing::ElementsAre;

FinalCode FinalOf(absl::string_view line, ClassifyOptions options = {}) {
  ParsedLine p = Classify(line, options);
  return p.type == LineType::kFinal ? p.final : FinalCode::kNone;
}
UrcKind UrcOf(absl::string_view line, ClassifyOptions options = {}) {
  ParsedLine p = Classify(line, options);
  return p.type == LineType::kUnsolicited ? p.urc : UrcKind::kNone;
}

TEST(Classify, FinalResultCodes) {
  EXPECT_EQ(FinalOf("OK"), FinalCode::kOk);
  EXPECT_EQ(FinalOf("  OK \r"), FinalCode::kOk);
  EXPECT_EQ(FinalOf("ERROR"), FinalCode::kError);
  EXPECT_EQ(FinalOf("NO CARRIER"), FinalCode::kNoCarrier);
  EXPECT_EQ(FinalOf("NO DIALTONE"), FinalCode::kNoDialtone);
  EXPECT_EQ(FinalOf("NO DIAL TONE"), FinalCode::kNoDialtone);
  EXPECT_EQ(FinalOf("BUSY"), FinalCode::kBusy);
  EXPECT_EQ(FinalOf("NO ANSWER"), FinalCode::kNoAnswer);
  EXPECT_EQ(FinalOf("CONNECT"), FinalCode::kConnect);
  ParsedLine connect = Classify("CONNECT 9600/ARQ");
  EXPECT_EQ(connect.final, FinalCode::kConnect);
  EXPECT_EQ(connect.value, "9600/ARQ");
  EXPECT_TRUE(IsSuccess(FinalCode::kConnect));
  EXPECT_FALSE(IsSuccess(FinalCode::kNoCarrier));
}

TEST(Classify, NotFinal) {
  EXPECT_EQ(FinalOf("RING"), FinalCode::kNone);  // RING is never final
  EXPECT_EQ(FinalOf("CONNECTED"), FinalCode::kNone);
  EXPECT_EQ(FinalOf("OKAY"), FinalCode::kNone);
  EXPECT_EQ(FinalOf("ok"), FinalCode::kNone);
  EXPECT_EQ(FinalOf("0"), FinalCode::kNone);  // verbose mode: information
  EXPECT_EQ(FinalOf(std::string("OK\0", 3)), FinalCode::kNone);
  EXPECT_EQ(Classify("56000").type, LineType::kInformation);
}

TEST(Classify, ErrorNumbers) {
  ParsedLine cme = Classify("+CME ERROR: 10");
  EXPECT_EQ(cme.final, FinalCode::kCmeError);
  EXPECT_EQ(cme.error, 10);
  ParsedLine cms = Classify("+CMS ERROR:500");
  EXPECT_EQ(cms.final, FinalCode::kCmsError);
  EXPECT_EQ(cms.error, 500);
  ParsedLine text = Classify("+CME ERROR: SIM PIN required");
  EXPECT_EQ(text.final, FinalCode::kCmeError);
  EXPECT_EQ(text.error, -1);
  EXPECT_EQ(text.value, "SIM PIN required");
  EXPECT_EQ(Classify("+CME ERROR: 99999999").error, -1);
}

TEST(Classify, NumericMode) {
  ClassifyOptions v0{.numeric_results = true};
  EXPECT_EQ(FinalOf("0", v0), FinalCode::kOk);
  EXPECT_EQ(FinalOf("1", v0), FinalCode::kConnect);
  EXPECT_EQ(UrcOf("2", v0), UrcKind::kRing);
  EXPECT_EQ(FinalOf("3", v0), FinalCode::kNoCarrier);
  EXPECT_EQ(FinalOf("4", v0), FinalCode::kError);
  EXPECT_EQ(FinalOf("6", v0), FinalCode::kNoDialtone);
  EXPECT_EQ(FinalOf("7", v0), FinalCode::kBusy);
  EXPECT_EQ(FinalOf("8", v0), FinalCode::kNoAnswer);
  EXPECT_EQ(FinalOf("5", v0), FinalCode::kNone);
  EXPECT_EQ(FinalOf("10", v0), FinalCode::kNone);
  EXPECT_EQ(FinalOf("OK", v0), FinalCode::kOk);  // verbose still understood
}

TEST(Classify, Unsolicited) {
  EXPECT_EQ(UrcOf("RING"), UrcKind::kRing);
  EXPECT_EQ(UrcOf("VCON"), UrcKind::kVcon);
  ParsedLine cring = Classify("+CRING: VOICE");
  EXPECT_EQ(cring.urc, UrcKind::kCring);
  EXPECT_EQ(cring.value, "VOICE");
  EXPECT_EQ(UrcOf("+CLIP: \"5551234\",129"), UrcKind::kClip);
  ParsedLine clcc = Classify("+CLCC: 1,1,4,0,0,\"5551234\",129");
  EXPECT_EQ(clcc.urc, UrcKind::kCallList);
  EXPECT_EQ(clcc.key, "+CLCC");
  ParsedLine dtmf = Classify("DTMF=5");
  EXPECT_EQ(dtmf.urc, UrcKind::kDtmf);
  EXPECT_EQ(dtmf.value, "5");
  ParsedLine creg = Classify("+CREG: 1");
  EXPECT_EQ(creg.urc, UrcKind::kOther);
  EXPECT_EQ(creg.key, "+CREG");
  EXPECT_EQ(creg.value, "1");
  EXPECT_EQ(UrcOf("+CREGX: 1"), UrcKind::kNone);
  EXPECT_EQ(UrcOf("+CSQ: 17,99"), UrcKind::kNone);
}

TEST(Classify, CallerIdFields) {
  for (absl::string_view line : {"DATE=0315", "DATE = 0315", "DATE =0315"}) {
    ParsedLine p = Classify(line);
    EXPECT_EQ(p.urc, UrcKind::kCallerId) << line;
    EXPECT_EQ(p.key, "DATE");
    EXPECT_EQ(p.value, "0315");
  }
  EXPECT_EQ(Classify("TIME=1230").key, "TIME");
  EXPECT_EQ(Classify("NMBR=5551234").value, "5551234");
  EXPECT_EQ(Classify("NAME=ALICE SMITH").value, "ALICE SMITH");
  EXPECT_EQ(Classify("MESG=060342").key, "MESG");
  EXPECT_EQ(Classify("DDN_NMBR=5550000").key, "DDN_NMBR");
  EXPECT_EQ(UrcOf("NAMES=x"), UrcKind::kNone);
  EXPECT_EQ(UrcOf("DATE"), UrcKind::kNone);
  EXPECT_EQ(Classify("NMBR=").value, "");
}

TEST(Classify, GarbageNeverCrashesOrMatches) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  for (size_t i = 0; i < all.size(); ++i) {
    for (size_t n : {1u, 2u, 7u, 64u}) {
      ParsedLine p = Classify(absl::string_view(all).substr(i, n), {.numeric_results = true});
      (void)p;
    }
  }
  EXPECT_EQ(Classify(std::string("\xff" "OK", 3)).type, LineType::kInformation);
  EXPECT_EQ(Classify(std::string("RING\x80", 5)).type, LineType::kInformation);
}

TEST(SplitParams, QuotesAndParentheses) {
  EXPECT_THAT(SplitParams("\"555,1234\",129,,,\"ALICE\",0"),
              ElementsAre("555,1234", "129", "", "", "ALICE", "0"));
  EXPECT_THAT(SplitParams(" (0,1,2),(0-3) "), ElementsAre("(0,1,2)", "(0-3)"));
  EXPECT_THAT(SplitParams(""), ::testing::IsEmpty());
  EXPECT_THAT(SplitParams("\"unterminated,x"), ElementsAre("unterminated,x"));
}

TEST(ParseClip, Fields) {
  auto clip = ParseClip("\"+4930123456\",145,,,\"ALICE\",0");
  ASSERT_TRUE(clip.has_value());
  EXPECT_EQ(clip->number, "+4930123456");
  EXPECT_EQ(clip->type, 145);
  EXPECT_EQ(clip->alpha, "ALICE");
  EXPECT_EQ(clip->validity, 0);
  auto withheld = ParseClip("\"\",128,,,,1");
  ASSERT_TRUE(withheld.has_value());
  EXPECT_EQ(withheld->number, "");
  EXPECT_EQ(withheld->validity, 1);
  auto short_form = ParseClip("\"5551234\"");
  ASSERT_TRUE(short_form.has_value());
  EXPECT_EQ(short_form->type, -1);
  EXPECT_FALSE(ParseClip("  ").has_value());
}

}  // namespace
}  // namespace linebridge::at
