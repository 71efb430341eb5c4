#include "media/tones.h"

#include <spandsp.h>

#include "absl/strings/str_cat.h"
#include "linebridge/lineerr.h"

namespace linebridge::media {
namespace {

constexpr int kDefaultLevel = -13;  // dBm0

absl::Status Bad(absl::string_view what) {
  return InvalidArgument(LINEERR_INVALPARAM, what);
}

struct Cadence {
  int f1, l1, f2, l2, on1, off1, on2, off2;
  bool repeat;
  int64_t total_ms;  // -1: the tone's own end or forever
};

absl::StatusOr<Cadence> CadenceOf(const v1::GenerateTone& t) {
  switch (t.kind()) {
    case v1::TONE_KIND_BEEP:
      return Cadence{1000, -10, 0, 0, 250, 0, 0, 0, false, -1};
    case v1::TONE_KIND_BILLING:
      return Cadence{1000, -10, 0, 0, 100, 100, 100, 100, true, 500};
    case v1::TONE_KIND_BUSY:
      return Cadence{480, -24, 620, -24, 500, 500, 0, 0, true, -1};
    case v1::TONE_KIND_RINGBACK:
      return Cadence{440, -19, 480, -19, 2000, 4000, 0, 0, true, -1};
    case v1::TONE_KIND_CUSTOM: {
      const v1::CustomTone& c = t.custom();
      if (c.frequency1_hz() < 100 || c.frequency1_hz() > 3800) {
        return Bad("custom.frequency1_hz must be 100..3800");
      }
      if (c.frequency2_hz() != 0 && (c.frequency2_hz() < 100 || c.frequency2_hz() > 3800)) {
        return Bad("custom.frequency2_hz must be 0 or 100..3800");
      }
      if (c.level_dbm0() < -40 || c.level_dbm0() > 0) return Bad("custom.level_dbm0 must be -40..0");
      if (c.on_ms() < 20 || c.on_ms() > 10000) return Bad("custom.on_ms must be 20..10000");
      if (c.off_ms() > 10000) return Bad("custom.off_ms must be 0..10000");
      const int level = c.level_dbm0() == 0 ? kDefaultLevel : c.level_dbm0();
      const int f2 = static_cast<int>(c.frequency2_hz());
      return Cadence{static_cast<int>(c.frequency1_hz()), level, f2, f2 == 0 ? 0 : level,
                     static_cast<int>(c.on_ms()), static_cast<int>(c.off_ms()), 0, 0,
                     true, -1};
    }
    default:
      return Bad(absl::StrCat("tone kind ", t.kind(), " is not BEEP, BILLING, BUSY, RINGBACK or CUSTOM"));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ToneSource>> ToneSource::ForTone(const v1::GenerateTone& tone) {
  absl::StatusOr<Cadence> c = CadenceOf(tone);
  if (!c.ok()) return c.status();
  if (tone.duration_ms() > kMaxToneMs) return Bad("duration_ms must be at most 60000");
  std::unique_ptr<ToneSource> s(new ToneSource());
  tone_gen_descriptor_t* d = tone_gen_descriptor_init(nullptr, c->f1, c->l1, c->f2, c->l2, c->on1,
                                                      c->off1, c->on2, c->off2, c->repeat);
  s->tone_ = tone_gen_init(nullptr, d);
  tone_gen_descriptor_free(d);
  int64_t ms = tone.duration_ms() > 0 ? tone.duration_ms() : c->total_ms;
  s->samples_left_ = ms < 0 ? -1 : ms * kSampleRate / 1000;
  return s;
}

absl::StatusOr<std::unique_ptr<ToneSource>> ToneSource::ForDigits(const std::string& digits) {
  if (digits.empty() || digits.size() > kMaxPlayDigits) {
    return Bad("digits must hold 1..64 of 0-9 * # A-D");
  }
  for (char ch : digits) {
    if (!((ch >= '0' && ch <= '9') || ch == '*' || ch == '#' || (ch >= 'A' && ch <= 'D'))) {
      return Bad(absl::StrCat("digits: '", std::string(1, ch), "' is not 0-9 * # A-D"));
    }
  }
  std::unique_ptr<ToneSource> s(new ToneSource());
  s->dtmf_ = dtmf_tx_init(nullptr);
  dtmf_tx_put(s->dtmf_, digits.c_str(), static_cast<int>(digits.size()));
  return s;
}

ToneSource::~ToneSource() {
  if (tone_ != nullptr) tone_gen_free(tone_);
  if (dtmf_ != nullptr) dtmf_tx_free(dtmf_);
}

bool ToneSource::Next(Frame* out) {
  out->fill(0);
  int want = kFrameSamples;
  if (samples_left_ >= 0 && samples_left_ < want) want = static_cast<int>(samples_left_);
  if (want == 0) return false;
  const int got = tone_ != nullptr ? tone_gen(tone_, out->data(), want)
                                   : dtmf_tx(dtmf_, out->data(), want);
  if (samples_left_ >= 0) samples_left_ -= got;
  return got == want && samples_left_ != 0;
}

// Frame repetition, fading. (spandsp's plc_fillin would do better for
// speech, but Debian's 0.0.6 copies overlapping memory with memcpy inside
// it — AddressSanitizer stops on it — so it is not used.)
struct LossConcealer::State {
  Frame last{};
  int missing = 0;  // consecutive concealed frames
};

LossConcealer::LossConcealer() : state_(std::make_unique<State>()) {}

LossConcealer::~LossConcealer() = default;

void LossConcealer::Received(Frame* frame) {
  state_->last = *frame;
  state_->missing = 0;
}

void LossConcealer::Conceal(Frame* frame) {
  // The last frame again at 3/4, 9/16, ..., silence from the fourth gap on.
  if (++state_->missing > 3) {
    frame->fill(0);
    return;
  }
  for (int i = 0; i < kFrameSamples; ++i) {
    state_->last[i] = static_cast<int16_t>(state_->last[i] * 3 / 4);
    (*frame)[i] = state_->last[i];
  }
}

DtmfDetector::DtmfDetector() : rx_(dtmf_rx_init(nullptr, &DtmfDetector::OnDigits, this)) {}

DtmfDetector::~DtmfDetector() { dtmf_rx_free(rx_); }

void DtmfDetector::OnDigits(void* self, const char* digits, int len) {
  auto* d = static_cast<DtmfDetector*>(self);
  if (d->out_ != nullptr) d->out_->append(digits, static_cast<size_t>(len));
}

void DtmfDetector::Feed(const Frame& frame, std::string* digits) {
  out_ = digits;
  dtmf_rx(rx_, frame.data(), kFrameSamples);
  out_ = nullptr;
}

}  // namespace linebridge::media
