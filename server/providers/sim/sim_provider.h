// The simulated PBX: linebridged's embedded default and the substrate for
// tests and benchmarks. A complete provider, not a stub: extensions that call
// each other, external numbers with scripted behaviour, hold, transfer,
// conference, park, pickup, redirect, forwarding and DTMF between parties.
//
// Model: every call appearance on an extension is a *leg* (one engine call).
// A leg's far end is another leg (internal call), an external number, or
// nothing yet. Everything runs under the engine lock (see core/provider.h);
// timers come from ProviderHost::Schedule.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/provider.h"
#include "linebridge/v1/config.pb.h"

namespace linebridge {

class SimProvider : public Provider {
 public:
  static absl::StatusOr<std::unique_ptr<Provider>> Create(const v1::config::ProviderConfig& config);
  explicit SimProvider(v1::config::SimConfig config);

  absl::string_view type() const override { return "sim"; }
  absl::string_view name() const override { return config_.name(); }

  absl::Status Start(ProviderHost& host) override;
  absl::Status Reconfigure(const v1::config::ProviderConfig& config) override;
  void OnCallIdle(const std::string& call_id) override;

  absl::StatusOr<std::string> MakeCall(const std::string& line_id, uint32_t address_index,
                                       const std::string& destination,
                                       const v1::CallParams& params) override;
  absl::Status Dial(const std::string& call_id, const std::string& destination) override;
  absl::Status Accept(const std::string& call_id, const std::string& uui) override;
  absl::Status Answer(const std::string& call_id, const std::string& uui) override;
  absl::Status Drop(const std::string& call_id, const std::string& uui) override;
  absl::Status Hold(const std::string& call_id) override;
  absl::Status Unhold(const std::string& call_id) override;
  absl::Status SwapHold(const std::string& active_call_id,
                        const std::string& held_call_id) override;
  absl::Status Redirect(const std::string& call_id, const std::string& destination) override;
  absl::Status BlindTransfer(const std::string& call_id, const std::string& destination) override;
  absl::StatusOr<std::string> SetupTransfer(const std::string& call_id) override;
  absl::StatusOr<std::string> CompleteTransfer(const std::string& call_id,
                                               const std::string& consultation_id,
                                               v1::TransferMode mode) override;
  absl::StatusOr<std::pair<std::string, std::string>> SetupConference(
      const std::string& call_id) override;
  absl::StatusOr<std::string> PrepareAddToConference(const std::string& conference_id) override;
  absl::Status AddToConference(const std::string& conference_id,
                               const std::string& call_id) override;
  absl::Status RemoveFromConference(const std::string& call_id) override;
  absl::StatusOr<ParkResult> Park(const std::string& call_id, v1::ParkMode mode,
                                  const std::string& destination) override;
  absl::StatusOr<std::string> Unpark(const std::string& line_id, uint32_t address_index,
                                     const std::string& park_address) override;
  absl::StatusOr<std::string> Pickup(const std::string& line_id, uint32_t address_index,
                                     const std::string& destination,
                                     const std::string& group_id) override;
  absl::Status SendUserUserInfo(const std::string& call_id, const std::string& uui) override;
  absl::Status SetCallParams(const std::string& call_id, v1::BearerMode bearer_mode,
                             uint32_t rate, const v1::DialParams& dial_params) override;
  absl::Status SetCallTreatment(const std::string& call_id, v1::CallTreatment treatment) override;
  // Call completion (sim_completion.cc): CALLBACK only. The switch offers
  // the caller a CALLCOMPLETION call once the party is free again; answering
  // it rings the party.
  absl::StatusOr<uint32_t> CompleteCall(const std::string& call_id, v1::CompletionMode mode,
                                        uint32_t message_id) override;
  absl::Status UncompleteCall(const std::string& line_id, uint32_t completion_id) override;
  absl::Status GenerateDigits(const std::string& call_id, const std::string& digits,
                              v1::DigitMode mode, absl::Duration duration) override;
  // lineSetDevConfig: the opaque block is kept as given (the engine bounds
  // its size and keeps it across restarts).
  absl::StatusOr<v1::DeviceConfig> SetDevConfig(const std::string& line_id,
                                                const v1::DeviceConfig& config) override;
  absl::Status SetForwarding(const std::string& line_id,
                             const std::vector<v1::ForwardRule>& rules) override;
  // Audio (sim_media.cc): connected parties hear each other, a conference
  // call hears its parties' far ends and they hear it and each other, an
  // external number plays its SimMedia.
  bool CarriesMedia() const override { return true; }
  MediaRoute MediaRouteOf(const std::string& call_id) const override;

