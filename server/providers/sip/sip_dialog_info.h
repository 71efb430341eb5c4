// The RFC 4235 dialog event package: application/dialog-info+xml documents
// read with expat, and the view of one subscription kept across NOTIFYs
// (full and partial state, versions). Pure: no SIP stack, no TAPI.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linebridge::sip {

enum class DialogState { kTrying, kProceeding, kEarly, kConfirmed, kTerminated };
enum class DialogDirection { kUnknown, kInitiator, kRecipient };

struct DialogParticipant {
  std::string identity;  // a URI, e.g. "sip:bob@example.com"
  std::string display;   // the identity's display attribute
  std::string target;    // the target's uri attribute
  // "+sip.rendering" of the target is "no", or the session description's
  // audio is sendonly, recvonly or inactive: this side is not rendering.
  bool not_rendering = false;
};

struct DialogInfoDialog {
  std::string id;
  std::string call_id;
  std::string local_tag;
  std::string remote_tag;
  DialogDirection direction = DialogDirection::kUnknown;
  DialogState state = DialogState::kTrying;
  std::string event;  // the state's event attribute (cancelled, rejected, ...)
  int code = 0;       // the state's code attribute (a SIP status), 0 if none
  DialogParticipant local;
  DialogParticipant remote;

  // On hold: either side stopped rendering the other's media.
  bool held() const { return local.not_rendering || remote.not_rendering; }
};

struct DialogInfo {
  uint32_t version = 0;
  bool full = false;  // state="full" (else "partial")
  std::string entity;
  std::vector<DialogInfoDialog> dialogs;
};

// Limits on what a document may hold.
inline constexpr size_t kMaxDialogInfoBytes = 64 * 1024;
inline constexpr int kMaxDialogInfoDialogs = 64;

// Reads one dialog-info document. Unknown elements and attributes are
// skipped (the package is extensible); a wrong root, a missing version,
// state or dialog id, an unknown dialog state, DTDs, more than
// kMaxDialogInfoDialogs dialogs or malformed XML are errors.
absl::StatusOr<DialogInfo> ParseDialogInfo(absl::string_view xml);

// The dialogs of one subscription as the NOTIFYs told them (RFC 4235
// section 4.1): a full document replaces the view, a partial one updates the
// dialogs it names; versions must grow by one, a repeated or older version
// is ignored, a gap means the view is lost until the next full document.
class DialogInfoView {
 public:
  enum class Result {
    kApplied,   // the view changed to the document's
    kStale,     // an old or repeated version: ignored
    kGap,       // a partial document after a missing version: refresh
  };
  // `changed` gets every dialog the document added, changed or removed (a
  // removed dialog comes back with state kTerminated).
  Result Apply(const DialogInfo& doc, std::vector<DialogInfoDialog>* changed);
  // A new subscription starts its versions over; the dialogs are kept until
  // its first full document says which are still there.
  void NewSubscription();
  const std::map<std::string, DialogInfoDialog>& dialogs() const { return dialogs_; }

 private:
  bool have_version_ = false;
  uint32_t version_ = 0;
  std::map<std::string, DialogInfoDialog> dialogs_;  // by id; terminated ones removed
};

}  // namespace linebridge::sip
