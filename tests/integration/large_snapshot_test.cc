// A server whose snapshot is larger than a client's default 4 MiB message
// limit: the snapshot comes in parts that each fit (v1::Snapshot.more), a
// client with default settings reads all of it, events made while it is
// being sent follow the last part, and the C++ SDK hands the application one
// whole snapshot.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "linebridge/client.h"
#include "test_server.h"
#include "linebridge/deadline.h"

namespace linebridge::itest {
namespace {

constexpr int kLines = 16000;
constexpr size_t kDefaultClientLimit = 4 * 1024 * 1024;

std::string ManyLinesConfig() {
  std::string c = "providers { sim { name: \"sim\" ";
  for (int i = 0; i < kLines; ++i) {
    absl::StrAppend(&c, "extensions { number: \"", 100000 + i, "\" name: \"Extension ", i,
                    " of the large test switch\" } ");
  }
  absl::StrAppend(&c, "} }");
  return c;
}

TEST(LargeSnapshotTest, ADefaultClientReadsEveryPartAndThenTheEvents) {
  auto t = TestServer::Start(ManyLinesConfig());
  ASSERT_NE(t, nullptr);
  // A channel with gRPC's default receive limit, as any client has.
  std::shared_ptr<grpc::Channel> channel = t->NewChannel();
  auto stub = v1::Telephony::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineAfter(absl::Seconds(60)));
  auto reader = stub->Subscribe(&ctx, v1::SubscribeRequest());
  // A call right away, racing the snapshot's parts.
  v1::Call call;
  ASSERT_TRUE(MakeCall(t->telephony(), "sim/100000", "100001", &call).ok());

  v1::EventBatch batch;
  std::set<std::string> lines, phones, calls;
  int parts = 0;
  uint64_t sequence = 0;
  do {
    ASSERT_TRUE(reader->Read(&batch)) << "stream ended after " << parts << " parts: "
                                      << reader->Finish().error_message();
    ASSERT_TRUE(batch.has_snapshot()) << "part " << parts;
    EXPECT_LE(batch.ByteSizeLong(), kDefaultClientLimit);
    if (parts == 0) sequence = batch.snapshot().sequence();
    EXPECT_EQ(batch.snapshot().sequence(), sequence);
    EXPECT_EQ(batch.snapshot_reason(), v1::EventBatch::SNAPSHOT_REASON_REQUESTED);
    if (batch.snapshot().more()) {
      EXPECT_EQ(batch.events_size(), 0) << "events inside the parts";
    }
    for (const v1::Line& line : batch.snapshot().lines()) {
      EXPECT_TRUE(lines.insert(line.id()).second) << "twice: " << line.id();
    }
    for (const v1::Call& c : batch.snapshot().calls()) calls.insert(c.id());
    // Every extension's phone, after the lines and calls.
    for (const v1::Phone& phone : batch.snapshot().phones()) {
      EXPECT_TRUE(phones.insert(phone.id()).second) << "twice: " << phone.id();
    }
    ++parts;
  } while (batch.snapshot().more());
  EXPECT_EQ(lines.size(), static_cast<size_t>(kLines));
  EXPECT_EQ(phones.size(), static_cast<size_t>(kLines));
  EXPECT_GE(parts, 5);  // ~5.5 MB in parts of about 1 MiB

  // The call's events follow the snapshot in order, unless it was taken after
  // the call was made (then the call is in it: in whichever part).
  bool created = calls.count(call.id()) > 0;
  uint64_t last = sequence;
  while (!created) {
    for (const v1::Event& e : batch.events()) {
      EXPECT_GT(e.sequence(), last);
      last = e.sequence();
      if (e.has_call_created() && e.call_created().call().id() == call.id()) created = true;
    }
    if (created) break;
    ASSERT_TRUE(reader->Read(&batch));
    EXPECT_FALSE(batch.has_snapshot()) << "a second snapshot";
  }
  ctx.TryCancel();
  while (reader->Read(&batch)) {
  }
  (void)reader->Finish();
}

TEST(LargeSnapshotTest, TheSdkDeliversOneWholeSnapshot) {
  auto t = TestServer::Start(ManyLinesConfig());
  ASSERT_NE(t, nullptr);
  ClientOptions options;
  options.servers = {t->address()};
  options.channel.max_receive_message_size = static_cast<int>(kDefaultClientLimit);
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  absl::Mutex mu;
  std::vector<v1::EventBatch> snapshots;
  int batches = 0;
  auto sub = (*client)->Subscribe({}, [&](size_t, const v1::EventBatch& b) {
    absl::MutexLock lock(&mu);
    ++batches;
    if (b.has_snapshot()) snapshots.push_back(b);
  });
  {
    absl::MutexLock lock(&mu);
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(
                                        +[](std::vector<v1::EventBatch>* s) { return !s->empty(); },
                                        &snapshots),
                                    absl::Seconds(60)));
    ASSERT_EQ(snapshots.size(), 1u);
    EXPECT_EQ(batches, 1);
    EXPECT_EQ(snapshots[0].snapshot().lines_size(), kLines);
    EXPECT_EQ(snapshots[0].snapshot().phones_size(), kLines);
    EXPECT_FALSE(snapshots[0].snapshot().more());
  }
  // The routing table learnt every line: a routed RPC on the last one works.
  v1::GetLineRequest get;
  get.set_line_id(absl::StrCat("sim/", 100000 + kLines - 1));
  EXPECT_TRUE((*client)->GetLine(get).ok());
  v1::GetPhoneRequest phone;
  phone.set_phone_id(absl::StrCat("sim/phone/", 100000 + kLines - 1));
  EXPECT_TRUE((*client)->GetPhone(phone).ok());
  sub->Stop();
}

}  // namespace
}  // namespace linebridge::itest
