#include "tsp/remote_provider.h"

#include "tapi_mapping.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tsp/enumeration.h"
#include "tsp/tsp_channel.h"
#include "tsp/tsp_log.h"
#include "tsp/tsp_shutdown.h"
#include "tsp/var_struct.h"

namespace linebridge {
// From linebridge/lineerr.h (proto/), which this file does not include: its
// LINEERR_* enumerators clash with the SDK tapi.h's LINEERR_* macros in the
// Windows build. The error codes used here are TAPI's (tapi_abi.h/tapi.h).
uint32_t LineErrOf(const absl::Status& status);
}  // namespace linebridge

namespace linebridge::tsp {
namespace {

DWORD CallInfoStateBits(const v1::CallInfoChanged& change) {
  DWORD out = 0;
  for (const std::string& field : change.changed()) {
    if (field == "caller") out |= LINECALLINFOSTATE_CALLERID;
    else if (field == "called") out |= LINECALLINFOSTATE_CALLEDID;
    else if (field == "connected") out |= LINECALLINFOSTATE_CONNECTEDID;
    else if (field == "redirection") out |= LINECALLINFOSTATE_REDIRECTIONID;
    else if (field == "redirecting") out |= LINECALLINFOSTATE_REDIRECTINGID;
    else if (field == "user_user_info") out |= LINECALLINFOSTATE_USERUSERINFO;
    else if (field == "related_call_id") out |= LINECALLINFOSTATE_RELATEDCALLID;
    else if (field == "media_mode") out |= LINECALLINFOSTATE_MEDIAMODE;
    else if (field == "bearer_mode") out |= LINECALLINFOSTATE_BEARERMODE;
    else if (field == "app_specific") out |= LINECALLINFOSTATE_APPSPECIFIC;
    else if (field == "call_data") out |= LINECALLINFOSTATE_CALLDATA;
    else if (field == "origin") out |= LINECALLINFOSTATE_ORIGIN;
    else if (field == "reason") out |= LINECALLINFOSTATE_REASON;
    else if (field == "trunk") out |= LINECALLINFOSTATE_TRUNK;
    else if (field == "monitored_digit_modes") out |= LINECALLINFOSTATE_MONITORMODES;
    else out |= LINECALLINFOSTATE_OTHER;
  }
  return out == 0 ? static_cast<DWORD>(LINECALLINFOSTATE_OTHER) : out;
}
// The LINECALLINFOSTATE_* bits this provider ever reports (LINEADDRESSCAPS).
constexpr DWORD kReportedCallInfoStates =
    LINECALLINFOSTATE_OTHER | LINECALLINFOSTATE_CALLERID | LINECALLINFOSTATE_CALLEDID |
    LINECALLINFOSTATE_CONNECTEDID | LINECALLINFOSTATE_REDIRECTIONID |
    LINECALLINFOSTATE_REDIRECTINGID | LINECALLINFOSTATE_USERUSERINFO |
    LINECALLINFOSTATE_RELATEDCALLID | LINECALLINFOSTATE_MEDIAMODE |
    LINECALLINFOSTATE_BEARERMODE | LINECALLINFOSTATE_APPSPECIFIC | LINECALLINFOSTATE_CALLDATA |
    LINECALLINFOSTATE_ORIGIN | LINECALLINFOSTATE_REASON | LINECALLINFOSTATE_TRUNK |
    LINECALLINFOSTATE_MONITORMODES;
constexpr DWORD kPartyIdFlags = LINECALLPARTYID_BLOCKED | LINECALLPARTYID_NAME |
                                LINECALLPARTYID_ADDRESS | LINECALLPARTYID_UNKNOWN |
                                LINECALLPARTYID_UNAVAIL;

DWORD PartyFlags(const v1::PartyId& p) {
  if (p.blocked()) return LINECALLPARTYID_BLOCKED;
  if (!p.available()) return LINECALLPARTYID_UNAVAIL;
  DWORD flags = 0;
  if (!p.number().empty()) flags |= LINECALLPARTYID_ADDRESS;
  if (!p.name().empty()) flags |= LINECALLPARTYID_NAME;
  return flags == 0 ? static_cast<DWORD>(LINECALLPARTYID_UNKNOWN) : flags;
}

// ---- handles and structure sizes ----

DWORD MinDevCaps(DWORD version) {
  if (version >= 0x00030000) return sizeof(LINEDEVCAPS);
  if (version >= 0x00020002) return offsetof(LINEDEVCAPS, dwAddressTypes);
  return offsetof(LINEDEVCAPS, PermanentLineGuid);
}
DWORD MinCallInfo(DWORD version) {
  return version >= 0x00030000 ? sizeof(LINECALLINFO)
                               : offsetof(LINECALLINFO, dwCallerIDAddressType);
}

DWORD TotalSizeOf(const void* structure) {
  DWORD total;
  std::memcpy(&total, structure, sizeof total);
  return total;
}

// Zeroes the fixed part (as far as it fits) and returns the writer.
VarStructWriter StartStruct(void* structure, DWORD fixed) {
  VarStructWriter w(structure, fixed);
  const DWORD total = w.total_size();
  const DWORD end = std::min(total, fixed);
  if (end > VarStructWriter::kHeaderSize) {
    std::memset(static_cast<unsigned char*>(structure) + VarStructWriter::kHeaderSize, 0,
                end - VarStructWriter::kHeaderSize);
  }
  return w;
}

// "tapi/line\0\0": the device classes lineGetID answers.
void AppendDeviceClasses(VarStructWriter& w, size_t size_field, size_t offset_field) {
  static constexpr char16_t kClasses[] = u"tapi/line\0";
  w.AppendBytes(size_field, offset_field, kClasses, sizeof kClasses);
}

#define LB_SET(w, S, field, value) (w).SetDword(offsetof(S, field), static_cast<DWORD>(value))

// Forward modes that name a caller address: ForwardRule has no caller, so
// these are neither advertised nor accepted.
constexpr DWORD kSpecificForwardModes = LINEFORWARDMODE_UNCONDSPECIFIC |
                                        LINEFORWARDMODE_BUSYSPECIFIC |
                                        LINEFORWARDMODE_NOANSWSPECIFIC |
                                        LINEFORWARDMODE_BUSYNASPECIFIC;
constexpr DWORD kNoAnswerForwardModes =
    LINEFORWARDMODE_NOANSW | LINEFORWARDMODE_NOANSWINTERNAL | LINEFORWARDMODE_NOANSWEXTERNAL |
    LINEFORWARDMODE_BUSYNA | LINEFORWARDMODE_BUSYNAINTERNAL | LINEFORWARDMODE_BUSYNAEXTERNAL;
// dwMinFwdNumRings / dwMaxFwdNumRings; dwNumRingsNoAnswer is clamped to it.
constexpr DWORD kMinFwdRings = 1;
constexpr DWORD kMaxFwdRings = 15;
// LINEFORWARD is 8 DWORDs from TSPI 3.0 on, 6 before.
DWORD ForwardEntrySize(DWORD version) {
  return version >= 0x00030000 ? sizeof(LINEFORWARD)
                               : static_cast<DWORD>(offsetof(LINEFORWARD, dwCallerAddressType));
}

// TAPI's pre-scan of a dialable address (TSPI_lineDial/lineMakeCall: "the
// service provider should pre-scan the number for unsupported characters"
// and then dial nothing): 0 or the LINEERR. This provider advertises none of
// LINEDEVCAPFLAGS_DIALBILLING/DIALQUIET/DIALDIALTONE, so '$', '@', 'W' and
// '?' are refused with their own errors, ':' with DIALVOICEDETECT; anything
// outside the dialable number format is INVALADDRESS. What follows '|'
// (subaddress) or '^' (name) is free text.
LONG ScanDialable(const std::string& address) {
  for (char c : address) {
    if (c == '|' || c == '^') return 0;
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'D') || (c >= 'a' && c <= 'd')) continue;
    switch (c) {
      case '*': case '#': case ',': case '!': case 'P': case 'p': case 'T': case 't':
      case ';': case '+': case ' ': case '(': case ')': case '-': case '.': case '/':
      case '\r': case '\n':
        continue;
      case 'W': case 'w': return LINEERR_DIALDIALTONE;
      case '@': return LINEERR_DIALQUIET;
      case '$': return LINEERR_DIALBILLING;
      case '?': return LINEERR_DIALPROMPT;
      case ':': return LINEERR_DIALVOICEDETECT;
      default: return LINEERR_INVALADDRESS;
    }
  }
  return 0;
}

// Every LINEMEDIAMODE_* bit TAPI defines (UNKNOWN .. VIDEO).
constexpr DWORD kAllMediaModes = 0x0000FFFE;

// A failure that says nothing about the server's state (it may come back).
bool IsTransient(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnknown:
      return true;
    default:
      return false;
  }
}

LONG ErrOf(const absl::Status& status) {
  const uint32_t err = LineErrOf(status);
  return err == 0 ? LINEERR_OPERATIONFAILED : static_cast<LONG>(err);
}

}  // namespace

DWORD ImplementedCallFeatures() {
  return LINECALLFEATURE_ANSWER | LINECALLFEATURE_DROP | LINECALLFEATURE_HOLD |
         LINECALLFEATURE_UNHOLD | LINECALLFEATURE_ACCEPT | LINECALLFEATURE_DIAL |
         LINECALLFEATURE_REDIRECT | LINECALLFEATURE_BLINDTRANSFER |
         LINECALLFEATURE_SETUPTRANSFER | LINECALLFEATURE_COMPLETETRANSF |
         LINECALLFEATURE_SETUPCONF | LINECALLFEATURE_ADDTOCONF | LINECALLFEATURE_REMOVEFROMCONF |
         LINECALLFEATURE_GENERATEDIGITS | LINECALLFEATURE_MONITORDIGITS |
         LINECALLFEATURE_SETCALLDATA | LINECALLFEATURE_PARK | LINECALLFEATURE_PREPAREADDCONF;
}
// The LINEDIGITMODE_* bits lineGenerateDigits / lineMonitorDigits accept.
constexpr DWORD kGenerateDigitModes = LINEDIGITMODE_DTMF | LINEDIGITMODE_PULSE;
constexpr DWORD kMonitorDigitModes = LINEDIGITMODE_DTMF | LINEDIGITMODE_PULSE | LINEDIGITMODE_DTMFEND;
DWORD ImplementedAddressFeatures() {
  return LINEADDRFEATURE_MAKECALL | LINEADDRFEATURE_PICKUP | LINEADDRFEATURE_PICKUPDIRECT |
         LINEADDRFEATURE_PICKUPGROUP | LINEADDRFEATURE_UNPARK | LINEADDRFEATURE_FORWARD |
         LINEADDRFEATURE_FORWARDFWD;
}

RemoteProvider& RemoteProvider::Instance() {
  // Never destroyed: TAPISRV may call in while the library unloads.
  static RemoteProvider* provider = new RemoteProvider();
  return *provider;
}

CallOptions RemoteProvider::call_options() const {
  CallOptions o;
  o.deadline = absl::Milliseconds(config_.deadline_ms);
  return o;
}

// ============================================================================
// Provider lifecycle
// ============================================================================

void RemoteProvider::ResetLocked() {
  lines_.clear();
  created_devices_.clear();
  removed_devices_.clear();
  open_lines_ = HandleTable<OpenLine>();
  calls_ = HandleTable<CallEntry>();
  call_by_id_.clear();
  creating_.clear();
  pending_.clear();
  queue_.clear();
  server_connected_.clear();
  server_ever_connected_.clear();
  initialized_ = false;
  stopping_ = false;
  dispatcher_stop_ = false;
}

LONG RemoteProvider::EnumDevices(DWORD, LPDWORD num_lines, LPDWORD num_phones,
                                 HPROVIDER provider, LINEEVENT line_create_proc) {
  if (num_lines == nullptr || num_phones == nullptr) return LINEERR_INVALPOINTER;
  absl::StatusOr<TspConfig> config = LoadTspConfig();
  if (!config.ok()) {
    LogError(config.status().ToString());
    return LINEERR_OPERATIONFAILED;
  }
  ConfigureLog(*config);
  absl::StatusOr<DeviceMap> map = DeviceMap::Load(config->device_map);
  if (!map.ok()) {
    LogError(map.status().ToString());
    return LINEERR_OPERATIONFAILED;
  }
  {
    absl::MutexLock lock(&mu_);
    if (initialized_) return LINEERR_OPERATIONFAILED;  // providerShutdown first
  }
  // Static devices: the lines of every server that answers within
  // kEnumerationBound (asked in parallel), numbered by the device map.
  ServerLines listed = EnumerateServerLines(*config);
  absl::MutexLock lock(&mu_);
  if (initialized_) return LINEERR_OPERATIONFAILED;
  ResetLocked();
  config_ = *std::move(config);
  device_map_ = *std::move(map);
  // Two servers reporting the same server id are a configuration error
  // (server_identity.h): the second one's lines are left out, not merged.
  ServerIdentities identities;
  identities.Reset(config_.servers);
  std::erase_if(listed.lines, [&identities](const auto& entry) {
    return !identities.Accept(entry.first, entry.second.server_id());
  });
  for (const auto& [server, line] : listed.lines) device_map_->IndexOf(line.server_id(), line.id());
  enumerated_ = device_map_->size();
  hprovider_ = provider;
  line_create_proc_ = line_create_proc;
  lines_.resize(enumerated_);
  for (uint32_t i = 0; i < enumerated_; ++i) {
    lines_[i].line_id = device_map_->LineAt(i);
    lines_[i].server_id = device_map_->KeyAt(i).server_id;
  }
  for (const auto& [server, line] : listed.lines) {
    LineEntry& entry = lines_[device_map_->IndexOf(line.server_id(), line.id())];
    entry.info = line;
    entry.server = server;
    entry.present = true;
  }
  if (absl::Status saved = device_map_->Save(); !saved.ok()) LogError(saved.ToString());
  enum_client_ = std::move(listed.client);
  *num_lines = enumerated_;
  *num_phones = 0;
  return 0;
}

