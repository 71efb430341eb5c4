// KamailioDialogControl against a real kamailio (its jsonrpcs datagram
// socket), and against peers that stay silent, talk garbage or are gone.
#include "providers/sip/sip_pbx_control.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "linebridge/deadline.h"
#include "providers/sip/sip_loop.h"
#include "providers/sip/testing/sip_peers.h"
#include "providers/sip/testing/sip_presence_peer.h"
#include "test_server.h"

namespace linebridge::sip {
namespace {

using ::testing::HasSubstr;
using testing::ChildProcess;
using testing::FreePort;

// The control on its own loop; outcomes collected as they come.
class Control {
 public:
  Control(const std::string& server, absl::Duration timeout) {
    status_ = loop_.Start(
        [this, server, timeout](su_root_t* root) {
          auto opened = KamailioDialogControl::Open(root, "127.0.0.1", server, timeout);
          if (!opened.ok()) return opened.status();
          control_ = *std::move(opened);
          return absl::OkStatus();
        },
        [this] { control_.reset(); });
  }
  ~Control() {
    loop_.Stop();
    loop_.Join();
  }
  absl::Status started() const { return status_; }

  void Terminate(const std::string& call_id) {
    loop_.Post([this, call_id] {
      control_->TerminateDialog(call_id, "ftag", "ttag", [this](absl::Status s) {
        absl::MutexLock lock(&mu_);
        outcomes_.push_back(std::move(s));
      });
    });
  }
  void End(const std::string& call_id) {
    loop_.Post([this, call_id] {
      control_->EndDialog(call_id, "ftag", [this](absl::Status s) {
        absl::MutexLock lock(&mu_);
        outcomes_.push_back(std::move(s));
      });
    });
  }
  // The outcomes once there are `n` (or what came within 10 s).
  std::vector<absl::Status> Await(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return outcomes_.size() >= n; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
    return outcomes_;
  }
  void StopLoop() {
    loop_.Stop();
    loop_.Join();
  }

 private:
  SipLoop loop_;
  std::unique_ptr<KamailioDialogControl> control_;  // loop thread
  absl::Status status_;
  absl::Mutex mu_;
  std::vector<absl::Status> outcomes_ ABSL_GUARDED_BY(mu_);
};

// A UDP socket on 127.0.0.1 that the test answers from by hand (or not).
struct Peer {
  Peer() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    socklen_t len = sizeof(sa);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    address = absl::StrCat("127.0.0.1:", ntohs(sa.sin_port));
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~Peer() { ::close(fd); }
  // The next request, and where it came from.
  std::string Receive(sockaddr_in* from) {
    char buf[4096];
    socklen_t len = sizeof(*from);
    const ssize_t n = ::recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(from), &len);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }
  void Send(const sockaddr_in& to, const std::string& data) {
    ::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
  }
  int fd = -1;
  std::string address;
};

TEST(KamailioDialogControlTest, KamailioRefusesADialogItDoesNotHave) {
  const std::string dir = itest::NewTempDir("sippbx");
  const int sip_port = FreePort();
  const int rpc_port = FreePort();
  ChildProcess kamailio;
  std::string error;
  ASSERT_TRUE(testing::StartPresenceKamailio(kamailio, sip_port, 0, FreePort(), dir, &error, "",
                                             rpc_port))
      << error;
  Control control(absl::StrCat("127.0.0.1:", rpc_port), absl::Seconds(2));
  ASSERT_TRUE(control.started().ok()) << control.started();
  control.Terminate("no-such-call@127.0.0.1");
  control.End("no-such-call@127.0.0.1");
  const std::vector<absl::Status> outcomes = control.Await(2);
  ASSERT_EQ(outcomes.size(), 2u);
  for (const absl::Status& o : outcomes) {
    EXPECT_EQ(o.code(), absl::StatusCode::kFailedPrecondition) << o;
    EXPECT_THAT(o.message(), HasSubstr("kamailio: "));
  }
}

TEST(KamailioDialogControlTest, ASilentPeerTimesOutAndGarbageIsIgnored) {
  Peer peer;
  Control control(peer.address, absl::Milliseconds(300));
  ASSERT_TRUE(control.started().ok()) << control.started();
  control.Terminate("call-1");
  sockaddr_in from{};
  const std::string request = peer.Receive(&from);
  EXPECT_THAT(request, HasSubstr("\"method\":\"dlg.terminate_dlg\""));
  EXPECT_THAT(request, HasSubstr("\"params\":[\"call-1\",\"ftag\",\"ttag\"]"));
  // Not JSON, JSON without an id, an answer to another request, a huge id:
  // none of them answers this one.
  for (const std::string& junk :
       {std::string("\x01\x02garbage"), std::string("{\"jsonrpc\":\"2.0\",\"result\":\"ok\"}"),
        std::string("{\"jsonrpc\":\"2.0\",\"result\":\"ok\",\"id\":77}"),
        std::string("{\"id\":1e300}"), std::string(60000, '{')}) {
    peer.Send(from, junk);
  }
  const std::vector<absl::Status> outcomes = control.Await(1);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].code(), absl::StatusCode::kUnavailable) << outcomes[0];
  EXPECT_THAT(outcomes[0].message(), HasSubstr("did not answer"));
}

