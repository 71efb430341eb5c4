#include "linectl/commands.h"

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "linebridge/status_macros.h"
#include "linectl/format.h"
#include "linectl/health_command.h"
#include "linectl/media_commands.h"
#include "linectl/phone_commands.h"
#include "linectl/security_commands.h"

namespace linebridge::linectl {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void OnSignal(int /*signal*/) { g_interrupted = 1; }

// --- Output -------------------------------------------------------------------

// Every line goes through TerminalSafe: names, caller ids and messages come
// from the server and may carry terminal controls.
void PrintLine(Context& context, absl::string_view line) {
  context.out << TerminalSafe(line) << '\n';
  context.out.flush();
}

void PrintLines(Context& context, const std::vector<std::string>& lines) {
  for (const std::string& line : lines) context.out << TerminalSafe(line) << '\n';
  context.out.flush();
}

void PrintJson(Context& context, const google::protobuf::Message& message) {
  PrintLine(context, ToJson(message));
}

bool MultiServer(const Context& context) { return context.client.num_servers() > 1; }

// A table; with several servers the rows carry a leading SERVER column
// (`servers[i]` is the server index of rows[i]).
void PrintTable(Context& context, std::vector<std::string> header,
                std::vector<std::vector<std::string>> rows,
                const std::vector<size_t>& servers = {}) {
  if (MultiServer(context) && servers.size() == rows.size()) {
    header.insert(header.begin(), "SERVER");
    for (size_t i = 0; i < rows.size(); ++i) {
      rows[i].insert(rows[i].begin(), context.client.connection(servers[i]).address());
    }
  }
  PrintLines(context, FormatTable(header, rows));
}

void PrintCall(Context& context, const v1::Call& call, absl::string_view label = "call") {
  if (context.json()) return PrintJson(context, call);
  PrintLine(context, FormatCallLine(call, label));
}

// A new call: `call <id> <state>` then its parties.
void PrintCallDetails(Context& context, const v1::Call& call) {
  if (context.json()) return PrintJson(context, call);
  const v1::CallInfo& info = call.info();
  PrintLines(context, {FormatCallLine(call), absl::StrCat("  line: ", info.line_id()),
                       absl::StrCat("  origin: ", EnumName(info.origin())),
                       absl::StrCat("  media: ", EnumName(info.media_mode())),
                       absl::StrCat("  caller: ", FormatParty(info.caller())),
                       absl::StrCat("  called: ", FormatParty(info.called()))});
}

absl::Status PrintCallResult(Context& context, const absl::StatusOr<v1::Call>& call) {
  if (!call.ok()) return call.status();
  PrintCall(context, *call);
  return absl::OkStatus();
}

// --- Argument helpers -----------------------------------------------------------

absl::Status ParseCount(const Context& context, absl::string_view flag, uint32_t* value) {
  std::string text = context.invocation.Get(flag);
  if (text.empty()) return absl::OkStatus();
  if (!absl::SimpleAtoi(text, value)) {
    return UsageError(absl::StrCat("--", flag, " needs a number, not \"", text, "\""));
  }
  return absl::OkStatus();
}

absl::Status ParseMedia(absl::string_view text, v1::MediaMode* mode) {
  if (text == "voice") {
    *mode = v1::MEDIA_MODE_INTERACTIVE_VOICE;
  } else if (text == "data") {
    *mode = v1::MEDIA_MODE_DATAMODEM;
  } else if (text == "fax") {
    *mode = v1::MEDIA_MODE_G3FAX;
  } else {
    int value = 0;
    if (!ParseEnumName(v1::MediaMode_descriptor(), text, &value)) {
      return UsageError(absl::StrCat("unknown media mode \"", text, "\""));
    }
    *mode = static_cast<v1::MediaMode>(value);
  }
  return absl::OkStatus();
}

// Runs `rpc` on every server; the first failure (naming its server) wins.
template <typename Response, typename Request>
absl::StatusOr<std::vector<Response>> EachServer(
    Context& context,
    absl::StatusOr<Response> (Connection::*rpc)(const Request&, const CallOptions&),
    const Request& request) {
  std::vector<Response> responses;
  for (size_t server = 0; server < context.client.num_servers(); ++server) {
    Connection& connection = context.client.connection(server);
    absl::StatusOr<Response> response = (connection.*rpc)(request, CallOptions());
    if (!response.ok()) {
      return MultiServer(context) ? AnnotateStatus(response.status(), connection.address())
                                  : response.status();
    }
    responses.push_back(*std::move(response));
  }
  return responses;
}

// --- Server commands --------------------------------------------------------------

absl::Status CmdStatus(Context& context) {
  LB_ASSIGN_OR_RETURN(
      std::vector<v1::ServerStatus> statuses,
      EachServer(context, &Connection::GetServerStatus, v1::GetServerStatusRequest()));
  for (size_t server = 0; server < statuses.size(); ++server) {
    if (context.json()) {
      PrintJson(context, statuses[server]);
      continue;
    }
    if (MultiServer(context)) {
      PrintLine(context, absl::StrCat(server > 0 ? "\n" : "",
                                      "server: ", context.client.connection(server).address()));
    }
    PrintLines(context, FormatFields(statuses[server], context.zone));
  }
  return absl::OkStatus();
}

absl::Status CmdPing(Context& context) {
  for (size_t server = 0; server < context.client.num_servers(); ++server) {
    Connection& connection = context.client.connection(server);
    const absl::Time start = absl::Now();
    absl::StatusOr<v1::PingResponse> pong = connection.Ping(v1::PingRequest());
    const double ms = absl::ToDoubleMilliseconds(absl::Now() - start);
    if (!pong.ok()) {
      return MultiServer(context) ? AnnotateStatus(pong.status(), connection.address())
                                  : pong.status();
    }
    PrintLine(context,
              context.json()
                  ? absl::StrFormat(R"({"server":"%s","rtt_ms":%.3f})", connection.address(), ms)
                  : absl::StrFormat("pong from %s: time=%.3f ms", connection.address(), ms));
  }
  return absl::OkStatus();
}

absl::Status CmdSessions(Context& context) {
  LB_ASSIGN_OR_RETURN(std::vector<v1::ListSessionsResponse> responses,
                      EachServer(context, &Connection::ListSessions, v1::ListSessionsRequest()));
  v1::ListSessionsResponse merged;
  std::vector<std::vector<std::string>> rows;
  std::vector<size_t> servers;
  for (size_t server = 0; server < responses.size(); ++server) {
    merged.MergeFrom(responses[server]);
    for (const v1::Session& session : responses[server].sessions()) {
      rows.push_back(SessionRow(session, context.zone));
      servers.push_back(server);
    }
  }
  if (context.json()) {
    PrintJson(context, merged);
  } else {
    PrintTable(context, SessionHeader(), std::move(rows), servers);
  }
  return absl::OkStatus();
}

absl::Status CmdReload(Context& context) {
  LB_ASSIGN_OR_RETURN(std::vector<v1::ReloadConfigResponse> responses,
                      EachServer(context, &Connection::ReloadConfig, v1::ReloadConfigRequest()));
  for (const v1::ReloadConfigResponse& response : responses) {
    if (context.json()) {
      PrintJson(context, response);
      continue;
    }
    std::vector<std::string> lines;
    for (const std::string& line : response.lines_added()) lines.push_back("added " + line);
    for (const std::string& line : response.lines_removed()) lines.push_back("removed " + line);
    PrintLines(context, lines.empty() ? std::vector<std::string>{"no line changes"} : lines);
  }
  return absl::OkStatus();
}

absl::Status CmdCdr(Context& context) {
  v1::ListCallRecordsRequest request;
  request.set_line_id(context.invocation.Get("line"));
  // Servers sharing a PostgreSQL store list the whole fleet's records.
  request.set_server_id(context.invocation.Get("server"));
  uint32_t limit = 0;
  LB_RETURN_IF_ERROR(ParseCount(context, "limit", &limit));
  request.set_limit(limit);
  LB_ASSIGN_OR_RETURN(std::vector<v1::ListCallRecordsResponse> responses,
                      EachServer(context, &Connection::ListCallRecords, request));
  std::vector<std::pair<size_t, v1::CallRecord>> records;
  for (size_t server = 0; server < responses.size(); ++server) {
    for (const v1::CallRecord& record : responses[server].records()) {
      records.emplace_back(server, record);
    }
  }
  if (MultiServer(context)) {  // newest first across servers, then the limit
    std::stable_sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
      return a.second.started().seconds() > b.second.started().seconds();
    });
    records.resize(std::min<size_t>(records.size(), limit == 0 ? 100 : limit));
  }
  if (context.json()) {
    v1::ListCallRecordsResponse merged;
    for (const auto& [server, record] : records) *merged.add_records() = record;
    if (!MultiServer(context))
      merged.set_next_before_record_id(responses[0].next_before_record_id());
    PrintJson(context, merged);
    return absl::OkStatus();
  }
  std::vector<std::vector<std::string>> rows;
  std::vector<size_t> servers;
  for (const auto& [server, record] : records) {
    rows.push_back(CallRecordRow(record, context.zone));
    servers.push_back(server);
  }
  PrintTable(context, CallRecordHeader(), std::move(rows), servers);
  return absl::OkStatus();
}

