#include "linebridge/routing_table.h"

#include "gtest/gtest.h"

namespace linebridge {
namespace {

TEST(RoutingTableTest, SetFindRemove) {
  RoutingTable routes;
  EXPECT_FALSE(routes.LineServer("sim/100").has_value());
  routes.SetLine("sim/100", 1);
  routes.SetCall("c-1", 2);
  routes.SetCall("", 3);  // ignored
  EXPECT_EQ(routes.LineServer("sim/100"), 1u);
  EXPECT_EQ(routes.CallServer("c-1"), 2u);
  EXPECT_FALSE(routes.CallServer("sim/100").has_value());  // separate namespaces
  EXPECT_EQ(routes.size(RoutingTable::Kind::kCall), 1u);
  routes.SetLine("sim/100", 0);  // moved
  EXPECT_EQ(routes.LineServer("sim/100"), 0u);
  routes.Remove(RoutingTable::Kind::kLine, "sim/100");
  EXPECT_FALSE(routes.LineServer("sim/100").has_value());
}

TEST(RoutingTableTest, LearnsFromEvents) {
  RoutingTable routes;
  v1::EventBatch batch;
  v1::Event* created = batch.add_events();
  created->set_line_id("sim/100");
  created->mutable_call_created()->mutable_call()->set_id("c-1");
  v1::Event* line = batch.add_events();
  line->mutable_line_created()->mutable_line()->set_id("sim/200");
  v1::Event* state = batch.add_events();
  state->set_line_id("sim/101");
  state->mutable_call_state()->set_call_id("c-2");
  state->mutable_call_state()->mutable_status()->set_state(v1::CALL_STATE_CONNECTED);
  routes.Learn(1, batch);
  EXPECT_EQ(routes.CallServer("c-1"), 1u);
  EXPECT_EQ(routes.CallServer("c-2"), 1u);
  EXPECT_EQ(routes.LineServer("sim/100"), 1u);
  EXPECT_EQ(routes.LineServer("sim/101"), 1u);
  EXPECT_EQ(routes.LineServer("sim/200"), 1u);

  v1::EventBatch later;
  v1::Event* idle = later.add_events();
  idle->mutable_call_state()->set_call_id("c-1");
  idle->mutable_call_state()->mutable_status()->set_state(v1::CALL_STATE_IDLE);
  v1::Event* removed = later.add_events();
  removed->set_line_id("sim/200");
  removed->mutable_line_removed()->set_line_id("sim/200");
  routes.Learn(1, later);
  EXPECT_FALSE(routes.CallServer("c-1").has_value());
  EXPECT_FALSE(routes.LineServer("sim/200").has_value());
}

TEST(RoutingTableTest, SnapshotReplacesTheServersCalls) {
  RoutingTable routes;
  routes.SetCall("old-on-0", 0);
  routes.SetCall("old-on-1", 1);
  v1::EventBatch batch;
  batch.mutable_snapshot()->add_lines()->set_id("sim/100");
  batch.mutable_snapshot()->add_calls()->set_id("new-on-0");
  routes.Learn(0, batch);
  EXPECT_FALSE(routes.CallServer("old-on-0").has_value());
  EXPECT_EQ(routes.CallServer("old-on-1"), 1u);
  EXPECT_EQ(routes.CallServer("new-on-0"), 0u);
  EXPECT_EQ(routes.LineServer("sim/100"), 0u);

  routes.ForgetCallsOf(1);
  EXPECT_FALSE(routes.CallServer("old-on-1").has_value());
  EXPECT_EQ(routes.CallServer("new-on-0"), 0u);
}

}  // namespace
}  // namespace linebridge

namespace linebridge {
namespace {

TEST(RoutingTableTest, LearnsPhonesFromSnapshotsAndEvents) {
  RoutingTable routes;
  v1::EventBatch snapshot;
  snapshot.mutable_snapshot()->add_phones()->set_id("sim/phone/100");
  routes.Learn(2, snapshot);
  EXPECT_EQ(routes.Find(RoutingTable::Kind::kPhone, "sim/phone/100"), 2u);
  EXPECT_FALSE(routes.LineServer("sim/phone/100").has_value());  // its own namespace
  v1::EventBatch events;
  v1::Event* created = events.add_events();
  created->set_phone_id("sim/phone/200");
  created->mutable_phone_created()->mutable_phone()->set_id("sim/phone/200");
  v1::Event* removed = events.add_events();
  removed->set_phone_id("sim/phone/100");
  removed->mutable_phone_removed()->set_phone_id("sim/phone/100");
  routes.Learn(1, events);
  EXPECT_EQ(routes.Find(RoutingTable::Kind::kPhone, "sim/phone/200"), 1u);
  EXPECT_FALSE(routes.Find(RoutingTable::Kind::kPhone, "sim/phone/100").has_value());
}

}  // namespace
}  // namespace linebridge
