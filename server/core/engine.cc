#include "core/engine.h"

#include <sys/random.h>

#include <algorithm>
#include <limits>
#include <cerrno>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/authority.h"
#include "core/log.h"
#include "core/ownership.h"
#include "core/time_util.h"
#include "linebridge/status_macros.h"

namespace linebridge {
namespace {

using v1::CallFeature;
using v1::CallState;

constexpr char kVersion[] = "0.1.0";

// Entries per ListLines/ListCalls reply: 0 (no paging) is everything.
size_t PageSize(uint32_t requested) {
  if (requested == 0) return std::numeric_limits<size_t>::max();
  return std::min<size_t>(requested, kMaxPageSize);
}

bool Has(const google::protobuf::RepeatedField<int>& list, int value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// The call features a state allows (LINECALLFEATURE_* by LINECALLSTATE_*),
// besides the user-user ones (FeaturesForState).
std::vector<CallFeature> FeaturesOfState(const v1::Call& call) {
  const bool conference_hub = call.info().origin() == v1::CALL_ORIGIN_CONFERENCE;
  switch (call.status().state()) {
    case v1::CALL_STATE_OFFERING:
      return {v1::CALL_FEATURE_ACCEPT, v1::CALL_FEATURE_ANSWER, v1::CALL_FEATURE_DROP,
              v1::CALL_FEATURE_REDIRECT, v1::CALL_FEATURE_SETCALLDATA};
    case v1::CALL_STATE_ACCEPTED:
      return {v1::CALL_FEATURE_ANSWER, v1::CALL_FEATURE_DROP, v1::CALL_FEATURE_REDIRECT,
              v1::CALL_FEATURE_SETCALLDATA};
    case v1::CALL_STATE_DIALTONE:
    case v1::CALL_STATE_DIALING:
      return {v1::CALL_FEATURE_DIAL, v1::CALL_FEATURE_DROP, v1::CALL_FEATURE_SETCALLDATA};
    case v1::CALL_STATE_PROCEEDING:
      return {v1::CALL_FEATURE_DROP, v1::CALL_FEATURE_ADDTOCONF,
              v1::CALL_FEATURE_COMPLETETRANSF, v1::CALL_FEATURE_SETCALLDATA};
    case v1::CALL_STATE_RINGBACK:
      return {v1::CALL_FEATURE_DROP, v1::CALL_FEATURE_ADDTOCONF,
              v1::CALL_FEATURE_COMPLETETRANSF, v1::CALL_FEATURE_SETCALLDATA,
              v1::CALL_FEATURE_COMPLETECALL};
    case v1::CALL_STATE_CONNECTED:
      if (conference_hub) {
        return {v1::CALL_FEATURE_DROP,           v1::CALL_FEATURE_PREPAREADDCONF,
                v1::CALL_FEATURE_GENERATEDIGITS, v1::CALL_FEATURE_SETCALLDATA,
                v1::CALL_FEATURE_GENERATETONE,   v1::CALL_FEATURE_GATHERDIGITS,
                v1::CALL_FEATURE_MONITORTONES,   v1::CALL_FEATURE_MONITORMEDIA};
      }
      return {v1::CALL_FEATURE_DROP,           v1::CALL_FEATURE_HOLD,
              v1::CALL_FEATURE_BLINDTRANSFER,  v1::CALL_FEATURE_SETUPTRANSFER,
              v1::CALL_FEATURE_SETUPCONF,      v1::CALL_FEATURE_PARK,
              v1::CALL_FEATURE_GENERATEDIGITS, v1::CALL_FEATURE_MONITORDIGITS,
              v1::CALL_FEATURE_ADDTOCONF,      v1::CALL_FEATURE_COMPLETETRANSF,
              v1::CALL_FEATURE_SETCALLDATA,    v1::CALL_FEATURE_SWAPHOLD,
              v1::CALL_FEATURE_GENERATETONE,   v1::CALL_FEATURE_GATHERDIGITS,
              v1::CALL_FEATURE_MONITORTONES,   v1::CALL_FEATURE_MONITORMEDIA};
    case v1::CALL_STATE_ONHOLD:
      return {v1::CALL_FEATURE_UNHOLD,         v1::CALL_FEATURE_DROP,
              v1::CALL_FEATURE_ADDTOCONF,      v1::CALL_FEATURE_COMPLETETRANSF,
              v1::CALL_FEATURE_SETCALLDATA,    v1::CALL_FEATURE_SWAPHOLD};
    case v1::CALL_STATE_ONHOLDPENDTRANSFER:
      return {v1::CALL_FEATURE_COMPLETETRANSF, v1::CALL_FEATURE_DROP,
              v1::CALL_FEATURE_SETCALLDATA};
    case v1::CALL_STATE_ONHOLDPENDCONF:
      return {v1::CALL_FEATURE_ADDTOCONF, v1::CALL_FEATURE_DROP, v1::CALL_FEATURE_SETCALLDATA};
    case v1::CALL_STATE_CONFERENCED:
      return {v1::CALL_FEATURE_REMOVEFROMCONF, v1::CALL_FEATURE_DROP,
              v1::CALL_FEATURE_GENERATEDIGITS, v1::CALL_FEATURE_MONITORDIGITS,
              v1::CALL_FEATURE_GENERATETONE,   v1::CALL_FEATURE_GATHERDIGITS,
              v1::CALL_FEATURE_MONITORTONES,   v1::CALL_FEATURE_MONITORMEDIA};
    case v1::CALL_STATE_BUSY:
      return {v1::CALL_FEATURE_DROP, v1::CALL_FEATURE_COMPLETECALL};
    case v1::CALL_STATE_DISCONNECTED:
      // The switch can still complete a call its party was busy for or did
      // not answer.
      if (call.status().disconnect_mode() == v1::DISCONNECT_MODE_BUSY ||
          call.status().disconnect_mode() == v1::DISCONNECT_MODE_NOANSWER) {
        return {v1::CALL_FEATURE_DROP, v1::CALL_FEATURE_COMPLETECALL};
      }
      return {v1::CALL_FEATURE_DROP};
    case v1::CALL_STATE_SPECIALINFO:
    case v1::CALL_STATE_UNKNOWN:
      return {v1::CALL_FEATURE_DROP};
    default:
      return {};
  }
}

std::vector<CallFeature> FeaturesForState(const v1::Call& call) {
  std::vector<CallFeature> features = FeaturesOfState(call);
  const CallState state = call.status().state();
  if (state == v1::CALL_STATE_IDLE || state == v1::CALL_STATE_UNSPECIFIED) return features;
  // User-user information: sent while the far end is there; what was
  // received can be released in any state. Call parameters: any state.
  if (state == v1::CALL_STATE_CONNECTED || state == v1::CALL_STATE_OFFERING ||
      state == v1::CALL_STATE_ACCEPTED || state == v1::CALL_STATE_RINGBACK) {
    features.push_back(v1::CALL_FEATURE_SENDUSERUSER);
  }
  features.push_back(v1::CALL_FEATURE_RELEASEUSERUSERINFO);
  features.push_back(v1::CALL_FEATURE_SETCALLPARAMS);
  // What an unanswered caller hears.
  if (state == v1::CALL_STATE_OFFERING || state == v1::CALL_STATE_ACCEPTED) {
    features.push_back(v1::CALL_FEATURE_SETTREATMENT);
  }
  return features;
}

bool IsActive(CallState s) {
  return s != v1::CALL_STATE_IDLE && s != v1::CALL_STATE_ONHOLD &&
         s != v1::CALL_STATE_ONHOLDPENDTRANSFER && s != v1::CALL_STATE_ONHOLDPENDCONF &&
         s != v1::CALL_STATE_DISCONNECTED && s != v1::CALL_STATE_UNSPECIFIED;
}

std::string StateName(CallState s) {
  return absl::AsciiStrToLower(v1::CallState_Name(s).substr(sizeof("CALL_STATE_") - 1));
}

absl::Status CheckSize(absl::string_view what, size_t size, size_t max, uint32_t lineerr) {
  if (size <= max) return absl::OkStatus();
  return InvalidArgument(lineerr, absl::StrFormat("%s is %d bytes; at most %d allowed", what,
                                                  size, max));
}

absl::Status CheckId(absl::string_view what, const std::string& id, uint32_t lineerr) {
  if (id.empty()) return InvalidArgument(lineerr, absl::StrCat(what, " is required"));
  return CheckSize(what, id.size(), kMaxIdLength, lineerr);
}

}  // namespace

absl::StatusOr<std::string> NewSessionId() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof(bytes)) {
    const ssize_t n = ::getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, "getrandom");
    }
    got += static_cast<size_t>(n);
  }
  std::string id = "s-";
  for (unsigned char b : bytes) absl::StrAppendFormat(&id, "%02x", b);
  return id;
}

// ---------------------------------------------------------------------------

absl::StatusOr<std::string> NormalizeDialString(absl::string_view dial) {
  if (dial.size() > kMaxDestinationLength) {
    return InvalidArgument(LINEERR_INVALADDRESS,
                           absl::StrFormat("destination is %d characters; at most %d allowed",
                                           dial.size(), kMaxDestinationLength));
  }
  std::string digits;
  for (size_t i = 0; i < dial.size(); ++i) {
    const char c = dial[i];
    if ((c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D')) {
      digits.push_back(c);
    } else if (c >= 'a' && c <= 'd') {
      digits.push_back(static_cast<char>(c - 'a' + 'A'));
    } else if (c == '+' && digits.empty()) {
      // canonical prefix: "+1 (425) 555-0100"
    } else if (c == ' ' || c == '-' || c == '(' || c == ')' || c == '.' || c == '/' ||
               c == '!' || c == 'P' || c == 'p' || c == 'T' || c == 't' || c == ',' ||
               c == 'W' || c == 'w' || c == '@' || c == '$' || c == '?') {
      // separators and dial modifiers
    } else {
      const bool printable = c >= 0x20 && c < 0x7f;
      return InvalidArgument(
          LINEERR_INVALADDRESS,
          printable ? absl::StrFormat("destination \"%s\": '%c' at position %d is not dialable",
                                      dial, c, i + 1)
                    : absl::StrFormat("destination has a control or non-ASCII byte 0x%02x at "
                                      "position %d",
                                      static_cast<unsigned char>(c), i + 1));
    }
  }
  if (digits.empty()) {
    return InvalidArgument(LINEERR_INVALADDRESS,
                           absl::StrCat("destination \"", dial, "\" has no digits"));
  }
  return digits;
}

bool IsUriDestination(absl::string_view dest) {
  return absl::StartsWithIgnoreCase(dest, "sip:") || absl::StartsWithIgnoreCase(dest, "sips:") ||
         absl::StartsWithIgnoreCase(dest, "tel:");
}

absl::Status CheckUriDestination(absl::string_view dest) {
  if (dest.size() > kMaxDestinationLength) {
    return InvalidArgument(LINEERR_INVALADDRESS,
                           absl::StrFormat("destination is %d characters; at most %d allowed",
                                           dest.size(), kMaxDestinationLength));
  }
  for (size_t i = 0; i < dest.size(); ++i) {
    const char c = dest[i];
    if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"') {
      return InvalidArgument(LINEERR_INVALADDRESS,
                             absl::StrFormat("destination has byte 0x%02x at position %d, which "
                                             "a SIP URI cannot hold",
                                             static_cast<unsigned char>(c), i + 1));
    }
  }
  if (dest.size() == dest.find(':') + 1) {
    return InvalidArgument(LINEERR_INVALADDRESS, "the URI names nobody");
  }
  return absl::OkStatus();
}