// --- Lines --------------------------------------------------------------------------

absl::StatusOr<v1::Line> GetLine(Context& context) {
  v1::GetLineRequest request;
  request.set_line_id(context.args()[0]);
  return context.client.GetLine(std::move(request));
}

absl::Status CmdLines(Context& context) {
  LB_ASSIGN_OR_RETURN(v1::ListLinesResponse response, context.client.ListLines());
  if (context.json()) {
    PrintJson(context, response);
    return absl::OkStatus();
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::Line& line : response.lines()) rows.push_back(LineRow(line));
  PrintTable(context, LineHeader(), std::move(rows));
  return absl::OkStatus();
}

absl::Status CmdLineCaps(Context& context) {
  LB_ASSIGN_OR_RETURN(v1::Line line, GetLine(context));
  if (context.json()) {
    line.clear_status();
    PrintJson(context, line);
    return absl::OkStatus();
  }
  std::vector<std::string> lines =
      FormatFields(line, context.zone, {"caps", "addresses", "status"});
  for (std::string& caps : FormatFields(line.caps(), context.zone)) {
    lines.push_back(std::move(caps));
  }
  for (const v1::Address& address : line.addresses()) {
    lines.push_back(absl::StrCat("address[", address.index(), "]: ", address.address()));
    for (const std::string& caps : FormatFields(address.caps(), context.zone)) {
      lines.push_back(absl::StrCat("  ", caps));
    }
  }
  PrintLines(context, lines);
  return absl::OkStatus();
}