LONG RemoteProvider::Init(DWORD tspi_version, DWORD, DWORD line_device_id_base,
                          ASYNC_COMPLETION completion_proc, LPDWORD tspi_options) {
  if (tspi_version < kTspiVersionLow || tspi_version > kTspiVersionHigh) {
    return LINEERR_INCOMPATIBLEAPIVERSION;
  }
  if (completion_proc == nullptr) return LINEERR_INVALPOINTER;
  ClientOptions options;
  {
    absl::MutexLock lock(&mu_);
    if (initialized_ || !device_map_.has_value()) return LINEERR_OPERATIONFAILED;
    options.servers = config_.servers;
    options.client_name = config_.client_name;
    options.deadline = absl::Milliseconds(config_.deadline_ms);
    options.channel = ChannelOptionsFor(config_);  // TLS, bearer token
  }
  std::unique_ptr<Client> enum_client;
  {
    absl::MutexLock lock(&mu_);
    enum_client = std::move(enum_client_);
  }
  absl::StatusOr<std::unique_ptr<Client>> client = std::move(enum_client);
  if (*client == nullptr) client = Client::Create(std::move(options));
  if (!client.ok()) {
    LogError(client.status().ToString());
    return LINEERR_OPERATIONFAILED;
  }
  if (tspi_options != nullptr) *tspi_options = 0;  // re-entrant
  absl::MutexLock lock(&mu_);
  client_ = *std::move(client);
  tag_prefix_ = NewTagPrefix();
  completion_proc_ = completion_proc;
  line_base_ = line_device_id_base;
  for (uint32_t i = 0; i < enumerated_; ++i) {
    lines_[i].has_device = true;
    lines_[i].device_id = line_base_ + i;
  }
  server_connected_.assign(client_->num_servers(), false);
  server_ever_connected_.assign(client_->num_servers(), false);
  server_ids_.Reset(client_->options().servers);
  initialized_ = true;
  dispatcher_ = std::thread([this] { Dispatch(); });
  connector_ = std::thread([this] { ConnectLoop(); });
  return 0;
}

LONG RemoteProvider::Shutdown(DWORD, DWORD) {
  Client* network = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (!initialized_ || stopping_) return 0;
    stopping_ = true;
    network = client_.get();
  }
  // Bounded whatever the servers do (tsp_shutdown.h): the sessions are
  // closed if the servers answer within the budget, then every RPC still in
  // flight is cancelled, so the connector, the event streams' handlers and
  // the client's destruction below no longer wait on the network.
  if (network != nullptr) CloseSessionsWithin(*network, kShutdownCloseBudget);
  if (connector_.joinable()) connector_.join();
  std::unique_ptr<Subscription> subscription;
  {
    absl::MutexLock lock(&mu_);
    subscription = std::move(subscription_);
  }
  if (subscription) subscription->Stop();
  subscription.reset();
  {
    absl::MutexLock lock(&mu_);
    std::vector<DRV_REQUESTID> ids;
    for (const auto& [id, p] : pending_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (DRV_REQUESTID id : ids) CompleteLocked(id, LINEERR_OPERATIONFAILED);
    dispatcher_stop_ = true;
  }
  if (dispatcher_.joinable()) dispatcher_.join();  // delivers everything queued
  std::unique_ptr<Client> client;
  {
    absl::MutexLock lock(&mu_);
    client = std::move(client_);
  }
  // Its RPCs were cancelled above: this waits only for their callbacks, which
  // find nothing pending.
  client.reset();
  absl::MutexLock lock(&mu_);
  if (device_map_.has_value()) {
    absl::Status saved = device_map_->Save();
    if (!saved.ok()) LogError(saved.ToString());
  }
  ResetLocked();
  device_map_.reset();
  return 0;
}

LONG RemoteProvider::CreateLineDevice(DWORD_PTR temp_id, DWORD device_id) {
  absl::MutexLock lock(&mu_);
  if (!initialized_) return LINEERR_OPERATIONFAILED;
  if (temp_id >= lines_.size() || !lines_[temp_id].create_sent || lines_[temp_id].has_device) {
    return LINEERR_BADDEVICEID;
  }
  LineEntry& line = lines_[temp_id];
  line.has_device = true;
  line.device_id = device_id;
  created_devices_[device_id] = static_cast<uint32_t>(temp_id);
  return 0;
}

// ============================================================================
// Background: connection, events, dispatch
// ============================================================================

void RemoteProvider::ConnectLoop() {
  std::string reported;  // the last session error written to stderr
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    // A session on every server that answers; the event stream starts as
    // soon as one does (a server still down gets its session when its
    // stream reconnects, see OnStreamState).
    absl::Status started = client_->StartSession(call_options());
    bool any = false;
    for (size_t server = 0; server < client_->num_servers(); ++server) {
      any = any || !client_->session_id(server).empty();
    }
    if (started.ok() || any) break;
    // Said once per distinct error (not every retry): a refused credential
    // (UNAUTHENTICATED, e.g. a wrong or revoked token_file) or an unreachable
    // server. The lines stay unavailable meanwhile.
    if (started.ToString() != reported && !absl::IsCancelled(started)) {
      reported = started.ToString();
      LogWarning(absl::StrCat("no session yet (retrying): ", reported));
    }
    absl::MutexLock lock(&mu_);
    auto stop = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
    mu_.AwaitWithTimeout(absl::Condition(&stop), absl::Milliseconds(200));
    RunUnlocked(ExpireSessionWaitsLocked());
  }
  SubscribeOptions options;
  options.bind_session = true;
  options.snapshot = true;
  std::unique_ptr<Subscription> subscription = client_->Subscribe(
      options, [this](size_t server, const v1::EventBatch& batch) { OnEvents(server, batch); },
      [this](const StreamState& state) { OnStreamState(state); });
  absl::MutexLock lock(&mu_);
  subscription_ = std::move(subscription);
  // Maintenance until providerShutdown: retry opens that failed transiently.
  auto stop = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stop), absl::Milliseconds(50));
    if (!stopping_) MaintainLocked();
    RunUnlocked(ExpireSessionWaitsLocked());
  }
}

void RemoteProvider::MaintainLocked() {
  const absl::Time now = absl::Now();
  std::vector<uint32_t> due;
  open_lines_.ForEach([&](uint32_t id, OpenLine& open) {
    if (open.retry_at <= now && !open.open_in_flight &&
        server_connected_[lines_[open.index].server]) {
      due.push_back(id);
    }
  });
  for (uint32_t id : due) {
    open_lines_.Find(id)->retry_at = absl::InfiniteFuture();
    OpenOnServerLocked(id);
  }
}

void RemoteProvider::EnqueueLocked(Outgoing out) {
  if (dispatcher_stop_ || !initialized_) return;
  queue_.push_back(out);
}

void RemoteProvider::CompleteLocked(DRV_REQUESTID request_id, LONG result) {
  if (pending_.erase(request_id) == 0) return;  // completed already
  Outgoing out;
  out.kind = Outgoing::Kind::kCompletion;
  out.request_id = request_id;
  out.result = result;
  EnqueueLocked(out);
}

bool RemoteProvider::TakeLocked(Delivery* d) {
  while (!queue_.empty()) {
    *d = Delivery();
    d->item = queue_.front();
    queue_.pop_front();
    d->completion = completion_proc_;
    d->hprovider = hprovider_;
    switch (d->item.kind) {
      case Outgoing::Kind::kCompletion: return true;
      case Outgoing::Kind::kCreate:
      case Outgoing::Kind::kRemove: d->proc = line_create_proc_; return true;
      case Outgoing::Kind::kLineEvent: {
        OpenLine* open = open_lines_.Find(d->item.hd_line);
        if (open == nullptr) continue;
        d->proc = open->event_proc;
        d->ht_line = open->ht_line;
        return true;
      }
      case Outgoing::Kind::kCallEvent:
      case Outgoing::Kind::kNewCall: {
        CallEntry* call = calls_.Find(d->item.hd_call);
        if (call == nullptr) continue;
        OpenLine* open = open_lines_.Find(call->hd_line);
        if (open == nullptr) continue;
        if (d->item.kind == Outgoing::Kind::kCallEvent && call->ht_call == nullptr) continue;
        d->proc = open->event_proc;
        d->ht_line = open->ht_line;
        d->ht_call = call->ht_call;
        return true;
      }
    }
  }
  return false;
}

void RemoteProvider::Deliver(const Delivery& d) {
  const Outgoing& item = d.item;
  LINEEVENT proc = d.proc;
  switch (item.kind) {
    case Outgoing::Kind::kCompletion:
      if (d.completion != nullptr) d.completion(item.request_id, item.result);
      break;
    case Outgoing::Kind::kCreate:
      if (proc != nullptr) {
        proc(nullptr, nullptr, LINE_CREATE, reinterpret_cast<DWORD_PTR>(d.hprovider), item.p2, 0);
      }
      break;
    case Outgoing::Kind::kRemove:
      if (proc != nullptr) proc(nullptr, nullptr, LINE_REMOVE, item.p1, 0, 0);
      break;
    case Outgoing::Kind::kLineEvent:
    case Outgoing::Kind::kCallEvent:
      if (proc != nullptr) proc(d.ht_line, d.ht_call, item.msg, item.p1, item.p2, item.p3);
      break;
    case Outgoing::Kind::kNewCall: {
      HTAPICALL tapi_call = nullptr;
      if (proc != nullptr) {
        proc(d.ht_line, nullptr, LINE_NEWCALL, item.hd_call,
             reinterpret_cast<DWORD_PTR>(&tapi_call), 0);
      }
      absl::MutexLock lock(&mu_);
      CallEntry* call = calls_.Find(item.hd_call);
      if (call == nullptr) break;
      if (tapi_call == nullptr) {  // TAPI could not take the call: forget it
        call_by_id_.erase(call->call_id);
        calls_.Remove(item.hd_call);
      } else {
        call->ht_call = tapi_call;
      }
      break;
    }
  }
}

void RemoteProvider::DrainLocked() {
  if (draining_ || queue_.empty()) return;
  draining_ = true;
  Delivery d;
  while (TakeLocked(&d)) {
    mu_.Unlock();
    Deliver(d);
    mu_.Lock();
  }
  draining_ = false;
}

void RemoteProvider::Dispatch() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    // Whatever the threads that queued did not deliver themselves (a TSPI
    // function's thread never delivers; another drainer may be busy).
    auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return !draining_ && (!queue_.empty() || dispatcher_stop_);
    };
    mu_.Await(absl::Condition(&ready));
    if (queue_.empty()) return;  // stopping, everything delivered
    DrainLocked();
  }
}

void RemoteProvider::OnStreamState(const StreamState& state) {
  if (state.kind == StreamState::Kind::kReconnecting ||
      state.kind == StreamState::Kind::kConnected) {
    // A server that was down when the provider started has no session yet:
    // create it on the stream's own thread before it reconnects (retrying
    // until the server answers or providerShutdown), so the stream binds to
    // it and the server's lines can be opened. (Connected without one: the
    // server came up between the first attempts; create it now, the stream
    // binds to it at its next reconnect.)
    Client* client = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_ || client_ == nullptr) return;
      client = client_.get();
    }
    absl::Duration backoff = absl::Milliseconds(200);
    while (client->session_id(state.server).empty()) {
      if (client->StartSession(state.server, call_options()).ok()) break;
      if (state.kind == StreamState::Kind::kConnected) break;
      // Backoff doubling to 5 s, with jitter (half to all of it).
      const double jitter = 0.5 + static_cast<double>(absl::ToUnixNanos(absl::Now()) % 1000) / 2000;
      absl::MutexLock lock(&mu_);
      auto stop = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stop), backoff * jitter)) return;
      backoff = std::min(backoff * 2, absl::Seconds(5));
    }
    if (state.kind == StreamState::Kind::kReconnecting) return;
  }
  absl::MutexLock lock(&mu_);
  if (state.server >= server_connected_.size()) return;
  if (state.kind == StreamState::Kind::kConnected) {
    const bool reopen = !server_ever_connected_[state.server] || state.session_replaced ||
                        !server_connected_[state.server];
    server_connected_[state.server] = true;
    server_ever_connected_[state.server] = true;
    std::vector<uint32_t> handles;
    open_lines_.ForEach([&](uint32_t id, OpenLine&) { handles.push_back(id); });
    for (uint32_t id : handles) {
      OpenLine* open = open_lines_.Find(id);
      const LineEntry& line = lines_[open->index];
      if (line.server != state.server && line.present) continue;
      if (open->reported_out_of_service) {
        open->reported_out_of_service = false;
        LineDevStateLocked(id, LINEDEVSTATE_INSERVICE);
      }
      if (reopen) {
        open->applied_privilege = 0;
        OpenOnServerLocked(id);
      }
    }
  } else if (state.kind == StreamState::Kind::kDisconnected) {
    if (!server_connected_[state.server]) return;
    server_connected_[state.server] = false;
    std::vector<uint32_t> handles;
    open_lines_.ForEach([&](uint32_t id, OpenLine& open) {
      if (lines_[open.index].server == state.server && !open.reported_out_of_service) {
        handles.push_back(id);
      }
    });
    std::sort(handles.begin(), handles.end());
    for (uint32_t id : handles) {
      open_lines_.Find(id)->reported_out_of_service = true;
      LineDevStateLocked(id, LINEDEVSTATE_OUTOFSERVICE);
    }
  }
}

