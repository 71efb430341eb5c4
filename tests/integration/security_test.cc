// Authentication, authorization, audit and abuse limits against a real
// in-process server over real gRPC: plaintext loopback (the anonymous local
// admin creates users and tokens) and TLS / mutual TLS with certificates made
// by openssl.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api/server.h"
#include "config/config.h"
#include "linebridge/connection.h"
#include "linebridge/lineerr.h"
#include "linebridge/v1/security.grpc.pb.h"
#include "store/security_store.h"
#include "test_server.h"
#include "tls_certs.h"
#include "linebridge/deadline.h"

namespace linebridge::itest {
namespace {

using ::testing::HasSubstr;

class SecurityTest : public ::testing::Test {
 protected:
  void Start(const std::string& config = "") {
    server_ = TestServer::Start(config);
    ASSERT_NE(server_, nullptr);
    security_ = v1::Security::NewStub(server_->channel());
  }

  v1::Telephony::Stub& tel() { return server_->telephony(); }

  // A principal (via the anonymous loopback admin) and a token for it.
  std::string User(const std::string& name, v1::Role role = v1::ROLE_USER) {
    v1::AddPrincipalRequest add;
    add.set_name(name);
    add.set_role(role);
    v1::Principal p;
    grpc::Status st = security_->AddPrincipal(Ctx().get(), add, &p);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return Token(name);
  }
  std::string Token(const std::string& name, uint64_t ttl = 0) {
    v1::IssueTokenRequest req;
    req.set_principal(name);
    req.set_ttl_seconds(ttl);
    v1::IssueTokenResponse resp;
    grpc::Status st = security_->IssueToken(Ctx().get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    last_token_id_ = resp.info().token_id();
    return resp.token();
  }
  void Assign(const std::string& name, const std::string& line, bool control, bool originate) {
    v1::AssignRequest req;
    req.set_principal(name);
    req.mutable_grant()->set_line_id(line);
    req.mutable_grant()->set_monitor(true);
    req.mutable_grant()->set_control(control);
    req.mutable_grant()->set_originate(originate);
    v1::Principal p;
    grpc::Status st = security_->Assign(Ctx().get(), req, &p);
    EXPECT_TRUE(st.ok()) << st.error_message();
  }

  grpc::Status ListLines(const std::string& token, v1::ListLinesResponse* out) {
    return tel().ListLines(As(token).get(), v1::ListLinesRequest(), out);
  }
  grpc::Status GetLine(const std::string& token, const std::string& line) {
    v1::GetLineRequest req;
    req.set_line_id(line);
    v1::Line out;
    return tel().GetLine(As(token).get(), req, &out);
  }
  grpc::Status MakeCallAs(const std::string& token, const std::string& line,
                          const std::string& dest, v1::Call* out = nullptr) {
    v1::MakeCallRequest req;
    req.set_line_id(line);
    req.set_destination(dest);
    v1::Call call;
    grpc::Status st = tel().MakeCall(As(token).get(), req, &call);
    if (out != nullptr) *out = call;
    return st;
  }
  grpc::Status CallAction(const std::string& token, const std::string& call_id,
                          grpc::Status (v1::Telephony::Stub::*method)(grpc::ClientContext*,
                                                                      const v1::CallActionRequest&,
                                                                      v1::Call*)) {
    v1::CallActionRequest req;
    req.set_call_id(call_id);
    v1::Call out;
    return (tel().*method)(As(token).get(), req, &out);
  }

  std::unique_ptr<TestServer> server_;
  std::unique_ptr<v1::Security::Stub> security_;
  std::string last_token_id_;
};

void ExpectCode(const grpc::Status& st, grpc::StatusCode code, uint32_t lineerr = 0) {
  EXPECT_EQ(st.error_code(), code) << st.error_message();
  if (lineerr != 0) {
    EXPECT_EQ(TapiErrorOf(st), std::optional<uint32_t>(lineerr)) << TapiErrorNameOf(st);
  }
}

TEST_F(SecurityTest, LoopbackAnonymousIsTheLocalAdmin) {
  Start();
  v1::Principal me;
  ASSERT_TRUE(security_->WhoAmI(Ctx().get(), v1::WhoAmIRequest(), &me).ok());
  EXPECT_EQ(me.name(), "local");
  EXPECT_EQ(me.role(), v1::ROLE_ADMIN);
  EXPECT_EQ(me.authenticated_by(), "loopback");
}

TEST_F(SecurityTest, LoopbackCanRequireCredentials) {
  Start("auth { require_credentials_on_loopback: true }");
  v1::ListLinesResponse lines;
  ExpectCode(ListLines("", &lines), grpc::StatusCode::UNAUTHENTICATED);
  // The store can be reached in process to make the first admin.
  v1::AddPrincipalRequest add;
  add.set_name("root");
  add.set_role(v1::ROLE_ADMIN);
  ASSERT_TRUE(server_->server().security_store().AddPrincipal(add).ok());
  v1::IssueTokenRequest issue;
  issue.set_principal("root");
  auto token = server_->server().security_store().IssueToken(issue, absl::Now());
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(ListLines(token->token(), &lines).ok());
  EXPECT_GT(lines.lines_size(), 0);
}

TEST_F(SecurityTest, ExpiredAndRevokedTokensAreRefused) {
  Start();
  const std::string token = User("alice");
  Assign("alice", "sim/100", false, false);
  v1::ListLinesResponse lines;
  ASSERT_TRUE(ListLines(token, &lines).ok());
  const std::string id = last_token_id_;

  // A presented token is checked even where anonymous calls are allowed.
  v1::RevokeTokenRequest revoke;
  revoke.set_token_id(id);
  v1::TokenInfo info;
  ASSERT_TRUE(security_->RevokeToken(Ctx().get(), revoke, &info).ok());
  EXPECT_TRUE(info.revoked());
  grpc::Status revoked = ListLines(token, &lines);
  ExpectCode(revoked, grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(revoked.error_message(), HasSubstr("revoked"));

  const std::string short_lived = Token("alice", 1);
  ASSERT_TRUE(ListLines(short_lived, &lines).ok());
  absl::SleepFor(absl::Milliseconds(1100));
  grpc::Status expired = ListLines(short_lived, &lines);
  ExpectCode(expired, grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(expired.error_message(), HasSubstr("expired"));

  // Removing the principal takes its tokens with it.
  const std::string third = Token("alice");
  ASSERT_TRUE(ListLines(third, &lines).ok());
  v1::RemovePrincipalRequest remove;
  remove.set_name("alice");
  v1::RemovePrincipalResponse removed;
  ASSERT_TRUE(security_->RemovePrincipal(Ctx().get(), remove, &removed).ok());
  ExpectCode(ListLines(third, &lines), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(SecurityTest, MalformedMetadataAndTokensAreSurvived) {
  Start();
  const std::string good = User("bob");
  Assign("bob", "sim/100", false, false);
  const std::string huge(6000, 'A');
  for (const std::string& value :
       {std::string("Bearer"), std::string("Bearer "), std::string("garbage"),
        std::string("Basic dXNlcjpwYXNz"), std::string("Bearer lb1."),
        absl::StrCat("Bearer ", good.substr(0, good.size() - 1), "g"),
        absl::StrCat("Bearer ", good, "x"), absl::StrCat("Bearer ", huge),
        absl::StrCat("bearer lb1.", std::string(16, 'Z'), ".", std::string(64, '~'))}) {
    auto ctx = Ctx();
    ctx->AddMetadata("authorization", value);
    v1::ListLinesResponse lines;
    grpc::Status st = tel().ListLines(ctx.get(), v1::ListLinesRequest(), &lines);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << value.substr(0, 40) << ": " << st.error_message();
    // The secret part of a token never comes back.
    EXPECT_THAT(st.error_message(), ::testing::Not(HasSubstr(good.substr(21))));
  }
  {
    // Two authorization headers.
    auto ctx = Ctx();
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", good));
    ctx->AddMetadata("authorization", "Bearer other");
    v1::ListLinesResponse lines;
    ExpectCode(tel().ListLines(ctx.get(), v1::ListLinesRequest(), &lines),
               grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    // A header past gRPC's metadata limit, on a connection of its own:
    // refused by the transport.
    auto stub = v1::Telephony::NewStub(server_->NewChannel());
    auto ctx = Ctx();
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", std::string(64 * 1024, 'z')));
    v1::ListLinesResponse lines;
    EXPECT_FALSE(stub->ListLines(ctx.get(), v1::ListLinesRequest(), &lines).ok());
  }
  // The server is still fine, and the good token works.
  v1::ListLinesResponse lines;
  ASSERT_TRUE(ListLines(good, &lines).ok());
  EXPECT_EQ(lines.lines_size(), 1);
}

TEST_F(SecurityTest, UnassignedLinesAreAbsentFromListsAndEvents) {
  Start();
  const std::string token = User("carol");
  Assign("carol", "sim/101", false, false);
  v1::ListLinesResponse lines;
  ASSERT_TRUE(ListLines(token, &lines).ok());
  ASSERT_EQ(lines.lines_size(), 1);
  EXPECT_EQ(lines.lines(0).id(), "sim/101");
  ASSERT_TRUE(ListLines("", &lines).ok());  // the admin sees all
  EXPECT_GT(lines.lines_size(), 1);

  // An unassigned line looks exactly like one that does not exist.
  grpc::Status hidden = GetLine(token, "sim/100");
  grpc::Status missing = GetLine(token, "sim/999");
  ExpectCode(hidden, grpc::StatusCode::NOT_FOUND, LINEERR_BADDEVICEID);
  ExpectCode(missing, grpc::StatusCode::NOT_FOUND, LINEERR_BADDEVICEID);
  EXPECT_TRUE(GetLine(token, "sim/101").ok());

  // Events: subscribe to everything as carol; a call 102 -> 100 (neither
  // hers) must not show; a call 100 -> 101 shows only 101's leg.
  v1::SubscribeRequest sub;
  sub.set_snapshot(true);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  std::unique_ptr<grpc::ClientReader<v1::EventBatch>> reader = tel().Subscribe(&ctx, sub);
  v1::EventBatch first;
  ASSERT_TRUE(reader->Read(&first));
  ASSERT_TRUE(first.has_snapshot());
  ASSERT_EQ(first.snapshot().lines_size(), 1);
  EXPECT_EQ(first.snapshot().lines(0).id(), "sim/101");

  v1::Call hidden_call;
  ASSERT_TRUE(MakeCall(tel(), "sim/102", "100", &hidden_call).ok());
  v1::Call visible_call;
  ASSERT_TRUE(MakeCall(tel(), "sim/100", "101", &visible_call).ok());
  bool saw_101 = false;
  const absl::Time deadline = MonotonicNow() + kTimeout;
  while (!saw_101 && MonotonicNow() < deadline) {
    v1::EventBatch batch;
    ASSERT_TRUE(reader->Read(&batch));
    for (const v1::Event& ev : batch.events()) {
      EXPECT_TRUE(ev.line_id().empty() || ev.line_id() == "sim/101") << ev.DebugString();
      if (ev.line_id() == "sim/101" && ev.has_call_created()) saw_101 = true;
    }
  }
  EXPECT_TRUE(saw_101);
  ctx.TryCancel();
  reader->Finish();

  // ListCalls shows only her line's call; the other is NOT_FOUND.
  v1::ListCallsResponse calls;
  ASSERT_TRUE(tel().ListCalls(As(token).get(), v1::ListCallsRequest(), &calls).ok());
  for (const v1::Call& c : calls.calls()) EXPECT_EQ(c.info().line_id(), "sim/101");
  EXPECT_GE(calls.calls_size(), 1);
  v1::GetCallRequest get;
  get.set_call_id(hidden_call.id());
  v1::Call out;
  ExpectCode(tel().GetCall(As(token).get(), get, &out), grpc::StatusCode::NOT_FOUND,
             LINEERR_INVALCALLHANDLE);

  // Subscribing to a line she may not see is refused like an unknown line.
  v1::SubscribeRequest other;
  other.add_line_ids("sim/100");
  grpc::ClientContext ctx2;
  ctx2.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  ctx2.set_deadline(DeadlineAfter(kTimeout));
  auto r2 = tel().Subscribe(&ctx2, other);
  v1::EventBatch b;
  EXPECT_FALSE(r2->Read(&b));
  ExpectCode(r2->Finish(), grpc::StatusCode::NOT_FOUND, LINEERR_BADDEVICEID);
}

TEST_F(SecurityTest, AdminChangesApplyAtOnce) {
  Start();
  const std::string token = User("dave");
  ExpectCode(GetLine(token, "sim/103"), grpc::StatusCode::NOT_FOUND);
  Assign("dave", "sim/103", false, false);
  EXPECT_TRUE(GetLine(token, "sim/103").ok());
  v1::UnassignRequest un;
  un.set_principal("dave");
  un.set_line_id("sim/103");
  v1::Principal p;
  ASSERT_TRUE(security_->Unassign(Ctx().get(), un, &p).ok());
  ExpectCode(GetLine(token, "sim/103"), grpc::StatusCode::NOT_FOUND);
}

TEST_F(SecurityTest, MonitorOnlyCannotDropOrOriginate) {
  Start();
  const std::string monitor = User("mon");
  const std::string controller = User("ctl");
  Assign("mon", "sim/101", false, false);
  Assign("ctl", "sim/101", true, false);

  ExpectCode(MakeCallAs(monitor, "sim/101", "102"), grpc::StatusCode::PERMISSION_DENIED,
             LINEERR_OPERATIONFAILED);
  ExpectCode(MakeCallAs(controller, "sim/101", "102"), grpc::StatusCode::PERMISSION_DENIED,
             LINEERR_OPERATIONFAILED);

  v1::Call call;
  ASSERT_TRUE(MakeCall(tel(), "sim/100", "101", &call).ok());
  auto legs = CallsOn(tel(), "sim/101");
  ASSERT_EQ(legs.size(), 1u);
  const std::string leg = legs[0].id();
  ExpectCode(CallAction(monitor, leg, &v1::Telephony::Stub::Drop),
             grpc::StatusCode::PERMISSION_DENIED, LINEERR_NOTOWNER);
  ExpectCode(CallAction(monitor, leg, &v1::Telephony::Stub::Answer),
             grpc::StatusCode::PERMISSION_DENIED, LINEERR_NOTOWNER);
  // The monitor still sees the call.
  v1::GetCallRequest get;
  get.set_call_id(leg);
  v1::Call seen;
  EXPECT_TRUE(tel().GetCall(As(monitor).get(), get, &seen).ok());
  // The controller may answer and drop; not the caller's leg on sim/100.
  ExpectCode(CallAction(controller, call.id(), &v1::Telephony::Stub::Drop),
             grpc::StatusCode::NOT_FOUND, LINEERR_INVALCALLHANDLE);
  EXPECT_TRUE(CallAction(controller, leg, &v1::Telephony::Stub::Answer).ok());
  EXPECT_TRUE(CallAction(controller, leg, &v1::Telephony::Stub::Drop).ok());
}

TEST_F(SecurityTest, UsersCannotCallAdminRpcs) {
  Start();
  const std::string token = User("eve");
  Assign("eve", "sim/100", true, true);
  v1::ServerStatus status;
  ExpectCode(server_->admin().GetServerStatus(As(token).get(), v1::GetServerStatusRequest(),
                                              &status),
             grpc::StatusCode::PERMISSION_DENIED, LINEERR_OPERATIONFAILED);
  v1::ListSessionsResponse sessions;
  ExpectCode(server_->admin().ListSessions(As(token).get(), v1::ListSessionsRequest(), &sessions),
             grpc::StatusCode::PERMISSION_DENIED);
  v1::ListCallRecordsResponse records;
  ExpectCode(
      server_->admin().ListCallRecords(As(token).get(), v1::ListCallRecordsRequest(), &records),
      grpc::StatusCode::PERMISSION_DENIED);
  v1::IssueTokenRequest issue;
  issue.set_principal("eve");
  v1::IssueTokenResponse issued;
  ExpectCode(security_->IssueToken(As(token).get(), issue, &issued),
             grpc::StatusCode::PERMISSION_DENIED);
  v1::AssignRequest grab;
  grab.set_principal("eve");
  grab.mutable_grant()->set_line_id("sim/105");
  grab.mutable_grant()->set_control(true);
  v1::Principal p;
  ExpectCode(security_->Assign(As(token).get(), grab, &p), grpc::StatusCode::PERMISSION_DENIED);
  v1::ListAuditResponse audit;
  ExpectCode(security_->ListAudit(As(token).get(), v1::ListAuditRequest(), &audit),
             grpc::StatusCode::PERMISSION_DENIED);
  // But WhoAmI and Ping work.
  ASSERT_TRUE(security_->WhoAmI(As(token).get(), v1::WhoAmIRequest(), &p).ok());
  EXPECT_EQ(p.name(), "eve");
  EXPECT_EQ(p.authenticated_by(), "token");
  v1::PingResponse pong;
  EXPECT_TRUE(server_->admin().Ping(As(token).get(), v1::PingRequest(), &pong).ok());
}

TEST_F(SecurityTest, SessionsBelongToTheirPrincipal) {
  Start();
  const std::string a = User("sa");
  const std::string b = User("sb");
  Assign("sa", "sim/100", true, true);
  Assign("sb", "sim/100", true, true);
  v1::Session session;
  ASSERT_TRUE(tel().CreateSession(As(a).get(), v1::CreateSessionRequest(), &session).ok());
  v1::OpenLineRequest open;
  open.set_session_id(session.id());
  open.set_line_id("sim/100");
  open.set_privilege(v1::PRIVILEGE_OWNER);
  v1::OpenLineResponse opened;
  ExpectCode(tel().OpenLine(As(b).get(), open, &opened), grpc::StatusCode::NOT_FOUND,
             LINEERR_INVALAPPHANDLE);
  grpc::Status own = tel().OpenLine(As(a).get(), open, &opened);
  EXPECT_TRUE(own.ok()) << own.error_code() << " " << own.error_message();
  // Opening as owner is control: a monitor-only principal may open as monitor.
  const std::string m = User("sm");
  Assign("sm", "sim/100", false, false);
  v1::Session ms;
  ASSERT_TRUE(tel().CreateSession(As(m).get(), v1::CreateSessionRequest(), &ms).ok());
  open.set_session_id(ms.id());
  ExpectCode(tel().OpenLine(As(m).get(), open, &opened), grpc::StatusCode::PERMISSION_DENIED,
             LINEERR_NOTOWNER);
  open.set_privilege(v1::PRIVILEGE_MONITOR);
  EXPECT_TRUE(tel().OpenLine(As(m).get(), open, &opened).ok());
}

TEST_F(SecurityTest, OriginationRateLimit) {
  Start("limits { originations_per_minute: 1 origination_burst: 2 max_concurrent_calls: 10 }");
  const std::string token = User("fred");
  Assign("fred", "sim/100", true, true);
  v1::Call c1, c2;
  ASSERT_TRUE(MakeCallAs(token, "sim/100", "101", &c1).ok());
  ASSERT_TRUE(CallAction(token, c1.id(), &v1::Telephony::Stub::Drop).ok());
  ASSERT_TRUE(MakeCallAs(token, "sim/100", "102", &c2).ok());
  ASSERT_TRUE(CallAction(token, c2.id(), &v1::Telephony::Stub::Drop).ok());
  grpc::Status third = MakeCallAs(token, "sim/100", "103");
  ExpectCode(third, grpc::StatusCode::RESOURCE_EXHAUSTED, LINEERR_RESOURCEUNAVAIL);
  EXPECT_THAT(third.error_message(), HasSubstr("originations_per_minute"));
  // Admins are not limited.
  v1::Call admin_call;
  EXPECT_TRUE(MakeCall(tel(), "sim/104", "105", &admin_call).ok());
}

TEST_F(SecurityTest, ConcurrentCallCap) {
  Start("limits { max_concurrent_calls: 1 origination_burst: 100 }");
  const std::string token = User("gina");
  Assign("gina", "sim/100", true, true);
  Assign("gina", "sim/102", true, true);
  v1::Call first;
  ASSERT_TRUE(MakeCallAs(token, "sim/100", "101", &first).ok());
  grpc::Status second = MakeCallAs(token, "sim/102", "103");
  ExpectCode(second, grpc::StatusCode::RESOURCE_EXHAUSTED, LINEERR_RESOURCEUNAVAIL);
  EXPECT_THAT(second.error_message(), HasSubstr("max_concurrent_calls"));
  ASSERT_TRUE(CallAction(token, first.id(), &v1::Telephony::Stub::Drop).ok());
  // Once the first call is gone, a new one is allowed.
  const absl::Time deadline = MonotonicNow() + kTimeout;
  grpc::Status again;
  do {
    again = MakeCallAs(token, "sim/102", "103");
    if (again.ok()) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (MonotonicNow() < deadline);
  EXPECT_TRUE(again.ok()) << again.error_message();
}

TEST_F(SecurityTest, StreamsPerPrincipalCap) {
  Start("limits { max_streams_per_principal: 1 }");
  const std::string token = User("hank");
  Assign("hank", "sim/100", false, false);
  v1::SubscribeRequest sub;
  sub.set_snapshot(true);
  grpc::ClientContext ctx1;
  ctx1.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  auto r1 = tel().Subscribe(&ctx1, sub);
  v1::EventBatch b;
  ASSERT_TRUE(r1->Read(&b));  // the first stream is up
  grpc::ClientContext ctx2;
  ctx2.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  ctx2.set_deadline(DeadlineAfter(kTimeout));
  auto r2 = tel().Subscribe(&ctx2, sub);
  EXPECT_FALSE(r2->Read(&b));
  ExpectCode(r2->Finish(), grpc::StatusCode::RESOURCE_EXHAUSTED, LINEERR_RESOURCEUNAVAIL);
  ctx1.TryCancel();
  r1->Finish();
  // The slot is freed when the stream ends.
  const absl::Time deadline = MonotonicNow() + kTimeout;
  bool reopened = false;
  while (!reopened && MonotonicNow() < deadline) {
    grpc::ClientContext ctx3;
    ctx3.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    ctx3.set_deadline(DeadlineAfter(absl::Seconds(1)));
    auto r3 = tel().Subscribe(&ctx3, sub);
    reopened = r3->Read(&b);
    ctx3.TryCancel();
    r3->Finish();
    if (!reopened) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(reopened);
}

TEST_F(SecurityTest, AuditRecordsControlOperationsAndAdminChanges) {
  Start();
  const std::string token = User("ivy");
  Assign("ivy", "sim/101", false, false);
  v1::Call call;
  ASSERT_TRUE(MakeCall(tel(), "sim/100", "101", &call).ok());
  auto legs = CallsOn(tel(), "sim/101");
  ASSERT_EQ(legs.size(), 1u);
  ExpectCode(CallAction(token, legs[0].id(), &v1::Telephony::Stub::Drop),
             grpc::StatusCode::PERMISSION_DENIED);
  {
    // A control attempt with a bad token is recorded without a principal.
    v1::CallActionRequest req;
    req.set_call_id(call.id());
    v1::Call out;
    auto ctx = Ctx();
    ctx->AddMetadata("authorization", "Bearer lb1.0123456789abcdef.nope");
    ExpectCode(tel().Hold(ctx.get(), req, &out), grpc::StatusCode::UNAUTHENTICATED);
  }
  ASSERT_TRUE(Drop(tel(), call.id()).ok());

  v1::ListAuditResponse audit;
  ASSERT_TRUE(security_->ListAudit(Ctx().get(), v1::ListAuditRequest(), &audit).ok());
  bool denied_drop = false, admin_drop = false, make = false, issued = false, assigned = false,
       unauthenticated = false;
  for (const v1::AuditRecord& r : audit.records()) {
    if (r.operation() == "Drop" && r.principal() == "ivy") {
      denied_drop = r.code() == grpc::StatusCode::PERMISSION_DENIED &&
                    r.lineerr() == "LINEERR_NOTOWNER" && r.call_id() == legs[0].id() &&
                    r.line_id() == "sim/101";
    }
    if (r.operation() == "Drop" && r.principal() == "local" && r.code() == 0) admin_drop = true;
    if (r.operation() == "MakeCall" && r.line_id() == "sim/100" && r.detail() == "101") make = true;
    if (r.operation() == "Security.IssueToken" && r.principal() == "local") {
      issued = true;
      // Never the secret.
      EXPECT_THAT(r.detail(), ::testing::Not(HasSubstr(token.substr(21))));
    }
    if (r.operation() == "Security.Assign" && r.line_id() == "sim/101") assigned = true;
    if (r.operation() == "Hold" && r.principal().empty() &&
        r.code() == grpc::StatusCode::UNAUTHENTICATED && r.call_id() == call.id()) {
      unauthenticated = true;
    }
    EXPECT_TRUE(r.has_time());
  }
  EXPECT_TRUE(denied_drop);
  EXPECT_TRUE(admin_drop);
  EXPECT_TRUE(make);
  EXPECT_TRUE(issued);
  EXPECT_TRUE(assigned);
  EXPECT_TRUE(unauthenticated);

  v1::ListAuditRequest by;
  by.set_principal("ivy");
  ASSERT_TRUE(security_->ListAudit(Ctx().get(), by, &audit).ok());
  ASSERT_GE(audit.records_size(), 1);
  for (const v1::AuditRecord& r : audit.records()) EXPECT_EQ(r.principal(), "ivy");
}

TEST_F(SecurityTest, MaxMessageSize) {
  Start("limits { max_message_bytes: 1024 }");
  v1::PingRequest ping;
  ping.set_payload(std::string(2048, 'p'));
  v1::PingResponse pong;
  ExpectCode(server_->admin().Ping(Ctx().get(), ping, &pong),
             grpc::StatusCode::RESOURCE_EXHAUSTED);
  ping.set_payload("small");
  EXPECT_TRUE(server_->admin().Ping(Ctx().get(), ping, &pong).ok());
}

TEST_F(SecurityTest, IdleConnectionsAreClosed) {
  Start("limits { idle_timeout_ms: 1000 }");
  std::shared_ptr<grpc::Channel> channel = server_->NewChannel();
  auto admin = v1::Admin::NewStub(channel);
  v1::PingResponse pong;
  ASSERT_TRUE(admin->Ping(Ctx().get(), v1::PingRequest(), &pong).ok());
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  // The server sends GOAWAY after a second without calls; the channel goes idle.
  const absl::Time deadline = MonotonicNow() + kTimeout;
  while (channel->GetState(false) == GRPC_CHANNEL_READY && MonotonicNow() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_NE(channel->GetState(false), GRPC_CHANNEL_READY);
  // And it reconnects on the next call.
  EXPECT_TRUE(admin->Ping(Ctx().get(), v1::PingRequest(), &pong).ok());
}

// --- TLS -------------------------------------------------------------------------

class SecurityTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::unique_ptr<TestPki> pki = TestPki::Create(NewTempDir("secpki"));
    if (pki == nullptr) return;
    const bool ok =
        pki->MakeCa("ca") && pki->MakeCa("other-ca") &&
        pki->MakeCert("server", {.ca = "ca",
                                 .common_name = "localhost",
                                 .dns = {"localhost"},
                                 .ips = {"127.0.0.1"}}) &&
        pki->MakeCert("operator", {.ca = "ca", .common_name = "operator", .dns = {"op.example"}}) &&
        pki->MakeCert("agent", {.ca = "ca", .common_name = "agent-7"}) &&
        pki->MakeCert("stranger", {.ca = "ca", .common_name = "stranger"}) &&
        pki->MakeCert("forged", {.ca = "other-ca", .common_name = "agent-7"}) &&
        pki->MakeCert("expired", {.ca = "ca",
                                  .common_name = "agent-7",
                                  .not_before = "20200101000000Z",
                                  .not_after = "20200102000000Z"});
    if (ok) pki_ = pki.release();
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(pki_, nullptr); }

  std::unique_ptr<Server> StartServer(bool client_ca) {
    std::string text = absl::StrCat(
        "listen: \"127.0.0.1:0\"\ndata_dir: \"", NewTempDir("sectls"), "\"\n",
        "auth { admin_principals: \"op.example\" }\n", "tls {\n  cert_file: \"",
        pki_->CertPath("server"), "\"\n  key_file: \"", pki_->KeyPath("server"), "\"\n");
    if (client_ca) absl::StrAppend(&text, "  client_ca_file: \"", pki_->CertPath("ca"), "\"\n");
    absl::StrAppend(&text, "}\n");
    auto config = ParseConfigText(text, "sectls.textproto");
    EXPECT_TRUE(config.ok()) << config.status();
    if (!config.ok()) return nullptr;
    auto server = Server::Start(Server::Options{*config, "", kDefaultEpoch});
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  static std::unique_ptr<Connection> Connect(const std::string& address,
                                             const std::string& cert,
                                             const std::string& token = "") {
    static std::atomic<int> n{0};
    ConnectionOptions options;
    options.deadline = absl::Seconds(3);
    options.channel.tls = true;
    options.channel.tls_options.ca_file = pki_->CertPath("ca");
    if (!cert.empty()) {
      options.channel.tls_options.cert_file = pki_->CertPath(cert);
      options.channel.tls_options.key_file = pki_->KeyPath(cert);
    }
    options.channel.bearer_token = token;
    const int id = n.fetch_add(1);
    options.channel.customize_arguments = [id](grpc::ChannelArguments& args) {
      args.SetInt("linebridge.itest.channel", id);
    };
    auto c = Connection::Create(address, std::move(options));
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  static TestPki* pki_;
};
TestPki* SecurityTlsTest::pki_ = nullptr;

TEST_F(SecurityTlsTest, NoCredentialsOnTlsIsUnauthenticated) {
  std::unique_ptr<Server> server = StartServer(false);
  ASSERT_NE(server, nullptr);
  auto anonymous = Connect(server->address(), "");
  ASSERT_NE(anonymous, nullptr);
  EXPECT_EQ(anonymous->ListLines(v1::ListLinesRequest()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(anonymous->Ping(v1::PingRequest()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(anonymous->WhoAmI(v1::WhoAmIRequest()).status().code(),
            absl::StatusCode::kUnauthenticated);
  // A token issued by an administrator works over the same transport.
  v1::AddPrincipalRequest add;
  add.set_name("kiosk");
  ASSERT_TRUE(server->security_store().AddPrincipal(add).ok());
  v1::AssignRequest assign;
  assign.set_principal("kiosk");
  assign.mutable_grant()->set_line_id("sim/100");
  assign.mutable_grant()->set_monitor(true);
  ASSERT_TRUE(server->security_store().Assign(assign).ok());
  v1::IssueTokenRequest issue;
  issue.set_principal("kiosk");
  auto token = server->security_store().IssueToken(issue, absl::Now());
  ASSERT_TRUE(token.ok());
  auto kiosk = Connect(server->address(), "", token->token());
  auto lines = kiosk->ListLines(v1::ListLinesRequest());
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->lines_size(), 1);
  EXPECT_EQ(lines->lines(0).id(), "sim/100");
}

TEST_F(SecurityTlsTest, CertificatePrincipals) {
  std::unique_ptr<Server> server = StartServer(true);
  ASSERT_NE(server, nullptr);
  // SAN DNS op.example is an admin by configuration.
  auto op = Connect(server->address(), "operator");
  auto who = op->WhoAmI(v1::WhoAmIRequest());
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->name(), "op.example");
  EXPECT_EQ(who->role(), v1::ROLE_ADMIN);
  EXPECT_EQ(who->authenticated_by(), "certificate");

  // A certificate from the right CA whose identity is not registered.
  auto stranger = Connect(server->address(), "stranger");
  auto refused = stranger->ListLines(v1::ListLinesRequest());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("\"stranger\""));

  // The admin registers agent-7 (CN, no SAN) with one line.
  v1::AddPrincipalRequest add;
  add.set_name("agent-7");
  ASSERT_TRUE(op->AddPrincipal(add).ok());
  v1::AssignRequest assign;
  assign.set_principal("agent-7");
  assign.mutable_grant()->set_line_id("sim/104");
  assign.mutable_grant()->set_control(true);
  ASSERT_TRUE(op->Assign(assign).ok());
  auto agent = Connect(server->address(), "agent");
  auto lines = agent->ListLines(v1::ListLinesRequest());
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->lines_size(), 1);
  EXPECT_EQ(lines->lines(0).id(), "sim/104");
  EXPECT_EQ(agent->GetServerStatus(v1::GetServerStatusRequest()).status().code(),
            absl::StatusCode::kPermissionDenied);

  // The same name from the wrong CA, or expired: no connection at all.
  auto forged = Connect(server->address(), "forged");
  EXPECT_EQ(forged->ListLines(v1::ListLinesRequest()).status().code(),
            absl::StatusCode::kUnavailable);
  auto expired = Connect(server->address(), "expired");
  EXPECT_EQ(expired->ListLines(v1::ListLinesRequest()).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace linebridge::itest