namespace {

// A destination is a dial string, or a SIP URI for a line that dials them
// (the second half is checked once the line is known: DestinationForLine).
absl::Status CheckDestination(absl::string_view dest) {
  if (IsUriDestination(dest)) return CheckUriDestination(dest);
  return NormalizeDialString(dest).status();
}

absl::Status DestinationForLine(const Provider* provider, absl::string_view dest) {
  if (IsUriDestination(dest) && !provider->DialsUris()) {
    return InvalidArgument(LINEERR_INVALADDRESS,
                           "this line dials numbers; a sip:, sips: or tel: URI needs a SIP line");
  }
  return absl::OkStatus();
}

}  // namespace

uint32_t PermanentLineId(absl::string_view line_id) {
  uint32_t h = 2166136261u;
  for (unsigned char c : line_id) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

EngineOptions EngineOptions::FromConfig(const v1::config::ServerConfig& config) {
  EngineOptions o;
  if (config.journal_capacity() > 0) o.journal_capacity = config.journal_capacity();
  o.session_grace_period = absl::Milliseconds(config.session_grace_period_ms());
  o.disconnected_linger = absl::Milliseconds(config.disconnected_linger_ms());
  if (!config.data_dir().empty()) {
    o.device_config_file = absl::StrCat(config.data_dir(), "/device-config.textproto");
  }
  return o;
}

namespace {
uint64_t PickEpoch(uint64_t requested) {
  if (requested != 0) return requested;
  absl::BitGen gen;
  // Positive in a signed 64-bit too (friendlier to JSON clients), never 0.
  return absl::Uniform<uint64_t>(gen, 1, uint64_t{1} << 62);
}
}  // namespace

thread_local int Engine::locks_held_ = 0;

class Engine::FenceGate {
 public:
  explicit FenceGate(EventJournal* journal) : journal_(journal) {}
  // A reader lock: releases never wait for each other, only Detach waits
  // for them.
  void Release(uint64_t fence) {
    absl::ReaderMutexLock lock(&mu_);
    if (journal_ == nullptr) return;
    journal_->Release(fence);
    if (locks_held_ == 0) journal_->DeliverWakes();
  }
  void Detach() {
    absl::MutexLock lock(&mu_);
    journal_ = nullptr;
  }

 private:
  absl::Mutex mu_;
  EventJournal* journal_ ABSL_GUARDED_BY(mu_);
};

Engine::Engine(EngineOptions options, CallRecordSink* cdr_sink)
    : options_(options),
      cdr_sink_(cdr_sink),
      journal_(PickEpoch(options.epoch), options.journal_capacity),
      fence_gate_(std::make_shared<FenceGate>(&journal_)),
      started_(Now()),
      device_configs_(options.device_config_file) {}

Engine::~Engine() {
  fence_gate_->Detach();
  scheduler_.Stop();
  {
    EngineLock lock(this);
    for (auto& p : providers_) p->Stop();
  }
  replies_.CompleteAll(TapiStatus(absl::StatusCode::kUnavailable, LINEERR_OPERATIONFAILED,
                                  "the server is shutting down"));
}

absl::Status Engine::AddProvider(std::unique_ptr<Provider> provider) {
  EngineLock lock(this);
  if (!device_configs_loaded_) {
    // Before any provider asks for its lines' stored configurations.
    LB_RETURN_IF_ERROR(device_configs_.Load());
    device_configs_loaded_ = true;
  }
  for (const auto& p : providers_) {
    if (p->name() == provider->name()) {
      return absl::AlreadyExistsError(
          absl::StrCat("a provider named \"", provider->name(), "\" already exists"));
    }
  }
  Provider* raw = provider.get();
  providers_.push_back(std::move(provider));
  absl::Status status = raw->Start(*this);
  if (!status.ok()) {
    providers_.pop_back();
    return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ReloadConfigResponse> Engine::Reconfigure(
    const v1::config::ServerConfig& config) {
  EngineLock lock(this);
  std::set<std::string> before;
  for (const auto& [id, line] : lines_) before.insert(id);
  // Every provider of the new configuration is made first: one that cannot
  // be made fails the reload before anything changes.
  std::vector<std::unique_ptr<Provider>> wanted;
  for (const auto& pc : config.providers()) {
    auto created = ProviderRegistry::Get().Create(pc);
    if (!created.ok()) return created.status();
    wanted.push_back(*std::move(created));
  }
  auto same = [](const Provider& a, const Provider& b) {
    return a.name() == b.name() && a.type() == b.type();
  };
  // Running providers the configuration no longer has (or has under the
  // same name with another kind) go first: their lines are removed (calls
  // end out of order), then they stop. They stay allocated: timers and I/O
  // callbacks of theirs may still be queued.
  for (auto it = providers_.begin(); it != providers_.end();) {
    const bool kept = std::any_of(wanted.begin(), wanted.end(),
                                  [&](const auto& w) { return same(**it, *w); });
    if (kept) {
      ++it;
      continue;
    }
    std::vector<std::string> ids;
    for (const auto& [id, line] : lines_) {
      if (line.provider == it->get()) ids.push_back(id);
    }
    for (const auto& id : ids) RemoveLine(id);
    std::vector<std::string> phone_ids;
    for (const auto& [id, phone] : phones_) {
      if (phone.provider == it->get()) phone_ids.push_back(id);
    }
    for (const auto& id : phone_ids) RemovePhone(id);
    (*it)->Stop();
    LB_LOG("config reload: provider %s:%s removed", (*it)->type(), (*it)->name());
    retired_providers_.push_back(std::move(*it));
    it = providers_.erase(it);
  }
  for (size_t i = 0; i < wanted.size(); ++i) {
    Provider* existing = nullptr;
    for (auto& p : providers_) {
      if (same(*p, *wanted[i])) existing = p.get();
    }
    if (existing != nullptr) {
      LB_RETURN_IF_ERROR(existing->Reconfigure(config.providers(static_cast<int>(i))));
    } else {
      Provider* raw = wanted[i].get();
      providers_.push_back(std::move(wanted[i]));
      LB_RETURN_IF_ERROR(raw->Start(*this));
    }
  }
  v1::ReloadConfigResponse resp;
  for (const auto& [id, line] : lines_) {
    if (!before.count(id)) resp.add_lines_added(id);
  }
  for (const auto& id : before) {
    if (!lines_.count(id)) resp.add_lines_removed(id);
  }
  return resp;
}

void Engine::Shutdown(absl::string_view reason) {
  {
    EngineLock lock(this);
    if (shut_down_) return;
    v1::Event ev;
    ev.mutable_server_shutdown()->set_reason(std::string(reason));
    Emit(std::move(ev));
    shut_down_ = true;
    for (auto& p : providers_) p->Stop();
  }
  scheduler_.Stop();
  replies_.CompleteAll(TapiStatus(absl::StatusCode::kUnavailable, LINEERR_OPERATIONFAILED,
                                  "the server is shutting down"));
}

void Engine::RunLocked(const std::function<void()>& fn) {
  EngineLock lock(this);
  if (!shut_down_) fn();
}

uint64_t Engine::DeferReply(absl::Status if_late) {
  mu_.AssertHeld();
  const uint64_t token = replies_.Defer(std::move(if_late));
  // The provider's outcome ends it sooner; this timer then finds nothing.
  scheduler_.Schedule(kMaxDeferredReply, [this, token] {
    replies_.Complete(token, TapiStatus(absl::StatusCode::kDeadlineExceeded,
                                        LINEERR_OPERATIONFAILED,
                                        "the device did not report the request's outcome"));
  });
  return token;
}

void Engine::AnswerBefore(uint64_t token, absl::Duration remaining) {
  if (remaining >= kMaxDeferredReply) return;
  const absl::Duration margin =
      std::clamp(remaining / 5, absl::Milliseconds(100), absl::Seconds(1));
  scheduler_.Schedule(std::max(remaining - margin, absl::ZeroDuration()),
                      [this, token] { replies_.AnswerLate(token); });
}

void Engine::CompleteReply(uint64_t token, absl::Status outcome) {
  replies_.Complete(token, std::move(outcome));
}

// ---------------------------------------------------------------------------
// ProviderHost

void Engine::AddLine(v1::Line line) {
  mu_.AssertHeld();
  const std::string id = line.id();
  if (line.caps().permanent_line_id() == 0) {
    line.mutable_caps()->set_permanent_line_id(PermanentLineId(id));
  }
  line.mutable_caps()->set_num_addresses(line.addresses_size());
  if (line.status().state() == v1::LINE_STATE_UNSPECIFIED) {
    line.mutable_status()->set_state(v1::LINE_STATE_IN_SERVICE);
  }
  line.set_server_id(options_.server_id);
  Provider* provider = nullptr;
  for (auto& p : providers_) {
    if (absl::StartsWith(id, absl::StrCat(p->name(), "/"))) provider = p.get();
  }
  if (provider != nullptr && provider->LineCarriesMedia(id)) AddCallMediaCaps(&line);
  // Told to clients (the remote TSP checks a destination's form by it).
  line.mutable_caps()->set_dials_uris(provider != nullptr && provider->DialsUris());
  auto& entry = lines_[id];
  entry.line = std::move(line);
  entry.provider = provider;
  v1::Event ev;
  ev.set_line_id(id);
  *ev.mutable_line_created()->mutable_line() = entry.line;
  Emit(std::move(ev));
}

void Engine::RemoveLine(const std::string& line_id) {
  mu_.AssertHeld();
  auto it = lines_.find(line_id);
  if (it == lines_.end()) return;
  // Calls on a vanishing line end: they are disconnected (out of order) and idle.
  std::vector<std::string> calls;
  for (const auto& [id, c] : calls_) {
    if (c.call.info().line_id() == line_id) calls.push_back(id);
  }
  for (const auto& id : calls) {
    SetCallState(id, Disconnected(v1::DISCONNECT_MODE_OUTOFORDER));
    SetCallState(id, MakeStatus(v1::CALL_STATE_IDLE));
  }
  for (auto& [sid, s] : sessions_) {
    auto* open = s.session.mutable_open_lines();
    open->erase(std::remove(open->begin(), open->end(), line_id), open->end());
  }
  lines_.erase(it);
  v1::Event ev;
  ev.set_line_id(line_id);
  ev.mutable_line_removed()->set_line_id(line_id);
  Emit(std::move(ev));
}

void Engine::SetLineState(const std::string& line_id, v1::LineState state) {
  mu_.AssertHeld();
  auto it = lines_.find(line_id);
  if (it == lines_.end() || it->second.line.status().state() == state) return;
  it->second.line.mutable_status()->set_state(state);
  it->second.line.mutable_status()->set_connected(state == v1::LINE_STATE_IN_SERVICE);
  EmitLineStatus(it->second);
}

void Engine::SetLineForwarding(const std::string& line_id,
                               const std::vector<v1::ForwardRule>& rules) {
  mu_.AssertHeld();
  auto it = lines_.find(line_id);
  if (it == lines_.end()) return;
  auto* fwd = it->second.line.mutable_status()->mutable_forwarding();
  fwd->Clear();
  for (const auto& r : rules) *fwd->Add() = r;
  v1::Event ev;
  ev.set_line_id(line_id);
  auto* as = ev.mutable_address_state();
  as->set_address_index(0);
  as->set_num_active_calls(it->second.line.status().num_active_calls());
  *as->mutable_forwarding() = *fwd;
  Emit(std::move(ev));
}

std::string Engine::CreateCall(v1::CallInfo info, v1::CallStatus status) {
  mu_.AssertHeld();
  const uint64_t number = next_call_number_++;
  const std::string id = absl::StrFormat("%x-%d", journal_.epoch() & 0xffffff, number);
  CallEntry& entry = calls_[id];
  entry.started = Now();
  info.set_call_id(number);
  *info.mutable_created() = ToProto(entry.started);
  *entry.call.mutable_info() = std::move(info);
  entry.call.set_id(id);
  ++setup_counts_[entry.call.info().origin()];
  const std::string& line_id = entry.call.info().line_id();
  auto line_it = lines_.find(line_id);
  // Ownership: calls a session creates on its line belong to it; other calls
  // go to the sessions that opened the line as owner for this media mode.
  if (op_active_ && line_id == op_line_) {
    entry.call.set_tag(op_tag_);  // the creating request's tag (DESIGN.md 11)
    if (op_session_ != nullptr) {
      entry.call.add_owner_sessions(op_session_->session.id());
    } else {
      entry.server_owned = true;
    }
  }
  if (line_it != lines_.end()) {
    for (const auto& [sid, open] : line_it->second.opens) {
      const bool is_owner = std::find(entry.call.owner_sessions().begin(),
                                      entry.call.owner_sessions().end(),
                                      sid) != entry.call.owner_sessions().end();
      if (is_owner || open.privilege == v1::PRIVILEGE_NONE) continue;
      const bool inbound = !(op_active_ && line_id == op_line_);
      const bool wants_media =
          open.media_modes.empty() ||
          std::find(open.media_modes.begin(), open.media_modes.end(),
                    entry.call.info().media_mode()) != open.media_modes.end();
      if (inbound && open.privilege == v1::PRIVILEGE_OWNER && wants_media) {
        entry.call.add_owner_sessions(sid);
      } else {
        entry.call.add_monitor_sessions(sid);
      }
    }
  }
  *entry.call.mutable_status() = std::move(status);
  *entry.call.mutable_status()->mutable_state_entered() = ToProto(entry.started);
  RefreshFeatures(entry);
  v1::Event ev;
  ev.set_line_id(line_id);
  *ev.mutable_call_created()->mutable_call() = entry.call;
  Emit(std::move(ev));
  if (line_it != lines_.end()) {
    line_it->second.calls.insert(id);
    RecountLine(line_it->second);
    if (line_it->second.provider != nullptr) line_it->second.provider->OnLineCallsChanged(line_id);
  }
  return id;
}

void Engine::SetCallState(const std::string& call_id_ref, v1::CallStatus status) {
  mu_.AssertHeld();
  const std::string call_id = call_id_ref;  // the reference may die with the call
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  CallEntry& entry = it->second;
  const absl::Time now = Now();
  const CallState state = status.state();
  *status.mutable_state_entered() = ToProto(now);
  *entry.call.mutable_status() = std::move(status);
  if (state == v1::CALL_STATE_CONNECTED && entry.answered == absl::InfinitePast()) {
    entry.answered = now;
    *entry.call.mutable_info()->mutable_connected_at() = ToProto(now);
  }
  if ((state == v1::CALL_STATE_DISCONNECTED || state == v1::CALL_STATE_IDLE) &&
      entry.ended == absl::InfinitePast()) {
    entry.ended = now;
  }
  if (state == v1::CALL_STATE_DISCONNECTED) {
    entry.disconnect_mode = entry.call.status().disconnect_mode();
    if (entry.linger_timer == 0 && options_.disconnected_linger > absl::ZeroDuration()) {
      entry.linger_timer = Schedule(options_.disconnected_linger, [this, call_id] {
        mu_.AssertHeld();
        auto c = calls_.find(call_id);
        if (c == calls_.end()) return;
        c->second.linger_timer = 0;
        if (c->second.call.status().state() == v1::CALL_STATE_DISCONNECTED) {
          SetCallState(call_id, MakeStatus(v1::CALL_STATE_IDLE));
        }
      });
    }
  }
  RefreshFeatures(entry);
  // No subscriber hears of a call's end before its record is durable: the
  // IDLE event, and everything after it, waits for the record writer.
  const uint64_t fence =
      state == v1::CALL_STATE_IDLE && cdr_sink_ != nullptr ? journal_.Fence() : 0;
  v1::Event ev;
  ev.set_line_id(entry.call.info().line_id());
  auto* cs = ev.mutable_call_state();
  cs->set_call_id(call_id);
  *cs->mutable_status() = entry.call.status();
  cs->set_media_mode(entry.call.info().media_mode());
  Emit(std::move(ev));
  auto line_it = lines_.find(entry.call.info().line_id());
  if (state != v1::CALL_STATE_IDLE) {
    if (line_it != lines_.end()) {
      RecountLine(line_it->second);
      if (line_it->second.provider != nullptr) {
        line_it->second.provider->OnLineCallsChanged(line_it->first);
      }
    }
    return;
  }
  FinishCall(entry, fence);
  calls_.erase(it);
  if (line_it != lines_.end()) {
    line_it->second.calls.erase(call_id);
    RecountLine(line_it->second);
    if (line_it->second.provider != nullptr) {
      line_it->second.provider->OnCallIdle(call_id);
      line_it->second.provider->OnLineCallsChanged(line_it->first);
    }
  }
}

void Engine::UpdateCallInfo(const std::string& call_id,
                            const std::function<void(v1::CallInfo*)>& edit,
                            std::vector<std::string> changed) {
  mu_.AssertHeld();
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  edit(it->second.call.mutable_info());
  v1::Event ev;
  ev.set_line_id(it->second.call.info().line_id());
  auto* ci = ev.mutable_call_info();
  ci->set_call_id(call_id);
  *ci->mutable_info() = it->second.call.info();
  for (auto& c : changed) ci->add_changed(std::move(c));
  Emit(std::move(ev));
}

void Engine::DigitReceived(const std::string& call_id, absl::string_view digit,
                           v1::DigitMode mode) {
  mu_.AssertHeld();
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  const auto& modes = it->second.call.info().monitored_digit_modes();
  const bool monitored = Has(modes, mode) || (mode == v1::DIGIT_MODE_DTMF &&
                                              Has(modes, v1::DIGIT_MODE_DTMFEND));
  if (!monitored) return;
  v1::Event ev;
  ev.set_line_id(it->second.call.info().line_id());
  auto* d = ev.mutable_digit();
  d->set_call_id(call_id);
  d->set_digit(std::string(digit));
  d->set_mode(mode);
  Emit(std::move(ev));
}

void Engine::DigitsGenerated(const std::string& call_id, absl::string_view digits,
                             bool cancelled) {
  mu_.AssertHeld();
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  v1::Event ev;
  ev.set_line_id(it->second.call.info().line_id());
  auto* g = ev.mutable_digits_generated();
  g->set_call_id(call_id);
  g->set_digits(std::string(digits));
  g->set_cancelled(cancelled);
  Emit(std::move(ev));
}

const v1::Call* Engine::FindCall(const std::string& call_id) const {
  mu_.AssertHeld();
  auto it = calls_.find(call_id);
  return it == calls_.end() ? nullptr : &it->second.call;
}

absl::Status Engine::AuthorizeTake(const std::string& line_id, bool same_pickup_group) {
  Authority* authority = Authority::Current();
  return authority == nullptr ? absl::OkStatus() : authority->MayTake(line_id, same_pickup_group);
}

absl::Status Engine::AuthorizeOutside(const std::string& line_id) {
  Authority* authority = Authority::Current();
  if (authority == nullptr) return absl::OkStatus();
  mu_.AssertHeld();
  return authority->MayReachOutside(line_id, [this](const std::string& call_id) {
    mu_.AssertHeld();
    return calls_.count(call_id) > 0;
  });
}

ProviderHost::TimerId Engine::Schedule(absl::Duration delay, std::function<void()> fn) {
  return scheduler_.Schedule(delay, [this, fn = std::move(fn)] {
    EngineLock lock(this);
    if (shut_down_) return;
    op_active_ = false;
    fn();
  });
}

void Engine::CancelTimer(TimerId id) {
  if (id != 0) scheduler_.Cancel(id);
}

// ---------------------------------------------------------------------------
// Internal helpers

void Engine::Emit(v1::Event event) { journal_.Append(std::move(event)); }

void Engine::EmitLineStatus(LineEntry& line) {
  v1::Event ev;
  ev.set_line_id(line.line.id());
  *ev.mutable_line_state()->mutable_status() = line.line.status();
  Emit(std::move(ev));
}

void Engine::RecountLine(LineEntry& line) {
  uint32_t active = 0, held = 0, pending = 0;
  for (const auto& id : line.calls) {
    auto it = calls_.find(id);
    if (it == calls_.end()) continue;
    const CallState s = it->second.call.status().state();
    if (s == v1::CALL_STATE_ONHOLD) ++held;
    if (s == v1::CALL_STATE_ONHOLDPENDTRANSFER || s == v1::CALL_STATE_ONHOLDPENDCONF) ++pending;
    if (IsActive(s)) ++active;
  }
  auto* st = line.line.mutable_status();
  const bool changed = st->num_active_calls() != active || st->num_on_hold_calls() != held ||
                       st->num_on_hold_pending_calls() != pending;
  st->set_num_active_calls(active);
  st->set_num_on_hold_calls(held);
  st->set_num_on_hold_pending_calls(pending);
  st->set_num_opens(static_cast<uint32_t>(line.opens.size()));
  if (changed) {
    v1::Event ev;
    ev.set_line_id(line.line.id());
    auto* as = ev.mutable_address_state();
    as->set_address_index(0);
    as->set_num_active_calls(active);
    *as->mutable_forwarding() = st->forwarding();
    Emit(std::move(ev));
  }
}

void Engine::RefreshFeatures(CallEntry& entry) {
  auto* features = entry.call.mutable_status()->mutable_features();
  features->Clear();
  const v1::AddressCaps* caps = nullptr;
  auto line_it = lines_.find(entry.call.info().line_id());
  if (line_it != lines_.end() && line_it->second.line.addresses_size() > 0) {
    const uint32_t idx = entry.call.info().address_index();
    const auto& addrs = line_it->second.line.addresses();
    caps = &addrs[static_cast<int>(std::min<uint32_t>(idx, addrs.size() - 1))].caps();
  }
  std::vector<CallFeature> allowed;
  for (CallFeature f : FeaturesForState(entry.call)) {
    if (caps == nullptr || Has(caps->call_features(), f)) allowed.push_back(f);
  }
  if (line_it != lines_.end() && line_it->second.provider != nullptr) {
    line_it->second.provider->LimitCallFeatures(entry.call, &allowed);
  }
  for (CallFeature f : allowed) features->Add(f);
}

void Engine::FinishCall(CallEntry& entry, uint64_t fence) {
  CancelTimer(entry.linger_timer);
  entry.linger_timer = 0;
  // The call ended when it was disconnected, not when it went IDLE after
  // lingering in DISCONNECTED.
  const absl::Time ended = entry.ended != absl::InfinitePast() ? entry.ended : Now();
  if (op_active_) ended_[entry.call.id()] = entry.call;
  ++ended_counts_[{entry.call.info().origin(), entry.answered != absl::InfinitePast(),
                   entry.disconnect_mode != v1::DISCONNECT_MODE_UNSPECIFIED
                       ? entry.disconnect_mode
                       : v1::DISCONNECT_MODE_NORMAL}];
  if (cdr_sink_ == nullptr) return;
  v1::CallRecord r;
  const auto& info = entry.call.info();
  r.set_call_id(entry.call.id());
  r.set_line_id(info.line_id());
  r.set_origin(info.origin());
  r.set_reason(info.reason());
  *r.mutable_caller() = info.caller();
  *r.mutable_called() = info.called();
  *r.mutable_connected() = info.connected();
  *r.mutable_started() = ToProto(entry.started);
  if (entry.answered != absl::InfinitePast()) {
    *r.mutable_answered() = ToProto(entry.answered);
    // The wall clock may have been set back during the call (an NTP step):
    // a duration is never negative.
    r.set_duration_ms(static_cast<uint64_t>(
        absl::ToInt64Milliseconds(std::max(ended - entry.answered, absl::ZeroDuration()))));
  }
  *r.mutable_ended() = ToProto(ended);
  r.set_disposition(entry.disconnect_mode != v1::DISCONNECT_MODE_UNSPECIFIED
                        ? entry.disconnect_mode
                        : v1::DISCONNECT_MODE_NORMAL);
  r.set_media_mode(info.media_mode());
  cdr_sink_->Record(std::move(r), [gate = fence_gate_, fence] { gate->Release(fence); });
}

void Engine::DropOrphans(LineEntry& line) {
  std::vector<std::string> orphans;
  for (const auto& [id, c] : calls_) {
    // An offered call nobody decided on stays offered (a phone ringing with
    // no application): the next owner open takes it (OffersOwnership), e.g.
    // the same workstation reopening the line while its close was in flight.
    if (c.call.info().line_id() == line.line.id() && !c.server_owned &&
        c.call.owner_sessions_size() == 0 && !StaysOffered(c.call)) {
      orphans.push_back(id);
    }
  }
  for (const auto& id : orphans) {
    if (calls_.find(id) == calls_.end()) continue;  // ended by an earlier drop
    const bool was_op = op_active_;
    op_active_ = false;
    absl::Status s = line.provider != nullptr ? line.provider->Drop(id, "")
                                              : absl::UnavailableError("no provider");
    op_active_ = was_op;
    if (!s.ok()) SetCallState(id, MakeStatus(v1::CALL_STATE_IDLE));
  }
}

void Engine::CloseLineLocked(SessionEntry& session, LineEntry& line) {
  const std::string& sid = session.session.id();
  line.opens.erase(sid);
  auto* open = session.session.mutable_open_lines();
  open->erase(std::remove(open->begin(), open->end(), line.line.id()), open->end());
  bool lost_owner = false;
  for (auto& [id, c] : calls_) {
    if (c.call.info().line_id() != line.line.id()) continue;
    auto* owners = c.call.mutable_owner_sessions();
    const auto before = owners->size();
    owners->erase(std::remove(owners->begin(), owners->end(), sid), owners->end());
    if (owners->size() != before && owners->empty()) lost_owner = true;
    auto* monitors = c.call.mutable_monitor_sessions();
    monitors->erase(std::remove(monitors->begin(), monitors->end(), sid), monitors->end());
  }
  if (lost_owner) DropOrphans(line);
  RecountLine(line);
}

void Engine::EndSession(const std::string& session_id, bool expired) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  CancelTimer(it->second.expiry_timer);
  std::vector<std::string> open(it->second.session.open_lines().begin(),
                                it->second.session.open_lines().end());
  for (const auto& line_id : open) {
    auto l = lines_.find(line_id);
    if (l != lines_.end()) CloseLineLocked(it->second, l->second);
  }
  ClosePhonesOf(session_id);
  sessions_.erase(session_id);
  if (expired) {
    v1::Event ev;
    ev.mutable_session_expired()->set_session_id(session_id);
    Emit(std::move(ev));
  }
}

void Engine::ArmExpiry(SessionEntry& session) {
  CancelTimer(session.expiry_timer);
  const std::string id = session.session.id();
  session.expiry_timer = 0;
  session.expiry_timer = Schedule(options_.session_grace_period, [this, id] {
    mu_.AssertHeld();
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second.attached > 0) return;
    EndSession(id, /*expired=*/true);
  });
}

absl::StatusOr<Engine::SessionEntry*> Engine::FindSession(const std::string& session_id) {
  if (session_id.empty()) return nullptr;
  LB_RETURN_IF_ERROR(CheckSize("session_id", session_id.size(), kMaxIdLength,
                               LINEERR_INVALAPPHANDLE));
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) {
    return NotFound(LINEERR_INVALAPPHANDLE,
                    absl::StrCat("no session \"", session_id, "\" (closed or expired)"));
  }
  return &it->second;
}

