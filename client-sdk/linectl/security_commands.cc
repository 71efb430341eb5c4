#include "linectl/security_commands.h"

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "linebridge/printable.h"
#include "linebridge/status_macros.h"
#include "linectl/format.h"

namespace linebridge::linectl {
namespace {

Connection& First(Context& context) { return context.client.connection(0); }

void Out(Context& context, absl::string_view line) {
  context.out << TerminalSafe(line) << '\n';
  context.out.flush();
}

void Json(Context& context, const google::protobuf::Message& m) { Out(context, ToJson(m)); }

std::string Perms(const v1::LineGrant& g) {
  std::vector<std::string> p;
  if (g.monitor()) p.push_back("monitor");
  if (g.control()) p.push_back("control");
  if (g.originate()) p.push_back("originate");
  return absl::StrJoin(p, ",");
}

std::string RoleName(v1::Role role) { return role == v1::ROLE_ADMIN ? "admin" : "user"; }

void PrintPrincipal(Context& context, const v1::Principal& p) {
  if (context.json()) return Json(context, p);
  Out(context, absl::StrCat("principal ", p.name(), " role=", RoleName(p.role()),
                            p.display_name().empty() ? "" : " name=\"" + p.display_name() + "\"",
                            p.authenticated_by().empty() ? "" : " via=" + p.authenticated_by()));
  for (const v1::LineGrant& g : p.lines()) {
    Out(context, absl::StrCat("  ", g.line_id(), " ", Perms(g)));
  }
}

absl::Status ParseRole(absl::string_view text, v1::Role* role) {
  if (text.empty() || text == "user") {
    *role = v1::ROLE_USER;
  } else if (text == "admin") {
    *role = v1::ROLE_ADMIN;
  } else {
    return UsageError(absl::StrCat("--role must be admin or user, not \"", text, "\""));
  }
  return absl::OkStatus();
}

}  // namespace

bool ParseTtl(absl::string_view text, uint64_t* seconds) {
  if (text.empty()) return false;
  uint64_t mult = 1;
  switch (text.back()) {
    case 'd':
      mult = 86400;
      break;
    case 'h':
      mult = 3600;
      break;
    case 'm':
      mult = 60;
      break;
    case 's':
      mult = 1;
      break;
    default:
      return absl::SimpleAtoi(text, seconds) && *seconds > 0;
  }
  uint64_t n = 0;
  if (!absl::SimpleAtoi(text.substr(0, text.size() - 1), &n) || n == 0) return false;
  if (n > UINT64_MAX / mult) return false;
  *seconds = n * mult;
  return true;
}

absl::Status CmdWhoAmI(Context& context) {
  LB_ASSIGN_OR_RETURN(v1::Principal p, First(context).WhoAmI(v1::WhoAmIRequest()));
  PrintPrincipal(context, p);
  return absl::OkStatus();
}

absl::Status CmdPrincipalAdd(Context& context) {
  v1::AddPrincipalRequest req;
  req.set_name(context.args()[0]);
  v1::Role role = v1::ROLE_USER;
  LB_RETURN_IF_ERROR(ParseRole(context.invocation.Get("role"), &role));
  req.set_role(role);
  req.set_display_name(context.invocation.Get("display-name"));
  req.set_update(context.invocation.Has("update"));
  LB_ASSIGN_OR_RETURN(v1::Principal p, First(context).AddPrincipal(req));
  PrintPrincipal(context, p);
  return absl::OkStatus();
}

absl::Status CmdPrincipalList(Context& context) {
  LB_ASSIGN_OR_RETURN(v1::ListPrincipalsResponse resp,
                      First(context).ListPrincipals(v1::ListPrincipalsRequest()));
  if (context.json()) {
    Json(context, resp);
    return absl::OkStatus();
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::Principal& p : resp.principals()) {
    std::vector<std::string> lines;
    for (const v1::LineGrant& g : p.lines()) {
      lines.push_back(absl::StrCat(g.line_id(), "(", Perms(g), ")"));
    }
    rows.push_back({p.name(), RoleName(p.role()), p.display_name(), absl::StrJoin(lines, " ")});
  }
  for (const std::string& line : FormatTable({"PRINCIPAL", "ROLE", "NAME", "LINES"}, rows)) {
    Out(context, line);
  }
  return absl::OkStatus();
}

absl::Status CmdPrincipalRemove(Context& context) {
  v1::RemovePrincipalRequest req;
  req.set_name(context.args()[0]);
  LB_RETURN_IF_ERROR(First(context).RemovePrincipal(req).status());
  if (!context.json()) Out(context, absl::StrCat("removed principal ", req.name()));
  return absl::OkStatus();
}

absl::Status CmdAssign(Context& context) {
  v1::AssignRequest req;
  req.set_principal(context.args()[0]);
  v1::LineGrant* g = req.mutable_grant();
  g->set_line_id(context.args()[1]);
  g->set_control(context.invocation.Has("control"));
  g->set_originate(context.invocation.Has("originate"));
  g->set_monitor(true);  // every assignment can at least see the line
  LB_ASSIGN_OR_RETURN(v1::Principal p, First(context).Assign(req));
  PrintPrincipal(context, p);
  return absl::OkStatus();
}

absl::Status CmdUnassign(Context& context) {
  v1::UnassignRequest req;
  req.set_principal(context.args()[0]);
  req.set_line_id(context.args()[1]);
  LB_ASSIGN_OR_RETURN(v1::Principal p, First(context).Unassign(req));
  PrintPrincipal(context, p);
  return absl::OkStatus();
}

absl::Status CmdTokenIssue(Context& context) {
  v1::IssueTokenRequest req;
  req.set_principal(context.invocation.Get("principal"));
  if (req.principal().empty()) return UsageError("--principal is required");
  if (context.invocation.Has("ttl")) {
    uint64_t ttl = 0;
    if (!ParseTtl(context.invocation.Get("ttl"), &ttl)) {
      return UsageError(absl::StrCat("bad --ttl \"", context.invocation.Get("ttl"),
                                     "\" (e.g. 90d, 12h, 30m, 3600)"));
    }
    req.set_ttl_seconds(ttl);
  }
  req.set_description(context.invocation.Get("description"));
  LB_ASSIGN_OR_RETURN(v1::IssueTokenResponse resp, First(context).IssueToken(req));
  if (context.json()) {
    Json(context, resp);
    return absl::OkStatus();
  }
  Out(context, resp.token());
  context.err << "token " << TerminalSafe(resp.info().token_id()) << " for "
              << TerminalSafe(resp.info().principal())
              << " expires " << FormatTimestamp(resp.info().expires(), context.zone)
              << "; it is shown only now: store it (e.g. chmod 600 file; --token-file file)\n";
  return absl::OkStatus();
}

absl::Status CmdTokenRevoke(Context& context) {
  v1::RevokeTokenRequest req;
  req.set_token_id(context.args()[0]);
  LB_ASSIGN_OR_RETURN(v1::TokenInfo info, First(context).RevokeToken(req));
  if (context.json()) return Json(context, info), absl::OkStatus();
  Out(context, absl::StrCat("revoked token ", info.token_id(), " of ", info.principal()));
  return absl::OkStatus();
}

absl::Status CmdTokenList(Context& context) {
  v1::ListTokensRequest req;
  req.set_principal(context.invocation.Get("principal"));
  LB_ASSIGN_OR_RETURN(v1::ListTokensResponse resp, First(context).ListTokens(req));
  if (context.json()) return Json(context, resp), absl::OkStatus();
  std::vector<std::vector<std::string>> rows;
  const absl::Time now = absl::Now();
  for (const v1::TokenInfo& t : resp.tokens()) {
    std::string state = "valid";
    if (t.revoked()) {
      state = "revoked";
    } else if (t.has_expires() && absl::FromUnixSeconds(t.expires().seconds()) <= now) {
      state = "expired";
    }
    rows.push_back({t.token_id(), t.principal(), FormatTimestamp(t.created(), context.zone),
                    t.has_expires() ? FormatTimestamp(t.expires(), context.zone) : "never", state,
                    t.description()});
  }
  for (const std::string& line :
       FormatTable({"TOKEN", "PRINCIPAL", "CREATED", "EXPIRES", "STATE", "DESCRIPTION"}, rows)) {
    Out(context, line);
  }
  return absl::OkStatus();
}

absl::Status CmdAudit(Context& context) {
  v1::ListAuditRequest req;
  req.set_principal(context.invocation.Get("principal"));
  req.set_server_id(context.invocation.Get("server"));
  if (context.invocation.Has("limit")) {
    uint32_t limit = 0;
    if (!absl::SimpleAtoi(context.invocation.Get("limit"), &limit)) {
      return UsageError("--limit needs a number");
    }
    req.set_limit(limit);
  }
  if (context.invocation.Has("since")) {
    const std::string since = context.invocation.Get("since");
    absl::Time t;
    absl::Duration ago;
    std::string err;
    if (absl::ParseDuration(since, &ago)) {
      t = absl::Now() - ago;
    } else if (!absl::ParseTime(absl::RFC3339_full, since, &t, &err)) {
      return UsageError(absl::StrCat("bad --since \"", since,
                                     "\": a duration (1h, 30m) or RFC 3339 time"));
    }
    const int64_t us = absl::ToUnixMicros(t);
    req.mutable_since()->set_seconds(us / 1000000);
    req.mutable_since()->set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
  }
  if (context.invocation.Has("before")) {
    int64_t before = 0;
    if (!absl::SimpleAtoi(context.invocation.Get("before"), &before) || before <= 0) {
      return UsageError("--before needs an audit id");
    }
    req.set_before_audit_id(before);
  }
  // Page by page (the server ends a page at its size bound): the newest
  // `limit` records however large the log's rows are.
  const uint32_t wanted = req.limit() == 0 ? 100 : req.limit();
  v1::ListAuditResponse resp;
  while (static_cast<uint32_t>(resp.records_size()) < wanted) {
    req.set_limit(std::min<uint32_t>(wanted - resp.records_size(), 1000));
    LB_ASSIGN_OR_RETURN(v1::ListAuditResponse page, First(context).ListAudit(req));
    for (v1::AuditRecord& r : *page.mutable_records()) *resp.add_records() = std::move(r);
    resp.set_next_before_audit_id(page.next_before_audit_id());
    if (page.next_before_audit_id() == 0 || page.records_size() == 0) break;
    req.set_before_audit_id(page.next_before_audit_id());
  }
  if (context.json()) return Json(context, resp), absl::OkStatus();
  std::vector<std::vector<std::string>> rows;
  for (const v1::AuditRecord& r : resp.records()) {
    std::string outcome =
        r.code() == 0 ? "OK"
                      : absl::StrCat(r.code(), r.lineerr().empty() ? "" : " ", r.lineerr());
    if (r.count() > 1) absl::StrAppend(&outcome, " x", r.count());
    rows.push_back({absl::StrCat(r.audit_id()), FormatTimestamp(r.time(), context.zone),
                    TerminalSafe(r.principal().empty() ? r.peer() : r.principal()),
                    TerminalSafe(r.operation()), TerminalSafe(r.line_id()),
                    TerminalSafe(r.call_id()), TerminalSafe(outcome), TerminalSafe(r.detail()),
                    TerminalSafe(r.server_id().empty() ? "-" : r.server_id())});
  }
  for (const std::string& line :
       FormatTable({"ID", "TIME", "PRINCIPAL", "OPERATION", "LINE", "CALL", "OUTCOME", "DETAIL",
                    "SERVER"},
                   rows)) {
    Out(context, line);
  }
  if (resp.next_before_audit_id() != 0) {
    context.err << "more: linectl audit --before " << resp.next_before_audit_id() << "\n";
  }
  return absl::OkStatus();
}

// --- tsecimp import and export ----------------------------------------------------

namespace {

// Line ids by PermanentID and by address (the dialable address of the line's
// first address, or the line id itself).
struct LineIndex {
  std::map<std::string, std::string> by_permanent_id, by_address;
  std::map<std::string, std::string> permanent_id_of;
};

absl::StatusOr<LineIndex> IndexLines(Context& context) {
  LB_ASSIGN_OR_RETURN(v1::ListLinesResponse lines, First(context).ListLines(v1::ListLinesRequest()));
  LineIndex index;
  for (const v1::Line& l : lines.lines()) {
    const std::string pid = absl::StrCat(l.caps().permanent_line_id());
    index.by_permanent_id[pid] = l.id();
    index.permanent_id_of[l.id()] = pid;
    index.by_address[l.id()] = l.id();
    for (const v1::Address& a : l.addresses()) {
      if (!a.address().empty()) index.by_address.emplace(a.address(), l.id());
    }
  }
  return index;
}

}  // namespace

absl::Status CmdTsecImport(Context& context) {
  std::ifstream in(context.args()[0], std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", context.args()[0]));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (buffer.str().size() > 16 * 1024 * 1024) {
    return absl::InvalidArgumentError("the XML file is over 16 MiB");
  }
  LB_ASSIGN_OR_RETURN(std::vector<TsecUser> users, ParseTsecXml(buffer.str()));
  LB_ASSIGN_OR_RETURN(LineIndex index, IndexLines(context));
  // Resolve every line first: nothing changes if one is unknown.
  std::vector<std::vector<std::pair<std::string, bool>>> resolved;
  for (const TsecUser& u : users) {
    std::vector<std::pair<std::string, bool>> lines;
    for (const TsecLine& l : u.lines) {
      const auto& map = l.permanent_id.empty() ? index.by_address : index.by_permanent_id;
      const std::string& key = l.permanent_id.empty() ? l.address : l.permanent_id;
      auto it = map.find(key);
      if (it == map.end()) {
        return absl::NotFoundError(absl::StrCat(u.domain_user_name, ": no line with ",
                                                l.permanent_id.empty() ? "address " : "PermanentID ",
                                                key));
      }
      lines.emplace_back(it->second, l.remove);
    }
    resolved.push_back(std::move(lines));
  }
  // One request: the server checks it all, then applies it in one
  // transaction (nothing changes if anything is wrong).
  v1::ImportAssignmentsRequest import;
  for (size_t i = 0; i < users.size(); ++i) {
    const TsecUser& u = users[i];
    v1::ImportAssignmentsRequest::User* out = import.add_users();
    out->set_name(u.domain_user_name);
    out->set_display_name(u.friendly_name);
    // NoMerge, or no <LineList>: the user's current lines go first.
    out->set_replace(u.no_merge || !u.has_line_list);
    for (const auto& [line, remove] : resolved[i]) {
      *(remove ? out->add_remove() : out->add_assign()) = line;
    }
  }
  LB_ASSIGN_OR_RETURN(v1::ImportAssignmentsResponse done,
                      First(context).ImportAssignments(import));
  Out(context, absl::StrCat("imported ", done.users(), " users: ", done.assigned(),
                            " lines assigned, ", done.removed(), " removed"));
  return absl::OkStatus();
}

absl::Status CmdTsecExport(Context& context) {
  LB_ASSIGN_OR_RETURN(LineIndex index, IndexLines(context));
  LB_ASSIGN_OR_RETURN(v1::ListPrincipalsResponse principals,
                      First(context).ListPrincipals(v1::ListPrincipalsRequest()));
  std::vector<TsecUser> users;
  for (const v1::Principal& p : principals.principals()) {
    if (p.role() != v1::ROLE_USER) continue;  // admins see every line anyway
    TsecUser u;
    u.domain_user_name = p.name();
    u.friendly_name = p.display_name();
    u.no_merge = true;  // the file states the whole assignment
    u.has_line_list = true;
    for (const v1::LineGrant& g : p.lines()) {
      TsecLine l;
      auto it = index.permanent_id_of.find(g.line_id());
      if (it != index.permanent_id_of.end()) {
        l.permanent_id = it->second;
      } else {
        l.address = g.line_id();  // a line the server no longer has
      }
      u.lines.push_back(std::move(l));
    }
    users.push_back(std::move(u));
  }
  const std::string xml = WriteTsecXml(users);
  if (context.args().empty() || context.args()[0] == "-") {
    context.out << xml;
    context.out.flush();
    return absl::OkStatus();
  }
  std::ofstream out(context.args()[0], std::ios::binary | std::ios::trunc);
  out << xml;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", context.args()[0]));
  Out(context, absl::StrCat("exported ", users.size(), " users to ", context.args()[0]));
  return absl::OkStatus();
}

}  // namespace linebridge::linectl
