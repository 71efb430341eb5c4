// RemoteProvider: call media on the server — lineGenerateTone,
// lineGatherDigits, lineMonitorTones, lineMonitorMedia, lineSetMediaMode —
// and the TAPI events of their results.
#include <algorithm>
#include <cmath>
#include <utility>

#include "tapi_mapping.h"
#include "tsp/provider_internal.h"
#include "tsp/remote_provider.h"
#include "tsp/tsp_log.h"

namespace linebridge::tsp {
namespace {

constexpr DWORD kToneModes = LINETONEMODE_CUSTOM | LINETONEMODE_RINGBACK | LINETONEMODE_BUSY |
                             LINETONEMODE_BEEP | LINETONEMODE_BILLING;
constexpr DWORD kMaxToneDuration = 60000;  // docs/api.md: GenerateToneRequest.duration_ms
constexpr DWORD kMinToneHz = 100;
constexpr DWORD kMaxToneHz = 3800;
constexpr DWORD kMinMonitorMs = 20;
constexpr DWORD kMaxMonitorMs = 60000;
constexpr DWORD kMaxGatherDigits = 64;

v1::ToneKind ToneKindOf(DWORD mode) {
  switch (mode) {
    case LINETONEMODE_BEEP: return v1::TONE_KIND_BEEP;
    case LINETONEMODE_BILLING: return v1::TONE_KIND_BILLING;
    case LINETONEMODE_BUSY: return v1::TONE_KIND_BUSY;
    case LINETONEMODE_RINGBACK: return v1::TONE_KIND_RINGBACK;
    case LINETONEMODE_CUSTOM: return v1::TONE_KIND_CUSTOM;
    default: return v1::TONE_KIND_UNSPECIFIED;
  }
}

DWORD GatherTermOf(v1::GatherTermination t) {
  switch (t) {
    case v1::GATHER_TERMINATION_BUFFER_FULL: return LINEGATHERTERM_BUFFERFULL;
    case v1::GATHER_TERMINATION_TERMINATION_DIGIT: return LINEGATHERTERM_TERMDIGIT;
    case v1::GATHER_TERMINATION_FIRST_TIMEOUT: return LINEGATHERTERM_FIRSTTIMEOUT;
    case v1::GATHER_TERMINATION_INTER_TIMEOUT: return LINEGATHERTERM_INTERTIMEOUT;
    default: return LINEGATHERTERM_CANCEL;
  }
}

// LINEGENERATETONE.dwVolume (0..0xFFFF, full scale) as a level: -40..-1 dBm0.
int32_t LevelOf(DWORD volume) {
  if (volume == 0) return -40;
  const double db = 20 * std::log10(std::min<DWORD>(volume, 0xFFFF) / 65535.0);
  return static_cast<int32_t>(std::clamp(std::lround(db), -40L, -1L));
}

bool IsGatherDigit(char c) {
  return (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D');
}

}  // namespace

const v1::LineCaps* RemoteProvider::CallLineCapsLocked(const CallEntry& entry) {
  const OpenLine* open = open_lines_.Find(entry.hd_line);
  if (open == nullptr || !lines_[open->index].info.has_value()) return nullptr;
  return &lines_[open->index].info->caps();
}

void RemoteProvider::SendCallMediaLocked(CallEntry& entry, absl::AnyInvocable<void()> send) {
  if (entry.media_in_flight) {
    entry.media_waiting.push_back(std::move(send));
    return;
  }
  entry.media_in_flight = true;
  send();
}

void RemoteProvider::CallMediaDoneLocked(uint32_t hd_call) {
  CallEntry* e = calls_.Find(hd_call);
  if (e == nullptr) return;
  if (e->media_waiting.empty()) {
    e->media_in_flight = false;
    return;
  }
  absl::AnyInvocable<void()> next = std::move(e->media_waiting.front());
  e->media_waiting.pop_front();
  next();
}

void RemoteProvider::CallEventLocked(CallEntry& entry, const Outgoing& out) {
  if (entry.outbound_pending) {
    entry.deferred.push_back(out);
  } else {
    EnqueueLocked(out);
  }
}

void RemoteProvider::RequestEndedLocked(CallEntry& entry, uint32_t hd_call, DWORD msg, DWORD term,
                                        DWORD end_to_end_id) {
  Outgoing out;
  out.kind = Outgoing::Kind::kCallEvent;
  out.hd_call = hd_call;
  out.msg = msg;
  out.p1 = term;
  out.p2 = end_to_end_id;
  out.p3 = TickCount();
  CallEventLocked(entry, out);
}

LONG RemoteProvider::GenerateTone(HDRVCALL hd_call, DWORD end_to_end_id, DWORD tone_mode,
                                  DWORD duration, DWORD num_tones, const LINEGENERATETONE* tones) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, 0, &entry); err != 0) return err;
  const v1::LineCaps* caps = CallLineCapsLocked(*entry);
  if (caps != nullptr && caps->generate_tone_modes_size() == 0) return LINEERR_OPERATIONUNAVAIL;
  v1::GenerateToneRequest request;
  request.set_call_id(entry->call_id);
  if (tone_mode != 0) {
    // One mode, one the line generates.
    if ((tone_mode & ~kToneModes) != 0 || (tone_mode & (tone_mode - 1)) != 0) {
      return LINEERR_INVALTONEMODE;
    }
    if (caps != nullptr && (GenerateToneModesOf(*caps) & tone_mode) == 0) {
      return LINEERR_INVALTONEMODE;
    }
    if (tone_mode == LINETONEMODE_CUSTOM) {
      if (tones == nullptr) return LINEERR_INVALPOINTER;
      const DWORD max = caps != nullptr ? caps->generate_tone_max_num_freq() : 2;
      if (num_tones == 0 || num_tones > max) return LINEERR_INVALTONE;
      for (DWORD i = 0; i < num_tones; ++i) {
        const LINEGENERATETONE& t = tones[i];
        if (t.dwFrequency < kMinToneHz || t.dwFrequency > kMaxToneHz) return LINEERR_INVALTONE;
        // One cadence for all frequencies (the server's generator).
        if (t.dwCadenceOn != tones[0].dwCadenceOn || t.dwCadenceOff != tones[0].dwCadenceOff) {
          return LINEERR_INVALTONE;
        }
        if (t.dwCadenceOn != 0 && (t.dwCadenceOn < 20 || t.dwCadenceOn > 10000 ||
                                   t.dwCadenceOff > 10000)) {
          return LINEERR_INVALTONE;
        }
        v1::ToneComponent* c = request.add_components();
        c->set_frequency_hz(t.dwFrequency);
        c->set_cadence_on_ms(t.dwCadenceOn);
        c->set_cadence_off_ms(t.dwCadenceOff);
        c->set_level_dbm0(LevelOf(t.dwVolume));
      }
    }
    const v1::CallState state = entry->call.status().state();
    if (state != v1::CALL_STATE_CONNECTED && state != v1::CALL_STATE_CONFERENCED) {
      return LINEERR_INVALCALLSTATE;
    }
    request.set_kind(ToneKindOf(tone_mode));
    request.set_duration_ms(std::min(duration, kMaxToneDuration));
    request.set_end_to_end_id(end_to_end_id);
    entry->tones.push_back(end_to_end_id);
  }
  // Cancelling (mode 0): the server ends the running tone, cancelled.
  const uint32_t id = IdOf(hd_call);
  SendCallMediaLocked(*entry, [this, id, end_to_end_id, tone_mode,
                               request = std::move(request)]() mutable {
    mu_.AssertHeld();
    client_->GenerateToneAsync(
        std::move(request),
        [this, id, end_to_end_id, tone_mode](absl::StatusOr<v1::Call> call) {
          DrainingLock done_lock(this);
          CallMediaDoneLocked(id);
          if (call.ok() || tone_mode == 0) return;
          LogError("lineGenerateTone: " + call.status().ToString());
          CallEntry* e = calls_.Find(id);
          if (e == nullptr || e->idle) return;
          auto it = std::find(e->tones.begin(), e->tones.end(), end_to_end_id);
          if (it == e->tones.end()) return;
          e->tones.erase(it);
          RequestEndedLocked(*e, id, LINE_GENERATE, LINEGENERATETERM_CANCEL, end_to_end_id);
        },
        call_options());
  });
  return 0;
}

