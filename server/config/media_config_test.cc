#include "config/media_config.h"

#include <gtest/gtest.h>

#include <string>

#include "config/config.h"

namespace linebridge {
namespace {

using v1::config::ServerConfig;

std::string MediaErrorOf(const std::string& text) {
  absl::StatusOr<ServerConfig> c = ParseConfigText(text, "m.conf");
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
  return std::string(c.status().message());
}

TEST(MediaConfig, DefaultsLiveInTheDataDirectory) {
  absl::StatusOr<ServerConfig> c = ParseConfigText("data_dir: \"/var/lib/lb\"\n", "m.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->media().media_dir(), "/var/lib/lb/media");
  EXPECT_EQ(c->media().recordings_dir(), "/var/lib/lb/recordings");
  EXPECT_EQ(c->media().max_file_bytes(), 16u << 20);
  EXPECT_EQ(c->media().max_record_ms(), 3600000u);
  EXPECT_EQ(c->media().max_jobs(), 32u);
}

TEST(MediaConfig, SetValuesAreKept) {
  absl::StatusOr<ServerConfig> c = ParseConfigText(
      "media {\n  media_dir: \"/srv/prompts\"\n  recordings_dir: \"/srv/rec\"\n"
      "  max_file_bytes: 2048\n  max_record_ms: 1000\n  max_jobs: 1000\n}\n",
      "m.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->media().media_dir(), "/srv/prompts");
  EXPECT_EQ(c->media().recordings_dir(), "/srv/rec");
  EXPECT_EQ(c->media().max_file_bytes(), 2048u);
  EXPECT_EQ(c->media().max_record_ms(), 1000u);
  EXPECT_EQ(c->media().max_jobs(), 1000u);
}

TEST(MediaConfig, ErrorsNameTheFileLineAndField) {
  EXPECT_EQ(MediaErrorOf("media {\n  max_file_bytes: 1023\n}\n"),
            "m.conf:2: media.max_file_bytes: 1023 out of range [1024, 1073741824]");
  EXPECT_EQ(MediaErrorOf("media {\n  max_record_ms: 999\n}\n"),
            "m.conf:2: media.max_record_ms: 999 out of range [1000, 86400000]");
  EXPECT_EQ(MediaErrorOf("listen: \"127.0.0.1:1\"\nmedia {\n\n  max_jobs: 1001\n}\n"),
            "m.conf:4: media.max_jobs: 1001 out of range [1, 1000]");
  EXPECT_EQ(MediaErrorOf("media { media_dir: \"a\\000b\" }\n"),
            "m.conf:1: media.media_dir: \"a\\000b\" is not a usable directory name");
  // Several at once, one per line.
  EXPECT_EQ(MediaErrorOf("media {\n  max_jobs: 5000\n  max_record_ms: 1\n}\n"),
            "m.conf:3: media.max_record_ms: 1 out of range [1000, 86400000]\n"
            "m.conf:2: media.max_jobs: 5000 out of range [1, 1000]");
  const std::string unknown = MediaErrorOf("media { max_jobz: 1 }\n");
  EXPECT_EQ(unknown.rfind("m.conf:1:", 0), 0u) << unknown;
  EXPECT_NE(unknown.find("max_jobz"), std::string::npos) << unknown;
}

}  // namespace
}  // namespace linebridge
