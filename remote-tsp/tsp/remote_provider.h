// linebridge::tsp::RemoteProvider: the remote TAPI service provider. One
// object per process (TAPISRV loads the TSP once); exports.cc forwards every
// implemented TSPI_* function to it.
//
// Threads and rules:
//  - TSPI functions run on TAPISRV's threads; they take `mu_` briefly and
//    never wait on the network (lineOpen registers the line locally and opens
//    it on the server in the background; lineSetDefaultMediaDetection records
//    the media modes and applies them in the background, retrying transient
//    failures with backoff from the maintenance thread).
//  - Every callback into TAPISRV (LINEEVENT, ASYNC_COMPLETION) is queued under
//    `mu_` in the order the state changed and delivered without holding
//    `mu_` (callbacks may call back into the TSP), by one thread at a time:
//    the gRPC callback or event thread that queued it, else the dispatcher
//    thread (see DrainingLock).
//  - Asynchronous requests are completed exactly once: from the RPC's
//    callback, or with LINEERR_OPERATIONFAILED at providerShutdown.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "linebridge/client.h"
#include "linebridge/tapi_abi.h"
#include "tsp/device_map.h"
#include "tsp/server_identity.h"
#include "tsp/handle_table.h"
#include "tsp/phone_state.h"
#include "tsp/phone_structs.h"
#include "tsp/tsp_config.h"

namespace linebridge::tsp {

struct LineSnapshot;  // tapi_structs.h

// TSPI versions this provider negotiates.
inline constexpr DWORD kTspiVersionLow = 0x00020000;
inline constexpr DWORD kTspiVersionHigh = 0x00030000;
// dwDeviceID of TSPI_lineNegotiateTSPIVersion before providerInit (tspi.h's
// INITIALIZE_NEGOTIATION, which tapi_abi.h does not declare).
inline constexpr DWORD kInitializeNegotiation = 0xFFFFFFFF;

class RemoteProvider {
 public:
  static RemoteProvider& Instance();

  // --- provider ---
  LONG EnumDevices(DWORD permanent_provider_id, LPDWORD num_lines, LPDWORD num_phones,
                   HPROVIDER provider, LINEEVENT line_create_proc,
                   PHONEEVENT phone_create_proc = nullptr);
  LONG Init(DWORD tspi_version, DWORD permanent_provider_id, DWORD line_device_id_base,
            ASYNC_COMPLETION completion_proc, LPDWORD tspi_options,
            DWORD phone_device_id_base = 0);
  LONG Shutdown(DWORD tspi_version, DWORD permanent_provider_id);
  LONG CreateLineDevice(DWORD_PTR temp_id, DWORD device_id);
  LONG CreatePhoneDevice(DWORD_PTR temp_id, DWORD device_id);

  // --- phone devices (phone_open.cc, phone_info.cc, phone_set.cc) ---
  // Versions, extension, open/close and what is answered locally.
  LONG PhoneNegotiateTSPIVersion(DWORD device_id, DWORD low_version, DWORD high_version,
                                 LPDWORD tspi_version);
  LONG PhoneNegotiateExtVersion(DWORD device_id, DWORD tspi_version, DWORD low_version,
                                DWORD high_version, LPDWORD ext_version);
  LONG PhoneGetExtensionID(DWORD device_id, DWORD tspi_version, LPPHONEEXTENSIONID extension_id);
  LONG PhoneSelectExtVersion(HDRVPHONE hd_phone, DWORD ext_version);
  LONG PhoneDevSpecific(DRV_REQUESTID request_id, HDRVPHONE hd_phone, LPVOID params, DWORD size);
  // phoneOpen opens the phone on the server as MONITOR in the background; the
  // first phoneSet* request upgrades it to OWNER (PHONEERR_INUSE while
  // another workstation owns it).
  LONG PhoneOpen(DWORD device_id, HTAPIPHONE ht_phone, LPHDRVPHONE hd_phone, DWORD tspi_version,
                 PHONEEVENT event_proc);
  LONG PhoneClose(HDRVPHONE hd_phone);
  LONG PhoneSetStatusMessages(HDRVPHONE hd_phone, DWORD phone_states, DWORD button_modes,
                              DWORD button_states);
  LONG PhoneGetID(HDRVPHONE hd_phone, LPVARSTRING device_id, LPCWSTR device_class);
  LONG PhoneGetIcon(DWORD device_id, LPCWSTR device_class, LPHICON icon);
  // What TAPI reads (from the mirror; phoneGetData asks the server).
  LONG PhoneGetDevCaps(DWORD device_id, DWORD tspi_version, DWORD ext_version, LPPHONECAPS caps);
  LONG PhoneGetStatus(HDRVPHONE hd_phone, LPPHONESTATUS status);
  LONG PhoneGetButtonInfo(HDRVPHONE hd_phone, DWORD button_lamp_id, LPPHONEBUTTONINFO info);
  LONG PhoneGetDisplay(HDRVPHONE hd_phone, LPVARSTRING display);
  LONG PhoneGetLamp(HDRVPHONE hd_phone, DWORD button_lamp_id, LPDWORD lamp_mode);
  LONG PhoneGetRing(HDRVPHONE hd_phone, LPDWORD ring_mode, LPDWORD volume);
  LONG PhoneGetHookSwitch(HDRVPHONE hd_phone, LPDWORD hookswitch_devs);
  LONG PhoneGetVolume(HDRVPHONE hd_phone, DWORD hookswitch_dev, LPDWORD volume);
  LONG PhoneGetGain(HDRVPHONE hd_phone, DWORD hookswitch_dev, LPDWORD gain);
  LONG PhoneGetData(HDRVPHONE hd_phone, DWORD data_id, LPVOID data, DWORD size);
  // Asynchronous requests: checked at once, completed exactly once with the
  // server's PHONEERR_*.
  LONG PhoneSetButtonInfo(DRV_REQUESTID request_id, HDRVPHONE hd_phone, DWORD button_lamp_id,
                          const PHONEBUTTONINFO* info);
  LONG PhoneSetData(DRV_REQUESTID request_id, HDRVPHONE hd_phone, DWORD data_id,
                    const void* data, DWORD size);
  LONG PhoneSetDisplay(DRV_REQUESTID request_id, HDRVPHONE hd_phone, DWORD row, DWORD column,
                       LPCWSTR display, DWORD size);
  LONG PhoneSetGain(DRV_REQUESTID request_id, HDRVPHONE hd_phone, DWORD hookswitch_dev,
                    DWORD gain);
  LONG PhoneSetHookSwitch(DRV_REQUESTID request_id, HDRVPHONE hd_phone, DWORD hookswitch_devs,
                          DWORD hookswitch_mode);
  LONG PhoneSetLamp(DRV_REQUESTID request_id, HDRVPHONE hd_phone, DWORD button_lamp_id,
                    DWORD lamp_mode);
  LONG PhoneSetRing(DRV_REQUESTID request_id, HDRVPHONE hd_phone, DWORD ring_mode, DWORD volume);
  LONG PhoneSetVolume(DRV_REQUESTID request_id, HDRVPHONE hd_phone, DWORD hookswitch_dev,
                      DWORD volume);