LONG RemoteProvider::GatherDigits(HDRVCALL hd_call, DWORD end_to_end_id, DWORD digit_modes,
                                  LPWSTR digits, DWORD num_digits, LPCWSTR termination_digits,
                                  DWORD first_digit_timeout, DWORD inter_digit_timeout) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, 0, &entry); err != 0) return err;
  const v1::LineCaps* caps = CallLineCapsLocked(*entry);
  if (caps != nullptr && caps->gather_digits_max_timeout_ms() == 0) {
    return LINEERR_OPERATIONUNAVAIL;
  }
  v1::GatherDigitsRequest request;
  request.set_call_id(entry->call_id);
  const uint32_t id = IdOf(hd_call);
  if (digits == nullptr) {
    // Cancels the gathering in progress: it ends with LINEGATHERTERM_CANCEL.
    request.set_cancel(true);
    SendCallMediaLocked(*entry, [this, id, request = std::move(request)]() mutable {
      mu_.AssertHeld();
      client_->GatherDigitsAsync(
          std::move(request),
          [this, id](absl::StatusOr<v1::Call>) {
            DrainingLock done_lock(this);
            CallMediaDoneLocked(id);
          },
          call_options());
    });
    return 0;
  }
  // Digits come from the call's audio: DTMF.
  if (digit_modes != LINEDIGITMODE_DTMF) return LINEERR_INVALDIGITMODE;
  if (num_digits == 0 || num_digits > kMaxGatherDigits) return LINEERR_INVALPARAM;
  if (termination_digits != nullptr) {
    const std::string term = Utf16ToUtf8(termination_digits, 64);
    if (term.size() > 16) return LINEERR_INVALDIGITS;
    for (char c : term) {
      if (!IsGatherDigit(c)) return LINEERR_INVALDIGITS;
    }
    request.set_termination_digits(term);
  }
  const DWORD min_timeout = caps != nullptr ? caps->gather_digits_min_timeout_ms() : 20;
  const DWORD max_timeout = caps != nullptr ? caps->gather_digits_max_timeout_ms() : 600000;
  for (DWORD t : {first_digit_timeout, inter_digit_timeout}) {
    if (t != 0 && (t < min_timeout || t > max_timeout)) return LINEERR_INVALTIMEOUT;
  }
  const v1::CallState state = entry->call.status().state();
  if (state != v1::CALL_STATE_CONNECTED && state != v1::CALL_STATE_CONFERENCED) {
    return LINEERR_INVALCALLSTATE;
  }
  request.add_modes(v1::DIGIT_MODE_DTMF);
  request.set_max_digits(num_digits);
  request.set_first_digit_timeout_ms(first_digit_timeout);
  request.set_inter_digit_timeout_ms(inter_digit_timeout);
  request.set_end_to_end_id(end_to_end_id);
  entry->gathers.push_back(CallEntry::Gathering{end_to_end_id, digits, num_digits});
  SendCallMediaLocked(*entry, [this, id, end_to_end_id, request = std::move(request)]() mutable {
    mu_.AssertHeld();
    client_->GatherDigitsAsync(
        std::move(request),
        [this, id, end_to_end_id](absl::StatusOr<v1::Call> call) {
          DrainingLock done_lock(this);
          CallMediaDoneLocked(id);
          if (call.ok()) return;
          LogError("lineGatherDigits: " + call.status().ToString());
          CallEntry* e = calls_.Find(id);
          if (e == nullptr || e->idle) return;
          auto it = std::find_if(e->gathers.begin(), e->gathers.end(),
                                 [&](const auto& g) { return g.end_to_end_id == end_to_end_id; });
          if (it == e->gathers.end()) return;
          e->gathers.erase(it);
          RequestEndedLocked(*e, id, LINE_GATHERDIGITS, LINEGATHERTERM_CANCEL, end_to_end_id);
        },
        call_options());
  });
  return 0;
}

