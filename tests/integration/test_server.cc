#include "test_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <unistd.h>
#include <utility>

#include "absl/strings/str_cat.h"
#include "config/config.h"
#include "google/rpc/status.pb.h"
#include "linebridge/lineerr.h"
#include "linebridge/v1/types.pb.h"
#include "linebridge/deadline.h"

namespace linebridge::itest {

namespace {
// Streams live at most this long (a bound, not an expectation).
constexpr absl::Duration kStreamDeadline = absl::Seconds(90);

gpr_timespec DeadlineIn(absl::Duration d) { return DeadlineAfter(d); }
}  // namespace

std::unique_ptr<grpc::ClientContext> Ctx(absl::Duration timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(DeadlineIn(timeout));
  return ctx;
}

std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
  auto ctx = Ctx();
  if (!token.empty()) ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  return ctx;
}

void ExpectTapi(const grpc::Status& st, grpc::StatusCode code, uint32_t lineerr,
                const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(st.error_code(), code) << st.error_message();
  EXPECT_FALSE(st.error_message().empty());
  // The detail: a google.rpc.Status whose code and message match, carrying
  // exactly one linebridge.v1.TapiError.
  google::rpc::Status rpc;
  ASSERT_TRUE(rpc.ParseFromString(st.error_details())) << "no parsable error details";
  EXPECT_EQ(rpc.code(), static_cast<int>(code));
  EXPECT_EQ(rpc.message(), st.error_message());
  ASSERT_EQ(rpc.details_size(), 1);
  EXPECT_EQ(rpc.details(0).type_url(), "type.googleapis.com/linebridge.v1.TapiError");
  v1::TapiError err;
  ASSERT_TRUE(rpc.details(0).UnpackTo(&err));
  EXPECT_EQ(err.lineerr(), lineerr) << std::hex << err.lineerr() << " " << err.name();
  EXPECT_EQ(err.name(), std::string(LineErrName(lineerr)));
  EXPECT_EQ(TapiErrorOf(st), std::optional<uint32_t>(lineerr));
}

std::optional<uint32_t> TapiErrorOf(const grpc::Status& status) {
  if (status.error_details().empty()) return std::nullopt;
  google::rpc::Status rpc;
  if (!rpc.ParseFromString(status.error_details())) return std::nullopt;
  for (const auto& any : rpc.details()) {
    v1::TapiError err;
    // A phone RPC's PHONEERR (0x9…) or a LINEERR (0x8…): they never overlap.
    if (any.Is<v1::TapiError>() && any.UnpackTo(&err)) {
      return err.phoneerr() != 0 ? err.phoneerr() : err.lineerr();
    }
  }
  return std::nullopt;
}

std::string TapiErrorNameOf(const grpc::Status& status) {
  google::rpc::Status rpc;
  if (status.error_details().empty() || !rpc.ParseFromString(status.error_details())) return "";
  for (const auto& any : rpc.details()) {
    v1::TapiError err;
    if (any.Is<v1::TapiError>() && any.UnpackTo(&err)) return err.name();
  }
  return "";
}

std::string NewTempDir(const std::string& prefix) {
  static std::atomic<int> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = prefix;
  if (info != nullptr) absl::StrAppend(&name, "-", info->test_suite_name(), "-", info->name());
  absl::StrAppend(&name, "-", ::getpid(), "-", counter.fetch_add(1));
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / name;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  return dir.string();
}

// ---------------------------------------------------------------------------

std::unique_ptr<TestServer> TestServer::Start(const std::string& config_text, uint64_t epoch,
                                              const std::string& data_dir) {
  auto config = ParseConfigText(config_text, "itest.textproto");
  EXPECT_TRUE(config.ok()) << config.status();
  if (!config.ok()) return nullptr;
  std::unique_ptr<TestServer> t(new TestServer());
  t->data_dir_ = data_dir.empty() ? NewTempDir("lb") : data_dir;
  t->epoch_ = epoch;
  config->set_listen("127.0.0.1:0");
  config->set_data_dir(t->data_dir_);
  auto server = Server::Start(Server::Options{*config, "", epoch});
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return nullptr;
  t->server_ = *std::move(server);
  t->address_ = t->server_->address();
  t->channel_ = grpc::CreateChannel(t->address_, grpc::InsecureChannelCredentials());
  EXPECT_TRUE(t->channel_->WaitForConnected(DeadlineIn(kTimeout))) << t->address_;
  t->telephony_ = v1::Telephony::NewStub(t->channel_);
  t->admin_ = v1::Admin::NewStub(t->channel_);
  return t;
}

TestServer::~TestServer() {
  Shutdown("test server destroyed");
  server_.reset();
}

std::shared_ptr<grpc::Channel> TestServer::NewChannel(const grpc::ChannelArguments& args) {
  grpc::ChannelArguments a = args;
  // A distinct argument set gets a distinct subchannel (its own connection).
  static std::atomic<int> n{0};
  a.SetInt("linebridge.itest.channel", n.fetch_add(1));
  auto ch = grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), a);
  EXPECT_TRUE(ch->WaitForConnected(DeadlineIn(kTimeout)));
  return ch;
}

void TestServer::Shutdown(const std::string& reason) {
  if (server_ != nullptr) server_->Shutdown(reason);
}

v1::ServerStatus TestServer::Status() {
  v1::ServerStatus st;
  grpc::Status s = Rpc(*admin_, &v1::Admin::Stub::GetServerStatus, v1::GetServerStatusRequest(), &st);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return st;
}

uint64_t TestServer::LastSequence() { return Status().sequence(); }

// ---------------------------------------------------------------------------

