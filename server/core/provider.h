// Device providers: the server-side service providers that own hardware (or,
// for `sim`, a simulated PBX). The engine validates every request against
// TAPI's rules (handles, call states, privileges, sizes) and then hands it to
// the provider that owns the line. Providers report what happens through
// ProviderHost.
//
// Locking: every Provider method is called with the engine lock held and must
// not block (queue device I/O on the provider's own loop instead). Every
// ProviderHost method must be called with the engine lock held: from inside a
// Provider method, from a timer scheduled with ProviderHost::Schedule, or from
// a closure run through Engine::RunLocked (device threads).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "linebridge/lineerr.h"
#include "linebridge/v1/config.pb.h"
#include "linebridge/v1/telephony.pb.h"

namespace linebridge {

class ProviderHost {
 public:
  using TimerId = uint64_t;
  virtual ~ProviderHost() = default;

  // Lines. `line.id` must be "<provider name>/<device>"; the engine fills
  // status counters, and caps.permanent_line_id unless the provider set it.
  virtual void AddLine(v1::Line line) = 0;
  virtual void RemoveLine(const std::string& line_id) = 0;
  virtual void SetLineState(const std::string& line_id, v1::LineState state) = 0;
  virtual void SetLineForwarding(const std::string& line_id,
                                 const std::vector<v1::ForwardRule>& rules) = 0;

  // Calls. CreateCall assigns the id, owners and monitors and announces it;
  // `info.line_id`/`address_index` must be set.
  virtual std::string CreateCall(v1::CallInfo info, v1::CallStatus status) = 0;
  // A state change; IDLE ends the call (CDR written, call forgotten).
  virtual void SetCallState(const std::string& call_id, v1::CallStatus status) = 0;
  // Edits the call info and announces the named fields as changed.
  virtual void UpdateCallInfo(const std::string& call_id,
                              const std::function<void(v1::CallInfo*)>& edit,
                              std::vector<std::string> changed) = 0;
  virtual void DigitReceived(const std::string& call_id, absl::string_view digit,
                             v1::DigitMode mode) = 0;
  virtual void DigitsGenerated(const std::string& call_id, absl::string_view digits,
                               bool cancelled) = 0;
  virtual const v1::Call* FindCall(const std::string& call_id) const = 0;
  // The live calls of a line, in no particular order.
  virtual std::vector<const v1::Call*> CallsOnLine(const std::string& line_id) const = 0;

  // Phones (core/phones.h). `phone.id` must be "<provider name>/<device>"
  // (the sim: "sim/phone/100"); the engine completes the caps and status
  // (NormalizePhone) and announces it. UpdatePhoneStatus edits the status
  // and announces the named PhoneStatus fields as changed (a phone_state
  // event; `button_lamp_id` for "lamp_modes"); PhoneButton records a button
  // going down or up and announces it (a phone_button event).
  virtual void AddPhone(v1::Phone phone) = 0;
  virtual void RemovePhone(const std::string& phone_id) = 0;
  virtual void UpdatePhoneStatus(const std::string& phone_id,
                                 const std::function<void(v1::PhoneStatus*)>& edit,
                                 std::vector<std::string> changed, uint32_t button_lamp_id = 0) = 0;
  virtual void PhoneButton(const std::string& phone_id, uint32_t button_id,
                           v1::PhoneButtonState state) = 0;
  virtual const v1::Phone* FindPhone(const std::string& phone_id) const = 0;

  // The authorization of the request being served (core/authority.h): OK
  // when none applies. Ask before taking a call from another line (pickup,
  // unpark) and before a leg to a destination outside the switch (redirect,
  // blind transfer, forwarding), and return the error as it is.
  virtual absl::Status AuthorizeTake(const std::string& line_id, bool same_pickup_group) = 0;
  virtual absl::Status AuthorizeOutside(const std::string& line_id) = 0;

  // Runs `fn` with the engine lock held after `delay`.
  virtual TimerId Schedule(absl::Duration delay, std::function<void()> fn) = 0;
  virtual void CancelTimer(TimerId id) = 0;

