// Every failure reaches the client as the exact canonical gRPC code plus the
// TapiError detail (google.rpc.Status in grpc-status-details-bin).
#include <gtest/gtest.h>

#include <grpcpp/generic/generic_stub.h>

#include "absl/synchronization/notification.h"
#include "google/rpc/status.pb.h"
#include "linebridge/lineerr.h"
#include "test_server.h"

namespace linebridge::itest {
namespace {

class ErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start();
    ASSERT_NE(server_, nullptr);
  }
  v1::Telephony::Stub& tel() { return server_->telephony(); }

  // A ringing call 100 -> 101; returns {caller leg, callee leg (OFFERING)}.
  std::pair<std::string, std::string> RingingCall() {
    v1::Call call;
    grpc::Status st = MakeCall(tel(), "sim/100", "101", &call);
    EXPECT_TRUE(st.ok()) << st.error_message();
    auto callee = CallsOn(tel(), "sim/101");
    EXPECT_EQ(callee.size(), 1u);
    return {call.id(), callee.empty() ? "" : callee[0].id()};
  }

  v1::Session NewSession() {
    v1::Session s;
    grpc::Status st =
        Rpc(tel(), &v1::Telephony::Stub::CreateSession, v1::CreateSessionRequest(), &s);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return s;
  }

  std::unique_ptr<TestServer> server_;
};

TEST_F(ErrorsTest, UnknownLine) {
  v1::GetLineRequest req;
  req.set_line_id("sim/999");
  v1::Line line;
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::GetLine, req, &line), grpc::StatusCode::NOT_FOUND,
             LINEERR_BADDEVICEID, "GetLine sim/999");
  req.set_line_id("");
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::GetLine, req, &line),
             grpc::StatusCode::INVALID_ARGUMENT, LINEERR_BADDEVICEID, "GetLine empty id");

  ExpectTapi(MakeCall(tel(), "sim/999", "101", nullptr), grpc::StatusCode::NOT_FOUND,
             LINEERR_INVALLINEHANDLE, "MakeCall on sim/999");
  ExpectTapi(MakeCall(tel(), "nosuchprovider/100", "101", nullptr), grpc::StatusCode::NOT_FOUND,
             LINEERR_INVALLINEHANDLE, "MakeCall on an unknown provider");
}

TEST_F(ErrorsTest, UnknownCall) {
  v1::GetCallRequest req;
  req.set_call_id("feed-12345");
  v1::Call call;
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::GetCall, req, &call), grpc::StatusCode::NOT_FOUND,
             LINEERR_INVALCALLHANDLE, "GetCall");
  ExpectTapi(Drop(tel(), "feed-12345"), grpc::StatusCode::NOT_FOUND, LINEERR_INVALCALLHANDLE,
             "Drop");
  ExpectTapi(Answer(tel(), "feed-12345"), grpc::StatusCode::NOT_FOUND, LINEERR_INVALCALLHANDLE,
             "Answer");
  // A call that has ended is unknown as well.
  auto [caller, callee] = RingingCall();
  ASSERT_TRUE(Drop(tel(), caller).ok());
  ExpectTapi(Drop(tel(), caller), grpc::StatusCode::NOT_FOUND, LINEERR_INVALCALLHANDLE,
             "Drop twice");
  ASSERT_TRUE(Drop(tel(), callee).ok());  // DISCONNECTED -> IDLE
}

TEST_F(ErrorsTest, WrongCallState) {
  auto [caller, callee] = RingingCall();
  v1::CallActionRequest req;
  req.set_call_id(callee);  // OFFERING
  v1::Call out;
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::Hold, req, &out),
             grpc::StatusCode::FAILED_PRECONDITION, LINEERR_INVALCALLSTATE, "Hold OFFERING");
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::Unhold, req, &out),
             grpc::StatusCode::FAILED_PRECONDITION, LINEERR_INVALCALLSTATE, "Unhold OFFERING");
  req.set_call_id(caller);  // RINGBACK
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::Answer, req, &out),
             grpc::StatusCode::FAILED_PRECONDITION, LINEERR_INVALCALLSTATE, "Answer RINGBACK");
  ASSERT_TRUE(Drop(tel(), caller).ok());
  ASSERT_TRUE(Drop(tel(), callee).ok());
}

