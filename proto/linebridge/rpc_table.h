// Every RPC of linebridge.v1, described once: its service, name, request and
// response types, who may call it and which field routes it to a server.
// The server's service declarations and dispatch, its authorization, the
// engine's request methods, the SDK's Connection and Client methods and the
// authorization matrix test all expand these lists; adding an RPC means the
// proto, the engine and one row here (docs/api.md, docs/security.md).
//
// X(Service, Method, Request, Response, Access, Perm, Flags, Route, Field)
//
//   Access  who may call it:
//     kAny      any authenticated principal
//     kAdmin    the admin role only
//     kSession  any authenticated principal, on its own sessions only
//     kList     any authenticated principal; the answer holds only what the
//               principal may see (Perm on the line named in Field, if any)
//     kLine     Perm on the line named by the request's `line_id`
//     kLineTakes  kLine, and the call it takes from another line (the one it
//               rang on / was parked from) needs monitor there when both
//               lines share a pickup group, control otherwise
//     kCall     Perm on the line of every call the request names (`call_id`,
//               `conference_call_id`, `consultation_call_id`, `held_call_id`)
//     kPhone    Perm on the line of the phone named by `phone_id` (its
//               Phone.line_id; a phone without a line: a grant naming the
//               phone id itself); failures carry PHONEERR_*
//   Perm    the per-line right Access needs: kMonitor, kControl, kOriginate
//           (kNone where Access names no line).
//   Flags   kPlain; kAudited (written to the audit log, allowed or refused);
//           kOriginating (audited, and the leg it creates passes the
//           toll-fraud limits: origination rate and concurrent calls);
//           kAuditedDisk (audited, and its work writes the data directory:
//           the server runs it on its blocking executor, never on a gRPC
//           thread, and answers once the write is done).
//   Route   how the SDK's Client picks a server: kDirect (the server the
//           caller names: sessions, admin, security), kFanOut (every server,
//           answers merged), kLine / kCall (the server of the line / call
//           whose id is in Field).
//   Field   the request field that names the line or call (`none` if none).
//
// The engine asks the request's authority (core/authority.h) before it
// touches a line the request does not name: the taken call of kLineTakes
// rows, and a destination outside the switch of Redirect, BlindTransfer and
// SetLineForwarding (originate on the line, and the toll-fraud limits).
#pragma once

namespace linebridge::rpc {

enum class Access { kAny, kAdmin, kSession, kList, kLine, kLineTakes, kCall, kPhone };
enum class Perm { kNone, kMonitor, kControl, kOriginate };
enum class Flags { kPlain, kAudited, kOriginating, kAuditedDisk };
enum class Route { kDirect, kFanOut, kLine, kCall, kPhone };

// The authorization columns of one row.
struct Policy {
  Access access;
  Perm perm;
  Flags flags;
  constexpr bool audited() const { return flags != Flags::kPlain; }
  constexpr bool originating() const { return flags == Flags::kOriginating; }
  constexpr bool blocking() const { return flags == Flags::kAuditedDisk; }
};

}  // namespace linebridge::rpc

