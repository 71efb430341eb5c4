#include "providers/modem/voice/voice_format.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace linebridge::modem::voice {
namespace {

constexpr int kMinRate = 4000;
constexpr int kMaxRate = 48000;

// Top-level fields: commas inside quotes or parentheses do not split.
std::vector<std::string> SplitFields(absl::string_view s) {
  std::vector<std::string> out(1);
  bool quoted = false;
  int depth = 0;
  for (char c : s) {
    if (c == '"') quoted = !quoted;
    if (!quoted && c == '(') ++depth;
    if (!quoted && c == ')' && depth > 0) --depth;
    if (!quoted && depth == 0 && c == ',') {
      out.emplace_back();
      continue;
    }
    out.back().push_back(c);
  }
  for (auto& f : out) f = std::string(absl::StripAsciiWhitespace(f));
  return out;
}

// Every number in `field`; "a-b" ranges give a, b and 8000 when inside.
void CollectRates(absl::string_view field, std::vector<int>* rates) {
  std::vector<int> numbers;
  std::vector<bool> range_start;
  size_t i = 0;
  while (i < field.size()) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(field[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < field.size() && absl::ascii_isdigit(static_cast<unsigned char>(field[j]))) ++j;
    int v = 0;
    if (absl::SimpleAtoi(field.substr(i, j - i), &v)) {
      numbers.push_back(v);
      range_start.push_back(j < field.size() && field[j] == '-');
    }
    i = j;
  }
  for (size_t k = 0; k < numbers.size(); ++k) {
    const int v = numbers[k];
    if (v >= kMinRate && v <= kMaxRate) rates->push_back(v);
    if (range_start[k] && k + 1 < numbers.size() && v <= 8000 && numbers[k + 1] >= 8000) {
      rates->push_back(8000);
    }
  }
}

std::optional<SampleEncoding> EncodingOf(absl::string_view name, int bits) {
  std::string n;
  for (char c : absl::AsciiStrToUpper(name)) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) n.push_back(c);
  }
  if (absl::StrContains(n, "ADPCM") || absl::StrContains(n, "GSM") ||
      absl::StrContains(n, "CELP")) {
    return std::nullopt;
  }
  if (absl::StrContains(n, "ULAW") || absl::StrContains(n, "MULAW")) return SampleEncoding::kMuLaw;
  if (absl::StrContains(n, "ALAW")) return SampleEncoding::kALaw;
  if (!absl::StrContains(n, "LINEAR") && !absl::StrContains(n, "PCM")) return std::nullopt;
  if (absl::StrContains(n, "16") || bits == 16) return SampleEncoding::kLinear16;
  // 8-bit linear is unsigned (V.253); a modem's "SIGNED PCM" is not.
  if (absl::StrContains(n, "SIGNED") && !absl::StrContains(n, "UNSIGNED")) return std::nullopt;
  if (bits == 0 || bits == 8) return SampleEncoding::kLinear8;
  return std::nullopt;
}

int Preference(SampleEncoding e) {
  switch (e) {
    case SampleEncoding::kLinear16: return 0;
    case SampleEncoding::kMuLaw: return 1;
    case SampleEncoding::kALaw: return 2;
    case SampleEncoding::kLinear8: return 3;
  }
  return 4;
}

}  // namespace

absl::string_view EncodingName(SampleEncoding encoding) {
  switch (encoding) {
    case SampleEncoding::kLinear16: return "linear16";
    case SampleEncoding::kMuLaw: return "ulaw";
    case SampleEncoding::kALaw: return "alaw";
    case SampleEncoding::kLinear8: return "linear8";
  }
  return "?";
}

int BytesPerSample(SampleEncoding encoding) {
  return encoding == SampleEncoding::kLinear16 ? 2 : 1;
}

std::vector<VoiceMethod> ParseVsmMethods(const std::vector<std::string>& lines) {
  std::vector<VoiceMethod> out;
  for (const std::string& raw : lines) {
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (absl::StartsWithIgnoreCase(line, "+VSM:")) {
      line = absl::StripLeadingAsciiWhitespace(line.substr(5));
    }
    const std::vector<std::string> f = SplitFields(line);
    if (f.size() < 2) continue;
    VoiceMethod m;
    if (!absl::SimpleAtoi(f[0], &m.id) || m.id < 0) continue;
    absl::string_view name = f[1];
    if (name.size() < 2 || name.front() != '"' || name.back() != '"') continue;
    m.name = std::string(name.substr(1, name.size() - 2));
    // <bps> follows the name in the long form (a plain number, not a rate).
    int bits = 0;
    if (f.size() > 2 && !absl::SimpleAtoi(f[2], &bits)) bits = 0;
    if (bits >= kMinRate) bits = 0;
    std::optional<SampleEncoding> e = EncodingOf(m.name, bits);
    if (!e) continue;
    m.encoding = *e;
    for (size_t i = 2; i < f.size(); ++i) CollectRates(f[i], &m.rates);
    std::sort(m.rates.begin(), m.rates.end());
    m.rates.erase(std::unique(m.rates.begin(), m.rates.end()), m.rates.end());
    if (m.rates.empty()) continue;
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<VoiceFormat> ChooseVoiceFormat(const std::vector<VoiceMethod>& methods) {
  std::optional<VoiceFormat> best;
  auto distance = [](int rate) {
    // Nearest to 8000; at equal distance the higher rate (less is lost).
    return std::abs(rate - 8000) * 2 + (rate < 8000 ? 1 : 0);
  };
  for (const VoiceMethod& m : methods) {
    int rate = m.rates.front();
    for (int r : m.rates) {
      if (distance(r) < distance(rate)) rate = r;
    }
    VoiceFormat f{m.id, m.name, m.encoding, rate};
    if (!best) {
      best = f;
      continue;
    }
    const bool exact = rate == 8000, best_exact = best->rate == 8000;
    if (exact != best_exact) {
      if (exact) best = f;
      continue;
    }
    if (Preference(f.encoding) < Preference(best->encoding) ||
        (Preference(f.encoding) == Preference(best->encoding) &&
         distance(f.rate) < distance(best->rate))) {
      best = f;
    }
  }
  return best;
}

std::string VsmCommand(const VoiceFormat& format) {
  return absl::StrCat("AT+VSM=", format.id, ",", format.rate);
}

}  // namespace linebridge::modem::voice
