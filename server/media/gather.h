// Digit gathering with TAPI's lineGatherDigits rules, on the media clock:
// timeouts count 20 ms ticks.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "linebridge/v1/media.pb.h"

namespace linebridge::media {

class DigitGatherer {
 public:
  struct Result {
    std::string digits;
    v1::GatherTermination termination;
  };
  // INVALID_ARGUMENT + LINEERR_INVALPARAM naming the field out of range.
  static absl::StatusOr<DigitGatherer> Start(const v1::GatherDigits& rules);

  // A digit the call heard; the result if it ends the gathering.
  std::optional<Result> OnDigit(char digit);
  // One 20 ms tick passed; the result if a timeout ends the gathering.
  std::optional<Result> OnTick();
  Result Cancel() { return {digits_, v1::GATHER_TERMINATION_CANCELLED}; }

 private:
  DigitGatherer() = default;
  size_t max_ = 0;
  std::string terminators_;
  int64_t first_ticks_ = 0;  // 0: none
  int64_t inter_ticks_ = 0;
  std::string digits_;
  int64_t ticks_ = 0;  // since the start or the last digit
};

}  // namespace linebridge::media
