#include "linectl/format.h"

#include "linebridge/printable.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "linebridge/lineerr.h"

namespace linebridge::linectl {

std::string TerminalSafe(absl::string_view s) { return EscapeControl(s); }
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The prefix every value name of the enum shares, cut after an underscore.
std::string CommonPrefix(const EnumDescriptor* descriptor) {
  if (descriptor->value_count() == 0) return "";
  std::string prefix = descriptor->value(0)->name();
  for (int i = 1; i < descriptor->value_count(); ++i) {
    const std::string& name = descriptor->value(i)->name();
    size_t n = 0;
    while (n < prefix.size() && n < name.size() && prefix[n] == name[n]) ++n;
    prefix.resize(n);
  }
  if (descriptor->value_count() == 1) prefix.pop_back();  // keep something of the name
  size_t underscore = prefix.rfind('_');
  return underscore == std::string::npos ? "" : prefix.substr(0, underscore + 1);
}

std::string Quote(absl::string_view text) { return absl::StrCat("\"", text, "\""); }

std::string OrDash(std::string text) { return text.empty() ? "-" : text; }

bool IsTimestamp(const FieldDescriptor* field) {
  return field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
         field->message_type()->full_name() == "google.protobuf.Timestamp";
}

google::protobuf::Timestamp AsTimestamp(const Message& message) {
  google::protobuf::Timestamp timestamp;
  timestamp.CopyFrom(message);
  return timestamp;
}

// One scalar value (index < 0: the singular field).
std::string ScalarText(const Message& message, const FieldDescriptor* field, int index) {
  const Reflection* reflection = message.GetReflection();
  const bool repeated = index >= 0;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_ENUM:
      return EnumName(field->enum_type(),
                      repeated ? reflection->GetRepeatedEnumValue(message, field, index)
                               : reflection->GetEnumValue(message, field));
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string value = repeated ? reflection->GetRepeatedString(message, field, index)
                                   : reflection->GetString(message, field);
      if (field->type() == FieldDescriptor::TYPE_BYTES && !value.empty()) {
        return Quote(absl::CHexEscape(value));
      }
      return OrDash(std::move(value));
    }
    default: {
      std::string text;
      google::protobuf::TextFormat::Printer().PrintFieldValueToString(message, field, index, &text);
      return text;
    }
  }
}

void AppendFields(const Message& message, absl::TimeZone zone, const std::string& indent,
                  const std::vector<std::string>& skip, std::vector<std::string>* out) {
  const Descriptor* descriptor = message.GetDescriptor();
  const Reflection* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (std::find(skip.begin(), skip.end(), field->name()) != skip.end()) continue;
    const std::string key = absl::StrCat(indent, field->name());
    const bool nested_messages =
        field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !IsTimestamp(field);
    if (field->is_repeated()) {
      const int size = reflection->FieldSize(message, field);
      if (nested_messages && size > 0) {
        for (int j = 0; j < size; ++j) {
          out->push_back(absl::StrCat(key, "[", j, "]:"));
          AppendFields(reflection->GetRepeatedMessage(message, field, j), zone, indent + "  ", {},
                       out);
        }
        continue;
      }
      std::vector<std::string> values;
      for (int j = 0; j < size; ++j) {
        values.push_back(
            IsTimestamp(field)
                ? FormatTimestamp(AsTimestamp(reflection->GetRepeatedMessage(message, field, j)),
                                  zone)
                : ScalarText(message, field, j));
      }
      out->push_back(absl::StrCat(key, ": ", values.empty() ? "-" : absl::StrJoin(values, ", ")));
    } else if (IsTimestamp(field)) {
      out->push_back(absl::StrCat(
          key, ": ", FormatTimestamp(AsTimestamp(reflection->GetMessage(message, field)), zone)));
    } else if (nested_messages) {
      out->push_back(absl::StrCat(key, ":"));
      AppendFields(reflection->GetMessage(message, field), zone, indent + "  ", {}, out);
    } else {
      out->push_back(absl::StrCat(key, ": ", ScalarText(message, field, -1)));
    }
  }
}

bool PartyEmpty(const v1::PartyId& party) {
  return party.number().empty() && party.name().empty() && !party.blocked();
}

// The oneof case name of an event ("call_state"), from the descriptor.
std::string EventKind(const v1::Event& event) {
  const google::protobuf::OneofDescriptor* oneof = v1::Event::descriptor()->FindOneofByName("kind");
  const FieldDescriptor* field = event.GetReflection()->GetOneofFieldDescriptor(event, oneof);
  return field == nullptr ? "unknown" : field->name();
}

