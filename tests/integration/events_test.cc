// Subscribe streams against a real server: snapshots, replay, gaps, epoch
// changes, line filters, batching, slow subscribers and shutdown.
#include <gtest/gtest.h>

#include <iostream>
#include <set>
#include <thread>

#include "test_server.h"
#include "linebridge/deadline.h"

namespace linebridge::itest {
namespace {

using v1::Event;
using v1::EventBatch;

std::set<std::string> DefaultLineIds() {
  return {"sim/100", "sim/101", "sim/102", "sim/103", "sim/104",
          "sim/105", "sim/106", "sim/107", "sim/199"};
}

v1::SubscribeRequest Resume(uint64_t epoch, uint64_t sequence) {
  v1::SubscribeRequest req;
  req.set_resume_epoch(epoch);
  req.set_resume_sequence(sequence);
  return req;
}

// A complete call 100 -> 101: made, answered, dropped by both sides. Every
// step is synchronous, so no timer adds events afterwards.
void CallCycle(TestServer& t, const std::string& from = "sim/100",
               const std::string& to = "101") {
  v1::Call call;
  ASSERT_TRUE(MakeCall(t.telephony(), from, to, &call).ok());
  auto callee = CallsOn(t.telephony(), "sim/" + to);
  ASSERT_EQ(callee.size(), 1u);
  ASSERT_TRUE(Answer(t.telephony(), callee[0].id()).ok());
  ASSERT_TRUE(Drop(t.telephony(), call.id()).ok());
  ASSERT_TRUE(Drop(t.telephony(), callee[0].id()).ok());
}

// Reads `reader` until it has seen `last`; returns the events with sequence
// numbers, checking they are consecutive.
std::vector<Event> ReadThrough(EventReader& reader, uint64_t last) {
  std::vector<Event> seen;
  EXPECT_TRUE(reader.WaitForSequence(last, kTimeout, &seen)) << "never saw sequence " << last;
  return seen;
}

TEST(EventsTest, FreshSubscriptionStartsWithSnapshotOfDefaultLines) {
  auto t = TestServer::Start();
  ASSERT_NE(t, nullptr);
  const uint64_t last = t->LastSequence();
  EXPECT_GE(last, 9u);  // at least a LineCreated per line

  EventReader reader(t->telephony(), v1::SubscribeRequest());
  auto first = reader.Next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->epoch(), kDefaultEpoch);
  ASSERT_TRUE(first->has_snapshot());
  EXPECT_EQ(first->snapshot_reason(), EventBatch::SNAPSHOT_REASON_REQUESTED);
  EXPECT_EQ(first->snapshot().sequence(), last);
  std::set<std::string> ids;
  for (const auto& line : first->snapshot().lines()) {
    ids.insert(line.id());
    EXPECT_EQ(line.status().state(), v1::LINE_STATE_IN_SERVICE) << line.id();
  }
  EXPECT_EQ(first->snapshot().lines_size(), 9);
  EXPECT_EQ(ids, DefaultLineIds());
  EXPECT_EQ(first->snapshot().calls_size(), 0);
  // Nothing new happened: no events yet.
  EXPECT_EQ(first->events_size(), 0);

