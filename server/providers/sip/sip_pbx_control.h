// The PBX's own call control, for phone lines (docs/sip.md, "Phone lines"):
// kamailio's JSON-RPC 2.0 over UDP (its jsonrpcs module's datagram
// transport). A call is ended after a look at its dialog (dlg.dlg_list):
// confirmed, by the dialog module's BYE to both parties (dlg.terminate_dlg);
// still ringing, by cancelling its INVITE transaction (tm.cancel with the
// INVITE's CSeq from the listing: CANCEL to the called party, whose 487
// goes back to the caller), then looked at again until it has ended or was
// answered meanwhile. Runs on a SipLoop: requests are sent at once, answers
// and timeouts come as the loop's events. Loop thread only.
#pragma once

#include <google/protobuf/struct.pb.h>
#include <sofia-sip/su_wait.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace linebridge::sip {

class KamailioDialogControl {
 public:
  using Done = std::function<void(absl::Status)>;

  // A UDP socket bound on `bind_address` and connected to `server`
  // ("ipv4:port"), registered with `root`.
  static absl::StatusOr<std::unique_ptr<KamailioDialogControl>> Open(
      su_root_t* root, const std::string& bind_address, const std::string& server,
      absl::Duration timeout);
  ~KamailioDialogControl();  // requests still waiting get UNAVAILABLE
  KamailioDialogControl(const KamailioDialogControl&) = delete;
  KamailioDialogControl& operator=(const KamailioDialogControl&) = delete;

  // Ends the confirmed dialog (Call-ID, From tag, To tag as the PBX saw the
  // INVITE). `done` gets OK when kamailio did, FAILED_PRECONDITION with its
  // message when it refused (no such confirmed dialog), UNAVAILABLE when it
  // did not answer in time or nothing listens, RESOURCE_EXHAUSTED with too
  // many requests waiting.
  void TerminateDialog(const std::string& call_id, const std::string& from_tag,
                       const std::string& to_tag, Done done);
  // Ends the call of `call_id` whose INVITE had From tag `from_tag`,
  // ringing or answered, as the file comment says. `done` gets OK once
  // kamailio ended it, FAILED_PRECONDITION with kamailio's message when it
  // has no such dialog or the call had ended already, UNAVAILABLE when it
  // did not answer in time, nothing listens or the call is still there after
  // kMaxListings looks, RESOURCE_EXHAUSTED with too many requests waiting.
  void EndDialog(const std::string& call_id, const std::string& from_tag, Done done);

  static constexpr size_t kMaxWaiting = 64;
  static constexpr int kMaxListings = 20;
  static constexpr absl::Duration kRelistDelay = absl::Milliseconds(100);

 private:
  // A JSON-RPC answer: its `result`, or the error (FAILED_PRECONDITION with
  // kamailio's message, UNAVAILABLE).
  using Answer = std::function<void(absl::StatusOr<google::protobuf::Value>)>;
  struct Waiting {
    Answer done;
    su_timer_t* timer = nullptr;
    KamailioDialogControl* self = nullptr;
    uint64_t id = 0;
  };
  // An EndDialog under way.
  struct Ending {
    std::string call_id;
    std::string from_tag;
    Done done;
    bool acted = false;  // a CANCEL was asked for
    int listings = 0;
  };
  // A look at an Ending's dialog again after kRelistDelay.
  struct Relist {
    std::shared_ptr<Ending> ending;
    su_timer_t* timer = nullptr;
    KamailioDialogControl* self = nullptr;
    uint64_t id = 0;
  };
  KamailioDialogControl(su_root_t* root, int fd, std::string server, absl::Duration timeout);
  // One step of EndDialog: lists the dialog and acts on its state.
  void List(std::shared_ptr<Ending> e);
  void ListLater(std::shared_ptr<Ending> e);
  static void OnRelist(void* magic, su_timer_t* timer, void* arg);
  static int OnReadable(void* magic, su_wait_t* wait, void* arg);
  static void OnTimeout(void* magic, su_timer_t* timer, void* arg);
  // Sends `method` with string `params`; `answer` gets the outcome.
  void Call(const std::string& method, std::initializer_list<const std::string*> params,
            Answer answer);
  void OnAnswer(absl::string_view json);
  void Finish(uint64_t id, absl::StatusOr<google::protobuf::Value> result);

  su_root_t* root_;
  int fd_;
  std::string server_;
  absl::Duration timeout_;
  su_wait_t wait_[1];
  int wait_index_ = -1;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Waiting>> waiting_;
  std::map<uint64_t, std::unique_ptr<Relist>> relists_;
};

}  // namespace linebridge::sip
