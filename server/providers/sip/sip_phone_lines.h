// Phone lines of the SIP provider (docs/sip.md, "Phone lines"): one TAPI
// line per configured phone, fed by SipPhoneAgent. The phone's own calls
// come from its dialog events (monitored: they can be seen, not driven);
// MakeCall is click-to-dial by third-party call control; Drop ends a
// click-to-dial call on both legs; Hold, Unhold and BlindTransfer act on it
// (sip_phone_requests.cc) and answer with their outcome. No media passes
// through linebridged for these lines. State here lives under the engine lock, like SipProvider's.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "core/provider.h"
#include "linebridge/v1/config.pb.h"
#include "providers/sip/sip_phone_agent.h"

namespace linebridge {

class SipPhoneLines : public sip::SipPhoneSink {
 public:
  explicit SipPhoneLines(const v1::config::SipConfig& config);  // defaults applied
  ~SipPhoneLines() override;

  // Adds the lines (out of service until their subscription is accepted) and
  // starts the agent. Engine lock held.
  absl::Status Start(ProviderHost& host);
  void Stop();  // no more events; the destructor joins the loop

  bool IsPhoneLine(const std::string& line_id) const;
  bool OwnsCall(const std::string& call_id) const;
  // The phone's own calls (not click-to-dial) offer nothing but DROP once
  // they are DISCONNECTED: the phone takes no remote control (docs/sip.md).
  void LimitCallFeatures(const v1::Call& call, std::vector<v1::CallFeature>* features) const;

  absl::StatusOr<std::string> MakeCall(const std::string& line_id, const std::string& destination,
                                       const v1::CallParams& params);
  absl::Status Drop(const std::string& call_id);
  // Requests on click-to-dial calls (sip_phone_requests.cc): the reply
  // waits for the outcome, at most kRequestReplyWait or until just before
  // the client's deadline (then OK, under way).
  absl::Status Hold(const std::string& call_id, bool hold);
  absl::Status BlindTransfer(const std::string& call_id, const std::string& destination);
  static constexpr absl::Duration kRequestReplyWait = absl::Seconds(30);
  void OnCallIdle(const std::string& call_id);
  void AppendCounters(std::vector<ProviderCounter>* out) const;

 private:
  struct PhoneLine {
    std::string line_id;
    bool in_service = false;
    uint64_t click = 0;  // the click-to-dial call under way, 0 if none
  };
  struct Monitored {
    std::string call_id;
    v1::CallState state = v1::CALL_STATE_IDLE;
    bool connected = false;
    // The dialog as the PBX saw the INVITE (from the dialog-info document):
    // what its call control needs to end it.
    std::string sip_call_id;
    std::string from_tag;
    uint64_t drop_request = 0;  // an EndOwnCall under way
    uint64_t drop_reply = 0;    // its held Drop reply
  };
  struct Click {
    std::string call_id;
    size_t phone = 0;
    v1::CallState state = v1::CALL_STATE_IDLE;
    // The application's hold, resume or transfer under way, its reply held
    // (ProviderHost::DeferReply) until the outcome.
    bool request_pending = false;
    sip::ClickToDialRequest request = sip::ClickToDialRequest::kHold;
    uint64_t reply = 0;
    uint64_t reply_timer = 0;
  };
  using ClickIt = std::map<uint64_t, Click>::iterator;

  v1::Line BuildLine(size_t phone) const;
  int FindPhone(const std::string& line_id) const;
  void RunLocked(std::function<void()> fn);
  void OnDialog(size_t phone, const sip::DialogInfoDialog& d);
  void SetClickState(uint64_t click, v1::CallStatus status);
  // Forgets a click-to-dial call; a request still waiting is answered that
  // the call ended.
  void EraseClick(ClickIt it);
  absl::StatusOr<ClickIt> FindClick(const std::string& call_id, const char* what);
  void DeferRequestReply(ClickIt it, sip::ClickToDialRequest request);
  void AnswerRequest(Click& click, absl::Status outcome);
  // Drop of a phone's own connected call: through the PBX's call control
  // (sip_phone_requests.cc), the reply held until it answers.
  absl::Status DropOwnCall(Monitored& m);
  // Answers a held Drop reply of `m`, if any.
  void AnswerDrop(Monitored& m, absl::Status outcome);

  // SipPhoneSink (loop thread).
  void OnPhoneWatch(size_t phone, bool watching, const std::string& why) override;
  void OnPhoneDialogs(size_t phone, std::vector<sip::DialogInfoDialog> changed) override;
  void OnClickToDial(uint64_t call, sip::ClickToDialProgress progress) override;
  void OnClickToDialEnded(uint64_t call, v1::DisconnectMode mode, int status) override;
  void OnClickToDialRequestDone(uint64_t call, sip::ClickToDialRequest request,
                                int status) override;
  void OnOwnCallEnded(uint64_t request, absl::Status outcome) override;

  v1::config::SipConfig config_;
  ProviderHost* host_ = nullptr;
  std::unique_ptr<sip::SipPhoneAgent> agent_;
  std::atomic<bool> stopped_{false};
  // Under the engine lock.
  std::vector<PhoneLine> lines_;
  std::map<std::pair<size_t, std::string>, Monitored> monitored_;  // by (phone, dialog id)
  std::map<std::string, std::pair<size_t, std::string>> monitored_of_call_;
  std::map<uint64_t, Click> clicks_;
  std::map<std::string, uint64_t> click_of_call_;
  std::map<uint64_t, std::string> drops_;  // EndOwnCall request -> call id
  uint64_t next_drop_ = 1;
  bool creating_own_call_ = false;  // a phone's own call is being created
};

}  // namespace linebridge