  // snapshot=true forces a snapshot even with a valid resume point.
  v1::SubscribeRequest forced = Resume(kDefaultEpoch, last);
  forced.set_snapshot(true);
  EventReader again(t->telephony(), forced);
  auto b = again.Next();
  ASSERT_TRUE(b.has_value());
  ASSERT_TRUE(b->has_snapshot());
  EXPECT_EQ(b->snapshot_reason(), EventBatch::SNAPSHOT_REASON_REQUESTED);
}

TEST(EventsTest, CallEventsArriveInSequenceOrderWithConsecutiveNumbers) {
  auto t = TestServer::Start();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  auto first = reader.Next();
  ASSERT_TRUE(first.has_value() && first->has_snapshot());
  const uint64_t base = first->snapshot().sequence();

  v1::Call call;
  ASSERT_TRUE(MakeCall(t->telephony(), "sim/100", "101", &call).ok());
  EXPECT_EQ(call.info().line_id(), "sim/100");
  auto callee = CallsOn(t->telephony(), "sim/101");
  ASSERT_EQ(callee.size(), 1u);
  const std::string callee_id = callee[0].id();
  EXPECT_EQ(callee[0].status().state(), v1::CALL_STATE_OFFERING);
  ASSERT_TRUE(Answer(t->telephony(), callee_id).ok());

  const uint64_t last = t->LastSequence();
  std::vector<Event> seen = ReadThrough(reader, last);
  ASSERT_FALSE(seen.empty());
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].sequence(), base + 1 + i) << "event " << i << " out of order";
    EXPECT_EQ(seen[i].epoch(), kDefaultEpoch);
    EXPECT_TRUE(seen[i].has_time());
  }

  // Where each interesting event sits in the stream.
  auto index_of = [&](const std::function<bool(const Event&)>& pred) -> int {
    for (size_t i = 0; i < seen.size(); ++i) {
      if (pred(seen[i])) return static_cast<int>(i);
    }
    return -1;
  };
  const int created_caller = index_of([&](const Event& e) {
    return e.has_call_created() && e.call_created().call().id() == call.id();
  });
  const int created_callee = index_of([&](const Event& e) {
    return e.has_call_created() && e.call_created().call().id() == callee_id;
  });
  const int ringback = index_of(IsCallState(call.id(), v1::CALL_STATE_RINGBACK));
  const int caller_connected = index_of(IsCallState(call.id(), v1::CALL_STATE_CONNECTED));
  const int callee_connected = index_of(IsCallState(callee_id, v1::CALL_STATE_CONNECTED));
  ASSERT_GE(created_caller, 0);
  ASSERT_GE(created_callee, 0);
  ASSERT_GE(ringback, 0);
  ASSERT_GE(caller_connected, 0);
  ASSERT_GE(callee_connected, 0);
  EXPECT_EQ(seen[created_caller].line_id(), "sim/100");
  EXPECT_EQ(seen[created_callee].line_id(), "sim/101");
  EXPECT_EQ(seen[created_callee].call_created().call().status().state(),
            v1::CALL_STATE_OFFERING);
  EXPECT_EQ(seen[callee_connected].line_id(), "sim/101");
  EXPECT_EQ(seen[caller_connected].line_id(), "sim/100");
  EXPECT_LT(created_caller, created_callee);
  EXPECT_LT(created_callee, ringback);
  EXPECT_LT(ringback, caller_connected);
  EXPECT_LT(created_callee, callee_connected);
  // The callee answers first; the caller's leg connects as a consequence.
  EXPECT_LT(callee_connected, caller_connected);

  ASSERT_TRUE(Drop(t->telephony(), call.id()).ok());
  EXPECT_TRUE(reader.WaitFor(IsCallState(callee_id, v1::CALL_STATE_DISCONNECTED)).has_value());
}

TEST(EventsTest, ResumeFromMidSequenceReplaysExactlyTheLaterEvents) {
  auto t = TestServer::Start();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  auto first = reader.Next();
  ASSERT_TRUE(first.has_value() && first->has_snapshot());
  CallCycle(*t);
  CallCycle(*t, "sim/102", "103");
  const uint64_t last = t->LastSequence();
  std::vector<Event> seen = ReadThrough(reader, last);
  ASSERT_GE(seen.size(), 10u);
  const uint64_t mid = seen[seen.size() / 2].sequence();

  EventReader resumed(t->telephony(), Resume(kDefaultEpoch, mid));
  std::vector<Event> replayed;
  bool first_batch = true;
  while (replayed.empty() || replayed.back().sequence() < last) {
    auto b = resumed.Next();
    ASSERT_TRUE(b.has_value()) << "replay stopped after " << replayed.size() << " events";
    if (first_batch) {
      EXPECT_FALSE(b->has_snapshot());
      EXPECT_EQ(b->snapshot_reason(), EventBatch::SNAPSHOT_REASON_UNSPECIFIED);
      first_batch = false;
    }
    EXPECT_FALSE(b->has_snapshot());
    EXPECT_EQ(b->epoch(), kDefaultEpoch);
    for (const auto& e : b->events()) replayed.push_back(e);
  }
  ASSERT_EQ(replayed.size(), last - mid);
  for (size_t i = 0; i < replayed.size(); ++i) {
    EXPECT_EQ(replayed[i].sequence(), mid + 1 + i);
  }
  // Identical to what the live subscriber saw.
  size_t offset = 0;
  while (offset < seen.size() && seen[offset].sequence() <= mid) ++offset;
  ASSERT_EQ(seen.size() - offset, replayed.size());
  for (size_t i = 0; i < replayed.size(); ++i) {
    EXPECT_EQ(replayed[i].SerializeAsString(), seen[offset + i].SerializeAsString()) << i;
  }
  // Nothing more than that.
  EXPECT_FALSE(resumed.Next(absl::Milliseconds(300)).has_value());

  // Resuming at the very end: no snapshot, no events until something happens.
  EventReader at_end(t->telephony(), Resume(kDefaultEpoch, last));
  EXPECT_FALSE(at_end.Next(absl::Milliseconds(300)).has_value());
  v1::Call call;
  ASSERT_TRUE(MakeCall(t->telephony(), "sim/104", "105", &call).ok());
  auto live = at_end.Next();
  ASSERT_TRUE(live.has_value());
  EXPECT_FALSE(live->has_snapshot());
  ASSERT_GT(live->events_size(), 0);
  EXPECT_EQ(live->events(0).sequence(), last + 1);
  ASSERT_TRUE(Drop(t->telephony(), call.id()).ok());
}