  // Phones (sim_phone.cc): each extension's desk set, "<name>/phone/<ext>"
  // (docs/api.md#phones). It rings and lights its lamps as the line's calls
  // go; lifting the handset answers or gets dial tone, replacing it drops
  // the call; keypad presses dial or send DTMF; HOLD, TRANSFER and DROP act
  // on the line's call.
  absl::Status OperatePhone(const std::string& phone_id,
                            const v1::OperatePhoneRequest& request) override;
  void PhoneStatusSet(const std::string& phone_id,
                      const std::vector<std::string>& changed) override;
  void OnLineCallsChanged(const std::string& line_id) override;

  // The sim phone's buttons: keypad 0-9 are ids 0-9, then these.
  static constexpr uint32_t kStarButton = 10;
  static constexpr uint32_t kHashButton = 11;
  static constexpr uint32_t kCallButton = 12;
  static constexpr uint32_t kHoldButton = 13;
  static constexpr uint32_t kTransferButton = 14;
  static constexpr uint32_t kDropButton = 15;
  static constexpr uint32_t kNumPhoneButtons = 16;
  static constexpr uint32_t kPhoneDataAreaSize = 256;

  // Parties a conference holds at most (besides the controlling extension).
  static constexpr int kMaxConferenceParties = 3;
  // Completions pending on one extension at most; how long one waits.
  static constexpr int kMaxCompletions = 4;
  static constexpr absl::Duration kCompletionLifetime = absl::Minutes(30);

 private:
  // The far end of a leg.
  struct Remote {
    std::string leg;                                  // an internal leg, or
    std::optional<v1::config::SimExternal> external;  // an external number
    bool empty() const { return leg.empty() && !external.has_value(); }
  };
  struct Leg {
    std::string id;
    std::string ext;
    Remote remote;
    std::string hub;                  // conference this leg is a party of
    std::vector<std::string> parties; // for a conference call: its parties
    bool is_hub = false;
    std::string consult_for;          // the call this consultation serves
    std::string parked_at;            // orbit this leg's far end parked it on
    ProviderHost::TimerId timer = 0;  // pending ring/answer/external behaviour
    ProviderHost::TimerId hangup_timer = 0;
    std::string callback_to;          // a completion's callback: the party it calls
  };
  // A pending lineCompleteCall (CALLBACK): `ext` is called back once `party`
  // is free. A party that did not answer must first use its phone (armed
  // when it next has a call).
  struct Completion {
    std::string ext;
    std::string party;
    bool armed = false;
    ProviderHost::TimerId expiry = 0;
  };
  struct Extension {
    v1::config::SimExtension config;
    std::vector<v1::ForwardRule> forwarding;
  };
  enum class Target { kNone, kExtension, kExternal };
  struct Resolved {
    Target kind = Target::kNone;
    std::string number;  // extension or external number
    const v1::config::SimExternal* external = nullptr;
  };

  std::string LineId(const std::string& ext) const { return config_.name() + "/" + ext; }
  v1::Line BuildLine(const Extension& ext) const;
  v1::PartyId PartyOfExtension(const std::string& ext) const;
  v1::PartyId PartyOf(const Remote& remote) const;
  Resolved Resolve(const std::string& digits) const;
  absl::StatusOr<Resolved> ResolveOrError(const std::string& destination) const;
  int ActiveLegs(const std::string& ext) const;
  Leg* FindLeg(const std::string& id);
  const Leg* FindLeg(const std::string& id) const;
  bool Talking(const std::string& leg_id) const;
  absl::StatusOr<Leg*> GetLeg(const std::string& id);
  const v1::CallInfo& InfoOf(const std::string& leg_id) const;