absl::Status CmdLineStatus(Context& context) {
  LB_ASSIGN_OR_RETURN(v1::Line line, GetLine(context));
  if (context.json()) {
    PrintJson(context, line.status());
  } else {
    PrintLines(context, FormatFields(line.status(), context.zone));
  }
  return absl::OkStatus();
}

// --- Calls --------------------------------------------------------------------------

absl::Status CmdCalls(Context& context) {
  v1::ListCallsRequest request;
  if (!context.args().empty()) request.set_line_id(context.args()[0]);
  LB_ASSIGN_OR_RETURN(v1::ListCallsResponse response, context.client.ListCalls(request));
  if (context.json()) {
    PrintJson(context, response);
    return absl::OkStatus();
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::Call& call : response.calls()) rows.push_back(CallRow(call));
  PrintTable(context, CallHeader(), std::move(rows));
  return absl::OkStatus();
}

absl::Status CmdMake(Context& context) {
  v1::MakeCallRequest request;
  request.set_line_id(context.args()[0]);
  request.set_destination(context.args()[1]);
  v1::MediaMode media = v1::MEDIA_MODE_UNSPECIFIED;
  if (context.invocation.Has("media")) {
    LB_RETURN_IF_ERROR(ParseMedia(context.invocation.Get("media"), &media));
  } else {
    // The line's first media mode (voice on a phone line, data on a data/fax
    // modem), so that a plain `call make` works on every line. A line this
    // client cannot read is left to MakeCall to refuse.
    absl::StatusOr<v1::Line> line = GetLine(context);
    if (line.ok() && line->caps().media_modes_size() > 0) {
      media = static_cast<v1::MediaMode>(line->caps().media_modes(0));
    }
  }
  request.mutable_params()->set_media_mode(media);
  request.mutable_params()->set_user_user_info(context.invocation.Get("uui"));
  LB_ASSIGN_OR_RETURN(v1::Call call, context.client.MakeCall(std::move(request)));
  PrintCallDetails(context, call);
  return absl::OkStatus();
}

