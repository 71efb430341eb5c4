// A request body that does not parse as the method's request message:
// every linebridge.v1 method answers INVALID_ARGUMENT with the TapiError
// detail (LINEERR_INVALPARAM), never UNIMPLEMENTED, and the daemon log gets
// one line per peer and interval instead of one per request.
#include <gtest/gtest.h>

#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "google/rpc/status.pb.h"
#include "linebridge/lineerr.h"
#include "linebridge/v1/security.grpc.pb.h"
#include "test_server.h"

namespace linebridge::itest {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::MethodDescriptor;

// Sends raw bytes as the request of `method` ("/pkg.Service/Method"). A
// server-streaming method fails before its first message, so a unary call
// sees its status too.
grpc::Status RawCall(grpc::GenericStub& stub, const std::string& method,
                     const std::string& body) {
  grpc::Slice slice(body);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  auto ctx = Ctx();
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(ctx.get(), method, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(kTimeout)) << method;
  return status;
}

// Every method of the linebridge.v1 services, from the generated descriptors.
std::vector<const MethodDescriptor*> AllMethods() {
  std::vector<const MethodDescriptor*> methods;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const char* name :
       {"linebridge.v1.Telephony", "linebridge.v1.Admin", "linebridge.v1.Security"}) {
    const auto* service = pool->FindServiceByName(name);
    EXPECT_NE(service, nullptr) << name;
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) methods.push_back(service->method(i));
  }
  return methods;
}

std::string PathOf(const MethodDescriptor* m) {
  return "/" + m->service()->full_name() + "/" + m->name();
}

// The wire encoding of a message whose first string field holds invalid
// UTF-8 (0xff), or "" when the request type has no string field.
std::string InvalidUtf8Body(const Descriptor* type) {
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* f = type->field(i);
    if (f->type() != FieldDescriptor::TYPE_STRING || f->number() > 15) continue;
    std::string body;
    body.push_back(static_cast<char>((f->number() << 3) | 2));  // length-delimited
    body.push_back(3);
    body.append("a\xff" "b");
    return body;
  }
  return "";
}

void ExpectInvalidParam(const grpc::Status& st, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << st.error_code() << " " << st.error_message();
  EXPECT_TRUE(absl::StrContains(st.error_message(), "does not parse")) << st.error_message();
  google::rpc::Status rpc;
  ASSERT_TRUE(rpc.ParseFromString(st.error_details())) << "no parsable error details";
  EXPECT_EQ(rpc.code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  ASSERT_EQ(rpc.details_size(), 1);
  v1::TapiError err;
  ASSERT_TRUE(rpc.details(0).UnpackTo(&err));
  EXPECT_EQ(err.lineerr(), LINEERR_INVALPARAM);
  EXPECT_EQ(err.name(), "LINEERR_INVALPARAM");
}

class ParseFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start();
    ASSERT_NE(server_, nullptr);
  }
  std::unique_ptr<TestServer> server_;
};

TEST_F(ParseFailureTest, MalformedProtobufIsInvalidArgumentOnEveryMethod) {
  grpc::GenericStub stub(server_->channel());
  const auto methods = AllMethods();
  ASSERT_GE(methods.size(), 45u);
  // A field 1 of wire type 7 (there is none), then a length running past the end.
  for (const std::string& body : {std::string("\x0f\x01", 2), std::string("\x0a\x7f" "ab", 4)}) {
    for (const MethodDescriptor* m : methods) {
      ExpectInvalidParam(RawCall(stub, PathOf(m), body), PathOf(m));
    }
  }
}

TEST_F(ParseFailureTest, InvalidUtf8InAStringFieldIsInvalidArgumentNamingTheField) {
  grpc::GenericStub stub(server_->channel());
  int checked = 0;
  for (const MethodDescriptor* m : AllMethods()) {
    const std::string body = InvalidUtf8Body(m->input_type());
    if (body.empty()) continue;
    const grpc::Status st = RawCall(stub, PathOf(m), body);
    ExpectInvalidParam(st, PathOf(m));
    EXPECT_TRUE(absl::StrContains(st.error_message(), m->input_type()->full_name()))
        << st.error_message();
    EXPECT_TRUE(absl::StrContains(st.error_message(), "is not valid UTF-8")) << st.error_message();
    ++checked;
  }
  EXPECT_GE(checked, 35);
}

