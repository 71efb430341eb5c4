// The modem provider: one TAPI line per AT modem on a serial port
// (docs/modems.md).
//
// Threads: each port has an I/O thread (PortLoop) that reads the device and
// drains writes. It enters the engine through ProviderHost::RunLocked; all
// provider state, the AT command queue and its timers (ProviderHost::Schedule)
// live under the engine lock. Writes from under the lock are non-blocking
// write()s; what the device does not take at once is buffered and drained by
// the port's thread, so the lock is never held across blocking I/O.
//
// A port's life: the device opens -> reset strings -> probe (ATE0, ATI,
// AT+FCLASS=?, ...) picks the profile (unless configured) -> init strings ->
// line IN_SERVICE. A command that times out outside a dial or answer means the
// modem stopped answering: the line goes OUT_OF_SERVICE and the modem is reset
// and probed again. The device going away (EOF, hang-up, read error) puts the
// line OUT_OF_SERVICE, disconnects its call (OUTOFORDER), and the I/O thread
// retries the open every retry_interval_ms.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/provider.h"
#include "linebridge/v1/config.pb.h"
#include "providers/modem/at/command_queue.h"
#include "providers/modem/at/probe.h"
#include "providers/modem/serial_port.h"
#include "providers/modem/voice/dle.h"

namespace linebridge {

// Defaults for a port (fields left unset); see config.proto.
void ApplyModemPortDefaults(v1::config::ModemPort* port);

// The profile's default init strings.
std::vector<std::string> DefaultModemInit(at::ModemProfile profile);

class ModemProvider : public Provider {
 public:
  static absl::StatusOr<std::unique_ptr<Provider>> Create(const v1::config::ProviderConfig& config);
  explicit ModemProvider(v1::config::ModemConfig config);
  ~ModemProvider() override;

  absl::string_view type() const override { return "modem"; }
  absl::string_view name() const override { return config_.name(); }

  absl::Status Start(ProviderHost& host) override;
  void Stop() override;
  // The same ports: nothing to do. Changed ports need a restart
  // (FailedPrecondition naming the provider).
  absl::Status Reconfigure(const v1::config::ProviderConfig& config) override;
  void OnCallIdle(const std::string& call_id) override;
  // modem_probes_total, modem_resets_total, modem_device_losses_total by line.
  std::vector<ProviderCounter> Counters() const override;

  absl::StatusOr<std::string> MakeCall(const std::string& line_id, uint32_t address_index,
                                       const std::string& destination,
                                       const v1::CallParams& params) override;
  absl::Status Answer(const std::string& call_id, const std::string& uui) override;
  absl::Status Drop(const std::string& call_id, const std::string& uui) override;
  absl::Status GenerateDigits(const std::string& call_id, const std::string& digits,
                              v1::DigitMode mode, absl::Duration duration) override;
  // lineSetDevConfig (modem_devconfig.cc): the modem's settings.
  absl::StatusOr<v1::DeviceConfig> SetDevConfig(const std::string& line_id,
                                                const v1::DeviceConfig& config) override;

  // Media: a connected V.253 voice call's far end is the modem's voice
  // data (modem_voice.cc); other modem calls hear silence.
  bool CarriesMedia() const override { return true; }
  MediaRoute MediaRouteOf(const std::string& call_id) const override;

  // Total poll() wakeups of all I/O threads (benchmarks check idle lines).
  uint64_t io_wakeups() const;

  struct Port;

 private:
  v1::Line BuildLine(const Port& port, at::ModemProfile profile, v1::LineState state) const;
  Port* FindPortByLine(const std::string& line_id);
  Port* FindPortByCall(const std::string& call_id);

  // All under the engine lock.
  void OnOpened(Port& port, uint64_t generation);
  void OnBytes(Port& port, uint64_t generation, const std::string& bytes);
  void OnGone(Port& port, uint64_t generation, const std::string& why);
  // `escape_first`: the modem stopped answering; escape from a data or fax
  // state before probing.
  void Bringup(Port& port, bool escape_first);
  void OnReady(Port& port);
  void ScheduleRetry(Port& port, bool escape);
  // Writes DLE ETX, then "+++" between guard times (line busy meanwhile),
  // then runs `then`.
  void Escape(Port& port, std::function<void()> then);
  void Reprobe(Port& port, const std::string& why);
  void SetOutOfService(Port& port);
  void OnUnsolicited(Port& port, const at::ParsedLine& urc);
  void OnRing(Port& port);
  void OnRingTimeout(Port& port);
  void NoteCallerId(Port& port, const std::string& key, const std::string& value);
  void OnConnectDone(Port& port, const std::string& call_id, const at::Result& result);
  void PollCallList(Port& port);
  // Ends the port's call (if any) as DISCONNECTED with `mode`.
  void Disconnect(Port& port, v1::DisconnectMode mode);
  void ClearCall(Port& port);
  void Hangup(Port& port);
  // The hang-up command; `attempt` 0 escapes and retries once on a timeout,
  // 1 declares the modem hung.
  void SendHangup(Port& port, int attempt);
  // What an offered call is (config, override strings, profile).
  v1::MediaMode OfferedMedia(const Port& port) const;
  // Reports the media mode the connected call really runs in.
  void ReportCallMedia(Port& port);
  // Queues a command; a timeout outside dial/answer triggers Reprobe.
  void Send(Port& port, at::Command command);
  // Device configuration (modem_devconfig.cc). The settings at Start: the
  // stored ones (SetDevConfig before a restart), else the defaults.
  void LoadSettings(Port& port);
  // Sends the settings' commands if the modem is ready and idle, else marks
  // them pending (sent when the call is over or by the next bring-up).
  void ApplySettings(Port& port);

  // V.253 voice data (modem_voice.cc), all under the engine lock.
  bool IsVoiceCall(const Port& port) const;
  // After VCON: AT+VSM=? (once per open), AT+VSM=<method>,<rate>, AT+VTR.
  void StartVoice(Port& port);
  void SelectVoiceFormat(Port& port, const std::string& call_id);
  void StartVoiceStream(Port& port, const std::string& call_id);
  // Send, remembering the command for EndVoice.
  void SendVoice(Port& port, at::Command command);
  // The call ends: the session closes and the data state is ended.
  void EndVoice(Port& port);
  void EndVoiceStream(Port& port);
  // Commands were queued behind a running data state (AT+VTS): it ends, and
  // starts again after them.
  void SuspendVoice(Port& port);
  // The data state is over (the modem's <DLE><ETX>, or it never came).
  void OnVoiceStreamEnded(Port& port);
  // The queue's online handler: the modem's shielded stream.
  void OnVoiceStream(Port& port, absl::string_view bytes);
  void OnDleEvent(Port& port, const modem::voice::DleEvent& event);

  v1::config::ModemConfig config_;
  ProviderHost* host_ = nullptr;
  bool stopped_ = false;
  std::vector<std::unique_ptr<Port>> ports_;
};

}  // namespace linebridge
