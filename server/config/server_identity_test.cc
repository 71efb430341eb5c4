#include "config/server_identity.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <string>

namespace linebridge {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/lb-server-id.XXXXXX";
  return mkdtemp(tmpl);
}

TEST(ServerIdentity, ConfiguredIdWins) {
  v1::config::ServerConfig config;
  config.set_data_dir(TempDir());
  config.set_server_id("pbx-1.example");
  absl::StatusOr<std::string> id = ResolveServerId(config);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "pbx-1.example");
  EXPECT_FALSE(std::ifstream(ServerIdPath(config.data_dir())).good());  // nothing written
}

TEST(ServerIdentity, GeneratedOnceAndKept) {
  v1::config::ServerConfig config;
  config.set_data_dir(TempDir() + "/data");  // created on first use
  absl::StatusOr<std::string> first = ResolveServerId(config);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(IsServerId(*first));
  absl::StatusOr<std::string> again = ResolveServerId(config);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  // Another data directory: another server.
  v1::config::ServerConfig other;
  other.set_data_dir(TempDir());
  absl::StatusOr<std::string> second = ResolveServerId(other);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*second, *first);
}

TEST(ServerIdentity, CorruptFileIsAnErrorNamingIt) {
  v1::config::ServerConfig config;
  config.set_data_dir(TempDir());
  std::ofstream(ServerIdPath(config.data_dir())) << "not an id!\n";
  absl::StatusOr<std::string> id = ResolveServerId(config);
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.status().message().find(ServerIdPath(config.data_dir())), std::string::npos);
}

TEST(ServerIdentity, Syntax) {
  EXPECT_TRUE(IsServerId("a"));
  EXPECT_TRUE(IsServerId("PBX_2.site-b"));
  EXPECT_FALSE(IsServerId(""));
  EXPECT_FALSE(IsServerId("has space"));
  EXPECT_FALSE(IsServerId("a/b"));
  EXPECT_FALSE(IsServerId(std::string(65, 'x')));
}

}  // namespace
}  // namespace linebridge