TEST_F(ErrorsTest, MalformedDialStrings) {
  const std::string bad[] = {"12;ATZ", "1\r\n2", "abc$%", std::string(200, '1'),
                             std::string("10\0" "1", 4), "", "---"};
  for (const auto& dest : bad) {
    if (dest.empty()) continue;  // empty = dial tone, not an error
    ExpectTapi(MakeCall(tel(), "sim/100", dest, nullptr), grpc::StatusCode::INVALID_ARGUMENT,
               LINEERR_INVALADDRESS, "MakeCall to \"" + dest.substr(0, 20) + "\"");
  }
  // The same grammar applies to Dial on a call in dial tone.
  v1::Call call;
  ASSERT_TRUE(MakeCall(tel(), "sim/100", "", &call).ok());
  EXPECT_EQ(call.status().state(), v1::CALL_STATE_DIALTONE);
  v1::DialRequest dial;
  dial.set_call_id(call.id());
  dial.set_destination("12;ATZ");
  v1::Call out;
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::Dial, dial, &out),
             grpc::StatusCode::INVALID_ARGUMENT, LINEERR_INVALADDRESS, "Dial 12;ATZ");
  // Well-formed strings with modifiers and separators are fine.
  dial.set_destination("+1 (0) 1-0.1");  // digits 1 0 1 0 1 -> no such number
  EXPECT_TRUE(Rpc(tel(), &v1::Telephony::Stub::Dial, dial, &out).ok());
  ASSERT_TRUE(Drop(tel(), call.id()).ok());
}

TEST_F(ErrorsTest, OversizedFields) {
  v1::MakeCallRequest req;
  req.set_line_id("sim/100");
  req.set_destination("101");
  req.mutable_params()->set_user_user_info(std::string(257, 'u'));
  v1::Call call;
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::MakeCall, req, &call),
             grpc::StatusCode::INVALID_ARGUMENT, LINEERR_USERUSERINFOTOOBIG, "257 bytes of UUI");
  EXPECT_TRUE(CallsOn(tel(), "sim/100").empty());
  // 256 bytes is the limit and allowed.
  req.mutable_params()->set_user_user_info(std::string(256, 'u'));
  grpc::Status st = Rpc(tel(), &v1::Telephony::Stub::MakeCall, req, &call);
  ASSERT_TRUE(st.ok()) << st.error_message();

  v1::SetCallDataRequest data;
  data.set_call_id(call.id());
  data.set_call_data(std::string(4097, 'd'));
  v1::Call out;
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::SetCallData, data, &out),
             grpc::StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM, "4097 bytes of call data");
  data.set_call_data(std::string(4096, 'd'));
  st = Rpc(tel(), &v1::Telephony::Stub::SetCallData, data, &out);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(out.info().call_data().size(), 4096u);

  // UUI on Drop is checked too.
  v1::CallActionRequest drop;
  drop.set_call_id(call.id());
  drop.set_user_user_info(std::string(300, 'u'));
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::Drop, drop, &out),
             grpc::StatusCode::INVALID_ARGUMENT, LINEERR_USERUSERINFOTOOBIG, "UUI on Drop");
  ASSERT_TRUE(Drop(tel(), call.id()).ok());
}

TEST_F(ErrorsTest, BadDigits) {
  auto [caller, callee] = RingingCall();
  ASSERT_TRUE(Answer(tel(), callee).ok());
  v1::GenerateDigitsRequest req;
  req.set_call_id(caller);
  v1::Call out;
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::GenerateDigits, req, &out),
             grpc::StatusCode::INVALID_ARGUMENT, LINEERR_INVALDIGITS, "no digits");
  req.set_digits("12x");
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::GenerateDigits, req, &out),
             grpc::StatusCode::INVALID_ARGUMENT, LINEERR_INVALDIGITS, "digit x");
  req.set_digits(std::string(65, '1'));
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::GenerateDigits, req, &out),
             grpc::StatusCode::INVALID_ARGUMENT, LINEERR_INVALDIGITS, "65 digits");
  req.set_digits("12#");
  grpc::Status st = Rpc(tel(), &v1::Telephony::Stub::GenerateDigits, req, &out);
  EXPECT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(Drop(tel(), caller).ok());
  ASSERT_TRUE(Drop(tel(), callee).ok());
}

