// V.253 voice data on a connected voice call (docs/modems.md, "Voice calls
// carry audio"): the method is chosen from AT+VSM=? once per open and
// selected for each call, the duplex data state (AT+VTR; AT+VRX on a
// half-duplex modem) carries the audio between the modem and the call's
// VoiceSession, the modem's <DLE> events become digit events or end the
// call, and the data state is ended (<DLE>^ or <DLE>!, then the modem's
// <DLE><ETX> and OK) before the hang-up command goes out.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "providers/modem/modem_port.h"
#include "providers/modem/modem_provider.h"

namespace linebridge {
namespace {

namespace voice = modem::voice;
using Port = ModemProvider::Port;

void VoiceLog(LogLevel level, const std::string& line, const std::string& text) {
  if (!LogEnabled(level)) return;
  WriteLog(level, absl::StrCat("modem ", line, ": ", text), {{"line", line}});
}

}  // namespace

bool ModemProvider::IsVoiceCall(const Port& port) const {
  return port.profile == at::ModemProfile::kV253Voice && !port.data_mode &&
         (port.call_class.empty() || port.call_class == "8");
}

MediaRoute ModemProvider::MediaRouteOf(const std::string& call_id) const {
  MediaRoute route;
  for (const auto& p : ports_) {
    if (!call_id.empty() && p->call_id == call_id) route.device = p->voice_session;
  }
  return route;
}

void ModemProvider::StartVoice(Port& port) {
  if (!IsVoiceCall(port) || !port.queue) return;
  port.voice_session = std::make_shared<modem::VoiceSession>(port.loop.get());
  port.voice = Port::Voice::kStarting;
  port.voice_commands.clear();
  Port* p = &port;
  const std::string call_id = port.call_id;
  if (port.voice_probed) {
    SelectVoiceFormat(port, call_id);
    return;
  }
  at::Command c;
  c.text = "AT+VSM=?";
  c.timeout = absl::Milliseconds(port.config.command_timeout_ms());
  c.done = [this, p, call_id](const at::Result& r) {
    p->voice_probed = true;
    if (r.ok()) {
      p->voice_format = voice::ChooseVoiceFormat(voice::ParseVsmMethods(r.lines));
    }
    if (!p->voice_format) {
      VoiceLog(LogLevel::kWarning, p->line_id,
               absl::StrCat("AT+VSM=? lists no voice format the server can convert (",
                            at::Describe(r), "); voice calls carry no audio"));
    } else {
      VoiceLog(LogLevel::kInfo, p->line_id,
               absl::StrCat("voice format ", p->voice_format->name, " (",
                            voice::EncodingName(p->voice_format->encoding), ") at ",
                            p->voice_format->rate, " samples/s"));
    }
    if (p->call_id == call_id && p->voice == Port::Voice::kStarting) SelectVoiceFormat(*p, call_id);
  };
  SendVoice(port, std::move(c));
}

void ModemProvider::SelectVoiceFormat(Port& port, const std::string& call_id) {
  if (!port.voice_format) {
    port.voice = Port::Voice::kNone;
    return;
  }
  Port* p = &port;
  at::Command c;
  c.text = voice::VsmCommand(*port.voice_format);
  c.timeout = absl::Milliseconds(port.config.command_timeout_ms());
  c.done = [this, p, call_id](const at::Result& r) {
    if (p->call_id != call_id || p->voice != Port::Voice::kStarting) return;
    if (!r.ok()) {
      VoiceLog(LogLevel::kWarning, p->line_id,
               absl::StrCat("\"", voice::VsmCommand(*p->voice_format), "\": ", at::Describe(r),
                            "; the call carries no audio"));
      p->voice = Port::Voice::kNone;
      return;
    }
    StartVoiceStream(*p, call_id);
  };
  SendVoice(port, std::move(c));
}

void ModemProvider::StartVoiceStream(Port& port, const std::string& call_id) {
  Port* p = &port;
  const bool duplex = port.voice_duplex;
  at::Command c;
  c.text = duplex ? "AT+VTR" : "AT+VRX";
  c.timeout = absl::Milliseconds(port.config.command_timeout_ms());
  c.goes_online = true;
  c.done = [this, p, call_id, duplex](const at::Result& r) {
    if (r.outcome == at::Outcome::kConnect) {
      p->dle.Reset();
      p->voice_stream_duplex = duplex;
      if (p->call_id != call_id || p->voice != Port::Voice::kStarting) {
        // The call ended while the modem was entering the data state.
        p->voice = Port::Voice::kStreaming;
        EndVoiceStream(*p);
        return;
      }
      p->voice = Port::Voice::kStreaming;
      if (p->voice_session == nullptr) {
        EndVoiceStream(*p);
        return;
      }
      p->voice_session->Open(*p->voice_format, duplex);
      // Commands queued meanwhile (digits to send) cannot wait for the end
      // of the call.
      if (p->queue && p->queue->queued() > 0) SuspendVoice(*p);
      return;
    }
    if (p->call_id != call_id) {
      if (p->voice == Port::Voice::kStarting) p->voice = Port::Voice::kNone;
      return;
    }
    if (p->voice != Port::Voice::kStarting) return;
    if (duplex && r.outcome == at::Outcome::kError) {
      VoiceLog(LogLevel::kWarning, p->line_id,
               "AT+VTR refused: no duplex voice; calls carry the far end's audio only (AT+VRX)");
      p->voice_duplex = false;
      StartVoiceStream(*p, call_id);
      return;
    }
    VoiceLog(LogLevel::kWarning, p->line_id,
             absl::StrCat("\"", duplex ? "AT+VTR" : "AT+VRX", "\": ", at::Describe(r),
                          "; the call carries no audio"));
    p->voice = Port::Voice::kNone;
  };
  SendVoice(port, std::move(c));
}

void ModemProvider::SendVoice(Port& port, at::Command command) {
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
  if (id.ok()) port.voice_commands.push_back(*id);
}

void ModemProvider::SuspendVoice(Port& port) {
  if (port.voice != Port::Voice::kStreaming) return;
  port.voice_commands.clear();
  EndVoiceStream(port);
  port.voice_restart = port.voice == Port::Voice::kEnding;
}

void ModemProvider::EndVoice(Port& port) {
  if (port.voice_session != nullptr) port.voice_session->Close();
  port.voice_session.reset();
  port.voice_restart = false;
  switch (port.voice) {
    case Port::Voice::kNone:
    case Port::Voice::kEnding:
      return;
    case Port::Voice::kStarting: {
      // Commands not yet written are dropped; one in flight completes (an
      // AT+VTR that connects is ended at once).
      const std::optional<at::CommandQueue::CommandId> in_flight =
          port.queue ? port.queue->in_flight() : std::nullopt;
      std::vector<at::CommandQueue::CommandId> ids = std::move(port.voice_commands);
      port.voice_commands.clear();
      for (at::CommandQueue::CommandId id : ids) {
        if (port.queue && id != in_flight) port.queue->Cancel(id);
      }
      if (!in_flight || std::find(ids.begin(), ids.end(), *in_flight) == ids.end()) {
        port.voice = Port::Voice::kNone;
      }
      // else: stays kStarting for its completion, which sees the call gone.
      return;
    }
    case Port::Voice::kStreaming:
      EndVoiceStream(port);
      return;
  }
}

void ModemProvider::EndVoiceStream(Port& port) {
  if (!port.queue || !port.queue->online()) {
    port.voice = Port::Voice::kNone;
    return;
  }
  port.voice = Port::Voice::kEnding;
  (void)port.port->Write(port.voice_stream_duplex ? voice::kEndDuplex : voice::kAbortReceive);
  Port* p = &port;
  const uint64_t epoch = port.epoch;
  if (port.voice_timer != 0) host_->CancelTimer(port.voice_timer);
  port.voice_timer = host_->Schedule(
      absl::Milliseconds(port.config.command_timeout_ms()), [this, p, epoch] {
        p->voice_timer = 0;
        if (stopped_ || p->epoch != epoch || p->voice != Port::Voice::kEnding) return;
        // The modem never ended the data state: back to commands anyway; the
        // hang-up's own recovery (escapes, reprobe) takes it from there.
        VoiceLog(LogLevel::kWarning, p->line_id, "the voice data state did not end");
        if (p->queue) p->queue->Resume(/*await_final=*/false);
        OnVoiceStreamEnded(*p);
      });
}

void ModemProvider::OnVoiceStreamEnded(Port& port) {
  if (port.voice_timer != 0) host_->CancelTimer(port.voice_timer);
  port.voice_timer = 0;
  port.dle.Reset();
  if (port.voice != Port::Voice::kEnding) {
    VoiceLog(LogLevel::kWarning, port.line_id,
             "the modem ended the voice data state; the call carries no more audio");
    if (port.voice_session != nullptr) port.voice_session->Close();
  }
  port.voice = Port::Voice::kNone;
  if (port.voice_restart && port.voice_session != nullptr &&
      port.call_phase == Port::CallPhase::kConnected) {
    // After the commands queued behind it.
    port.voice_restart = false;
    port.voice = Port::Voice::kStarting;
    StartVoiceStream(port, port.call_id);
  }
  port.voice_restart = false;
}

void ModemProvider::OnVoiceStream(Port& port, absl::string_view bytes) {
  voice::DleDecoder::Output out;
  const size_t used = port.dle.Feed(bytes, &out);
  if (port.voice_session != nullptr && !out.data.empty()) {
    port.voice_session->OnModemAudio(out.data);
  }
  const uint64_t epoch = port.epoch;
  for (const voice::DleEvent& e : out.events) {
    if (e.kind == voice::DleEventKind::kEndOfStream) continue;
    OnDleEvent(port, e);
    if (port.epoch != epoch) return;
  }
  if (!port.dle.ended()) return;
  // The modem ended the data state: what follows is command-state text.
  if (!port.queue) return;
  port.queue->Resume(/*await_final=*/true);
  OnVoiceStreamEnded(port);
  if (port.epoch == epoch && port.queue && used < bytes.size()) {
    port.queue->OnBytes(bytes.substr(used));
  }
}

void ModemProvider::OnDleEvent(Port& port, const voice::DleEvent& e) {
  const std::string name(voice::DleEventName(e.kind));
  ++port.voice_events[name];
  const bool connected = port.call_phase == Port::CallPhase::kConnected;
  switch (e.kind) {
    case voice::DleEventKind::kDigit:
      if (!connected) return;
      host_->DigitReceived(port.call_id, absl::string_view(&e.code, 1), v1::DIGIT_MODE_DTMF);
      if (port.voice_session != nullptr) port.voice_session->OnDigit(e.code);
      return;
    case voice::DleEventKind::kBusy:
    case voice::DleEventKind::kDialTone:
    case voice::DleEventKind::kLoopBreak:
      // What a voice modem hears once the far end hung up.
      if (!connected) return;
      VoiceLog(LogLevel::kInfo, port.line_id,
               absl::StrCat("call ", port.call_id, ": ", name, " on the line; the far end hung up"));
      Disconnect(port, v1::DISCONNECT_MODE_NORMAL);
      Hangup(port);
      return;
    case voice::DleEventKind::kOverrun:
    case voice::DleEventKind::kUnderrun:
      return;  // counted only: a modem without audio to send reports them often
    default:
      VoiceLog(LogLevel::kInfo, port.line_id, absl::StrCat("voice event ", name));
      return;
  }
}

}  // namespace linebridge