std::string EventDetails(const v1::Event& event) {
  switch (event.kind_case()) {
    case v1::Event::kLineCreated:
      return event.line_created().line().id();
    case v1::Event::kLineRemoved:
      return event.line_removed().line_id();
    case v1::Event::kLineState: {
      const v1::LineStatus& status = event.line_state().status();
      return absl::StrCat(EnumName(status.state()), " active=", status.num_active_calls(),
                          " held=", status.num_on_hold_calls(), " opens=", status.num_opens(),
                          status.connected() ? "" : " disconnected");
    }
    case v1::Event::kAddressState: {
      const v1::AddressStateChanged& state = event.address_state();
      return absl::StrCat("address=", state.address_index(), " active=", state.num_active_calls(),
                          " forwarding=", FormatForwarding(state.forwarding()));
    }
    case v1::Event::kCallCreated:
      return FormatCallSummary(event.call_created().call());
    case v1::Event::kCallState: {
      const v1::CallStateChanged& state = event.call_state();
      std::string details =
          absl::StrCat("call=", state.call_id(), " ", FormatCallState(state.status()));
      if (state.media_mode() != v1::MEDIA_MODE_UNSPECIFIED) {
        absl::StrAppend(&details, " media=", EnumName(state.media_mode()));
      }
      return details;
    }
    case v1::Event::kCallInfo:
      return absl::StrCat("call=", event.call_info().call_id(),
                          " changed=", OrDash(absl::StrJoin(event.call_info().changed(), ",")));
    case v1::Event::kDigit:
      return absl::StrCat("call=", event.digit().call_id(), " ", event.digit().digit());
    case v1::Event::kDigitsGenerated:
      return absl::StrCat("call=", event.digits_generated().call_id(), " ",
                          event.digits_generated().digits(),
                          event.digits_generated().cancelled() ? " cancelled" : " done");
    case v1::Event::kToneGenerated: {
      const v1::ToneGenerated& g = event.tone_generated();
      return absl::StrCat("call=", g.call_id(), " id=", g.end_to_end_id(),
                          g.cancelled() ? " cancelled" : " done");
    }
    case v1::Event::kGatherCompleted: {
      const v1::GatherCompleted& g = event.gather_completed();
      return absl::StrCat("call=", g.call_id(), " id=", g.end_to_end_id(),
                          " digits=", OrDash(g.digits()), " ", EnumName(g.termination()));
    }
    case v1::Event::kToneDetected: {
      const v1::ToneDetected& d = event.tone_detected();
      return absl::StrCat("call=", d.call_id(), " list=", d.tone_list_id(),
                          " app_specific=", d.app_specific());
    }
    case v1::Event::kMediaDetected:
      return absl::StrCat("call=", event.media_detected().call_id(), " ",
                          EnumName(event.media_detected().media_mode()));
    case v1::Event::kDeviceConfig: {
      const v1::DeviceConfig& config = event.device_config().config();
      if (config.has_modem()) return absl::StrCat("modem ", config.modem().ShortDebugString());
      return absl::StrCat("opaque ", config.opaque().size(), " bytes");
    }
    case v1::Event::kPhoneCreated:
      return event.phone_created().phone().id();
    case v1::Event::kPhoneRemoved:
      return event.phone_removed().phone_id();
    case v1::Event::kPhoneState: {
      const v1::PhoneStateChanged& state = event.phone_state();
      const bool lamp = std::find(state.changed().begin(), state.changed().end(),
                                  "lamp_modes") != state.changed().end();
      return absl::StrCat("phone=", event.phone_id(),
                          " changed=", OrDash(absl::StrJoin(state.changed(), ",")),
                          lamp ? absl::StrCat(" lamp=", state.button_lamp_id()) : "");
    }
    case v1::Event::kPhoneData:
      return absl::StrCat("phone=", event.phone_id(), " data=", event.phone_data().data_id(), " (",
                          event.phone_data().data().size(), " bytes)");
    case v1::Event::kPhoneButton: {
      const v1::PhoneButtonEvent& b = event.phone_button();
      return absl::StrCat("phone=", event.phone_id(), " button=", b.button_lamp_id(), " ",
                          EnumName(b.mode()), "/", EnumName(b.function()), " ",
                          EnumName(b.state()));
    }
    case v1::Event::kSessionExpired:
      return event.session_expired().session_id();
    case v1::Event::kServerShutdown:
      return event.server_shutdown().reason();
    case v1::Event::KIND_NOT_SET:
      break;
  }
  return "";
}

}  // namespace

