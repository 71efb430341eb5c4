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

// kamailio's dialog states (dlg.dlg_list "state").
constexpr int kDialogUnconfirmed = 1;
constexpr int kDialogEarly = 2;
constexpr int kDialogConfirmedNoAck = 3;
constexpr int kDialogConfirmed = 4;

struct ListedDialog {
  int state = 0;
  std::string caller_tag;
  std::string caller_cseq;
  std::string callee_tag;
};

std::string StringField(const google::protobuf::Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  return it != s.fields().end() && it->second.has_string_value() ? it->second.string_value()
                                                                 : std::string();
}

const google::protobuf::Struct* StructField(const google::protobuf::Struct& s,
                                            const std::string& name) {
  auto it = s.fields().find(name);
  return it != s.fields().end() && it->second.has_struct_value() ? &it->second.struct_value()
                                                                 : nullptr;
}

// dlg.dlg_list's answer: one dialog (an object), or several (an array: the
// first is taken; forks of one INVITE share its CSeq).
absl::StatusOr<ListedDialog> ReadListedDialog(const google::protobuf::Value& result) {
  const google::protobuf::Struct* d = nullptr;
  if (result.has_struct_value()) {
    d = &result.struct_value();
  } else if (result.has_list_value() && result.list_value().values_size() > 0 &&
             result.list_value().values(0).has_struct_value()) {
    d = &result.list_value().values(0).struct_value();
  }
  if (d == nullptr) return absl::FailedPreconditionError("kamailio: no such dialog");
  ListedDialog out;
  auto state = d->fields().find("state");
  if (state != d->fields().end() && state->second.has_number_value()) {
    out.state = static_cast<int>(state->second.number_value());
  }
  const google::protobuf::Struct* caller = StructField(*d, "caller");
  const google::protobuf::Struct* callee = StructField(*d, "callee");
  if (caller != nullptr) {
    out.caller_tag = StringField(*caller, "tag");
    out.caller_cseq = StringField(*caller, "cseq");
  }
  if (callee != nullptr) out.callee_tag = StringField(*callee, "tag");
  uint32_t cseq = 0;
  if (!absl::SimpleAtoi(out.caller_cseq, &cseq) || out.caller_tag.empty()) {
    return absl::FailedPreconditionError(
        "kamailio: the dialog's listing has no caller tag and CSeq");
  }
  return out;
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
  // Errors chain no further request.
  while (!waiting_.empty()) {
    Finish(waiting_.begin()->first, absl::UnavailableError("the SIP provider is stopping"));
  }
  while (!relists_.empty()) {
    std::unique_ptr<Relist> r = std::move(relists_.begin()->second);
    relists_.erase(relists_.begin());
    su_timer_destroy(r->timer);
    r->ending->done(absl::UnavailableError("the SIP provider is stopping"));
  }
  if (wait_index_ >= 0) su_root_deregister(root_, wait_index_);
  ::close(fd_);
}

void KamailioDialogControl::TerminateDialog(const std::string& call_id,
                                            const std::string& from_tag,
                                            const std::string& to_tag, Done done) {
  Call("dlg.terminate_dlg", {&call_id, &from_tag, &to_tag},
       [done = std::move(done)](absl::StatusOr<google::protobuf::Value> r) {
         done(r.status());
       });
}

void KamailioDialogControl::EndDialog(const std::string& call_id, const std::string& from_tag,
                                      Done done) {
  auto e = std::make_shared<Ending>();
  e->call_id = call_id;
  e->from_tag = from_tag;
  e->done = std::move(done);
  List(std::move(e));
}

void KamailioDialogControl::List(std::shared_ptr<Ending> e) {
  if (++e->listings > kMaxListings) {
    e->done(absl::UnavailableError(absl::StrCat(
        "kamailio: the call is still there after ", kMaxListings, " looks at its dialog")));
    return;
  }
  Call("dlg.dlg_list", {&e->call_id, &e->from_tag},
       [this, e](absl::StatusOr<google::protobuf::Value> r) {
         absl::StatusOr<ListedDialog> dialog =
             r.ok() ? ReadListedDialog(*r) : absl::StatusOr<ListedDialog>(r.status());
         if (!dialog.ok()) {
           // Gone after the CANCEL: ended.
           const bool gone = dialog.status().code() == absl::StatusCode::kFailedPrecondition;
           e->done(e->acted && gone ? absl::OkStatus() : dialog.status());
           return;
         }
         switch (dialog->state) {
           case kDialogUnconfirmed:
           case kDialogEarly:
             Call("tm.cancel", {&e->call_id, &dialog->caller_cseq},
                  [this, e](absl::StatusOr<google::protobuf::Value> c) {
                    if (!c.ok()) return e->done(c.status());
                    e->acted = true;
                    ListLater(e);  // until it ended, or was answered meanwhile
                  });
             return;
           case kDialogConfirmedNoAck:  // answered, the ACK on its way
           case kDialogConfirmed:
             TerminateDialog(e->call_id, dialog->caller_tag, dialog->callee_tag, e->done);
             return;
           default:  // deleted
             e->done(e->acted ? absl::OkStatus()
                              : absl::FailedPreconditionError("kamailio: the call has ended"));
         }
       });
}

void KamailioDialogControl::ListLater(std::shared_ptr<Ending> e) {
  if (waiting_.size() + relists_.size() >= kMaxWaiting) {
    e->done(absl::ResourceExhaustedError(
        absl::StrCat(kMaxWaiting, " requests to the PBX are already waiting")));
    return;
  }
  auto r = std::make_unique<Relist>();
  r->ending = std::move(e);
  r->self = this;
  r->id = next_id_++;
  r->timer = su_timer_create(su_root_task(root_),
                             static_cast<su_duration_t>(absl::ToInt64Milliseconds(kRelistDelay)));
  su_timer_set(r->timer, &KamailioDialogControl::OnRelist, r.get());
  relists_[r->id] = std::move(r);
}

void KamailioDialogControl::OnRelist(void*, su_timer_t*, void* arg) {
  auto* r = static_cast<Relist*>(arg);
  KamailioDialogControl* self = r->self;
  auto it = self->relists_.find(r->id);
  std::unique_ptr<Relist> relist = std::move(it->second);
  self->relists_.erase(it);
  su_timer_destroy(relist->timer);
  self->List(std::move(relist->ending));
}

void KamailioDialogControl::Call(const std::string& method,
                                 std::initializer_list<const std::string*> params,
                                 Answer answer) {
  if (waiting_.size() + relists_.size() >= kMaxWaiting) {
    answer(absl::ResourceExhaustedError(
        absl::StrCat(kMaxWaiting, " requests to the PBX are already waiting")));
    return;
  }
  const uint64_t id = next_id_++;
  const std::string json = Request(id, method, params);
  if (::send(fd_, json.data(), json.size(), 0) < 0) {
    answer(absl::UnavailableError(
        absl::StrCat("kamailio JSON-RPC at ", server_, ": ", std::strerror(errno))));
    return;
  }
  auto w = std::make_unique<Waiting>();
  w->done = std::move(answer);
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
  auto result = fields.find("result");
  Finish(request, result == fields.end() ? google::protobuf::Value() : result->second);
}

void KamailioDialogControl::Finish(uint64_t id, absl::StatusOr<google::protobuf::Value> result) {
  auto it = waiting_.find(id);
  if (it == waiting_.end()) return;  // answered already, or timed out
  std::unique_ptr<Waiting> w = std::move(it->second);
  waiting_.erase(it);
  su_timer_destroy(w->timer);
  w->done(std::move(result));  // may send the next request
}

}  // namespace linebridge::sip