TEST(EventsTest, ResumeFromForgottenSequenceGivesGapSnapshotThenLiveEvents) {
  auto t = TestServer::Start("journal_capacity: 16");
  ASSERT_NE(t, nullptr);
  CallCycle(*t);
  CallCycle(*t, "sim/102", "103");
  const v1::ServerStatus st = t->Status();
  ASSERT_GT(st.sequence(), 16u + 2u);
  EXPECT_EQ(st.journal_capacity(), 16u);
  EXPECT_EQ(st.journal_oldest_sequence(), st.sequence() - 16 + 1);

  EventReader reader(t->telephony(), Resume(kDefaultEpoch, 1));
  auto first = reader.Next();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->has_snapshot());
  EXPECT_EQ(first->snapshot_reason(), EventBatch::SNAPSHOT_REASON_GAP);
  EXPECT_EQ(first->snapshot().sequence(), st.sequence());
  EXPECT_EQ(first->snapshot().lines_size(), 9);
  EXPECT_EQ(first->snapshot().calls_size(), 0);

  // The oldest retained point still replays (resume_sequence + 1 == oldest).
  EventReader edge(t->telephony(), Resume(kDefaultEpoch, st.journal_oldest_sequence() - 1));
  auto e = edge.Next();
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(e->has_snapshot());
  ASSERT_GT(e->events_size(), 0);
  EXPECT_EQ(e->events(0).sequence(), st.journal_oldest_sequence());

  // A resume point from the future is a gap too.
  EventReader future(t->telephony(), Resume(kDefaultEpoch, st.sequence() + 1000));
  auto f = future.Next();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->snapshot_reason(), EventBatch::SNAPSHOT_REASON_GAP);

  // Live events follow the snapshot.
  v1::Call call;
  ASSERT_TRUE(MakeCall(t->telephony(), "sim/100", "101", &call).ok());
  std::vector<Event> seen;
  auto created = reader.WaitFor(IsKind(Event::kCallCreated), kTimeout, &seen);
  ASSERT_TRUE(created.has_value());
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front().sequence(), st.sequence() + 1);
  EXPECT_EQ(created->call_created().call().id(), call.id());
  ASSERT_TRUE(Drop(t->telephony(), call.id()).ok());
}

TEST(EventsTest, ResumeAcrossRestartGivesEpochChangedSnapshot) {
  constexpr uint64_t kEpoch1 = 0x1111;
  constexpr uint64_t kEpoch2 = 0x2222;
  std::string data_dir;
  uint64_t last = 0;
  {
    auto t = TestServer::Start("", kEpoch1);
    ASSERT_NE(t, nullptr);
    data_dir = t->data_dir();
    CallCycle(*t);
    last = t->LastSequence();
    EXPECT_EQ(t->Status().epoch(), kEpoch1);
  }
  auto t = TestServer::Start("", kEpoch2, data_dir);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->Status().epoch(), kEpoch2);
  EventReader reader(t->telephony(), Resume(kEpoch1, last));
  auto first = reader.Next();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->has_snapshot());
  EXPECT_EQ(first->snapshot_reason(), EventBatch::SNAPSHOT_REASON_EPOCH_CHANGED);
  EXPECT_EQ(first->epoch(), kEpoch2);
  EXPECT_EQ(first->snapshot().lines_size(), 9);
  // Live events carry the new epoch.
  v1::Call call;
  ASSERT_TRUE(MakeCall(t->telephony(), "sim/100", "101", &call).ok());
  auto created = reader.WaitFor(IsKind(Event::kCallCreated));
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->epoch(), kEpoch2);
  ASSERT_TRUE(Drop(t->telephony(), call.id()).ok());
}