absl::StatusOr<Engine::LineEntry*> Engine::FindLineForOp(const std::string& line_id) {
  LB_RETURN_IF_ERROR(CheckId("line_id", line_id, LINEERR_INVALLINEHANDLE));
  auto it = lines_.find(line_id);
  if (it == lines_.end()) {
    return NotFound(LINEERR_INVALLINEHANDLE, absl::StrCat("no line \"", line_id, "\""));
  }
  return &it->second;
}

absl::StatusOr<Engine::Op> Engine::PrepareCallOp(const std::string& session_id,
                                                 const std::string& call_id,
                                                 std::initializer_list<CallState> states,
                                                 CallFeature feature) {
  Op op;
  LB_ASSIGN_OR_RETURN(op.session, FindSession(session_id));
  LB_RETURN_IF_ERROR(CheckId("call_id", call_id, LINEERR_INVALCALLHANDLE));
  auto it = calls_.find(call_id);
  if (it == calls_.end()) {
    return NotFound(LINEERR_INVALCALLHANDLE, absl::StrCat("no call \"", call_id, "\""));
  }
  op.call = &it->second;
  auto line_it = lines_.find(op.call->call.info().line_id());
  if (line_it == lines_.end() || line_it->second.provider == nullptr) {
    return absl::InternalError("call on a line without a provider");
  }
  op.line = &line_it->second;
  op.provider = line_it->second.provider;
  if (op.session != nullptr) {
    const auto& owners = op.call->call.owner_sessions();
    if (std::find(owners.begin(), owners.end(), session_id) == owners.end()) {
      return PermissionDenied(LINEERR_NOTOWNER,
                              absl::StrCat("session does not own call ", call_id));
    }
  }
  if (feature != v1::CALL_FEATURE_UNSPECIFIED && op.line->line.addresses_size() > 0) {
    const auto& caps = op.line->line.addresses(0).caps();
    if (!Has(caps.call_features(), feature)) {
      return Unimplemented(absl::StrCat(
          "line ", op.line->line.id(), " cannot ",
          absl::AsciiStrToLower(v1::CallFeature_Name(feature).substr(sizeof("CALL_FEATURE_") - 1))));
    }
  }
  const CallState state = op.call->call.status().state();
  const bool ok = states.size() == 0
                      ? state != v1::CALL_STATE_IDLE
                      : std::find(states.begin(), states.end(), state) != states.end();
  if (!ok) {
    std::vector<std::string> names;
    for (CallState s : states) names.push_back(StateName(s));
    return FailedPrecondition(
        LINEERR_INVALCALLSTATE,
        absl::StrCat("call ", call_id, " is ", StateName(state),
                     names.empty() ? "" : absl::StrCat("; needs ", absl::StrJoin(names, " or "))));
  }
  return op;
}