  // --- line devices ---
  LONG NegotiateTSPIVersion(DWORD device_id, DWORD low_version, DWORD high_version,
                            LPDWORD tspi_version);
  LONG GetDevCaps(DWORD device_id, DWORD tspi_version, DWORD ext_version, LPLINEDEVCAPS caps);
  LONG GetAddressCaps(DWORD device_id, DWORD address_id, DWORD tspi_version, DWORD ext_version,
                      LPLINEADDRESSCAPS caps);
  LONG GetLineDevStatus(HDRVLINE hd_line, LPLINEDEVSTATUS status);
  LONG GetAddressStatus(HDRVLINE hd_line, DWORD address_id, LPLINEADDRESSSTATUS status);
  LONG GetNumAddressIDs(HDRVLINE hd_line, LPDWORD num_address_ids);
  LONG GetID(HDRVLINE hd_line, DWORD address_id, HDRVCALL hd_call, DWORD select,
             LPVARSTRING device_id, LPCWSTR device_class);
  LONG Open(DWORD device_id, HTAPILINE ht_line, LPHDRVLINE hd_line, DWORD tspi_version,
            LINEEVENT event_proc);
  LONG Close(HDRVLINE hd_line);
  LONG SetDefaultMediaDetection(HDRVLINE hd_line, DWORD media_modes);
  LONG SetStatusMessages(HDRVLINE hd_line, DWORD line_states, DWORD address_states);

  // --- calls ---
  LONG MakeCall(DRV_REQUESTID request_id, HDRVLINE hd_line, HTAPICALL ht_call,
                LPHDRVCALL hd_call, LPCWSTR dest_address, DWORD country_code,
                const LINECALLPARAMS* params);
  // `uui`/`uui_size`: user-user information to send with the request (NULL
  // or 0: none); more than the line's max_user_user_info_size is
  // LINEERR_USERUSERINFOTOOBIG.
  LONG Answer(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCSTR uui = nullptr,
              DWORD uui_size = 0);
  LONG Drop(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCSTR uui = nullptr,
            DWORD uui_size = 0);
  LONG Hold(DRV_REQUESTID request_id, HDRVCALL hd_call);
  LONG Unhold(DRV_REQUESTID request_id, HDRVCALL hd_call);
  LONG CloseCall(HDRVCALL hd_call);
  LONG GetCallInfo(HDRVCALL hd_call, LPLINECALLINFO info);
  LONG GetCallStatus(HDRVCALL hd_call, LPLINECALLSTATUS status);
  LONG GetCallAddressID(HDRVCALL hd_call, LPDWORD address_id);

