#include "providers/modem/modem_provider.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "google/protobuf/util/message_differencer.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "core/engine.h"
#include "core/log.h"
#include "linebridge/lineerr.h"
#include "linebridge/status_macros.h"
#include "providers/modem/at/dial_string.h"
#include "providers/modem/at/sequence.h"
#include "providers/modem/line_caps.h"
#include "providers/modem/modem_port.h"
#include "providers/modem/modem_settings.h"
#include "providers/modem/service_class.h"

namespace linebridge {
namespace {

using at::ModemProfile;

// A modem's log line; its line id (the first argument) is also the "line"
// field of a JSON log line.
template <typename Line, typename... Args>
void ModemLog(LogLevel level, const absl::FormatSpec<Line, Args...>& format, const Line& line,
              const Args&... args) {
  if (!LogEnabled(level)) return;
  WriteLog(level, absl::StrFormat(format, line, args...), {{"line", line}});
}

ModemProfile ProfileOf(v1::config::ModemProfileSetting setting, ModemProfile probed) {
  switch (setting) {
    case v1::config::MODEM_PROFILE_HAYES:
      return ModemProfile::kHayesData;
    case v1::config::MODEM_PROFILE_V253:
      return ModemProfile::kV253Voice;
    case v1::config::MODEM_PROFILE_3GPP:
      return ModemProfile::k3gppCellular;
    default:
      return probed;
  }
}

bool IsVoiceProfile(ModemProfile p) { return p != ModemProfile::kHayesData; }

v1::DisconnectMode ModeOf(at::Outcome outcome) {
  switch (outcome) {
    case at::Outcome::kBusy:
      return v1::DISCONNECT_MODE_BUSY;
    case at::Outcome::kNoAnswer:
    case at::Outcome::kTimeout:
      return v1::DISCONNECT_MODE_NOANSWER;
    case at::Outcome::kNoDialtone:
      return v1::DISCONNECT_MODE_NODIALTONE;
    case at::Outcome::kNoCarrier:
      return v1::DISCONNECT_MODE_UNREACHABLE;
    case at::Outcome::kIoError:
      return v1::DISCONNECT_MODE_OUTOFORDER;
    default:
      return v1::DISCONNECT_MODE_UNAVAIL;
  }
}

v1::DisconnectMode ModeOf(at::FinalCode code) {
  switch (code) {
    case at::FinalCode::kBusy:
      return v1::DISCONNECT_MODE_BUSY;
    case at::FinalCode::kNoAnswer:
      return v1::DISCONNECT_MODE_NOANSWER;
    case at::FinalCode::kNoDialtone:
      return v1::DISCONNECT_MODE_NODIALTONE;
    default:
      return v1::DISCONNECT_MODE_NORMAL;
  }
}

// Guard time around the "+++" escape (S12 defaults to 1 s).
constexpr absl::Duration kEscapeGuard = absl::Milliseconds(1200);
// Fax classes end a transmission or reception with DLE ETX (T.31/T.32; a
// class 1 modem ignores "+++"); the modem answers OK at once.
constexpr char kDleEtx[] = "\x10\x03";
constexpr absl::Duration kFaxEndGuard = absl::Milliseconds(300);

// Removes TAPI's separators (space - ( ) . /) from a dialable address; what
// is left must pass the modem's own dial-string check.
std::string StripSeparators(absl::string_view dial) {
  std::string out;
  for (char c : dial) {
    if (c == ' ' || c == '-' || c == '(' || c == ')' || c == '.' || c == '/') continue;
    out.push_back(c);
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// Config

void ApplyModemPortDefaults(v1::config::ModemPort* port) {
  if (port->baud() == 0) port->set_baud(115200);
  if (port->reset_size() == 0) port->add_reset("ATZ");
  if (port->answer_size() == 0) port->add_answer("ATA");
  if (port->ring_timeout_ms() == 0) port->set_ring_timeout_ms(8000);
  if (port->command_timeout_ms() == 0) port->set_command_timeout_ms(3000);
  if (port->connect_timeout_ms() == 0) port->set_connect_timeout_ms(60000);
  if (port->retry_interval_ms() == 0) port->set_retry_interval_ms(2000);
}

std::vector<std::string> DefaultModemInit(ModemProfile profile) {
  switch (profile) {
    case ModemProfile::kHayesData:
      return {"ATV1Q0", "AT+VCID=1"};
    case ModemProfile::kV253Voice:
      return {"ATV1Q0", "AT+FCLASS=8", "AT+VCID=1"};
    case ModemProfile::k3gppCellular:
      return {"ATV1Q0", "AT+CMEE=1", "AT+CRC=1", "AT+CLIP=1"};
  }
  return {};
}

// ---------------------------------------------------------------------------
// The provider (per-port state: modem_port.h, under the engine lock)

absl::StatusOr<std::unique_ptr<Provider>> ModemProvider::Create(
    const v1::config::ProviderConfig& config) {
  if (!config.has_modem()) return absl::InvalidArgumentError("not a modem provider config");
  return std::make_unique<ModemProvider>(config.modem());
}

ModemProvider::ModemProvider(v1::config::ModemConfig config) : config_(std::move(config)) {
  if (config_.name().empty()) config_.set_name("modem");
  for (auto& p : *config_.mutable_ports()) ApplyModemPortDefaults(&p);
}

ModemProvider::~ModemProvider() {
  // Joins the I/O threads. A thread may be waiting in RunLocked; its closure
  // sees stopped_ and does nothing.
  for (auto& p : ports_) {
    // The hub may still hold a session: it stops writing to the port first.
    if (p->voice_session != nullptr) p->voice_session->Close();
    if (p->loop) p->loop->Stop();
  }
  for (auto& p : ports_) p->loop.reset();
}

uint64_t ModemProvider::io_wakeups() const {
  uint64_t n = 0;
  for (const auto& p : ports_) {
    if (p->loop) n += p->loop->stats().wakeups;
  }
  return n;
}

v1::Line ModemProvider::BuildLine(const Port& port, ModemProfile profile,
                                  v1::LineState state) const {
  v1::Line line = modem::BuildModemLine(
      port.config, port.line_id, port.phase == Port::Phase::kReady ? &port.identity : nullptr,
      profile, state);
  *line.mutable_device_config()->mutable_modem() = port.settings;
  return line;
}

ModemProvider::Port* ModemProvider::FindPortByLine(const std::string& line_id) {
  for (auto& p : ports_) {
    if (p->line_id == line_id) return p.get();
  }
  return nullptr;
}

ModemProvider::Port* ModemProvider::FindPortByCall(const std::string& call_id) {
  if (call_id.empty()) return nullptr;
  for (auto& p : ports_) {
    if (p->call_id == call_id) return p.get();
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// Start / stop and the port's life

absl::Status ModemProvider::Start(ProviderHost& host) {
  host_ = &host;
  for (const auto& pc : config_.ports()) {
    auto port = std::make_unique<Port>();
    port->config = pc;
    port->line_id = absl::StrCat(config_.name(), "/", pc.name());
    port->declared = ProfileOf(pc.profile(), ModemProfile::kHayesData);
    port->clock = std::make_unique<modem_internal::HostClock>(host_, &stopped_);
    Port* raw = port.get();
    ProviderHost* h = host_;
    modem::PortLoop::Callbacks cb;
    cb.opened = [this, raw, h](uint64_t gen) {
      h->RunLocked([&] {
        if (!stopped_) OnOpened(*raw, gen);
      });
    };
    cb.bytes = [this, raw, h](uint64_t gen, std::string bytes) {
      h->RunLocked([&] {
        if (!stopped_) OnBytes(*raw, gen, bytes);
      });
    };
    cb.gone = [this, raw, h](uint64_t gen, std::string why) {
      h->RunLocked([&] {
        if (!stopped_) OnGone(*raw, gen, why);
      });
    };
    cb.open_failed = [line = port->line_id](std::string why) {
      ModemLog(LogLevel::kWarning, "modem %s: %s (retrying)", line, why);
    };
    modem::SerialSettings settings{pc.device(), pc.baud(), pc.rtscts()};
    port->loop = std::make_unique<modem::PortLoop>(
        settings, absl::Milliseconds(pc.retry_interval_ms()), std::move(cb));
    port->port = std::make_unique<modem_internal::LoopPort>(port->loop.get());
    LoadSettings(*port);
    host_->AddLine(BuildLine(*port, port->declared, v1::LINE_STATE_OUT_OF_SERVICE));
    ports_.push_back(std::move(port));
  }
  for (auto& p : ports_) p->loop->Start();
  return absl::OkStatus();
}

void ModemProvider::Stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& p : ports_) {
    if (p->loop) p->loop->Stop();
    p->queue.reset();
    if (p->retry_timer != 0) host_->CancelTimer(p->retry_timer);
    if (p->ring_timer != 0) host_->CancelTimer(p->ring_timer);
    if (p->clcc_timer != 0) host_->CancelTimer(p->clcc_timer);
    if (p->escape_timer != 0) host_->CancelTimer(p->escape_timer);
  }
}

absl::Status ModemProvider::Reconfigure(const v1::config::ProviderConfig& pc) {
  if (!pc.has_modem()) return absl::InvalidArgumentError("not a modem provider config");
  ModemProvider fresh(pc.modem());
  if (google::protobuf::util::MessageDifferencer::Equals(fresh.config_, config_)) {
    return absl::OkStatus();
  }
  return FailedPrecondition(
      LINEERR_OPERATIONUNAVAIL,
      absl::StrCat("modem provider \"", config_.name(),
                   "\": ports cannot be changed by a reload; restart linebridged"));
}

void ModemProvider::OnOpened(Port& port, uint64_t generation) {
  ModemLog(LogLevel::kInfo, "modem %s: %s opened", port.line_id, port.config.device());
  port.generation = generation;
  port.escaping = false;
  // The device may be another modem now: its voice formats are asked again.
  port.voice_probed = false;
  port.voice_format.reset();
  port.voice_duplex = true;
  Bringup(port, /*escape_first=*/false);
}

void ModemProvider::OnBytes(Port& port, uint64_t generation, const std::string& bytes) {
  if (generation != port.generation || !port.queue) return;
  port.queue->OnBytes(bytes);
}

void ModemProvider::OnGone(Port& port, uint64_t generation, const std::string& why) {
  if (generation != port.generation) return;
  ++port.device_losses;
  ModemLog(LogLevel::kWarning, "modem %s: device went away (%s); retrying every %u ms",
           port.line_id, why, port.config.retry_interval_ms());
  port.generation = 0;
  port.queue.reset();
  ++port.epoch;
  if (port.retry_timer != 0) {
    host_->CancelTimer(port.retry_timer);
    port.retry_timer = 0;
  }
  Disconnect(port, v1::DISCONNECT_MODE_OUTOFORDER);
  SetOutOfService(port);
  port.phase = Port::Phase::kClosed;
}

void ModemProvider::SetOutOfService(Port& port) {
  if (port.phase == Port::Phase::kReady) {
    host_->SetLineState(port.line_id, v1::LINE_STATE_OUT_OF_SERVICE);
  }
}

// A fresh command queue, then reset strings, probe and init strings.
void ModemProvider::Bringup(Port& port, bool escape_first) {
  if (port.retry_timer != 0) {
    host_->CancelTimer(port.retry_timer);
    port.retry_timer = 0;
  }
  if (escape_first) {
    // A modem that stopped answering may be in a data or fax state: both
    // escapes, then the probe.
    port.queue.reset();
    ++port.epoch;
    port.phase = Port::Phase::kProbing;
    Port* p = &port;
    Escape(port, [this, p] { Bringup(*p, /*escape_first=*/false); });
    return;
  }
  port.queue = std::make_unique<at::CommandQueue>(*port.port, *port.clock);
  ++port.probes;
  const uint64_t epoch = ++port.epoch;
  port.data_mode = false;
  port.escaping = false;
  Port* p = &port;
  port.queue->SetUnsolicitedHandler([this, p, epoch](const at::ParsedLine& urc) {
    if (p->epoch == epoch) OnUnsolicited(*p, urc);
  });
  port.queue->SetOnlineHandler([this, p, epoch](absl::string_view bytes) {
    if (p->epoch == epoch) OnVoiceStream(*p, bytes);
  });
  // A new queue is in command state.
  port.voice = Port::Voice::kNone;
  port.voice_commands.clear();
  port.dle.Reset();
  if (port.voice_timer != 0) host_->CancelTimer(port.voice_timer);
  port.voice_timer = 0;
  port.phase = Port::Phase::kProbing;
  const absl::Duration timeout = absl::Milliseconds(port.config.command_timeout_ms());
  std::vector<at::SequenceStep> reset;
  for (const auto& r : port.config.reset()) {
    // A modem that does not know a reset string is still probed.
    reset.push_back({r, std::max(timeout, absl::Seconds(5)), nullptr, /*fatal=*/false});
  }
  at::RunSequence(*port.queue, std::move(reset), [this, p, epoch](const at::SequenceResult&) {
    if (p->epoch != epoch) return;
    at::Probe(*p->queue, [this, p, epoch](absl::StatusOr<at::ModemIdentity> id) {
      if (p->epoch != epoch) return;
      if (!id.ok()) {
        ModemLog(LogLevel::kWarning, "modem %s: no AT modem answers: %s", p->line_id,
                 id.status().message());
        // The modem may be stuck in a data or fax state: escape first.
        ScheduleRetry(*p, /*escape=*/true);
        return;
      }
      p->identity = *id;
      p->profile = ProfileOf(p->config.profile(), id->profile);
      std::vector<at::SequenceStep> init;
      const absl::Duration t = absl::Milliseconds(p->config.command_timeout_ms());
      if (p->config.init_size() > 0) {
        for (const auto& s : p->config.init()) init.push_back({s, t, nullptr, true});
      } else {
        // The profile's defaults; optional features (caller id) may be missing.
        for (const auto& s : DefaultModemInit(p->profile)) {
          init.push_back({s, t, nullptr, /*fatal=*/absl::StartsWith(s, "ATV")});
        }
      }
      // The device configuration (a modem that lacks one of them still works).
      for (const auto& s : modem::ModemSettingsCommands(p->settings, p->profile)) {
        init.push_back({s, t, nullptr, /*fatal=*/false});
      }
      p->settings_pending = false;
      std::vector<std::string> texts;
      for (const auto& step : init) texts.push_back(step.text);
      at::RunSequence(*p->queue, std::move(init),
                      [this, p, epoch, texts = std::move(texts)](const at::SequenceResult& r) {
        if (p->epoch != epoch) return;
        if (!r.ok()) {
          ModemLog(LogLevel::kWarning, "modem %s: init string \"%s\" failed: %s", p->line_id,
                   r.failed_step < texts.size() ? texts[r.failed_step] : std::string("?"),
                   r.results.empty() ? std::string("-") : at::Describe(r.results.back()));
          ScheduleRetry(*p, /*escape=*/false);
          return;
        }
        OnReady(*p);
      });
    });
  });
}

void ModemProvider::ScheduleRetry(Port& port, bool escape) {
  port.phase = Port::Phase::kProbing;
  Port* p = &port;
  const uint64_t epoch = port.epoch;
  port.retry_timer = host_->Schedule(
      absl::Milliseconds(port.config.retry_interval_ms()), [this, p, epoch, escape] {
        p->retry_timer = 0;
        if (stopped_ || p->epoch != epoch || p->generation == 0) return;
        Bringup(*p, escape);
      });
}

void ModemProvider::Escape(Port& port, std::function<void()> then) {
  port.escaping = true;
  if (port.escape_timer != 0) host_->CancelTimer(port.escape_timer);
  Port* p = &port;
  const uint64_t epoch = port.epoch;
  // DLE ETX first (fax classes, V.253 voice data): harmless in command
  // state, where characters before "AT" are ignored.
  (void)port.port->Write(kDleEtx);
  port.escape_timer = host_->Schedule(kEscapeGuard, [this, p, epoch, then = std::move(then)] {
    p->escape_timer = 0;
    if (stopped_ || p->epoch != epoch) return;
    (void)p->port->Write("+++");
    p->escape_timer = host_->Schedule(kEscapeGuard, [this, p, epoch, then] {
      p->escape_timer = 0;
      if (stopped_ || p->epoch != epoch) return;
      p->escaping = false;
      then();
    });
  });
}

void ModemProvider::OnReady(Port& port) {
  ModemLog(LogLevel::kInfo, "modem %s: %s ready as %s", port.line_id,
           at::DescribeIdentity(port.identity), at::ProfileName(port.profile));
  port.phase = Port::Phase::kReady;
  if (port.profile != port.declared) {
    // The probe found another kind of modem than announced: the line's
    // capabilities change, so it is announced again.
    host_->RemoveLine(port.line_id);
    port.declared = port.profile;
    host_->AddLine(BuildLine(port, port.profile, v1::LINE_STATE_IN_SERVICE));
  } else {
    host_->SetLineState(port.line_id, v1::LINE_STATE_IN_SERVICE);
  }
  // Settings changed after this bring-up's init sequence was composed.
  if (port.settings_pending) ApplySettings(port);
}

void ModemProvider::Reprobe(Port& port, const std::string& why) {
  if (port.phase != Port::Phase::kReady) return;
  ++port.resets;
  ModemLog(LogLevel::kWarning, "modem %s: %s; resetting and probing again", port.line_id, why);
  Disconnect(port, v1::DISCONNECT_MODE_OUTOFORDER);
  SetOutOfService(port);
  port.phase = Port::Phase::kProbing;
  port.queue.reset();  // callbacks of the old queue are not called
  Bringup(port, /*escape_first=*/true);
}

void ModemProvider::Send(Port& port, at::Command command) {
  if (!port.queue) return;
  Port* p = &port;
  const uint64_t epoch = port.epoch;
  at::Done done = std::move(command.done);
  const std::string text = command.text;
  command.done = [this, p, epoch, done = std::move(done), text](const at::Result& r) {
    if (p->epoch != epoch) return;
    if (r.outcome == at::Outcome::kTimeout) {
      Reprobe(*p, absl::StrCat("\"", text, "\" timed out"));
      return;
    }
    if (done) done(r);
  };
  absl::StatusOr<at::CommandQueue::CommandId> id = port.queue->Enqueue(std::move(command));
  if (!id.ok()) ModemLog(LogLevel::kWarning, "modem %s: %s", port.line_id, id.status().message());
}

// ---------------------------------------------------------------------------
// Calls

void ModemProvider::ClearCall(Port& port) {
  EndVoice(port);
  port.call_id.clear();
  port.call_phase = Port::CallPhase::kNone;
  port.connect_cmd.reset();
  port.clcc_seen = false;
  // call_class stays: a hang-up after the drop still needs it.
  if (port.ring_timer != 0) host_->CancelTimer(port.ring_timer);
  if (port.clcc_timer != 0) host_->CancelTimer(port.clcc_timer);
  port.ring_timer = port.clcc_timer = 0;
}

void ModemProvider::Disconnect(Port& port, v1::DisconnectMode mode) {
  if (port.call_id.empty()) return;
  const std::string id = port.call_id;
  if (port.connect_cmd && port.queue) port.queue->Cancel(*port.connect_cmd);
  ClearCall(port);
  port.caller = v1::PartyId();
  port.data_mode = false;  // NO CARRIER, or the port is gone
  host_->SetCallState(id, Disconnected(mode));
}

std::vector<ProviderCounter> ModemProvider::Counters() const {
  std::vector<ProviderCounter> out;
  for (const auto& port : ports_) {
    const std::vector<std::pair<std::string, std::string>> labels = {{"line", port->line_id}};
    out.push_back({"modem_probes_total", "Probe sequences started (open, reset or retry).",
                   labels, port->probes});
    out.push_back({"modem_resets_total",
                   "Resets of a modem that stopped answering a command.", labels,
                   port->resets});
    out.push_back({"modem_device_losses_total",
                   "Times the serial device went away (unplugged, I/O error).", labels,
                   port->device_losses});
    for (const auto& [event, n] : port->voice_events) {
      out.push_back({"modem_voice_events_total",
                     "<DLE> events a V.253 modem reported in voice data (dtmf, busy, ...).",
                     {{"line", port->line_id}, {"event", event}}, n});
    }
  }
  return out;
}

void ModemProvider::OnCallIdle(const std::string& call_id) {
  if (Port* p = FindPortByCall(call_id)) {
    // Went idle without a Drop (removed line): hang the modem up.
    ClearCall(*p);
    Hangup(*p);
  }
  // Settings changed during a call go to the modem now (after the hang-up
  // in the command queue).
  for (auto& p : ports_) {
    if (p->settings_pending && p->call_id.empty()) ApplySettings(*p);
  }
}

void ModemProvider::Hangup(Port& port) {
  if (port.phase != Port::Phase::kReady) return;
  if (port.data_mode) {
    // Online: back to command state first. A fax class ends its
    // transmission or reception with DLE ETX (class 1 ignores "+++"); data
    // uses the "+++" escape (V.250 6.3.3) and its guard time.
    port.data_mode = false;
    port.escaping = true;
    const bool fax = modem::IsFaxClass(port.call_class);
    (void)port.port->Write(fax ? kDleEtx : "+++");
    Port* p = &port;
    const uint64_t epoch = port.epoch;
    if (port.escape_timer != 0) host_->CancelTimer(port.escape_timer);
    port.escape_timer = host_->Schedule(fax ? kFaxEndGuard : kEscapeGuard, [this, p, epoch] {
      p->escape_timer = 0;
      if (stopped_ || p->epoch != epoch) return;
      p->escaping = false;
      SendHangup(*p, /*attempt=*/0);
    });
    return;
  }
  SendHangup(port, /*attempt=*/0);
}

void ModemProvider::SendHangup(Port& port, int attempt) {
  if (port.phase != Port::Phase::kReady || !port.queue) return;
  at::Command c;
  c.text = port.config.hangup().empty()
               ? (port.profile == ModemProfile::k3gppCellular ? "AT+CHUP" : "ATH")
               : port.config.hangup();
  c.timeout = absl::Milliseconds(port.config.command_timeout_ms());
  Port* p = &port;
  const uint64_t epoch = port.epoch;
  c.done = [this, p, epoch, attempt, text = c.text](const at::Result& r) {
    if (p->epoch != epoch) return;
    if (r.outcome != at::Outcome::kTimeout) {
      // On hook: settings changed during the call can go now.
      if (p->settings_pending && p->call_id.empty()) ApplySettings(*p);
      return;
    }
    if (attempt == 0) {
      // Still online in some state the call's own escape did not end: try
      // every escape, then hang up again, before calling the modem hung.
      ModemLog(LogLevel::kWarning,
               "modem %s: \"%s\" got no answer; escaping and hanging up again", p->line_id,
               text);
      Escape(*p, [this, p] { SendHangup(*p, /*attempt=*/1); });
      return;
    }
    Reprobe(*p, absl::StrCat("\"", text, "\" timed out after the escapes"));
  };
  absl::StatusOr<at::CommandQueue::CommandId> id = port.queue->Enqueue(std::move(c));
  if (!id.ok()) ModemLog(LogLevel::kWarning, "modem %s: %s", port.line_id, id.status().message());
}

absl::StatusOr<std::string> ModemProvider::MakeCall(const std::string& line_id, uint32_t,
                                                    const std::string& destination,
                                                    const v1::CallParams& params) {
  Port* port = FindPortByLine(line_id);
  if (port == nullptr) return NotFound(LINEERR_INVALLINEHANDLE, "no such modem line");
  // The dial string is checked before anything else, whatever the line's state.
  const ModemProfile profile = port->phase == Port::Phase::kReady ? port->profile : port->declared;
  const std::string digits = StripSeparators(destination);
  if (digits.empty()) {
    return InvalidArgument(LINEERR_INVALADDRESS, "a modem line needs a number to dial");
  }
  LB_RETURN_IF_ERROR(at::ValidateModemDialString(digits, profile));
  if (port->phase != Port::Phase::kReady || !port->queue) {
    return TapiStatus(absl::StatusCode::kUnavailable, LINEERR_RESOURCEUNAVAIL, absl::StrCat(line_id, " is out of service"));
  }
  if (port->call_phase != Port::CallPhase::kNone || port->escaping) {
    return ResourceExhausted(LINEERR_CALLUNAVAIL, absl::StrCat(line_id, " already has a call"));
  }
  // The call's media: the line's first media mode unless asked for.
  std::vector<std::string> setup;
  v1::MediaMode media = params.media_mode();
  if (media == v1::MEDIA_MODE_UNSPECIFIED) {
    media = IsVoiceProfile(profile) ? v1::MEDIA_MODE_INTERACTIVE_VOICE : v1::MEDIA_MODE_DATAMODEM;
  }
  bool voice = false;
  switch (media) {
    case v1::MEDIA_MODE_INTERACTIVE_VOICE:
    case v1::MEDIA_MODE_AUTOMATED_VOICE:
      if (!IsVoiceProfile(profile)) {
        return InvalidArgument(LINEERR_INVALMEDIAMODE, "this modem has no voice mode");
      }
      voice = true;
      break;
    case v1::MEDIA_MODE_DATAMODEM:
    case v1::MEDIA_MODE_G3FAX:
      if (profile == ModemProfile::k3gppCellular) {
        return InvalidArgument(LINEERR_INVALMEDIAMODE, "voice calls only on this modem");
      }
      break;
    default:
      return InvalidArgument(LINEERR_INVALMEDIAMODE, "media mode not supported by a modem");
  }
  const std::string service_class =
      port->phase == Port::Phase::kReady ? modem::ClassForMedia(media, port->identity.fclass, profile)
                                         : "";
  if (!voice && service_class.empty()) {
    return InvalidArgument(LINEERR_INVALMEDIAMODE,
                           absl::StrCat("the modem lists no service class for ",
                                        v1::MediaMode_Name(media)));
  }
  if (!service_class.empty()) setup.push_back(absl::StrCat("AT+FCLASS=", service_class));
  const std::string& prefix = port->config.dial_prefix();
  std::string dial = absl::StrCat(
      !prefix.empty() ? prefix : (profile == ModemProfile::k3gppCellular ? "ATD" : "ATDT"), digits);
  if (profile == ModemProfile::k3gppCellular && voice && !absl::EndsWith(dial, ";")) {
    dial.push_back(';');
  }

  v1::CallInfo info;
  info.set_line_id(line_id);
  info.set_origin(v1::CALL_ORIGIN_OUTBOUND);
  info.set_reason(v1::CALL_REASON_DIRECT);
  info.set_media_mode(media);
  info.set_bearer_mode(profile == ModemProfile::k3gppCellular ? v1::BEARER_MODE_SPEECH
                                                               : v1::BEARER_MODE_VOICE);
  info.set_dial_string(destination);
  info.mutable_caller()->set_number(port->config.number());
  info.mutable_caller()->set_available(!port->config.number().empty());
  info.mutable_called()->set_number(digits);
  info.mutable_called()->set_available(true);
  const std::string call_id = host_->CreateCall(std::move(info), MakeStatus(v1::CALL_STATE_DIALING));
  port->call_id = call_id;
  port->call_phase = Port::CallPhase::kDialing;
  port->call_class = service_class;

  const absl::Duration t = absl::Milliseconds(port->config.command_timeout_ms());
  Port* p = port;
  for (const auto& s : setup) {
    at::Command c;
    c.text = s;
    c.timeout = t;
    c.done = [this, p, call_id](const at::Result& r) {
      if (!r.ok() && p->call_id == call_id && r.outcome != at::Outcome::kCancelled) {
        Disconnect(*p, v1::DISCONNECT_MODE_UNAVAIL);
      }
    };
    Send(*port, std::move(c));
  }
  at::Command d;
  d.text = dial;
  d.timeout = absl::Milliseconds(port->config.connect_timeout_ms());
  d.abort_on_cancel = true;
  if (profile == ModemProfile::kV253Voice && voice) {
    d.expect = {"VCON"};
    d.processor = [](const std::string& line) {
      return at::TrimLine(line) == "VCON" ? at::Step::kSuccessFinal : at::Step::kContinue;
    };
  }
  d.done = [this, p, call_id](const at::Result& r) { OnConnectDone(*p, call_id, r); };
  // Not through Send: a dial that times out is unanswered, not a dead modem.
  absl::StatusOr<at::CommandQueue::CommandId> id = port->queue->Enqueue(std::move(d));
  if (!id.ok()) {
    Disconnect(*port, v1::DISCONNECT_MODE_UNAVAIL);
    return call_id;
  }
  if (port->call_id == call_id) port->connect_cmd = *id;
  return call_id;
}

void ModemProvider::OnConnectDone(Port& port, const std::string& call_id, const at::Result& r) {
  if (port.call_id != call_id) return;  // dropped meanwhile
  port.connect_cmd.reset();
  if (r.ok()) {
    if (port.call_phase == Port::CallPhase::kDialing &&
        port.profile == ModemProfile::k3gppCellular && r.outcome == at::Outcome::kOk) {
      // ATD<n>; answers OK once the call is set up; +CLCC tells when the far
      // end answers.
      port.call_phase = Port::CallPhase::kProceeding;
      host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_PROCEEDING));
      PollCallList(port);
      return;
    }
    port.call_phase = Port::CallPhase::kConnected;
    port.data_mode = r.outcome == at::Outcome::kConnect;
    ReportCallMedia(port);
    // The call's audio (V.253 voice): its session is in the call's media
    // route from the CONNECTED event on.
    StartVoice(port);
    host_->SetCallState(call_id, Connected());
    return;
  }
  if (r.outcome == at::Outcome::kCancelled) return;
  const v1::DisconnectMode mode =
      port.call_phase == Port::CallPhase::kAnswering && r.outcome == at::Outcome::kNoCarrier
          ? v1::DISCONNECT_MODE_CANCELLED
          : ModeOf(r.outcome);
  ModemLog(LogLevel::kInfo, "modem %s: call %s: %s", port.line_id, call_id, at::Describe(r));
  if (r.outcome == at::Outcome::kTimeout) {
    // No connection in time: the dial or answer is aborted (the queue wrote
    // nothing; a CR aborts it) and the line hung up.
    (void)port.port->Write("\r");
    Disconnect(port, mode);
    Hangup(port);
    return;
  }
  Disconnect(port, mode);
  switch (r.outcome) {
    case at::Outcome::kNoAnswer:
    case at::Outcome::kBusy:
    case at::Outcome::kNoCarrier:
    case at::Outcome::kNoDialtone:
      // The modem is in command state but may still hold the line (the far
      // end keeps ringing): hang it up.
      Hangup(port);
      break;
    default:
      break;
  }
}

void ModemProvider::ReportCallMedia(Port& port) {
  const v1::MediaMode media = modem::MediaForClass(port.call_class);
  const v1::Call* call = host_->FindCall(port.call_id);
  if (media == v1::MEDIA_MODE_UNSPECIFIED || call == nullptr) return;
  const v1::MediaMode had = call->info().media_mode();
  if (had == media) return;
  // Voice stays what the call was made as (interactive or automated).
  if (media == v1::MEDIA_MODE_INTERACTIVE_VOICE && had == v1::MEDIA_MODE_AUTOMATED_VOICE) return;
  host_->UpdateCallInfo(port.call_id, [media](v1::CallInfo* i) { i->set_media_mode(media); },
                        {"media_mode"});
}

v1::MediaMode ModemProvider::OfferedMedia(const Port& port) const {
  return modem::OfferedMedia(port.config, port.profile);
}

// 27.007: while the far end has not answered, ask for the call list.
void ModemProvider::PollCallList(Port& port) {
  Port* p = &port;
  const std::string call_id = port.call_id;
  at::Command c;
  c.text = "AT+CLCC";
  c.timeout = absl::Milliseconds(port.config.command_timeout_ms());
  c.done = [this, p, call_id](const at::Result& r) {
    if (p->call_id != call_id || p->call_phase != Port::CallPhase::kProceeding) return;
    bool active = false, alerting = false, any = false;
    for (const auto& line : r.lines) {
      if (!absl::StartsWith(line, "+CLCC:")) continue;
      const std::vector<std::string> f = at::SplitParams(absl::string_view(line).substr(6));
      if (f.size() < 3) continue;
      any = true;
      if (f[2] == "0") active = true;
      if (f[2] == "3") alerting = true;
    }
    if (active) {
      p->call_phase = Port::CallPhase::kConnected;
      host_->SetCallState(call_id, Connected());
      return;
    }
    if (alerting && !p->clcc_seen) {
      p->clcc_seen = true;
      host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_RINGBACK));
    }
    if (r.ok() && !any && p->clcc_seen) {
      // The call vanished from the list without a final result.
      Disconnect(*p, v1::DISCONNECT_MODE_NORMAL);
      return;
    }
    p->clcc_timer = host_->Schedule(absl::Milliseconds(500), [this, p, call_id] {
      p->clcc_timer = 0;
      if (p->call_id == call_id) PollCallList(*p);
    });
  };
  Send(port, std::move(c));
}