absl::Status CmdDial(Context& context) {
  v1::DialRequest request;
  request.set_call_id(context.args()[0]);
  request.set_destination(context.args()[1]);
  return PrintCallResult(context, context.client.Dial(std::move(request)));
}

// accept, answer, drop, hold, unhold, conference-remove.
template <auto kMethod>
absl::Status CmdCallAction(Context& context) {
  v1::CallActionRequest request;
  request.set_call_id(context.args()[0]);
  request.set_user_user_info(context.invocation.Get("uui"));
  return PrintCallResult(context, (context.client.*kMethod)(std::move(request), CallOptions()));
}

// redirect, transfer (blind): <call> <destination>.
template <typename Request, auto kMethod>
absl::Status CmdCallToDestination(Context& context) {
  Request request;
  request.set_call_id(context.args()[0]);
  request.set_destination(context.args()[1]);
  return PrintCallResult(context, (context.client.*kMethod)(std::move(request), CallOptions()));
}

absl::Status CmdTransferSetup(Context& context) {
  v1::SetupTransferRequest request;
  request.set_call_id(context.args()[0]);
  LB_ASSIGN_OR_RETURN(v1::SetupTransferResponse response,
                      context.client.SetupTransfer(std::move(request)));
  if (context.json()) {
    PrintJson(context, response);
  } else {
    PrintCall(context, response.consultation(), "consultation");
  }
  return absl::OkStatus();
}

absl::Status CmdTransferComplete(Context& context) {
  v1::CompleteTransferRequest request;
  request.set_call_id(context.args()[0]);
  request.set_consultation_call_id(context.args()[1]);
  request.set_mode(context.invocation.Has("conference") ? v1::TRANSFER_MODE_CONFERENCE
                                                        : v1::TRANSFER_MODE_TRANSFER);
  LB_ASSIGN_OR_RETURN(v1::CompleteTransferResponse response,
                      context.client.CompleteTransfer(std::move(request)));
  if (context.json()) {
    PrintJson(context, response);
  } else if (response.has_conference()) {
    PrintCall(context, response.conference(), "conference");
  } else {
    PrintLine(context, "transferred");
  }
  return absl::OkStatus();
}

absl::Status CmdConference(Context& context) {
  v1::SetupConferenceRequest request;
  request.set_call_id(context.args()[0]);
  LB_ASSIGN_OR_RETURN(v1::SetupConferenceResponse response,
                      context.client.SetupConference(std::move(request)));
  if (context.json()) {
    PrintJson(context, response);
  } else {
    PrintLines(context, {FormatCallLine(response.conference(), "conference"),
                         FormatCallLine(response.consultation(), "consultation")});
  }
  return absl::OkStatus();
}