TEST_F(ErrorsTest, OpenLineWithoutPrivilege) {
  v1::Session s = NewSession();
  v1::OpenLineRequest req;
  req.set_session_id(s.id());
  req.set_line_id("sim/100");
  v1::OpenLineResponse resp;
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::OpenLine, req, &resp),
             grpc::StatusCode::INVALID_ARGUMENT, LINEERR_INVALPRIVSELECT, "no privilege");
  req.set_privilege(v1::PRIVILEGE_OWNER);
  req.set_line_id("sim/999");
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::OpenLine, req, &resp),
             grpc::StatusCode::NOT_FOUND, LINEERR_BADDEVICEID, "open unknown line");
  req.set_line_id("sim/100");
  EXPECT_TRUE(Rpc(tel(), &v1::Telephony::Stub::OpenLine, req, &resp).ok());
  // A line the session did not open cannot be used in it.
  ExpectTapi(MakeCall(tel(), "sim/102", "101", nullptr, s.id()),
             grpc::StatusCode::FAILED_PRECONDITION, LINEERR_INVALLINEHANDLE,
             "MakeCall on a line not open in the session");
}

TEST_F(ErrorsTest, UnknownSession) {
  v1::GetCallRequest get;
  get.set_session_id("s-nope-1");
  get.set_call_id("x-1");
  v1::Call call;
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::GetCall, get, &call), grpc::StatusCode::NOT_FOUND,
             LINEERR_INVALAPPHANDLE, "GetCall with unknown session");
  v1::OpenLineRequest open;
  open.set_session_id("s-nope-1");
  open.set_line_id("sim/100");
  open.set_privilege(v1::PRIVILEGE_OWNER);
  v1::OpenLineResponse resp;
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::OpenLine, open, &resp),
             grpc::StatusCode::NOT_FOUND, LINEERR_INVALAPPHANDLE, "OpenLine");
  ExpectTapi(MakeCall(tel(), "sim/100", "101", nullptr, "s-nope-1"), grpc::StatusCode::NOT_FOUND,
             LINEERR_INVALAPPHANDLE, "MakeCall");
  v1::CreateSessionRequest reclaim;
  reclaim.set_reclaim_session_id("s-nope-1");
  v1::Session s;
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::CreateSession, reclaim, &s),
             grpc::StatusCode::NOT_FOUND, LINEERR_INVALAPPHANDLE, "reclaim");
  v1::CloseSessionRequest close;
  close.set_session_id("s-nope-1");
  v1::CloseSessionResponse closed;
  ExpectTapi(Rpc(tel(), &v1::Telephony::Stub::CloseSession, close, &closed),
             grpc::StatusCode::NOT_FOUND, LINEERR_INVALAPPHANDLE, "CloseSession");

  // Subscribe with an unknown session ends the stream with the same error.
  v1::SubscribeRequest sub;
  sub.set_session_id("s-nope-1");
  EventReader reader(tel(), sub);
  auto end = reader.WaitForEnd();
  ASSERT_TRUE(end.has_value());
  ExpectTapi(*end, grpc::StatusCode::NOT_FOUND, LINEERR_INVALAPPHANDLE, "Subscribe");
}

TEST_F(ErrorsTest, PingPayloadLimit) {
  v1::PingRequest req;
  req.set_payload(std::string(65536, 'p'));
  v1::PingResponse resp;
  grpc::Status st = Rpc(server_->admin(), &v1::Admin::Stub::Ping, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.payload().size(), 65536u);
  req.set_payload(std::string(65537, 'p'));
  st = Rpc(server_->admin(), &v1::Admin::Stub::Ping, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_EQ(TapiErrorOf(st), std::optional<uint32_t>(LINEERR_INVALPARAM));
}

TEST_F(ErrorsTest, HealthServiceReportsServing) {
  // grpc.health.v1.Health/Check through the generic stub (no generated
  // health headers here). HealthCheckRequest{} is empty on the wire;
  // HealthCheckResponse{status: SERVING} is field 1 = 1: bytes 08 01.
  grpc::GenericStub generic(server_->channel());
  auto check = [&](grpc::ByteBuffer* response) {
    grpc::Slice empty;
    grpc::ByteBuffer request(&empty, 1);
    auto ctx = Ctx();
    absl::Notification done;
    grpc::Status status;
    generic.UnaryCall(ctx.get(), "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                      response, [&](grpc::Status s) {
                        status = std::move(s);
                        done.Notify();
                      });
    EXPECT_TRUE(done.WaitForNotificationWithTimeout(kTimeout));
    return status;
  };
  grpc::ByteBuffer response;
  grpc::Status st = check(&response);
  ASSERT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));

  // And the Admin service answers on the same channel.
  v1::PingResponse pong;
  EXPECT_TRUE(Rpc(server_->admin(), &v1::Admin::Stub::Ping, v1::PingRequest(), &pong).ok());
}

}  // namespace
}  // namespace linebridge::itest