TEST_F(ParseFailureTest, TheSameConnectionStillWorksAfterwards) {
  grpc::GenericStub stub(server_->channel());
  for (int i = 0; i < 20; ++i) {
    ExpectInvalidParam(RawCall(stub, "/linebridge.v1.Telephony/MakeCall", "\x0f"), "MakeCall");
    v1::PingResponse pong;
    ASSERT_TRUE(Rpc(server_->admin(), &v1::Admin::Stub::Ping, v1::PingRequest(), &pong).ok());
  }
  // A valid request that a handler rejects keeps its own answer.
  v1::Call call;
  grpc::Status st = MakeCall(server_->telephony(), "sim/100", "12;ATZ", &call);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(TapiErrorNameOf(st), "LINEERR_INVALADDRESS");
  // An unknown method is still UNIMPLEMENTED.
  EXPECT_EQ(RawCall(stub, "/linebridge.v1.Telephony/NoSuchMethod", "").error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(ParseFailureTest, AFloodFromOnePeerLogsOneLineAndNoLibprotobufLines) {
  grpc::GenericStub stub(server_->channel());
  const std::string utf8 = InvalidUtf8Body(v1::MakeCallRequest::descriptor());
  constexpr int kRequests = 200;
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < kRequests; ++i) {
    ExpectInvalidParam(RawCall(stub, "/linebridge.v1.Telephony/MakeCall", i % 2 ? utf8 : "\x0f"),
                       "flood");
  }
  const std::string log = ::testing::internal::GetCapturedStderr();
  int parse_lines = 0;
  int libprotobuf_lines = 0;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (absl::StrContains(line, "did not parse")) ++parse_lines;
    if (absl::StrContains(line, "libprotobuf")) ++libprotobuf_lines;
  }
  EXPECT_EQ(parse_lines, 1) << log;
  EXPECT_EQ(libprotobuf_lines, 0) << log;
  EXPECT_TRUE(absl::StrContains(log, "from 127.0.0.1 to /linebridge.v1.Telephony/MakeCall"))
      << log;

  // The rest is counted and written when the server stops.
  ::testing::internal::CaptureStderr();
  server_->Shutdown();
  server_.reset();
  const std::string at_stop = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(absl::StrContains(at_stop, "api: " + std::to_string(kRequests - 1) +
                                             " more request(s) from 127.0.0.1 did not parse"))
      << at_stop;
}

TEST_F(ParseFailureTest, ConcurrentBadAndGoodRequestsOnSeparateConnectionsEachGetTheirAnswer) {
  constexpr int kThreads = 4;
  constexpr int kEach = 100;
  const std::string utf8 = InvalidUtf8Body(v1::MakeCallRequest::descriptor());
  std::atomic<int> wrong{0};
  ::testing::internal::CaptureStderr();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("linebridge.test.connection", t);  // a connection of its own
      auto channel = server_->NewChannel(args);
      grpc::GenericStub stub(channel);
      auto admin = v1::Admin::NewStub(channel);
      for (int i = 0; i < kEach; ++i) {
        const grpc::Status bad = RawCall(stub, "/linebridge.v1.Telephony/MakeCall",
                                         i % 2 ? utf8 : std::string("\x0f"));
        // The reason is the one of this request, never another thread's.
        const char* why = i % 2 ? "string field 'linebridge.v1.MakeCallRequest.session_id' is "
                                  "not valid UTF-8"
                                : "(malformed protobuf)";
        if (bad.error_code() != grpc::StatusCode::INVALID_ARGUMENT ||
            TapiErrorNameOf(bad) != "LINEERR_INVALPARAM" ||
            !absl::StrContains(bad.error_message(), why)) {
          ++wrong;
        }
        v1::PingRequest ping;
        ping.set_payload(std::to_string(i));
        v1::PingResponse pong;
        auto ctx = Ctx();
        if (!admin->Ping(ctx.get(), ping, &pong).ok() || pong.payload() != ping.payload()) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(wrong.load(), 0);
  // One peer address (127.0.0.1) however many connections: one line.
  int parse_lines = 0;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (absl::StrContains(line, "did not parse")) ++parse_lines;
  }
  EXPECT_EQ(parse_lines, 1) << log;
  EXPECT_FALSE(absl::StrContains(log, "libprotobuf")) << log;
}

}  // namespace
}  // namespace linebridge::itest
