// RemoteProvider: lineOpen and the server-side open that follows it (privilege
// and media modes from lineSetDefaultMediaDetection), lineSetStatusMessages.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "linebridge/deadline.h"
#include "tapi_mapping.h"
#include "tsp/provider_internal.h"
#include "tsp/remote_provider.h"
#include "tsp/tsp_log.h"

namespace linebridge::tsp {

LONG RemoteProvider::Open(DWORD device_id, HTAPILINE ht_line, LPHDRVLINE hd_line,
                          DWORD tspi_version, LINEEVENT event_proc) {
  if (hd_line == nullptr || event_proc == nullptr) return LINEERR_INVALPOINTER;
  absl::MutexLock lock(&mu_);
  std::optional<uint32_t> index = IndexOfDeviceLocked(device_id);
  if (!index.has_value()) return LINEERR_BADDEVICEID;
  if (tspi_version < kTspiVersionLow || tspi_version > kTspiVersionHigh) {
    return LINEERR_INCOMPATIBLEAPIVERSION;
  }
  LineEntry& line = lines_[*index];
  if (line.hd_line != 0) return LINEERR_ALLOCATED;
  OpenLine open;
  open.index = *index;
  open.ht_line = ht_line;
  open.event_proc = event_proc;
  open.version = tspi_version;
  const uint32_t id = open_lines_.Add(std::move(open));
  line.hd_line = id;
  *hd_line = HandleOf<HDRVLINE>(id);
  OpenOnServerLocked(id);  // asynchronous; no network wait here
  return 0;
}

void RemoteProvider::OpenOnServerLocked(uint32_t hd_line) {
  OpenLine* open = open_lines_.Find(hd_line);
  if (open != nullptr && !EndSessionWaitLocked(*open)) return;
  if (open == nullptr || open->open_in_flight || client_ == nullptr) return;
  const int want = open->media_modes != 0 ? v1::PRIVILEGE_OWNER : v1::PRIVILEGE_MONITOR;
  if (open->applied_privilege == want && open->applied_media == open->media_modes) return;
  const LineEntry& line = lines_[open->index];
  // No session on the line's server yet (lineOpen right after providerInit on
  // a line of the device map, or the server is unreachable): the server would
  // refuse the open (no session), and that refusal would drop the media
  // modes. OnStreamState opens every open line of a server once its stream
  // is up.
  if (!ReachableLocked(line)) {
    StartSessionWaitLocked(*open);  // before the first session: requests wait for it
    return;
  }
  if (line.closes_in_flight > 0) {
    open->open_in_flight = true;  // requests queue behind it
    open->waiting_for_close = true;
    return;
  }
  v1::OpenLineRequest request;
  request.set_line_id(line.line_id);
  request.set_privilege(static_cast<v1::Privilege>(want));
  const DWORD media = open->media_modes;
  for (int m = 1; m < 32; ++m) {
    if (media & (DWORD{1} << m)) request.add_media_modes(static_cast<v1::MediaMode>(m));
  }
  open->open_in_flight = true;
  client_->OpenLineAsync(
      std::move(request),
      [this, hd_line, index = open->index, want, media](
          absl::StatusOr<v1::OpenLineResponse> response) {
        std::vector<absl::AnyInvocable<void()>> waiters;
        {
          absl::MutexLock lock(&mu_);
          if (stopping_) return;
          OpenLine* o = open_lines_.Find(hd_line);
          if (o == nullptr) {
            // lineClose came while this open was on its way: the close it
            // held back goes out now (the server may have applied the open).
            ClosedWhileOpeningLocked(index, response.ok());
            return;
          }
          o->open_in_flight = false;
          if (response.ok()) {
            o->applied_privilege = want;
            o->applied_media = media;
            o->retry_at = absl::InfiniteFuture();
            o->retry_backoff = absl::ZeroDuration();
            // The response's Line is older than what the event stream may
            // have told us since (e.g. forwarding set meanwhile): only a line
            // the stream has not described yet is taken from it.
            if (!lines_[o->index].info.has_value()) {
              RegisterLineLocked(lines_[o->index].server, response->line());
            }
            OpenOnServerLocked(hd_line);  // the wish may have changed meanwhile
          } else if (IsTransient(response.status())) {
            // Unknown whether the server applied it: open again (Maintain,
            // with backoff; at once when the stream reconnects).
            o->applied_privilege = 0;
            o->retry_backoff = std::clamp(o->retry_backoff * 2, absl::Milliseconds(200),
                                          absl::Seconds(5));
            o->retry_at = MonotonicNow() + o->retry_backoff;
          } else {
            // The server refused (its state is unchanged): TAPI's media
            // detection falls back to what the server applied, so
            // lineGetLineDevStatus stays truthful and nothing retries a refusal.
            LogWarning(absl::StrCat("opening ", lines_[o->index].line_id, ": ",
                                    response.status().ToString()));
            o->media_modes = o->applied_privilege != 0 ? o->applied_media : 0;
          }
          if (!o->open_in_flight) waiters.swap(o->after_open);
        }
        // Requests that waited for the open (they fail on the server if it failed).
        for (auto& waiter : waiters) waiter();
      },
      LineCallOptionsLocked(line));
}

LONG RemoteProvider::SetDefaultMediaDetection(HDRVLINE hd_line, DWORD media_modes) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if ((media_modes & ~kAllMediaModes) != 0) return LINEERR_INVALMEDIAMODE;
  const LineEntry& line = lines_[open->index];
  if (line.info.has_value() && media_modes != 0) {
    const DWORD supported = ToTapiMask<v1::MediaMode>(line.info->caps().media_modes());
    if ((media_modes & ~supported) != 0) return LINEERR_INVALMEDIAMODE;
  }
  // Recorded now, applied on the server in the background (OWNER with these
  // media modes, MONITOR for none); never a wait on the network here.
  // lineGetLineDevStatus reports the media modes once the server applied them.
  open->media_modes = media_modes;
  open->retry_backoff = absl::ZeroDuration();
  OpenOnServerLocked(IdOf(hd_line));
  return 0;
}

LONG RemoteProvider::SetStatusMessages(HDRVLINE hd_line, DWORD, DWORD) {
  absl::MutexLock lock(&mu_);
  return FindOpenLocked(hd_line) == nullptr ? LINEERR_INVALLINEHANDLE : 0;
}

// ============================================================================
// Calls
// ============================================================================

}  // namespace linebridge::tsp
