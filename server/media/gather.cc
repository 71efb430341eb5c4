#include "media/gather.h"

#include "absl/strings/str_cat.h"
#include "linebridge/lineerr.h"
#include "media/audio_format.h"
#include "media/tones.h"

namespace linebridge::media {
namespace {

bool IsDigit(char c) {
  return (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D');
}

absl::Status CheckTimeout(const char* field, uint32_t ms) {
  if (ms != 0 && (ms < 20 || ms > 600000)) {
    return InvalidArgument(LINEERR_INVALTIMEOUT, absl::StrCat(field, " must be 0 or 20..600000"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DigitGatherer> DigitGatherer::Start(const v1::GatherDigits& rules) {
  if (rules.max_digits() < 1 || rules.max_digits() > kMaxPlayDigits) {
    return InvalidArgument(LINEERR_INVALPARAM, "gather.max_digits must be 1..64");
  }
  for (char c : rules.termination_digits()) {
    if (!IsDigit(c)) {
      return InvalidArgument(LINEERR_INVALDIGITS,
                             "gather.termination_digits may hold only 0-9 * # A-D");
    }
  }
  if (rules.termination_digits().size() > 16) {
    return InvalidArgument(LINEERR_INVALDIGITS, "gather.termination_digits: at most 16");
  }
  absl::Status st = CheckTimeout("gather.first_digit_timeout_ms", rules.first_digit_timeout_ms());
  if (st.ok()) st = CheckTimeout("gather.inter_digit_timeout_ms", rules.inter_digit_timeout_ms());
  if (!st.ok()) return st;
  DigitGatherer g;
  g.max_ = rules.max_digits();
  g.terminators_ = rules.termination_digits();
  g.first_ticks_ = (rules.first_digit_timeout_ms() + kFrameMs - 1) / kFrameMs;
  g.inter_ticks_ = (rules.inter_digit_timeout_ms() + kFrameMs - 1) / kFrameMs;
  return g;
}

std::optional<DigitGatherer::Result> DigitGatherer::OnDigit(char digit) {
  digits_.push_back(digit);
  ticks_ = 0;
  if (terminators_.find(digit) != std::string::npos) {
    return Result{digits_, v1::GATHER_TERMINATION_TERMINATION_DIGIT};
  }
  if (digits_.size() >= max_) return Result{digits_, v1::GATHER_TERMINATION_BUFFER_FULL};
  return std::nullopt;
}

std::optional<DigitGatherer::Result> DigitGatherer::OnTick() {
  ++ticks_;
  if (digits_.empty()) {
    if (first_ticks_ > 0 && ticks_ >= first_ticks_) {
      return Result{digits_, v1::GATHER_TERMINATION_FIRST_TIMEOUT};
    }
  } else if (inter_ticks_ > 0 && ticks_ >= inter_ticks_) {
    return Result{digits_, v1::GATHER_TERMINATION_INTER_TIMEOUT};
  }
  return std::nullopt;
}

}  // namespace linebridge::media
