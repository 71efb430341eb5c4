#include "providers/modem/testing/emulator_voice.h"

#include <spandsp.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace linebridge::modem {
namespace {

constexpr char kDle = 0x10;
constexpr char kEtx = 0x03;
constexpr double kPi = 3.14159265358979323846;
constexpr double kAmplitude = 8000;  // about -12 dBFS

}  // namespace

EmulatorVoice::EmulatorVoice()
    : methods_({{128, "8-BIT LINEAR", 8, {7200, 8000, 11025}},
                {129, "16-BIT LINEAR", 16, {7200, 8000, 11025}},
                {130, "8-BIT ALAW", 8, {8000}},
                {131, "8-BIT ULAW", 8, {8000}},
                {132, "IMA ADPCM", 4, {7200, 8000, 11025}}}) {}

void EmulatorVoice::SetMethods(std::vector<Method> methods) {
  if (methods.empty() || methods.front().rates.empty()) return;
  methods_ = std::move(methods);
  selected_ = 0;
  rate_ = methods_.front().rates.front();
}

EmulatorVoice::Encoding EmulatorVoice::EncodingOf(const Method& m) {
  const std::string n = absl::AsciiStrToUpper(m.name);
  if (absl::StrContains(n, "ADPCM")) return Encoding::kUnusable;
  if (absl::StrContains(n, "ULAW")) return Encoding::kMuLaw;
  if (absl::StrContains(n, "ALAW")) return Encoding::kALaw;
  return m.bits == 16 ? Encoding::kLinear16 : Encoding::kLinear8;
}

std::vector<std::string> EmulatorVoice::TestLines() const {
  std::vector<std::string> out;
  for (const Method& m : methods_) {
    out.push_back(absl::StrCat(m.id, ",\"", m.name, "\",", m.bits, ",0,(",
                               absl::StrJoin(m.rates, ","), "),(0),(0)"));
  }
  return out;
}

bool EmulatorVoice::Select(absl::string_view params) {
  std::vector<std::string> f = absl::StrSplit(params, ',');
  int id = -1, rate = 8000;
  if (f.empty() || !absl::SimpleAtoi(f[0], &id)) return false;
  if (f.size() > 1 && !absl::SimpleAtoi(f[1], &rate)) return false;
  for (size_t i = 0; i < methods_.size(); ++i) {
    const Method& m = methods_[i];
    if (m.id != id) continue;
    if (EncodingOf(m) == Encoding::kUnusable) return false;
    if (f.size() == 1) rate = m.rates.front();
    if (std::find(m.rates.begin(), m.rates.end(), rate) == m.rates.end()) return false;
    selected_ = i;
    rate_ = rate;
    return true;
  }
  return false;
}

void EmulatorVoice::Start(Mode mode, absl::Time now) {
  mode_ = mode;
  start_ = now;
  sent_ = 0;
  dle_ = has_low_ = false;
  events_.clear();
  if (mode != Mode::kNone) ++streams_;
}

absl::Time EmulatorVoice::NextDue() const {
  if (mode_ != Mode::kDuplex && mode_ != Mode::kReceive) return absl::InfiniteFuture();
  // The next whole chunk after what was sent.
  const int64_t chunk = rate_ / 50;
  const int64_t next = (sent_ / chunk + 1) * chunk;
  return start_ + absl::Seconds(static_cast<double>(next) / rate_);
}

std::string EmulatorVoice::Generate(absl::Time now) {
  std::string out;
  if (mode_ != Mode::kDuplex && mode_ != Mode::kReceive) return out;
  for (char c : events_) {
    out.push_back(kDle);
    out.push_back(c);
  }
  events_.clear();
  const int64_t due = static_cast<int64_t>(absl::ToDoubleSeconds(now - start_) * rate_);
  const Encoding enc = EncodingOf(selected());
  for (; sent_ < due; ++sent_) {
    const double v = tone_hz_ <= 0 ? 0
                                   : kAmplitude * std::sin(2 * kPi * tone_hz_ *
                                                           static_cast<double>(sent_) / rate_);
    const auto s = static_cast<int16_t>(std::lround(v));
    std::string bytes;
    switch (enc) {
      case Encoding::kLinear16:
        bytes.push_back(static_cast<char>(static_cast<uint16_t>(s) & 0xff));
        bytes.push_back(static_cast<char>(static_cast<uint16_t>(s) >> 8));
        break;
      case Encoding::kMuLaw:
        bytes.push_back(static_cast<char>(linear_to_ulaw(s)));
        break;
      case Encoding::kALaw:
        bytes.push_back(static_cast<char>(linear_to_alaw(s)));
        break;
      default:
        bytes.push_back(static_cast<char>(std::clamp((s + 32768 + 128) >> 8, 0, 255)));
        break;
    }
    for (char b : bytes) {
      out.push_back(b);
      if (b == kDle) out.push_back(kDle);
    }
  }
  return out;
}

void EmulatorVoice::Decode(absl::string_view data) {
  if (mode_ == Mode::kReceive) return;  // +VRX: the DTE sends no audio
  const Encoding enc = EncodingOf(selected());
  for (char c : data) {
    const auto b = static_cast<uint8_t>(c);
    switch (enc) {
      case Encoding::kLinear16:
        if (!has_low_) {
          low_ = b;
          has_low_ = true;
        } else {
          received_.push_back(static_cast<int16_t>(static_cast<uint16_t>(low_ | (b << 8))));
          has_low_ = false;
        }
        break;
      case Encoding::kMuLaw:
        received_.push_back(ulaw_to_linear(b));
        break;
      case Encoding::kALaw:
        received_.push_back(alaw_to_linear(b));
        break;
      default:
        received_.push_back(static_cast<int16_t>((b - 128) * 256));
        break;
    }
  }
}

std::string EmulatorVoice::OnDteBytes(absl::string_view bytes, bool* ended, std::string* rest,
                                      std::vector<std::string>* codes) {
  *ended = false;
  std::string data;
  size_t i = 0;
  while (i < bytes.size()) {
    const char c = bytes[i++];
    if (!dle_) {
      if (c == kDle) {
        dle_ = true;
      } else {
        data.push_back(c);
      }
      continue;
    }
    dle_ = false;
    if (c == kDle) {
      data.push_back(kDle);
      continue;
    }
    if (c == 0x1a) {
      data.append(2, kDle);
      continue;
    }
    codes->push_back(c == kEtx ? std::string("<DLE><ETX>") : absl::StrCat("<DLE>", std::string(1, c)));
    const bool ends = (c == '^' && mode_ == Mode::kDuplex) ||
                      (c == '!' && (mode_ == Mode::kDuplex || mode_ == Mode::kReceive)) ||
                      (c == kEtx && mode_ == Mode::kTransmit);
    if (!ends) continue;
    Decode(data);
    const Mode was = mode_;
    Start(Mode::kNone, absl::Now());
    *ended = true;
    rest->assign(bytes.data() + i, bytes.size() - i);
    // Receive and duplex end the stream to the DTE with <DLE><ETX>.
    return was == Mode::kTransmit ? std::string("\r\nOK\r\n") : std::string("\x10\x03\r\nOK\r\n");
  }
  Decode(data);
  return "";
}

}  // namespace linebridge::modem