// clang-format off
#define LINEBRIDGE_RPCS(X)                                                                                            \
  /* Telephony: lines and sessions */                                                                                 \
  X(Telephony, ListLines, ListLinesRequest, ListLinesResponse, kList, kMonitor, kPlain, kFanOut, none)               \
  X(Telephony, GetLine, GetLineRequest, Line, kLine, kMonitor, kPlain, kLine, line_id)                               \
  X(Telephony, CreateSession, CreateSessionRequest, Session, kSession, kNone, kPlain, kDirect, none)                 \
  X(Telephony, CloseSession, CloseSessionRequest, CloseSessionResponse, kSession, kNone, kPlain, kDirect, none)      \
  /* OpenLine as PRIVILEGE_OWNER needs control (services.cc) */                                                       \
  X(Telephony, OpenLine, OpenLineRequest, OpenLineResponse, kLine, kMonitor, kAudited, kLine, line_id)               \
  X(Telephony, CloseLine, CloseLineRequest, CloseLineResponse, kLine, kMonitor, kAudited, kLine, line_id)            \
  X(Telephony, SetLineForwarding, SetLineForwardingRequest, Line, kLine, kControl, kAudited, kLine, line_id)         \
  X(Telephony, GetDevConfig, GetDevConfigRequest, DeviceConfig, kLine, kMonitor, kPlain, kLine, line_id)             \
  X(Telephony, SetDevConfig, SetDevConfigRequest, DeviceConfig, kLine, kControl, kAuditedDisk, kLine, line_id)       \
  /* Telephony: calls */                                                                                              \
  X(Telephony, ListCalls, ListCallsRequest, ListCallsResponse, kList, kMonitor, kPlain, kFanOut, line_id)            \
  X(Telephony, GetCall, GetCallRequest, Call, kCall, kMonitor, kPlain, kCall, call_id)                               \
  X(Telephony, MakeCall, MakeCallRequest, Call, kLine, kOriginate, kOriginating, kLine, line_id)                     \
  X(Telephony, Dial, DialRequest, Call, kCall, kOriginate, kOriginating, kCall, call_id)                             \
  X(Telephony, Accept, CallActionRequest, Call, kCall, kControl, kAudited, kCall, call_id)                           \
  X(Telephony, Answer, CallActionRequest, Call, kCall, kControl, kAudited, kCall, call_id)                           \
  X(Telephony, Drop, CallActionRequest, Call, kCall, kControl, kAudited, kCall, call_id)                             \
  X(Telephony, Hold, CallActionRequest, Call, kCall, kControl, kAudited, kCall, call_id)                             \
  X(Telephony, Unhold, CallActionRequest, Call, kCall, kControl, kAudited, kCall, call_id)                           \
  X(Telephony, SwapHold, SwapHoldRequest, SwapHoldResponse, kCall, kControl, kAudited, kCall, call_id)              \
  X(Telephony, Redirect, RedirectRequest, Call, kCall, kControl, kAudited, kCall, call_id)                           \
  X(Telephony, BlindTransfer, BlindTransferRequest, Call, kCall, kControl, kAudited, kCall, call_id)                 \
  X(Telephony, SetupTransfer, SetupTransferRequest, SetupTransferResponse, kCall, kControl, kAudited, kCall, call_id) \
  X(Telephony, CompleteTransfer, CompleteTransferRequest, CompleteTransferResponse, kCall, kControl, kAudited, kCall, call_id) \
  X(Telephony, SetupConference, SetupConferenceRequest, SetupConferenceResponse, kCall, kControl, kAudited, kCall, call_id) \
  X(Telephony, PrepareAddToConference, PrepareAddToConferenceRequest, Call, kCall, kControl, kAudited, kCall, conference_call_id) \
  X(Telephony, AddToConference, AddToConferenceRequest, Call, kCall, kControl, kAudited, kCall, conference_call_id)  \
  X(Telephony, RemoveFromConference, CallActionRequest, Call, kCall, kControl, kAudited, kCall, call_id)             \
  X(Telephony, Park, ParkRequest, ParkResponse, kCall, kControl, kAudited, kCall, call_id)                           \
  X(Telephony, Unpark, UnparkRequest, Call, kLineTakes, kControl, kAudited, kLine, line_id)                               \
  X(Telephony, Pickup, PickupRequest, Call, kLineTakes, kControl, kAudited, kLine, line_id)                               \
  X(Telephony, GenerateDigits, GenerateDigitsRequest, Call, kCall, kControl, kAudited, kCall, call_id)               \
  X(Telephony, MonitorDigits, MonitorDigitsRequest, Call, kCall, kMonitor, kPlain, kCall, call_id)                   \
  X(Telephony, SetAppSpecific, SetAppSpecificRequest, Call, kCall, kControl, kAudited, kCall, call_id)               \
  X(Telephony, SetCallData, SetCallDataRequest, Call, kCall, kControl, kAudited, kCall, call_id)                     \
  X(Telephony, SendUserUserInfo, SendUserUserInfoRequest, Call, kCall, kControl, kAudited, kCall, call_id)           \
  X(Telephony, ReleaseUserUserInfo, ReleaseUserUserInfoRequest, Call, kCall, kControl, kAudited, kCall, call_id)     \
  X(Telephony, SetCallParams, SetCallParamsRequest, Call, kCall, kControl, kAudited, kCall, call_id)                 \
  X(Telephony, SetCallTreatment, SetCallTreatmentRequest, Call, kCall, kControl, kAudited, kCall, call_id)           \
  X(Telephony, CompleteCall, CompleteCallRequest, CompleteCallResponse, kCall, kControl, kAudited, kCall, call_id)   \
  X(Telephony, UncompleteCall, UncompleteCallRequest, UncompleteCallResponse, kLine, kControl, kAudited, kLine, line_id) \
  /* Telephony: call media on the server (the call's audio, as StreamMedia: control) */                             \
  X(Telephony, GenerateTone, GenerateToneRequest, Call, kCall, kControl, kAudited, kCall, call_id)                   \
  X(Telephony, GatherDigits, GatherDigitsRequest, Call, kCall, kControl, kAudited, kCall, call_id)                   \
  X(Telephony, MonitorTones, MonitorTonesRequest, Call, kCall, kControl, kAudited, kCall, call_id)                   \
  X(Telephony, MonitorMedia, MonitorMediaRequest, Call, kCall, kControl, kAudited, kCall, call_id)                   \
  X(Telephony, SetMediaMode, SetMediaModeRequest, Call, kCall, kControl, kAudited, kCall, call_id)                   \
  /* Telephony: phones (OpenPhone as PRIVILEGE_OWNER needs control; services.cc) */                                  \
  X(Telephony, ListPhones, ListPhonesRequest, ListPhonesResponse, kList, kMonitor, kPlain, kFanOut, line_id)         \
  X(Telephony, GetPhone, GetPhoneRequest, Phone, kPhone, kMonitor, kPlain, kPhone, phone_id)                         \
  X(Telephony, OpenPhone, OpenPhoneRequest, Phone, kPhone, kMonitor, kAudited, kPhone, phone_id)                     \
  X(Telephony, ClosePhone, ClosePhoneRequest, ClosePhoneResponse, kPhone, kMonitor, kAudited, kPhone, phone_id)      \
  X(Telephony, SetPhoneHookSwitch, SetPhoneHookSwitchRequest, Phone, kPhone, kControl, kAudited, kPhone, phone_id)   \
  X(Telephony, SetPhoneDisplay, SetPhoneDisplayRequest, Phone, kPhone, kControl, kAudited, kPhone, phone_id)         \
  X(Telephony, SetPhoneLamp, SetPhoneLampRequest, Phone, kPhone, kControl, kAudited, kPhone, phone_id)               \
  X(Telephony, SetPhoneRing, SetPhoneRingRequest, Phone, kPhone, kControl, kAudited, kPhone, phone_id)               \
  X(Telephony, SetPhoneVolume, SetPhoneLevelRequest, Phone, kPhone, kControl, kAudited, kPhone, phone_id)            \
  X(Telephony, SetPhoneGain, SetPhoneLevelRequest, Phone, kPhone, kControl, kAudited, kPhone, phone_id)              \
  X(Telephony, SetPhoneButtonInfo, SetPhoneButtonInfoRequest, Phone, kPhone, kControl, kAudited, kPhone, phone_id)   \
  X(Telephony, SetPhoneData, SetPhoneDataRequest, Phone, kPhone, kControl, kAudited, kPhone, phone_id)               \
  X(Telephony, GetPhoneData, GetPhoneDataRequest, PhoneData, kPhone, kMonitor, kPlain, kPhone, phone_id)             \
  X(Telephony, OperatePhone, OperatePhoneRequest, Phone, kPhone, kControl, kAudited, kPhone, phone_id)               \
  /* Admin */                                                                                                         \
  X(Admin, GetServerStatus, GetServerStatusRequest, ServerStatus, kAdmin, kNone, kPlain, kDirect, none)              \
  X(Admin, ListSessions, ListSessionsRequest, ListSessionsResponse, kAdmin, kNone, kPlain, kDirect, none)            \
  X(Admin, ReloadConfig, ReloadConfigRequest, ReloadConfigResponse, kAdmin, kNone, kAudited, kDirect, none)          \
  X(Admin, ListCallRecords, ListCallRecordsRequest, ListCallRecordsResponse, kAdmin, kNone, kPlain, kDirect, none)   \
  X(Admin, Ping, PingRequest, PingResponse, kAny, kNone, kPlain, kDirect, none)                                      \
  /* Security */                                                                                                      \
  X(Security, WhoAmI, WhoAmIRequest, Principal, kAny, kNone, kPlain, kDirect, none)                                  \
  X(Security, AddPrincipal, AddPrincipalRequest, Principal, kAdmin, kNone, kAudited, kDirect, none)                  \
  X(Security, RemovePrincipal, RemovePrincipalRequest, RemovePrincipalResponse, kAdmin, kNone, kAudited, kDirect, none) \
  X(Security, ListPrincipals, ListPrincipalsRequest, ListPrincipalsResponse, kAdmin, kNone, kPlain, kDirect, none)   \
  X(Security, Assign, AssignRequest, Principal, kAdmin, kNone, kAudited, kDirect, none)                              \
  X(Security, Unassign, UnassignRequest, Principal, kAdmin, kNone, kAudited, kDirect, none)                          \
  X(Security, IssueToken, IssueTokenRequest, IssueTokenResponse, kAdmin, kNone, kAudited, kDirect, none)             \
  X(Security, RevokeToken, RevokeTokenRequest, TokenInfo, kAdmin, kNone, kAudited, kDirect, none)                    \
  X(Security, ListTokens, ListTokensRequest, ListTokensResponse, kAdmin, kNone, kPlain, kDirect, none)               \
  X(Security, ListAudit, ListAuditRequest, ListAuditResponse, kAdmin, kNone, kPlain, kDirect, none)                 \
  X(Security, ImportAssignments, ImportAssignmentsRequest, ImportAssignmentsResponse, kAdmin, kNone, kAudited, kDirect, none) \
  /* Media: files on the server (the stream is below); a job's later requests name its line */                        \
  X(Media, PlayFile, PlayFileRequest, MediaJob, kCall, kControl, kAudited, kCall, call_id)                           \
  X(Media, RecordCall, RecordCallRequest, MediaJob, kCall, kControl, kAudited, kCall, call_id)                       \
  X(Media, StopMediaJob, MediaJobRequest, MediaJob, kLine, kControl, kAudited, kLine, line_id)                       \
  X(Media, GetMediaJob, MediaJobRequest, MediaJob, kLine, kMonitor, kPlain, kLine, line_id)

// Streaming RPCs: same columns (the server and SDK write their streams by
// hand; the authorization matrix covers them from here). Subscribe is
// server-streaming; StreamMedia is bidirectional and its Field is in the
// first message's `start`.
#define LINEBRIDGE_STREAMING_RPCS(X)                                                                                  \
  X(Telephony, Subscribe, SubscribeRequest, EventBatch, kList, kMonitor, kPlain, kFanOut, line_ids)                  \
  X(Media, StreamMedia, MediaRequest, MediaResponse, kCall, kControl, kAudited, kCall, call_id)
// clang-format on