absl::StatusOr<Engine::Op> Engine::PrepareLineOp(const std::string& session_id,
                                                 const std::string& line_id,
                                                 uint32_t address_index,
                                                 v1::AddressFeature feature) {
  Op op;
  LB_ASSIGN_OR_RETURN(op.session, FindSession(session_id));
  LB_ASSIGN_OR_RETURN(op.line, FindLineForOp(line_id));
  op.provider = op.line->provider;
  if (op.provider == nullptr) return absl::InternalError("line without a provider");
  if (op.session != nullptr && !op.line->opens.count(session_id)) {
    return FailedPrecondition(LINEERR_INVALLINEHANDLE,
                              absl::StrCat("line ", line_id, " is not open in this session"));
  }
  if (address_index >= static_cast<uint32_t>(op.line->line.addresses_size())) {
    return InvalidArgument(LINEERR_INVALADDRESSID,
                           absl::StrFormat("line %s has no address %d", line_id, address_index));
  }
  if (feature != v1::ADDRESS_FEATURE_UNSPECIFIED &&
      !Has(op.line->line.addresses(static_cast<int>(address_index)).caps().address_features(),
           feature)) {
    return Unimplemented(absl::StrCat(
        "line ", line_id, " cannot ",
        absl::AsciiStrToLower(
            v1::AddressFeature_Name(feature).substr(sizeof("ADDRESS_FEATURE_") - 1))));
  }
  return op;
}