  // A request whose outcome the device tells only later (a SIP transfer's
  // final NOTIFY). Called from a Provider request method while it serves the
  // request, it holds the client's reply until CompleteReply(token, outcome):
  // OK answers with the call as it is then, an error with that error. When
  // the client's deadline comes first, the reply is `if_late` (OK: the
  // request is under way) shortly before it. The engine answers
  // DEADLINE_EXCEEDED (LINEERR_OPERATIONFAILED) after kMaxDeferredReply
  // without an outcome, and UNAVAILABLE at shutdown.
  virtual uint64_t DeferReply(absl::Status if_late) = 0;
  virtual void CompleteReply(uint64_t token, absl::Status outcome) = 0;
  static constexpr absl::Duration kMaxDeferredReply = absl::Seconds(60);

  // The device configuration SetDevConfig last stored for the line (kept
  // across restarts), if any: a provider applies it when it adds the line.
  virtual std::optional<v1::DeviceConfig> StoredDeviceConfig(const std::string& line_id) const = 0;

  // The one exception to "call with the lock held": a provider's own device
  // threads call this, without the lock, to run `fn` with it held (the engine
  // skips `fn` once it has shut down). Never call it with the lock held.
  virtual void RunLocked(const std::function<void()>& fn) = 0;
};

// Helpers for building statuses.
v1::CallStatus MakeStatus(v1::CallState state);
v1::CallStatus Disconnected(v1::DisconnectMode mode);
v1::CallStatus Connected(v1::ConnectedMode mode = v1::CONNECTED_MODE_ACTIVE);
v1::CallStatus Offering(v1::OfferingMode mode = v1::OFFERING_MODE_ACTIVE);
v1::CallStatus DialTone(v1::DialToneMode mode = v1::DIAL_TONE_MODE_INTERNAL);
v1::CallStatus Busy(v1::BusyMode mode);
v1::CallStatus SpecialInfo(v1::SpecialInfoMode mode);

// A provider's own counter for metrics, e.g. modem resets per line.
struct ProviderCounter {
  std::string name;  // metric name without the "linebridge_" prefix, ending in _total
  std::string help;
  std::vector<std::pair<std::string, std::string>> labels;  // besides provider
  uint64_t value = 0;
};

struct ParkResult {
  std::string park_address;
};

// 20 ms of 8 kHz 16-bit linear audio, the media hub's frame.
inline constexpr int kDeviceFrameSamples = 160;
using DeviceFrame = std::array<int16_t, kDeviceFrameSamples>;

// The far end of a call that is a device outside the server: a SIP peer's
// RTP, a voice modem. While the call has an endpoint in the media hub (a
// stream is on it or on a call that hears it), the hub exchanges one frame
// with the device per 20 ms tick: Pull what the far end sent, then Push what
// the call sends. Every method is called on the hub's clock thread with the
// hub's lock held: none may block or call into the hub or the engine.
class DeviceAudio {
 public:
  virtual ~DeviceAudio() = default;
  // The hub starts (true) or stops (false) exchanging audio with the device.
  // Between Attached(false) and the next Attached(true) nothing is pulled or
  // pushed: the device plays what it plays without the hub (silence).
  virtual void Attached(bool attached) = 0;
  // What the far end sent for this tick. False: nothing arrived in time
  // (the call hears silence for this tick); `frame` is then not read.
  virtual bool Pull(DeviceFrame* frame) = 0;
  // What the call sends to the far end for this tick.
  virtual void Push(const DeviceFrame& frame) = 0;
};

// Where a call's audio comes from (server/media): the calls whose sent audio
// it hears, mixed, and what its far end plays: a simulated one, or a device.
// A call whose route is empty hears silence.
struct MediaRoute {
  enum class FarEnd { kNone, kEcho, kPrompt };
  std::vector<std::string> hears;  // call ids
  FarEnd far_end = FarEnd::kNone;  // kEcho: hears what it sends
  // A device far end (its provider keeps it alive while the call lives);
  // what it sends is heard by the call, what the call sends goes to it.
  std::shared_ptr<DeviceAudio> device;
  bool operator==(const MediaRoute&) const = default;
};

class Provider {
 public:
  virtual ~Provider() = default;

  virtual absl::string_view type() const = 0;  // "sim", "modem", ...
  virtual absl::string_view name() const = 0;  // instance name, the line id prefix

  // Announces the provider's lines and starts its devices.
  virtual absl::Status Start(ProviderHost& host) = 0;
  virtual void Stop() {}
  // Applies a changed configuration (config reload): adds/removes lines.
  virtual absl::Status Reconfigure(const v1::config::ProviderConfig& config) {
    (void)config;
    return Unimplemented("provider cannot be reconfigured at runtime");
  }

