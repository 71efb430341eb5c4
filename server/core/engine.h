// The engine: linebridged's authoritative line, call and session state, the
// TAPISRV of the network. It validates every request against TAPI's rules,
// hands it to the provider that owns the line, and turns every change into an
// event in the journal.
//
// Threading: one mutex guards all telephony state. RPC handlers, timers and
// device threads take it for short, non-blocking critical sections; providers
// run inside them (see provider.h). Journal waiters are woken under it, and
// CDRs leave through an asynchronous writer.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/call_media.h"
#include "core/device_config_store.h"
#include "core/journal.h"
#include "core/phones.h"
#include "core/provider.h"
#include "core/deferred_replies.h"
#include "core/scheduler.h"
#include "linebridge/rpc_table.h"
#include "linebridge/v1/admin.pb.h"
#include "linebridge/v1/config.pb.h"
#include "linebridge/v1/telephony.pb.h"

namespace linebridge {

// Where finished calls go (the CDR store, or a test's vector).
class CallRecordSink {
 public:
  virtual ~CallRecordSink() = default;
  // Must not block. `settled` must be called exactly once, from any thread
  // (also from within Record), once the record is durable or its write has
  // failed loudly: until then the engine holds the call's IDLE event, and
  // every later event, back from subscribers.
  virtual void Record(v1::CallRecord record, std::function<void()> settled) = 0;
};

struct EngineOptions {
  uint64_t epoch = 0;  // 0: pick a random one
  size_t journal_capacity = 65536;
  absl::Duration session_grace_period = absl::Seconds(30);
  absl::Duration disconnected_linger = absl::Seconds(5);
  uint32_t max_user_user_info = 256;
  // This server's identity, stamped on every Line, Session and ServerStatus.
  std::string server_id;
  // The wall clock the engine stamps states and call records with; empty:
  // absl::Now. Tests inject one to assert exact durations.
  std::function<absl::Time()> clock;
  // Where the lines' device configurations (SetDevConfig) are kept across
  // restarts (core/device_config_store.h); empty: not kept.
  std::string device_config_file;
  static EngineOptions FromConfig(const v1::config::ServerConfig& config);
};

// Limits on request fields (enforced before anything else).
inline constexpr size_t kMaxDestinationLength = 128;
inline constexpr size_t kMaxDigitsLength = 64;
inline constexpr size_t kMaxAppSpecificSize = 64;
inline constexpr size_t kMaxCallDataSize = 4096;
inline constexpr size_t kMaxClientNameLength = 256;
inline constexpr size_t kMaxIdLength = 256;
inline constexpr size_t kMaxSubscribeLines = 20000;
// ListLines / ListCalls page_size above this is treated as this.
inline constexpr size_t kMaxPageSize = 10000;
// Sessions one line may be open in: a call event lists them all (owners and
// monitors), so this bounds every event's session lists.
inline constexpr size_t kMaxOpensPerLine = 256;

// "s-" and 32 hex digits: 128 bits from getrandom(2), unguessable.
absl::StatusOr<std::string> NewSessionId();

// The subscription a Subscribe stream starts with.
struct SubscriptionStart {
  uint64_t next_sequence = 1;  // first journal sequence to send
  // Set when the stream must start with a snapshot.
  std::unique_ptr<v1::EventBatch> snapshot;
};

class Engine : private ProviderHost {
 public:
  Engine(EngineOptions options, CallRecordSink* cdr_sink);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Takes ownership of the provider and starts it (it announces its lines).
  absl::Status AddProvider(std::unique_ptr<Provider> provider);
  // Config reload: providers matched by name are reconfigured; new ones start.
  absl::StatusOr<v1::ReloadConfigResponse> Reconfigure(const v1::config::ServerConfig& config);
  // Announces shutdown to subscribers and stops providers and timers.
  void Shutdown(absl::string_view reason);

  EventJournal& journal() { return journal_; }
  uint64_t epoch() const { return journal_.epoch(); }

