// RemoteProvider: lines used before their server's first session.
//
// Static devices (providerEnumDevices lists the servers' lines) can be
// opened and used right after providerInit, before the provider has its
// session and event stream on that server. A request sent then would carry
// no session (the server would act for nobody: a call made that way is not
// this workstation's). So the open, and every request behind it, waits for
// the stream, bounded by deadline_ms like any request; after that the
// requests that create calls or answer/accept them complete with
// LINEERR_OPERATIONFAILED without being sent (never a call no session owns),
// the others go out and fail as requests to an unreachable server do.
#include <algorithm>

#include "absl/time/clock.h"
#include "linebridge/deadline.h"
#include "tsp/remote_provider.h"

namespace linebridge::tsp {

bool RemoteProvider::ReachableLocked(const LineEntry& line) const {
  // A line of the device map that names its server waits for that server
  // (another server may have a line of the same id); one of a map without
  // server ids goes to whichever server has it.
  std::optional<size_t> target;
  if (line.present) {
    target = line.server;
  } else {
    target = server_ids_.ServerOf(line.server_id);
  }
  if (target.has_value()) return *target < server_connected_.size() && server_connected_[*target];
  return line.server_id.empty() &&
         std::find(server_connected_.begin(), server_connected_.end(), true) !=
             server_connected_.end();
}

void RemoteProvider::StartSessionWaitLocked(OpenLine& open) {
  const LineEntry& line = lines_[open.index];
  const bool ever = line.present ? (line.server < server_ever_connected_.size() &&
                                    server_ever_connected_[line.server])
                                 : std::find(server_ever_connected_.begin(),
                                             server_ever_connected_.end(),
                                             true) != server_ever_connected_.end();
  if (ever || stopping_ || open.open_in_flight) return;  // an outage: fail fast
  open.awaiting_session = true;
  open.open_in_flight = true;  // requests queue in after_open
  open.session_wait_until = MonotonicNow() + absl::Milliseconds(config_.deadline_ms);
}

bool RemoteProvider::EndSessionWaitLocked(OpenLine& open) {
  if (!open.awaiting_session) return true;
  if (!ReachableLocked(lines_[open.index])) return false;
  open.awaiting_session = false;
  open.open_in_flight = false;
  // They wait for the open that goes out now.
  for (auto& waiter : open.session_waiters) open.after_open.push_back(std::move(waiter.send));
  open.session_waiters.clear();
  return true;
}

void RemoteProvider::QueueAfterOpenLocked(OpenLine& open, absl::AnyInvocable<void()> send,
                                          absl::AnyInvocable<void()> fail) {
  if (open.awaiting_session) {
    open.session_waiters.push_back({std::move(send), std::move(fail)});
  } else {
    open.after_open.push_back(std::move(send));
  }
}

std::vector<absl::AnyInvocable<void()>> RemoteProvider::ExpireSessionWaitsLocked() {
  std::vector<absl::AnyInvocable<void()>> expired;
  const absl::Time now = MonotonicNow();
  open_lines_.ForEach([&](uint32_t, OpenLine& open) {
    if (!open.awaiting_session || open.session_wait_until > now) return;
    open.awaiting_session = false;
    open.open_in_flight = false;
    for (auto& waiter : open.after_open) expired.push_back(std::move(waiter));
    open.after_open.clear();
    for (auto& waiter : open.session_waiters) {
      expired.push_back(waiter.fail ? std::move(waiter.fail) : std::move(waiter.send));
    }
    open.session_waiters.clear();
  });
  return expired;
}

void RemoteProvider::RunUnlocked(std::vector<absl::AnyInvocable<void()>> work) {
  if (work.empty()) return;
  mu_.Unlock();
  for (auto& w : work) w();
  mu_.Lock();
}

}  // namespace linebridge::tsp