  // Whether the provider's lines take SIP URIs ("sip:user@host") as
  // destinations besides dial strings (MakeCall, Dial, Redirect,
  // BlindTransfer); the engine refuses URIs to other lines.
  virtual bool DialsUris() const { return false; }

  // Counters for metrics; called under the engine lock.
  virtual std::vector<ProviderCounter> Counters() const { return {}; }

  // The engine forgot a call (it went IDLE, by the provider's doing or the
  // engine's: a lingering DISCONNECTED call, a dropped orphan, a removed line).
  virtual void OnCallIdle(const std::string& call_id) { (void)call_id; }
  // A call of the line was created or changed state (after OnCallIdle for
  // one that went IDLE): for a provider whose devices follow the line's
  // calls (the sim's phones ring and light lamps). Must not change calls.
  virtual void OnLineCallsChanged(const std::string& line_id) { (void)line_id; }

  // Call control. The engine has checked handles, states and privileges; the
  // provider checks what only it can know. Defaults: operation unavailable.
  virtual absl::StatusOr<std::string> MakeCall(const std::string& line_id, uint32_t address_index,
                                               const std::string& destination,
                                               const v1::CallParams& params);
  virtual absl::Status Dial(const std::string& call_id, const std::string& destination);
  virtual absl::Status Accept(const std::string& call_id, const std::string& uui);
  virtual absl::Status Answer(const std::string& call_id, const std::string& uui);
  virtual absl::Status Drop(const std::string& call_id, const std::string& uui);
  virtual absl::Status Hold(const std::string& call_id);
  virtual absl::Status Unhold(const std::string& call_id);
  // lineSwapHold: `active_call_id` (CONNECTED) goes on hold and `held_call_id`
  // (ONHOLD, or ONHOLDPENDTRANSFER/ONHOLDPENDCONF if the provider can) becomes
  // the active call; both on one line and address (checked by the engine).
  // Report ONHOLD for the active call first, then CONNECTED for the other.
  virtual absl::Status SwapHold(const std::string& active_call_id,
                                const std::string& held_call_id);
  virtual absl::Status Redirect(const std::string& call_id, const std::string& destination);
  virtual absl::Status BlindTransfer(const std::string& call_id, const std::string& destination);
  // Returns the consultation call.
  virtual absl::StatusOr<std::string> SetupTransfer(const std::string& call_id);
  // Returns the conference call for TRANSFER_MODE_CONFERENCE, else "".
  virtual absl::StatusOr<std::string> CompleteTransfer(const std::string& call_id,
                                                       const std::string& consultation_id,
                                                       v1::TransferMode mode);
  // Returns {conference, consultation}.
  virtual absl::StatusOr<std::pair<std::string, std::string>> SetupConference(
      const std::string& call_id);
  virtual absl::StatusOr<std::string> PrepareAddToConference(const std::string& conference_id);
  virtual absl::Status AddToConference(const std::string& conference_id, const std::string& call_id);
  virtual absl::Status RemoveFromConference(const std::string& call_id);
  virtual absl::StatusOr<ParkResult> Park(const std::string& call_id, v1::ParkMode mode,
                                          const std::string& destination);
  virtual absl::StatusOr<std::string> Unpark(const std::string& line_id, uint32_t address_index,
                                             const std::string& park_address);
  virtual absl::StatusOr<std::string> Pickup(const std::string& line_id, uint32_t address_index,
                                             const std::string& destination,
                                             const std::string& group_id);
  // lineSetCallParams: the engine has checked the bearer mode against the
  // line's caps and worked out the rate and clamped dial parameters.
  virtual absl::Status SetCallParams(const std::string& call_id, v1::BearerMode bearer_mode,
                                     uint32_t rate, const v1::DialParams& dial_params);
  // lineSetCallTreatment on an unanswered call (one of the address's treatments).
  virtual absl::Status SetCallTreatment(const std::string& call_id, v1::CallTreatment treatment);
  // CallStatus.features: the engine lists what the call's state and its
  // address's caps allow; a provider removes what it cannot do for this
  // call in particular (default: nothing). Engine lock held; no blocking.
  virtual void LimitCallFeatures(const v1::Call& call,
                                 std::vector<v1::CallFeature>* features) const {
    (void)call;
    (void)features;
  }
  // lineCompleteCall on a call whose party is busy or does not answer (the
  // engine checked the state and that the address offers `mode`): the new
  // completion's id, unique on the provider and never 0.
  virtual absl::StatusOr<uint32_t> CompleteCall(const std::string& call_id,
                                                v1::CompletionMode mode, uint32_t message_id);
  // lineUncompleteCall: cancels a pending completion of the line
  // (NOT_FOUND, LINEERR_INVALCOMPLETIONID if it has none of that id).
  virtual absl::Status UncompleteCall(const std::string& line_id, uint32_t completion_id);
  // lineSendUserUserInfo: `uui` (checked for size) to the call's far end.
  virtual absl::Status SendUserUserInfo(const std::string& call_id, const std::string& uui);
  virtual absl::Status GenerateDigits(const std::string& call_id, const std::string& digits,
                                      v1::DigitMode mode, absl::Duration duration);
  virtual absl::Status SetForwarding(const std::string& line_id,
                                     const std::vector<v1::ForwardRule>& rules);
  // lineSetDevConfig on a line whose Line.device_config is set: `config` is
  // of the same kind (checked by the engine). Validate it (INVALID_ARGUMENT,
  // LINEERR_INVALPARAM), apply it and return it as stored (defaults filled);
  // the engine announces and keeps it. Default: FAILED_PRECONDITION,
  // LINEERR_INVALDEVICECLASS (the provider's lines have none).
  virtual absl::StatusOr<v1::DeviceConfig> SetDevConfig(const std::string& line_id,
                                                        const v1::DeviceConfig& config);

