// Every transcript in testdata/ played whole, byte by byte, cut at every
// position and cut at random: the events must match the transcript's
// expectations every time.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/modem/at/transcript.h"

namespace linebridge::at::testing {
namespace {

std::vector<std::string> TranscriptFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(LINEBRIDGE_AT_TESTDATA)) {
    if (entry.path().extension() == ".at") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class TranscriptTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TranscriptTest, Whole) {
  absl::StatusOr<Transcript> t = LoadTranscript(GetParam());
  ASSERT_TRUE(t.ok()) << t.status();
  PlayResult r = Play(*t, Whole());
  EXPECT_THAT(r.failures, ::testing::IsEmpty()) << absl::StrJoin(r.events, "\n");
}

TEST_P(TranscriptTest, EveryFragmentationGivesTheSameEvents) {
  absl::StatusOr<Transcript> t = LoadTranscript(GetParam());
  ASSERT_TRUE(t.ok()) << t.status();
  const PlayResult whole = Play(*t, Whole());
  ASSERT_THAT(whole.failures, ::testing::IsEmpty());

  auto check = [&](const std::string& how, const Fragmenter& fragmenter) {
    PlayResult r = Play(*t, fragmenter);
    EXPECT_THAT(r.failures, ::testing::IsEmpty()) << how;
    EXPECT_EQ(r.events, whole.events) << how;
  };
  check("byte by byte", Bytewise());
  for (size_t at = 1; at < whole.longest_chunk; ++at) check(absl::StrCat("cut at ", at), SplitAt(at));
  for (unsigned seed = 1; seed <= 25; ++seed) check(absl::StrCat("random seed ", seed), Random(seed));
}

std::string Name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = std::filesystem::path(info.param).stem().string();
  std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TranscriptTest, ::testing::ValuesIn(TranscriptFiles()), Name);

TEST(TranscriptFiles, AllPresent) {
  // A typo in the directory must not pass as "no transcripts".
  EXPECT_GE(TranscriptFiles().size(), 15u);
}

TEST(TranscriptParser, RejectsUnknownOperatorsAndEscapes) {
  EXPECT_FALSE(ParseTranscript("? what", "t").ok());
  EXPECT_FALSE(ParseTranscript("< \\q", "t").ok());
  EXPECT_FALSE(ParseTranscript("< \\x4", "t").ok());
  EXPECT_TRUE(ParseTranscript("# only a comment\n\n< \\x41\\r\\n", "t").ok());
}

TEST(TranscriptPlayer, ReportsMismatches) {
  absl::StatusOr<Transcript> t = ParseTranscript("! ATI\n> ATZ\n< OK\n= done ATI ERROR\n", "t");
  ASSERT_TRUE(t.ok());
  PlayResult r = Play(*t, Whole());
  EXPECT_EQ(r.failures.size(), 2u) << absl::StrJoin(r.failures, "\n");
}

}  // namespace
}  // namespace linebridge::at::testing