void RemoteProvider::LineDevStateLocked(uint32_t hd_line, DWORD state) {
  Outgoing out;
  out.kind = Outgoing::Kind::kLineEvent;
  out.hd_line = hd_line;
  out.msg = LINE_LINEDEVSTATE;
  out.p1 = state;
  EnqueueLocked(out);
}

void RemoteProvider::RegisterLineLocked(size_t server, const v1::Line& line) {
  // A line is (server id, line id); a second server reporting the same
  // server id is a configuration error, its lines are left out (logged).
  if (!server_ids_.Accept(server, line.server_id())) return;
  const uint32_t index = device_map_->IndexOf(line.server_id(), line.id());
  if (index >= lines_.size()) lines_.resize(index + 1);
  LineEntry& entry = lines_[index];
  if (entry.removed) {
    // Back after a LINE_REMOVE: a new TAPI device (the old id stays dead).
    entry.removed = false;
    entry.has_device = false;
    entry.create_sent = false;
    entry.info.reset();
  }
  const bool had_info = entry.info.has_value();
  entry.line_id = line.id();
  entry.server_id = line.server_id();
  entry.info = line;
  entry.server = server;
  entry.present = true;
  if (!entry.has_device && !entry.create_sent) {
    entry.create_sent = true;
    Outgoing out;
    out.kind = Outgoing::Kind::kCreate;
    out.p2 = index;  // the temporary id TAPI hands back to providerCreateLineDevice
    EnqueueLocked(out);
  } else if (!had_info && entry.hd_line != 0) {
    OpenOnServerLocked(entry.hd_line);  // if it waited for its server
    LineDevStateLocked(entry.hd_line, LINEDEVSTATE_CAPSCHANGE);
    // An open line of the device map becomes usable for the first time
    // (the provider started with its server down): in service now, as
    // after an outage.
    if (line.status().state() == v1::LINE_STATE_IN_SERVICE) {
      LineDevStateLocked(entry.hd_line, LINEDEVSTATE_INSERVICE);
    }
  }
  absl::Status saved = device_map_->Save();
  if (!saved.ok()) LogError(saved.ToString());
}

void RemoteProvider::RemoveLineLocked(LineEntry& line) {
  line.present = false;
  // TAPI closes the device on LINE_REMOVE (lineCloseCall for each call, then
  // lineClose); the calls end first, whatever the server said about them.
  if (line.hd_line != 0) {
    std::vector<uint32_t> calls;
    calls_.ForEach([&](uint32_t id, CallEntry& e) {
      if (e.hd_line == line.hd_line && !e.idle) calls.push_back(id);
    });
    std::sort(calls.begin(), calls.end());
    for (uint32_t id : calls) {
      v1::CallStatus idle;
      idle.set_state(v1::CALL_STATE_IDLE);
      CallEntry& entry = *calls_.Find(id);
      CallStateLocked(id, entry, idle, ToTapi(entry.call.info().media_mode()));
    }
  }
  if (line.has_device && !line.removed) {
    line.removed = true;
    removed_devices_.insert(line.device_id);
    Outgoing out;
    out.kind = Outgoing::Kind::kRemove;
    out.p1 = line.device_id;
    EnqueueLocked(out);
  }
}

uint32_t RemoteProvider::OpenHandleOfLineLocked(size_t server, const std::string& line_id) const {
  for (const LineEntry& line : lines_) {
    if (IsLineOf(line, server, line_id)) return line.hd_line;
  }
  return 0;
}

bool RemoteProvider::IsLineOf(const LineEntry& line, size_t server, const std::string& line_id) {
  return line.present && line.server == server && line.line_id == line_id;
}

CallOptions RemoteProvider::LineCallOptionsLocked(const LineEntry& line) const {
  CallOptions o = call_options();
  if (line.present) {
    o.server = line.server;
  } else if (std::optional<size_t> known = server_ids_.ServerOf(line.server_id)) {
    o.server = *known;  // a line of the device map whose server answered
  }
  return o;
}

void RemoteProvider::CallStateLocked(uint32_t hd_call, CallEntry& entry,
                                     const v1::CallStatus& status, DWORD media_mode) {
  if (entry.idle) return;  // nothing after IDLE
  const DWORD state = ToTapi(status.state());
  const DWORD mode = CallStateModeToTapi(status);
  if (state == 0 || (state == entry.reported_state && mode == entry.reported_mode)) return;
  entry.reported_state = state;
  entry.reported_mode = mode;
  Outgoing out;
  if (state == LINECALLSTATE_IDLE) {
    // Digit generation in progress ends with the call.
    for (DWORD end_to_end : entry.generating) {
      Outgoing gen;
      gen.kind = Outgoing::Kind::kCallEvent;
      gen.hd_call = hd_call;
      gen.msg = LINE_GENERATE;
      gen.p1 = LINEGENERATETERM_CANCEL;
      gen.p2 = end_to_end;
      if (entry.outbound_pending) entry.deferred.push_back(gen); else EnqueueLocked(gen);
    }
    entry.generating.clear();
    entry.idle = true;
  }
  out.kind = Outgoing::Kind::kCallEvent;
  out.hd_call = hd_call;
  out.msg = LINE_CALLSTATE;
  out.p1 = state;
  out.p2 = mode;
  out.p3 = media_mode;
  if (entry.outbound_pending) {
    entry.deferred.push_back(out);
  } else {
    EnqueueLocked(out);
  }
}

void RemoteProvider::ApplyCallLocked(size_t server, const v1::Call& call, bool created) {
  auto known = call_by_id_.find(call.id());
  if (known != call_by_id_.end()) {
    CallEntry* entry = calls_.Find(known->second);
    if (entry == nullptr) return;
    entry->call = call;
    entry->has_call = true;
    entry->seen_on_stream = true;
    CallStateLocked(known->second, *entry, call.status(), ToTapi(call.info().media_mode()));
    return;
  }
  if (!created) return;
  const uint32_t hd_line = OpenHandleOfLineLocked(server, call.info().line_id());
  if (hd_line == 0) return;  // not on a line TAPI has open
  // A call one of our requests created (its tag): bound to that handle now.
  if (BindTaggedCallLocked(server, call)) return;
  // A call TAPI does not know: LINE_NEWCALL, then its state.
  CallEntry entry;
  entry.hd_line = hd_line;
  entry.call_id = call.id();
  entry.call = call;
  entry.has_call = true;
  entry.seen_on_stream = true;
  const uint32_t hd_call = calls_.Add(std::move(entry));
  call_by_id_[call.id()] = hd_call;
  Outgoing out;
  out.kind = Outgoing::Kind::kNewCall;
  out.hd_call = hd_call;
  EnqueueLocked(out);
  CallStateLocked(hd_call, *calls_.Find(hd_call), call.status(),
                  ToTapi(call.info().media_mode()));
}

void RemoteProvider::OnEvents(size_t server, const v1::EventBatch& batch) {
  DrainingLock lock(this);
  if (!initialized_ || stopping_) return;
  if (batch.has_snapshot()) {
    absl::flat_hash_set<std::string> listed;
    for (const v1::Line& line : batch.snapshot().lines()) {
      listed.insert(line.id());
      RegisterLineLocked(server, line);
    }
    // Lines of this server that it no longer has were removed meanwhile.
    for (LineEntry& line : lines_) {
      if (line.present && line.server == server && !listed.contains(line.line_id)) {
        RemoveLineLocked(line);
      }
    }
    absl::flat_hash_map<std::string, bool> live;
    for (const v1::Call& call : batch.snapshot().calls()) {
      live[call.id()] = true;
      ApplyCallLocked(server, call, /*created=*/true);
    }
    // Calls of this server that the snapshot no longer has are gone (they
    // ended while we could not see it, e.g. the server restarted), unless
    // only a reply has named them so far: a call made after the snapshot
    // was taken is not in it, its call_created event follows it.
    std::vector<uint32_t> gone, unsure;
    calls_.ForEach([&](uint32_t id, CallEntry& e) {
      if (e.call_id.empty() || e.outbound_pending || e.idle || live.contains(e.call_id)) return;
      const OpenLine* o = open_lines_.Find(e.hd_line);
      if (o == nullptr || lines_[o->index].server != server) return;
      (e.seen_on_stream ? gone : unsure).push_back(id);
    });
    std::sort(gone.begin(), gone.end());
    for (uint32_t id : gone) EndVanishedCallLocked(id);
    if (!unsure.empty()) VerifyCallsLocked(server, unsure);
  }
  for (const v1::Event& event : batch.events()) ApplyEventLocked(server, event);
}

void RemoteProvider::EndVanishedCallLocked(uint32_t hd_call) {
  CallEntry* entry = calls_.Find(hd_call);
  if (entry == nullptr || entry->idle) return;
  const DWORD media = ToTapi(entry->call.info().media_mode());
  if (entry->reported_state != LINECALLSTATE_DISCONNECTED) {
    v1::CallStatus ended;
    ended.set_state(v1::CALL_STATE_DISCONNECTED);
    ended.set_disconnect_mode(v1::DISCONNECT_MODE_UNKNOWN);
    CallStateLocked(hd_call, *entry, ended, media);
  }
  v1::CallStatus idle;
  idle.set_state(v1::CALL_STATE_IDLE);
  CallStateLocked(hd_call, *entry, idle, media);
  entry->call.mutable_status()->set_state(v1::CALL_STATE_IDLE);
}

void RemoteProvider::VerifyCallsLocked(size_t server, const std::vector<uint32_t>& hd_calls) {
  CallOptions options = call_options();
  options.server = server;
  for (uint32_t hd_call : hd_calls) {
    const std::string call_id = calls_.Find(hd_call)->call_id;
    v1::GetCallRequest request;
    request.set_call_id(call_id);
    client_->GetCallAsync(
        std::move(request),
        [this, hd_call, call_id](absl::StatusOr<v1::Call> call) {
          DrainingLock lock(this);
          if (!initialized_ || stopping_) return;
          CallEntry* entry = calls_.Find(hd_call);
          // Closed, reused, or shown by the stream meanwhile: nothing to settle.
          if (entry == nullptr || entry->call_id != call_id || entry->seen_on_stream) return;
          // The server has it: made after the snapshot was taken, its events
          // follow on the stream in their order (applying the state read
          // here first would report them out of order). Anything but
          // NOT_FOUND (the server unreachable): the next snapshot asks again.
          if (absl::IsNotFound(call.status())) EndVanishedCallLocked(hd_call);
        },
        options);
  }
}

void RemoteProvider::ApplyEventLocked(size_t server, const v1::Event& event) {
  {
    switch (event.kind_case()) {
      case v1::Event::kLineCreated:
        RegisterLineLocked(server, event.line_created().line());
        break;
      case v1::Event::kLineRemoved: {
        for (LineEntry& line : lines_) {
          if (IsLineOf(line, server, event.line_removed().line_id())) RemoveLineLocked(line);
        }
        break;
      }
      case v1::Event::kLineState: {
        for (LineEntry& line : lines_) {
          if (!IsLineOf(line, server, event.line_id())) continue;
          if (line.info.has_value()) {
            *line.info->mutable_status() = event.line_state().status();
          }
          if (line.hd_line == 0) continue;
          switch (event.line_state().status().state()) {
            case v1::LINE_STATE_IN_SERVICE:
              LineDevStateLocked(line.hd_line, LINEDEVSTATE_INSERVICE);
              break;
            case v1::LINE_STATE_OUT_OF_SERVICE:
              LineDevStateLocked(line.hd_line, LINEDEVSTATE_OUTOFSERVICE);
              break;
            case v1::LINE_STATE_MAINTENANCE:
              LineDevStateLocked(line.hd_line, LINEDEVSTATE_MAINTENANCE);
              break;
            default: break;
          }
        }
        break;
      }
      case v1::Event::kAddressState: {
        for (LineEntry& line : lines_) {
          if (!IsLineOf(line, server, event.line_id())) continue;
          if (line.info.has_value()) {
            *line.info->mutable_status()->mutable_forwarding() =
                event.address_state().forwarding();
          }
          if (line.hd_line == 0) continue;
          Outgoing out;
          out.kind = Outgoing::Kind::kLineEvent;
          out.hd_line = line.hd_line;
          out.msg = LINE_ADDRESSSTATE;
          out.p1 = event.address_state().address_index();
          out.p2 = LINEADDRESSSTATE_FORWARD;
          EnqueueLocked(out);
        }
        break;
      }
      case v1::Event::kCallCreated:
        ApplyCallLocked(server, event.call_created().call(), /*created=*/true);
        break;
      case v1::Event::kCallState: {
        auto it = call_by_id_.find(event.call_state().call_id());
        if (it == call_by_id_.end()) break;
        CallEntry* entry = calls_.Find(it->second);
        if (entry == nullptr) break;
        entry->seen_on_stream = true;
        *entry->call.mutable_status() = event.call_state().status();
        CallStateLocked(it->second, *entry, event.call_state().status(),
                        ToTapi(event.call_state().media_mode()));
        break;
      }
      case v1::Event::kCallInfo: {
        auto it = call_by_id_.find(event.call_info().call_id());
        if (it == call_by_id_.end()) break;
        CallEntry* entry = calls_.Find(it->second);
        if (entry == nullptr || entry->idle) break;
        entry->seen_on_stream = true;
        *entry->call.mutable_info() = event.call_info().info();
        Outgoing out;
        out.kind = Outgoing::Kind::kCallEvent;
        out.hd_call = it->second;
        out.msg = LINE_CALLINFO;
        out.p1 = CallInfoStateBits(event.call_info());
        if (entry->outbound_pending) {
          entry->deferred.push_back(out);
        } else {
          EnqueueLocked(out);
        }
        break;
      }
      case v1::Event::kDigit:
      case v1::Event::kDigitsGenerated:
        DigitsEventLocked(event);
        break;
      default: break;
    }
  }
}