TEST(KamailioDialogControlTest, AnswersGoToTheirRequests) {
  Peer peer;
  Control control(peer.address, absl::Seconds(5));
  ASSERT_TRUE(control.started().ok()) << control.started();
  control.Terminate("a");
  control.Terminate("b");
  sockaddr_in from{};
  ASSERT_THAT(peer.Receive(&from), HasSubstr("\"id\":1"));
  ASSERT_THAT(peer.Receive(&from), HasSubstr("\"id\":2"));
  // In reverse order: the second refused, the first done.
  peer.Send(from, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":500,\"message\":\"Not found\"},\"id\":2}");
  peer.Send(from, "{\"jsonrpc\":\"2.0\",\"result\":{},\"id\":1}");
  const std::vector<absl::Status> outcomes = control.Await(2);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(outcomes[0].message(), "kamailio: Not found");
  EXPECT_TRUE(outcomes[1].ok()) << outcomes[1];
}

// A scripted kamailio: answers each request it receives with `result` (a
// JSON value) or, for an empty one, kamailio's "Not found" error; returns
// the request.
std::string Serve(Peer& peer, const std::string& result) {
  sockaddr_in from{};
  const std::string request = peer.Receive(&from);
  const size_t at = request.find("\"id\":");
  const std::string id =
      at == std::string::npos ? "0" : request.substr(at + 5, request.find_first_of(",}", at) - at - 5);
  peer.Send(from, result.empty()
                      ? absl::StrCat("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":404,"
                                     "\"message\":\"Not found\"},\"id\":", id, "}")
                      : absl::StrCat("{\"jsonrpc\":\"2.0\",\"result\":", result, ",\"id\":", id, "}"));
  return request;
}

// dlg.dlg_list's answer for a dialog in `state` whose INVITE had CSeq `cseq`.
std::string Listed(int state, const std::string& cseq = "7") {
  return absl::StrCat("{\"h_entry\":1,\"call-id\":\"c\",\"state\":", state,
                      ",\"caller\":{\"tag\":\"ftag\",\"cseq\":\"", cseq,
                      "\"},\"callee\":{\"tag\":\"ttag\",\"cseq\":\"\"}}");
}

constexpr char kCancelled[] = "[0,\"branches remaining (waiting for timeout)\"]";

// A ringing call: its dialog's listing gives the INVITE's CSeq, that
// transaction is cancelled, and the dialog looked at again until it is gone.
TEST(KamailioDialogControlTest, ARingingCallIsCancelledUntilItsDialogIsGone) {
  Peer peer;
  Control control(peer.address, absl::Seconds(5));
  ASSERT_TRUE(control.started().ok()) << control.started();
  control.End("call-1");
  std::string request = Serve(peer, Listed(2));
  EXPECT_THAT(request, HasSubstr("\"method\":\"dlg.dlg_list\""));
  EXPECT_THAT(request, HasSubstr("\"params\":[\"call-1\",\"ftag\"]"));
  request = Serve(peer, kCancelled);
  EXPECT_THAT(request, HasSubstr("\"method\":\"tm.cancel\""));
  EXPECT_THAT(request, HasSubstr("\"params\":[\"call-1\",\"7\"]"));
  // Still early (the CANCEL crossing the 180): cancelled again; then ended.
  EXPECT_THAT(Serve(peer, Listed(2)), HasSubstr("dlg.dlg_list"));
  EXPECT_THAT(Serve(peer, kCancelled), HasSubstr("tm.cancel"));
  EXPECT_THAT(Serve(peer, Listed(5)), HasSubstr("dlg.dlg_list"));
  // Another, gone from kamailio's list after the CANCEL (its "Not found").
  control.End("call-2");
  Serve(peer, Listed(1));
  Serve(peer, kCancelled);
  Serve(peer, "");
  const std::vector<absl::Status> outcomes = control.Await(2);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0];
  EXPECT_TRUE(outcomes[1].ok()) << outcomes[1];
}