absl::Status CmdConferencePrepare(Context& context) {
  v1::PrepareAddToConferenceRequest request;
  request.set_conference_call_id(context.args()[0]);
  LB_ASSIGN_OR_RETURN(v1::Call call, context.client.PrepareAddToConference(std::move(request)));
  PrintCall(context, call, "consultation");
  return absl::OkStatus();
}

absl::Status CmdConferenceAdd(Context& context) {
  v1::AddToConferenceRequest request;
  request.set_conference_call_id(context.args()[0]);
  request.set_call_id(context.args()[1]);
  return PrintCallResult(context, context.client.AddToConference(std::move(request)));
}

absl::Status CmdPark(Context& context) {
  v1::ParkRequest request;
  request.set_call_id(context.args()[0]);
  if (context.args().size() > 1) {
    request.set_mode(v1::PARK_MODE_DIRECTED);
    request.set_destination(context.args()[1]);
  } else {
    request.set_mode(v1::PARK_MODE_NONDIRECTED);
  }
  LB_ASSIGN_OR_RETURN(v1::ParkResponse response, context.client.Park(std::move(request)));
  if (context.json()) {
    PrintJson(context, response);
  } else {
    PrintLine(context, absl::StrCat("parked ", response.park_address()));
  }
  return absl::OkStatus();
}

absl::Status CmdUnpark(Context& context) {
  v1::UnparkRequest request;
  request.set_line_id(context.args()[0]);
  request.set_park_address(context.args()[1]);
  LB_ASSIGN_OR_RETURN(v1::Call call, context.client.Unpark(std::move(request)));
  PrintCallDetails(context, call);
  return absl::OkStatus();
}

absl::Status CmdPickup(Context& context) {
  v1::PickupRequest request;
  request.set_line_id(context.args()[0]);
  request.set_destination(context.args()[1]);
  LB_ASSIGN_OR_RETURN(v1::Call call, context.client.Pickup(std::move(request)));
  PrintCallDetails(context, call);
  return absl::OkStatus();
}

absl::Status CmdForward(Context& context) {
  const std::vector<std::string>& args = context.args();
  v1::SetLineForwardingRequest request;
  request.set_line_id(args[0]);
  if (args[1] == "off") {
    if (args.size() != 2) return UsageError("\"off\" takes no destination");
  } else {
    int mode = 0;
    if (args[1] == "noanswer") {
      mode = v1::FORWARD_MODE_NOANSW;
    } else if (!ParseEnumName(v1::ForwardMode_descriptor(), args[1], &mode) ||
               mode == v1::FORWARD_MODE_UNSPECIFIED) {
      return UsageError(absl::StrCat("unknown forwarding mode \"", args[1], "\""));
    }
    if (args.size() != 3) return UsageError("missing destination");
    v1::ForwardRule* rule = request.add_rules();
    rule->set_mode(static_cast<v1::ForwardMode>(mode));
    rule->set_destination(args[2]);
    uint32_t rings = 0;
    LB_RETURN_IF_ERROR(ParseCount(context, "rings", &rings));
    rule->set_num_rings(rings);
  }
  LB_ASSIGN_OR_RETURN(v1::Line line, context.client.SetLineForwarding(std::move(request)));
  if (context.json()) {
    PrintJson(context, line);
  } else {
    PrintLine(context, absl::StrCat("forwarding ", FormatForwarding(line.status().forwarding())));
  }
  return absl::OkStatus();
}

absl::Status CmdDigits(Context& context) {
  v1::GenerateDigitsRequest request;
  request.set_call_id(context.args()[0]);
  request.set_digits(context.args()[1]);
  request.set_mode(v1::DIGIT_MODE_DTMF);
  return PrintCallResult(context, context.client.GenerateDigits(std::move(request)));
}