// ============================================================================
// Lines
// ============================================================================

std::optional<uint32_t> RemoteProvider::IndexOfDeviceLocked(DWORD device_id) const {
  if (!initialized_) return std::nullopt;
  std::optional<uint32_t> index;
  if (device_id >= line_base_ && device_id - line_base_ < enumerated_) {
    index = device_id - line_base_;
  } else if (auto it = created_devices_.find(device_id); it != created_devices_.end()) {
    index = it->second;
  }
  if (!index.has_value() || *index >= lines_.size() || lines_[*index].line_id.empty() ||
      lines_[*index].removed || removed_devices_.contains(device_id)) {
    return std::nullopt;
  }
  return index;
}

RemoteProvider::OpenLine* RemoteProvider::FindOpenLocked(HDRVLINE hd_line) {
  return open_lines_.Find(IdOf(hd_line));
}
RemoteProvider::CallEntry* RemoteProvider::FindCallLocked(HDRVCALL hd_call) {
  return calls_.Find(IdOf(hd_call));
}

LONG RemoteProvider::NegotiateTSPIVersion(DWORD device_id, DWORD low_version,
                                          DWORD high_version, LPDWORD tspi_version) {
  if (tspi_version == nullptr) return LINEERR_INVALPOINTER;
  if (device_id != kInitializeNegotiation) {
    absl::MutexLock lock(&mu_);
    if (!IndexOfDeviceLocked(device_id).has_value()) return LINEERR_BADDEVICEID;
  }
  if (low_version > high_version || low_version > kTspiVersionHigh ||
      high_version < kTspiVersionLow) {
    return LINEERR_INCOMPATIBLEAPIVERSION;
  }
  *tspi_version = std::min(high_version, kTspiVersionHigh);
  return 0;
}

LONG RemoteProvider::GetDevCaps(DWORD device_id, DWORD tspi_version, DWORD,
                                LPLINEDEVCAPS caps) {
  if (caps == nullptr) return LINEERR_INVALPOINTER;
  if (tspi_version < kTspiVersionLow || tspi_version > kTspiVersionHigh) {
    return LINEERR_INCOMPATIBLEAPIVERSION;
  }
  const DWORD fixed = MinDevCaps(tspi_version);
  if (TotalSizeOf(caps) < fixed) return LINEERR_STRUCTURETOOSMALL;
  absl::MutexLock lock(&mu_);
  std::optional<uint32_t> index = IndexOfDeviceLocked(device_id);
  if (!index.has_value()) return LINEERR_BADDEVICEID;
  const LineEntry& line = lines_[*index];
  const v1::Line info = line.info.value_or(v1::Line());
  const v1::LineCaps& lc = info.caps();
  VarStructWriter w = StartStruct(caps, fixed);
  w.AppendString(offsetof(LINEDEVCAPS, dwProviderInfoSize),
                 offsetof(LINEDEVCAPS, dwProviderInfoOffset),
                 lc.provider_info().empty() ? std::string("linebridge") : lc.provider_info());
  w.AppendString(offsetof(LINEDEVCAPS, dwSwitchInfoSize), offsetof(LINEDEVCAPS, dwSwitchInfoOffset),
                 line.line_id);
  // The server's permanent id is FNV-1a of the permanent line id: computed
  // here too, so it is known before the server answers and identical on
  // every workstation and across restarts.
  LB_SET(w, LINEDEVCAPS, dwPermanentLineID, PermanentLineIdOf(line.server_id, line.line_id));
  w.AppendString(offsetof(LINEDEVCAPS, dwLineNameSize), offsetof(LINEDEVCAPS, dwLineNameOffset),
                 info.name().empty() ? line.line_id : info.name());
  LB_SET(w, LINEDEVCAPS, dwStringFormat, STRINGFORMAT_UNICODE);
  LB_SET(w, LINEDEVCAPS, dwAddressModes, LINEADDRESSMODE_ADDRESSID);
  LB_SET(w, LINEDEVCAPS, dwNumAddresses, std::max(1, info.addresses_size()));
  LB_SET(w, LINEDEVCAPS, dwBearerModes,
         lc.bearer_modes_size() > 0 ? ToTapiMask<v1::BearerMode>(lc.bearer_modes()) : LINEBEARERMODE_VOICE);
  LB_SET(w, LINEDEVCAPS, dwMaxRate, lc.max_data_rate());
  LB_SET(w, LINEDEVCAPS, dwMediaModes,
         lc.media_modes_size() > 0 ? ToTapiMask<v1::MediaMode>(lc.media_modes())
                                   : LINEMEDIAMODE_INTERACTIVEVOICE);
  // Digits: what the line can do and this provider implements; tones and
  // media control are not implemented (0).
  LB_SET(w, LINEDEVCAPS, dwGenerateDigitModes,
         ToTapiMask<v1::DigitMode>(lc.generate_digit_modes()) & kGenerateDigitModes);
  LB_SET(w, LINEDEVCAPS, dwMonitorDigitModes,
         ToTapiMask<v1::DigitMode>(lc.monitor_digit_modes()) & kMonitorDigitModes);
  LB_SET(w, LINEDEVCAPS, dwMaxNumActiveCalls, lc.max_num_active_calls());
  LB_SET(w, LINEDEVCAPS, dwAnswerMode, lc.answer_mode() != 0 ? lc.answer_mode() : LINEANSWERMODE_NONE);
  LB_SET(w, LINEDEVCAPS, dwRingModes, 1);
  // lineClose drops the calls this provider's session is the only owner of
  // (the server's drop-no-owner rule; lineCloseCall drops owned calls too).
  LB_SET(w, LINEDEVCAPS, dwDevCapFlags, LINEDEVCAPFLAGS_CLOSEDROP);
  LB_SET(w, LINEDEVCAPS, dwLineStates,
         LINEDEVSTATE_INSERVICE | LINEDEVSTATE_OUTOFSERVICE | LINEDEVSTATE_MAINTENANCE |
             LINEDEVSTATE_CAPSCHANGE | LINEDEVSTATE_REMOVED);
  LB_SET(w, LINEDEVCAPS, dwLineFeatures, line.info.has_value() ? LINEFEATURE_MAKECALL : 0);
  AppendDeviceClasses(w, offsetof(LINEDEVCAPS, dwDeviceClassesSize),
                      offsetof(LINEDEVCAPS, dwDeviceClassesOffset));
  if (tspi_version >= 0x00030000) {
    LB_SET(w, LINEDEVCAPS, dwAddressTypes, LINEADDRESSTYPE_PHONENUMBER);
  }
  w.Finish();
  return 0;
}

LONG RemoteProvider::GetAddressCaps(DWORD device_id, DWORD address_id, DWORD tspi_version,
                                    DWORD, LPLINEADDRESSCAPS caps) {
  if (caps == nullptr) return LINEERR_INVALPOINTER;
  if (tspi_version < kTspiVersionLow || tspi_version > kTspiVersionHigh) {
    return LINEERR_INCOMPATIBLEAPIVERSION;
  }
  if (TotalSizeOf(caps) < sizeof(LINEADDRESSCAPS)) return LINEERR_STRUCTURETOOSMALL;
  absl::MutexLock lock(&mu_);
  std::optional<uint32_t> index = IndexOfDeviceLocked(device_id);
  if (!index.has_value()) return LINEERR_BADDEVICEID;
  const LineEntry& line = lines_[*index];
  const v1::Line info = line.info.value_or(v1::Line());
  if (address_id >= static_cast<DWORD>(std::max(1, info.addresses_size()))) {
    return LINEERR_INVALADDRESSID;
  }
  const v1::Address address =
      address_id < static_cast<DWORD>(info.addresses_size()) ? info.addresses(address_id)
                                                             : v1::Address();
  const v1::AddressCaps& ac = address.caps();
  VarStructWriter w = StartStruct(caps, sizeof(LINEADDRESSCAPS));
  LB_SET(w, LINEADDRESSCAPS, dwLineDeviceID, device_id);
  w.AppendString(offsetof(LINEADDRESSCAPS, dwAddressSize),
                 offsetof(LINEADDRESSCAPS, dwAddressOffset), address.address());
  LB_SET(w, LINEADDRESSCAPS, dwAddressSharing, LINEADDRESSSHARING_PRIVATE);
  LB_SET(w, LINEADDRESSCAPS, dwCallInfoStates, kReportedCallInfoStates);
  const DWORD party = kPartyIdFlags;
  LB_SET(w, LINEADDRESSCAPS, dwCallerIDFlags, ac.caller_id_supported() ? party : LINECALLPARTYID_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwCalledIDFlags, ac.called_id_supported() ? party : LINECALLPARTYID_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwConnectedIDFlags,
         ac.connected_id_supported() ? party : LINECALLPARTYID_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwRedirectionIDFlags, LINECALLPARTYID_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwRedirectingIDFlags,
         ac.redirecting_id_supported() ? party : LINECALLPARTYID_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwCallStates, ToTapiMask<v1::CallState>(ac.call_states()) | LINECALLSTATE_IDLE);
  LB_SET(w, LINEADDRESSCAPS, dwDialToneModes, LINEDIALTONEMODE_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwBusyModes, LINEBUSYMODE_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwSpecialInfo, LINESPECIALINFO_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwDisconnectModes, ToTapiMask<v1::DisconnectMode>(ac.disconnect_modes()));
  LB_SET(w, LINEADDRESSCAPS, dwMaxNumActiveCalls, ac.max_num_active_calls());
  LB_SET(w, LINEADDRESSCAPS, dwMaxNumOnHoldCalls, ac.max_num_on_hold_calls());
  // Transfer and conference as the line can; park, forward, completion: not
  // in this slice (0).
  const DWORD call_features =
      ToTapiMask<v1::CallFeature>(ac.call_features()) & ImplementedCallFeatures();
  if (call_features & LINECALLFEATURE_COMPLETETRANSF) {
    LB_SET(w, LINEADDRESSCAPS, dwTransferModes,
           ToTapiMask<v1::TransferMode>(info.caps().transfer_modes()) &
               (LINETRANSFERMODE_TRANSFER | LINETRANSFERMODE_CONFERENCE));
  }
  if (call_features & (LINECALLFEATURE_SETUPCONF | LINECALLFEATURE_ADDTOCONF)) {
    LB_SET(w, LINEADDRESSCAPS, dwMaxNumConference, ac.max_num_conference());
    LB_SET(w, LINEADDRESSCAPS, dwMaxNumTransConf, ac.max_num_trans_conf());
  }
  const DWORD address_features =
      ToTapiMask<v1::AddressFeature>(ac.address_features()) & ImplementedAddressFeatures();
  if (address_features & LINEADDRFEATURE_FORWARD) {
    LB_SET(w, LINEADDRESSCAPS, dwForwardModes,
           ToTapiMask<v1::ForwardMode>(info.caps().forward_modes()) & ~kSpecificForwardModes);
    LB_SET(w, LINEADDRESSCAPS, dwMaxForwardEntries, ac.max_forward_entries());
    LB_SET(w, LINEADDRESSCAPS, dwMinFwdNumRings, kMinFwdRings);
    LB_SET(w, LINEADDRESSCAPS, dwMaxFwdNumRings, kMaxFwdRings);
  }
  if (call_features & LINECALLFEATURE_PARK) {
    LB_SET(w, LINEADDRESSCAPS, dwParkModes, ToTapiMask<v1::ParkMode>(info.caps().park_modes()));
  }
  LB_SET(w, LINEADDRESSCAPS, dwMaxNumOnHoldPendingCalls, ac.max_num_on_hold_pending_calls());
  LB_SET(w, LINEADDRESSCAPS, dwCallFeatures, ToTapiMask<v1::CallFeature>(ac.call_features()) & ImplementedCallFeatures());
  LB_SET(w, LINEADDRESSCAPS, dwAddressFeatures,
         ToTapiMask<v1::AddressFeature>(ac.address_features()) & ImplementedAddressFeatures());
  AppendDeviceClasses(w, offsetof(LINEADDRESSCAPS, dwDeviceClassesSize),
                      offsetof(LINEADDRESSCAPS, dwDeviceClassesOffset));
  LB_SET(w, LINEADDRESSCAPS, dwConnectedModes, LINECONNECTEDMODE_ACTIVE);
  LB_SET(w, LINEADDRESSCAPS, dwOfferingModes, LINEOFFERINGMODE_ACTIVE);
  LB_SET(w, LINEADDRESSCAPS, dwAvailableMediaModes,
         info.caps().media_modes_size() > 0 ? ToTapiMask<v1::MediaMode>(info.caps().media_modes())
                                            : LINEMEDIAMODE_INTERACTIVEVOICE);
  w.Finish();
  return 0;
}

