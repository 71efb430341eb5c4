// Call-detail records through Admin.ListCallRecords.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <set>

#include "test_server.h"
#include "linebridge/deadline.h"

namespace linebridge::itest {
namespace {

std::vector<v1::CallRecord> ListRecords(TestServer& t, const std::string& line = "") {
  v1::ListCallRecordsRequest req;
  req.set_line_id(line);
  v1::ListCallRecordsResponse resp;
  grpc::Status st = Rpc(t.admin(), &v1::Admin::Stub::ListCallRecords, req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return {resp.records().begin(), resp.records().end()};
}

std::optional<v1::CallRecord> RecordOf(const std::vector<v1::CallRecord>& records,
                                       const std::string& call_id) {
  for (const auto& r : records) {
    if (r.call_id() == call_id) return r;
  }
  return std::nullopt;
}

int64_t Millis(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000 + ts.nanos() / 1000000;
}

TEST(CdrTest, AnsweredCallHasBothLegs) {
  auto t = TestServer::Start();
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(ListRecords(*t).empty());

  v1::Call call;
  ASSERT_TRUE(MakeCall(t->telephony(), "sim/100", "101", &call).ok());
  auto callee = CallsOn(t->telephony(), "sim/101");
  ASSERT_EQ(callee.size(), 1u);
  const std::string callee_id = callee[0].id();
  ASSERT_TRUE(Answer(t->telephony(), callee_id).ok());
  absl::SleepFor(absl::Milliseconds(50));  // a measurable connected duration
  ASSERT_TRUE(Drop(t->telephony(), call.id()).ok());     // caller hangs up
  ASSERT_TRUE(Drop(t->telephony(), callee_id).ok());     // callee's DISCONNECTED -> IDLE

  const auto records = ListRecords(*t);
  ASSERT_EQ(records.size(), 2u);
  auto caller_rec = RecordOf(records, call.id());
  auto callee_rec = RecordOf(records, callee_id);
  ASSERT_TRUE(caller_rec.has_value());
  ASSERT_TRUE(callee_rec.has_value());

  EXPECT_EQ(caller_rec->line_id(), "sim/100");
  EXPECT_EQ(caller_rec->origin(), v1::CALL_ORIGIN_OUTBOUND);
  EXPECT_EQ(caller_rec->reason(), v1::CALL_REASON_DIRECT);
  EXPECT_EQ(caller_rec->caller().number(), "100");
  EXPECT_EQ(caller_rec->called().number(), "101");
  EXPECT_EQ(caller_rec->connected().number(), "101");
  EXPECT_EQ(caller_rec->disposition(), v1::DISCONNECT_MODE_NORMAL);
  EXPECT_EQ(caller_rec->media_mode(), v1::MEDIA_MODE_INTERACTIVE_VOICE);

  EXPECT_EQ(callee_rec->line_id(), "sim/101");
  EXPECT_EQ(callee_rec->origin(), v1::CALL_ORIGIN_INTERNAL);
  EXPECT_EQ(callee_rec->caller().number(), "100");
  EXPECT_EQ(callee_rec->called().number(), "101");
  EXPECT_EQ(callee_rec->disposition(), v1::DISCONNECT_MODE_NORMAL);

  for (const auto* r : {&*caller_rec, &*callee_rec}) {
    SCOPED_TRACE(r->call_id());
    EXPECT_GT(r->record_id(), 0);
    ASSERT_TRUE(r->has_started());
    ASSERT_TRUE(r->has_answered());
    ASSERT_TRUE(r->has_ended());
    EXPECT_LE(Millis(r->started()), Millis(r->answered()));
    EXPECT_LE(Millis(r->answered()), Millis(r->ended()));
    EXPECT_GE(r->duration_ms(), 40u);
  }
  EXPECT_NE(caller_rec->record_id(), callee_rec->record_id());

  // The line filter selects one leg.
  const auto only_101 = ListRecords(*t, "sim/101");
  ASSERT_EQ(only_101.size(), 1u);
  EXPECT_EQ(only_101[0].call_id(), callee_id);

  // Counted in the server status.
  EXPECT_EQ(t->Status().call_records(), 2u);
}

TEST(CdrTest, BusyCallHasBusyDispositionAndNoAnswer) {
  auto t = TestServer::Start();
  ASSERT_NE(t, nullptr);
  v1::Call call;
  ASSERT_TRUE(MakeCall(t->telephony(), "sim/100", "5550101", &call).ok());
  // The busy shop is busy at once: the call is already disconnected.
  EXPECT_EQ(call.status().state(), v1::CALL_STATE_DISCONNECTED);
  EXPECT_EQ(call.status().disconnect_mode(), v1::DISCONNECT_MODE_BUSY);
  ASSERT_TRUE(Drop(t->telephony(), call.id()).ok());

  const auto records = ListRecords(*t);
  ASSERT_EQ(records.size(), 1u);
  const v1::CallRecord& r = records[0];
  EXPECT_EQ(r.call_id(), call.id());
  EXPECT_EQ(r.line_id(), "sim/100");
  EXPECT_EQ(r.origin(), v1::CALL_ORIGIN_OUTBOUND);
  EXPECT_EQ(r.called().number(), "5550101");
  EXPECT_EQ(r.disposition(), v1::DISCONNECT_MODE_BUSY);
  EXPECT_FALSE(r.has_answered());
  EXPECT_EQ(r.duration_ms(), 0u);
  EXPECT_TRUE(r.has_started());
  EXPECT_TRUE(r.has_ended());
}

TEST(CdrTest, UnansweredCallLingersThenIsRecorded) {
  // Without an explicit drop, a DISCONNECTED call goes idle after the linger
  // time and is recorded then.
  auto t = TestServer::Start("disconnected_linger_ms: 100");
  ASSERT_NE(t, nullptr);
  v1::Call call;
  ASSERT_TRUE(MakeCall(t->telephony(), "sim/100", "5550103", &call).ok());  // rejects
  EXPECT_EQ(call.status().state(), v1::CALL_STATE_DISCONNECTED);
  std::vector<v1::CallRecord> records;
  const absl::Time deadline = MonotonicNow() + kTimeout;
  while (records.empty() && MonotonicNow() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
    records = ListRecords(*t);
  }
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].disposition(), v1::DISCONNECT_MODE_REJECT);
  EXPECT_FALSE(records[0].has_answered());
}

// Both legs of a call end when the call does: the party that did not hang up
// lingers in DISCONNECTED (here 1 s) before going IDLE, and that linger is not
// talk time.
TEST(CdrTest, RecordsEndWhenTheCallIsDisconnectedNotAfterTheLinger) {
  auto t = TestServer::Start("disconnected_linger_ms: 1000");
  ASSERT_NE(t, nullptr);
  for (const bool caller_hangs_up : {true, false}) {
    SCOPED_TRACE(caller_hangs_up ? "caller hangs up" : "callee hangs up");
    v1::Call call;
    ASSERT_TRUE(MakeCall(t->telephony(), "sim/100", "101", &call).ok());
    auto callee = CallsOn(t->telephony(), "sim/101");
    ASSERT_EQ(callee.size(), 1u);
    const std::string callee_id = callee[0].id();
    ASSERT_TRUE(Answer(t->telephony(), callee_id).ok());
    const absl::Time connected = absl::Now();
    absl::SleepFor(absl::Milliseconds(400));  // talk time
    const std::string first = caller_hangs_up ? call.id() : callee_id;
    const std::string other = caller_hangs_up ? callee_id : call.id();
    ASSERT_TRUE(Drop(t->telephony(), first).ok());
    const int64_t talked = absl::ToInt64Milliseconds(absl::Now() - connected);
    // The other leg is DISCONNECTED now and goes IDLE by itself a second later.
    v1::GetCallRequest get;
    get.set_call_id(other);
    v1::Call lingering;
    ASSERT_TRUE(Rpc(t->telephony(), &v1::Telephony::Stub::GetCall, get, &lingering).ok());
    ASSERT_EQ(lingering.status().state(), v1::CALL_STATE_DISCONNECTED);

    std::optional<v1::CallRecord> a, b;
    const absl::Time deadline = MonotonicNow() + kTimeout;
    while (!(a && b) && MonotonicNow() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
      const auto records = ListRecords(*t);
      a = RecordOf(records, first);
      b = RecordOf(records, other);
    }
    ASSERT_TRUE(a.has_value());
    ASSERT_TRUE(b.has_value());
    for (const auto* r : {&*a, &*b}) {
      SCOPED_TRACE(r->call_id());
      EXPECT_NEAR(static_cast<double>(r->duration_ms()), static_cast<double>(talked), 100.0);
      EXPECT_NEAR(static_cast<double>(r->duration_ms()),
                  static_cast<double>(Millis(r->ended()) - Millis(r->answered())), 1.0);
    }
    // The lingering leg's record ends when it was disconnected.
    EXPECT_EQ(Millis(b->ended()), Millis(lingering.status().state_entered()));
  }
}

TEST(CdrTest, ListingPagesNewestFirst) {
  auto t = TestServer::Start();
  ASSERT_NE(t, nullptr);
  std::set<std::string> made;
  for (int i = 0; i < 5; ++i) {
    v1::Call call;
    ASSERT_TRUE(MakeCall(t->telephony(), "sim/100", "5550101", &call).ok());
    ASSERT_TRUE(Drop(t->telephony(), call.id()).ok());
    made.insert(call.id());
  }
  std::set<std::string> listed;
  std::vector<int> page_sizes;
  int64_t before = 0;
  int64_t prev_id = INT64_MAX;
  for (int page = 0; page < 10; ++page) {
    v1::ListCallRecordsRequest req;
    req.set_limit(2);
    req.set_before_record_id(before);
    v1::ListCallRecordsResponse resp;
    grpc::Status st = Rpc(t->admin(), &v1::Admin::Stub::ListCallRecords, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    page_sizes.push_back(resp.records_size());
    for (const auto& r : resp.records()) {
      EXPECT_LT(r.record_id(), prev_id);  // newest first, no repeats
      prev_id = r.record_id();
      listed.insert(r.call_id());
    }
    before = resp.next_before_record_id();
    if (before == 0) break;
  }
  EXPECT_EQ(page_sizes, (std::vector<int>{2, 2, 1}));
  EXPECT_EQ(listed, made);

  v1::ListCallRecordsRequest too_many;
  too_many.set_limit(10001);
  v1::ListCallRecordsResponse resp;
  EXPECT_EQ(Rpc(t->admin(), &v1::Admin::Stub::ListCallRecords, too_many, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(CdrTest, RecordsSurviveARestart) {
  std::string data_dir;
  std::string call_id;
  {
    auto t = TestServer::Start("", 0x77);
    ASSERT_NE(t, nullptr);
    data_dir = t->data_dir();
    v1::Call call;
    ASSERT_TRUE(MakeCall(t->telephony(), "sim/100", "5550101", &call).ok());
    ASSERT_TRUE(Drop(t->telephony(), call.id()).ok());
    call_id = call.id();
  }  // graceful shutdown flushes the store
  auto t = TestServer::Start("", 0x78, data_dir);
  ASSERT_NE(t, nullptr);
  const auto records = ListRecords(*t);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].call_id(), call_id);
}

}  // namespace
}  // namespace linebridge::itest