std::string EnumName(const EnumDescriptor* descriptor, int value) {
  const google::protobuf::EnumValueDescriptor* value_descriptor =
      descriptor->FindValueByNumber(value);
  if (value_descriptor == nullptr) return absl::StrCat(value);
  return absl::AsciiStrToLower(
      absl::string_view(value_descriptor->name()).substr(CommonPrefix(descriptor).size()));
}

bool ParseEnumName(const EnumDescriptor* descriptor, absl::string_view name, int* value) {
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* candidate = descriptor->value(i);
    if (absl::EqualsIgnoreCase(name, EnumName(descriptor, candidate->number())) ||
        absl::EqualsIgnoreCase(name, candidate->name())) {
      *value = candidate->number();
      return true;
    }
  }
  return false;
}

std::string FormatCallState(const v1::CallStatus& status) {
  std::string text = EnumName(status.state());
  const google::protobuf::OneofDescriptor* oneof =
      v1::CallStatus::descriptor()->FindOneofByName("mode");
  const Reflection* reflection = status.GetReflection();
  if (const FieldDescriptor* mode = reflection->GetOneofFieldDescriptor(status, oneof)) {
    absl::StrAppend(&text, "(", EnumName(mode->enum_type(), reflection->GetEnumValue(status, mode)),
                    ")");
  }
  return text;
}

std::string FormatParty(const v1::PartyId& party) {
  if (party.blocked()) return "blocked";
  std::vector<std::string> parts;
  if (!party.number().empty()) parts.push_back(party.number());
  if (!party.name().empty()) parts.push_back(Quote(party.name()));
  return parts.empty() ? "-" : absl::StrJoin(parts, " ");
}

std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp, absl::TimeZone zone) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return "-";
  absl::Time time =
      absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", time, zone);
}

std::string FormatDurationMs(uint64_t ms) {
  const uint64_t seconds = ms / 1000;
  const uint64_t hours = seconds / 3600, minutes = seconds / 60 % 60, rest = seconds % 60;
  if (hours > 0) return absl::StrFormat("%d:%02d:%02d", hours, minutes, rest);
  return absl::StrFormat("%d:%02d", minutes, rest);
}

std::string FormatCallLine(const v1::Call& call, absl::string_view label) {
  return absl::StrCat(label, " ", call.id(), " ", FormatCallState(call.status()));
}

std::string FormatCallSummary(const v1::Call& call) {
  std::string text = absl::StrCat("call=", call.id(), " ", FormatCallState(call.status()),
                                  " caller=", FormatParty(call.info().caller()));
  if (!PartyEmpty(call.info().called())) {
    absl::StrAppend(&text, " called=", FormatParty(call.info().called()));
  }
  return text;
}

std::string FormatEvent(const v1::Event& event) {
  std::string details = EventDetails(event);
  return absl::StrCat(event.sequence(), " ", event.line_id().empty() ? "-" : event.line_id(), " ",
                      EventKind(event), details.empty() ? "" : " ", details);
}

std::vector<std::string> FormatSnapshot(const v1::EventBatch& batch) {
  const v1::Snapshot& snapshot = batch.snapshot();
  std::vector<std::string> lines = {absl::StrFormat(
      "-- snapshot (%s) at sequence %d: %d lines, %d calls", EnumName(batch.snapshot_reason()),
      snapshot.sequence(), snapshot.lines_size(), snapshot.calls_size())};
  if (snapshot.phones_size() > 0) absl::StrAppend(&lines[0], ", ", snapshot.phones_size(), " phones");
  for (const v1::Call& call : snapshot.calls()) {
    lines.push_back(
        absl::StrCat("  ", OrDash(call.info().line_id()), " ", FormatCallSummary(call)));
  }
  return lines;
}

std::string FormatDisconnected(const absl::Status& reason, absl::Duration retry_in) {
  std::string why =
      reason.message().empty()
          ? absl::StatusCodeToString(reason.code())
          : absl::StrCat(reason.message(), " (", absl::StatusCodeToString(reason.code()), ")");
  return absl::StrCat("-- disconnected: ", why, "; reconnecting in ",
                      absl::ToInt64Milliseconds(retry_in), " ms");
}