LONG RemoteProvider::GetLineDevStatus(HDRVLINE hd_line, LPLINEDEVSTATUS status) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if (status == nullptr) return LINEERR_INVALPOINTER;
  if (TotalSizeOf(status) < sizeof(LINEDEVSTATUS)) return LINEERR_STRUCTURETOOSMALL;
  const LineEntry& line = lines_[open->index];
  const v1::LineStatus s = line.info.has_value() ? line.info->status() : v1::LineStatus();
  const bool in_service = line.present && server_connected_[line.server] &&
                          s.state() == v1::LINE_STATE_IN_SERVICE;
  VarStructWriter w = StartStruct(status, sizeof(LINEDEVSTATUS));
  LB_SET(w, LINEDEVSTATUS, dwNumOpens, 1);
  LB_SET(w, LINEDEVSTATUS, dwOpenMediaModes, open->applied_privilege != 0 ? open->applied_media : 0);
  LB_SET(w, LINEDEVSTATUS, dwNumActiveCalls, s.num_active_calls());
  LB_SET(w, LINEDEVSTATUS, dwNumOnHoldCalls, s.num_on_hold_calls());
  LB_SET(w, LINEDEVSTATUS, dwNumOnHoldPendCalls, s.num_on_hold_pending_calls());
  LB_SET(w, LINEDEVSTATUS, dwLineFeatures, in_service ? LINEFEATURE_MAKECALL : 0);
  LB_SET(w, LINEDEVSTATUS, dwRoamMode, LINEROAMMODE_UNAVAIL);
  LB_SET(w, LINEDEVSTATUS, dwDevStatusFlags,
         (in_service ? LINEDEVSTATUSFLAGS_INSERVICE : 0) |
             (server_connected_[line.server] && s.connected() ? LINEDEVSTATUSFLAGS_CONNECTED : 0));
  LB_SET(w, LINEDEVSTATUS, dwAvailableMediaModes,
         line.info.has_value() ? ToTapiMask<v1::MediaMode>(line.info->caps().media_modes()) : 0);
  w.Finish();
  return 0;
}

LONG RemoteProvider::GetAddressStatus(HDRVLINE hd_line, DWORD address_id,
                                      LPLINEADDRESSSTATUS status) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  const LineEntry& line = lines_[open->index];
  const int num_addresses = line.info.has_value() ? std::max(1, line.info->addresses_size()) : 1;
  if (address_id >= static_cast<DWORD>(num_addresses)) return LINEERR_INVALADDRESSID;
  if (status == nullptr) return LINEERR_INVALPOINTER;
  if (TotalSizeOf(status) < sizeof(LINEADDRESSSTATUS)) return LINEERR_STRUCTURETOOSMALL;
  const v1::LineStatus s = line.info.has_value() ? line.info->status() : v1::LineStatus();
  const bool in_service = line.present && server_connected_[line.server] &&
                          s.state() == v1::LINE_STATE_IN_SERVICE;
  VarStructWriter w = StartStruct(status, sizeof(LINEADDRESSSTATUS));
  LB_SET(w, LINEADDRESSSTATUS, dwNumInUse, s.num_active_calls() + s.num_on_hold_calls() > 0 ? 1 : 0);
  LB_SET(w, LINEADDRESSSTATUS, dwNumActiveCalls, s.num_active_calls());
  LB_SET(w, LINEADDRESSSTATUS, dwNumOnHoldCalls, s.num_on_hold_calls());
  LB_SET(w, LINEADDRESSSTATUS, dwNumOnHoldPendCalls, s.num_on_hold_pending_calls());
  LB_SET(w, LINEADDRESSSTATUS, dwAddressFeatures, in_service ? ImplementedAddressFeatures() : 0);
  // Forwarding in effect: LINEFORWARD entries, then their destinations.
  LB_SET(w, LINEADDRESSSTATUS, dwForwardNumEntries, s.forwarding_size());
  if (s.forwarding_size() > 0) {
    const DWORD stride = ForwardEntrySize(open->version);
    const uint32_t start = w.needed();
    std::vector<unsigned char> blob(stride * s.forwarding_size(), 0);
    for (int i = 0; i < s.forwarding_size(); ++i) {
      const v1::ForwardRule& rule = s.forwarding(i);
      std::u16string dest = Utf8ToUtf16(rule.destination());
      dest.push_back(u'\0');
      const DWORD entry[6] = {ToTapi(rule.mode()), 0, 0, 0,
                              static_cast<DWORD>(dest.size() * sizeof(char16_t)),
                              static_cast<DWORD>(start + blob.size())};
      std::memcpy(blob.data() + i * stride, entry, sizeof entry);
      const auto* bytes = reinterpret_cast<const unsigned char*>(dest.data());
      blob.insert(blob.end(), bytes, bytes + dest.size() * sizeof(char16_t));
    }
    w.AppendBytes(offsetof(LINEADDRESSSTATUS, dwForwardSize),
                  offsetof(LINEADDRESSSTATUS, dwForwardOffset), blob.data(), blob.size());
  }
  w.Finish();
  return 0;
}

LONG RemoteProvider::GetNumAddressIDs(HDRVLINE hd_line, LPDWORD num_address_ids) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if (num_address_ids == nullptr) return LINEERR_INVALPOINTER;
  const LineEntry& line = lines_[open->index];
  *num_address_ids = line.info.has_value() ? std::max(1, line.info->addresses_size()) : 1;
  return 0;
}

LONG RemoteProvider::GetID(HDRVLINE hd_line, DWORD address_id, HDRVCALL hd_call, DWORD select,
                           LPVARSTRING device_id, LPCWSTR device_class) {
  absl::MutexLock lock(&mu_);
  uint32_t index = 0;
  if (select == LINECALLSELECT_CALL) {
    CallEntry* call = FindCallLocked(hd_call);
    if (call == nullptr) return LINEERR_INVALCALLHANDLE;
    OpenLine* open = open_lines_.Find(call->hd_line);
    if (open == nullptr) return LINEERR_INVALCALLHANDLE;
    index = open->index;
  } else if (select == LINECALLSELECT_LINE || select == LINECALLSELECT_ADDRESS) {
    OpenLine* open = FindOpenLocked(hd_line);
    if (open == nullptr) return LINEERR_INVALLINEHANDLE;
    index = open->index;
    if (select == LINECALLSELECT_ADDRESS) {
      const LineEntry& line = lines_[index];
      const int n = line.info.has_value() ? std::max(1, line.info->addresses_size()) : 1;
      if (address_id >= static_cast<DWORD>(n)) return LINEERR_INVALADDRESSID;
    }
  } else {
    return LINEERR_INVALPARAM;
  }
  if (device_id == nullptr || device_class == nullptr) return LINEERR_INVALPOINTER;
  if (absl::AsciiStrToLower(Utf16ToUtf8(device_class, 256)) != "tapi/line") {
    return LINEERR_INVALDEVICECLASS;
  }
  if (TotalSizeOf(device_id) < sizeof(VARSTRING)) return LINEERR_STRUCTURETOOSMALL;
  const DWORD id = lines_[index].device_id;
  VarStructWriter w = StartStruct(device_id, sizeof(VARSTRING));
  LB_SET(w, VARSTRING, dwStringFormat, STRINGFORMAT_BINARY);
  w.AppendBytes(offsetof(VARSTRING, dwStringSize), offsetof(VARSTRING, dwStringOffset), &id,
                sizeof id);
  w.Finish();
  return 0;
}

LONG RemoteProvider::Open(DWORD device_id, HTAPILINE ht_line, LPHDRVLINE hd_line,
                          DWORD tspi_version, LINEEVENT event_proc) {
  if (hd_line == nullptr || event_proc == nullptr) return LINEERR_INVALPOINTER;
  absl::MutexLock lock(&mu_);
  std::optional<uint32_t> index = IndexOfDeviceLocked(device_id);
  if (!index.has_value()) return LINEERR_BADDEVICEID;
  if (tspi_version < kTspiVersionLow || tspi_version > kTspiVersionHigh) {
    return LINEERR_INCOMPATIBLEAPIVERSION;
  }
  LineEntry& line = lines_[*index];
  if (line.hd_line != 0) return LINEERR_ALLOCATED;
  OpenLine open;
  open.index = *index;
  open.ht_line = ht_line;
  open.event_proc = event_proc;
  open.version = tspi_version;
  const uint32_t id = open_lines_.Add(std::move(open));
  line.hd_line = id;
  *hd_line = HandleOf<HDRVLINE>(id);
  OpenOnServerLocked(id);  // asynchronous; no network wait here
  return 0;
}

void RemoteProvider::OpenOnServerLocked(uint32_t hd_line) {
  OpenLine* open = open_lines_.Find(hd_line);
  if (open != nullptr && !EndSessionWaitLocked(*open)) return;
  if (open == nullptr || open->open_in_flight || client_ == nullptr) return;
  const int want = open->media_modes != 0 ? v1::PRIVILEGE_OWNER : v1::PRIVILEGE_MONITOR;
  if (open->applied_privilege == want && open->applied_media == open->media_modes) return;
  const LineEntry& line = lines_[open->index];
  // No session on the line's server yet (lineOpen right after providerInit on
  // a line of the device map, or the server is unreachable): the server would
  // refuse the open (no session), and that refusal would drop the media
  // modes. OnStreamState opens every open line of a server once its stream
  // is up.
  if (!ReachableLocked(line)) {
    StartSessionWaitLocked(*open);  // before the first session: requests wait for it
    return;
  }
  if (line.closes_in_flight > 0) {
    open->open_in_flight = true;  // requests queue behind it
    open->waiting_for_close = true;
    return;
  }
  v1::OpenLineRequest request;
  request.set_line_id(line.line_id);
  request.set_privilege(static_cast<v1::Privilege>(want));
  const DWORD media = open->media_modes;
  for (int m = 1; m < 32; ++m) {
    if (media & (DWORD{1} << m)) request.add_media_modes(static_cast<v1::MediaMode>(m));
  }
  open->open_in_flight = true;
  client_->OpenLineAsync(
      std::move(request),
      [this, hd_line, index = open->index, want, media](
          absl::StatusOr<v1::OpenLineResponse> response) {
        std::vector<absl::AnyInvocable<void()>> waiters;
        {
          absl::MutexLock lock(&mu_);
          if (stopping_) return;
          OpenLine* o = open_lines_.Find(hd_line);
          if (o == nullptr) {
            // lineClose came while this open was on its way: the close it
            // held back goes out now (the server may have applied the open).
            ClosedWhileOpeningLocked(index, response.ok());
            return;
          }
          o->open_in_flight = false;
          if (response.ok()) {
            o->applied_privilege = want;
            o->applied_media = media;
            o->retry_at = absl::InfiniteFuture();
            o->retry_backoff = absl::ZeroDuration();
            // The response's Line is older than what the event stream may
            // have told us since (e.g. forwarding set meanwhile): only a line
            // the stream has not described yet is taken from it.
            if (!lines_[o->index].info.has_value()) {
              RegisterLineLocked(lines_[o->index].server, response->line());
            }
            OpenOnServerLocked(hd_line);  // the wish may have changed meanwhile
          } else if (IsTransient(response.status())) {
            // Unknown whether the server applied it: open again (Maintain,
            // with backoff; at once when the stream reconnects).
            o->applied_privilege = 0;
            o->retry_backoff = std::clamp(o->retry_backoff * 2, absl::Milliseconds(200),
                                          absl::Seconds(5));
            o->retry_at = absl::Now() + o->retry_backoff;
          } else {
            // The server refused (its state is unchanged): TAPI's media
            // detection falls back to what the server applied, so
            // lineGetLineDevStatus stays truthful and nothing retries a refusal.
            LogWarning(absl::StrCat("opening ", lines_[o->index].line_id, ": ",
                                    response.status().ToString()));
            o->media_modes = o->applied_privilege != 0 ? o->applied_media : 0;
          }
          if (!o->open_in_flight) waiters.swap(o->after_open);
        }
        // Requests that waited for the open (they fail on the server if it failed).
        for (auto& waiter : waiters) waiter();
      },
      LineCallOptionsLocked(line));
}

LONG RemoteProvider::SetDefaultMediaDetection(HDRVLINE hd_line, DWORD media_modes) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if ((media_modes & ~kAllMediaModes) != 0) return LINEERR_INVALMEDIAMODE;
  const LineEntry& line = lines_[open->index];
  if (line.info.has_value() && media_modes != 0) {
    const DWORD supported = ToTapiMask<v1::MediaMode>(line.info->caps().media_modes());
    if ((media_modes & ~supported) != 0) return LINEERR_INVALMEDIAMODE;
  }
  // Recorded now, applied on the server in the background (OWNER with these
  // media modes, MONITOR for none); never a wait on the network here.
  // lineGetLineDevStatus reports the media modes once the server applied them.
  open->media_modes = media_modes;
  open->retry_backoff = absl::ZeroDuration();
  OpenOnServerLocked(IdOf(hd_line));
  return 0;
}

