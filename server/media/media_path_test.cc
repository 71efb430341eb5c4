#include "media/media_path.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "linebridge/lineerr.h"
#include "media/testing/temp_dir.h"

namespace linebridge::media {
namespace {

using testing::NewTempDir;

void ExpectRefused(const absl::Status& st, absl::StatusCode code, const std::string& says) {
  EXPECT_EQ(st.code(), code) << st;
  EXPECT_EQ(LineErrOf(st), LINEERR_INVALPARAM) << st;
  EXPECT_NE(st.message().find(says), std::string::npos) << st;
}

TEST(MediaFileName, AcceptsRelativeWavNames) {
  for (const char* ok : {"a.wav", "prompts/welcome.WAV", "x-1_2.3.wav", "a/b/c/d.wav"}) {
    EXPECT_TRUE(CheckMediaFileName(ok, "file").ok()) << ok;
  }
}

TEST(MediaFileName, RefusesTraversalAbsoluteAndOddNames) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "is empty"},
      {"/etc/passwd.wav", "must be relative"},
      {"../x.wav", "\".\" or \"..\""},
      {"a/../../x.wav", "\".\" or \"..\""},
      {"./x.wav", "\".\" or \"..\""},
      {"a//b.wav", "empty path component"},
      {"a/", "empty path component"},
      {"a b.wav", "only A-Z"},
      {"a\\b.wav", "only A-Z"},
      {"x.mp3", "must end in .wav"},
      {".wav", "must end in .wav"},
  };
  for (const auto& [name, says] : cases) {
    ExpectRefused(CheckMediaFileName(name, "file"), absl::StatusCode::kInvalidArgument, says);
  }
  ExpectRefused(CheckMediaFileName(std::string(1, '\0') + "a.wav", "file"),
                absl::StatusCode::kInvalidArgument, "only A-Z");
  ExpectRefused(CheckMediaFileName(std::string(252, 'a') + ".wav", "file"),
                absl::StatusCode::kInvalidArgument, "over 255 bytes");
}

class MediaPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir(root_.c_str(), 0750), 0);
    ASSERT_EQ(::mkdir((root_ + "/sub").c_str(), 0750), 0);
    std::ofstream(root_ + "/in.wav") << "x";
    std::ofstream(root_ + "/sub/deep.wav") << "x";
    std::ofstream(outside_ + "/secret.wav") << "x";
    ASSERT_EQ(::symlink((outside_ + "/secret.wav").c_str(), (root_ + "/escape.wav").c_str()), 0);
    ASSERT_EQ(::symlink(outside_.c_str(), (root_ + "/out").c_str()), 0);
    ASSERT_EQ(::symlink("in.wav", (root_ + "/alias.wav").c_str()), 0);
  }
  std::string outside_ = NewTempDir("outside");
  std::string root_ = outside_ + "/media";
};

TEST_F(MediaPathTest, ResolvesFilesInsideTheDirectory) {
  absl::StatusOr<std::string> in = ResolveExisting(root_, "in.wav", "file");
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_TRUE(absl::EndsWith(*in, "/media/in.wav")) << *in;
  EXPECT_TRUE(ResolveExisting(root_, "sub/deep.wav", "file").ok());
  // A link that stays inside is fine.
  absl::StatusOr<std::string> alias = ResolveExisting(root_, "alias.wav", "file");
  ASSERT_TRUE(alias.ok()) << alias.status();
  EXPECT_EQ(*alias, *in);
}

TEST_F(MediaPathTest, SymlinksOutOfTheDirectoryAreNotThere) {
  ExpectRefused(ResolveExisting(root_, "escape.wav", "file").status(), absl::StatusCode::kNotFound,
                "leads out");
  ExpectRefused(ResolveExisting(root_, "out/secret.wav", "file").status(),
                absl::StatusCode::kNotFound, "leads out");
  ExpectRefused(ResolveExisting(root_, "nope.wav", "file").status(), absl::StatusCode::kNotFound,
                "no such file");
  ExpectRefused(ResolveExisting(root_, "../secret.wav", "file").status(),
                absl::StatusCode::kInvalidArgument, "..");
}

TEST_F(MediaPathTest, AMissingDirectoryIsAServerProblem) {
  absl::Status st = ResolveExisting(root_ + "/none", "in.wav", "file").status();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_EQ(LineErrOf(st), LINEERR_OPERATIONUNAVAIL);
}

TEST_F(MediaPathTest, CreatesNewFilesOnlyInsideAndNeverOverwrites) {
  absl::StatusOr<int> fd = CreateNew(root_, "new.wav", "file");
  ASSERT_TRUE(fd.ok()) << fd.status();
  ::close(*fd);
  struct stat st;
  EXPECT_EQ(::stat((root_ + "/new.wav").c_str(), &st), 0);
  fd = CreateNew(root_, "sub/new.wav", "file");
  ASSERT_TRUE(fd.ok()) << fd.status();
  ::close(*fd);
  ExpectRefused(CreateNew(root_, "new.wav", "file").status(), absl::StatusCode::kAlreadyExists,
                "exists");
  // A link (even one pointing inside) is never written through.
  ExpectRefused(CreateNew(root_, "alias.wav", "file").status(), absl::StatusCode::kAlreadyExists,
                "exists");
  ExpectRefused(CreateNew(root_, "out/new.wav", "file").status(), absl::StatusCode::kNotFound,
                "leads out");
  EXPECT_NE(::stat((outside_ + "/new.wav").c_str(), &st), 0);
  ExpectRefused(CreateNew(root_, "nodir/new.wav", "file").status(), absl::StatusCode::kNotFound,
                "directory is not there");
  ExpectRefused(CreateNew(root_, "../new.wav", "file").status(), absl::StatusCode::kInvalidArgument,
                "..");
}

}  // namespace
}  // namespace linebridge::media