v1::Call Engine::View(const std::string& call_id, const SessionEntry* session) {
  v1::Call out;
  auto it = calls_.find(call_id);
  if (it != calls_.end()) {
    out = it->second.call;
  } else if (auto e = ended_.find(call_id); e != ended_.end()) {
    out = e->second;
    out.mutable_status()->set_state(v1::CALL_STATE_IDLE);
    out.mutable_status()->clear_mode();
    out.mutable_status()->clear_features();
  } else {
    out.set_id(call_id);
    out.mutable_status()->set_state(v1::CALL_STATE_IDLE);
  }
  if (session != nullptr) {
    const std::string& sid = session->session.id();
    auto has = [&](const auto& list) {
      return std::find(list.begin(), list.end(), sid) != list.end();
    };
    out.mutable_status()->set_privilege(has(out.owner_sessions())     ? v1::PRIVILEGE_OWNER
                                        : has(out.monitor_sessions()) ? v1::PRIVILEGE_MONITOR
                                                                      : v1::PRIVILEGE_NONE);
  }
  return out;
}

Engine::OpScope::OpScope(Engine* engine, SessionEntry* session, std::string line)
    : engine_(engine) {
  engine_->mu_.AssertHeld();
  engine_->ended_.clear();
  engine_->op_active_ = true;
  engine_->op_session_ = session;
  engine_->op_line_ = std::move(line);
}

Engine::OpScope::~OpScope() {
  engine_->op_active_ = false;
  engine_->op_session_ = nullptr;
  engine_->op_line_.clear();
  engine_->op_tag_.clear();
}

#define LB_OP_SCOPE(session, line) OpScope op_scope_(this, (session), (line))

absl::StatusOr<v1::Call> Engine::CallAction(
    const std::string& session_id, const std::string& call_id,
    std::initializer_list<CallState> states, CallFeature feature,
    const std::function<absl::Status(Provider*, const std::string&)>& action) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(Op op, PrepareCallOp(session_id, call_id, states, feature));
  LB_OP_SCOPE(op.session, op.line->line.id());
  LB_RETURN_IF_ERROR(action(op.provider, call_id));
  return View(call_id, op.session);
}

// ---------------------------------------------------------------------------
// Telephony API

absl::StatusOr<v1::ListLinesResponse> Engine::ListLines(const v1::ListLinesRequest& req) {
  LB_RETURN_IF_ERROR(CheckSize("provider", req.provider().size(), kMaxIdLength, LINEERR_INVALPARAM));
  LB_RETURN_IF_ERROR(
      CheckSize("page_token", req.page_token().size(), kMaxIdLength, LINEERR_INVALPARAM));
  const size_t page = PageSize(req.page_size());
  EngineLock lock(this);
  v1::ListLinesResponse resp;
  // The token is the last line id of the previous page.
  auto it = req.page_token().empty() ? lines_.begin() : lines_.upper_bound(req.page_token());
  for (; it != lines_.end(); ++it) {
    const LineEntry& line = it->second;
    if (!req.provider().empty() && line.line.provider() != req.provider()) continue;
    if (static_cast<size_t>(resp.lines_size()) == page) {
      resp.set_next_page_token(resp.lines(resp.lines_size() - 1).id());
      break;
    }
    *resp.add_lines() = line.line;
  }
  return resp;
}

absl::StatusOr<v1::Line> Engine::GetLine(const v1::GetLineRequest& req) {
  LB_RETURN_IF_ERROR(CheckId("line_id", req.line_id(), LINEERR_BADDEVICEID));
  EngineLock lock(this);
  auto it = lines_.find(req.line_id());
  if (it == lines_.end()) {
    return NotFound(LINEERR_BADDEVICEID, absl::StrCat("no line \"", req.line_id(), "\""));
  }
  return it->second.line;
}

absl::StatusOr<v1::Session> Engine::CreateSession(const v1::CreateSessionRequest& req) {
  LB_RETURN_IF_ERROR(CheckSize("client_name", req.client_name().size(), kMaxClientNameLength,
                               LINEERR_INVALAPPNAME));
  EngineLock lock(this);
  if (!req.reclaim_session_id().empty()) {
    LB_ASSIGN_OR_RETURN(SessionEntry * s, FindSession(req.reclaim_session_id()));
    if (s->attached == 0) ArmExpiry(*s);  // a fresh grace period to attach a stream
    return s->session;
  }
  std::string id;
  do {
    LB_ASSIGN_OR_RETURN(id, NewSessionId());
  } while (sessions_.count(id) > 0);
  SessionEntry& s = sessions_[id];
  s.session.set_id(id);
  s.session.set_client_name(req.client_name());
  s.session.set_server_id(options_.server_id);
  *s.session.mutable_created() = ToProto(Now());
  s.session.set_grace_period_ms(
      static_cast<uint32_t>(absl::ToInt64Milliseconds(options_.session_grace_period)));
  ArmExpiry(s);
  return s.session;
}

absl::StatusOr<v1::CloseSessionResponse> Engine::CloseSession(const v1::CloseSessionRequest& req) {
  LB_RETURN_IF_ERROR(CheckId("session_id", req.session_id(), LINEERR_INVALAPPHANDLE));
  EngineLock lock(this);
  LB_RETURN_IF_ERROR(FindSession(req.session_id()).status());
  LB_OP_SCOPE(nullptr, "");
  EndSession(req.session_id(), /*expired=*/false);
  return v1::CloseSessionResponse();
}

absl::StatusOr<v1::OpenLineResponse> Engine::OpenLine(const v1::OpenLineRequest& req) {
  LB_RETURN_IF_ERROR(CheckId("session_id", req.session_id(), LINEERR_INVALAPPHANDLE));
  LB_RETURN_IF_ERROR(CheckId("line_id", req.line_id(), LINEERR_BADDEVICEID));
  if (req.privilege() == v1::PRIVILEGE_UNSPECIFIED) {
    return InvalidArgument(LINEERR_INVALPRIVSELECT, "privilege is required (owner, monitor or none)");
  }
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(SessionEntry * s, FindSession(req.session_id()));
  auto it = lines_.find(req.line_id());
  if (it == lines_.end()) {
    return NotFound(LINEERR_BADDEVICEID, absl::StrCat("no line \"", req.line_id(), "\""));
  }
  LineEntry& line = it->second;
  LineOpen open;
  open.privilege = req.privilege();
  for (int m : req.media_modes()) {
    if (!Has(line.line.caps().media_modes(), m)) {
      return InvalidArgument(LINEERR_INVALMEDIAMODE,
                             absl::StrCat("line ", req.line_id(), " does not support media mode ",
                                          v1::MediaMode_Name(static_cast<v1::MediaMode>(m))));
    }
    open.media_modes.push_back(static_cast<v1::MediaMode>(m));
  }
  const bool reopen = line.opens.count(req.session_id()) > 0;
  // Every call event on the line lists the sessions that have it open.
  if (!reopen && line.opens.size() >= kMaxOpensPerLine) {
    return ResourceExhausted(LINEERR_RESOURCEUNAVAIL,
                             absl::StrCat("line ", req.line_id(), " is open in ", kMaxOpensPerLine,
                                          " sessions already"));
  }
  line.opens[req.session_id()] = open;
  if (!reopen) s->session.add_open_lines(req.line_id());
  // Existing calls: an offered call nobody decided on yet (OFFERING: not
  // answered, accepted or sent elsewhere) goes to an owner open of its media
  // mode as if the open had come first (ownership has no window, DESIGN.md
  // 12); every other call is reported to the new opener as monitor.
  if (open.privilege != v1::PRIVILEGE_NONE) {
    for (auto& [id, c] : calls_) {
      if (c.call.info().line_id() != req.line_id()) continue;
      if (OffersOwnership(open.privilege, open.media_modes, c.call)) {
        GrantOwnership(c.call, req.session_id());
        continue;
      }
      const auto& owners = c.call.owner_sessions();
      const auto& monitors = c.call.monitor_sessions();
      if (std::find(owners.begin(), owners.end(), req.session_id()) == owners.end() &&
          std::find(monitors.begin(), monitors.end(), req.session_id()) == monitors.end()) {
        c.call.add_monitor_sessions(req.session_id());
      }
    }
  }
  RecountLine(line);
  v1::OpenLineResponse resp;
  *resp.mutable_line() = line.line;
  return resp;
}

absl::StatusOr<v1::CloseLineResponse> Engine::CloseLine(const v1::CloseLineRequest& req) {
  LB_RETURN_IF_ERROR(CheckId("session_id", req.session_id(), LINEERR_INVALAPPHANDLE));
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(SessionEntry * s, FindSession(req.session_id()));
  LB_ASSIGN_OR_RETURN(LineEntry * line, FindLineForOp(req.line_id()));
  if (!line->opens.count(req.session_id())) {
    return FailedPrecondition(LINEERR_INVALLINEHANDLE,
                              absl::StrCat("line ", req.line_id(), " is not open in this session"));
  }
  LB_OP_SCOPE(nullptr, "");
  CloseLineLocked(*s, *line);
  return v1::CloseLineResponse();
}