  // Runs `fn` with the engine lock held, for device threads of providers.
  void RunLocked(const std::function<void()>& fn) override;

  // The replies providers hold back (ProviderHost::DeferReply): after each
  // request the service takes DeferredReplies::TakeCurrent() and, if set,
  // awaits the outcome here before it answers.
  DeferredReplies& deferred_replies() { return replies_; }
  // Answers deferred reply `token` with its `if_late` answer before a client
  // deadline `remaining` from now ends, unless its outcome comes first: a
  // margin of a fifth of `remaining`, at least 100 ms and at most 1 s, is
  // left for the answer to travel.
  void AnswerBefore(uint64_t token, absl::Duration remaining);

  // --- Telephony API ------------------------------------------------------
  // One method per Telephony RPC of the RPC table (linebridge/rpc_table.h).
#define LB_ENGINE_RPC(Service, Method, Req, Resp, ...) LB_ENGINE_RPC_##Service(Method, Req, Resp)
#define LB_ENGINE_RPC_Telephony(Method, Req, Resp) \
  absl::StatusOr<v1::Resp> Method(const v1::Req& req);
#define LB_ENGINE_RPC_Admin(Method, Req, Resp)
#define LB_ENGINE_RPC_Security(Method, Req, Resp)
#define LB_ENGINE_RPC_Media(Method, Req, Resp)
  LINEBRIDGE_RPCS(LB_ENGINE_RPC)
#undef LB_ENGINE_RPC
#undef LB_ENGINE_RPC_Telephony
#undef LB_ENGINE_RPC_Admin
#undef LB_ENGINE_RPC_Security
#undef LB_ENGINE_RPC_Media

  // Event streams. StartSubscription validates, binds the session (if any)
  // and decides between replay and snapshot; EndSubscription unbinds.
  absl::StatusOr<SubscriptionStart> StartSubscription(const v1::SubscribeRequest& req);
  void EndSubscription(const std::string& session_id);
  // Whether `event` passes a subscriber's line filter.
  static bool Matches(const v1::Event& event, const std::set<std::string>& lines);

  // --- Admin API -----------------------------------------------------------
  v1::ServerStatus Status();
  absl::StatusOr<v1::ListSessionsResponse> ListSessions();
  // The line of a live call, or "" if there is no such call (authorization).
  std::string LineOfCall(const std::string& call_id);
  // What grants a phone (authorization, engine_phones.cc): its line, or the
  // phone id itself for a phone without one; nullopt for no such phone.
  std::optional<std::string> GrantOfPhone(const std::string& phone_id);
  size_t num_phones();
  size_t num_lines();
  size_t num_calls();
  void set_subscriber_count_fn(std::function<uint32_t()> fn) { subscriber_count_ = std::move(fn); }

  // --- Media (server/media; engine_media.cc) -------------------------------
  // A call as the media hub sees it.
  struct MediaCall {
    bool live = false;           // false: no such call (any more)
    bool carries_media = false;  // its provider carries audio
    std::string line_id;
    MediaRoute route;
  };
  // The calls named and, `depth` levels deep, the calls their routes name;
  // under one engine lock.
  absl::flat_hash_map<std::string, MediaCall> MediaCalls(const std::vector<std::string>& call_ids,
                                                         int depth);
  // DTMF digits detected in calls' audio: DigitReceived events for the calls
  // that monitor DTMF (as for signalled digits).
  void MediaDigits(const std::vector<std::pair<std::string, char>>& digits);
  // Where the call media RPCs run (GenerateTone, GatherDigits, MonitorTones,
  // MonitorMedia); until set they answer OPERATIONUNAVAIL. Not owned.
  void set_call_media(CallMedia* media) { call_media_.store(media, std::memory_order_release); }
  // Results of call media work (tone_generated, gather_completed,
  // tone_detected, media_detected), each for its call (kept only while the
  // call lives), into the journal under one engine lock.
  void MediaEvents(std::vector<std::pair<std::string, v1::Event>> events);