  // Phones. OperatePhone: what the person at the phone does (press a
  // button, lift the handset); the engine has checked the button or the
  // hookswitch device and mode against the caps. The provider reports the
  // effects (PhoneButton, UpdatePhoneStatus, calls). Default: UNIMPLEMENTED,
  // PHONEERR_OPERATIONUNAVAIL.
  virtual absl::Status OperatePhone(const std::string& phone_id,
                                    const v1::OperatePhoneRequest& request);
  // A client changed the phone (SetPhoneHookSwitch, SetPhoneRing, …): the
  // engine has applied and announced it; `changed` names the fields.
  virtual void PhoneStatusSet(const std::string& phone_id,
                              const std::vector<std::string>& changed) {
    (void)phone_id;
    (void)changed;
  }

  // Media (server/media). Whether the provider carries a call's audio at
  // all (false: a media stream on it fails with OPERATIONUNAVAIL), and the
  // route of a live call's audio now. Called under the engine lock whenever
  // calls changed while media streams are open.
  virtual bool CarriesMedia() const { return false; }
  // The same for one live call, for providers whose lines differ (a SIP
  // user-agent line carries its calls' RTP; a line controlling a phone
  // elsewhere does not). Default: CarriesMedia().
  virtual bool CallCarriesMedia(const std::string& call_id) const {
    (void)call_id;
    return CarriesMedia();
  }
  // The same for a line, at AddLine (its caps list the media features only
  // if it carries audio). Default: CarriesMedia().
  virtual bool LineCarriesMedia(const std::string& line_id) const {
    (void)line_id;
    return CarriesMedia();
  }
  virtual MediaRoute MediaRouteOf(const std::string& call_id) const {
    (void)call_id;
    return {};
  }
};

// Providers registered by type name ("sim"). The registry is a function-local
// static; registering a type twice is a programming error and aborts.
class ProviderRegistry {
 public:
  using Factory =
      std::function<absl::StatusOr<std::unique_ptr<Provider>>(const v1::config::ProviderConfig&)>;

  static ProviderRegistry& Get();
  void Register(const std::string& type, Factory factory);
  // The type a config selects ("sim" for ProviderConfig.sim).
  static std::string TypeOf(const v1::config::ProviderConfig& config);
  absl::StatusOr<std::unique_ptr<Provider>> Create(const v1::config::ProviderConfig& config) const;
  std::vector<std::string> types() const;

 private:
  absl::flat_hash_map<std::string, Factory> factories_;
};

// Registers a provider type at static-initialisation time:
//   static ProviderRegistrar kSim("sim", &SimProvider::Create);
struct ProviderRegistrar {
  ProviderRegistrar(const std::string& type, ProviderRegistry::Factory factory) {
    ProviderRegistry::Get().Register(type, std::move(factory));
  }
};

}  // namespace linebridge