grpc::Status MakeCall(v1::Telephony::Stub& stub, const std::string& line,
                      const std::string& destination, v1::Call* out, const std::string& session) {
  v1::MakeCallRequest req;
  req.set_session_id(session);
  req.set_line_id(line);
  req.set_destination(destination);
  v1::Call ignored;
  return Rpc(stub, &v1::Telephony::Stub::MakeCall, req, out != nullptr ? out : &ignored);
}

namespace {
grpc::Status CallAction(
    v1::Telephony::Stub& stub,
    grpc::Status (v1::Telephony::Stub::*method)(grpc::ClientContext*,
                                                const v1::CallActionRequest&, v1::Call*),
    const std::string& call_id, v1::Call* out, const std::string& session) {
  v1::CallActionRequest req;
  req.set_session_id(session);
  req.set_call_id(call_id);
  v1::Call ignored;
  return Rpc(stub, method, req, out != nullptr ? out : &ignored);
}
}  // namespace

grpc::Status Answer(v1::Telephony::Stub& stub, const std::string& call_id, v1::Call* out,
                    const std::string& session) {
  return CallAction(stub, &v1::Telephony::Stub::Answer, call_id, out, session);
}

grpc::Status Drop(v1::Telephony::Stub& stub, const std::string& call_id, v1::Call* out,
                  const std::string& session) {
  return CallAction(stub, &v1::Telephony::Stub::Drop, call_id, out, session);
}

std::vector<v1::Call> CallsOn(v1::Telephony::Stub& stub, const std::string& line) {
  v1::ListCallsRequest req;
  req.set_line_id(line);
  v1::ListCallsResponse resp;
  grpc::Status s = Rpc(stub, &v1::Telephony::Stub::ListCalls, req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return {resp.calls().begin(), resp.calls().end()};
}

// ---------------------------------------------------------------------------

EventReader::EventReader(v1::Telephony::Stub& stub, const v1::SubscribeRequest& request,
                         Options options)
    : options_(options) {
  ctx_.set_deadline(DeadlineIn(kStreamDeadline));
  thread_ = std::thread([this, s = &stub, request] { Run(s, request); });
}

EventReader::~EventReader() {
  Cancel();
  if (thread_.joinable()) thread_.join();
}

void EventReader::Run(v1::Telephony::Stub* stub, v1::SubscribeRequest request) {
  std::unique_ptr<grpc::ClientReader<v1::EventBatch>> reader = stub->Subscribe(&ctx_, request);
  bool first = true;
  while (true) {
    if (!first) {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](EventReader* r) ABSL_NO_THREAD_SAFETY_ANALYSIS { return !r->paused_ || r->cancelled_; },
          this));
      if (cancelled_) break;
    }
    v1::EventBatch batch;
    if (!reader->Read(&batch)) break;
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(batch));
    ++received_;
    if (first && options_.pause_after_first) paused_ = true;
    first = false;
  }
  grpc::Status status = reader->Finish();
  absl::MutexLock lock(&mu_);
  ended_ = true;
  end_status_ = status;
}

std::optional<v1::EventBatch> EventReader::Next(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(
      absl::Condition(
          +[](EventReader* r) ABSL_NO_THREAD_SAFETY_ANALYSIS { return !r->queue_.empty() || r->ended_; },
          this),
      timeout);
  if (queue_.empty()) return std::nullopt;
  v1::EventBatch b = std::move(queue_.front());
  queue_.pop_front();
  return b;
}

std::optional<v1::Event> EventReader::WaitFor(const std::function<bool(const v1::Event&)>& pred,
                                              absl::Duration timeout,
                                              std::vector<v1::Event>* seen) {
  const absl::Time deadline = MonotonicNow() + timeout;
  while (true) {
    std::optional<v1::EventBatch> batch = Next(deadline - MonotonicNow());
    if (!batch) return std::nullopt;
    for (int i = 0; i < batch->events_size(); ++i) {
      const v1::Event& ev = batch->events(i);
      if (seen != nullptr) seen->push_back(ev);
      if (!pred(ev)) continue;
      v1::Event match = ev;
      if (i + 1 < batch->events_size()) {
        // Put the rest of the batch back.
        v1::EventBatch rest;
        rest.set_epoch(batch->epoch());
        for (int j = i + 1; j < batch->events_size(); ++j) *rest.add_events() = batch->events(j);
        absl::MutexLock lock(&mu_);
        queue_.push_front(std::move(rest));
      }
      return match;
    }
  }
}

bool EventReader::WaitForSequence(uint64_t sequence, absl::Duration timeout,
                                  std::vector<v1::Event>* seen) {
  return WaitFor([sequence](const v1::Event& ev) { return ev.sequence() >= sequence; }, timeout,
                 seen)
      .has_value();
}

void EventReader::Cancel() {
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }
  ctx_.TryCancel();
}

void EventReader::Resume() {
  absl::MutexLock lock(&mu_);
  paused_ = false;
}

std::optional<grpc::Status> EventReader::WaitForEnd(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(
      absl::Condition(+[](EventReader* r) ABSL_NO_THREAD_SAFETY_ANALYSIS { return r->ended_; },
                      this),
      timeout);
  if (!ended_) return std::nullopt;
  return end_status_;
}

bool EventReader::ended() {
  absl::MutexLock lock(&mu_);
  return ended_;
}

int EventReader::batches_received() {
  absl::MutexLock lock(&mu_);
  return received_;
}

std::function<bool(const v1::Event&)> IsCallState(const std::string& call_id,
                                                  v1::CallState state) {
  return [call_id, state](const v1::Event& ev) {
    return ev.has_call_state() && ev.call_state().call_id() == call_id &&
           ev.call_state().status().state() == state;
  };
}

std::function<bool(const v1::Event&)> IsKind(v1::Event::KindCase kind) {
  return [kind](const v1::Event& ev) { return ev.kind_case() == kind; };
}

}  // namespace linebridge::itest
