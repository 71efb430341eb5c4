#include "core/authority.h"

namespace linebridge {
namespace {
// Engine requests run synchronously on the RPC's thread, and providers act
// inside them on that thread: the request's authority is a thread's.
thread_local Authority* current_authority = nullptr;
}  // namespace

Authority::Scope::Scope(Authority* authority) : previous_(current_authority) {
  current_authority = authority;
}

Authority::Scope::~Scope() { current_authority = previous_; }

Authority* Authority::Current() { return current_authority; }

}  // namespace linebridge
