#include "linectl/phone_commands.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "linebridge/status_macros.h"
#include "linectl/format.h"

namespace linebridge::linectl {
namespace {

void Print(Context& context, const std::vector<std::string>& lines) {
  for (const std::string& line : lines) context.out << TerminalSafe(line) << '\n';
  context.out.flush();
}

}  // namespace

absl::Status CmdPhones(Context& context) {
  v1::ListPhonesRequest request;
  request.set_line_id(context.invocation.Get("line"));
  LB_ASSIGN_OR_RETURN(v1::ListPhonesResponse response, context.client.ListPhones(request));
  if (context.json()) {
    Print(context, {ToJson(response)});
    return absl::OkStatus();
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::Phone& phone : response.phones()) rows.push_back(PhoneRow(phone));
  Print(context, FormatTable(PhoneHeader(), rows));
  return absl::OkStatus();
}

absl::Status CmdPhoneShow(Context& context) {
  v1::GetPhoneRequest request;
  request.set_phone_id(context.args()[0]);
  LB_ASSIGN_OR_RETURN(v1::Phone phone, context.client.GetPhone(std::move(request)));
  if (context.json()) {
    Print(context, {ToJson(phone)});
    return absl::OkStatus();
  }
  std::vector<std::string> lines = FormatFields(phone, context.zone, {"caps", "status", "buttons"});
  lines.push_back("caps:");
  for (const std::string& field : FormatFields(phone.caps(), context.zone)) {
    lines.push_back(absl::StrCat("  ", field));
  }
  lines.push_back("status:");
  for (const std::string& field : FormatFields(phone.status(), context.zone, {"display"})) {
    lines.push_back(absl::StrCat("  ", field));
  }
  // The display as it looks: one line per row.
  const uint32_t columns = phone.caps().display_columns();
  for (uint32_t row = 0; columns > 0 && row < phone.caps().display_rows(); ++row) {
    const size_t at = size_t{row} * columns;
    if (at >= phone.status().display().size()) break;
    lines.push_back(absl::StrCat("  display[", row, "]: |",
                                 phone.status().display().substr(at, columns), "|"));
  }
  lines.push_back("buttons:");
  for (const v1::PhoneButton& b : phone.buttons()) {
    const int i = static_cast<int>(b.id());
    std::string lamp = i < phone.status().lamp_modes_size()
                           ? EnumName(phone.status().lamp_modes(i))
                           : std::string("-");
    lines.push_back(absl::StrCat("  ", b.id(), ": ", EnumName(b.mode()), "/",
                                 EnumName(b.function()), " \"", b.text(), "\" lamp=", lamp));
  }
  Print(context, lines);
  return absl::OkStatus();
}

}  // namespace linebridge::linectl