LONG RemoteProvider::SetStatusMessages(HDRVLINE hd_line, DWORD, DWORD) {
  absl::MutexLock lock(&mu_);
  return FindOpenLocked(hd_line) == nullptr ? LINEERR_INVALLINEHANDLE : 0;
}

// ============================================================================
// Calls
// ============================================================================

LONG RemoteProvider::MakeCall(DRV_REQUESTID request_id, HDRVLINE hd_line, HTAPICALL ht_call,
                              LPHDRVCALL hd_call, LPCWSTR dest_address, DWORD,
                              const LINECALLPARAMS* params) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if (hd_call == nullptr) return LINEERR_INVALPOINTER;
  if (client_ == nullptr || stopping_) return LINEERR_OPERATIONFAILED;
  if (pending_.contains(request_id)) return LINEERR_OPERATIONFAILED;
  const LineEntry& line = lines_[open->index];
  v1::MakeCallRequest request;
  request.set_line_id(line.line_id);
  if (dest_address != nullptr) {
    request.set_destination(Utf16ToUtf8(dest_address, 1024));
    if (LONG err = ScanDialable(request.destination()); err != 0) return err;
  }
  if (params != nullptr) {
    if (params->dwTotalSize < offsetof(LINECALLPARAMS, DialParams)) return LINEERR_STRUCTURETOOSMALL;
    if (params->dwAddressMode == LINEADDRESSMODE_ADDRESSID) {
      const int n = line.info.has_value() ? std::max(1, line.info->addresses_size()) : 1;
      if (params->dwAddressID >= static_cast<DWORD>(n)) return LINEERR_INVALADDRESSID;
      request.set_address_index(params->dwAddressID);
    }
    if (auto media = FromTapi<v1::MediaMode>(params->dwMediaMode)) {
      request.mutable_params()->set_media_mode(*media);
    }
    if (auto bearer = FromTapi<v1::BearerMode>(params->dwBearerMode)) {
      request.mutable_params()->set_bearer_mode(*bearer);
    }
  }
  Client* client = client_.get();
  return CreateCallsLocked(
      request_id, IdOf(hd_line), 0, {NewCall{ht_call, hd_call}},
      [client, options = LineCallOptionsLocked(line), request = std::move(request)](
          std::string tag, absl::AnyInvocable<void(CreatedCalls)> done) mutable {
        request.set_tag(std::move(tag));
        client->MakeCallAsync(std::move(request), OneCreatedCall(std::move(done)), options);
      });
}

void RemoteProvider::SendWhenOpenLocked(uint32_t hd_line, absl::AnyInvocable<void()> send,
                                        absl::AnyInvocable<void()> fail) {
  // The line must be open on the server first (lineOpen opened it in the
  // background). If that open failed (e.g. it timed out), open it again; while
  // an open is in flight, send right after it (it fails on the server if the
  // open failed, and completes with that error).
  OpenLine* open = open_lines_.Find(hd_line);
  if (open != nullptr && !open->open_in_flight && open->applied_privilege == 0) {
    OpenOnServerLocked(hd_line);
  }
  if (open != nullptr && open->open_in_flight) {
    QueueAfterOpenLocked(*open, std::move(send), std::move(fail));
  } else {
    send();
  }
}

LONG RemoteProvider::CallAction(DRV_REQUESTID request_id, HDRVCALL hd_call, Action action) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = FindCallLocked(hd_call);
  if (entry == nullptr) return LINEERR_INVALCALLHANDLE;
  if (client_ == nullptr || stopping_) return LINEERR_OPERATIONFAILED;
  if (entry->call_id.empty() || entry->idle) return LINEERR_INVALCALLSTATE;
  if (pending_.contains(request_id)) return LINEERR_OPERATIONFAILED;
  pending_[request_id] = Pending{IdOf(hd_call)};
  v1::CallActionRequest request;
  request.set_call_id(entry->call_id);
  auto done = [this, request_id](absl::StatusOr<v1::Call> call) {
    DrainingLock done_lock(this);
    CompleteLocked(request_id, call.ok() ? 0 : ErrOf(call.status()));
  };
  if (action == Action::kAnswer || action == Action::kAccept) {
    // Once this session owns the call on the server (DESIGN.md 12).
    Client* client = client_.get();
    SendWhenOwnerLocked(
        entry->hd_line,
        [this, client, action, request = std::move(request), done = std::move(done)]() mutable {
          if (action == Action::kAnswer) {
            client->AnswerAsync(std::move(request), std::move(done), call_options());
          } else {
            client->AcceptAsync(std::move(request), std::move(done), call_options());
          }
        },
        [this, request_id] {
          DrainingLock fail_lock(this);
          CompleteLocked(request_id, LINEERR_OPERATIONFAILED);
        });
    return static_cast<LONG>(request_id);
  }
  switch (action) {
    case Action::kAnswer: client_->AnswerAsync(std::move(request), std::move(done), call_options()); break;
    case Action::kDrop: client_->DropAsync(std::move(request), std::move(done), call_options()); break;
    case Action::kHold: client_->HoldAsync(std::move(request), std::move(done), call_options()); break;
    case Action::kUnhold: client_->UnholdAsync(std::move(request), std::move(done), call_options()); break;
    case Action::kAccept: client_->AcceptAsync(std::move(request), std::move(done), call_options()); break;
    case Action::kRemoveFromConference:
      client_->RemoveFromConferenceAsync(std::move(request), std::move(done), call_options());
      break;
  }
  return static_cast<LONG>(request_id);
}

LONG RemoteProvider::Answer(DRV_REQUESTID request_id, HDRVCALL hd_call) {
  return CallAction(request_id, hd_call, Action::kAnswer);
}
LONG RemoteProvider::Drop(DRV_REQUESTID request_id, HDRVCALL hd_call) {
  return CallAction(request_id, hd_call, Action::kDrop);
}
LONG RemoteProvider::Hold(DRV_REQUESTID request_id, HDRVCALL hd_call) {
  return CallAction(request_id, hd_call, Action::kHold);
}
LONG RemoteProvider::Unhold(DRV_REQUESTID request_id, HDRVCALL hd_call) {
  return CallAction(request_id, hd_call, Action::kUnhold);
}

LONG RemoteProvider::GetCallInfo(HDRVCALL hd_call, LPLINECALLINFO info) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = FindCallLocked(hd_call);
  if (entry == nullptr) return LINEERR_INVALCALLHANDLE;
  if (info == nullptr) return LINEERR_INVALPOINTER;
  OpenLine* open = open_lines_.Find(entry->hd_line);
  if (open == nullptr) return LINEERR_INVALCALLHANDLE;
  const DWORD fixed = MinCallInfo(open->version);
  if (TotalSizeOf(info) < fixed) return LINEERR_STRUCTURETOOSMALL;
  const LineEntry& line = lines_[open->index];
  const v1::CallInfo& ci = entry->call.info();
  VarStructWriter w = StartStruct(info, fixed);
  LB_SET(w, LINECALLINFO, dwLineDeviceID, line.device_id);
  LB_SET(w, LINECALLINFO, dwAddressID, ci.address_index());
  LB_SET(w, LINECALLINFO, dwBearerMode, ci.bearer_mode() != 0 ? ToTapi(ci.bearer_mode()) : LINEBEARERMODE_VOICE);
  LB_SET(w, LINECALLINFO, dwMediaMode,
         ci.media_mode() != 0 ? ToTapi(ci.media_mode()) : LINEMEDIAMODE_INTERACTIVEVOICE);
  if (ci.app_specific().size() == sizeof(DWORD)) {
    DWORD app;
    std::memcpy(&app, ci.app_specific().data(), sizeof app);
    LB_SET(w, LINECALLINFO, dwAppSpecific, app);
  }
  LB_SET(w, LINECALLINFO, dwCallID, static_cast<DWORD>(ci.call_id()));
  LB_SET(w, LINECALLINFO, dwRelatedCallID, static_cast<DWORD>(ci.related_call_id()));
  if (line.info.has_value() && ci.address_index() < static_cast<uint32_t>(line.info->addresses_size())) {
    LB_SET(w, LINECALLINFO, dwCallStates,
           ToTapiMask<v1::CallState>(line.info->addresses(ci.address_index()).caps().call_states()) |
               LINECALLSTATE_IDLE);
  }
  LB_SET(w, LINECALLINFO, dwOrigin, (ci.origin() != 0 ? ToTapi(ci.origin()) : static_cast<DWORD>(LINECALLORIGIN_UNKNOWN)));
  LB_SET(w, LINECALLINFO, dwReason, ci.reason() != 0 ? ToTapi(ci.reason()) : LINECALLREASON_UNKNOWN);
  LB_SET(w, LINECALLINFO, dwTrunk, ci.trunk() != 0 ? ci.trunk() : 0xFFFFFFFF);
  struct Party {
    const v1::PartyId& id;
    size_t flags, size, offset, name_size, name_offset;
  };
  const Party parties[] = {
      {ci.caller(), offsetof(LINECALLINFO, dwCallerIDFlags), offsetof(LINECALLINFO, dwCallerIDSize),
       offsetof(LINECALLINFO, dwCallerIDOffset), offsetof(LINECALLINFO, dwCallerIDNameSize),
       offsetof(LINECALLINFO, dwCallerIDNameOffset)},
      {ci.called(), offsetof(LINECALLINFO, dwCalledIDFlags), offsetof(LINECALLINFO, dwCalledIDSize),
       offsetof(LINECALLINFO, dwCalledIDOffset), offsetof(LINECALLINFO, dwCalledIDNameSize),
       offsetof(LINECALLINFO, dwCalledIDNameOffset)},
      {ci.connected(), offsetof(LINECALLINFO, dwConnectedIDFlags),
       offsetof(LINECALLINFO, dwConnectedIDSize), offsetof(LINECALLINFO, dwConnectedIDOffset),
       offsetof(LINECALLINFO, dwConnectedIDNameSize), offsetof(LINECALLINFO, dwConnectedIDNameOffset)},
      {ci.redirection(), offsetof(LINECALLINFO, dwRedirectionIDFlags),
       offsetof(LINECALLINFO, dwRedirectionIDSize), offsetof(LINECALLINFO, dwRedirectionIDOffset),
       offsetof(LINECALLINFO, dwRedirectionIDNameSize),
       offsetof(LINECALLINFO, dwRedirectionIDNameOffset)},
      {ci.redirecting(), offsetof(LINECALLINFO, dwRedirectingIDFlags),
       offsetof(LINECALLINFO, dwRedirectingIDSize), offsetof(LINECALLINFO, dwRedirectingIDOffset),
       offsetof(LINECALLINFO, dwRedirectingIDNameSize),
       offsetof(LINECALLINFO, dwRedirectingIDNameOffset)},
  };
  for (const Party& p : parties) {
    const DWORD flags = PartyFlags(p.id);
    w.SetDword(p.flags, flags);
    if (flags & LINECALLPARTYID_ADDRESS) w.AppendString(p.size, p.offset, p.id.number());
    if (flags & LINECALLPARTYID_NAME) w.AppendString(p.name_size, p.name_offset, p.id.name());
  }
  w.AppendString(offsetof(LINECALLINFO, dwCalledPartySize), offsetof(LINECALLINFO, dwCalledPartyOffset),
                 ci.dial_string());
  w.AppendBytes(offsetof(LINECALLINFO, dwUserUserInfoSize), offsetof(LINECALLINFO, dwUserUserInfoOffset),
                ci.user_user_info().data(), ci.user_user_info().size());
  w.AppendBytes(offsetof(LINECALLINFO, dwCallDataSize), offsetof(LINECALLINFO, dwCallDataOffset),
                ci.call_data().data(), ci.call_data().size());
  w.Finish();
  return 0;
}

LONG RemoteProvider::GetCallStatus(HDRVCALL hd_call, LPLINECALLSTATUS status) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = FindCallLocked(hd_call);
  if (entry == nullptr) return LINEERR_INVALCALLHANDLE;
  if (status == nullptr) return LINEERR_INVALPOINTER;
  if (TotalSizeOf(status) < sizeof(LINECALLSTATUS)) return LINEERR_STRUCTURETOOSMALL;
  const v1::CallStatus& s = entry->call.status();
  VarStructWriter w = StartStruct(status, sizeof(LINECALLSTATUS));
  // Until the server knows the call (lineMakeCall in flight) it is IDLE to TAPI.
  const DWORD state = entry->has_call ? ToTapi(s.state()) : static_cast<DWORD>(LINECALLSTATE_IDLE);
  LB_SET(w, LINECALLSTATUS, dwCallState, entry->idle ? LINECALLSTATE_IDLE : state);
  LB_SET(w, LINECALLSTATUS, dwCallStateMode, entry->idle ? 0 : CallStateModeToTapi(s));
  LB_SET(w, LINECALLSTATUS, dwCallPrivilege,
         s.privilege() != 0 ? ToTapi(s.privilege()) : LINECALLPRIVILEGE_OWNER);
  LB_SET(w, LINECALLSTATUS, dwCallFeatures,
         entry->idle ? 0 : ToTapiMask<v1::CallFeature>(s.features()) & ImplementedCallFeatures());
  w.Finish();
  return 0;
}

LONG RemoteProvider::GetCallAddressID(HDRVCALL hd_call, LPDWORD address_id) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = FindCallLocked(hd_call);
  if (entry == nullptr) return LINEERR_INVALCALLHANDLE;
  if (address_id == nullptr) return LINEERR_INVALPOINTER;
  *address_id = entry->call.info().address_index();
  return 0;
}


