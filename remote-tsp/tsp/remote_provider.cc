// RemoteProvider: the provider's life: the instance, providerEnumDevices, providerInit
// and providerShutdown, lineCreate devices, and the connection loop that keeps a
// session and an event stream on every configured server.
#include <grpc/grpc.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "linebridge/deadline.h"
#include "tapi_mapping.h"
#include "tsp/provider_internal.h"
#include "tsp/remote_provider.h"
#include "absl/container/flat_hash_set.h"
#include "tsp/enumeration.h"
#include "tsp/tsp_channel.h"
#include "tsp/tsp_log.h"
#include "tsp/tsp_shutdown.h"

namespace linebridge::tsp {

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

CallOptions RemoteProvider::outcome_options() const {
  CallOptions o = call_options();
  o.deadline = std::max(o.deadline, kOutcomeDeadline);
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
  phones_.clear();
  created_phones_.clear();
  removed_phones_.clear();
  open_phones_ = HandleTable<OpenPhone>();
  phones_enumerated_ = 0;
  phone_sends_.clear();
  phone_rpcs_ = 0;
  initialized_ = false;
  stopping_ = false;
  dispatcher_stop_ = false;
}

LONG RemoteProvider::EnumDevices(DWORD, LPDWORD num_lines, LPDWORD num_phones,
                                 HPROVIDER provider, LINEEVENT line_create_proc,
                                 PHONEEVENT phone_create_proc) {
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
  // Phones have device ids of their own (dwPhoneDeviceIDBase): a map of their own.
  absl::StatusOr<DeviceMap> phone_map =
      DeviceMap::Load(config->device_map.empty() ? "" : config->device_map + ".phones");
  if (!phone_map.ok()) {
    LogError(phone_map.status().ToString());
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
  std::erase_if(listed.phones, [&identities](const auto& entry) {
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
  phone_map_ = *std::move(phone_map);
  for (const auto& [server, phone] : listed.phones) {
    phone_map_->IndexOf(phone.server_id(), phone.id());
  }
  phones_enumerated_ = phone_map_->size();
  phone_create_proc_ = phone_create_proc;
  phones_.resize(phones_enumerated_);
  for (uint32_t i = 0; i < phones_enumerated_; ++i) {
    phones_[i].phone_id = phone_map_->LineAt(i);
    phones_[i].server_id = phone_map_->KeyAt(i).server_id;
  }
  for (const auto& [server, phone] : listed.phones) {
    PhoneEntry& entry = phones_[phone_map_->IndexOf(phone.server_id(), phone.id())];
    entry.info = phone;
    entry.server = server;
    entry.present = true;
  }
  if (absl::Status saved = phone_map_->Save(); !saved.ok()) LogError(saved.ToString());
  enum_client_ = std::move(listed.client);
  *num_lines = enumerated_;
  *num_phones = phones_enumerated_;
  return 0;
}

LONG RemoteProvider::Init(DWORD tspi_version, DWORD, DWORD line_device_id_base,
                          ASYNC_COMPLETION completion_proc, LPDWORD tspi_options,
                          DWORD phone_device_id_base) {
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
    if (!grpc_held_) {
      grpc_init();
      grpc_held_ = true;
    }
  }
  absl::StatusOr<std::unique_ptr<Client>> client = std::move(enum_client);
  if (*client == nullptr) client = Client::Create(std::move(options));
  if (!client.ok()) {
    LogError(client.status().ToString());
    ReleaseGrpc();
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
  phone_base_ = phone_device_id_base;
  for (uint32_t i = 0; i < phones_enumerated_; ++i) {
    phones_[i].has_device = true;
    phones_[i].device_id = phone_base_ + i;
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
    for (DRV_REQUESTID id : ids) {
      CompleteLocked(id, pending_[id].phone ? PHONEERR_OPERATIONFAILED : LINEERR_OPERATIONFAILED);
    }
    // Requests still waiting for a phone's owner open never went out.
    open_phones_.ForEach([](uint32_t, OpenPhone& open) { open.waiters.clear(); });
    dispatcher_stop_ = true;
  }
  if (dispatcher_.joinable()) dispatcher_.join();  // delivers everything queued
  std::unique_ptr<Client> client;
  {
    absl::MutexLock lock(&mu_);
    // The phone RPCs (cancelled above) have answered: none still uses a
    // connection of the client released below.
    auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return phone_rpcs_ == 0; };
    mu_.Await(absl::Condition(&idle));
    client = std::move(client_);
  }
  // Its RPCs were cancelled above: this waits only for their callbacks, which
  // find nothing pending.
  client.reset();
  ReleaseGrpc();
  absl::MutexLock lock(&mu_);
  if (device_map_.has_value()) {
    absl::Status saved = device_map_->Save();
    if (!saved.ok()) LogError(saved.ToString());
  }
  if (phone_map_.has_value()) {
    absl::Status saved = phone_map_->Save();
    if (!saved.ok()) LogError(saved.ToString());
  }
  ResetLocked();
  device_map_.reset();
  phone_map_.reset();
  return 0;
}

void RemoteProvider::ReleaseGrpc() {
  bool release = false;
  {
    absl::MutexLock lock(&mu_);
    release = std::exchange(grpc_held_, false);
  }
  // The last reference: gRPC's own threads end here, not after the return.
  if (release) grpc_shutdown_blocking();
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
  // client_ lives from providerInit until providerShutdown has joined this
  // thread.
  Client* client;
  CallOptions options;
  {
    absl::MutexLock lock(&mu_);
    client = client_.get();
    options = call_options();
  }
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    // A session on every server that answers; the event stream starts as
    // soon as one does (a server still down gets its session when its
    // stream reconnects, see OnStreamState).
    absl::Status started = client->StartSession(options);
    bool any = false;
    for (size_t server = 0; server < client->num_servers(); ++server) {
      any = any || !client->session_id(server).empty();
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
  SubscribeOptions subscribe;
  subscribe.bind_session = true;
  subscribe.snapshot = true;
  std::unique_ptr<Subscription> subscription = client->Subscribe(
      subscribe, [this](size_t server, const v1::EventBatch& batch) { OnEvents(server, batch); },
      [this](const StreamState& state) { OnStreamState(state); });
  absl::MutexLock lock(&mu_);
  subscription_ = std::move(subscription);
  // Maintenance until providerShutdown: retry opens that failed transiently.
  auto stop = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stop), absl::Milliseconds(50));
    if (!stopping_) MaintainLocked();
    ExpirePhoneWaitsLocked();
    RunUnlocked(ExpireSessionWaitsLocked());
  }
}

void RemoteProvider::MaintainLocked() {
  const absl::Time now = MonotonicNow();
  std::vector<uint32_t> due;
  open_lines_.ForEach([&](uint32_t id, OpenLine& open) {
    mu_.AssertHeld();  // run by ForEach under the caller's lock
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
    CallOptions options;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_ || client_ == nullptr) return;
      client = client_.get();
      options = call_options();
    }
    absl::Duration backoff = absl::Milliseconds(200);
    while (client->session_id(state.server).empty()) {
      if (client->StartSession(state.server, options).ok()) break;
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
    PhonesServerBackLocked(state.server);
    ReopenPhonesLocked(state.server, reopen);
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
      mu_.AssertHeld();  // run by ForEach under the caller's lock
      if (lines_[open.index].server == state.server && !open.reported_out_of_service) {
        handles.push_back(id);
      }
    });
    std::sort(handles.begin(), handles.end());
    for (uint32_t id : handles) {
      open_lines_.Find(id)->reported_out_of_service = true;
      LineDevStateLocked(id, LINEDEVSTATE_OUTOFSERVICE);
    }
    PhonesServerLostLocked(state.server);
  }
}

}  // namespace linebridge::tsp