  // One consistent snapshot of what metrics report (api/server_metrics.h),
  // taken under the engine lock (engine_figures.cc).
  struct Figures {
    struct LineKey {
      std::string provider_type;  // "sim", "modem"
      std::string provider;       // instance name
      v1::LineState state;
      auto operator<=>(const LineKey&) const = default;
    };
    struct EndKey {
      v1::CallOrigin origin;
      bool answered;  // ever connected
      v1::DisconnectMode mode;
      auto operator<=>(const EndKey&) const = default;
    };
    std::vector<std::pair<std::string, std::string>> providers;  // (type, name)
    std::map<LineKey, uint64_t> lines;
    std::map<v1::CallState, uint64_t> calls;  // live calls by state
    uint64_t sessions = 0;
    std::map<v1::CallOrigin, uint64_t> setups;  // calls created since start
    std::map<EndKey, uint64_t> ended;           // calls ended since start
    std::vector<ProviderCounter> provider_counters;
  };
  Figures TakeFigures();

 private:
  struct LineOpen {
    v1::Privilege privilege = v1::PRIVILEGE_NONE;
    std::vector<v1::MediaMode> media_modes;
  };
  struct LineEntry {
    v1::Line line;
    Provider* provider = nullptr;
    std::map<std::string, LineOpen> opens;  // session id -> open
    std::set<std::string> calls;            // ids of the line's live calls
  };
  struct CallEntry {
    v1::Call call;
    bool server_owned = false;  // made without a session: never dropped for want of an owner
    absl::Time started;
    absl::Time answered = absl::InfinitePast();
    // When the call ended: it first entered DISCONNECTED (or went IDLE
    // without it). The record's end, not the later IDLE after the linger.
    absl::Time ended = absl::InfinitePast();
    v1::DisconnectMode disconnect_mode = v1::DISCONNECT_MODE_UNSPECIFIED;
    TimerId linger_timer = 0;
  };
  struct SessionEntry {
    v1::Session session;
    int attached = 0;
    TimerId expiry_timer = 0;
    std::set<std::string> open_phones;  // ids of the phones it has open
  };

  // ProviderHost (engine lock held).
  void AddLine(v1::Line line) override;
  void RemoveLine(const std::string& line_id) override;
  void SetLineState(const std::string& line_id, v1::LineState state) override;
  void SetLineForwarding(const std::string& line_id,
                         const std::vector<v1::ForwardRule>& rules) override;
  std::string CreateCall(v1::CallInfo info, v1::CallStatus status) override;
  void SetCallState(const std::string& call_id, v1::CallStatus status) override;
  void UpdateCallInfo(const std::string& call_id, const std::function<void(v1::CallInfo*)>& edit,
                      std::vector<std::string> changed) override;
  void DigitReceived(const std::string& call_id, absl::string_view digit,
                     v1::DigitMode mode) override;
  void DigitsGenerated(const std::string& call_id, absl::string_view digits,
                       bool cancelled) override;
  const v1::Call* FindCall(const std::string& call_id) const override;
  std::vector<const v1::Call*> CallsOnLine(const std::string& line_id) const override;
  absl::Status AuthorizeTake(const std::string& line_id, bool same_pickup_group) override;
  absl::Status AuthorizeOutside(const std::string& line_id) override;
  TimerId Schedule(absl::Duration delay, std::function<void()> fn) override;
  void CancelTimer(TimerId id) override;
  uint64_t DeferReply(absl::Status if_late) override;
  void CompleteReply(uint64_t token, absl::Status outcome) override;
  std::optional<v1::DeviceConfig> StoredDeviceConfig(const std::string& line_id) const override;
  // Phones (engine_phones.cc).
  void AddPhone(v1::Phone phone) override;
  void RemovePhone(const std::string& phone_id) override;
  void UpdatePhoneStatus(const std::string& phone_id,
                         const std::function<void(v1::PhoneStatus*)>& edit,
                         std::vector<std::string> changed, uint32_t button_lamp_id) override;
  void PhoneButton(const std::string& phone_id, uint32_t button_id,
                   v1::PhoneButtonState state) override;
  const v1::Phone* FindPhone(const std::string& phone_id) const override;