absl::StatusOr<v1::Line> Engine::SetLineForwarding(const v1::SetLineForwardingRequest& req) {
  if (req.rules_size() > 16) {
    return InvalidArgument(LINEERR_INVALPARAM, "at most 16 forwarding rules");
  }
  std::set<int> modes;
  std::vector<v1::ForwardRule> rules;
  for (const auto& r : req.rules()) {
    if (r.mode() == v1::FORWARD_MODE_UNSPECIFIED) {
      return InvalidArgument(LINEERR_INVALPARAM, "forwarding rule without a mode");
    }
    if (!modes.insert(r.mode()).second) {
      return InvalidArgument(LINEERR_INVALPARAM, "two forwarding rules for the same mode");
    }
    if (r.num_rings() > 100) return InvalidArgument(LINEERR_INVALPARAM, "num_rings is at most 100");
    LB_ASSIGN_OR_RETURN(std::string digits, NormalizeDialString(r.destination()));
    v1::ForwardRule rule = r;
    rule.set_destination(digits);
    rules.push_back(std::move(rule));
  }
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(Op op,
                      PrepareLineOp(req.session_id(), req.line_id(), 0, v1::ADDRESS_FEATURE_FORWARD));
  LB_OP_SCOPE(op.session, req.line_id());
  LB_RETURN_IF_ERROR(op.provider->SetForwarding(req.line_id(), rules));
  return op.line->line;
}

absl::StatusOr<v1::ListCallsResponse> Engine::ListCalls(const v1::ListCallsRequest& req) {
  // The token is the last call's CallInfo.call_id (calls are listed in its order).
  uint64_t after = 0;
  if (!req.page_token().empty() && !absl::SimpleAtoi(req.page_token(), &after)) {
    return InvalidArgument(LINEERR_INVALPARAM,
                           "page_token is not a next_page_token of ListCalls");
  }
  const size_t page = PageSize(req.page_size());
  EngineLock lock(this);
  if (!req.line_id().empty() && !lines_.count(req.line_id())) {
    return NotFound(LINEERR_BADDEVICEID, absl::StrCat("no line \"", req.line_id(), "\""));
  }
  std::vector<const v1::Call*> calls;
  for (const auto& [id, c] : calls_) {
    if (!req.page_token().empty() && c.call.info().call_id() <= after) continue;
    if (req.line_id().empty() || c.call.info().line_id() == req.line_id()) calls.push_back(&c.call);
  }
  auto by_id = [](const v1::Call* a, const v1::Call* b) {
    return a->info().call_id() < b->info().call_id();
  };
  v1::ListCallsResponse resp;
  if (calls.size() > page) {
    std::partial_sort(calls.begin(), calls.begin() + static_cast<std::ptrdiff_t>(page), calls.end(),
                      by_id);
    calls.resize(page);
    resp.set_next_page_token(absl::StrCat(calls.back()->info().call_id()));
  } else {
    std::sort(calls.begin(), calls.end(), by_id);
  }
  for (const auto* c : calls) *resp.add_calls() = *c;
  return resp;
}

std::string Engine::LineOfCall(const std::string& call_id) {
  EngineLock lock(this);
  auto it = calls_.find(call_id);
  return it == calls_.end() ? std::string() : it->second.call.info().line_id();
}

absl::StatusOr<v1::Call> Engine::GetCall(const v1::GetCallRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(SessionEntry * s, FindSession(req.session_id()));
  LB_RETURN_IF_ERROR(CheckId("call_id", req.call_id(), LINEERR_INVALCALLHANDLE));
  if (!calls_.count(req.call_id())) {
    return NotFound(LINEERR_INVALCALLHANDLE, absl::StrCat("no call \"", req.call_id(), "\""));
  }
  return View(req.call_id(), s);
}

namespace {
absl::Status ValidateParty(absl::string_view what, const v1::PartyId& p) {
  LB_RETURN_IF_ERROR(CheckSize(absl::StrCat(what, ".number"), p.number().size(), 64,
                               LINEERR_INVALCALLPARAMS));
  return CheckSize(absl::StrCat(what, ".name"), p.name().size(), 128, LINEERR_INVALCALLPARAMS);
}
}  // namespace

absl::StatusOr<v1::Call> Engine::MakeCall(const v1::MakeCallRequest& req) {
  LB_RETURN_IF_ERROR(CheckSize("tag", req.tag().size(), kMaxIdLength, LINEERR_INVALPARAM));
  if (!req.destination().empty()) LB_RETURN_IF_ERROR(CheckDestination(req.destination()));
  const v1::CallParams& p = req.params();
  LB_RETURN_IF_ERROR(CheckSize("user_user_info", p.user_user_info().size(),
                               options_.max_user_user_info, LINEERR_USERUSERINFOTOOBIG));
  LB_RETURN_IF_ERROR(CheckSize("app_specific", p.app_specific().size(), kMaxAppSpecificSize,
                               LINEERR_INVALCALLPARAMS));
  LB_RETURN_IF_ERROR(ValidateParty("calling_party", p.calling_party()));
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(Op op, PrepareLineOp(req.session_id(), req.line_id(), req.address_index(),
                                           v1::ADDRESS_FEATURE_MAKECALL));
  const auto& caps = op.line->line.caps();
  if (p.media_mode() != v1::MEDIA_MODE_UNSPECIFIED && !Has(caps.media_modes(), p.media_mode())) {
    return InvalidArgument(LINEERR_INVALMEDIAMODE,
                           absl::StrCat("line ", req.line_id(), " does not support media mode ",
                                        v1::MediaMode_Name(p.media_mode())));
  }
  if (p.bearer_mode() != v1::BEARER_MODE_UNSPECIFIED &&
      !Has(caps.bearer_modes(), p.bearer_mode())) {
    return InvalidArgument(LINEERR_INVALBEARERMODE,
                           absl::StrCat("line ", req.line_id(), " does not support bearer mode ",
                                        v1::BearerMode_Name(p.bearer_mode())));
  }
  if (op.line->line.status().state() != v1::LINE_STATE_IN_SERVICE) {
    return FailedPrecondition(LINEERR_INVALLINESTATE,
                              absl::StrCat("line ", req.line_id(), " is out of service"));
  }
  LB_RETURN_IF_ERROR(DestinationForLine(op.provider, req.destination()));
  LB_OP_SCOPE(op.session, req.line_id());
  op_tag_ = req.tag();
  LB_ASSIGN_OR_RETURN(std::string id, op.provider->MakeCall(req.line_id(), req.address_index(),
                                                            req.destination(), p));
  if (auto it = calls_.find(id); it != calls_.end() && !p.app_specific().empty()) {
    it->second.call.mutable_info()->set_app_specific(p.app_specific());
  }
  return View(id, op.session);
}

absl::StatusOr<v1::Call> Engine::Dial(const v1::DialRequest& req) {
  LB_RETURN_IF_ERROR(CheckDestination(req.destination()));
  return CallAction(req.session_id(), req.call_id(),
                    {v1::CALL_STATE_DIALTONE, v1::CALL_STATE_DIALING, v1::CALL_STATE_PROCEEDING},
                    v1::CALL_FEATURE_DIAL, [&](Provider* p, const std::string& id) {
                      LB_RETURN_IF_ERROR(DestinationForLine(p, req.destination()));
                      return p->Dial(id, req.destination());
                    });
}

absl::StatusOr<v1::Call> Engine::Accept(const v1::CallActionRequest& req) {
  LB_RETURN_IF_ERROR(CheckSize("user_user_info", req.user_user_info().size(),
                               options_.max_user_user_info, LINEERR_USERUSERINFOTOOBIG));
  return CallAction(req.session_id(), req.call_id(), {v1::CALL_STATE_OFFERING},
                    v1::CALL_FEATURE_ACCEPT, [&](Provider* p, const std::string& id) {
                      return p->Accept(id, req.user_user_info());
                    });
}

absl::StatusOr<v1::Call> Engine::Answer(const v1::CallActionRequest& req) {
  LB_RETURN_IF_ERROR(CheckSize("user_user_info", req.user_user_info().size(),
                               options_.max_user_user_info, LINEERR_USERUSERINFOTOOBIG));
  return CallAction(req.session_id(), req.call_id(),
                    {v1::CALL_STATE_OFFERING, v1::CALL_STATE_ACCEPTED}, v1::CALL_FEATURE_ANSWER,
                    [&](Provider* p, const std::string& id) {
                      return p->Answer(id, req.user_user_info());
                    });
}

absl::StatusOr<v1::Call> Engine::Drop(const v1::CallActionRequest& req) {
  LB_RETURN_IF_ERROR(CheckSize("user_user_info", req.user_user_info().size(),
                               options_.max_user_user_info, LINEERR_USERUSERINFOTOOBIG));
  return CallAction(req.session_id(), req.call_id(), {}, v1::CALL_FEATURE_DROP,
                    [&](Provider* p, const std::string& id) {
                      const v1::Call* c = FindCall(id);
                      if (c != nullptr && c->status().state() == v1::CALL_STATE_DISCONNECTED) {
                        // Nothing left on the network side: the call just goes idle.
                        SetCallState(id, MakeStatus(v1::CALL_STATE_IDLE));
                        return absl::OkStatus();
                      }
                      return p->Drop(id, req.user_user_info());
                    });
}

absl::StatusOr<v1::Call> Engine::Hold(const v1::CallActionRequest& req) {
  return CallAction(req.session_id(), req.call_id(), {v1::CALL_STATE_CONNECTED},
                    v1::CALL_FEATURE_HOLD,
                    [&](Provider* p, const std::string& id) { return p->Hold(id); });
}

absl::StatusOr<v1::Call> Engine::Unhold(const v1::CallActionRequest& req) {
  return CallAction(req.session_id(), req.call_id(), {v1::CALL_STATE_ONHOLD},
                    v1::CALL_FEATURE_UNHOLD,
                    [&](Provider* p, const std::string& id) { return p->Unhold(id); });
}