absl::Status ModemProvider::Answer(const std::string& call_id, const std::string&) {
  Port* port = FindPortByCall(call_id);
  if (port == nullptr) return NotFound(LINEERR_INVALCALLHANDLE, "no such modem call");
  if (port->call_phase != Port::CallPhase::kOffering) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE, "the call is not offering");
  }
  if (port->ring_timer != 0) host_->CancelTimer(port->ring_timer);
  port->ring_timer = 0;
  port->call_phase = Port::CallPhase::kAnswering;
  Port* p = port;
  // Answer in the class of the offered call's media mode, unless the answer
  // strings choose one themselves.
  std::vector<std::string> answer(port->config.answer().begin(), port->config.answer().end());
  std::string service_class = modem::ClassSetBy(answer).value_or("");
  if (service_class.empty()) {
    const v1::Call* call = host_->FindCall(call_id);
    const v1::MediaMode media =
        call != nullptr ? call->info().media_mode() : v1::MEDIA_MODE_UNSPECIFIED;
    service_class = modem::ClassForMedia(media, port->identity.fclass, port->profile);
    if (!service_class.empty()) answer.insert(answer.begin(), "AT+FCLASS=" + service_class);
  }
  port->call_class = service_class;
  const int n = static_cast<int>(answer.size());
  for (int i = 0; i < n; ++i) {
    at::Command c;
    c.text = answer[static_cast<size_t>(i)];
    if (i + 1 < n) {
      c.timeout = absl::Milliseconds(port->config.command_timeout_ms());
      c.done = [this, p, call_id](const at::Result& r) {
        if (!r.ok() && r.outcome != at::Outcome::kCancelled && p->call_id == call_id) {
          Disconnect(*p, v1::DISCONNECT_MODE_UNAVAIL);
        }
      };
      Send(*port, std::move(c));
      continue;
    }
    c.timeout = absl::Milliseconds(port->config.connect_timeout_ms());
    c.abort_on_cancel = true;
    if (port->profile == ModemProfile::kV253Voice && (service_class.empty() || service_class == "8")) {
      c.expect = {"VCON"};
      c.processor = [](const std::string& line) {
        return at::TrimLine(line) == "VCON" ? at::Step::kSuccessFinal : at::Step::kContinue;
      };
    }
    c.done = [this, p, call_id](const at::Result& r) { OnConnectDone(*p, call_id, r); };
    absl::StatusOr<at::CommandQueue::CommandId> id = port->queue->Enqueue(std::move(c));
    if (!id.ok()) return TapiStatus(absl::StatusCode::kInternal, LINEERR_OPERATIONFAILED, std::string(id.status().message()));
    if (port->call_id == call_id) port->connect_cmd = *id;
  }
  return absl::OkStatus();
}