TEST(EventsTest, LineFilterDeliversOnlyThatLineAndServerWideEvents) {
  auto t = TestServer::Start("session_grace_period_ms: 300");
  ASSERT_NE(t, nullptr);
  v1::SubscribeRequest req;
  req.add_line_ids("sim/102");
  EventReader filtered(t->telephony(), req);
  auto first = filtered.Next();
  ASSERT_TRUE(first.has_value() && first->has_snapshot());
  ASSERT_EQ(first->snapshot().lines_size(), 1);
  EXPECT_EQ(first->snapshot().lines(0).id(), "sim/102");

  CallCycle(*t, "sim/100", "101");  // not on 102
  CallCycle(*t, "sim/102", "103");  // 102 calls out
  CallCycle(*t, "sim/104", "102");  // 102 is called
  // A session that expires gives a server-wide event (no line).
  v1::Session session;
  ASSERT_TRUE(Rpc(t->telephony(), &v1::Telephony::Stub::CreateSession,
                  v1::CreateSessionRequest(), &session)
                  .ok());
  std::vector<Event> seen;
  auto expired = filtered.WaitFor(
      [&](const Event& e) {
        return e.has_session_expired() && e.session_expired().session_id() == session.id();
      },
      kTimeout, &seen);
  ASSERT_TRUE(expired.has_value());
  EXPECT_EQ(expired->line_id(), "");

  int on_102 = 0, created = 0;
  uint64_t prev = first->snapshot().sequence();
  for (const auto& e : seen) {
    EXPECT_TRUE(e.line_id().empty() || e.line_id() == "sim/102") << e.ShortDebugString();
    EXPECT_GT(e.sequence(), prev);  // increasing; gaps only for filtered-out events
    prev = e.sequence();
    if (e.line_id() == "sim/102") ++on_102;
    if (e.has_call_created()) ++created;
  }
  EXPECT_GT(on_102, 0);
  EXPECT_EQ(created, 2);  // 102's outgoing leg and its incoming leg
  // The filter really skipped something.
  EXPECT_LT(seen.size(), seen.back().sequence() - first->snapshot().sequence());
}

// Every subscriber gets bytes encoded once per event: subscribers with
// different filters, live and replaying, each see exactly the events their
// filter admits, equal field for field to what an unfiltered one sees.
TEST(EventsTest, SharedEncodingsReachEachFilterIntact) {
  auto t = TestServer::Start("session_grace_period_ms: 300");
  ASSERT_NE(t, nullptr);
  const std::vector<std::set<std::string>> filters = {
      {}, {"sim/100"}, {"sim/101"}, {"sim/100", "sim/103"}, {"sim/105"}};
  std::vector<std::unique_ptr<EventReader>> live;
  for (const auto& f : filters) {
    v1::SubscribeRequest req;
    for (const auto& l : f) req.add_line_ids(l);
    live.push_back(std::make_unique<EventReader>(t->telephony(), req));
    auto first = live.back()->Next();
    ASSERT_TRUE(first.has_value() && first->has_snapshot());
  }
  const uint64_t start = t->LastSequence();
  for (int i = 0; i < 5; ++i) {
    CallCycle(*t, "sim/100", "101");
    CallCycle(*t, "sim/102", "103");
  }
  v1::Session session;
  ASSERT_TRUE(Rpc(t->telephony(), &v1::Telephony::Stub::CreateSession,
                  v1::CreateSessionRequest(), &session)
                  .ok());
  auto is_end = [&](const Event& e) {
    return e.has_session_expired() && e.session_expired().session_id() == session.id();
  };
  std::vector<Event> all;
  ASSERT_TRUE(live[0]->WaitFor(is_end, kTimeout, &all).has_value());
  ASSERT_GT(all.size(), 40u);
  auto expect_filtered = [&](const std::set<std::string>& f, const std::vector<Event>& got,
                             uint64_t after) {
    std::vector<std::string> want, have;
    for (const auto& e : all) {
      if (e.sequence() <= after) continue;
      if (f.empty() || e.line_id().empty() || f.count(e.line_id())) {
        want.push_back(e.SerializeAsString());
      }
    }
    for (const auto& e : got) {
      if (e.sequence() > after) have.push_back(e.SerializeAsString());
    }
    EXPECT_EQ(have, want);
  };
  for (size_t i = 1; i < filters.size(); ++i) {
    SCOPED_TRACE(i);
    std::vector<Event> got;
    ASSERT_TRUE(live[i]->WaitFor(is_end, kTimeout, &got).has_value());
    expect_filtered(filters[i], got, start);
  }
  // Replays of the same range share the same encodings.
  for (const auto& f : filters) {
    v1::SubscribeRequest req = Resume(kDefaultEpoch, start);
    for (const auto& l : f) req.add_line_ids(l);
    EventReader replay(t->telephony(), req);
    std::vector<Event> got;
    ASSERT_TRUE(replay.WaitFor(is_end, kTimeout, &got).has_value());
    expect_filtered(f, got, start);
  }
}

