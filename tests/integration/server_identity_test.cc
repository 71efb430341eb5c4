// Server identity through the API and the SDK, against real in-process
// servers over gRPC: every server has a stable id (configured, or generated
// once and kept in its data directory) on ServerStatus, Line and Session;
// the SDK learns it per server and routes a line-scoped request to the
// server it names (two default servers both have "sim/100"); CancelAll ends
// calls to a server that never answers at once.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <string>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "linebridge/client.h"
#include "linebridge/lineerr.h"
#include "test_server.h"

namespace linebridge::itest {
namespace {

TEST(ServerIdentity, StableAcrossRestartsAndOnEveryLineAndSession) {
  const std::string data = NewTempDir("server-id");
  std::string id;
  {
    std::unique_ptr<TestServer> server = TestServer::Start("", kDefaultEpoch, data);
    id = server->Status().server_id();
    ASSERT_FALSE(id.empty());
    v1::ListLinesResponse lines;
    ASSERT_TRUE(Rpc(server->telephony(), &v1::Telephony::Stub::ListLines, v1::ListLinesRequest(),
                    &lines)
                    .ok());
    ASSERT_EQ(lines.lines_size(), 9);
    for (const v1::Line& line : lines.lines()) EXPECT_EQ(line.server_id(), id) << line.id();
    v1::CreateSessionRequest create;
    create.set_client_name("t");
    v1::Session session;
    ASSERT_TRUE(
        Rpc(server->telephony(), &v1::Telephony::Stub::CreateSession, create, &session).ok());
    EXPECT_EQ(session.server_id(), id);
  }
  // Same data directory: same id; another: another id; configured: that one.
  std::unique_ptr<TestServer> again = TestServer::Start("", kDefaultEpoch + 1, data);
  EXPECT_EQ(again->Status().server_id(), id);
  std::unique_ptr<TestServer> other = TestServer::Start();
  EXPECT_NE(other->Status().server_id(), id);
  std::unique_ptr<TestServer> named = TestServer::Start("server_id: \"pbx-7\"");
  EXPECT_EQ(named->Status().server_id(), "pbx-7");
}

TEST(ServerIdentity, SdkRoutesByServerWhenTwoServersShareLineIds) {
  std::unique_ptr<TestServer> a = TestServer::Start();
  std::unique_ptr<TestServer> b = TestServer::Start();
  ClientOptions options;
  options.servers = {a->address(), b->address()};
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->StartSession().ok());
  EXPECT_EQ((*client)->server_id(0), a->Status().server_id());
  EXPECT_EQ((*client)->server_id(1), b->Status().server_id());
  EXPECT_NE((*client)->server_id(0), (*client)->server_id(1));

  absl::StatusOr<v1::ListLinesResponse> lines = (*client)->ListLines();
  ASSERT_TRUE(lines.ok()) << lines.status();
  std::set<std::pair<std::string, std::string>> keys;
  for (const v1::Line& line : lines->lines()) keys.insert({line.server_id(), line.id()});
  EXPECT_EQ(lines->lines_size(), 18);
  EXPECT_EQ(keys.size(), 18u);  // (server id, line id) is unique; line ids are not

  // "sim/100" on each server, named by CallOptions::server.
  for (size_t server : {size_t{1}, size_t{0}}) {
    v1::MakeCallRequest request;
    request.set_line_id("sim/100");
    request.set_destination("5550100");
    CallOptions where;
    where.server = server;
    v1::OpenLineRequest open;
    open.set_line_id("sim/100");
    open.set_privilege(v1::PRIVILEGE_MONITOR);
    ASSERT_TRUE((*client)->OpenLine(open, where).ok());
    absl::StatusOr<v1::Call> call = (*client)->MakeCall(request, where);
    ASSERT_TRUE(call.ok()) << call.status();
  }
  EXPECT_EQ(a->Status().calls(), 1u);
  EXPECT_EQ(b->Status().calls(), 1u);
  CallOptions nowhere;
  nowhere.server = 2;
  v1::MakeCallRequest request;
  request.set_line_id("sim/100");
  request.set_destination("5550100");
  EXPECT_EQ((*client)->MakeCall(request, nowhere).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Phones are routed by their id: the SDK finds the server of a phone it has
// not seen yet (asking every server's phones) and fills in that server's
// session.
TEST(ServerIdentity, SdkRoutesPhoneRequestsToThePhonesServer) {
  std::unique_ptr<TestServer> a = TestServer::Start();
  std::unique_ptr<TestServer> b = TestServer::Start("providers { sim { name: \"pbx\" } }");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ClientOptions options;
  options.servers = {a->address(), b->address()};
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->StartSession().ok());
  v1::OpenPhoneRequest open;
  open.set_phone_id("pbx/phone/101");
  open.set_privilege(v1::PRIVILEGE_OWNER);
  absl::StatusOr<v1::Phone> phone = (*client)->OpenPhone(open);
  ASSERT_TRUE(phone.ok()) << phone.status();
  EXPECT_EQ(phone->server_id(), b->Status().server_id());
  EXPECT_EQ(phone->status().num_owners(), 1u);
  v1::SetPhoneDisplayRequest display;
  display.set_phone_id("pbx/phone/101");
  display.set_text("routed");
  absl::StatusOr<v1::Phone> shown = (*client)->SetPhoneDisplay(display);
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_EQ(shown->status().display().substr(0, 6), "routed");
  absl::StatusOr<v1::ListPhonesResponse> phones = (*client)->ListPhones();
  ASSERT_TRUE(phones.ok()) << phones.status();
  EXPECT_EQ(phones->phones_size(), 18);
  v1::GetPhoneRequest missing;
  missing.set_phone_id("nowhere/phone/1");
  EXPECT_EQ((*client)->GetPhone(missing).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(PhoneErrOf((*client)->GetPhone(missing).status()), PHONEERR_BADDEVICEID);
}

// A server that accepts the connection and never answers (a listening socket
// nobody reads): CancelAll ends the call in flight at once, and later calls
// fail at once.
TEST(ServerIdentity, CancelAllEndsCallsToAServerThatNeverAnswers) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ClientOptions options;
  options.servers = {"127.0.0.1:" + std::to_string(ntohs(addr.sin_port))};
  options.deadline = absl::Seconds(10);
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
  ASSERT_TRUE(client.ok());
  absl::Notification done;
  absl::Status result;
  v1::MakeCallRequest request;
  request.set_line_id("sim/100");
  request.set_destination("101");
  (*client)->MakeCallAsync(request, [&](absl::StatusOr<v1::Call> call) {
    result = call.status();
    done.Notify();
  });
  EXPECT_FALSE(done.WaitForNotificationWithTimeout(absl::Milliseconds(200)));  // hangs
  const absl::Time start = absl::Now();
  (*client)->CancelAll();
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(1)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_EQ(result.code(), absl::StatusCode::kCancelled);
  const absl::Time later = absl::Now();
  EXPECT_EQ((*client)->StartSession().code(), absl::StatusCode::kCancelled);
  EXPECT_LT(absl::Now() - later, absl::Milliseconds(100));
  client->reset();
  close(fd);
}

}  // namespace
}  // namespace linebridge::itest
