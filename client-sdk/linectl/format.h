// linectl output formatting: pure functions from API messages to text.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/generated_enum_reflection.h>
#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "linebridge/v1/admin.pb.h"
#include "linebridge/v1/telephony.pb.h"
#include "linebridge/v1/types.pb.h"

namespace linebridge::linectl {

// The value's name without the prefix all values of the enum share, lower
// case: CALL_STATE_CONNECTED -> "connected", MEDIA_MODE_INTERACTIVE_VOICE ->
// "interactive_voice". Unknown values print as their number.
std::string EnumName(const google::protobuf::EnumDescriptor* descriptor, int value);
template <typename E>
std::string EnumName(E value) {
  return EnumName(google::protobuf::GetEnumDescriptor<E>(), static_cast<int>(value));
}
// The reverse (case-insensitive); false if `name` is not a value of the enum.
bool ParseEnumName(const google::protobuf::EnumDescriptor* descriptor, absl::string_view name,
                   int* value);

// "connected(active)", "offering(inactive)", "idle".
std::string FormatCallState(const v1::CallStatus& status);
// `100 "Alice"`, `100`, `"Alice"`, `blocked`, `-`.
std::string FormatParty(const v1::PartyId& party);
// "2024-05-01 12:00:00" in `zone`; "-" when unset.
std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp, absl::TimeZone zone);
// "0:07", "1:02:03".
std::string FormatDurationMs(uint64_t ms);

// `call <id> <state>` (with a different leading word for `label`).
std::string FormatCallLine(const v1::Call& call, absl::string_view label = "call");
// `call=<id> <state> caller=<party>[ called=<party>]`.
std::string FormatCallSummary(const v1::Call& call);

// One `watch` line: `<seq> <line_id|-> <kind> <details>`.
std::string FormatEvent(const v1::Event& event);
// `-- snapshot (<reason>) at sequence N: X lines, Y calls` and one
// `  <line_id> call=<id> <state> ...` line per call.
std::vector<std::string> FormatSnapshot(const v1::EventBatch& batch);
// `-- disconnected: <reason>; reconnecting in <ms> ms`.
std::string FormatDisconnected(const absl::Status& reason, absl::Duration retry_in);
// "uncond 200", "noansw 200 rings=4"; "off" for no rules.
std::string FormatForwarding(const google::protobuf::RepeatedPtrField<v1::ForwardRule>& rules);

// `s` safe to print on a terminal: control characters and bytes that are
// not UTF-8 as \xNN (linebridge/printable.h). Every line linectl prints
// passes through it, so a name, caller id or message from the server cannot
// move the cursor, clear the screen or start a fake row.
std::string TerminalSafe(absl::string_view s);

// `<message> (<GRPC_CODE>, LINEERR_XXX)`.
std::string FormatError(const absl::Status& status);

// `key: value` lines for every field of `message` (enums by EnumName,
// timestamps formatted, repeated values joined with ", ", nested messages as
// an indented block). `skip` lists top-level field names to leave out.
std::vector<std::string> FormatFields(const google::protobuf::Message& message, absl::TimeZone zone,
                                      const std::vector<std::string>& skip = {});

// Columns padded to their widest cell, separated by two spaces; the last
// column is not padded.
std::vector<std::string> FormatTable(const std::vector<std::string>& header,
                                     const std::vector<std::vector<std::string>>& rows);

// Table rows.
std::vector<std::string> LineRow(const v1::Line& line);
std::vector<std::string> CallRow(const v1::Call& call);
std::vector<std::string> PhoneRow(const v1::Phone& phone);
std::vector<std::string> SessionRow(const v1::Session& session, absl::TimeZone zone);
std::vector<std::string> CallRecordRow(const v1::CallRecord& record, absl::TimeZone zone);
inline const std::vector<std::string>& LineHeader() {
  static const auto* header =
      new std::vector<std::string>{"ID", "NAME", "PROVIDER", "STATE", "ADDRESS", "CALLS"};
  return *header;
}
inline const std::vector<std::string>& PhoneHeader() {
  static const auto* header = new std::vector<std::string>{"ID",   "NAME",          "LINE",
                                                           "HOOKSWITCH", "RING", "OWNERS/MONITORS"};
  return *header;
}
inline const std::vector<std::string>& CallHeader() {
  static const auto* header = new std::vector<std::string>{
      "CALL ID", "LINE", "STATE(mode)", "ORIGIN", "CALLER", "CALLED", "CONNECTED"};
  return *header;
}
inline const std::vector<std::string>& SessionHeader() {
  static const auto* header =
      new std::vector<std::string>{"ID", "CLIENT", "CREATED", "ATTACHED", "LINES", "CALLS"};
  return *header;
}
inline const std::vector<std::string>& CallRecordHeader() {
  static const auto* header = new std::vector<std::string>{
      "RECORD", "CALL", "LINE", "ORIGIN", "CALLER", "CALLED", "STARTED", "DURATION", "DISPOSITION",
      "SERVER"};
  return *header;
}

// Single-line JSON (proto field names).
std::string ToJson(const google::protobuf::Message& message);

}  // namespace linebridge::linectl