absl::Status CmdMonitorDigits(Context& context) {
  v1::MonitorDigitsRequest request;
  request.set_call_id(context.args()[0]);
  const std::string& toggle = context.args()[1];
  if (toggle == "on") {
    request.add_modes(v1::DIGIT_MODE_DTMF);
  } else if (toggle != "off") {
    return UsageError(absl::StrCat("expected on or off, not \"", toggle, "\""));
  }
  return PrintCallResult(context, context.client.MonitorDigits(std::move(request)));
}

// --- watch ----------------------------------------------------------------------------

class Watcher {
 public:
  Watcher(Context& context, uint32_t count) : context_(context), count_(count) {}

  void OnBatch(size_t /*server*/, const v1::EventBatch& batch) {
    absl::MutexLock lock(&mu_);
    if (batch.has_snapshot()) {
      if (context_.json()) {
        v1::EventBatch snapshot = batch;
        snapshot.clear_events();
        PrintJson(context_, snapshot);
      } else {
        PrintLines(context_, FormatSnapshot(batch));
      }
      if (Counted()) return;
    }
    for (const v1::Event& event : batch.events()) {
      if (done_) return;
      if (context_.json()) {
        PrintJson(context_, event);
      } else {
        PrintLine(context_, FormatEvent(event));
      }
      if (Counted()) return;
    }
  }

  void OnState(const StreamState& state) {
    if (state.kind != StreamState::Kind::kDisconnected) return;
    std::string line = FormatDisconnected(state.reason, state.retry_in);
    if (MultiServer(context_)) {
      absl::StrAppend(&line, " [", context_.client.connection(state.server).address(), "]");
    }
    absl::MutexLock lock(&mu_);
    if (done_) return;
    // Keep stdout pure JSON in --json mode.
    std::ostream& stream = context_.json() ? context_.err : context_.out;
    stream << line << '\n';
    stream.flush();
  }

  // Waits for the count, the deadline or a signal.
  void Wait(absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    while (!done_ && !g_interrupted && absl::Now() < deadline) {
      mu_.AwaitWithTimeout(absl::Condition(&done_),
                           std::min(absl::Milliseconds(100), deadline - absl::Now()));
    }
    done_ = true;
  }

 private:
  bool Counted() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (count_ > 0 && ++seen_ >= count_) done_ = true;
    return done_;
  }

  Context& context_;
  const uint32_t count_;
  absl::Mutex mu_;
  uint32_t seen_ ABSL_GUARDED_BY(mu_) = 0;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

absl::Status CmdWatch(Context& context) {
  uint32_t count = 0;
  LB_RETURN_IF_ERROR(ParseCount(context, "count", &count));
  absl::Duration duration = absl::InfiniteDuration();
  if (context.invocation.Has("duration")) {
    std::string text = context.invocation.Get("duration");
    if (!ParseTimeout(text, &duration)) {
      return UsageError(absl::StrCat("bad --duration \"", text, "\""));
    }
  }
  SubscribeOptions options;
  options.line_ids = context.invocation.GetAll("line");
  Watcher watcher(context, count);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::unique_ptr<Subscription> subscription = context.client.Subscribe(
      std::move(options),
      [&watcher](size_t server, const v1::EventBatch& batch) { watcher.OnBatch(server, batch); },
      [&watcher](const StreamState& state) { watcher.OnState(state); });
  watcher.Wait(absl::Now() + duration);
  subscription->Stop();
  return absl::OkStatus();
}

// --- The table ------------------------------------------------------------------------

