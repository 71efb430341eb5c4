// SipPhoneAgent's loop-side state, shared by the files that implement it:
// sip_phone_agent.cc (subscriptions, click-to-dial set-up and tear-down)
// and sip_phone_relay.cc (re-INVITEs relayed between the two legs of a
// click-to-dial call). Loop thread only.
#pragma once

#include <sofia-sip/nua.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/su_wait.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "providers/sip/sip_pbx_control.h"
#include "providers/sip/sip_phone_agent.h"
#include "providers/sip/sip_sdp_edit.h"

namespace linebridge::sip {

inline constexpr su_duration_t kFirstRetryMs = 1000;

// A request's or response's body, or "".
inline std::string Body(const sip_t* sip) {
  if (sip == nullptr || sip->sip_payload == nullptr) return "";
  return std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
}

// What a nua handle belongs to (its magic).
struct HandleTag {
  enum Kind { kSubscription, kPhoneLeg, kDestinationLeg } kind = kSubscription;
  uint64_t call = 0;
};

enum class LegState { kIdle, kCalling, kAnswered, kUp, kDone };

struct PhoneState;

struct ClickCall {
  uint64_t id = 0;
  PhoneState* phone = nullptr;
  std::string destination;
  std::string phone_call_id;  // Call-ID of the phone's leg
  nua_handle_t* a = nullptr;  // to the phone
  nua_handle_t* b = nullptr;  // to the destination
  HandleTag a_tag;
  HandleTag b_tag;
  LegState a_state = LegState::kIdle;
  LegState b_state = LegState::kIdle;
  bool a_auth_tried = false;
  bool b_auth_tried = false;
  bool rang = false;
  // Re-INVITEs relayed from one leg to the other (RFC 3725: the offer goes
  // on, the answer comes back); one at a time.
  std::string a_sdp;           // the phone's latest session description
  std::string b_sdp;           // the destination's
  bool relaying = false;       // a re-INVITE waits for the other leg's answer
  bool relay_from_phone = false;
  std::string relay_offer;
  bool relay_deferred = false;  // sent when the other leg's ACK comes
  bool a_awaits_ack = false;    // the line's 2xx to a re-INVITE is not acknowledged yet
  bool b_awaits_ack = false;
  bool phone_holds = false;    // the phone's last offer was sendonly/inactive
  bool destination_holds = false;
  // The application's hold or resume: the line's own offer goes to the
  // destination, the answer to the phone as an offer in turn.
  enum class Renegotiation { kNone, kToDestination, kToPhone };
  Renegotiation own = Renegotiation::kNone;
  bool own_hold = false;      // hold (else resume)
  bool own_deferred = false;  // sent when the leg's ACK comes
  std::string own_offer;      // the one for the phone
  bool held_by_line = false;  // the application holds the call
  bool referring = false;     // a REFER to the destination is under way
  ClickToDialProgress reported = ClickToDialProgress::kConnected;
  // Keep the versions each leg sees increasing (RFC 3264 section 8).
  SdpVersionKeeper to_phone;
  SdpVersionKeeper to_destination;
  bool hung_up = false;  // the provider hung up: report nothing
  bool ended = false;    // reported
  su_timer_t* timer = nullptr;
};

struct PhoneState {
  SipPhoneAgent::Impl* impl = nullptr;
  size_t index = 0;
  SipPhoneAgent::Phone* phone = nullptr;
  nua_t* nua = nullptr;
  nua_handle_t* sub = nullptr;
  HandleTag sub_tag;
  int sub_auth_tries = 0;
  bool watching = false;
  bool reported = false;
  su_timer_t* retry = nullptr;
  su_duration_t backoff_ms = kFirstRetryMs;
  DialogInfoView view;
  std::deque<std::string> own_call_ids;  // its click-to-dial legs, newest last
  bool shutdown_done = false;
};

struct SipPhoneAgent::Impl {
  SipPhoneAgent* agent = nullptr;
  su_root_t* root = nullptr;
  std::vector<std::unique_ptr<PhoneState>> phones;
  std::map<uint64_t, std::unique_ptr<ClickCall>> calls;
  std::unique_ptr<KamailioDialogControl> pbx;  // the PBX's call control, if configured
  absl::BitGen rng;

  SipPhoneSink& sink() { return *agent->sink_; }
  PhoneCounters& Counters(const PhoneState& p) { return *agent->counters_[p.index]; }

  absl::Status Init(su_root_t* r);
  void Fini();
  // Subscriptions.
  void Subscribe(PhoneState& p);
  void Watching(PhoneState& p, bool watching, const std::string& why);
  void Lost(PhoneState& p, const std::string& why);
  static void OnRetry(void*, su_timer_t*, void* arg);
  void OnSubscribeResponse(PhoneState& p, nua_handle_t* nh, int status, const char* phrase,
                           const sip_t* sip);
  void OnNotify(PhoneState& p, nua_handle_t* nh, const sip_t* sip, tagi_t tags[]);
  // Click-to-dial.
  void ClickToDial(size_t phone, uint64_t id, const std::string& destination);
  void HangUp(uint64_t id);
  void OnInviteResponse(PhoneState& p, ClickCall& c, bool phone_leg, int status,
                        const sip_t* sip);
  void OnTerminated(ClickCall& c, bool phone_leg);
  // Re-INVITEs (sip_phone_relay.cc).
  void OnReinvite(ClickCall& c, bool phone_leg, nua_handle_t* nh, const sip_t* sip);
  // True if the response was to a relayed re-INVITE (and is dealt with).
  bool OnRelayResponse(ClickCall& c, bool phone_leg, int status, const char* phrase,
                       const sip_t* sip);
  void AbortRelay(ClickCall& c);
  void SendRelay(ClickCall& c);
  void OnAck(ClickCall& c, bool phone_leg);
  // The application's hold/resume and transfer (sip_phone_relay.cc).
  void Hold(uint64_t id, bool hold);
  void SendOwnOffer(ClickCall& c);
  // True if the response was to the line's own re-INVITE (and is dealt with).
  bool OnOwnOfferResponse(ClickCall& c, bool phone_leg, int status, const sip_t* sip);
  void Transfer(uint64_t id, const std::string& target);
  void OnReferResponse(ClickCall& c, int status);
  void OnReferNotify(ClickCall& c, const sip_t* sip);
  void ReportHoldState(ClickCall& c);
  // Whether a re-INVITE or REFER of either kind is under way.
  static bool Renegotiating(const ClickCall& c) {
    return c.relaying || c.own != ClickCall::Renegotiation::kNone || c.referring;
  }
  void Fail(ClickCall& c, v1::DisconnectMode mode, int status);
  void Report(ClickCall& c, v1::DisconnectMode mode, int status);
  void EndLeg(ClickCall& c, bool phone_leg);
  void MaybeForget(ClickCall& c);
  void StartTimer(ClickCall& c, su_duration_t ms);
  static void OnCallTimer(void*, su_timer_t*, void* arg);
  std::string Credentials(const PhoneState& p, const sip_t* sip) const;

  static void Callback(nua_event_t event, int status, const char* phrase, nua_t*, void* magic,
                       nua_handle_t* nh, void* hmagic, const sip_t* sip, tagi_t tags[]);
  void Dispatch(PhoneState& p, nua_event_t event, int status, const char* phrase,
                nua_handle_t* nh, HandleTag* tag, const sip_t* sip, tagi_t tags[]);
};

}  // namespace linebridge::sip