absl::StatusOr<v1::Call> Engine::Redirect(const v1::RedirectRequest& req) {
  LB_RETURN_IF_ERROR(CheckDestination(req.destination()));
  return CallAction(req.session_id(), req.call_id(),
                    {v1::CALL_STATE_OFFERING, v1::CALL_STATE_ACCEPTED}, v1::CALL_FEATURE_REDIRECT,
                    [&](Provider* p, const std::string& id) {
                      LB_RETURN_IF_ERROR(DestinationForLine(p, req.destination()));
                      return p->Redirect(id, req.destination());
                    });
}

absl::StatusOr<v1::Call> Engine::BlindTransfer(const v1::BlindTransferRequest& req) {
  LB_RETURN_IF_ERROR(CheckDestination(req.destination()));
  return CallAction(req.session_id(), req.call_id(),
                    {v1::CALL_STATE_CONNECTED, v1::CALL_STATE_ONHOLD},
                    v1::CALL_FEATURE_BLINDTRANSFER, [&](Provider* p, const std::string& id) {
                      LB_RETURN_IF_ERROR(DestinationForLine(p, req.destination()));
                      return p->BlindTransfer(id, req.destination());
                    });
}

absl::StatusOr<v1::SetupTransferResponse> Engine::SetupTransfer(
    const v1::SetupTransferRequest& req) {
  LB_RETURN_IF_ERROR(CheckSize("tag", req.tag().size(), kMaxIdLength, LINEERR_INVALPARAM));
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(Op op, PrepareCallOp(req.session_id(), req.call_id(),
                                           {v1::CALL_STATE_CONNECTED},
                                           v1::CALL_FEATURE_SETUPTRANSFER));
  LB_OP_SCOPE(op.session, op.line->line.id());
  op_tag_ = req.tag();
  LB_ASSIGN_OR_RETURN(std::string consult, op.provider->SetupTransfer(req.call_id()));
  v1::SetupTransferResponse resp;
  *resp.mutable_call() = View(req.call_id(), op.session);
  *resp.mutable_consultation() = View(consult, op.session);
  return resp;
}

absl::StatusOr<v1::CompleteTransferResponse> Engine::CompleteTransfer(
    const v1::CompleteTransferRequest& req) {
  LB_RETURN_IF_ERROR(CheckSize("tag", req.tag().size(), kMaxIdLength, LINEERR_INVALPARAM));
  const v1::TransferMode mode = req.mode() == v1::TRANSFER_MODE_UNSPECIFIED
                                    ? v1::TRANSFER_MODE_TRANSFER
                                    : req.mode();
  if (mode != v1::TRANSFER_MODE_TRANSFER && mode != v1::TRANSFER_MODE_CONFERENCE) {
    return InvalidArgument(LINEERR_INVALTRANSFERMODE, "unknown transfer mode");
  }
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(
      Op op, PrepareCallOp(req.session_id(), req.call_id(),
                           {v1::CALL_STATE_ONHOLDPENDTRANSFER, v1::CALL_STATE_ONHOLD},
                           v1::CALL_FEATURE_COMPLETETRANSF));
  auto consult = PrepareCallOp(req.session_id(), req.consultation_call_id(),
                               {v1::CALL_STATE_CONNECTED, v1::CALL_STATE_RINGBACK,
                                v1::CALL_STATE_PROCEEDING, v1::CALL_STATE_ONHOLD},
                               v1::CALL_FEATURE_UNSPECIFIED);
  if (!consult.ok()) {
    if (absl::IsNotFound(consult.status()) || absl::IsInvalidArgument(consult.status())) {
      return NotFound(LINEERR_INVALCONSULTCALLHANDLE, consult.status().message());
    }
    return consult.status();
  }
  if (consult->line != op.line || req.consultation_call_id() == req.call_id()) {
    return InvalidArgument(LINEERR_INVALCONSULTCALLHANDLE,
                           "the consultation call must be another call on the same line");
  }
  LB_OP_SCOPE(op.session, op.line->line.id());
  op_tag_ = req.tag();
  LB_ASSIGN_OR_RETURN(std::string conf, op.provider->CompleteTransfer(
                                            req.call_id(), req.consultation_call_id(), mode));
  v1::CompleteTransferResponse resp;
  if (!conf.empty()) *resp.mutable_conference() = View(conf, op.session);
  return resp;
}

absl::StatusOr<v1::SetupConferenceResponse> Engine::SetupConference(
    const v1::SetupConferenceRequest& req) {
  LB_RETURN_IF_ERROR(CheckSize("tag", req.tag().size(), kMaxIdLength, LINEERR_INVALPARAM));
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(Op op, PrepareCallOp(req.session_id(), req.call_id(),
                                           {v1::CALL_STATE_CONNECTED}, v1::CALL_FEATURE_SETUPCONF));
  LB_OP_SCOPE(op.session, op.line->line.id());
  op_tag_ = req.tag();
  LB_ASSIGN_OR_RETURN(auto ids, op.provider->SetupConference(req.call_id()));
  v1::SetupConferenceResponse resp;
  *resp.mutable_conference() = View(ids.first, op.session);
  *resp.mutable_consultation() = View(ids.second, op.session);
  return resp;
}

absl::StatusOr<v1::Call> Engine::PrepareAddToConference(
    const v1::PrepareAddToConferenceRequest& req) {
  LB_RETURN_IF_ERROR(CheckSize("tag", req.tag().size(), kMaxIdLength, LINEERR_INVALPARAM));
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(Op op, PrepareCallOp(req.session_id(), req.conference_call_id(),
                                           {v1::CALL_STATE_CONNECTED},
                                           v1::CALL_FEATURE_PREPAREADDCONF));
  if (op.call->call.info().origin() != v1::CALL_ORIGIN_CONFERENCE) {
    return InvalidArgument(LINEERR_INVALCONFCALLHANDLE,
                           absl::StrCat("call ", req.conference_call_id(), " is not a conference"));
  }
  LB_OP_SCOPE(op.session, op.line->line.id());
  op_tag_ = req.tag();
  LB_ASSIGN_OR_RETURN(std::string consult,
                      op.provider->PrepareAddToConference(req.conference_call_id()));
  return View(consult, op.session);
}

absl::StatusOr<v1::Call> Engine::AddToConference(const v1::AddToConferenceRequest& req) {
  EngineLock lock(this);
  auto conf = PrepareCallOp(req.session_id(), req.conference_call_id(),
                            {v1::CALL_STATE_ONHOLDPENDCONF, v1::CALL_STATE_CONNECTED},
                            v1::CALL_FEATURE_ADDTOCONF);
  if (!conf.ok()) {
    if (absl::IsNotFound(conf.status())) {
      return NotFound(LINEERR_INVALCONFCALLHANDLE, conf.status().message());
    }
    return conf.status();
  }
  if (conf->call->call.info().origin() != v1::CALL_ORIGIN_CONFERENCE) {
    return InvalidArgument(LINEERR_INVALCONFCALLHANDLE,
                           absl::StrCat("call ", req.conference_call_id(), " is not a conference"));
  }
  auto party = PrepareCallOp(req.session_id(), req.call_id(),
                             {v1::CALL_STATE_CONNECTED, v1::CALL_STATE_RINGBACK,
                              v1::CALL_STATE_PROCEEDING, v1::CALL_STATE_ONHOLD},
                             v1::CALL_FEATURE_UNSPECIFIED);
  if (!party.ok()) {
    if (absl::IsNotFound(party.status())) {
      return NotFound(LINEERR_INVALCONSULTCALLHANDLE, party.status().message());
    }
    return party.status();
  }
  if (party->line != conf->line) {
    return InvalidArgument(LINEERR_INVALCONSULTCALLHANDLE,
                           "the call to add must be on the conference's line");
  }
  LB_OP_SCOPE(conf->session, conf->line->line.id());
  LB_RETURN_IF_ERROR(conf->provider->AddToConference(req.conference_call_id(), req.call_id()));
  return View(req.conference_call_id(), conf->session);
}

absl::StatusOr<v1::Call> Engine::RemoveFromConference(const v1::CallActionRequest& req) {
  return CallAction(req.session_id(), req.call_id(), {v1::CALL_STATE_CONFERENCED},
                    v1::CALL_FEATURE_REMOVEFROMCONF,
                    [&](Provider* p, const std::string& id) { return p->RemoveFromConference(id); });
}

absl::StatusOr<v1::ParkResponse> Engine::Park(const v1::ParkRequest& req) {
  const v1::ParkMode mode =
      req.mode() == v1::PARK_MODE_UNSPECIFIED
          ? (req.destination().empty() ? v1::PARK_MODE_NONDIRECTED : v1::PARK_MODE_DIRECTED)
          : req.mode();
  if (mode == v1::PARK_MODE_DIRECTED) {
    LB_RETURN_IF_ERROR(NormalizeDialString(req.destination()).status());
  } else if (!req.destination().empty()) {
    return InvalidArgument(LINEERR_INVALPARKMODE, "a non-directed park takes no destination");
  }
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(Op op, PrepareCallOp(req.session_id(), req.call_id(),
                                           {v1::CALL_STATE_CONNECTED}, v1::CALL_FEATURE_PARK));
  LB_OP_SCOPE(op.session, op.line->line.id());
  LB_ASSIGN_OR_RETURN(ParkResult r, op.provider->Park(req.call_id(), mode, req.destination()));
  v1::ParkResponse resp;
  resp.set_park_address(r.park_address);
  return resp;
}

absl::StatusOr<v1::Call> Engine::Unpark(const v1::UnparkRequest& req) {
  LB_RETURN_IF_ERROR(CheckSize("tag", req.tag().size(), kMaxIdLength, LINEERR_INVALPARAM));
  LB_RETURN_IF_ERROR(NormalizeDialString(req.park_address()).status());
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(Op op, PrepareLineOp(req.session_id(), req.line_id(), req.address_index(),
                                           v1::ADDRESS_FEATURE_UNPARK));
  LB_OP_SCOPE(op.session, req.line_id());
  op_tag_ = req.tag();
  LB_ASSIGN_OR_RETURN(std::string id, op.provider->Unpark(req.line_id(), req.address_index(),
                                                          req.park_address()));
  return View(id, op.session);
}