const CommandSpec kCommands[] = {
    {"status", "", 0, 0, "", "server status", &CmdStatus},
    {"ping", "", 0, 0, "", "round trip time to each server", &CmdPing},
    {"health", "[--service NAME]", 0, 0, "service=",
     "standard gRPC health check (exit 0 only if SERVING; needs no credentials)", &CmdHealth},
    {"sessions", "", 0, 0, "", "table of sessions", &CmdSessions},
    {"reload", "", 0, 0, "", "reload the configuration (lines added/removed)", &CmdReload},
    {"lines", "[list]", 0, 0, "", "table of lines", &CmdLines},
    {"lines list", "", 0, 0, "", "same as lines", &CmdLines},
    {"lines caps", "<line>", 1, 1, "", "line and address capabilities", &CmdLineCaps},
    {"lines status", "<line>", 1, 1, "", "line status", &CmdLineStatus},
    {"phones", "[list] [--line LINE]", 0, 0, "line=", "table of phones", &CmdPhones},
    {"phones list", "[--line LINE]", 0, 0, "line=", "same as phones", &CmdPhones},
    {"phones show", "<phone>", 1, 1, "", "a phone: caps, status, display and buttons",
     &CmdPhoneShow},
    {"calls", "[<line>]", 0, 1, "", "table of calls", &CmdCalls},
    {"call make", "<line> <destination> [--media voice|data|fax] [--uui TEXT]", 2, 2,
     "media= uui=", "make a call (default media: the line's first)", &CmdMake},
    {"call dial", "<call> <digits>", 2, 2, "", "dial on a call", &CmdDial},
    {"call accept", "<call> [--uui TEXT]", 1, 1, "uui=", "accept an offered call",
     &CmdCallAction<&Client::Accept>},
    {"call answer", "<call> [--uui TEXT]", 1, 1, "uui=", "answer a call",
     &CmdCallAction<&Client::Answer>},
    {"call drop", "<call> [--uui TEXT]", 1, 1, "uui=", "drop a call",
     &CmdCallAction<&Client::Drop>},
    {"call hold", "<call> [--uui TEXT]", 1, 1, "uui=", "put a call on hold",
     &CmdCallAction<&Client::Hold>},
    {"call unhold", "<call> [--uui TEXT]", 1, 1, "uui=", "retrieve a held call",
     &CmdCallAction<&Client::Unhold>},
    {"call redirect", "<call> <destination>", 2, 2, "", "redirect an offered call",
     &CmdCallToDestination<v1::RedirectRequest, &Client::Redirect>},
    {"call transfer", "<call> <destination>", 2, 2, "", "blind transfer",
     &CmdCallToDestination<v1::BlindTransferRequest, &Client::BlindTransfer>},
    {"call transfer-setup", "<call>", 1, 1, "", "hold the call, make a consultation call",
     &CmdTransferSetup},
    {"call transfer-complete", "<call> <consultation> [--conference]", 2, 2, "conference",
     "complete a transfer (or make it a conference)", &CmdTransferComplete},
    {"call conference", "<call>", 1, 1, "", "set up a conference", &CmdConference},
    {"call conference-prepare", "<conference>", 1, 1, "",
     "a consultation call to add to the conference", &CmdConferencePrepare},
    {"call conference-add", "<conference> <call>", 2, 2, "", "add a call to a conference",
     &CmdConferenceAdd},
    {"call conference-remove", "<call>", 1, 1, "", "remove a party from its conference",
     &CmdCallAction<&Client::RemoveFromConference>},
    {"call park", "<call> [<orbit>]", 1, 2, "", "park (directed if an orbit is given)", &CmdPark},
    {"call unpark", "<line> <orbit>", 2, 2, "", "retrieve a parked call", &CmdUnpark},
    {"call pickup", "<line> <extension>", 2, 2, "", "pick up a ringing call", &CmdPickup},
    {"call forward", "<line> uncond|busy|noanswer <destination> [--rings N] | <line> off", 2, 3,
     "rings=", "set or cancel forwarding", &CmdForward},
    {"call digits", "<call> <digits>", 2, 2, "", "send DTMF digits", &CmdDigits},
    {"call monitor-digits", "<call> on|off", 2, 2, "", "report received digits as events",
     &CmdMonitorDigits},
    {"media tone", "<call> beep|billing|busy|ringback|HZ[+HZ] [--duration 2s] [--on MS] [--off MS]",
     2, 2, "duration= on= off=", "play a tone into a call (the far end hears it)", &CmdMediaTone},
    {"media digits", "<call> <digits>", 2, 2, "", "play DTMF digits into a call's audio",
     &CmdMediaDigits},
    {"media gather", "<call> [--max N] [--term DIGITS] [--first-timeout 5s] [--inter-timeout 3s]",
     1, 1, "max= term= first-timeout= inter-timeout=",
     "the server gathers the DTMF digits the call hears (prints them and why it ended)",
     &CmdMediaGather},
    {"media record", "<call> <file.wav> [--duration 10s]", 2, 2, "duration=",
     "record what a call hears (8 kHz 16-bit mono WAV)", &CmdMediaRecord},
    {"media play", "<call> <file.wav>", 2, 2, "", "play a mono 8 or 16 kHz WAV into a call",
     &CmdMediaPlay},
    {"media play-file", "<call> <name.wav> [--no-wait]", 2, 2, "no-wait",
     "play a WAV file of the server's media directory into a call", &CmdMediaPlayFile},
    {"media record-file", "<call> <name.wav> [--max-ms N] [--silence-ms N] [--both] [--no-wait]",
     2, 2, "max-ms= silence-ms= both no-wait",
     "record a call into a WAV file of the server's recordings directory", &CmdMediaRecordFile},
    {"media stop-file", "<line> <job>", 2, 2, "", "stop a play-file or record-file job",
     &CmdMediaStopFile},
    {"watch", "[--line L]... [--count N] [--duration 10s]", 0, 0,
     "line= count= duration=", "live events (reconnects and resumes)", &CmdWatch},
    {"cdr", "[--line L] [--server ID] [--limit N]", 0, 0, "line= server= limit=",
     "call-detail records (of the whole fleet on a shared store; --server: one server's)",
     &CmdCdr},
    {"whoami", "", 0, 0, "", "the principal this client acts as", &CmdWhoAmI},
    {"principal add", "<name> [--role admin|user] [--display-name TEXT] [--update]", 1, 1,
     "role= display-name= update", "add (or --update) a principal", &CmdPrincipalAdd},
    {"principal list", "", 0, 0, "", "principals, roles and lines", &CmdPrincipalList},
    {"principal remove", "<name>", 1, 1, "", "remove a principal, its lines and tokens",
     &CmdPrincipalRemove},
    {"assign", "<principal> <line> [--control] [--originate]", 2, 2, "control originate",
     "let a principal monitor (and control / originate on) a line", &CmdAssign},
    {"unassign", "<principal> <line>", 2, 2, "", "take a line away from a principal",
     &CmdUnassign},
    {"token issue", "--principal NAME [--ttl 90d] [--description TEXT]", 0, 0,
     "principal= ttl= description=", "issue a bearer token (printed once)", &CmdTokenIssue},
    {"token revoke", "<token-id>", 1, 1, "", "revoke a token", &CmdTokenRevoke},
    {"token list", "[--principal NAME]", 0, 0, "principal=", "tokens (ids, never secrets)",
     &CmdTokenList},
    {"audit", "[--principal NAME] [--server ID] [--since 1h|RFC3339] [--limit N] [--before ID]",
     0, 0, "principal= server= since= limit= before=",
     "the audit log, newest first (paged; the whole fleet on a shared store)", &CmdAudit},
    {"tsec import", "<file.xml>", 1, 1, "", "import tsecimp XML (users and their lines)",
     &CmdTsecImport},
    {"tsec export", "[<file.xml>|-]", 0, 1, "", "export assignments as tsecimp XML",
     &CmdTsecExport},
};

}  // namespace

absl::Span<const CommandSpec> Commands() { return kCommands; }

}  // namespace linebridge::linectl
