// The SIP side of the provider: one sofia-sip NUA user agent per account,
// registration with digest auth, refresh and failover, and the call legs
// (INVITE both ways, CANCEL, BYE, hold by re-INVITE, REFER, 302, DTMF,
// session timers) with their RTP. Everything here runs on
// the SipLoop thread; the provider talks to it only through the Post()ing
// methods below and hears back through SipAgentSink (also on the loop thread).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "linebridge/v1/config.pb.h"
#include "linebridge/v1/types.pb.h"
#include "providers/sip/sip_loop.h"
#include "providers/sip/sip_mapping.h"
#include "providers/sip/sip_rtp.h"

namespace linebridge::sip {

enum class LegProgress { kProceeding, kRingback, kConnected };

struct IncomingCall {
  v1::PartyId caller;
  v1::PartyId called;
  bool redirected = false;  // Diversion or History-Info named who redirected it
  Redirecting redirecting;
  bool referred = false;    // a Referred-By (RFC 3892) named who transferred it
  v1::PartyId referred_by;
  // An INVITE with Replaces that took over a call the line was still
  // placing: answered elsewhere by a pickup (RFC 3891).
  bool picked_up = false;
};

// A call the line places because the far end asked for it by REFER.
struct ReferredCall {
  std::string target;       // the request URI (Refer-To without its headers)
  v1::PartyId called;       // the target as a party
  v1::PartyId referred_by;  // the transferor (Referred-By, else the REFER's From)
  bool replaces = false;    // the INVITE carries a Replaces from the Refer-To
};

// Called on the loop thread.
class SipAgentSink {
 public:
  virtual ~SipAgentSink() = default;
  virtual void OnRegistration(size_t account, bool in_service, const std::string& why) = 0;
  virtual void OnIncoming(size_t account, uint64_t leg, IncomingCall call) = 0;
  // The far end of `leg` asked for a transfer (REFER, RFC 3515) and the line
  // is calling the target on `new_leg` (reported like a call of its own from
  // now on). When the new call connects, `leg` is over for the provider (the
  // agent reports nothing more about it); when it fails, `leg` stays.
  virtual void OnReferred(uint64_t leg, uint64_t new_leg, ReferredCall call) = 0;
  // An INVITE with Replaces (RFC 3891) took the place of `replaced`: the new
  // leg is answered at once and `replaced` is ended on the wire (BYE, or
  // CANCEL while it rang); nothing more is reported about `replaced`.
  virtual void OnReplaced(size_t account, uint64_t new_leg, uint64_t replaced,
                          IncomingCall call) = 0;
  virtual void OnProgress(uint64_t leg, LegProgress progress) = 0;
  virtual void OnEnded(uint64_t leg, v1::DisconnectMode mode, int status) = 0;
  // After each offer/answer on a connected call: whether this side holds the
  // far end (our re-INVITE with a=sendonly succeeded) and whether the far
  // end holds this side (its offer was sendonly or inactive).
  virtual void OnHold(uint64_t leg, bool local_hold, bool remote_hold) = 0;
  // Our hold or resume re-INVITE failed (`status`); nothing changed.
  virtual void OnHoldFailed(uint64_t leg, int status) = 0;
  // A blind transfer ended: `ok` when the transferee reached the target (a
  // 2xx sipfrag); `status` the REFER's failure or the sipfrag's code.
  virtual void OnTransferred(uint64_t leg, bool ok, int status) = 0;
  virtual void OnDigit(uint64_t leg, char digit) = 0;
  virtual void OnDigitsSent(uint64_t leg, const std::string& digits) = 0;
  // The leg's RTP socket is open: its audio for the media hub (alive as
  // long as anyone holds it; silent once the leg's RTP is gone).
  virtual void OnMedia(uint64_t leg, std::shared_ptr<DeviceAudio> audio) = 0;
};

// Per account, readable from any thread.
struct AccountCounters {
  RtpCounters rtp;
  std::atomic<uint64_t> registrations{0};        // 2xx to REGISTER
  std::atomic<uint64_t> registration_failures{0};
  std::atomic<uint64_t> rejected_requests{0};    // malformed or unsupported, refused
  std::atomic<uint64_t> holds{0};                // our hold re-INVITEs answered 2xx
  std::atomic<uint64_t> remote_holds{0};         // the far end put a call on hold
  std::atomic<uint64_t> transfers{0};            // REFERs whose sipfrag was 2xx
  std::atomic<uint64_t> transfer_failures{0};
  std::atomic<uint64_t> redirects{0};            // 302s sent
  std::atomic<uint64_t> refers_declined{0};      // REFERs from far ends, declined 603
  std::atomic<uint64_t> refers_accepted{0};      // REFERs from far ends, answered 202
  std::atomic<uint64_t> referred_calls_failed{0};  // their new calls that failed
  std::atomic<uint64_t> replaces{0};             // calls replaced by an INVITE with Replaces
  std::atomic<uint64_t> replaces_refused{0};     // INVITEs with Replaces refused (481/486/603)
  std::atomic<uint64_t> info_digits_received{0};
  std::atomic<uint64_t> session_refresh_failures{0};  // calls ended by a failed refresh
};

class SipAgent {
 public:
  struct Account {
    v1::config::SipAccount config;
    std::string password;  // never logged
    v1::config::SipTls tls;  // the provider's tls block (TLS accounts)
  };
  SipAgent(std::string bind_address, std::vector<Account> accounts, SipAgentSink* sink);
  ~SipAgent();

  // Binds every account's transport and starts registering. Accounts
  // without a registrar are in service from the start and never reported.
  absl::Status Start();
  // Ends the loop (it unregisters and hangs up, for a few seconds at most)
  // without waiting; Stop() (and the destructor) also join it.
  void RequestStop();
  void Stop();

  AccountCounters& counters(size_t account) { return *counters_[account]; }
  uint64_t NewLegId() { return next_leg_.fetch_add(1); }

  // Requests; each runs on the loop later. Unknown legs are ignored.
  void Call(size_t account, uint64_t leg, const std::string& uri);
  void Answer(uint64_t leg);
  void Hangup(uint64_t leg, int reject_status);  // CANCEL, BYE or a final response
  void Hold(uint64_t leg, bool hold);            // re-INVITE sendonly / sendrecv
  void Refer(uint64_t leg, const std::string& target);     // blind transfer
  void ReferReplaces(uint64_t leg, uint64_t consult);       // attended transfer
  void Redirect(uint64_t leg, const std::string& target);  // 302 to an offering call
  // RFC 4733 events when the far end takes them, else SIP INFO.
  void SendDigits(uint64_t leg, const std::string& digits, int duration_ms);

  struct Impl;

 private:
  std::string bind_address_;
  std::vector<Account> accounts_;
  SipAgentSink* sink_;
  std::vector<std::unique_ptr<AccountCounters>> counters_;
  std::atomic<uint64_t> next_leg_{1};
  SipLoop loop_;
  std::unique_ptr<Impl> impl_;  // loop thread only
};

}  // namespace linebridge::sip