absl::Status ModemProvider::Drop(const std::string& call_id, const std::string&) {
  Port* port = FindPortByCall(call_id);
  if (port == nullptr) {
    // Already disconnected on the modem's side: nothing to hang up.
    host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_IDLE));
    return absl::OkStatus();
  }
  const bool offering = port->call_phase == Port::CallPhase::kOffering;
  if (port->connect_cmd && port->queue) port->queue->Cancel(*port->connect_cmd);
  ClearCall(*port);
  port->caller = v1::PartyId();
  if (offering) {
    // Rejecting: the rings of this call still arriving must not offer it again.
    port->ignore_rings_until = absl::Now() + absl::Milliseconds(port->config.ring_timeout_ms());
  }
  Hangup(*port);
  host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_IDLE));
  return absl::OkStatus();
}

absl::Status ModemProvider::GenerateDigits(const std::string& call_id, const std::string& digits,
                                           v1::DigitMode mode, absl::Duration) {
  Port* port = FindPortByCall(call_id);
  if (port == nullptr) return NotFound(LINEERR_INVALCALLHANDLE, "no such modem call");
  if (!IsVoiceProfile(port->profile)) {
    return Unimplemented("a data modem cannot generate digits");
  }
  if (mode != v1::DIGIT_MODE_DTMF) {
    return InvalidArgument(LINEERR_INVALDIGITMODE, "modems generate DTMF only");
  }
  if (port->call_phase != Port::CallPhase::kConnected) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE, "the call is not connected");
  }
  std::vector<std::string> tones;
  for (char d : digits) {
    if (d == ',') continue;
    const char u = absl::ascii_toupper(static_cast<unsigned char>(d));
    if (!absl::ascii_isdigit(static_cast<unsigned char>(u)) && u != '*' && u != '#' &&
        (u < 'A' || u > 'D')) {
      return InvalidArgument(LINEERR_INVALDIGITS, absl::StrCat("not a DTMF digit: '", std::string(1, d), "'"));
    }
    tones.emplace_back(1, u);
  }
  std::vector<std::string> commands;
  if (port->profile == ModemProfile::kV253Voice) {
    commands.push_back(absl::StrCat("AT+VTS=", absl::StrJoin(tones, ",")));
  } else {
    for (const auto& t : tones) commands.push_back(absl::StrCat("AT+VTS=", t));
  }
  Port* p = port;
  auto failed = std::make_shared<bool>(false);
  for (size_t i = 0; i < commands.size(); ++i) {
    at::Command c;
    c.text = commands[i];
    c.timeout = absl::Milliseconds(port->config.command_timeout_ms());
    const bool last = i + 1 == commands.size();
    c.done = [this, p, call_id, digits, failed, last](const at::Result& r) {
      if (!r.ok()) *failed = true;
      if (last && host_->FindCall(call_id) != nullptr) {
        host_->DigitsGenerated(call_id, digits, /*cancelled=*/*failed);
      }
      (void)p;
    };
    Send(*port, std::move(c));
  }
  if (commands.empty()) host_->DigitsGenerated(call_id, digits, false);
  // AT+VTS runs in voice command state: a running voice data state ends
  // for it and starts again after it.
  SuspendVoice(*port);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Unsolicited results

