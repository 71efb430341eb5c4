// Test helpers: sine waves and frequency measurements on 16-bit audio.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace linebridge::media::testing {

inline constexpr double kPi = 3.14159265358979323846;

// `n` samples of a sine at `hz`, starting at sample `start` (continuous
// across calls).
inline std::vector<int16_t> Sine(double hz, double amplitude, int rate, int n, int64_t start = 0) {
  std::vector<int16_t> out(n);
  for (int i = 0; i < n; ++i) {
    out[i] = static_cast<int16_t>(std::lround(amplitude * std::sin(2 * kPi * hz * (start + i) / rate)));
  }
  return out;
}

// The frequency of a (mostly) pure tone from its zero crossings.
inline double ZeroCrossingHz(const std::vector<int16_t>& s, int rate) {
  int crossings = 0;
  int first = -1, last = -1;
  for (size_t i = 1; i < s.size(); ++i) {
    if ((s[i - 1] < 0) != (s[i] < 0)) {
      if (first < 0) first = static_cast<int>(i);
      last = static_cast<int>(i);
      ++crossings;
    }
  }
  if (crossings < 2) return 0;
  return (crossings - 1) / 2.0 * rate / (last - first);
}

// ZeroCrossingHz over windows of `window` samples, the median of them: a
// few damaged windows (a concealed late frame on a loaded machine) do not
// move it.
inline double MedianHz(const std::vector<int16_t>& s, int rate, size_t window) {
  std::vector<double> hz;
  for (size_t at = 0; at + window <= s.size(); at += window) {
    hz.push_back(ZeroCrossingHz(std::vector<int16_t>(s.begin() + at, s.begin() + at + window), rate));
  }
  if (hz.empty()) return 0;
  std::sort(hz.begin(), hz.end());
  return hz.size() % 2 == 1 ? hz[hz.size() / 2] : (hz[hz.size() / 2 - 1] + hz[hz.size() / 2]) / 2;
}

// Relative power of `hz` in `s` (Goertzel), normalised by length.
inline double GoertzelPower(const std::vector<int16_t>& s, double hz, int rate) {
  const double w = 2 * kPi * hz / rate;
  const double coeff = 2 * std::cos(w);
  double s1 = 0, s2 = 0;
  for (int16_t x : s) {
    const double s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return power / (static_cast<double>(s.size()) * s.size());
}

inline double Rms(const std::vector<int16_t>& s) {
  double sum = 0;
  for (int16_t x : s) sum += static_cast<double>(x) * x;
  return s.empty() ? 0 : std::sqrt(sum / s.size());
}

}  // namespace linebridge::media::testing
