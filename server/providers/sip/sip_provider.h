// The SIP provider: user-agent lines, one TAPI line per account
// (docs/sip.md). The SIP stack (SipAgent) runs on its own loop thread; the
// provider's state here lives under the engine lock. Requests go to the loop
// with SipAgent's posting methods (never blocking); what the loop learns
// comes back through ProviderHost::RunLocked.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/provider.h"
#include "linebridge/v1/config.pb.h"
#include "providers/sip/sip_agent.h"
#include "providers/sip/sip_phone_lines.h"

namespace linebridge {

class SipProvider : public Provider, public sip::SipAgentSink {
 public:
  static absl::StatusOr<std::unique_ptr<Provider>> Create(const v1::config::ProviderConfig& config);
  explicit SipProvider(v1::config::SipConfig config);
  ~SipProvider() override;

  absl::string_view type() const override { return "sip"; }
  absl::string_view name() const override { return config_.name(); }
  bool DialsUris() const override { return true; }
  // A phone line (third-party control of a SIP phone; its calls carry no
  // media through linebridged), not a user-agent line. Engine lock.
  bool IsPhoneLine(const std::string& line_id) const {
    return phones_ != nullptr && phones_->IsPhoneLine(line_id);
  }

  absl::Status Start(ProviderHost& host) override;
  void Stop() override;
  absl::Status Reconfigure(const v1::config::ProviderConfig& config) override;
  void OnCallIdle(const std::string& call_id) override;
  std::vector<ProviderCounter> Counters() const override;

  // Media (sip_provider_media.cc): a user-agent line's call carries its RTP
  // audio to and from the media hub.
  bool CarriesMedia() const override { return true; }
  bool CallCarriesMedia(const std::string& call_id) const override;
  // User-agent lines carry their calls' RTP; phone lines never carry media.
  bool LineCarriesMedia(const std::string& line_id) const override { return !IsPhoneLine(line_id); }
  MediaRoute MediaRouteOf(const std::string& call_id) const override;

  absl::StatusOr<std::string> MakeCall(const std::string& line_id, uint32_t address_index,
                                       const std::string& destination,
                                       const v1::CallParams& params) override;
  absl::Status Answer(const std::string& call_id, const std::string& uui) override;
  absl::Status Drop(const std::string& call_id, const std::string& uui) override;
  void LimitCallFeatures(const v1::Call& call,
                         std::vector<v1::CallFeature>* features) const override;
  absl::Status Hold(const std::string& call_id) override;
  absl::Status Unhold(const std::string& call_id) override;
  absl::Status Redirect(const std::string& call_id, const std::string& destination) override;
  absl::Status BlindTransfer(const std::string& call_id, const std::string& destination) override;
  absl::StatusOr<std::string> SetupTransfer(const std::string& call_id) override;
  absl::Status Dial(const std::string& call_id, const std::string& destination) override;
  absl::StatusOr<std::string> CompleteTransfer(const std::string& call_id,
                                               const std::string& consultation_id,
                                               v1::TransferMode mode) override;
  absl::Status GenerateDigits(const std::string& call_id, const std::string& digits,
                              v1::DigitMode mode, absl::Duration duration) override;

 private:
  struct Call {
    std::string call_id;
    size_t account = 0;
    bool inbound = false;
    v1::CallState state = v1::CALL_STATE_IDLE;
    bool hold_pending = false;      // a hold or resume re-INVITE is out
    bool transfer_pending = false;  // a REFER is out
    bool remote_hold = false;       // the far end holds the call
    uint64_t consult_for = 0;       // a consultation call: the held call's leg
    uint64_t replaces = 0;          // an attended transfer out: the consultation's leg
    uint64_t referral = 0;          // the far end's REFER: the leg of the call placed for it
    uint64_t referred_from = 0;     // a call placed for a far end's REFER: the transferor's leg
    // A hold, resume or transfer out: the client's reply held for its
    // outcome (DeferReply), and the timer that answers it if the outcome
    // takes long (a transfer target still ringing).
    uint64_t request_reply = 0;
    ProviderHost::TimerId request_timer = 0;
    std::shared_ptr<DeviceAudio> audio;  // the leg's RTP audio, once its socket is open
  };
  struct Line {
    std::string line_id;
    bool in_service = false;
  };

  v1::Line BuildLine(size_t account, bool in_service) const;
  int FindAccount(const std::string& line_id) const;
  bool LineBusy(size_t account) const;
  void SetState(uint64_t leg, v1::CallStatus status);
  // The call of `call_id` (engine lock), or an error naming why not.
  absl::StatusOr<std::pair<uint64_t, Call*>> FindCall(const std::string& call_id);
  // The request URI for an application's destination on the call's line,
  // after the AuthorizeOutside check (every SIP destination is outside).
  absl::StatusOr<std::string> OutsideTarget(const Call& call, const std::string& destination);
  // A consultation call ended or was dropped: its held call is on plain
  // hold again.
  void ReleaseConsultation(uint64_t held_leg);
  // Holds the reply of the hold, resume or transfer request being served
  // until its outcome (OnHold/OnHoldFailed, OnTransferred), at most
  // kRequestReplyWait, or until just before the client's deadline (the
  // engine's): a transfer target still ringing then means the transfer is
  // under way, answered OK.
  void DeferRequestReply(uint64_t leg);
  // Answers the held reply of `call`, if any.
  void AnswerRequest(Call& call, absl::Status outcome);
  static constexpr absl::Duration kRequestReplyWait = absl::Seconds(30);
  // A call handed over by a transfer of the far end's (the new call
  // connected, the transferor hung up, or an INVITE replaced it):
  // DISCONNECTED/NORMAL, then IDLE (sip_provider_transfer.cc).
  void EndHandedOver(uint64_t leg);
  // The caller party of calls this line places.
  v1::PartyId SelfParty(size_t account) const;
  // Loop thread -> engine lock; skipped once stopped.
  void RunLocked(std::function<void()> fn);

  // SipAgentSink (loop thread).
  void OnRegistration(size_t account, bool in_service, const std::string& why) override;
  void OnIncoming(size_t account, uint64_t leg, sip::IncomingCall call) override;
  void OnReferred(uint64_t leg, uint64_t new_leg, sip::ReferredCall call) override;
  void OnReplaced(size_t account, uint64_t new_leg, uint64_t replaced,
                  sip::IncomingCall call) override;
  void OnProgress(uint64_t leg, sip::LegProgress progress) override;
  void OnEnded(uint64_t leg, v1::DisconnectMode mode, int status) override;
  void OnHold(uint64_t leg, bool local_hold, bool remote_hold) override;
  void OnHoldFailed(uint64_t leg, int status) override;
  void OnTransferred(uint64_t leg, bool ok, int status) override;
  void OnDigit(uint64_t leg, char digit) override;
  void OnDigitsSent(uint64_t leg, const std::string& digits) override;
  void OnMedia(uint64_t leg, std::shared_ptr<DeviceAudio> audio) override;

  v1::config::SipConfig config_;
  ProviderHost* host_ = nullptr;
  std::unique_ptr<sip::SipAgent> agent_;
  std::unique_ptr<SipPhoneLines> phones_;  // phone lines (sip_phone_lines.h)
  std::atomic<bool> stopped_{false};
  // Under the engine lock.
  std::vector<Line> lines_;
  std::map<uint64_t, Call> calls_;              // by leg
  std::map<std::string, uint64_t> leg_of_call_;  // call id -> leg
};

// Registers the "sip" provider kind and its configuration rules.
void RegisterSipProvider();

}  // namespace linebridge
