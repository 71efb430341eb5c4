// The fixture the media tests share: one real linebridged per test suite,
// started from a configuration text, with stubs for each test and the call
// helpers (state, connect, drop) every media test needs.
#ifndef LINEBRIDGE_TESTS_MEDIA_TESTING_MEDIA_SERVER_TEST_H_
#define LINEBRIDGE_TESTS_MEDIA_TESTING_MEDIA_SERVER_TEST_H_

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "linebridge/v1/media.grpc.pb.h"
#include "linebridge/v1/telephony.grpc.pb.h"
#include "tapisrv_harness.h"

namespace linebridge::mtest {

class MediaServerTest : public ::testing::Test {
 protected:
  // Starts the suite's server in a new temporary directory named after
  // `tag`; `config` gets that directory and returns the configuration text
  // (it may create files there first). A failure fails the suite's tests.
  static void StartServer(const std::string& tag,
                          const std::function<std::string(const std::string& dir)>& config);
  static void StopServer();
  // The suite's temporary directory.
  static const std::string& Dir() { return *dir_; }

  void SetUp() override;
  // Drops every call the test placed through Connect().
  void TearDown() override;

  v1::Call GetCall(const std::string& call_id);
  // IDLE for a call that no longer exists.
  v1::CallState StateOf(const std::string& call_id);
  bool WaitState(const std::string& call_id, v1::CallState state,
                 absl::Duration timeout = absl::Seconds(10));
  void Drop(const std::string& call_id);

  // Calls `to` from `from_line`. With `to_line`, the call that arrives there
  // is answered (unless `answer` is false: it answers by itself) and both
  // are awaited CONNECTED; without, only the caller's. Returns {caller's
  // call, callee's call or ""}.
  std::pair<std::string, std::string> Connect(const std::string& from_line, const std::string& to,
                                              const std::string& to_line = "", bool answer = true);

  static std::string* dir_;
  static tsp_test::ServerProcess* server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Telephony::Stub> telephony_;
  std::unique_ptr<v1::Media::Stub> media_;
  std::vector<std::string> made_;
};

}  // namespace linebridge::mtest

#endif  // LINEBRIDGE_TESTS_MEDIA_TESTING_MEDIA_SERVER_TEST_H_