LONG RemoteProvider::MonitorTones(HDRVCALL hd_call, DWORD tone_list_id,
                                  const LINEMONITORTONE* tones, DWORD num_entries) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, 0, &entry); err != 0) return err;
  const v1::LineCaps* caps = CallLineCapsLocked(*entry);
  if (caps != nullptr && caps->monitor_tone_max_num_entries() == 0) return LINEERR_OPERATIONUNAVAIL;
  v1::MonitorTonesRequest request;
  request.set_call_id(entry->call_id);
  request.set_tone_list_id(tone_list_id);
  if (tones != nullptr) {  // NULL: stop monitoring
    const DWORD max_entries = caps != nullptr ? caps->monitor_tone_max_num_entries() : 16;
    const DWORD max_freq = caps != nullptr ? caps->monitor_tone_max_num_freq() : 3;
    if (num_entries == 0 || num_entries > max_entries) return LINEERR_INVALTONELIST;
    for (DWORD i = 0; i < num_entries; ++i) {
      const LINEMONITORTONE& t = tones[i];
      v1::MonitoredTone* m = request.add_tones();
      m->set_app_specific(t.dwAppSpecific);
      if (t.dwDuration > kMaxMonitorMs) return LINEERR_INVALTONE;
      m->set_duration_ms(std::max(t.dwDuration, kMinMonitorMs));
      for (DWORD f : {t.dwFrequency1, t.dwFrequency2, t.dwFrequency3}) {
        if (f == 0) continue;  // all zero: silence
        if (f < kMinToneHz || f > kMaxToneHz) return LINEERR_INVALTONE;
        m->add_frequencies_hz(f);
      }
      if (static_cast<DWORD>(m->frequencies_hz_size()) > max_freq) return LINEERR_INVALTONE;
    }
  }
  const uint32_t id = IdOf(hd_call);
  SendCallMediaLocked(*entry, [this, id, request = std::move(request)]() mutable {
    mu_.AssertHeld();
    client_->MonitorTonesAsync(
        std::move(request),
        [this, id](absl::StatusOr<v1::Call> call) {
          if (!call.ok()) LogError("lineMonitorTones: " + call.status().ToString());
          DrainingLock done_lock(this);
          CallMediaDoneLocked(id);
        },
        call_options());
  });
  return 0;
}

