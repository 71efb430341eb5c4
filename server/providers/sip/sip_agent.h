// The SIP side of the provider: one sofia-sip NUA user agent per account,
// registration with digest auth, refresh and failover, and the call legs
// (INVITE both ways, CANCEL, BYE) with their RTP. Everything here runs on
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
#include "providers/sip/sip_rtp.h"

namespace linebridge::sip {

enum class LegProgress { kProceeding, kRingback, kConnected };

// Called on the loop thread.
class SipAgentSink {
 public:
  virtual ~SipAgentSink() = default;
  virtual void OnRegistration(size_t account, bool in_service, const std::string& why) = 0;
  virtual void OnIncoming(size_t account, uint64_t leg, v1::PartyId caller, v1::PartyId called) = 0;
  virtual void OnProgress(uint64_t leg, LegProgress progress) = 0;
  virtual void OnEnded(uint64_t leg, v1::DisconnectMode mode, int status) = 0;
};

// Per account, readable from any thread.
struct AccountCounters {
  RtpCounters rtp;
  std::atomic<uint64_t> registrations{0};        // 2xx to REGISTER
  std::atomic<uint64_t> registration_failures{0};
  std::atomic<uint64_t> rejected_requests{0};    // malformed or unsupported, refused
};

class SipAgent {
 public:
  struct Account {
    v1::config::SipAccount config;
    std::string password;  // never logged
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