  // Holds the engine lock; on release wakes the subscribers the events of the
  // critical section concern (so they are never woken under the lock).
  class ABSL_SCOPED_LOCKABLE EngineLock {
   public:
    explicit EngineLock(Engine* engine) ABSL_EXCLUSIVE_LOCK_FUNCTION(engine->mu_)
        : engine_(engine) {
      engine_->mu_.Lock();
      ++locks_held_;
    }
    ~EngineLock() ABSL_UNLOCK_FUNCTION() {
      --locks_held_;
      engine_->mu_.Unlock();
      engine_->journal_.DeliverWakes();
    }

   private:
    Engine* engine_;
  };

  // Marks the session and line acting in the current request (see
  // op_session_) for as long as it lives.
  class OpScope {
   public:
    OpScope(Engine* engine, SessionEntry* session, std::string line)
        ABSL_EXCLUSIVE_LOCKS_REQUIRED(engine->mu_);
    ~OpScope();

   private:
    Engine* engine_;
  };

  // Request plumbing.
  struct Op {
    SessionEntry* session = nullptr;  // null: server authority
    CallEntry* call = nullptr;
    LineEntry* line = nullptr;
    Provider* provider = nullptr;
  };
  absl::StatusOr<SessionEntry*> FindSession(const std::string& session_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<LineEntry*> FindLineForOp(const std::string& line_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Looks up session + call, checks ownership (when a session acts) and that
  // the call is in one of `states` (empty: any but IDLE).
  absl::StatusOr<Op> PrepareCallOp(const std::string& session_id, const std::string& call_id,
                                   std::initializer_list<v1::CallState> states,
                                   v1::CallFeature feature) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<Op> PrepareLineOp(const std::string& session_id, const std::string& line_id,
                                   uint32_t address_index, v1::AddressFeature feature)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A call as the asking session sees it (privilege filled in); for calls
  // that went IDLE during the request, the last state seen.
  v1::Call View(const std::string& call_id, const SessionEntry* session)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs a call operation that answers with the call.
  absl::StatusOr<v1::Call> CallAction(
      const std::string& session_id, const std::string& call_id,
      std::initializer_list<v1::CallState> states, v1::CallFeature feature,
      const std::function<absl::Status(Provider*, const std::string&)>& action);

  // Runs a call media request: the call checked (session, state, a provider
  // that carries audio) under the engine lock, then `run` without it.
  absl::StatusOr<v1::Call> MediaCallAction(const std::string& session_id,
                                           const std::string& call_id,
                                           std::initializer_list<v1::CallState> states,
                                           const std::function<absl::Status(CallMedia*)>& run);

  absl::Time Now() const { return options_.clock ? options_.clock() : absl::Now(); }
  void Emit(v1::Event event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EmitLineStatus(LineEntry& line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RecountLine(LineEntry& line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RefreshFeatures(CallEntry& call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records the call; `fence` (from the journal) is released once the record
  // is settled.
  void FinishCall(CallEntry& call, uint64_t fence) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops calls of `line` that no longer have an owner (TSPI drop-no-owner).
  void DropOrphans(LineEntry& line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CloseLineLocked(SessionEntry& session, LineEntry& line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EndSession(const std::string& session_id, bool expired) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ArmExpiry(SessionEntry& session) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Phones (engine_phones.cc). The phone a request names (BADDEVICEID);
  // with `owner`, also the session that must have it open as owner.
  absl::StatusOr<PhoneEntry*> FindPhoneForOp(const std::string& phone_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<PhoneEntry*> OwnedPhone(const std::string& session_id,
                                         const std::string& phone_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Announces a change of the phone's status (or buttons).
  void EmitPhoneState(const PhoneEntry& phone, std::vector<std::string> changed,
                      uint32_t button_lamp_id = 0, bool buttons = false)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Applies a client's change (already checked) and announces it; the
  // provider is told. Answers with the phone.
  v1::Phone ClientChange(PhoneEntry& phone, std::vector<std::string> changed,
                         uint32_t button_lamp_id = 0) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Closes the phones `session_id` has open (session end).
  void ClosePhonesOf(const std::string& session_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClosePhoneLocked(PhoneEntry& phone, const std::string& session_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The phones of a snapshot: all, or those of `lines` and those without a line.
  void SnapshotPhones(const std::set<std::string>& lines, v1::Snapshot* snap)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::unique_ptr<v1::EventBatch> BuildSnapshot(const std::set<std::string>& lines,
                                                v1::EventBatch::SnapshotReason reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const EngineOptions options_;
  CallRecordSink* const cdr_sink_;
  EventJournal journal_;
  // Releases record fences on the journal from the record writer's thread;
  // detached when the engine goes, so that a late release touches nothing.
  class FenceGate;
  std::shared_ptr<FenceGate> fence_gate_;
  // Engine locks this thread holds: a fence released under one is woken by
  // the lock's release, never under it.
  static thread_local int locks_held_;
  Scheduler scheduler_;
  // Replies the providers hold back (DeferReply); completions are answered
  // from the scheduler's thread, never under the engine lock.
  DeferredReplies replies_{[this](std::function<void()> fn) {
    scheduler_.Schedule(absl::ZeroDuration(), std::move(fn));
  }};
  std::function<uint32_t()> subscriber_count_;
  const absl::Time started_;
  // SetDevConfig's store (engine_devconfig.cc); loaded by the first AddProvider.
  DeviceConfigStore device_configs_;
  bool device_configs_loaded_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t device_config_revision_ ABSL_GUARDED_BY(mu_) = 0;

  absl::Mutex mu_;
  std::vector<std::unique_ptr<Provider>> providers_ ABSL_GUARDED_BY(mu_);
  // Providers a reload removed: stopped, kept until the engine goes.
  std::vector<std::unique_ptr<Provider>> retired_providers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, LineEntry> lines_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, CallEntry> calls_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, PhoneEntry> phones_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, SessionEntry> sessions_ ABSL_GUARDED_BY(mu_);
  // Last view of calls that ended during the current request (for replies).
  absl::flat_hash_map<std::string, v1::Call> ended_ ABSL_GUARDED_BY(mu_);
  uint64_t next_call_number_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<v1::CallOrigin, uint64_t> setup_counts_ ABSL_GUARDED_BY(mu_);
  std::map<Figures::EndKey, uint64_t> ended_counts_ ABSL_GUARDED_BY(mu_);
  // The session acting in the current request, and its line: calls created on
  // that line during the request are owned by it.
  SessionEntry* op_session_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::string op_line_ ABSL_GUARDED_BY(mu_);
  // The tag of the current call-creating request: calls created on op_line_
  // during it carry it (Call.tag).
  std::string op_tag_ ABSL_GUARDED_BY(mu_);
  bool op_active_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<CallMedia*> call_media_{nullptr};
};

// The dialable-address grammar TAPI accepts (digits, * # A-D, + canonical
// prefix, dial modifiers ! P T , W @ $ ?, separators space - ( ) . /).
// Returns the digits to route on (modifiers and separators removed), or
// InvalidArgument + LINEERR_INVALADDRESS.
absl::StatusOr<std::string> NormalizeDialString(absl::string_view dial);

// A destination that is a SIP URI ("sip:..." or "sips:..."), not a dial
// string. Only lines whose provider says DialsUris() take one.
bool IsUriDestination(absl::string_view dest);
// The form check for a URI destination: at most kMaxDestinationLength
// printable ASCII characters, no spaces, quotes or angle brackets, something
// after the scheme. LINEERR_INVALADDRESS otherwise.
absl::Status CheckUriDestination(absl::string_view dest);

// 32-bit permanent line id for LINEDEVCAPS (FNV-1a of the line id).
uint32_t PermanentLineId(absl::string_view line_id);

}  // namespace linebridge