  // --- lineSwapHold, call ids and hubs, TAPISRV's drops (call_pairs.cc) ---
  LONG SwapHold(DRV_REQUESTID request_id, HDRVCALL hd_active_call, HDRVCALL hd_held_call);
  LONG GetCallIDs(HDRVCALL hd_call, LPDWORD address_id, LPDWORD call_id,
                  LPDWORD related_call_id);
  LONG GetCallHubTracking(HDRVLINE hd_line, LPLINECALLHUBTRACKINGINFO tracking);
  LONG SetCallHubTracking(HDRVLINE hd_line, LPLINECALLHUBTRACKINGINFO tracking);
  // Synchronous; the drop (if any) reports through the call's states.
  LONG DropOnClose(HDRVCALL hd_call);
  LONG DropNoOwner(HDRVCALL hd_call);
  // User-user information (user_user_info.cc), asynchronous.
  LONG SendUserUserInfo(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCSTR uui, DWORD size);
  LONG ReleaseUserUserInfo(DRV_REQUESTID request_id, HDRVCALL hd_call);
  // --- answered locally (line_local.cc) ---
  LONG GetAddressID(HDRVLINE hd_line, LPDWORD address_id, DWORD address_mode, LPCWSTR address,
                    DWORD size);
  LONG GetIcon(DWORD device_id, LPCWSTR device_class, LPHICON icon);
  LONG ConditionalMediaDetection(HDRVLINE hd_line, DWORD media_modes,
                                 const LINECALLPARAMS* params);
  // Both OPERATIONUNAVAIL once the arguments pass (dwSettableDevStatus and
  // dwNumTerminals are 0).
  LONG SetLineDevStatus(DRV_REQUESTID request_id, HDRVLINE hd_line, DWORD status_to_change,
                        DWORD status);
  LONG SetTerminal(DRV_REQUESTID request_id, HDRVLINE hd_line, DWORD address_id,
                   HDRVCALL hd_call, DWORD select, DWORD terminal_modes, DWORD terminal_id,
                   DWORD enable);
  LONG SetCurrentLocation(DWORD location);
  // --- device configuration (line_dev_config.cc; dev_config.h) ---
  LONG GetDevConfig(DWORD device_id, LPVARSTRING device_config, LPCWSTR device_class);
  LONG SetDevConfig(DWORD device_id, const void* device_config, DWORD size,
                    LPCWSTR device_class);
  // --- the linebridge extension (extension.cc; linebridge/linebridge_ext.h) ---
  LONG NegotiateExtVersion(DWORD device_id, DWORD tspi_version, DWORD low_version,
                           DWORD high_version, LPDWORD ext_version);
  LONG GetExtensionID(DWORD device_id, DWORD tspi_version, LPLINEEXTENSIONID extension_id);
  LONG SelectExtVersion(HDRVLINE hd_line, DWORD ext_version);
  LONG DevSpecific(DRV_REQUESTID request_id, HDRVLINE hd_line, DWORD address_id,
                   HDRVCALL hd_call, LPVOID params, DWORD size);
  // lineSetCallParams / lineSetCallTreatment (user_user_info.cc), asynchronous.
  LONG SetCallParams(DRV_REQUESTID request_id, HDRVCALL hd_call, DWORD bearer_mode,
                     DWORD min_rate, DWORD max_rate, const LINEDIALPARAMS* dial_params);
  LONG SetCallTreatment(DRV_REQUESTID request_id, HDRVCALL hd_call, DWORD treatment);

  // --- call control beyond the core (asynchronous unless noted) ---
  LONG Dial(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCWSTR dest_address);
  LONG Accept(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCSTR uui = nullptr,
              DWORD uui_size = 0);
  LONG Redirect(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCWSTR dest_address);
  LONG BlindTransfer(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCWSTR dest_address);
  LONG SetupTransfer(DRV_REQUESTID request_id, HDRVCALL hd_call, HTAPICALL ht_consult_call,
                     LPHDRVCALL hd_consult_call);
  LONG CompleteTransfer(DRV_REQUESTID request_id, HDRVCALL hd_call, HDRVCALL hd_consult_call,
                        HTAPICALL ht_conf_call, LPHDRVCALL hd_conf_call, DWORD transfer_mode);
  LONG SetupConference(DRV_REQUESTID request_id, HDRVCALL hd_call, HDRVLINE hd_line,
                       HTAPICALL ht_conf_call, LPHDRVCALL hd_conf_call,
                       HTAPICALL ht_consult_call, LPHDRVCALL hd_consult_call);
  LONG AddToConference(DRV_REQUESTID request_id, HDRVCALL hd_conf_call,
                       HDRVCALL hd_consult_call);
  LONG RemoveFromConference(DRV_REQUESTID request_id, HDRVCALL hd_call);
  // A new consultation call for the conference (created like lineMakeCall).
  LONG PrepareAddToConference(DRV_REQUESTID request_id, HDRVCALL hd_conf_call,
                              HTAPICALL ht_consult_call, LPHDRVCALL hd_consult_call);
  // Synchronous for TAPI (LINE_GENERATE reports the end); the RPC runs in
  // the background.
  LONG GenerateDigits(HDRVCALL hd_call, DWORD end_to_end_id, DWORD digit_mode,
                      LPCWSTR digits, DWORD duration);
  LONG MonitorDigits(HDRVCALL hd_call, DWORD digit_modes);  // synchronous
  // Call media on the server (call_media.cc); synchronous for TAPI: the
  // RPC runs in the background, LINE_GENERATE / LINE_GATHERDIGITS /
  // LINE_MONITORTONE / LINE_MONITORMEDIA come from the server's events.
  LONG GenerateTone(HDRVCALL hd_call, DWORD end_to_end_id, DWORD tone_mode, DWORD duration,
                    DWORD num_tones, const LINEGENERATETONE* tones);
  // Writes the digits into `digits` (TAPISRV's buffer, kept until
  // LINE_GATHERDIGITS) when the gathering ends.
  LONG GatherDigits(HDRVCALL hd_call, DWORD end_to_end_id, DWORD digit_modes, LPWSTR digits,
                    DWORD num_digits, LPCWSTR termination_digits, DWORD first_digit_timeout,
                    DWORD inter_digit_timeout);
  LONG MonitorTones(HDRVCALL hd_call, DWORD tone_list_id, const LINEMONITORTONE* tones,
                    DWORD num_entries);
  LONG MonitorMedia(HDRVCALL hd_call, DWORD media_modes);
  LONG SetMediaMode(HDRVCALL hd_call, DWORD media_modes);
  LONG SetAppSpecific(HDRVCALL hd_call, DWORD app_specific);  // synchronous
  LONG SetCallData(DRV_REQUESTID request_id, HDRVCALL hd_call, LPVOID call_data, DWORD size);
  // Forwarding of the line's address(es) (SetLineForwarding); never creates
  // a consultation call (*lphdConsultCall stays NULL).
  LONG Forward(DRV_REQUESTID request_id, HDRVLINE hd_line, DWORD all_addresses, DWORD address_id,
               const LINEFORWARDLIST* forward_list, DWORD num_rings_no_answer,
               LPHDRVCALL hd_consult_call);
  // lineCompleteCall writes the completion id into `completion_id` before
  // it completes; lineUncompleteCall cancels one (call_completion.cc).
  LONG CompleteCall(DRV_REQUESTID request_id, HDRVCALL hd_call, LPDWORD completion_id,
                    DWORD completion_mode, DWORD message_id);
  LONG UncompleteCall(DRV_REQUESTID request_id, HDRVLINE hd_line, DWORD completion_id);
  // Park writes the orbit into `non_dir_address` (NONDIRECTED) before it
  // completes; Unpark and Pickup create a call like lineMakeCall.
  LONG Park(DRV_REQUESTID request_id, HDRVCALL hd_call, DWORD park_mode, LPCWSTR dir_address,
            LPVARSTRING non_dir_address);
  LONG Unpark(DRV_REQUESTID request_id, HDRVLINE hd_line, DWORD address_id, HTAPICALL ht_call,
              LPHDRVCALL hd_call, LPCWSTR dest_address);
  LONG Pickup(DRV_REQUESTID request_id, HDRVLINE hd_line, DWORD address_id, HTAPICALL ht_call,
              LPHDRVCALL hd_call, LPCWSTR dest_address, LPCWSTR group_id);

