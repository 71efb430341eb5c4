// Sessions against a real server: grace-period reclaim after the client's
// stream vanished, expiry (with TSPI drop-no-owner), and monitor privilege.
#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "linebridge/lineerr.h"
#include "test_server.h"
#include "linebridge/deadline.h"

namespace linebridge::itest {
namespace {

constexpr uint32_t kGraceMs = 1500;

std::string Config() { return absl::StrCat("session_grace_period_ms: ", kGraceMs); }

v1::Session CreateSession(TestServer& t, const std::string& reclaim = "",
                          grpc::Status* status = nullptr) {
  v1::CreateSessionRequest req;
  req.set_client_name("itest");
  req.set_reclaim_session_id(reclaim);
  v1::Session s;
  grpc::Status st = Rpc(t.telephony(), &v1::Telephony::Stub::CreateSession, req, &s);
  if (status != nullptr) {
    *status = st;
  } else {
    EXPECT_TRUE(st.ok()) << st.error_message();
  }
  return s;
}

grpc::Status OpenLine(TestServer& t, const std::string& session, const std::string& line,
                      v1::Privilege privilege) {
  v1::OpenLineRequest req;
  req.set_session_id(session);
  req.set_line_id(line);
  req.set_privilege(privilege);
  v1::OpenLineResponse resp;
  return Rpc(t.telephony(), &v1::Telephony::Stub::OpenLine, req, &resp);
}

std::optional<v1::Session> FindSession(TestServer& t, const std::string& id) {
  v1::ListSessionsResponse resp;
  grpc::Status st =
      Rpc(t.admin(), &v1::Admin::Stub::ListSessions, v1::ListSessionsRequest(), &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  for (const auto& s : resp.sessions()) {
    if (s.id() == id) return s;
  }
  return std::nullopt;
}

// Polls ListSessions until the session's `attached` flag is `attached`.
bool WaitAttached(TestServer& t, const std::string& id, bool attached) {
  const absl::Time deadline = MonotonicNow() + kTimeout;
  while (MonotonicNow() < deadline) {
    auto s = FindSession(t, id);
    if (s.has_value() && s->attached() == attached) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

grpc::Status GetCall(TestServer& t, const std::string& session, const std::string& call_id,
                     v1::Call* out) {
  v1::GetCallRequest req;
  req.set_session_id(session);
  req.set_call_id(call_id);
  return Rpc(t.telephony(), &v1::Telephony::Stub::GetCall, req, out);
}

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// Session A with sim/100 open as owner and a stream bound to it, in a
// connected call 100 -> 101 (101 answered by the server).
struct ConnectedSession {
  v1::Session session;
  std::unique_ptr<EventReader> stream;
  std::string call_id;    // A's leg on sim/100
  std::string callee_id;  // the leg on sim/101
};

void SetUpConnectedSession(TestServer& t, ConnectedSession* out) {
  out->session = CreateSession(t);
  const std::string& a = out->session.id();
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(out->session.grace_period_ms(), kGraceMs);
  ASSERT_TRUE(OpenLine(t, a, "sim/100", v1::PRIVILEGE_OWNER).ok());
  v1::SubscribeRequest sub;
  sub.set_session_id(a);
  out->stream = std::make_unique<EventReader>(t.telephony(), sub);
  ASSERT_TRUE(out->stream->Next().has_value());  // snapshot: the stream is bound
  ASSERT_TRUE(WaitAttached(t, a, true));

  v1::Call call;
  grpc::Status st = MakeCall(t.telephony(), "sim/100", "101", &call, a);
  ASSERT_TRUE(st.ok()) << st.error_message();
  out->call_id = call.id();
  EXPECT_TRUE(Contains(call.owner_sessions(), a));
  EXPECT_EQ(call.status().privilege(), v1::PRIVILEGE_OWNER);
  auto callee = CallsOn(t.telephony(), "sim/101");
  ASSERT_EQ(callee.size(), 1u);
  out->callee_id = callee[0].id();
  ASSERT_TRUE(Answer(t.telephony(), out->callee_id).ok());  // server authority
  v1::Call now;
  ASSERT_TRUE(GetCall(t, a, out->call_id, &now).ok());
  ASSERT_EQ(now.status().state(), v1::CALL_STATE_CONNECTED);
}

TEST(SessionsTest, SessionIsReclaimedWithinTheGracePeriod) {
  auto t = TestServer::Start(Config());
  ASSERT_NE(t, nullptr);
  ConnectedSession cs;
  ASSERT_NO_FATAL_FAILURE(SetUpConnectedSession(*t, &cs));
  const std::string a = cs.session.id();

  // The client vanishes: its stream is cancelled.
  const absl::Time vanished = absl::Now();
  cs.stream->Cancel();
  ASSERT_TRUE(cs.stream->WaitForEnd().has_value());
  ASSERT_TRUE(WaitAttached(*t, a, false));

  // It comes back within the grace period and reclaims the session.
  grpc::Status st;
  v1::Session back = CreateSession(*t, a, &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_LT(absl::Now() - vanished, absl::Milliseconds(kGraceMs)) << "too slow to test reclaim";
  EXPECT_EQ(back.id(), a);
  EXPECT_TRUE(Contains(back.open_lines(), "sim/100"));
  v1::SubscribeRequest sub;
  sub.set_session_id(a);
  EventReader rebound(t->telephony(), sub);
  ASSERT_TRUE(rebound.Next().has_value());
  ASSERT_TRUE(WaitAttached(*t, a, true));

  // Past the original grace period the session, its call and its ownership
  // are all still there.
  absl::SleepFor(vanished + absl::Milliseconds(kGraceMs + 500) - absl::Now());
  auto listed = FindSession(*t, a);
  ASSERT_TRUE(listed.has_value()) << "reclaimed session expired anyway";
  EXPECT_EQ(listed->owned_calls(), 1u);
  v1::Call call;
  ASSERT_TRUE(GetCall(*t, a, cs.call_id, &call).ok());
  EXPECT_EQ(call.status().state(), v1::CALL_STATE_CONNECTED);
  EXPECT_TRUE(Contains(call.owner_sessions(), a));
  EXPECT_EQ(call.status().privilege(), v1::PRIVILEGE_OWNER);

  // A still owns it: it can drop it.
  v1::Call dropped;
  st = Drop(t->telephony(), cs.call_id, &dropped, a);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(dropped.status().state(), v1::CALL_STATE_IDLE);
  v1::Call callee;
  ASSERT_TRUE(GetCall(*t, "", cs.callee_id, &callee).ok());
  EXPECT_EQ(callee.status().state(), v1::CALL_STATE_DISCONNECTED);
  EXPECT_EQ(callee.status().disconnect_mode(), v1::DISCONNECT_MODE_NORMAL);
}

TEST(SessionsTest, SessionExpiresAfterTheGracePeriodAndItsCallsAreDropped) {
  auto t = TestServer::Start(Config());
  ASSERT_NE(t, nullptr);
  EventReader observer(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(observer.Next().has_value());
  ConnectedSession cs;
  ASSERT_NO_FATAL_FAILURE(SetUpConnectedSession(*t, &cs));
  const std::string a = cs.session.id();

  const absl::Time vanished = absl::Now();
  cs.stream->Cancel();
  ASSERT_TRUE(cs.stream->WaitForEnd().has_value());

  std::vector<v1::Event> seen;
  auto expired = observer.WaitFor(
      [&](const v1::Event& e) {
        return e.has_session_expired() && e.session_expired().session_id() == a;
      },
      absl::Milliseconds(kGraceMs) + kTimeout, &seen);
  ASSERT_TRUE(expired.has_value()) << "no SessionExpired event";
  EXPECT_GE(absl::Now() - vanished, absl::Milliseconds(kGraceMs - 100))
      << "expired before its grace period was over";
  EXPECT_EQ(expired->line_id(), "");

  // Drop-no-owner: A's leg went IDLE and the far end was disconnected.
  bool caller_idle = false, callee_disconnected = false;
  for (const auto& e : seen) {
    if (IsCallState(cs.call_id, v1::CALL_STATE_IDLE)(e)) caller_idle = true;
    if (IsCallState(cs.callee_id, v1::CALL_STATE_DISCONNECTED)(e)) callee_disconnected = true;
  }
  EXPECT_TRUE(caller_idle);
  EXPECT_TRUE(callee_disconnected);
  EXPECT_TRUE(CallsOn(t->telephony(), "sim/100").empty());
  v1::Call callee;
  ASSERT_TRUE(GetCall(*t, "", cs.callee_id, &callee).ok());
  EXPECT_EQ(callee.status().state(), v1::CALL_STATE_DISCONNECTED);

  // The session is gone.
  grpc::Status st;
  CreateSession(*t, a, &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();
  EXPECT_EQ(TapiErrorOf(st), std::optional<uint32_t>(LINEERR_INVALAPPHANDLE));
  EXPECT_FALSE(FindSession(*t, a).has_value());
  v1::Line line;
  v1::GetLineRequest gl;
  gl.set_line_id("sim/100");
  ASSERT_TRUE(Rpc(t->telephony(), &v1::Telephony::Stub::GetLine, gl, &line).ok());
  EXPECT_EQ(line.status().num_opens(), 0u);
}

TEST(SessionsTest, SessionWithoutAStreamExpiresToo) {
  auto t = TestServer::Start("session_grace_period_ms: 200");
  ASSERT_NE(t, nullptr);
  EventReader observer(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(observer.Next().has_value());
  v1::Session s = CreateSession(*t);
  auto expired = observer.WaitFor(IsKind(v1::Event::kSessionExpired));
  ASSERT_TRUE(expired.has_value());
  EXPECT_EQ(expired->session_expired().session_id(), s.id());
}

TEST(SessionsTest, MonitorSessionCannotDropACall) {
  auto t = TestServer::Start(Config());
  ASSERT_NE(t, nullptr);
  v1::Session m = CreateSession(*t);
  ASSERT_TRUE(OpenLine(*t, m.id(), "sim/100", v1::PRIVILEGE_MONITOR).ok());
  v1::Call call;
  ASSERT_TRUE(MakeCall(t->telephony(), "sim/100", "101", &call).ok());  // server authority
  EXPECT_TRUE(Contains(call.monitor_sessions(), m.id()));
  EXPECT_FALSE(Contains(call.owner_sessions(), m.id()));

  v1::Call seen;
  ASSERT_TRUE(GetCall(*t, m.id(), call.id(), &seen).ok());
  EXPECT_EQ(seen.status().privilege(), v1::PRIVILEGE_MONITOR);

  grpc::Status st = Drop(t->telephony(), call.id(), nullptr, m.id());
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
  EXPECT_EQ(TapiErrorOf(st), std::optional<uint32_t>(LINEERR_NOTOWNER));
  EXPECT_EQ(TapiErrorNameOf(st), "LINEERR_NOTOWNER");
  // The call is untouched; the server (no session) may drop it.
  v1::Call still;
  ASSERT_TRUE(GetCall(*t, "", call.id(), &still).ok());
  EXPECT_EQ(still.status().state(), v1::CALL_STATE_RINGBACK);
  ASSERT_TRUE(Drop(t->telephony(), call.id()).ok());
}

}  // namespace
}  // namespace linebridge::itest
