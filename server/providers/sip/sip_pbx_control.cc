#include "providers/sip/sip_pbx_control.h"

#include <arpa/inet.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/log.h"

namespace linebridge::sip {
namespace {

constexpr size_t kMaxAnswerBytes = 64 * 1024;

bool ParseServer(const std::string& server, sockaddr_in* out) {
  const size_t colon = server.rfind(':');
  if (colon == std::string::npos) return false;
  uint32_t port = 0;
  if (!absl::SimpleAtoi(server.substr(colon + 1), &port) || port == 0 || port > 65535) {
    return false;
  }
  *out = sockaddr_in{};
  out->sin_family = AF_INET;
  out->sin_port = htons(static_cast<uint16_t>(port));
  return ::inet_pton(AF_INET, server.substr(0, colon).c_str(), &out->sin_addr) == 1;
}

std::string Request(uint64_t id, const std::string& method,
                    std::initializer_list<const std::string*> params) {
  google::protobuf::Struct req;
  auto& fields = *req.mutable_fields();
  fields["jsonrpc"].set_string_value("2.0");
  fields["method"].set_string_value(method);
  for (const std::string* p : params) {
    fields["params"].mutable_list_value()->add_values()->set_string_value(*p);
  }
  fields["id"].set_number_value(static_cast<double>(id));
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(req, &json);
  return json;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KamailioDialogControl>> KamailioDialogControl::Open(
    su_root_t* root, const std::string& bind_address, const std::string& server,
    absl::Duration timeout) {
  sockaddr_in to{};
  if (!ParseServer(server, &to)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", server, "\" is not ipv4:port"));
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in local{};
  local.sin_family = AF_INET;
  if (::inet_pton(AF_INET, bind_address.c_str(), &local.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    const int err = errno;
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("kamailio JSON-RPC socket to ", server, " from ",
                                               bind_address, ": ", std::strerror(err)));
  }
  return std::unique_ptr<KamailioDialogControl>(
      new KamailioDialogControl(root, fd, server, timeout));
}

KamailioDialogControl::KamailioDialogControl(su_root_t* root, int fd, std::string server,
                                             absl::Duration timeout)
    : root_(root), fd_(fd), server_(std::move(server)), timeout_(timeout) {
  su_wait_create(wait_, fd_, SU_WAIT_IN);
  wait_index_ = su_root_register(root_, wait_, &KamailioDialogControl::OnReadable, this,
                                 su_pri_normal);
}

KamailioDialogControl::~KamailioDialogControl() {
  while (!waiting_.empty()) {
    Finish(waiting_.begin()->first, absl::UnavailableError("the SIP provider is stopping"));
  }
  if (wait_index_ >= 0) su_root_deregister(root_, wait_index_);
  ::close(fd_);
}

void KamailioDialogControl::TerminateDialog(const std::string& call_id,
                                            const std::string& from_tag,
                                            const std::string& to_tag, Done done) {
  if (waiting_.size() >= kMaxWaiting) {
    done(absl::ResourceExhaustedError(
        absl::StrCat(kMaxWaiting, " requests to the PBX are already waiting")));
    return;
  }
  const uint64_t id = next_id_++;
  const std::string json = Request(id, "dlg.terminate_dlg", {&call_id, &from_tag, &to_tag});
  if (::send(fd_, json.data(), json.size(), 0) < 0) {
    done(absl::UnavailableError(
        absl::StrCat("kamailio JSON-RPC at ", server_, ": ", std::strerror(errno))));
    return;
  }
  auto w = std::make_unique<Waiting>();
  w->done = std::move(done);
  w->self = this;
  w->id = id;
  w->timer = su_timer_create(su_root_task(root_),
                             static_cast<su_duration_t>(absl::ToInt64Milliseconds(timeout_)));
  su_timer_set(w->timer, &KamailioDialogControl::OnTimeout, w.get());
  waiting_[id] = std::move(w);
}

int KamailioDialogControl::OnReadable(void*, su_wait_t*, void* arg) {
  auto* self = static_cast<KamailioDialogControl*>(arg);
  std::string buf(kMaxAnswerBytes, '\0');
  for (;;) {
    const ssize_t n = ::recv(self->fd_, buf.data(), buf.size(), 0);
    if (n >= 0) {
      self->OnAnswer(absl::string_view(buf.data(), static_cast<size_t>(n)));
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    if (errno == EINTR) continue;
    // ECONNREFUSED: an earlier datagram met a closed port (ICMP). Which
    // request it was is unknown: all those waiting fail now.
    const int err = errno;
    while (!self->waiting_.empty()) {
      self->Finish(self->waiting_.begin()->first,
                   absl::UnavailableError(absl::StrCat("kamailio JSON-RPC at ", self->server_,
                                                       ": ", std::strerror(err))));
    }
    break;
  }
  return 0;
}

void KamailioDialogControl::OnTimeout(void*, su_timer_t*, void* arg) {
  auto* w = static_cast<Waiting*>(arg);
  w->self->Finish(w->id, absl::UnavailableError(absl::StrCat(
                             "kamailio JSON-RPC at ", w->self->server_, " did not answer in ",
                             absl::FormatDuration(w->self->timeout_))));
}

void KamailioDialogControl::OnAnswer(absl::string_view json) {
  google::protobuf::Struct answer;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &answer, options).ok()) {
    LB_WARN("sip: kamailio JSON-RPC at %s: an unreadable answer (%d bytes) ignored", server_,
            json.size());
    return;
  }
  const auto& fields = answer.fields();
  auto id = fields.find("id");
  if (id == fields.end() || id->second.kind_case() != google::protobuf::Value::kNumberValue) {
    LB_WARN("sip: kamailio JSON-RPC at %s: an answer without a numeric id ignored", server_);
    return;
  }
  const double n = id->second.number_value();
  if (n < 1 || n >= 9007199254740992.0) return;
  const uint64_t request = static_cast<uint64_t>(n);
  if (auto error = fields.find("error"); error != fields.end()) {
    std::string message = "refused";
    if (error->second.has_struct_value()) {
      const auto& e = error->second.struct_value().fields();
      if (auto m = e.find("message"); m != e.end() && m->second.has_string_value()) {
        message = m->second.string_value();
      }
    }
    Finish(request, absl::FailedPreconditionError(
                        absl::StrCat("kamailio: ", message.substr(0, 200))));
    return;
  }
  Finish(request, absl::OkStatus());
}

void KamailioDialogControl::Finish(uint64_t id, absl::Status status) {
  auto it = waiting_.find(id);
  if (it == waiting_.end()) return;  // answered already, or timed out
  std::unique_ptr<Waiting> w = std::move(it->second);
  waiting_.erase(it);
  su_timer_destroy(w->timer);
  w->done(std::move(status));
}

}  // namespace linebridge::sip