 private:
  RemoteProvider() = default;

  enum class Action { kAnswer, kDrop, kHold, kUnhold, kAccept, kRemoveFromConference };

  // One line known from the device map (index = DeviceMap index).
  struct LineEntry {
    std::string line_id;
    std::string server_id;  // the server's identity ("" until known / old server)
    std::optional<v1::Line> info;  // last known from the server
    size_t server = 0;
    bool present = false;       // the server lists it now
    bool has_device = false;    // a TAPI device id is assigned
    bool create_sent = false;   // LINE_CREATE queued
    bool removed = false;       // LINE_REMOVE queued
    DWORD device_id = 0;
    uint32_t hd_line = 0;       // open handle, 0 if closed
    int closes_in_flight = 0;   // CloseLine requests not answered yet (or held back)
    // lineClose's CloseLine waits for these (line_close.cc).
    int drops_in_flight = 0;         // drops lineCloseCall sent
    bool close_after_drops = false;  // held until drops_in_flight is 0
    bool close_after_open = false;   // held until the OpenLine on the wire is answered
  };
  // An open line (HDRVLINE).
  struct OpenLine {
    uint32_t index = 0;
    HTAPILINE ht_line = nullptr;
    LINEEVENT event_proc = nullptr;
    DWORD version = 0;
    DWORD media_modes = 0;        // lineSetDefaultMediaDetection
    DWORD ext_version = 0;        // lineSelectExtVersion (0: none)
    // Server side: the privilege applied (0 none) and whether an OpenLine is
    // in flight; `want_*` is what the TSP needs now.
    int applied_privilege = 0;
    DWORD applied_media = 0;
    bool open_in_flight = false;
    // The OpenLine waits for an earlier CloseLine of the same line, so the
    // server cannot apply the two in the wrong order.
    bool waiting_for_close = false;
    bool reported_out_of_service = false;
    // A transient OpenLine failure: retried (by Maintain) at this time, with
    // backoff doubling from 200 ms to 5 s.
    absl::Time retry_at = absl::InfiniteFuture();
    absl::Duration retry_backoff = absl::ZeroDuration();
    // Requests (lineMakeCall, lineAnswer...) waiting for the OpenLine in flight.
    std::vector<absl::AnyInvocable<void()>> after_open;
    // Opened before its server's first session (a static device from
    // providerEnumDevices): open_in_flight, requests queue in after_open
    // until the stream is up, at most until session_wait_until (deadline_ms).
    bool awaiting_session = false;
    absl::Time session_wait_until = absl::InfinitePast();
    // Requests queued meanwhile: `send` once the open goes out, `fail` (if
    // set) when the wait expires; a request without `fail` is sent then.
    struct SessionWaiter {
      absl::AnyInvocable<void()> send;
      absl::AnyInvocable<void()> fail;
    };
    std::vector<SessionWaiter> session_waiters;
  };
  // A queued callback into TAPISRV.
  struct Outgoing {
    enum class Kind {
      kCompletion, kLineEvent, kCallEvent, kNewCall, kCreate, kRemove,
      kPhoneEvent, kPhoneCreate, kPhoneRemove
    };
    Kind kind = Kind::kCompletion;
    DRV_REQUESTID request_id = 0;
    LONG result = 0;
    uint32_t hd_line = 0;
    uint32_t hd_call = 0;
    uint32_t hd_phone = 0;
    DWORD msg = 0;
    DWORD_PTR p1 = 0, p2 = 0, p3 = 0;
  };
  // A call (HDRVCALL).
  struct CallEntry {
    uint32_t hd_line = 0;
    std::string call_id;  // "" until the server's id is known
    HTAPICALL ht_call = nullptr;
    bool outbound_pending = false;  // the creating request (lineMakeCall...) not completed yet
    std::vector<Outgoing> deferred;  // call events held until the completion
    bool has_call = false;
    v1::Call call;
    DWORD reported_state = 0;
    DWORD reported_mode = 0;
    bool idle = false;
    // The event stream has shown the call (an event of it, or a snapshot
    // that lists it). A call known from a reply alone is not taken for gone
    // by a snapshot that lacks it: that snapshot may predate the call; the
    // server is asked (VerifyCallsLocked).
    bool seen_on_stream = false;
    // lineGenerateDigits in progress (oldest first): dwEndToEndID.
    std::deque<DWORD> generating;
    // lineGenerateTone in progress: dwEndToEndID (the server's events name it).
    std::vector<DWORD> tones;
    // lineGatherDigits in progress: TAPISRV's buffer for each.
    struct Gathering {
      DWORD end_to_end_id = 0;
      LPWSTR buffer = nullptr;
      DWORD size = 0;  // in characters
    };
    std::vector<Gathering> gathers;
    // Call media requests go to the server one at a time, in TAPI's order
    // (a cancel must not overtake the tone it cancels): the ones waiting
    // for the reply of the one in flight.
    std::deque<absl::AnyInvocable<void()>> media_waiting;
    bool media_in_flight = false;
  };
  // A call-creating request in flight, by the tag it sent (DESIGN.md 11):
  // the handles it created, in the order its reply names the calls. A
  // call_created event with the tag binds to one of them as it arrives.
  struct Creating {
    DRV_REQUESTID request_id = 0;
    uint32_t hd_line = 0;
    size_t server = 0;
    std::vector<uint32_t> calls;
  };
  // A call a request creates: TAPI's handle for it and where to write ours.
  struct NewCall {
    HTAPICALL ht_call = nullptr;
    LPHDRVCALL hd_call = nullptr;
  };
  // The calls a reply names, in the order of the request's NewCalls.
  using CreatedCalls = absl::StatusOr<std::vector<v1::Call>>;
  // Sends a call-creating RPC with `tag` set; `done` gets the reply's calls.
  using CreateSender =
      absl::AnyInvocable<void(std::string tag, absl::AnyInvocable<void(CreatedCalls)> done)>;
  struct Pending {
    uint32_t hd_call = 0;
    bool phone = false;  // a phone request: providerShutdown fails it with PHONEERR_*
  };