// ============================================================================
// Call control beyond the core
// ============================================================================

LONG RemoteProvider::CheckCallLocked(HDRVCALL hd_call, DRV_REQUESTID request_id,
                                     CallEntry** entry) {
  *entry = FindCallLocked(hd_call);
  if (*entry == nullptr) return LINEERR_INVALCALLHANDLE;
  if (client_ == nullptr || stopping_) return LINEERR_OPERATIONFAILED;
  if ((*entry)->call_id.empty() || (*entry)->idle) return LINEERR_INVALCALLSTATE;
  if (request_id != 0 && pending_.contains(request_id)) return LINEERR_OPERATIONFAILED;
  return 0;
}

absl::AnyInvocable<void(absl::StatusOr<v1::Call>)> RemoteProvider::CompleteWithCall(
    DRV_REQUESTID request_id) {
  return [this, request_id](absl::StatusOr<v1::Call> call) {
    DrainingLock done_lock(this);
    CompleteLocked(request_id, call.ok() ? 0 : ErrOf(call.status()));
  };
}

void RemoteProvider::DigitsEventLocked(const v1::Event& event) {
  const bool digit = event.kind_case() == v1::Event::kDigit;
  const std::string& call_id =
      digit ? event.digit().call_id() : event.digits_generated().call_id();
  auto it = call_by_id_.find(call_id);
  if (it == call_by_id_.end()) return;
  CallEntry* entry = calls_.Find(it->second);
  if (entry == nullptr || entry->idle) return;
  Outgoing out;
  out.kind = Outgoing::Kind::kCallEvent;
  out.hd_call = it->second;
  out.p3 = static_cast<DWORD>(absl::ToUnixMillis(absl::Now()));  // tick count
  if (digit) {
    if (event.digit().digit().empty()) return;
    out.msg = LINE_MONITORDIGITS;
    out.p1 = static_cast<unsigned char>(event.digit().digit()[0]);
    out.p2 = ToTapi(event.digit().mode());
  } else {
    if (entry->generating.empty()) return;  // not ours (or cancelled already)
    out.msg = LINE_GENERATE;
    out.p1 = event.digits_generated().cancelled() ? LINEGENERATETERM_CANCEL
                                                  : LINEGENERATETERM_DONE;
    out.p2 = entry->generating.front();
    entry->generating.pop_front();
  }
  if (entry->outbound_pending) {
    entry->deferred.push_back(out);
  } else {
    EnqueueLocked(out);
  }
}

LONG RemoteProvider::Dial(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCWSTR dest_address) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  // TSPI_lineDial has no INVALPOINTER: a missing address is an invalid one.
  if (dest_address == nullptr) return LINEERR_INVALADDRESS;
  v1::DialRequest request;
  request.set_call_id(entry->call_id);
  request.set_destination(Utf16ToUtf8(dest_address, 1024));
  if (LONG err = ScanDialable(request.destination()); err != 0) return err;
  pending_[request_id] = Pending{IdOf(hd_call)};
  client_->DialAsync(std::move(request), CompleteWithCall(request_id), call_options());
  return static_cast<LONG>(request_id);
}

LONG RemoteProvider::Accept(DRV_REQUESTID request_id, HDRVCALL hd_call) {
  return CallAction(request_id, hd_call, Action::kAccept);
}

LONG RemoteProvider::Redirect(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCWSTR dest_address) {
  return SendCallTo<v1::RedirectRequest>(request_id, hd_call, dest_address,
                                         &Client::RedirectAsync);
}

LONG RemoteProvider::BlindTransfer(DRV_REQUESTID request_id, HDRVCALL hd_call,
                                   LPCWSTR dest_address) {
  return SendCallTo<v1::BlindTransferRequest>(request_id, hd_call, dest_address,
                                              &Client::BlindTransferAsync);
}

template <typename Request>
LONG RemoteProvider::SendCallTo(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCWSTR dest_address,
                                void (Client::*rpc)(Request, Callback<v1::Call>,
                                                    const CallOptions&)) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  if (dest_address == nullptr) return LINEERR_INVALADDRESS;
  Request request;
  request.set_call_id(entry->call_id);
  request.set_destination(Utf16ToUtf8(dest_address, 1024));
  if (request.destination().empty() || ScanDialable(request.destination()) != 0) {
    return LINEERR_INVALADDRESS;
  }
  pending_[request_id] = Pending{IdOf(hd_call)};
  (client_.get()->*rpc)(std::move(request), CompleteWithCall(request_id), call_options());
  return static_cast<LONG>(request_id);
}

LONG RemoteProvider::SetupTransfer(DRV_REQUESTID request_id, HDRVCALL hd_call,
                                   HTAPICALL ht_consult_call, LPHDRVCALL hd_consult_call) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  if (hd_consult_call == nullptr) return LINEERR_INVALPOINTER;
  if (open_lines_.Find(entry->hd_line) == nullptr) return LINEERR_INVALCALLHANDLE;
  v1::SetupTransferRequest request;
  request.set_call_id(entry->call_id);
  Client* client = client_.get();
  return CreateCallsLocked(
      request_id, entry->hd_line, IdOf(hd_call), {NewCall{ht_consult_call, hd_consult_call}},
      [this, client, request = std::move(request)](
          std::string tag, absl::AnyInvocable<void(CreatedCalls)> done) mutable {
        request.set_tag(std::move(tag));
        client->SetupTransferAsync(
            std::move(request),
            [done = std::move(done)](absl::StatusOr<v1::SetupTransferResponse> r) mutable {
              if (!r.ok()) return done(r.status());
              done(std::vector<v1::Call>{r->consultation()});
            },
            call_options());
      });
}

LONG RemoteProvider::CompleteTransfer(DRV_REQUESTID request_id, HDRVCALL hd_call,
                                      HDRVCALL hd_consult_call, HTAPICALL ht_conf_call,
                                      LPHDRVCALL hd_conf_call, DWORD transfer_mode) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  CallEntry* consult = FindCallLocked(hd_consult_call);
  if (consult == nullptr || consult->hd_line != entry->hd_line || consult == entry) {
    return LINEERR_INVALCONSULTCALLHANDLE;
  }
  if (consult->call_id.empty() || consult->idle) return LINEERR_INVALCALLSTATE;
  std::optional<v1::TransferMode> mode = FromTapi<v1::TransferMode>(transfer_mode);
  if (!mode.has_value()) return LINEERR_INVALTRANSFERMODE;
  const bool conference = *mode == v1::TRANSFER_MODE_CONFERENCE;
  if (conference && hd_conf_call == nullptr) return LINEERR_INVALPOINTER;
  const uint32_t hd_line = entry->hd_line;
  if (open_lines_.Find(hd_line) == nullptr) return LINEERR_INVALCALLHANDLE;
  v1::CompleteTransferRequest request;
  request.set_call_id(entry->call_id);
  request.set_consultation_call_id(consult->call_id);
  request.set_mode(*mode);
  Client* client = client_.get();
  if (!conference) {  // creates no call
    pending_[request_id] = Pending{IdOf(hd_call)};
    client->CompleteTransferAsync(
        std::move(request),
        [this, request_id](absl::StatusOr<v1::CompleteTransferResponse> response) {
          DrainingLock done_lock(this);
          CompleteLocked(request_id, response.ok() ? 0 : ErrOf(response.status()));
        },
        call_options());
    return static_cast<LONG>(request_id);
  }
  return CreateCallsLocked(
      request_id, hd_line, IdOf(hd_call), {NewCall{ht_conf_call, hd_conf_call}},
      [this, client, request = std::move(request)](
          std::string tag, absl::AnyInvocable<void(CreatedCalls)> done) mutable {
        request.set_tag(std::move(tag));
        client->CompleteTransferAsync(
            std::move(request),
            [done = std::move(done)](absl::StatusOr<v1::CompleteTransferResponse> r) mutable {
              if (!r.ok()) return done(r.status());
              done(std::vector<v1::Call>{r->conference()});
            },
            call_options());
      });
}

LONG RemoteProvider::SetupConference(DRV_REQUESTID request_id, HDRVCALL hd_call, HDRVLINE,
                                     HTAPICALL ht_conf_call, LPHDRVCALL hd_conf_call,
                                     HTAPICALL ht_consult_call, LPHDRVCALL hd_consult_call) {
  absl::MutexLock lock(&mu_);
  // The server builds a conference around an existing call only (no
  // LINEADDRFEATURE_SETUPCONF: hdCall NULL is not supported).
  if (hd_call == nullptr) return LINEERR_OPERATIONUNAVAIL;
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  if (hd_conf_call == nullptr || hd_consult_call == nullptr) return LINEERR_INVALPOINTER;
  if (open_lines_.Find(entry->hd_line) == nullptr) return LINEERR_INVALCALLHANDLE;
  v1::SetupConferenceRequest request;
  request.set_call_id(entry->call_id);
  Client* client = client_.get();
  // Both new calls carry the tag; the conference call is the one of origin
  // CONFERENCE (BindTaggedCallLocked).
  return CreateCallsLocked(
      request_id, entry->hd_line, IdOf(hd_call),
      {NewCall{ht_conf_call, hd_conf_call}, NewCall{ht_consult_call, hd_consult_call}},
      [this, client, request = std::move(request)](
          std::string tag, absl::AnyInvocable<void(CreatedCalls)> done) mutable {
        request.set_tag(std::move(tag));
        client->SetupConferenceAsync(
            std::move(request),
            [done = std::move(done)](absl::StatusOr<v1::SetupConferenceResponse> r) mutable {
              if (!r.ok()) return done(r.status());
              done(std::vector<v1::Call>{r->conference(), r->consultation()});
            },
            call_options());
      });
}

LONG RemoteProvider::AddToConference(DRV_REQUESTID request_id, HDRVCALL hd_conf_call,
                                     HDRVCALL hd_consult_call) {
  absl::MutexLock lock(&mu_);
  CallEntry* conf = FindCallLocked(hd_conf_call);
  if (conf == nullptr) return LINEERR_INVALCONFCALLHANDLE;
  if (LONG err = CheckCallLocked(hd_conf_call, request_id, &conf); err != 0) return err;
  CallEntry* party = FindCallLocked(hd_consult_call);
  if (party == nullptr || party == conf || party->hd_line != conf->hd_line) {
    return LINEERR_INVALCONSULTCALLHANDLE;
  }
  if (party->call_id.empty() || party->idle) return LINEERR_INVALCALLSTATE;
  pending_[request_id] = Pending{IdOf(hd_conf_call)};
  v1::AddToConferenceRequest request;
  request.set_conference_call_id(conf->call_id);
  request.set_call_id(party->call_id);
  client_->AddToConferenceAsync(std::move(request), CompleteWithCall(request_id),
                                call_options());
  return static_cast<LONG>(request_id);
}

LONG RemoteProvider::RemoveFromConference(DRV_REQUESTID request_id, HDRVCALL hd_call) {
  return CallAction(request_id, hd_call, Action::kRemoveFromConference);
}

LONG RemoteProvider::GenerateDigits(HDRVCALL hd_call, DWORD end_to_end_id, DWORD digit_mode,
                                    LPCWSTR digits, DWORD duration) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, 0, &entry); err != 0) return err;
  const uint32_t id = IdOf(hd_call);
  auto cancel_running = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    // TAPI: a new request (or NULL digits) cancels the one in progress.
    for (DWORD old : entry->generating) {
      Outgoing out;
      out.kind = Outgoing::Kind::kCallEvent;
      out.hd_call = id;
      out.msg = LINE_GENERATE;
      out.p1 = LINEGENERATETERM_CANCEL;
      out.p2 = old;
      out.p3 = static_cast<DWORD>(absl::ToUnixMillis(absl::Now()));
      EnqueueLocked(out);
    }
    entry->generating.clear();
  };
  if (digits == nullptr) {
    cancel_running();
    return 0;
  }
  if ((digit_mode & kGenerateDigitModes) == 0 || (digit_mode & ~kGenerateDigitModes) != 0 ||
      (digit_mode & (digit_mode - 1)) != 0) {
    return LINEERR_INVALDIGITMODE;
  }
  std::string text = Utf16ToUtf8(digits, 256);
  if (text.empty() || text.size() > 64) return LINEERR_INVALDIGITS;
  for (char c : text) {
    const bool ok = (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D') ||
                    c == ',';
    if (!ok) return LINEERR_INVALDIGITS;
  }
  cancel_running();
  entry->generating.push_back(end_to_end_id);
  v1::GenerateDigitsRequest request;
  request.set_call_id(entry->call_id);
  request.set_digits(text);
  request.set_mode(digit_mode == LINEDIGITMODE_PULSE ? v1::DIGIT_MODE_PULSE : v1::DIGIT_MODE_DTMF);
  request.set_duration_ms(std::min<DWORD>(duration, 10000));
  client_->GenerateDigitsAsync(
      std::move(request),
      [this, id, end_to_end_id](absl::StatusOr<v1::Call> call) {
        if (call.ok()) return;  // digits_generated reports the end
        DrainingLock done_lock(this);
        CallEntry* e = calls_.Find(id);
        if (e == nullptr || e->idle) return;
        auto it = std::find(e->generating.begin(), e->generating.end(), end_to_end_id);
        if (it == e->generating.end()) return;
        e->generating.erase(it);
        Outgoing out;
        out.kind = Outgoing::Kind::kCallEvent;
        out.hd_call = id;
        out.msg = LINE_GENERATE;
        out.p1 = LINEGENERATETERM_CANCEL;
        out.p2 = end_to_end_id;
        out.p3 = static_cast<DWORD>(absl::ToUnixMillis(absl::Now()));
        EnqueueLocked(out);
      },
      call_options());
  return 0;
}

