// The SIP side of phone lines (docs/sip.md, "Phone lines"): per phone, a
// sofia-sip NUA acting with its control account's identity that
//  - keeps a dialog event subscription (RFC 4235) to the phone's address of
//    record at its presence server, resubscribing with backoff, and reports
//    the phone's dialogs as the NOTIFYs tell them;
//  - places click-to-dial calls by third-party call control (RFC 3725 flow
//    I): an INVITE without SDP to the phone with auto-answer hints, then an
//    INVITE to the destination carrying the phone's offer, whose answer goes
//    to the phone in the ACK. linebridged never carries the media; later
//    re-INVITEs from either leg are relayed to the other, the application's
//    hold and resume are the line's own re-INVITEs to both legs
//    (sip_phone_relay.cc), and its blind transfer is a REFER to the
//    destination.
// Everything runs on its own SipLoop; other threads use the posting methods.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "linebridge/v1/config.pb.h"
#include "linebridge/v1/types.pb.h"
#include "providers/sip/sip_dialog_info.h"
#include "providers/sip/sip_loop.h"

namespace linebridge::sip {

enum class ClickToDialProgress {
  kPhoneAnswered,     // the phone took the call; the destination is being called
  kDestinationRings,  // 180/183 from the destination
  kConnected,         // both legs up (again: after a hold by either party ended)
  kHeld,              // the phone holds the call (its re-INVITE offered sendonly/inactive)
  kHeldByDestination,  // the destination holds the phone
};

// What the application asked of a click-to-dial call.
enum class ClickToDialRequest { kHold, kResume, kTransfer };
inline const char* RequestName(ClickToDialRequest r) {
  switch (r) {
    case ClickToDialRequest::kHold:
      return "hold";
    case ClickToDialRequest::kResume:
      return "resume";
    case ClickToDialRequest::kTransfer:
      return "transfer";
  }
  return "request";
}

// Called on the loop thread.
class SipPhoneSink {
 public:
  virtual ~SipPhoneSink() = default;
  // The dialog subscription was accepted (true) or is lost (false).
  virtual void OnPhoneWatch(size_t phone, bool watching, const std::string& why) = 0;
  // The phone's dialogs that changed (its click-to-dial legs left out).
  virtual void OnPhoneDialogs(size_t phone, std::vector<DialogInfoDialog> changed) = 0;
  virtual void OnClickToDial(uint64_t call, ClickToDialProgress progress) = 0;
  // The outcome of Hold or Transfer: `status` 200 when done (a transfer:
  // the transferee reached the target, the call is over and not reported
  // ended), else the SIP status that refused it, or 0 when it could not
  // be started (the call not connected, another renegotiation under way).
  virtual void OnClickToDialRequestDone(uint64_t call, ClickToDialRequest request,
                                        int status) = 0;
  // The outcome of EndOwnCall `request` (the PBX's answer).
  virtual void OnOwnCallEnded(uint64_t request, absl::Status outcome) = 0;
  // The click-to-dial call is over (not reported after HangUp).
  virtual void OnClickToDialEnded(uint64_t call, v1::DisconnectMode mode, int status) = 0;
};

// Per phone, readable from any thread.
struct PhoneCounters {
  std::atomic<uint64_t> subscriptions{0};         // SUBSCRIBEs answered 2xx
  std::atomic<uint64_t> subscription_failures{0};  // refused, timed out or terminated
  std::atomic<uint64_t> notifies{0};               // dialog-info documents applied
  std::atomic<uint64_t> bad_notifies{0};           // unreadable documents or version gaps
  std::atomic<uint64_t> click_to_dials{0};         // click-to-dial calls connected
  std::atomic<uint64_t> click_to_dial_failures{0};
  std::atomic<uint64_t> click_to_dial_transfers{0};  // the transferee reached the target
  std::atomic<uint64_t> click_to_dial_transfer_failures{0};
};

class SipPhoneAgent {
 public:
  struct Phone {
    v1::config::SipPhone config;
    v1::config::SipAccount control;
    std::string password;  // the control account's; never logged
    v1::config::SipTls tls;  // the provider's tls block (a TLS control account)
  };
  // `pbx`: the PBX's call control (kamailio_jsonrpc empty: none).
  SipPhoneAgent(std::string bind_address, std::vector<Phone> phones,
                v1::config::SipPbxControl pbx, SipPhoneSink* sink);
  ~SipPhoneAgent();

  // Binds each phone's socket and starts subscribing.
  absl::Status Start();
  void RequestStop();  // ends the loop without waiting; the destructor joins

  PhoneCounters& counters(size_t phone) { return *counters_[phone]; }
  uint64_t NewCallId() { return next_call_.fetch_add(1); }

  // Requests; each runs on the loop later.
  void ClickToDial(size_t phone, uint64_t call, const std::string& destination_uri);
  void HangUp(uint64_t call);  // CANCEL or BYE on both legs
  // The application's hold (true) or resume: both legs a=inactive, or both
  // back to sending.
  void Hold(uint64_t call, bool hold);
  // Ends a phone's own call, ringing or answered, through the PBX's call
  // control (the dialog as the PBX saw its INVITE: Call-ID and From tag);
  // OnOwnCallEnded tells how it went.
  void EndOwnCall(uint64_t request, const std::string& call_id, const std::string& from_tag);
  // Blind transfer: the destination is referred to `target_uri` (RFC 3515),
  // the phone's leg ends when it reached it.
  void Transfer(uint64_t call, const std::string& target_uri);

  struct Impl;

 private:
  std::string bind_address_;
  std::vector<Phone> phones_;
  v1::config::SipPbxControl pbx_;
  SipPhoneSink* sink_;
  std::vector<std::unique_ptr<PhoneCounters>> counters_;
  std::atomic<uint64_t> next_call_{1};
  SipLoop loop_;
  std::unique_ptr<Impl> impl_;  // loop thread only
};

}  // namespace linebridge::sip
