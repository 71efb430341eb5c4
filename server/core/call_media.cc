#include "core/call_media.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "linebridge/lineerr.h"

namespace linebridge {
namespace {

constexpr uint32_t kMinToneHz = 100;
constexpr uint32_t kMaxToneHz = 3800;
constexpr uint32_t kMaxCadenceMs = 10000;
constexpr uint32_t kMaxToneDurationMs = 60000;

bool IsDigit(char c) {
  return (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D');
}

template <typename List>
void AddOnce(List* list, int value) {
  if (std::find(list->begin(), list->end(), value) == list->end()) list->Add(value);
}

absl::Status CheckTimeout(const char* what, uint32_t ms) {
  if (ms == 0 || (ms >= kGatherMinTimeoutMs && ms <= kGatherMaxTimeoutMs)) return absl::OkStatus();
  return InvalidArgument(LINEERR_INVALTIMEOUT,
                         absl::StrCat(what, " must be 0 or ", kGatherMinTimeoutMs, "..",
                                      kGatherMaxTimeoutMs, " ms"));
}

}  // namespace

void AddCallMediaCaps(v1::Line* line) {
  v1::LineCaps* caps = line->mutable_caps();
  caps->clear_generate_tone_modes();
  for (v1::ToneKind k : {v1::TONE_KIND_BEEP, v1::TONE_KIND_BILLING, v1::TONE_KIND_BUSY,
                         v1::TONE_KIND_RINGBACK, v1::TONE_KIND_CUSTOM}) {
    caps->add_generate_tone_modes(k);
  }
  caps->set_generate_tone_max_num_freq(kGenerateToneMaxNumFreq);
  caps->set_monitor_tone_max_num_freq(kMonitorToneMaxNumFreq);
  caps->set_monitor_tone_max_num_entries(kMonitorToneMaxNumEntries);
  caps->set_gather_digits_min_timeout_ms(kGatherMinTimeoutMs);
  caps->set_gather_digits_max_timeout_ms(kGatherMaxTimeoutMs);
  caps->clear_monitor_media_modes();
  for (v1::MediaMode m : {v1::MEDIA_MODE_UNKNOWN, v1::MEDIA_MODE_INTERACTIVE_VOICE,
                          v1::MEDIA_MODE_DATAMODEM, v1::MEDIA_MODE_G3FAX}) {
    caps->add_monitor_media_modes(m);
  }
  for (v1::Address& a : *line->mutable_addresses()) {
    auto* features = a.mutable_caps()->mutable_call_features();
    for (v1::CallFeature f : {v1::CALL_FEATURE_GENERATETONE, v1::CALL_FEATURE_GATHERDIGITS,
                              v1::CALL_FEATURE_MONITORTONES, v1::CALL_FEATURE_MONITORMEDIA}) {
      AddOnce(features, f);
    }
  }
}

bool MonitorsMediaMode(v1::MediaMode mode) {
  return mode == v1::MEDIA_MODE_UNKNOWN || mode == v1::MEDIA_MODE_INTERACTIVE_VOICE ||
         mode == v1::MEDIA_MODE_DATAMODEM || mode == v1::MEDIA_MODE_G3FAX;
}

absl::StatusOr<v1::GenerateTone> ToneOfRequest(const v1::GenerateToneRequest& req) {
  v1::GenerateTone tone;
  if (req.duration_ms() > kMaxToneDurationMs) {
    return InvalidArgument(LINEERR_INVALPARAM,
                           absl::StrCat("duration_ms is at most ", kMaxToneDurationMs));
  }
  switch (req.kind()) {
    case v1::TONE_KIND_UNSPECIFIED:
      return tone;  // cancel
    case v1::TONE_KIND_BEEP:
    case v1::TONE_KIND_BILLING:
    case v1::TONE_KIND_BUSY:
    case v1::TONE_KIND_RINGBACK:
      if (req.components_size() > 0) {
        return InvalidArgument(LINEERR_INVALTONE, "components are for CUSTOM tones only");
      }
      break;
    case v1::TONE_KIND_CUSTOM: {
      const int n = req.components_size();
      if (n == 0 || n > static_cast<int>(kGenerateToneMaxNumFreq)) {
        return InvalidArgument(LINEERR_INVALTONE,
                               absl::StrCat("a custom tone has 1..", kGenerateToneMaxNumFreq,
                                            " components; got ", n));
      }
      const v1::ToneComponent& first = req.components(0);
      int level = 0;
      for (int i = 0; i < n; ++i) {
        const v1::ToneComponent& c = req.components(i);
        if (c.frequency_hz() < kMinToneHz || c.frequency_hz() > kMaxToneHz) {
          return InvalidArgument(LINEERR_INVALTONE,
                                 absl::StrCat("components[", i, "].frequency_hz must be ",
                                              kMinToneHz, "..", kMaxToneHz));
        }
        if (c.cadence_on_ms() != first.cadence_on_ms() ||
            c.cadence_off_ms() != first.cadence_off_ms()) {
          return InvalidArgument(LINEERR_INVALTONE, "the components of a tone share one cadence");
        }
        if (c.level_dbm0() < -40 || c.level_dbm0() > 0) {
          return InvalidArgument(LINEERR_INVALTONE,
                                 absl::StrCat("components[", i, "].level_dbm0 must be -40..0"));
        }
        const int l = c.level_dbm0() == 0 ? -13 : c.level_dbm0();
        level = i == 0 ? l : std::max(level, l);
      }
      const uint32_t on = first.cadence_on_ms();
      const uint32_t off = first.cadence_off_ms();
      if (on != 0 && (on < 20 || on > kMaxCadenceMs || off > kMaxCadenceMs)) {
        return InvalidArgument(LINEERR_INVALTONE,
                               "cadence_on_ms must be 0 (continuous) or 20..10000, cadence_off_ms "
                               "0..10000");
      }
      v1::CustomTone* custom = tone.mutable_custom();
      custom->set_frequency1_hz(first.frequency_hz());
      if (n > 1) custom->set_frequency2_hz(req.components(1).frequency_hz());
      custom->set_level_dbm0(level);
      custom->set_on_ms(on == 0 ? kMaxCadenceMs : on);
      custom->set_off_ms(on == 0 ? 0 : off);
      break;
    }
    default:
      return InvalidArgument(LINEERR_INVALTONEMODE,
                             absl::StrCat("tone kind ", static_cast<int>(req.kind()),
                                          " is not BEEP, BILLING, BUSY, RINGBACK or CUSTOM"));
  }
  tone.set_kind(req.kind());
  tone.set_duration_ms(req.duration_ms());
  return tone;
}

absl::StatusOr<v1::GatherDigits> GatherOfRequest(const v1::GatherDigitsRequest& req) {
  v1::GatherDigits rules;
  if (req.cancel()) return rules;
  for (int m : req.modes()) {
    if (m != v1::DIGIT_MODE_DTMF) {
      return InvalidArgument(LINEERR_INVALDIGITMODE,
                             "digits are gathered from the call's audio: DTMF only");
    }
  }
  if (req.max_digits() < 1 || req.max_digits() > kGatherMaxDigits) {
    return InvalidArgument(LINEERR_INVALPARAM,
                           absl::StrCat("max_digits must be 1..", kGatherMaxDigits));
  }
  if (req.termination_digits().size() > 16) {
    return InvalidArgument(LINEERR_INVALDIGITS, "termination_digits holds at most 16 digits");
  }
  for (char c : req.termination_digits()) {
    if (!IsDigit(c)) {
      return InvalidArgument(LINEERR_INVALDIGITS,
                             "termination_digits may hold only 0-9 * # A-D");
    }
  }
  if (absl::Status st = CheckTimeout("first_digit_timeout_ms", req.first_digit_timeout_ms());
      !st.ok()) {
    return st;
  }
  if (absl::Status st = CheckTimeout("inter_digit_timeout_ms", req.inter_digit_timeout_ms());
      !st.ok()) {
    return st;
  }
  rules.set_max_digits(req.max_digits());
  rules.set_termination_digits(req.termination_digits());
  rules.set_first_digit_timeout_ms(req.first_digit_timeout_ms());
  rules.set_inter_digit_timeout_ms(req.inter_digit_timeout_ms());
  return rules;
}

absl::Status CheckMonitorTones(const v1::MonitorTonesRequest& req) {
  if (req.tones_size() > static_cast<int>(kMonitorToneMaxNumEntries)) {
    return InvalidArgument(LINEERR_INVALTONELIST,
                           absl::StrCat("at most ", kMonitorToneMaxNumEntries, " tones"));
  }
  for (int i = 0; i < req.tones_size(); ++i) {
    const v1::MonitoredTone& t = req.tones(i);
    if (t.frequencies_hz_size() > static_cast<int>(kMonitorToneMaxNumFreq)) {
      return InvalidArgument(LINEERR_INVALTONE,
                             absl::StrCat("tones[", i, "] has over ", kMonitorToneMaxNumFreq,
                                          " frequencies"));
    }
    for (uint32_t f : t.frequencies_hz()) {
      if (f < kMinToneHz || f > kMaxToneHz) {
        return InvalidArgument(LINEERR_INVALTONE,
                               absl::StrCat("tones[", i, "]: frequencies are ", kMinToneHz, "..",
                                            kMaxToneHz, " Hz"));
      }
    }
    if (t.duration_ms() < kMonitorToneMinMs || t.duration_ms() > kMonitorToneMaxMs) {
      return InvalidArgument(LINEERR_INVALTONE,
                             absl::StrCat("tones[", i, "].duration_ms must be ", kMonitorToneMinMs,
                                          "..", kMonitorToneMaxMs));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMonitorMedia(const v1::MonitorMediaRequest& req) {
  for (int m : req.modes()) {
    if (!v1::MediaMode_IsValid(m) || !MonitorsMediaMode(static_cast<v1::MediaMode>(m))) {
      return InvalidArgument(LINEERR_INVALMEDIAMODE,
                             "media modes detected: UNKNOWN, INTERACTIVE_VOICE, DATAMODEM, G3FAX");
    }
  }
  return absl::OkStatus();
}

}  // namespace linebridge