LONG RemoteProvider::MonitorMedia(HDRVCALL hd_call, DWORD media_modes) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, 0, &entry); err != 0) return err;
  const v1::LineCaps* caps = CallLineCapsLocked(*entry);
  if (caps != nullptr && caps->monitor_media_modes_size() == 0) return LINEERR_OPERATIONUNAVAIL;
  const DWORD supported = caps != nullptr ? ToTapiMask<v1::MediaMode>(caps->monitor_media_modes())
                                          : (LINEMEDIAMODE_UNKNOWN | LINEMEDIAMODE_INTERACTIVEVOICE |
                                             LINEMEDIAMODE_DATAMODEM | LINEMEDIAMODE_G3FAX);
  if ((media_modes & ~supported) != 0) return LINEERR_INVALMEDIAMODE;
  v1::MonitorMediaRequest request;
  request.set_call_id(entry->call_id);
  for (v1::MediaMode m : FromTapiMask<v1::MediaMode>(media_modes)) request.add_modes(m);
  const uint32_t id = IdOf(hd_call);
  SendCallMediaLocked(*entry, [this, id, request = std::move(request)]() mutable {
    mu_.AssertHeld();
    client_->MonitorMediaAsync(
        std::move(request),
        [this, id](absl::StatusOr<v1::Call> call) {
          if (!call.ok()) LogError("lineMonitorMedia: " + call.status().ToString());
          DrainingLock done_lock(this);
          CallMediaDoneLocked(id);
        },
        call_options());
  });
  return 0;
}

LONG RemoteProvider::SetMediaMode(HDRVCALL hd_call, DWORD media_modes) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, 0, &entry); err != 0) return err;
  DWORD unmapped = 0;
  std::vector<v1::MediaMode> modes = FromTapiMask<v1::MediaMode>(media_modes, &unmapped);
  if (modes.empty() || unmapped != 0) return LINEERR_INVALMEDIAMODE;
  // Several modes only with UNKNOWN (the call is one of them, not yet known).
  const bool unknown = (media_modes & LINEMEDIAMODE_UNKNOWN) != 0;
  if (modes.size() > 1 && !unknown) return LINEERR_INVALMEDIAMODE;
  if (const v1::LineCaps* caps = CallLineCapsLocked(*entry)) {
    // A mode the line carries, or one it tells a call is (MonitorMedia).
    const DWORD line_modes = ToTapiMask<v1::MediaMode>(caps->media_modes()) |
                             ToTapiMask<v1::MediaMode>(caps->monitor_media_modes()) |
                             LINEMEDIAMODE_UNKNOWN;
    if ((media_modes & ~line_modes) != 0) return LINEERR_INVALMEDIAMODE;
  }
  // lineGetCallInfo shows it at once; LINE_CALLINFO follows from the server.
  entry->call.mutable_info()->set_media_mode(unknown ? v1::MEDIA_MODE_UNKNOWN : modes[0]);
  v1::SetMediaModeRequest request;
  request.set_call_id(entry->call_id);
  for (v1::MediaMode m : modes) request.add_media_modes(m);
  const uint32_t id = IdOf(hd_call);
  SendCallMediaLocked(*entry, [this, id, request = std::move(request)]() mutable {
    mu_.AssertHeld();
    client_->SetMediaModeAsync(
        std::move(request),
        [this, id](absl::StatusOr<v1::Call> call) {
          if (!call.ok()) LogError("lineSetMediaMode: " + call.status().ToString());
          DrainingLock done_lock(this);
          CallMediaDoneLocked(id);
        },
        call_options());
  });
  return 0;
}