absl::StatusOr<v1::Call> Engine::Pickup(const v1::PickupRequest& req) {
  LB_RETURN_IF_ERROR(CheckSize("tag", req.tag().size(), kMaxIdLength, LINEERR_INVALPARAM));
  if (req.destination().empty() && req.group_id().empty()) {
    return InvalidArgument(LINEERR_INVALADDRESS, "pickup needs a destination or a group id");
  }
  if (!req.destination().empty()) {
    LB_RETURN_IF_ERROR(NormalizeDialString(req.destination()).status());
  }
  LB_RETURN_IF_ERROR(CheckSize("group_id", req.group_id().size(), 64, LINEERR_INVALGROUPID));
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(Op op, PrepareLineOp(req.session_id(), req.line_id(), req.address_index(),
                                           v1::ADDRESS_FEATURE_PICKUP));
  LB_OP_SCOPE(op.session, req.line_id());
  op_tag_ = req.tag();
  LB_ASSIGN_OR_RETURN(std::string id, op.provider->Pickup(req.line_id(), req.address_index(),
                                                          req.destination(), req.group_id()));
  return View(id, op.session);
}

absl::StatusOr<v1::Call> Engine::GenerateDigits(const v1::GenerateDigitsRequest& req) {
  if (req.digits().empty()) return InvalidArgument(LINEERR_INVALDIGITS, "no digits to generate");
  LB_RETURN_IF_ERROR(
      CheckSize("digits", req.digits().size(), kMaxDigitsLength, LINEERR_INVALDIGITS));
  for (char c : req.digits()) {
    const bool ok = (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D') ||
                    c == ',';
    if (!ok) {
      return InvalidArgument(LINEERR_INVALDIGITS,
                             absl::StrFormat("digit 0x%02x is not 0-9 * # A-D or ','",
                                             static_cast<unsigned char>(c)));
    }
  }
  const v1::DigitMode mode =
      req.mode() == v1::DIGIT_MODE_UNSPECIFIED ? v1::DIGIT_MODE_DTMF : req.mode();
  if (mode != v1::DIGIT_MODE_DTMF && mode != v1::DIGIT_MODE_PULSE) {
    return InvalidArgument(LINEERR_INVALDIGITMODE, "digits are generated as dtmf or pulse");
  }
  if (req.duration_ms() > 10000) {
    return InvalidArgument(LINEERR_INVALPARAM, "duration_ms is at most 10000");
  }
  return CallAction(req.session_id(), req.call_id(),
                    {v1::CALL_STATE_CONNECTED, v1::CALL_STATE_CONFERENCED,
                     v1::CALL_STATE_PROCEEDING, v1::CALL_STATE_RINGBACK},
                    v1::CALL_FEATURE_GENERATEDIGITS, [&](Provider* p, const std::string& id) {
                      return p->GenerateDigits(id, req.digits(), mode,
                                               absl::Milliseconds(req.duration_ms()));
                    });
}

absl::StatusOr<v1::Call> Engine::MonitorDigits(const v1::MonitorDigitsRequest& req) {
  for (int m : req.modes()) {
    if (m != v1::DIGIT_MODE_DTMF && m != v1::DIGIT_MODE_DTMFEND && m != v1::DIGIT_MODE_PULSE) {
      return InvalidArgument(LINEERR_INVALDIGITMODE, "unknown digit mode");
    }
  }
  return CallAction(req.session_id(), req.call_id(), {}, v1::CALL_FEATURE_MONITORDIGITS,
                    [&](Provider*, const std::string& id) -> absl::Status {
                      mu_.AssertHeld();
                      auto& c = calls_.find(id)->second;
                      const auto* line_caps = &lines_.find(c.call.info().line_id())->second.line.caps();
                      for (int m : req.modes()) {
                        if (!Has(line_caps->monitor_digit_modes(), m)) {
                          return InvalidArgument(LINEERR_INVALDIGITMODE,
                                                 "the line cannot monitor that digit mode");
                        }
                      }
                      UpdateCallInfo(
                          id,
                          [&](v1::CallInfo* info) {
                            *info->mutable_monitored_digit_modes() = req.modes();
                          },
                          {"monitored_digit_modes"});
                      return absl::OkStatus();
                    });
}

absl::StatusOr<v1::Call> Engine::SetAppSpecific(const v1::SetAppSpecificRequest& req) {
  LB_RETURN_IF_ERROR(CheckSize("app_specific", req.app_specific().size(), kMaxAppSpecificSize,
                               LINEERR_INVALPARAM));
  return CallAction(req.session_id(), req.call_id(), {}, v1::CALL_FEATURE_UNSPECIFIED,
                    [&](Provider*, const std::string& id) {
                      UpdateCallInfo(
                          id, [&](v1::CallInfo* info) { info->set_app_specific(req.app_specific()); },
                          {"app_specific"});
                      return absl::OkStatus();
                    });
}

absl::StatusOr<v1::Call> Engine::SetCallData(const v1::SetCallDataRequest& req) {
  LB_RETURN_IF_ERROR(
      CheckSize("call_data", req.call_data().size(), kMaxCallDataSize, LINEERR_INVALPARAM));
  return CallAction(req.session_id(), req.call_id(), {}, v1::CALL_FEATURE_SETCALLDATA,
                    [&](Provider*, const std::string& id) {
                      UpdateCallInfo(
                          id, [&](v1::CallInfo* info) { info->set_call_data(req.call_data()); },
                          {"call_data"});
                      return absl::OkStatus();
                    });
}

// ---------------------------------------------------------------------------
// Subscriptions

bool Engine::Matches(const v1::Event& event, const std::set<std::string>& lines) {
  return lines.empty() || event.line_id().empty() || lines.count(event.line_id()) > 0;
}

std::unique_ptr<v1::EventBatch> Engine::BuildSnapshot(const std::set<std::string>& lines,
                                                      v1::EventBatch::SnapshotReason reason) {
  auto batch = std::make_unique<v1::EventBatch>();
  batch->set_epoch(journal_.epoch());
  batch->set_snapshot_reason(reason);
  v1::Snapshot* snap = batch->mutable_snapshot();
  snap->set_sequence(journal_.last_sequence());
  std::vector<const v1::Call*> calls;
  if (lines.empty()) {
    for (const auto& [id, line] : lines_) *snap->add_lines() = line.line;
    for (const auto& [id, c] : calls_) calls.push_back(&c.call);
  } else {
    // A filtered subscription costs its own lines, not the server's: both
    // sets are in id order, so the lines come out in the same order.
    for (const std::string& id : lines) {
      auto it = lines_.find(id);
      if (it == lines_.end()) continue;
      *snap->add_lines() = it->second.line;
      for (const std::string& call_id : it->second.calls) {
        if (auto c = calls_.find(call_id); c != calls_.end()) calls.push_back(&c->second.call);
      }
    }
  }
  std::sort(calls.begin(), calls.end(), [](const v1::Call* a, const v1::Call* b) {
    return a->info().call_id() < b->info().call_id();
  });
  for (const auto* c : calls) *snap->add_calls() = *c;
  SnapshotPhones(lines, snap);
  return batch;
}

absl::StatusOr<SubscriptionStart> Engine::StartSubscription(const v1::SubscribeRequest& req) {
  if (static_cast<size_t>(req.line_ids_size()) > kMaxSubscribeLines) {
    return InvalidArgument(LINEERR_INVALPARAM,
                           absl::StrFormat("at most %d line ids per subscription",
                                           kMaxSubscribeLines));
  }
  std::set<std::string> lines;
  for (const auto& id : req.line_ids()) {
    LB_RETURN_IF_ERROR(CheckId("line_ids[]", id, LINEERR_BADDEVICEID));
    lines.insert(id);
  }
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(SessionEntry * s, FindSession(req.session_id()));
  SubscriptionStart start;
  const uint64_t last = journal_.last_sequence();
  v1::EventBatch::SnapshotReason reason = v1::EventBatch::SNAPSHOT_REASON_UNSPECIFIED;
  if (req.snapshot() || req.resume_epoch() == 0) {
    reason = v1::EventBatch::SNAPSHOT_REASON_REQUESTED;
  } else if (req.resume_epoch() != journal_.epoch()) {
    reason = v1::EventBatch::SNAPSHOT_REASON_EPOCH_CHANGED;
  } else if (req.resume_sequence() > last ||
             req.resume_sequence() + 1 < journal_.oldest_sequence()) {
    reason = v1::EventBatch::SNAPSHOT_REASON_GAP;
  }
  if (reason != v1::EventBatch::SNAPSHOT_REASON_UNSPECIFIED) {
    start.snapshot = BuildSnapshot(lines, reason);
    start.next_sequence = last + 1;
  } else {
    start.next_sequence = req.resume_sequence() + 1;
  }
  if (s != nullptr) {
    ++s->attached;
    s->session.set_attached(true);
    CancelTimer(s->expiry_timer);
    s->expiry_timer = 0;
  }
  return start;
}

void Engine::EndSubscription(const std::string& session_id) {
  if (session_id.empty()) return;
  EngineLock lock(this);
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  if (--it->second.attached <= 0) {
    it->second.attached = 0;
    it->second.session.set_attached(false);
    if (!shut_down_) ArmExpiry(it->second);
  }
}

// ---------------------------------------------------------------------------
// Admin

v1::ServerStatus Engine::Status() {
  v1::ServerStatus st;
  st.set_version(kVersion);
  st.set_epoch(journal_.epoch());
  st.set_server_id(options_.server_id);
  st.set_sequence(journal_.last_sequence());
  *st.mutable_started() = ToProto(started_);
  st.set_journal_capacity(journal_.capacity());
  st.set_journal_oldest_sequence(journal_.oldest_sequence());
  if (subscriber_count_) st.set_subscribers(subscriber_count_());
  EngineLock lock(this);
  st.set_lines(static_cast<uint32_t>(lines_.size()));
  st.set_calls(static_cast<uint32_t>(calls_.size()));
  st.set_sessions(static_cast<uint32_t>(sessions_.size()));
  for (const auto& p : providers_) st.add_providers(absl::StrCat(p->type(), ":", p->name()));
  return st;
}

absl::StatusOr<v1::ListSessionsResponse> Engine::ListSessions() {
  EngineLock lock(this);
  v1::ListSessionsResponse resp;
  for (const auto& [id, s] : sessions_) {
    v1::Session* out = resp.add_sessions();
    *out = s.session;
    uint32_t owned = 0;
    for (const auto& [cid, c] : calls_) {
      for (const auto& o : c.call.owner_sessions()) owned += (o == id);
    }
    out->set_owned_calls(owned);
  }
  return resp;
}

size_t Engine::num_lines() {
  EngineLock lock(this);
  return lines_.size();
}

size_t Engine::num_calls() {
  EngineLock lock(this);
  return calls_.size();
}

}  // namespace linebridge