// Answered (acknowledged or not yet): terminated with the listed tags. A
// call answered while its INVITE is cancelled is terminated the same way.
TEST(KamailioDialogControlTest, AnAnsweredCallIsTerminated) {
  Peer peer;
  Control control(peer.address, absl::Seconds(5));
  ASSERT_TRUE(control.started().ok()) << control.started();
  control.End("call-1");
  Serve(peer, absl::StrCat("[", Listed(4), "]"));
  std::string request = Serve(peer, "{}");
  EXPECT_THAT(request, HasSubstr("\"method\":\"dlg.terminate_dlg\""));
  EXPECT_THAT(request, HasSubstr("\"params\":[\"call-1\",\"ftag\",\"ttag\"]"));
  control.End("call-2");
  Serve(peer, Listed(2));
  Serve(peer, kCancelled);
  Serve(peer, Listed(3));
  EXPECT_THAT(Serve(peer, "{}"), HasSubstr("dlg.terminate_dlg"));
  const std::vector<absl::Status> outcomes = control.Await(2);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0];
  EXPECT_TRUE(outcomes[1].ok()) << outcomes[1];
}

// Ended already, unusable listings, refusals, and a call that never ends.
TEST(KamailioDialogControlTest, DialogsThatCannotBeEndedFail) {
  Peer peer;
  Control control(peer.address, absl::Seconds(5));
  ASSERT_TRUE(control.started().ok()) << control.started();
  control.End("ended");
  Serve(peer, Listed(5));
  control.End("no-cseq");
  Serve(peer, Listed(2, "x"));
  control.End("empty");
  Serve(peer, "[]");
  control.End("unknown");
  Serve(peer, "");
  control.End("cancel-refused");
  Serve(peer, Listed(2));
  Serve(peer, "");
  std::vector<absl::Status> outcomes = control.Await(5);
  ASSERT_EQ(outcomes.size(), 5u);
  EXPECT_EQ(outcomes[0].message(), "kamailio: the call has ended");
  EXPECT_THAT(outcomes[1].message(), HasSubstr("no caller tag and CSeq"));
  EXPECT_EQ(outcomes[2].message(), "kamailio: no such dialog");
  EXPECT_EQ(outcomes[3].message(), "kamailio: Not found");
  EXPECT_EQ(outcomes[4].message(), "kamailio: Not found");
  for (const absl::Status& o : outcomes) {
    EXPECT_EQ(o.code(), absl::StatusCode::kFailedPrecondition) << o;
  }
  // A called party that never answers the CANCEL: given up after
  // kMaxListings looks.
  control.End("stuck");
  for (int i = 0; i < KamailioDialogControl::kMaxListings; ++i) {
    EXPECT_THAT(Serve(peer, Listed(2)), HasSubstr("dlg.dlg_list"));
    EXPECT_THAT(Serve(peer, kCancelled), HasSubstr("tm.cancel"));
  }
  outcomes = control.Await(6);
  ASSERT_EQ(outcomes.size(), 6u);
  EXPECT_EQ(outcomes[5].code(), absl::StatusCode::kUnavailable) << outcomes[5];
  EXPECT_THAT(outcomes[5].message(), HasSubstr("still there"));
}

TEST(KamailioDialogControlTest, NothingListeningFailsAtOnce) {
  Control control(absl::StrCat("127.0.0.1:", FreePort()), absl::Seconds(5));
  ASSERT_TRUE(control.started().ok()) << control.started();
  const absl::Time start = MonotonicNow();
  control.Terminate("a");
  const std::vector<absl::Status> outcomes = control.Await(1);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].code(), absl::StatusCode::kUnavailable) << outcomes[0];
  EXPECT_LT(MonotonicNow() - start, absl::Seconds(5));  // not the timeout
}

TEST(KamailioDialogControlTest, RequestsAreBoundedAndAnsweredAtStop) {
  Peer peer;  // never answers
  auto control = std::make_unique<Control>(peer.address, absl::Seconds(30));
  ASSERT_TRUE(control->started().ok()) << control->started();
  for (size_t i = 0; i <= KamailioDialogControl::kMaxWaiting; ++i) {
    control->Terminate(absl::StrCat("call-", i));
  }
  std::vector<absl::Status> outcomes = control->Await(1);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].code(), absl::StatusCode::kResourceExhausted) << outcomes[0];
  control->StopLoop();  // the rest are answered as the loop ends
  outcomes = control->Await(KamailioDialogControl::kMaxWaiting + 1);
  ASSERT_EQ(outcomes.size(), KamailioDialogControl::kMaxWaiting + 1);
  for (size_t i = 1; i < outcomes.size(); ++i) {
    EXPECT_EQ(outcomes[i].code(), absl::StatusCode::kUnavailable) << outcomes[i];
  }
}

TEST(KamailioDialogControlTest, ABadAddressIsRefusedAtOpen) {
  Control control("pbx.example.com:8090", absl::Seconds(1));
  EXPECT_EQ(control.started().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace linebridge::sip
