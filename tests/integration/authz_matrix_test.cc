// The authorization matrix, generated from the RPC table
// (linebridge/rpc_table.h): every Telephony, Admin, Security and Media RPC, called
// over TLS with real bearer tokens against a real linebridged process, as
//   the admin; users with control, monitor, originate, or nothing on the
//   line; a user naming a call on another principal's line (or, for rows
//   that take calls, taking one from it onto its own line); and a client
//   without credentials,
// with the exact gRPC code and TAPI error each row's policy implies. A
// refusal must be exactly the policy's; an allowed request must answer what
// the admin gets for the same request on the same state (the engine's own
// verdict). The services' descriptors are compared with the table, so an RPC
// without a row fails here.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/reflection.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "linebridge/lineerr.h"
#include "linebridge/rpc_table.h"
#include "linebridge/v1/admin.grpc.pb.h"
#include "linebridge/v1/media.grpc.pb.h"
#include "linebridge/v1/security.grpc.pb.h"
#include "linebridge/v1/telephony.grpc.pb.h"
#include "tapisrv_harness.h"
#include "test_server.h"
#include "tls_certs.h"
#include "linebridge/deadline.h"

namespace linebridge::itest {
namespace {

namespace pb = google::protobuf;
using tsp_test::ServerProcess;

constexpr char kLine[] = "sim/100";    // the line of the matrix
constexpr char kNumber[] = "100";      // its extension
constexpr char kOwnLine[] = "sim/102"; // the intruder's own line
constexpr char kPhone[] = "sim/phone/100";  // kLine's phone

struct Stubs {
  std::unique_ptr<v1::Telephony::Stub> telephony;
  std::unique_ptr<v1::Admin::Stub> admin;
  std::unique_ptr<v1::Security::Stub> security;
  std::unique_ptr<v1::Media::Stub> media;
};

using Caller = std::function<grpc::Status(Stubs&, grpc::ClientContext*, const pb::Message&)>;

struct Row {
  std::string service;
  std::string method;
  const pb::Descriptor* request;
  rpc::Policy policy;
  Caller call;
};

template <typename Stub, typename Req, typename Resp>
Caller Unary(std::unique_ptr<Stub> Stubs::*stub,
             grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*)) {
  return [stub, method](Stubs& s, grpc::ClientContext* ctx, const pb::Message& m) {
    Resp resp;
    return ((*(s.*stub)).*method)(ctx, static_cast<const Req&>(m), &resp);
  };
}

// Subscribe: the status of the first read (OK when a batch arrives).
grpc::Status SubscribeCall(Stubs& s, grpc::ClientContext* ctx, const pb::Message& m) {
  auto reader = s.telephony->Subscribe(ctx, static_cast<const v1::SubscribeRequest&>(m));
  v1::EventBatch batch;
  if (reader->Read(&batch)) {
    ctx->TryCancel();
    reader->Finish();
    return grpc::Status::OK;
  }
  return reader->Finish();
}

// StreamMedia: the status of the first read after the MediaStart (OK when
// MediaStarted arrives).
grpc::Status StreamMediaCall(Stubs& s, grpc::ClientContext* ctx, const pb::Message& m) {
  auto stream = s.media->StreamMedia(ctx);
  stream->Write(static_cast<const v1::MediaRequest&>(m));
  v1::MediaResponse resp;
  if (stream->Read(&resp) && resp.has_started()) {
    ctx->TryCancel();
    stream->Finish();
    return grpc::Status::OK;
  }
  return stream->Finish();
}

std::vector<Row> TableRows() {
  std::vector<Row> rows;
#define LB_MATRIX_UNARY(Service, Method, Req, Resp, access, perm, flags, ...)          \
  rows.push_back(Row{#Service, #Method, v1::Req::descriptor(),                           \
                     rpc::Policy{rpc::Access::access, rpc::Perm::perm, rpc::Flags::flags}, \
                     Unary(&Stubs::LB_MATRIX_STUB_##Service, &v1::Service::Stub::Method)});
#define LB_MATRIX_STUB_Telephony telephony
#define LB_MATRIX_STUB_Admin admin
#define LB_MATRIX_STUB_Security security
#define LB_MATRIX_STUB_Media media
  LINEBRIDGE_RPCS(LB_MATRIX_UNARY)
#define LB_MATRIX_STREAM(Service, Method, Req, Resp, access, perm, flags, ...)          \
  rows.push_back(Row{#Service, #Method, v1::Req::descriptor(),                           \
                     rpc::Policy{rpc::Access::access, rpc::Perm::perm, rpc::Flags::flags}, \
                     &Method##Call});
  LINEBRIDGE_STREAMING_RPCS(LB_MATRIX_STREAM)
#undef LB_MATRIX_UNARY
#undef LB_MATRIX_STREAM
#undef LB_MATRIX_STUB_Telephony
#undef LB_MATRIX_STUB_Admin
#undef LB_MATRIX_STUB_Security
#undef LB_MATRIX_STUB_Media
  return rows;
}

// The columns.
enum class Who { kAdmin, kControl, kMonitor, kOriginate, kNothing, kIntruder, kAnonymous };
const char* Name(Who w) {
  switch (w) {
    case Who::kAdmin:
      return "admin";
    case Who::kControl:
      return "control";
    case Who::kMonitor:
      return "monitor";
    case Who::kOriginate:
      return "originate";
    case Who::kNothing:
      return "nothing";
    case Who::kIntruder:
      return "other-line";
    case Who::kAnonymous:
      return "no-credentials";
  }
  return "?";
}
constexpr Who kColumns[] = {Who::kAdmin,   Who::kControl,  Who::kMonitor,  Who::kOriginate,
                            Who::kNothing, Who::kIntruder, Who::kAnonymous};

struct Outcome {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::optional<uint32_t> lineerr;
  std::string message;
  bool operator==(const Outcome& o) const { return code == o.code && lineerr == o.lineerr; }
};
std::string Describe(const Outcome& o) {
  return absl::StrCat("code ", o.code, " ",
                      !o.lineerr                 ? absl::string_view("(no TapiError)")
                      : *o.lineerr >= 0x90000000 ? PhoneErrName(*o.lineerr)
                                                 : LineErrName(*o.lineerr),
                      " \"", o.message, "\"");
}
Outcome Expect(grpc::StatusCode code, uint32_t lineerr) { return Outcome{code, lineerr, ""}; }

// What a refused request answers for rows that take a call from another
// line (the provider acts as if nothing were there). A new such row needs an
// entry.
const std::map<std::string, Outcome>& TakenElsewhere() {
  static const auto* m = new std::map<std::string, Outcome>{
      {"Pickup", Expect(grpc::StatusCode::FAILED_PRECONDITION, LINEERR_OPERATIONFAILED)},
      {"Unpark", Expect(grpc::StatusCode::NOT_FOUND, LINEERR_INVALADDRESS)},
  };
  return *m;
}

// The grant of each user column on kLine (the intruder and "nothing" hold
// full rights on other lines).
struct Grant {
  bool visible, control, originate;
};
Grant GrantOf(Who w) {
  switch (w) {
    case Who::kControl:
      return {true, true, false};
    case Who::kMonitor:
      return {true, false, false};
    case Who::kOriginate:
      return {true, false, true};
    default:
      return {false, false, false};
  }
}

// The refusal a row's policy implies for a user column, or nullopt when the
// policy lets it through (the engine's verdict then applies).
std::optional<Outcome> LineRefusal(const Row& row, Who who);

// Phone rows answer with the PHONEERR of the same refusal.
bool IsPhoneRow(const Row& row) {
  return row.request->FindFieldByName("phone_id") != nullptr || row.method == "ListPhones";
}
std::optional<Outcome> Refusal(const Row& row, Who who) {
  std::optional<Outcome> o = LineRefusal(row, who);
  if (o && IsPhoneRow(row) && o->lineerr) {
    o->lineerr = PhoneErrForLineErr(*o->lineerr, static_cast<absl::StatusCode>(o->code));
  }
  return o;
}

std::optional<Outcome> LineRefusal(const Row& row, Who who) {
  if (who == Who::kAnonymous) {
    return Expect(grpc::StatusCode::UNAUTHENTICATED, LINEERR_OPERATIONFAILED);
  }
  if (who == Who::kAdmin) return std::nullopt;
  const Grant g = GrantOf(who);
  auto needs = [&](rpc::Perm perm, uint32_t not_visible) -> std::optional<Outcome> {
    if (!g.visible) return Expect(grpc::StatusCode::NOT_FOUND, not_visible);
    const bool has = perm == rpc::Perm::kControl     ? g.control
                     : perm == rpc::Perm::kOriginate ? g.originate
                                                     : true;
    if (has) return std::nullopt;
    return Expect(grpc::StatusCode::PERMISSION_DENIED,
                  perm == rpc::Perm::kOriginate ? LINEERR_OPERATIONFAILED : LINEERR_NOTOWNER);
  };
  switch (row.policy.access) {
    case rpc::Access::kAny:
    case rpc::Access::kSession:
      return std::nullopt;
    case rpc::Access::kAdmin:
      return Expect(grpc::StatusCode::PERMISSION_DENIED, LINEERR_OPERATIONFAILED);
    case rpc::Access::kList: {
      // Only a request that names the line is checked (lists are filtered).
      const bool names_line = row.request->FindFieldByName("line_id") != nullptr ||
                              row.request->FindFieldByName("line_ids") != nullptr;
      if (!names_line) return std::nullopt;
      return needs(row.policy.perm, LINEERR_BADDEVICEID);
    }
    case rpc::Access::kLine:
      // The intruder names its own line, where it may do everything.
      if (who == Who::kIntruder) return std::nullopt;
      return needs(row.policy.perm, LINEERR_BADDEVICEID);
    case rpc::Access::kLineTakes:
      if (who == Who::kIntruder) {
        auto it = TakenElsewhere().find(row.method);
        if (it == TakenElsewhere().end()) {
          ADD_FAILURE() << row.method << ": a row that takes calls needs a TakenElsewhere entry";
          return Expect(grpc::StatusCode::UNKNOWN, 0);
        }
        return it->second;
      }
      return needs(row.policy.perm, LINEERR_BADDEVICEID);
    case rpc::Access::kCall:
      return needs(row.policy.perm, LINEERR_INVALCALLHANDLE);
    case rpc::Access::kPhone:
      return needs(row.policy.perm, LINEERR_BADDEVICEID);
  }
  return std::nullopt;
}

// The state every cell starts from: a call ringing on kLine (from 103) and
// a call parked from kLine.
struct State {
  std::string ringing;  // call id on kLine
  std::string orbit;
};

// A linebridged process with TLS and its principals.
class AuthzMatrixTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(NewTempDir("authzmatrix"));
    std::unique_ptr<TestPki> pki = TestPki::Create(*dir_ + "/pki");
    if (pki == nullptr || !pki->MakeCa("ca") ||
        !pki->MakeCert("server", {.ca = "ca", .dns = {"localhost"}, .ips = {"127.0.0.1"}})) {
      return;
    }
    ca_ = new std::string(pki->CertPath("ca"));
    const std::string config = *dir_ + "/server.textproto";
    std::ofstream(config) << "tls { cert_file: \"" << pki->CertPath("server") << "\" key_file: \""
                          << pki->KeyPath("server") << "\" }\n"
                          << "disconnected_linger_ms: 1\n"
                          << "limits { originations_per_minute: 60000 origination_burst: 10000 "
                             "max_concurrent_calls: 1000 }\n";
    const char* bin = std::getenv("LINEBRIDGE_BIN_DIR");
    if (bin == nullptr) return;
    const std::string token_file = *dir_ + "/admin.token";
    const std::string bootstrap =
        absl::StrCat("'", bin, "/linebridged' --data_dir '", *dir_, "/data' --bootstrap_admin ",
                     "matrix-admin > '", token_file, "' 2> '", *dir_, "/bootstrap.log'");
    if (std::system(bootstrap.c_str()) != 0) return;
    std::ifstream in(token_file);
    std::string token;
    std::getline(in, token);
    if (token.size() < 10) return;
    server_ = new ServerProcess();
    std::string error;
    if (!server_->Start(*dir_, &error, 0, config)) {
      ADD_FAILURE() << error;
      return;
    }
    tokens_ = new std::map<Who, std::string>{{Who::kAdmin, token}, {Who::kAnonymous, ""}};
  }
  static void TearDownTestSuite() {
    delete server_;
    delete tokens_;
    delete ca_;
    delete dir_;
    server_ = nullptr;
    tokens_ = nullptr;
    ca_ = nullptr;
    dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(tokens_, nullptr) << "linebridged with TLS did not start (see " << *dir_ << ")";
    grpc::SslCredentialsOptions ssl;
    std::ifstream in(*ca_);
    std::stringstream pem;
    pem << in.rdbuf();
    ssl.pem_root_certs = pem.str();
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    channel_ = grpc::CreateCustomChannel(server_->address(), grpc::SslCredentials(ssl), args);
    stubs_.telephony = v1::Telephony::NewStub(channel_);
    stubs_.admin = v1::Admin::NewStub(channel_);
    stubs_.security = v1::Security::NewStub(channel_);
    stubs_.media = v1::Media::NewStub(channel_);
    if (tokens_->size() == 2) MakePrincipals();
  }

  std::unique_ptr<grpc::ClientContext> As(Who who) {
    auto ctx = Ctx();
    const std::string& token = (*tokens_)[who];
    if (!token.empty()) ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token));
    return ctx;
  }
  std::unique_ptr<grpc::ClientContext> Admin() { return As(Who::kAdmin); }

  void MakePrincipals() {
    auto user = [&](Who who, const std::string& name,
                    std::vector<std::pair<std::string, Grant>> grants) {
      v1::AddPrincipalRequest add;
      add.set_name(name);
      add.set_role(v1::ROLE_USER);
      v1::Principal p;
      grpc::Status st = stubs_.security->AddPrincipal(Admin().get(), add, &p);
      ASSERT_TRUE(st.ok()) << st.error_message();
      for (const auto& [line, g] : grants) {
        v1::AssignRequest assign;
        assign.set_principal(name);
        assign.mutable_grant()->set_line_id(line);
        assign.mutable_grant()->set_monitor(g.visible);
        assign.mutable_grant()->set_control(g.control);
        assign.mutable_grant()->set_originate(g.originate);
        st = stubs_.security->Assign(Admin().get(), assign, &p);
        ASSERT_TRUE(st.ok()) << st.error_message();
      }
      v1::IssueTokenRequest issue;
      issue.set_principal(name);
      v1::IssueTokenResponse token;
      st = stubs_.security->IssueToken(Admin().get(), issue, &token);
      ASSERT_TRUE(st.ok()) << st.error_message();
      (*tokens_)[who] = token.token();
    };
    user(Who::kControl, "m-control", {{kLine, GrantOf(Who::kControl)}});
    user(Who::kMonitor, "m-monitor", {{kLine, GrantOf(Who::kMonitor)}});
    user(Who::kOriginate, "m-originate", {{kLine, GrantOf(Who::kOriginate)}});
    user(Who::kNothing, "m-nothing", {{"sim/107", {true, true, true}}});
    user(Who::kIntruder, "m-intruder", {{kOwnLine, {true, true, true}}});
  }

  // Drops every call and empties the park orbits, then builds the State.
  std::optional<State> Reset() {
    const absl::Time deadline = MonotonicNow() + kTimeout;
    for (;;) {
      v1::ListCallsResponse calls;
      grpc::Status st = stubs_.telephony->ListCalls(Admin().get(), v1::ListCallsRequest(), &calls);
      if (!st.ok()) {
        ADD_FAILURE() << st.error_message();
        return std::nullopt;
      }
      if (calls.calls().empty()) break;
      if (MonotonicNow() > deadline) {
        ADD_FAILURE() << "calls do not go away";
        return std::nullopt;
      }
      for (const v1::Call& c : calls.calls()) {
        v1::CallActionRequest drop;
        drop.set_call_id(c.id());
        v1::Call out;
        (void)stubs_.telephony->Drop(Admin().get(), drop, &out);
      }
    }
    State state;
    // A call from kLine to an outside number that answers, parked.
    v1::MakeCallRequest make;
    make.set_line_id(kLine);
    make.set_destination("5550100");
    v1::Call outside;
    if (!stubs_.telephony->MakeCall(Admin().get(), make, &outside).ok()) return std::nullopt;
    if (!WaitFor(outside.id(), v1::CALL_STATE_CONNECTED)) return std::nullopt;
    v1::ParkRequest park;
    park.set_call_id(outside.id());
    v1::ParkResponse parked;
    grpc::Status st = stubs_.telephony->Park(Admin().get(), park, &parked);
    if (!st.ok()) {
      ADD_FAILURE() << "park: " << st.error_message();
      return std::nullopt;
    }
    state.orbit = parked.park_address();
    // A call ringing on kLine.
    make.set_line_id("sim/103");
    make.set_destination(kNumber);
    v1::Call caller;
    if (!stubs_.telephony->MakeCall(Admin().get(), make, &caller).ok()) return std::nullopt;
    v1::ListCallsRequest on_line;
    on_line.set_line_id(kLine);
    v1::ListCallsResponse calls;
    if (!stubs_.telephony->ListCalls(Admin().get(), on_line, &calls).ok()) return std::nullopt;
    for (const v1::Call& c : calls.calls()) {
      if (c.status().state() == v1::CALL_STATE_OFFERING) state.ringing = c.id();
    }
    if (state.ringing.empty()) {
      ADD_FAILURE() << "no call rings on " << kLine;
      return std::nullopt;
    }
    return state;
  }

  // The parked call is taken back (Unpark as admin, then dropped by Reset).
  void ClearOrbit(const State& state) {
    v1::UnparkRequest req;
    req.set_line_id("sim/106");
    req.set_park_address(state.orbit);
    v1::Call out;
    (void)stubs_.telephony->Unpark(Admin().get(), req, &out);
  }

  bool WaitFor(const std::string& call_id, v1::CallState state) {
    const absl::Time deadline = MonotonicNow() + kTimeout;
    do {
      v1::GetCallRequest get;
      get.set_call_id(call_id);
      v1::Call call;
      if (stubs_.telephony->GetCall(Admin().get(), get, &call).ok() &&
          call.status().state() == state) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(5));
    } while (MonotonicNow() < deadline);
    ADD_FAILURE() << call_id << " never reached " << v1::CallState_Name(state);
    return false;
  }

  // The request of `row` for the state: line fields name `line`, call fields
  // the ringing call, and the rest what the RPC needs to act.
  static std::unique_ptr<pb::Message> Request(const Row& row, const State& state,
                                              const std::string& line) {
    std::unique_ptr<pb::Message> m(
        pb::MessageFactory::generated_factory()->GetPrototype(row.request)->New());
    const pb::Reflection* r = m->GetReflection();
    auto set = [&](const char* name, const std::string& value) {
      const pb::FieldDescriptor* f = row.request->FindFieldByName(name);
      if (f == nullptr || f->type() != pb::FieldDescriptor::TYPE_STRING) return;
      if (f->is_repeated()) {
        r->AddString(m.get(), f, value);
      } else {
        r->SetString(m.get(), f, value);
      }
    };
    set("line_id", line);
    set("line_ids", line);
    set("call_id", state.ringing);
    set("conference_call_id", state.ringing);
    set("consultation_call_id", state.ringing);
    set("held_call_id", state.ringing);
    set("destination", kNumber);
    set("park_address", state.orbit);
    set("digits", "1");
    set("phone_id", kPhone);
    // A bidirectional stream's first message names the call in `start`.
    if (const pb::FieldDescriptor* start = row.request->FindFieldByName("start");
        start != nullptr && start->type() == pb::FieldDescriptor::TYPE_MESSAGE) {
      pb::Message* first = r->MutableMessage(m.get(), start);
      first->GetReflection()->SetString(first, start->message_type()->FindFieldByName("call_id"),
                                        state.ringing);
    }
    return m;
  }

  Outcome Run(const Row& row, Who who, const std::string& line) {
    std::optional<State> state = Reset();
    if (!state) return Outcome{grpc::StatusCode::UNKNOWN, std::nullopt, "no state"};
    std::unique_ptr<pb::Message> req = Request(row, *state, line);
    auto ctx = As(who);
    grpc::Status st = row.call(stubs_, ctx.get(), *req);
    ClearOrbit(*state);
    return Outcome{st.error_code(), st.ok() ? std::nullopt : TapiErrorOf(st), st.error_message()};
  }

  static std::string* dir_;
  static std::string* ca_;
  static ServerProcess* server_;
  static std::map<Who, std::string>* tokens_;
  std::shared_ptr<grpc::Channel> channel_;
  Stubs stubs_;
};
std::string* AuthzMatrixTest::dir_ = nullptr;
std::string* AuthzMatrixTest::ca_ = nullptr;
ServerProcess* AuthzMatrixTest::server_ = nullptr;
std::map<Who, std::string>* AuthzMatrixTest::tokens_ = nullptr;

// Every RPC the services offer has a row, and every row is an RPC.
TEST(AuthzMatrix, TheTableDescribesEveryRpc) {
  std::set<std::string> offered, described;
  for (const char* name : {v1::Telephony::service_full_name(), v1::Admin::service_full_name(),
                           v1::Security::service_full_name(), v1::Media::service_full_name()}) {
    const pb::ServiceDescriptor* s = pb::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(s, nullptr) << name;
    for (int i = 0; i < s->method_count(); ++i) {
      offered.insert(absl::StrCat(s->name(), ".", s->method(i)->name()));
    }
  }
  for (const Row& row : TableRows()) {
    EXPECT_TRUE(described.insert(absl::StrCat(row.service, ".", row.method)).second)
        << row.service << "." << row.method << " has two rows";
    const pb::MethodDescriptor* m = pb::DescriptorPool::generated_pool()->FindMethodByName(
        absl::StrCat("linebridge.v1.", row.service, ".", row.method));
    ASSERT_NE(m, nullptr) << row.service << "." << row.method << " is not an RPC";
    EXPECT_EQ(row.request->full_name(), m->input_type()->full_name()) << row.method;
  }
  EXPECT_EQ(offered, described);
  EXPECT_GE(offered.size(), 47u);
}

TEST_F(AuthzMatrixTest, EveryRpcForEveryPrincipal) {
  int cells = 0;
  for (const Row& row : TableRows()) {
    std::map<std::string, Outcome> admin_on;  // the admin's verdict per named line
    auto admin = [&](const std::string& line) {
      auto it = admin_on.find(line);
      if (it == admin_on.end()) it = admin_on.emplace(line, Run(row, Who::kAdmin, line)).first;
      return it->second;
    };
    for (Who who : kColumns) {
      const std::string line = who == Who::kIntruder && (row.policy.access == rpc::Access::kLine ||
                                                         row.policy.access == rpc::Access::kLineTakes)
                                   ? kOwnLine
                                   : kLine;
      SCOPED_TRACE(absl::StrCat(row.service, ".", row.method, " as ", Name(who), " on ", line));
      const Outcome got = who == Who::kAdmin ? admin(line) : Run(row, who, line);
      ++cells;
      if (std::optional<Outcome> refused = Refusal(row, who)) {
        EXPECT_EQ(got, *refused) << "got " << Describe(got) << ", want " << Describe(*refused);
        continue;
      }
      EXPECT_NE(got.code, grpc::StatusCode::UNAUTHENTICATED) << Describe(got);
      EXPECT_NE(got.code, grpc::StatusCode::PERMISSION_DENIED) << Describe(got);
      if (who != Who::kAdmin) {
        const Outcome want = admin(line);
        EXPECT_EQ(got, want) << "got " << Describe(got) << ", the admin got " << Describe(want);
      }
    }
  }
  EXPECT_GE(cells, 47 * 7);
}

}  // namespace
}  // namespace linebridge::itest
