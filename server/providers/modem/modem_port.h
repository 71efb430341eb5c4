// The modem provider's per-port state (engine lock), shared by its source
// files: modem_provider.cc (the port's life and calls) and modem_voice.cc
// (V.253 voice data). Internal to the provider.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/provider.h"
#include "linebridge/v1/config.pb.h"
#include "providers/modem/at/command_queue.h"
#include "providers/modem/at/probe.h"
#include "providers/modem/modem_provider.h"
#include "providers/modem/serial_port.h"
#include "providers/modem/voice/dle.h"
#include "providers/modem/voice/voice_format.h"
#include "providers/modem/voice_session.h"

namespace linebridge {
namespace modem_internal {

// at::Port over the I/O thread's write buffer.
class LoopPort : public at::Port {
 public:
  explicit LoopPort(modem::PortLoop* loop) : loop_(loop) {}
  absl::Status Write(absl::string_view bytes) override { return loop_->Write(bytes); }

 private:
  modem::PortLoop* loop_;
};

// at::Clock over the engine's timers: callbacks run with the engine lock
// held, like everything else of the provider.
class HostClock : public at::Clock {
 public:
  HostClock(ProviderHost* host, const bool* stopped) : host_(host), stopped_(stopped) {}
  TimerId Schedule(absl::Duration delay, std::function<void()> fn) override {
    const bool* stopped = stopped_;
    return host_->Schedule(delay, [stopped, fn = std::move(fn)] {
      if (!*stopped) fn();
    });
  }
  void Cancel(TimerId id) override { host_->CancelTimer(id); }

 private:
  ProviderHost* host_;
  const bool* stopped_;
};

}  // namespace modem_internal

struct ModemProvider::Port {
  enum class Phase { kClosed, kProbing, kReady };
  enum class CallPhase { kNone, kDialing, kProceeding, kOffering, kAnswering, kConnected };

  v1::config::ModemPort config;
  std::string line_id;
  std::unique_ptr<modem::PortLoop> loop;
  std::unique_ptr<modem_internal::LoopPort> port;
  std::unique_ptr<modem_internal::HostClock> clock;
  std::unique_ptr<at::CommandQueue> queue;
  uint64_t generation = 0;  // of the open the queue belongs to
  uint64_t epoch = 0;       // bumps whenever the queue is replaced
  // For metrics (Counters).
  uint64_t probes = 0;        // probe sequences started
  uint64_t resets = 0;        // resets of a modem that stopped answering
  uint64_t device_losses = 0;  // the device went away
  Phase phase = Phase::kClosed;
  at::ModemProfile declared = at::ModemProfile::kHayesData;  // caps announced
  at::ModemProfile profile = at::ModemProfile::kHayesData;
  at::ModemIdentity identity;
  ProviderHost::TimerId retry_timer = 0;
  // The device configuration (modem_devconfig.cc): sent after the init
  // strings at every bring-up, and when SetDevConfig changes it (at once
  // when the modem is idle, else once its call is over: `settings_pending`).
  v1::ModemSettings settings;
  bool settings_pending = false;

  std::string call_id;  // the modem's call while it is not DISCONNECTED
  CallPhase call_phase = CallPhase::kNone;
  std::optional<at::CommandQueue::CommandId> connect_cmd;
  ProviderHost::TimerId ring_timer = 0;
  ProviderHost::TimerId clcc_timer = 0;
  absl::Time ignore_rings_until = absl::InfinitePast();
  v1::PartyId caller;  // caller id collected for the next/current offering
  bool clcc_seen = false;
  bool data_mode = false;  // the call connected with CONNECT: online data state
  bool escaping = false;   // escape sent; ATH (or the probe) follows after the guard time
  std::string call_class;  // the +FCLASS the call runs in ("": not chosen by us)
  ProviderHost::TimerId escape_timer = 0;

  // V.253 voice data (modem_voice.cc): after VCON the method is chosen
  // (AT+VSM) and the duplex data state started (AT+VTR, or AT+VRX on a
  // half-duplex modem); the call's device far end is voice_session.
  enum class Voice { kNone, kStarting, kStreaming, kEnding };
  Voice voice = Voice::kNone;
  std::shared_ptr<modem::VoiceSession> voice_session;  // while the call lives
  bool voice_probed = false;  // AT+VSM=? asked since the port opened
  std::optional<modem::voice::VoiceFormat> voice_format;  // its choice
  bool voice_duplex = true;   // false once AT+VTR failed: +VRX
  bool voice_stream_duplex = true;  // of the running data state
  // The data state was ended for commands (AT+VTS) and starts again after them.
  bool voice_restart = false;
  std::vector<at::CommandQueue::CommandId> voice_commands;  // queued for the start
  modem::voice::DleDecoder dle;
  ProviderHost::TimerId voice_timer = 0;  // the data state's end is overdue
  std::map<std::string, uint64_t> voice_events;  // <DLE> events by name (metrics)
};

}  // namespace linebridge