void ModemProvider::NoteCallerId(Port& port, const std::string& key, const std::string& value) {
  v1::PartyId& c = port.caller;
  if (key == "NMBR" || key == "DDN_NMBR") {
    if (value == "P") {
      c.set_blocked(true);
    } else if (value == "O") {
      c.set_available(false);
    } else {
      c.set_number(value);
      c.set_available(true);
    }
  } else if (key == "NAME") {
    if (value == "P") {
      c.set_blocked(true);
    } else if (value != "O") {
      c.set_name(value);
    }
  } else {
    return;  // DATE, TIME, MESG
  }
  if (!port.call_id.empty() && port.call_phase == Port::CallPhase::kOffering) {
    const v1::PartyId party = c;
    host_->UpdateCallInfo(port.call_id, [&](v1::CallInfo* i) { *i->mutable_caller() = party; },
                          {"caller"});
  }
}

void ModemProvider::OnRing(Port& port) {
  if (port.phase != Port::Phase::kReady || port.escaping) return;
  if (absl::Now() < port.ignore_rings_until) return;
  Port* p = &port;
  auto arm = [this, p] {
    if (p->ring_timer != 0) host_->CancelTimer(p->ring_timer);
    p->ring_timer = host_->Schedule(absl::Milliseconds(p->config.ring_timeout_ms()),
                                    [this, p] {
                                      p->ring_timer = 0;
                                      OnRingTimeout(*p);
                                    });
  };
  if (port.call_phase == Port::CallPhase::kOffering) {
    arm();
    return;
  }
  if (port.call_phase != Port::CallPhase::kNone) return;
  v1::CallInfo info;
  info.set_line_id(port.line_id);
  info.set_origin(v1::CALL_ORIGIN_INBOUND);
  info.set_reason(v1::CALL_REASON_DIRECT);
  info.set_media_mode(OfferedMedia(port));
  info.set_bearer_mode(port.profile == ModemProfile::k3gppCellular ? v1::BEARER_MODE_SPEECH
                                                                    : v1::BEARER_MODE_VOICE);
  *info.mutable_caller() = port.caller;
  info.mutable_called()->set_number(port.config.number());
  info.mutable_called()->set_available(!port.config.number().empty());
  port.call_id = host_->CreateCall(std::move(info), Offering());
  port.call_phase = Port::CallPhase::kOffering;
  arm();
}

