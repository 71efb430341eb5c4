// SipAgent's loop-side state, shared by the files that implement it:
// sip_agent.cc (accounts, registration, call set-up and tear-down),
// sip_call_control.cc (hold, transfer, redirect, session timers) and
// sip_dtmf.cc (digits). Loop thread only.
#pragma once

#include <sofia-sip/nua.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/su_wait.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "providers/sip/sip_agent.h"

namespace linebridge::sip {

struct Leg {
  Leg() = default;
  ~Leg() {
    if (bye_timer != nullptr) su_timer_destroy(bye_timer);
  }
  Leg(const Leg&) = delete;
  Leg& operator=(const Leg&) = delete;
  uint64_t id = 0;
  size_t account = 0;
  nua_handle_t* nh = nullptr;
  bool inbound = false;
  bool connected = false;
  bool gone = false;      // the provider hung up: report nothing more
  bool ended = false;     // reported
  bool cancelled = false; // the caller gave up (inbound)
  bool auth_tried = false;
  int final_status = 0;
  std::unique_ptr<RtpSession> rtp;
  SdpAudio remote_audio;  // from the far end's last SDP
  bool has_remote_audio = false;
  // Hold: what the provider asked for, what the last offer/answer gave.
  bool hold_pending = false;
  bool want_hold = false;
  bool local_hold = false;
  bool remote_hold = false;
  bool reported_local = false;  // as last reported
  bool reported_remote = false;
  // Transfer (REFER) in progress.
  bool refer_pending = false;
  // A far end's REFER this leg carries out (sip_far_transfer.cc): the
  // implicit subscription's Event, the call placed for it, whether the final
  // NOTIFY went out, and the BYE sent if the transferor does not hang up.
  std::string refer_event;
  uint64_t referral = 0;
  bool referral_notified = false;
  su_timer_t* bye_timer = nullptr;
  // A call placed for a far end's REFER: the leg whose subscription hears
  // how it went (0 once told).
  uint64_t referred_by = 0;
  std::string target;  // the request URI of an outbound leg
  // How the call ended, when it was connected.
  bool bye_received = false;
  int failed_refresh = 0;  // a re-INVITE/UPDATE refresh answered with this
};

struct AccountState {
  SipAgent::Impl* impl = nullptr;
  size_t index = 0;
  SipAgent::Account* account = nullptr;
  nua_t* nua = nullptr;
  nua_handle_t* reg = nullptr;
  std::vector<std::string> registrars;
  size_t registrar_index = 0;
  bool registered = false;
  bool reported = false;  // a state was reported at least once
  int auth_tries = 0;
  su_timer_t* retry = nullptr;
  bool shutdown_done = false;
  std::string tls_error;  // the TLS transport could not be set up: no nua
  bool register_pending = false;  // a REGISTER (not a refresh) awaits its answer
};

struct SipAgent::Impl {
  SipAgent* agent = nullptr;
  su_root_t* root = nullptr;
  std::vector<std::unique_ptr<AccountState>> accounts;
  std::map<uint64_t, std::unique_ptr<Leg>> legs;
  int tls_listener = 0;  // AddTlsFailureListener's id, 0 = none

  AccountCounters& Counters(size_t i) { return *agent->counters_[i]; }
  SipAgentSink& sink() { return *agent->sink_; }

  // sip_agent.cc
  absl::Status Init(su_root_t* r);
  void Fini();
  void Register(AccountState& a);
  void ReportRegistration(AccountState& a, bool in_service, const std::string& why);
  void OnRegisterResponse(AccountState& a, nua_handle_t* nh, int status, const char* phrase,
                          const sip_t* sip);
  static void OnRetry(void*, su_timer_t*, void* arg);
  // sofia-sip logged a TLS failure: the one TLS account waiting for its
  // REGISTER's answer (if only one is) failed to connect.
  void OnTlsFailure();
  Leg* NewLeg(uint64_t id, size_t account, nua_handle_t* nh, bool inbound);
  Leg* FindLeg(uint64_t id);
  bool OpenRtp(Leg& leg);
  void ApplyRemoteAudio(Leg& leg);
  void Call(size_t account, uint64_t id, const std::string& uri);
  void Answer(uint64_t id);
  void Hangup(uint64_t id, int reject_status);
  void End(Leg& leg, v1::DisconnectMode mode, int status);
  void Forget(Leg& leg);
  void OnIncoming(AccountState& a, nua_handle_t* nh, const sip_t* sip);
  void OnState(Leg& leg, int status, tagi_t tags[]);
  void OnInviteResponse(AccountState& a, Leg& leg, int status, const sip_t* sip);
  static void Callback(nua_event_t event, int status, const char* phrase, nua_t*, void* magic,
                       nua_handle_t* nh, void* hmagic, const sip_t* sip, tagi_t tags[]);
  void Dispatch(AccountState& a, nua_event_t event, int status, const char* phrase,
                nua_handle_t* nh, Leg* leg, const sip_t* sip, tagi_t tags[]);

  // sip_call_control.cc
  void Hold(uint64_t id, bool hold);
  // After an offer/answer: the hold states from the negotiated direction.
  void OnMediaDirection(Leg& leg, int active_audio);
  void ReportHold(Leg& leg, bool always = false);  // `always`: the answer to our own hold
  void Refer(uint64_t id, const std::string& target);
  // Attended transfer: REFER on `id` to the far end of `consult`, with a
  // Replaces naming the consultation dialog (RFC 3891).
  void ReferReplaces(uint64_t id, uint64_t consult);
  void OnReferResponse(Leg& leg, int status);
  void OnNotify(Leg& leg, const sip_t* sip);
  void Redirect(uint64_t id, const std::string& target);

  // sip_far_transfer.cc: transfers by the far end, this line being the
  // transferee (REFER) or the transfer target (INVITE with Replaces).
  void OnIncomingRefer(AccountState& a, nua_handle_t* nh, Leg* leg, const sip_t* sip,
                       tagi_t tags[]);
  void DeclineRefer(AccountState& a, nua_handle_t* nh, Leg* leg, const char* why);
  // The final sipfrag for the REFER behind `leg` (a referred call), once.
  void NotifyReferrer(Leg& leg, int status, const char* phrase);
  static void OnByeTimer(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg);
  // An INVITE with Replaces: accepted (the replaced leg ended) or refused.
  void OnIncomingReplaces(AccountState& a, nua_handle_t* nh, const sip_t* sip);
  // Caller, called and redirecting ids of an inbound INVITE.
  static IncomingCall IncomingOf(const sip_t* sip);
  // Redirecting ids from Diversion / History-Info of an inbound INVITE.
  static bool RedirectingOf(const sip_t* sip, Redirecting* out);

  // sip_dtmf.cc
  void SendDigits(uint64_t id, const std::string& digits, int duration_ms);
  void OnInfo(AccountState& a, Leg* leg, const sip_t* sip);
  void WireDigits(Leg& leg);
};

// The realm of a digest challenge, quotes included, as NUTAG_AUTH wants it.
std::string ChallengeRealm(const sip_t* sip);

}  // namespace linebridge::sip
