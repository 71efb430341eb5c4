#include "testing/media_server_test.h"

#include <fstream>
#include <set>

#include "absl/time/clock.h"
#include "test_server.h"
#include "linebridge/deadline.h"

namespace linebridge::mtest {

std::string* MediaServerTest::dir_ = nullptr;
tsp_test::ServerProcess* MediaServerTest::server_ = nullptr;

void MediaServerTest::StartServer(
    const std::string& tag, const std::function<std::string(const std::string& dir)>& config) {
  dir_ = new std::string(itest::NewTempDir(tag));
  const std::string path = *dir_ + "/server.textproto";
  std::ofstream(path) << config(*dir_);
  server_ = new tsp_test::ServerProcess();
  std::string error;
  if (!server_->Start(*dir_, &error, 0, path)) {
    ADD_FAILURE() << error;
    delete server_;
    server_ = nullptr;
  }
}

void MediaServerTest::StopServer() {
  delete server_;
  delete dir_;
  server_ = nullptr;
  dir_ = nullptr;
}

void MediaServerTest::SetUp() {
  ASSERT_NE(server_, nullptr);
  channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  telephony_ = v1::Telephony::NewStub(channel_);
  media_ = v1::Media::NewStub(channel_);
}

void MediaServerTest::TearDown() {
  for (const std::string& id : made_) Drop(id);
}

v1::Call MediaServerTest::GetCall(const std::string& call_id) {
  v1::GetCallRequest get;
  get.set_call_id(call_id);
  v1::Call call;
  if (!telephony_->GetCall(itest::Ctx().get(), get, &call).ok()) {
    call.mutable_status()->set_state(v1::CALL_STATE_IDLE);
  }
  return call;
}

v1::CallState MediaServerTest::StateOf(const std::string& call_id) {
  return GetCall(call_id).status().state();
}

bool MediaServerTest::WaitState(const std::string& call_id, v1::CallState state,
                                absl::Duration timeout) {
  const absl::Time deadline = MonotonicNow() + timeout;
  while (MonotonicNow() < deadline) {
    if (StateOf(call_id) == state) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return false;
}

void MediaServerTest::Drop(const std::string& call_id) { (void)itest::Drop(*telephony_, call_id); }

std::pair<std::string, std::string> MediaServerTest::Connect(const std::string& from_line,
                                                             const std::string& to,
                                                             const std::string& to_line,
                                                             bool answer) {
  std::set<std::string> before;
  if (!to_line.empty()) {
    for (const v1::Call& c : itest::CallsOn(*telephony_, to_line)) before.insert(c.id());
  }
  v1::Call a;
  grpc::Status st = itest::MakeCall(*telephony_, from_line, to, &a);
  EXPECT_TRUE(st.ok()) << st.error_message();
  made_.push_back(a.id());
  std::string b;
  if (!to_line.empty()) {
    const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
    while (b.empty() && MonotonicNow() < deadline) {
      for (const v1::Call& c : itest::CallsOn(*telephony_, to_line)) {
        if (!before.contains(c.id())) b = c.id();
      }
      if (b.empty()) absl::SleepFor(absl::Milliseconds(2));
    }
    EXPECT_FALSE(b.empty()) << "no call arrived on " << to_line;
    if (answer && !b.empty()) {
      EXPECT_TRUE(itest::Answer(*telephony_, b).ok());
    }
  }
  EXPECT_TRUE(WaitState(a.id(), v1::CALL_STATE_CONNECTED)) << a.id();
  if (!b.empty()) {
    EXPECT_TRUE(WaitState(b, v1::CALL_STATE_CONNECTED)) << b;
  }
  return {a.id(), b};
}

}  // namespace linebridge::mtest
