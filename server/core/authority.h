// The authority of the request being served, as the engine sees it: the
// server (api/call_authority.h) sets one around each engine request of a
// principal, and the engine asks it before a provider touches a line the
// request does not name (docs/security.md, "Rights on every line a call
// touches"). Without one (server authority, timers, device threads) all is
// allowed.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"

namespace linebridge {

class Authority {
 public:
  virtual ~Authority() = default;

  // Taking a call that rang on / was parked from `line_id` (Pickup, Unpark).
  // `same_pickup_group`: that line and the request's line share a pickup
  // group.
  virtual absl::Status MayTake(const std::string& line_id, bool same_pickup_group) = 0;

  // A leg from `line_id` to a destination outside the PBX (redirect, blind
  // transfer, forwarding). `live(call_id)` tells whether a call still exists;
  // it is the only way back into the engine (its lock is held).
  virtual absl::Status MayReachOutside(const std::string& line_id,
                                       const std::function<bool(const std::string&)>& live) = 0;

  // Sets the authority of the requests made on this thread while it lives.
  class Scope {
   public:
    explicit Scope(Authority* authority);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Authority* const previous_;
  };
  // The authority of the current thread's request, or null.
  static Authority* Current();
};

}  // namespace linebridge