TEST(EventsTest, ReplayOfManyEventsIsBatched) {
  auto t = TestServer::Start();
  ASSERT_NE(t, nullptr);
  for (int i = 0; i < 10; ++i) CallCycle(*t);
  const uint64_t last = t->LastSequence();
  ASSERT_GT(last, 100u);

  // Resume from 0 of this epoch: the whole journal is replayed.
  EventReader reader(t->telephony(), Resume(kDefaultEpoch, 0));
  uint64_t expected = 1;
  int batches = 0;
  while (expected <= last) {
    auto b = reader.Next();
    ASSERT_TRUE(b.has_value()) << "replay stopped at " << expected;
    EXPECT_FALSE(b->has_snapshot());
    ++batches;
    for (const auto& e : b->events()) {
      ASSERT_EQ(e.sequence(), expected);
      ++expected;
    }
  }
  EXPECT_LT(static_cast<uint64_t>(batches), last);
  EXPECT_LE(batches, 3) << "replay of " << last << " events took " << batches << " writes";
}

TEST(EventsTest, MaxBatchBoundsTheReplayBatches) {
  auto t = TestServer::Start("max_batch: 8");
  ASSERT_NE(t, nullptr);
  for (int i = 0; i < 3; ++i) CallCycle(*t);
  const uint64_t last = t->LastSequence();
  EventReader reader(t->telephony(), Resume(kDefaultEpoch, 0));
  uint64_t expected = 1;
  int batches = 0;
  while (expected <= last) {
    auto b = reader.Next();
    ASSERT_TRUE(b.has_value());
    EXPECT_LE(b->events_size(), 8);
    ++batches;
    for (const auto& e : b->events()) ASSERT_EQ(e.sequence(), expected++);
  }
  EXPECT_GE(static_cast<uint64_t>(batches), (last + 7) / 8);
}