  // Helpers; *Locked ones need mu_.
  void ResetLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<uint32_t> IndexOfDeviceLocked(DWORD device_id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The snapshot of a device's line (takes mu_); LINEERR_BADDEVICEID if
  // there is no such device.
  LONG SnapshotOfDevice(DWORD device_id, LineSnapshot* snapshot);
  // What the structure writers (tapi_structs.h) read about `line`, copied
  // so they run on a consistent state (line_info.cc).
  LineSnapshot SnapshotOfLineLocked(const LineEntry& line) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  OpenLine* FindOpenLocked(HDRVLINE hd_line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  CallEntry* FindCallLocked(HDRVCALL hd_call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EnqueueLocked(Outgoing out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CompleteLocked(DRV_REQUESTID request_id, LONG result) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RegisterLineLocked(size_t server, const v1::Line& line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The server no longer has the line: its calls go IDLE, LINE_REMOVE.
  void RemoveLineLocked(LineEntry& line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyCallLocked(size_t server, const v1::Call& call, bool created)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A call the server no longer has (it ended unseen): DISCONNECTED (reason
  // unknown) unless reported, then IDLE; the handle stays valid.
  void EndVanishedCallLocked(uint32_t hd_call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Asks `server` about calls known from replies alone that a snapshot did
  // not list: gone if it has no such call.
  void VerifyCallsLocked(size_t server, const std::vector<uint32_t>& hd_calls)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CallStateLocked(uint32_t hd_call, CallEntry& entry, const v1::CallStatus& status,
                       DWORD media_mode) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LineDevStateLocked(uint32_t hd_line, DWORD state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OpenOnServerLocked(uint32_t hd_line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The CloseLine of lines_[index] (line_close.cc): sent, and answered
  // (which lets a waiting reopen go); an OpenLine answered after its lineClose.
  void SendCloseLineLocked(uint32_t index) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CloseLineAnsweredLocked(uint32_t index) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClosedWhileOpeningLocked(uint32_t index, bool opened) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint32_t OpenHandleOfLineLocked(size_t server, const std::string& line_id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether `line` is the line `line_id` of `server` (present there now).
  static bool IsLineOf(const LineEntry& line, size_t server, const std::string& line_id);
  // Options for a line-scoped request: sent to the line's own server (two
  // servers may have lines of the same id).
  CallOptions LineCallOptionsLocked(const LineEntry& line) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether this workstation's session owns the call (its privilege, or its
  // session among the call's owners).
  bool OwnedByUsLocked(const CallEntry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  LONG CallAction(DRV_REQUESTID request_id, HDRVCALL hd_call, Action action,
                  LPCSTR uui = nullptr, DWORD uui_size = 0);
  // User-user information TAPI hands over with a request on a call of
  // `line`: 0 and the bytes in *out, or LINEERR_USERUSERINFOTOOBIG.
  static LONG UserUserInfoFor(const LineEntry& line, LPCSTR uui, DWORD size, std::string* out);
  // Whether this workstation's session owns the call and no other session does.
  bool SoleOwnerLocked(const CallEntry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // lineDropOnClose / lineDropNoOwner: drops the call if this session is its
  // only owner; 0 either way (LINEERR_INVALCALLHANDLE for a bad handle).
  LONG DropUnlessOwnedElsewhere(HDRVCALL hd_call);
  // lineRedirect / lineBlindTransfer: `rpc` sends the call to `dest_address`
  // (validated first: missing, empty or not dialable is INVALADDRESS) with
  // the deadline of `options` (call_options or outcome_options).
  template <typename Request>
  LONG SendCallTo(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCWSTR dest_address,
                  void (Client::*rpc)(Request, Callback<v1::Call>, const CallOptions&),
                  CallOptions (RemoteProvider::*options)() const);
  void ApplyEventLocked(size_t server, const v1::Event& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // --- call-creating requests (call_creation.cc) ---
  // The one path for every request that creates calls (lineMakeCall,
  // lineSetupTransfer, lineSetupConference, lineCompleteTransfer as
  // conference, linePrepareAddToConference, lineUnpark, linePickup): new
  // handles written to each NewCall before returning, a fresh tag, the RPC
  // sent once the line is open on the server; the completion is queued before
  // any event of the new calls, which bind by tag as they arrive.
  LONG CreateCallsLocked(DRV_REQUESTID request_id, uint32_t hd_line, uint32_t acting_call,
                         std::vector<NewCall> calls, CreateSender send)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A call_created event (or snapshot entry) carrying one of our tags: binds
  // it to its handle; false if the tag is not one of ours.
  bool BindTaggedCallLocked(size_t server, const v1::Call& call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The reply of a creating request (under the DrainingLock).
  void FinishCreateLocked(const std::string& tag, CreatedCalls result)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void BindReplyLocked(uint32_t hd_call, const v1::Call& call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The request failed: its handle goes; a call the server made for it all
  // the same (bound by its tag) is reported as a new call instead.
  void AbandonRequestCallLocked(uint32_t hd_call, size_t server) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A new call entry for a call a request creates (outbound_pending).
  uint32_t NewRequestCallLocked(uint32_t hd_line, HTAPICALL ht_call)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropRequestCallLocked(uint32_t hd_call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // lineAnswer / lineAccept: sent once the line's owner open (media
  // detection) is applied on the server, so the server has given this
  // session every call offered after lineSetDefaultMediaDetection returned.
  void SendWhenOwnerLocked(uint32_t hd_line, absl::AnyInvocable<void()> send,
                           absl::AnyInvocable<void()> fail) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // --- before the first session (session_wait.cc) ---
  // Whether the server of `line` (any server for a line not listed yet) has
  // its session and event stream up.
  bool ReachableLocked(const LineEntry& line) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The line's server never had a session yet: requests wait for it.
  void StartSessionWaitLocked(OpenLine& open) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // false while `open` still waits for its server's first session; else
  // ends the wait (the open goes out now).
  bool EndSessionWaitLocked(OpenLine& open) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits past deadline_ms end: their requests go out (and fail as requests
  // to an unreachable server do). Returns them, to run without mu_.
  std::vector<absl::AnyInvocable<void()>> ExpireSessionWaitsLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues a request behind the open in flight (or the session wait).
  void QueueAfterOpenLocked(OpenLine& open, absl::AnyInvocable<void()> send,
                            absl::AnyInvocable<void()> fail) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `work` with mu_ released.
  void RunUnlocked(std::vector<absl::AnyInvocable<void()>> work)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A reply with one Call as CreatedCalls.
  static Callback<v1::Call> OneCreatedCall(absl::AnyInvocable<void(CreatedCalls)> done);
  // A random prefix for this provider's tags.
  static std::string NewTagPrefix();
  // Sends a line request once the line is open on the server: at once, or
  // right after the OpenLine in flight (opening it again if that failed).
  // `fail` completes the request instead when the line's server never had a
  // session within deadline_ms (session_wait.cc); without it, it is sent then.
  void SendWhenOpenLocked(uint32_t hd_line, absl::AnyInvocable<void()> send,
                          absl::AnyInvocable<void()> fail = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Validates the call for an asynchronous request; 0 or a LINEERR.
  LONG CheckCallLocked(HDRVCALL hd_call, DRV_REQUESTID request_id, CallEntry** entry)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the call's line dials SIP URIs (LineCaps.dials_uris).
  bool CallDialsUrisLocked(const CallEntry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Completes `request_id` once `done` (run under mu_) returns; the common tail
  // for RPCs that answer with a Call.
  absl::AnyInvocable<void(absl::StatusOr<v1::Call>)> CompleteWithCall(DRV_REQUESTID request_id);
  void DigitsEventLocked(const v1::Event& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // tone_generated, gather_completed, tone_detected, media_detected: the
  // TAPI event, for this workstation's session's requests only.
  void CallMediaEventLocked(size_t server, const v1::Event& event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the call's tones and gatherings in progress (LINEGENERATETERM_CANCEL,
  // LINEGATHERTERM_CANCEL): the call went IDLE.
  void CancelCallMediaLocked(uint32_t hd_call, CallEntry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The caps of the line a call is on, or null while the server has not
  // described it.
  const v1::LineCaps* CallLineCapsLocked(const CallEntry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends a call media request now, or after the one in flight (`send`
  // runs with mu_ held and must call CallMediaDoneLocked when its reply is in).
  void SendCallMediaLocked(CallEntry& entry, absl::AnyInvocable<void()> send)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CallMediaDoneLocked(uint32_t hd_call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends a call event now, or after the creating request's completion.
  void CallEventLocked(CallEntry& entry, const Outgoing& out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reports the end of call `hd_call`'s request `end_to_end_id` (`msg`:
  // LINE_GENERATE or LINE_GATHERDIGITS, with its termination `term`), as a
  // call event stamped with the tick count.
  void RequestEndedLocked(CallEntry& entry, uint32_t hd_call, DWORD msg, DWORD term,
                          DWORD end_to_end_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Callbacks into TAPISRV leave the queue in order, one drainer at a time
  // (`draining_`): the thread that queued them (a gRPC callback or event
  // stream thread, see DrainingLock) delivers them itself when no one else
  // is, which saves the hop to the dispatcher thread; the dispatcher thread
  // delivers what TSPI functions queue (they never call back into TAPISRV
  // themselves) and whatever arrives while another drainer is busy.
  struct Delivery {
    Outgoing item;
    LINEEVENT proc = nullptr;
    HTAPILINE ht_line = nullptr;
    HTAPICALL ht_call = nullptr;
    ASYNC_COMPLETION completion = nullptr;
    HPROVIDER hprovider = nullptr;
    PHONEEVENT phone_proc = nullptr;
    HTAPIPHONE ht_phone = nullptr;
  };
  bool TakeLocked(Delivery* d) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Deliver(const Delivery& d);  // without mu_
  // Delivers the queue unless another thread is; releases mu_ around each
  // callback.
  void DrainLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // mu_ for a gRPC callback or event thread: on release, it delivers what
  // was queued meanwhile (DrainLocked) before unlocking.
  class ABSL_SCOPED_LOCKABLE DrainingLock {
   public:
    explicit DrainingLock(RemoteProvider* p) ABSL_EXCLUSIVE_LOCK_FUNCTION(p->mu_) : p_(p) {
      p_->mu_.Lock();
    }
    ~DrainingLock() ABSL_UNLOCK_FUNCTION() {
      p_->DrainLocked();
      p_->mu_.Unlock();
    }
    DrainingLock(const DrainingLock&) = delete;
    DrainingLock& operator=(const DrainingLock&) = delete;

   private:
    RemoteProvider* p_;
  };
  // --- phones (phone_mirror.cc, phone_open.cc, phone_set.cc) ---
  std::optional<uint32_t> IndexOfPhoneDeviceLocked(DWORD device_id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  OpenPhone* FindOpenPhoneLocked(HDRVPHONE hd_phone) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  PhoneSnapshot SnapshotOfPhoneLocked(const PhoneEntry& phone) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The open phone's snapshot (takes mu_): 0 or PHONEERR_INVALPHONEHANDLE.
  LONG SnapshotOfOpenPhone(HDRVPHONE hd_phone, PhoneSnapshot* snapshot);
  void RegisterPhoneLocked(size_t server, const v1::Phone& phone) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemovePhoneLocked(PhoneEntry& phone) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A snapshot's phones (the server's whole list) and the phone events.
  void ApplyPhoneSnapshotLocked(size_t server, const v1::Snapshot& snapshot)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyPhoneEventLocked(size_t server, const v1::Event& event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PhoneEventLocked(uint32_t hd_phone, DWORD msg, DWORD_PTR p1, DWORD_PTR p2, DWORD_PTR p3)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `server`'s stream went down / came back: PHONE_STATE DISCONNECTED /
  // CONNECTED on its open phones (each once per outage).
  void PhonesServerLostLocked(size_t server) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PhonesServerBackLocked(size_t server) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Opens the phone on its server with `privilege` (MONITOR at phoneOpen,
  // OWNER for the first request); waits if the server has no session yet.
  void OpenPhoneOnServerLocked(uint32_t hd_phone, int privilege) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The server's phone opens after a (re)connect of `server`.
  void ReopenPhonesLocked(size_t server, bool session_replaced) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Gives up the requests of phones whose server had no session in time.
  void ExpirePhoneWaitsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // ClosePhone once the phone's RPCs in flight are answered.
  void MaybeSendClosePhoneLocked(uint32_t index, uint32_t hd_phone)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // One RPC of open `hd_phone` of phones_[index] answered (PhoneEntry::rpcs).
  void PhoneRpcDoneLocked(uint32_t index, uint32_t hd_phone) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A phone request that never went out is done (PhoneEntry::rpcs).
  void PhoneRequestDroppedLocked(uint32_t index, uint32_t hd_phone)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // An asynchronous phone request: registers `request_id`, then sends
  // `send` (which must complete it through CompletePhoneRequest) once the
  // phone is open as OWNER on its server; returns request_id.
  LONG PhoneRequestLocked(DRV_REQUESTID request_id, uint32_t hd_phone, PhoneSend send)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues one phone RPC: the dispatcher thread sends it without mu_ (a
  // refused call completes at once, on the sending thread).
  void QueuePhoneSendLocked(PhoneSend send) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The callback that completes a phone request with the reply's PHONEERR
  // (the reply's Phone updates the mirror).
  absl::AnyInvocable<void(absl::StatusOr<v1::Phone>)> CompletePhoneRequest(
      DRV_REQUESTID request_id, uint32_t index, uint32_t hd_phone);

  void Dispatch();
  void ConnectLoop();
  // After the connection is up: retries failed opens until providerShutdown.
  void MaintainLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnEvents(size_t server, const v1::EventBatch& batch);
  void OnStreamState(const StreamState& state);
  CallOptions call_options() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // For requests whose reply waits for the far end's outcome (a transfer:
  // the target answers or refuses): deadline_ms, but at least
  // kOutcomeDeadline. The server answers "under way" before it ends.
  CallOptions outcome_options() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static constexpr absl::Duration kOutcomeDeadline = absl::Seconds(35);

  mutable absl::Mutex mu_;
  // Configuration and TAPI's parameters.
  TspConfig config_ ABSL_GUARDED_BY(mu_);
  std::optional<DeviceMap> device_map_ ABSL_GUARDED_BY(mu_);
  uint32_t enumerated_ ABSL_GUARDED_BY(mu_) = 0;  // lines reported by providerEnumDevices
  HPROVIDER hprovider_ ABSL_GUARDED_BY(mu_) = nullptr;
  LINEEVENT line_create_proc_ ABSL_GUARDED_BY(mu_) = nullptr;
  ASYNC_COMPLETION completion_proc_ ABSL_GUARDED_BY(mu_) = nullptr;
  DWORD line_base_ ABSL_GUARDED_BY(mu_) = 0;
  bool initialized_ ABSL_GUARDED_BY(mu_) = false;
  // providerInit's reference on the gRPC library, released at
  // providerShutdown once the client is gone (grpc_shutdown_blocking): when
  // providerShutdown returns, no gRPC thread of the provider's is left, and
  // TAPISRV may unload the DLL.
  bool grpc_held_ ABSL_GUARDED_BY(mu_) = false;
  void ReleaseGrpc() ABSL_LOCKS_EXCLUDED(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::vector<LineEntry> lines_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<DWORD, uint32_t> created_devices_ ABSL_GUARDED_BY(mu_);  // device id -> index
  // LINE_REMOVE sent: refused from then on
  absl::flat_hash_set<DWORD> removed_devices_ ABSL_GUARDED_BY(mu_);
  HandleTable<OpenLine> open_lines_ ABSL_GUARDED_BY(mu_);
  HandleTable<CallEntry> calls_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint32_t> call_by_id_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Creating> creating_ ABSL_GUARDED_BY(mu_);  // by tag
  // random per providerInit: tags never collide with another client's
  std::string tag_prefix_ ABSL_GUARDED_BY(mu_);
  uint64_t next_tag_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<DRV_REQUESTID, Pending> pending_ ABSL_GUARDED_BY(mu_);
  ServerIdentities server_ids_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> server_connected_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> server_ever_connected_ ABSL_GUARDED_BY(mu_);

  std::deque<Outgoing> queue_ ABSL_GUARDED_BY(mu_);
  bool dispatcher_stop_ ABSL_GUARDED_BY(mu_) = false;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;  // a thread is delivering the queue
  // Started by providerInit and joined by providerShutdown, which TAPISRV
  // never runs at the same time (nor with anything else of the provider).
  std::thread dispatcher_;
  std::thread connector_;

  // Phones: their own device map (`<device_map>.phones`), device ids from
  // providerInit's dwPhoneDeviceIDBase.
  std::optional<DeviceMap> phone_map_ ABSL_GUARDED_BY(mu_);
  uint32_t phones_enumerated_ ABSL_GUARDED_BY(mu_) = 0;
  PHONEEVENT phone_create_proc_ ABSL_GUARDED_BY(mu_) = nullptr;
  DWORD phone_base_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<PhoneEntry> phones_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<DWORD, uint32_t> created_phones_ ABSL_GUARDED_BY(mu_);  // device id -> index
  absl::flat_hash_set<DWORD> removed_phones_ ABSL_GUARDED_BY(mu_);
  HandleTable<OpenPhone> open_phones_ ABSL_GUARDED_BY(mu_);
  // Phone RPCs not answered yet (they run on the connections directly):
  // providerShutdown waits for them before it releases the client.
  int phone_rpcs_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<PhoneSend> phone_sends_ ABSL_GUARDED_BY(mu_);  // for the dispatcher
  // The open phone whose PHONEEVENT is being delivered (0: none), and by
  // which thread: phoneClose returns only once it is delivered, so TAPI
  // hears nothing of a phone after its phoneClose.
  uint32_t delivering_phone_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread::id delivering_thread_ ABSL_GUARDED_BY(mu_);

  std::unique_ptr<Client> client_ ABSL_GUARDED_BY(mu_);
  // Made by providerEnumDevices (to ask the servers for their lines), taken
  // over by providerInit.
  std::unique_ptr<Client> enum_client_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Subscription> subscription_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linebridge::tsp