void RemoteProvider::CallMediaEventLocked(size_t server, const v1::Event& event) {
  std::string call_id, session_id;
  switch (event.kind_case()) {
    case v1::Event::kToneGenerated:
      call_id = event.tone_generated().call_id();
      session_id = event.tone_generated().session_id();
      break;
    case v1::Event::kGatherCompleted:
      call_id = event.gather_completed().call_id();
      session_id = event.gather_completed().session_id();
      break;
    case v1::Event::kToneDetected:
      call_id = event.tone_detected().call_id();
      session_id = event.tone_detected().session_id();
      break;
    case v1::Event::kMediaDetected:
      call_id = event.media_detected().call_id();
      session_id = event.media_detected().session_id();
      break;
    default:
      return;
  }
  // Another workstation's (or client's) request.
  if (session_id.empty() || session_id != client_->session_id(server)) return;
  auto it = call_by_id_.find(call_id);
  if (it == call_by_id_.end()) return;
  CallEntry* entry = calls_.Find(it->second);
  if (entry == nullptr || entry->idle) return;
  Outgoing out;
  out.kind = Outgoing::Kind::kCallEvent;
  out.hd_call = it->second;
  out.p3 = TickCount();
  switch (event.kind_case()) {
    case v1::Event::kToneGenerated: {
      const v1::ToneGenerated& g = event.tone_generated();
      auto t = std::find(entry->tones.begin(), entry->tones.end(), g.end_to_end_id());
      if (t == entry->tones.end()) return;  // reported already
      entry->tones.erase(t);
      out.msg = LINE_GENERATE;
      out.p1 = g.cancelled() ? LINEGENERATETERM_CANCEL : LINEGENERATETERM_DONE;
      out.p2 = g.end_to_end_id();
      break;
    }
    case v1::Event::kGatherCompleted: {
      const v1::GatherCompleted& g = event.gather_completed();
      auto t = std::find_if(entry->gathers.begin(), entry->gathers.end(), [&](const auto& x) {
        return x.end_to_end_id == g.end_to_end_id();
      });
      if (t == entry->gathers.end()) return;
      // The digits into TAPISRV's buffer (a NUL after them if there is room).
      const size_t n = std::min<size_t>(g.digits().size(), t->size);
      for (size_t i = 0; i < n; ++i) t->buffer[i] = static_cast<char16_t>(g.digits()[i]);
      if (n < t->size) t->buffer[n] = 0;
      entry->gathers.erase(t);
      out.msg = LINE_GATHERDIGITS;
      out.p1 = GatherTermOf(g.termination());
      out.p2 = g.end_to_end_id();
      break;
    }
    case v1::Event::kToneDetected:
      out.msg = LINE_MONITORTONE;
      out.p1 = event.tone_detected().app_specific();
      out.p2 = event.tone_detected().tone_list_id();
      break;
    case v1::Event::kMediaDetected:
      out.msg = LINE_MONITORMEDIA;
      out.p1 = ToTapi(event.media_detected().media_mode());
      break;
    default:
      return;
  }
  CallEventLocked(*entry, out);
}

void RemoteProvider::CancelCallMediaLocked(uint32_t hd_call, CallEntry& entry) {
  Outgoing out;
  out.kind = Outgoing::Kind::kCallEvent;
  out.hd_call = hd_call;
  out.p3 = TickCount();
  for (DWORD id : entry.tones) {
    out.msg = LINE_GENERATE;
    out.p1 = LINEGENERATETERM_CANCEL;
    out.p2 = id;
    CallEventLocked(entry, out);
  }
  entry.tones.clear();
  for (const CallEntry::Gathering& g : entry.gathers) {
    if (g.size > 0) g.buffer[0] = 0;
    out.msg = LINE_GATHERDIGITS;
    out.p1 = LINEGATHERTERM_CANCEL;
    out.p2 = g.end_to_end_id;
    CallEventLocked(entry, out);
  }
  entry.gathers.clear();
}

}  // namespace linebridge::tsp