TEST(EventsTest, SlowSubscriberIsCutOffWhileOthersGetEverything) {
  auto t = TestServer::Start("subscriber_queue_limit: 32 journal_capacity: 1024");
  ASSERT_NE(t, nullptr);

  // The slow client: its own connection with small HTTP/2 windows, reads the
  // snapshot and then nothing.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 8192);
  auto slow_channel = t->NewChannel(args);
  auto slow_stub = v1::Telephony::NewStub(slow_channel);
  EventReader::Options paused;
  paused.pause_after_first = true;
  EventReader slow(*slow_stub, v1::SubscribeRequest(), paused);
  auto slow_first = slow.Next();
  ASSERT_TRUE(slow_first.has_value() && slow_first->has_snapshot());

  EventReader fast(t->telephony(), v1::SubscribeRequest());
  auto fast_first = fast.Next();
  ASSERT_TRUE(fast_first.has_value() && fast_first->has_snapshot());
  uint64_t expected = fast_first->snapshot().sequence() + 1;
  EXPECT_EQ(t->Status().subscribers(), 2u);

  // Generate events, keeping pace with the fast reader (which must see every
  // one of them), until well past the slow one's queue limit and any
  // transport buffering.
  const uint64_t start = t->LastSequence();
  int cycles = 0;
  while (t->LastSequence() - start < 1500 && cycles < 400) {
    CallCycle(*t);
    ++cycles;
    const uint64_t last = t->LastSequence();
    std::vector<Event> seen;
    ASSERT_TRUE(fast.WaitForSequence(last, kTimeout, &seen)) << "fast reader stalled at cycle "
                                                             << cycles;
    for (const auto& e : seen) ASSERT_EQ(e.sequence(), expected++);
  }
  EXPECT_GT(t->LastSequence() - start, 32u);

  // The server still serves RPCs.
  v1::PingRequest ping;
  ping.set_payload("still there?");
  v1::PingResponse pong;
  ASSERT_TRUE(Rpc(t->admin(), &v1::Admin::Stub::Ping, ping, &pong).ok());
  EXPECT_EQ(pong.payload(), "still there?");
  EXPECT_FALSE(fast.ended());

  // The slow subscriber should have been cut off by now, without reading a
  // thing: the server must not keep a stalled stream (and a session bound to
  // it) around. Allow it a moment.
  const absl::Time deadline = MonotonicNow() + absl::Seconds(2);
  uint32_t subscribers = t->Status().subscribers();
  while (subscribers > 1 && MonotonicNow() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    subscribers = t->Status().subscribers();
  }
  EXPECT_EQ(subscribers, 1u)
      << "a subscriber whose writes are stuck in flow control must be cut off once it is "
         "more than subscriber_queue_limit events behind";

  // Once it reads again it learns it was cut off (resumable error).
  slow.Resume();
  auto end = slow.WaitForEnd(kTimeout);
  ASSERT_TRUE(end.has_value()) << "slow subscriber was never cut off";
  // It did not get everything: the server had stopped writing to it (its
  // writes were stuck in flow control), so this really was a stalled reader.
  uint64_t slow_last = 0;
  while (auto b = slow.Next(absl::ZeroDuration())) {
    for (const auto& e : b->events()) slow_last = e.sequence();
  }
  EXPECT_LT(slow_last, t->LastSequence());
  std::cerr << "slow subscriber got through sequence " << slow_last << " of "
            << t->LastSequence() << ", then ended with " << end->error_code() << " ("
            << end->error_message() << ")\n";
  EXPECT_TRUE(end->error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
              end->error_code() == grpc::StatusCode::CANCELLED)
      << end->error_code() << " " << end->error_message();
  if (end->error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
    EXPECT_EQ(TapiErrorNameOf(*end), "LINEERR_RESOURCEUNAVAIL");
  }

  // And the fast one is still live.
  CallCycle(*t);
  std::vector<Event> seen;
  ASSERT_TRUE(fast.WaitForSequence(t->LastSequence(), kTimeout, &seen));
  for (const auto& e : seen) ASSERT_EQ(e.sequence(), expected++);
  EXPECT_FALSE(fast.ended());
}

TEST(EventsTest, GracefulShutdownTellsSubscribers) {
  auto t = TestServer::Start();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  v1::SubscribeRequest filtered_req;
  filtered_req.add_line_ids("sim/105");
  EventReader filtered(t->telephony(), filtered_req);
  ASSERT_TRUE(reader.Next().has_value());
  ASSERT_TRUE(filtered.Next().has_value());

  std::thread stopper([&] { t->Shutdown("maintenance window"); });
  auto ev = reader.WaitFor(IsKind(Event::kServerShutdown));
  auto ev2 = filtered.WaitFor(IsKind(Event::kServerShutdown));
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->server_shutdown().reason(), "maintenance window");
  EXPECT_EQ(ev->line_id(), "");
  ASSERT_TRUE(ev2.has_value());  // server-wide: passes any filter
  // Then the streams end.
  const absl::Time told = absl::Now();
  auto end = reader.WaitForEnd(kTimeout);
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(filtered.WaitForEnd(kTimeout).has_value());
  std::cerr << "stream ended " << absl::FormatDuration(absl::Now() - told)
            << " after ServerShutdown with " << end->error_code() << " ("
            << end->error_message() << ")\n";
  stopper.join();
}

}  // namespace
}  // namespace linebridge::itest
