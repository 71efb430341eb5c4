// The engine's Authority (core/authority.h) for one principal's request:
// rights on the lines a request touches without naming them, and the
// toll-fraud limits for outside legs (docs/security.md).
#pragma once

#include <functional>
#include <string>

#include "api/auth.h"
#include "core/authority.h"

namespace linebridge {

class CallAuthority final : public Authority {
 public:
  // `guard` must outlive this.
  CallAuthority(Guard* guard, const Caller& caller) : guard_(guard), caller_(caller) {}

  // Pickup / Unpark of a call from `line_id`: monitor there when both lines
  // share a pickup group, control otherwise. NOT_FOUND when the line is not
  // the principal's to see (the provider then acts as if nothing were there).
  absl::Status MayTake(const std::string& line_id, bool same_pickup_group) override;
  // Originate on `line_id`, and the origination limits.
  absl::Status MayReachOutside(const std::string& line_id,
                               const std::function<bool(const std::string&)>& live) override;

 private:
  Guard* const guard_;
  const Caller& caller_;
};

}  // namespace linebridge