  // Creates a leg (and its engine call) on `ext`.
  Leg& NewLeg(const std::string& ext, v1::CallInfo info, v1::CallStatus status);
  // Routes `from` (a leg that is calling, or an external party being
  // transferred) to `digits`. `depth` guards forwarding loops.
  void Route(const Remote& from, const std::string& digits, v1::CallReason reason,
             const v1::PartyId& redirecting, int depth = 0);
  void OfferToExtension(const Remote& from, const std::string& ext, v1::CallReason reason,
                        const v1::PartyId& redirecting, int depth);
  void CallExternal(const std::string& leg_id, const v1::config::SimExternal& ext);
  void ConnectExternal(const std::string& leg_id);
  void Fail(const std::string& leg_id, v1::DisconnectMode mode);
  // A DIALTONE consultation call on `ext` related to `for_call`.
  std::string NewConsultation(const std::string& ext, const std::string& for_call);
  // Makes `party_id` a CONFERENCED party of the conference `hub_id`.
  void JoinConference(const std::string& hub_id, const std::string& party_id);
  // Links two far ends (legs or externals) to each other after a transfer,
  // pickup or unpark.
  void Link(const Remote& a, const Remote& b);
  void SetRemote(Leg& leg, const Remote& remote);
  // Detaches `leg` from its far end and returns what was there.
  Remote Detach(Leg& leg);
  // Tells the far end of `leg` the call is gone.
  void DisconnectRemote(Leg& leg, v1::DisconnectMode mode, const std::string& uui);
  void SetIdle(const std::string& leg_id);
  void DropHub(Leg& hub);
  void LeaveConference(Leg& party);
  void CollapseConference(const std::string& hub_id);
  void CancelTimers(Leg& leg);
  void SetConnectedParty(const std::string& leg_id, const v1::PartyId& party);
  std::string FindFreeOrbit() const;
  bool SamePickupGroup(const std::string& a, const std::string& b) const;
  bool IsOrbit(const std::string& digits) const;
  // DTMF from `leg` to everyone who hears it (GenerateDigits, keypad).
  void SendDtmf(const Leg& leg, const std::string& digits);

  // Phones (sim_phone.cc).
  struct Phone {
    bool offhook = false;    // any hookswitch device off hook
    bool ringing = false;    // as last set from the calls
    v1::LampMode call_lamp = v1::LAMP_MODE_OFF;
    v1::LampMode hold_lamp = v1::LAMP_MODE_OFF;
    std::string dialled;     // keypad digits collected on a dial-tone call
  };
  bool phones_enabled() const { return !config_.has_phones() || config_.phones(); }
  std::string PhoneId(const std::string& ext) const { return config_.name() + "/phone/" + ext; }
  v1::Phone BuildPhone(const Extension& ext) const;
  void AddPhoneOf(const Extension& ext);
  // The extension of a phone id, or "" if it is none of this provider's.
  std::string ExtOfPhone(const std::string& phone_id) const;
  // The line's call in one of `states` (the first by call id), or "".
  std::string CallIn(const std::string& ext, std::initializer_list<v1::CallState> states) const;
  void PressButton(const std::string& ext, uint32_t button);
  void PressKeypad(const std::string& ext, char digit);
  // The hookswitch as the phone's status has it now: going off hook answers
  // a ringing call or gets dial tone, going on hook drops the call.
  void HookSwitchChanged(const std::string& ext);
  // Completions (sim_completion.cc): a new leg of `ext` arms the
  // completions waiting for it to use its phone; after a call ends, callbacks
  // whose party and caller are both free are offered.
  void ArmCompletions(const std::string& ext);
  void OfferCallbacks();
  void OfferCallback(uint32_t id);
  // Answering a callback leg calls its party.
  void PlaceCallback(Leg& leg);

  v1::config::SimConfig config_;
  ProviderHost* host_ = nullptr;
  std::map<std::string, Extension> extensions_;        // by number
  std::map<std::string, Leg> legs_;                    // by call id
  // A parked far end and the extension that parked it.
  struct Orbit {
    Remote parked;
    std::string from_ext;
  };
  std::map<std::string, Orbit> orbits_;  // by orbit
  std::map<std::string, Phone> phones_;  // by extension
  std::map<uint32_t, Completion> completions_;  // by completion id
  uint32_t next_completion_id_ = 1;
  bool callbacks_scheduled_ = false;
};

}  // namespace linebridge