std::string FormatForwarding(const google::protobuf::RepeatedPtrField<v1::ForwardRule>& rules) {
  std::vector<std::string> parts;
  for (const v1::ForwardRule& rule : rules) {
    std::string part = absl::StrCat(EnumName(rule.mode()), " ", OrDash(rule.destination()));
    if (rule.num_rings() > 0) absl::StrAppend(&part, " rings=", rule.num_rings());
    parts.push_back(std::move(part));
  }
  return parts.empty() ? "off" : absl::StrJoin(parts, ", ");
}

std::string FormatError(const absl::Status& status) {
  const uint32_t lineerr = LineErrOf(status);
  absl::string_view name = LineErrName(lineerr);
  return absl::StrCat(status.message().empty() ? "failed" : status.message(), " (",
                      absl::StatusCodeToString(status.code()), ", ",
                      name.empty() ? absl::StrFormat("0x%08X", lineerr) : std::string(name), ")");
}

std::vector<std::string> FormatFields(const Message& message, absl::TimeZone zone,
                                      const std::vector<std::string>& skip) {
  std::vector<std::string> out;
  AppendFields(message, zone, "", skip, &out);
  return out;
}

std::vector<std::string> FormatTable(const std::vector<std::string>& header,
                                     const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  auto measure = [&widths](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);
  auto render = [&widths](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line += "  ";
      line += row[i];
      if (i + 1 < row.size() && i < widths.size()) line.append(widths[i] - row[i].size(), ' ');
    }
    return line;
  };
  std::vector<std::string> lines = {render(header)};
  for (const auto& row : rows) lines.push_back(render(row));
  return lines;
}

std::vector<std::string> LineRow(const v1::Line& line) {
  std::vector<std::string> addresses;
  for (const v1::Address& address : line.addresses()) addresses.push_back(address.address());
  const v1::LineStatus& status = line.status();
  return {line.id(),
          OrDash(line.name()),
          OrDash(line.provider()),
          EnumName(status.state()),
          OrDash(absl::StrJoin(addresses, ",")),
          absl::StrCat(status.num_active_calls() + status.num_on_hold_calls() +
                       status.num_on_hold_pending_calls())};
}

std::vector<std::string> PhoneRow(const v1::Phone& phone) {
  const v1::PhoneStatus& status = phone.status();
  std::vector<std::string> hook;
  if (status.handset_mode() != v1::HOOK_SWITCH_MODE_UNSPECIFIED) {
    hook.push_back(absl::StrCat("handset=", EnumName(status.handset_mode())));
  }
  if (status.speaker_mode() != v1::HOOK_SWITCH_MODE_UNSPECIFIED) {
    hook.push_back(absl::StrCat("speaker=", EnumName(status.speaker_mode())));
  }
  if (status.headset_mode() != v1::HOOK_SWITCH_MODE_UNSPECIFIED) {
    hook.push_back(absl::StrCat("headset=", EnumName(status.headset_mode())));
  }
  return {phone.id(),
          OrDash(phone.name()),
          OrDash(phone.line_id()),
          OrDash(absl::StrJoin(hook, " ")),
          absl::StrCat(status.ring_mode()),
          absl::StrCat(status.num_owners(), "/", status.num_monitors())};
}

std::vector<std::string> CallRow(const v1::Call& call) {
  return {call.id(),
          OrDash(call.info().line_id()),
          FormatCallState(call.status()),
          EnumName(call.info().origin()),
          FormatParty(call.info().caller()),
          FormatParty(call.info().called()),
          FormatParty(call.info().connected())};
}

std::vector<std::string> SessionRow(const v1::Session& session, absl::TimeZone zone) {
  return {session.id(),
          OrDash(session.client_name()),
          FormatTimestamp(session.created(), zone),
          session.attached() ? "yes" : "no",
          OrDash(absl::StrJoin(session.open_lines(), ",")),
          absl::StrCat(session.owned_calls())};
}

std::vector<std::string> CallRecordRow(const v1::CallRecord& record, absl::TimeZone zone) {
  return {absl::StrCat(record.record_id()),
          OrDash(record.call_id()),
          OrDash(record.line_id()),
          EnumName(record.origin()),
          FormatParty(record.caller()),
          FormatParty(record.called()),
          FormatTimestamp(record.started(), zone),
          FormatDurationMs(record.duration_ms()),
          EnumName(record.disposition()),
          OrDash(record.server_id())};
}

std::string ToJson(const Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) return "{}";
  return json;
}

}  // namespace linebridge::linectl
