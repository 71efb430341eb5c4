// tsp_operate_phone: the person at a sim phone, for the TAPISRV harness's
// phone tests (tests/tsp/tsp_phone_test.cc), in a process of its own (the
// TSP library carries its own copy of the generated API, which must not be
// registered twice in one process).
//
//   tsp_operate_phone <server> <phone id> press <button id>
//   tsp_operate_phone <server> <phone id> hook <handset|speaker> <onhook|offhook>
//   tsp_operate_phone <server> <phone id> data <data id> <text>
//
// `data` is another application writing the phone's data area: a session of
// its own, the phone opened as owner, SetPhoneData, the session closed.
// Exit status 0 when the request succeeded; the error on stderr otherwise.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "linebridge/v1/telephony.grpc.pb.h"
#include "linebridge/deadline.h"

namespace {

namespace v1 = linebridge::v1;

int Failed(const char* what, const grpc::Status& status) {
  std::fprintf(stderr, "%s: %d %s\n", what, static_cast<int>(status.error_code()),
               status.error_message().c_str());
  return 1;
}

template <typename Request, typename Reply, typename Method>
grpc::Status Call(v1::Telephony::Stub& stub, Method method, const Request& request, Reply* reply) {
  grpc::ClientContext context;
  context.set_deadline(linebridge::DeadlineAfter(absl::Seconds(5)));
  return (stub.*method)(&context, request, reply);
}

int WriteData(v1::Telephony::Stub& stub, const std::string& phone, uint32_t data_id,
              const std::string& text) {
  v1::CreateSessionRequest create;
  create.set_client_name("tsp_operate_phone");
  v1::Session session;
  grpc::Status st = Call(stub, &v1::Telephony::Stub::CreateSession, create, &session);
  if (!st.ok()) return Failed("CreateSession", st);
  v1::OpenPhoneRequest open;
  open.set_session_id(session.id());
  open.set_phone_id(phone);
  open.set_privilege(v1::PRIVILEGE_OWNER);
  v1::Phone reply;
  st = Call(stub, &v1::Telephony::Stub::OpenPhone, open, &reply);
  if (!st.ok()) return Failed("OpenPhone", st);
  v1::SetPhoneDataRequest set;
  set.set_session_id(session.id());
  set.set_phone_id(phone);
  set.set_data_id(data_id);
  set.set_data(text);
  st = Call(stub, &v1::Telephony::Stub::SetPhoneData, set, &reply);
  if (!st.ok()) return Failed("SetPhoneData", st);
  v1::CloseSessionRequest close;
  close.set_session_id(session.id());
  v1::CloseSessionResponse closed;
  st = Call(stub, &v1::Telephony::Stub::CloseSession, close, &closed);
  return st.ok() ? 0 : Failed("CloseSession", st);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: %s <server> <phone> press <id> | hook <device> <onhook|offhook> | "
                 "data <id> <text>\n",
                 argv[0]);
    return 2;
  }
  auto stub = v1::Telephony::NewStub(grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials()));
  const std::string action = argv[3];
  if (action == "data" && argc >= 6) {
    return WriteData(*stub, argv[2], static_cast<uint32_t>(std::strtoul(argv[4], nullptr, 10)),
                     argv[5]);
  }
  v1::OperatePhoneRequest request;
  request.set_phone_id(argv[2]);
  if (action == "press") {
    request.set_press_button(static_cast<uint32_t>(std::strtoul(argv[4], nullptr, 10)));
  } else if (action == "hook" && argc >= 6) {
    auto* change = request.mutable_hookswitch();
    change->set_device(std::string(argv[4]) == "speaker" ? v1::HOOK_SWITCH_DEVICE_SPEAKER
                                                         : v1::HOOK_SWITCH_DEVICE_HANDSET);
    change->set_mode(std::string(argv[5]) == "onhook" ? v1::HOOK_SWITCH_MODE_ONHOOK
                                                      : v1::HOOK_SWITCH_MODE_MIC_SPEAKER);
  } else {
    std::fprintf(stderr, "unknown action %s\n", action.c_str());
    return 2;
  }
  v1::Phone reply;
  const grpc::Status status = Call(*stub, &v1::Telephony::Stub::OperatePhone, request, &reply);
  return status.ok() ? 0 : Failed("OperatePhone", status);
}