void ModemProvider::OnRingTimeout(Port& port) {
  if (port.call_phase != Port::CallPhase::kOffering) return;
  // The rings stopped: the caller gave up.
  Disconnect(port, v1::DISCONNECT_MODE_CANCELLED);
}

void ModemProvider::OnUnsolicited(Port& port, const at::ParsedLine& urc) {
  switch (urc.urc) {
    case at::UrcKind::kRing:
    case at::UrcKind::kCring:
      OnRing(port);
      break;
    case at::UrcKind::kCallerId:
      NoteCallerId(port, urc.key, urc.value);
      break;
    case at::UrcKind::kClip:
      if (std::optional<at::Clip> clip = at::ParseClip(urc.value)) {
        if (clip->validity == 1) {
          NoteCallerId(port, "NMBR", "P");
        } else if (clip->validity == 2 || clip->number.empty()) {
          NoteCallerId(port, "NMBR", "O");
        } else {
          NoteCallerId(port, "NMBR", clip->number);
        }
        if (!clip->alpha.empty()) NoteCallerId(port, "NAME", clip->alpha);
      }
      break;
    case at::UrcKind::kDtmf:
      if (port.call_phase == Port::CallPhase::kConnected && !urc.value.empty()) {
        host_->DigitReceived(port.call_id, urc.value.substr(0, 1), v1::DIGIT_MODE_DTMF);
      }
      break;
    case at::UrcKind::kVcon:
      if (port.call_phase == Port::CallPhase::kProceeding) {
        port.call_phase = Port::CallPhase::kConnected;
        host_->SetCallState(port.call_id, Connected());
      }
      break;
    case at::UrcKind::kHangup:
      if (port.call_phase == Port::CallPhase::kOffering) {
        Disconnect(port, v1::DISCONNECT_MODE_CANCELLED);
      } else if (port.call_phase != Port::CallPhase::kNone) {
        Disconnect(port, ModeOf(urc.final));
      }
      port.caller = v1::PartyId();
      break;
    default:
      break;
  }
}

}  // namespace linebridge