LONG RemoteProvider::MonitorDigits(HDRVCALL hd_call, DWORD digit_modes) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, 0, &entry); err != 0) return err;
  if ((digit_modes & ~kMonitorDigitModes) != 0) return LINEERR_INVALDIGITMODE;
  const OpenLine* open = open_lines_.Find(entry->hd_line);
  if (open != nullptr && lines_[open->index].info.has_value()) {
    const DWORD supported =
        ToTapiMask<v1::DigitMode>(lines_[open->index].info->caps().monitor_digit_modes());
    if ((digit_modes & ~supported) != 0) return LINEERR_INVALDIGITMODE;
  }
  v1::MonitorDigitsRequest request;
  request.set_call_id(entry->call_id);
  for (v1::DigitMode m : FromTapiMask<v1::DigitMode>(digit_modes)) request.add_modes(m);
  client_->MonitorDigitsAsync(std::move(request), [](absl::StatusOr<v1::Call>) {},
                              call_options());
  return 0;
}

LONG RemoteProvider::SetAppSpecific(HDRVCALL hd_call, DWORD app_specific) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, 0, &entry); err != 0) return err;
  std::string bytes(sizeof app_specific, '\0');
  std::memcpy(bytes.data(), &app_specific, sizeof app_specific);
  // lineGetCallInfo shows it at once; LINE_CALLINFO follows from the server.
  entry->call.mutable_info()->set_app_specific(bytes);
  v1::SetAppSpecificRequest request;
  request.set_call_id(entry->call_id);
  request.set_app_specific(bytes);
  client_->SetAppSpecificAsync(std::move(request), [](absl::StatusOr<v1::Call>) {},
                               call_options());
  return 0;
}

LONG RemoteProvider::SetCallData(DRV_REQUESTID request_id, HDRVCALL hd_call, LPVOID call_data,
                                 DWORD size) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  if (call_data == nullptr && size != 0) return LINEERR_INVALPOINTER;
  if (size > 4096) return LINEERR_INVALPARAM;  // docs/api.md: call_data <= 4096 bytes
  pending_[request_id] = Pending{IdOf(hd_call)};
  v1::SetCallDataRequest request;
  request.set_call_id(entry->call_id);
  if (size != 0) request.set_call_data(std::string(static_cast<const char*>(call_data), size));
  client_->SetCallDataAsync(std::move(request), CompleteWithCall(request_id), call_options());
  return static_cast<LONG>(request_id);
}

LONG RemoteProvider::PrepareAddToConference(DRV_REQUESTID request_id, HDRVCALL hd_conf_call,
                                            HTAPICALL ht_consult_call,
                                            LPHDRVCALL hd_consult_call) {
  absl::MutexLock lock(&mu_);
  CallEntry* conf = FindCallLocked(hd_conf_call);
  if (conf == nullptr) return LINEERR_INVALCONFCALLHANDLE;
  if (LONG err = CheckCallLocked(hd_conf_call, request_id, &conf); err != 0) return err;
  if (hd_consult_call == nullptr) return LINEERR_INVALPOINTER;
  if (conf->call.info().origin() != v1::CALL_ORIGIN_CONFERENCE) {
    return LINEERR_INVALCONFCALLHANDLE;
  }
  v1::PrepareAddToConferenceRequest request;
  request.set_conference_call_id(conf->call_id);
  Client* client = client_.get();
  return CreateCallsLocked(
      request_id, conf->hd_line, IdOf(hd_conf_call), {NewCall{ht_consult_call, hd_consult_call}},
      [this, client, request = std::move(request)](
          std::string tag, absl::AnyInvocable<void(CreatedCalls)> done) mutable {
        request.set_tag(std::move(tag));
        client->PrepareAddToConferenceAsync(std::move(request), OneCreatedCall(std::move(done)),
                                            call_options());
      });
}

LONG RemoteProvider::Forward(DRV_REQUESTID request_id, HDRVLINE hd_line, DWORD all_addresses,
                             DWORD address_id, const LINEFORWARDLIST* forward_list,
                             DWORD num_rings_no_answer, LPHDRVCALL hd_consult_call) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if (client_ == nullptr || stopping_ || pending_.contains(request_id)) {
    return LINEERR_OPERATIONFAILED;
  }
  const LineEntry& line = lines_[open->index];
  const v1::Line info = line.info.value_or(v1::Line());
  const int num_addresses = std::max(1, info.addresses_size());
  if (!all_addresses && address_id >= static_cast<DWORD>(num_addresses)) {
    return LINEERR_INVALADDRESSID;
  }
  const v1::AddressCaps caps =
      info.addresses_size() > 0 ? info.addresses(0).caps() : v1::AddressCaps();
  if ((ToTapiMask<v1::AddressFeature>(caps.address_features()) & LINEADDRFEATURE_FORWARD) == 0) {
    return LINEERR_OPERATIONUNAVAIL;
  }
  const DWORD modes =
      ToTapiMask<v1::ForwardMode>(info.caps().forward_modes()) & ~kSpecificForwardModes;
  v1::SetLineForwardingRequest request;
  request.set_line_id(line.line_id);
  if (forward_list != nullptr) {  // NULL cancels forwarding
    const DWORD total = forward_list->dwTotalSize;
    const DWORD header = offsetof(LINEFORWARDLIST, ForwardList);
    if (total < header) return LINEERR_STRUCTURETOOSMALL;
    const DWORD stride = ForwardEntrySize(open->version);
    const DWORD n = forward_list->dwNumEntries;
    if (n > caps.max_forward_entries() ||
        static_cast<uint64_t>(header) + static_cast<uint64_t>(n) * stride > total) {
      return LINEERR_INVALPARAM;
    }
    const auto* base = reinterpret_cast<const unsigned char*>(forward_list);
    const DWORD rings = std::clamp(num_rings_no_answer, kMinFwdRings, kMaxFwdRings);
    for (DWORD i = 0; i < n; ++i) {
      LINEFORWARD entry{};
      std::memcpy(&entry, base + header + i * stride, std::min<DWORD>(stride, sizeof entry));
      const DWORD mode = entry.dwForwardMode;
      // Exactly one mode bit, one this line can do.
      if (mode == 0 || (mode & (mode - 1)) != 0 || (mode & modes) == 0) {
        return LINEERR_INVALPARAM;
      }
      if (entry.dwDestAddressSize == 0 || entry.dwDestAddressSize % 2 != 0 ||
          static_cast<uint64_t>(entry.dwDestAddressOffset) + entry.dwDestAddressSize > total ||
          entry.dwDestAddressOffset < header + n * stride) {
        return LINEERR_INVALADDRESS;
      }
      std::u16string dest(entry.dwDestAddressSize / 2, u'\0');
      std::memcpy(dest.data(), base + entry.dwDestAddressOffset, entry.dwDestAddressSize);
      const std::string destination = Utf16ToUtf8(dest.c_str(), dest.size());
      if (destination.empty()) return LINEERR_INVALADDRESS;
      v1::ForwardRule* rule = request.add_rules();
      rule->set_mode(*FromTapi<v1::ForwardMode>(mode));
      rule->set_destination(destination);
      if (mode & kNoAnswerForwardModes) rule->set_num_rings(rings);
    }
  }
  // No consultation call is ever created: the location stays NULL.
  if (hd_consult_call != nullptr) *hd_consult_call = nullptr;
  pending_[request_id] = Pending{0};
  Client* client = client_.get();
  SendWhenOpenLocked(IdOf(hd_line), [this, client, request_id,
                                     options = LineCallOptionsLocked(lines_[open->index]),
                                     request = std::move(request)]() mutable {
    client->SetLineForwardingAsync(
        std::move(request),
        [this, request_id](absl::StatusOr<v1::Line> updated) {
          DrainingLock done_lock(this);
          CompleteLocked(request_id, updated.ok() ? 0 : ErrOf(updated.status()));
        },
        options);
  });
  return static_cast<LONG>(request_id);
}

// ============================================================================
// Park, unpark, pickup
// ============================================================================

LONG RemoteProvider::Park(DRV_REQUESTID request_id, HDRVCALL hd_call, DWORD park_mode,
                          LPCWSTR dir_address, LPVARSTRING non_dir_address) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  std::optional<v1::ParkMode> mode = FromTapi<v1::ParkMode>(park_mode);
  if (!mode.has_value()) return LINEERR_INVALPARKMODE;
  v1::ParkRequest request;
  request.set_call_id(entry->call_id);
  request.set_mode(*mode);
  if (*mode == v1::PARK_MODE_DIRECTED) {
    if (dir_address == nullptr) return LINEERR_INVALADDRESS;
    request.set_destination(Utf16ToUtf8(dir_address, 1024));
    if (request.destination().empty()) return LINEERR_INVALADDRESS;
    non_dir_address = nullptr;  // not ours to write for a directed park
  } else {
    if (non_dir_address == nullptr) return LINEERR_INVALPOINTER;
    if (TotalSizeOf(non_dir_address) < sizeof(VARSTRING)) return LINEERR_STRUCTURETOOSMALL;
  }
  pending_[request_id] = Pending{IdOf(hd_call)};
  client_->ParkAsync(
      std::move(request),
      [this, request_id, non_dir_address](absl::StatusOr<v1::ParkResponse> response) {
        DrainingLock done_lock(this);
        if (!pending_.contains(request_id)) return;  // completed at shutdown
        if (response.ok() && non_dir_address != nullptr) {
          // Where the call was parked, before the completion (TAPI reads it then).
          VarStructWriter w = StartStruct(non_dir_address, sizeof(VARSTRING));
          LB_SET(w, VARSTRING, dwStringFormat, STRINGFORMAT_UNICODE);
          w.AppendString(offsetof(VARSTRING, dwStringSize), offsetof(VARSTRING, dwStringOffset),
                         response->park_address());
          w.Finish();
        }
        CompleteLocked(request_id, response.ok() ? 0 : ErrOf(response.status()));
      },
      call_options());
  return static_cast<LONG>(request_id);
}

LONG RemoteProvider::Unpark(DRV_REQUESTID request_id, HDRVLINE hd_line, DWORD address_id,
                            HTAPICALL ht_call, LPHDRVCALL hd_call, LPCWSTR dest_address) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if (client_ == nullptr || stopping_ || pending_.contains(request_id)) {
    return LINEERR_OPERATIONFAILED;
  }
  const LineEntry& line = lines_[open->index];
  const int n = line.info.has_value() ? std::max(1, line.info->addresses_size()) : 1;
  if (address_id >= static_cast<DWORD>(n)) return LINEERR_INVALADDRESSID;
  if (hd_call == nullptr) return LINEERR_INVALPOINTER;
  if (dest_address == nullptr) return LINEERR_INVALADDRESS;
  v1::UnparkRequest request;
  request.set_line_id(line.line_id);
  request.set_address_index(address_id);
  request.set_park_address(Utf16ToUtf8(dest_address, 1024));
  if (request.park_address().empty()) return LINEERR_INVALADDRESS;
  Client* client = client_.get();
  return CreateCallsLocked(
      request_id, IdOf(hd_line), 0, {NewCall{ht_call, hd_call}},
      [client, options = LineCallOptionsLocked(line), request = std::move(request)](
          std::string tag, absl::AnyInvocable<void(CreatedCalls)> done) mutable {
        request.set_tag(std::move(tag));
        client->UnparkAsync(std::move(request), OneCreatedCall(std::move(done)), options);
      });
}

LONG RemoteProvider::Pickup(DRV_REQUESTID request_id, HDRVLINE hd_line, DWORD address_id,
                            HTAPICALL ht_call, LPHDRVCALL hd_call, LPCWSTR dest_address,
                            LPCWSTR group_id) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if (client_ == nullptr || stopping_ || pending_.contains(request_id)) {
    return LINEERR_OPERATIONFAILED;
  }
  const LineEntry& line = lines_[open->index];
  const int n = line.info.has_value() ? std::max(1, line.info->addresses_size()) : 1;
  if (address_id >= static_cast<DWORD>(n)) return LINEERR_INVALADDRESSID;
  if (hd_call == nullptr) return LINEERR_INVALPOINTER;
  v1::PickupRequest request;
  request.set_line_id(line.line_id);
  request.set_address_index(address_id);
  if (dest_address != nullptr) request.set_destination(Utf16ToUtf8(dest_address, 1024));
  if (group_id != nullptr) request.set_group_id(Utf16ToUtf8(group_id, 256));
  // A directed pickup names the ringing address; otherwise the group.
  if (request.destination().empty() && request.group_id().empty()) {
    return group_id == nullptr ? LINEERR_INVALADDRESS : LINEERR_INVALGROUPID;
  }
  Client* client = client_.get();
  return CreateCallsLocked(
      request_id, IdOf(hd_line), 0, {NewCall{ht_call, hd_call}},
      [client, options = LineCallOptionsLocked(line), request = std::move(request)](
          std::string tag, absl::AnyInvocable<void(CreatedCalls)> done) mutable {
        request.set_tag(std::move(tag));
        client->PickupAsync(std::move(request), OneCreatedCall(std::move(done)), options);
      });
}

}  // namespace linebridge::tsp
