// tsp_operate_phone: the person at a sim phone, for the TAPISRV harness's
// phone tests (tests/tsp/tsp_phone_test.cc), in a process of its own (the
// TSP library carries its own copy of the generated API, which must not be
// registered twice in one process).
//
//   tsp_operate_phone <server> <phone id> press <button id>
//   tsp_operate_phone <server> <phone id> hook <handset|speaker> <onhook|offhook>
//
// Exit status 0 when OperatePhone succeeded; the error on stderr otherwise.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "linebridge/v1/telephony.grpc.pb.h"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s <server> <phone> press <id> | hook <device> <onhook|offhook>\n",
                 argv[0]);
    return 2;
  }
  linebridge::v1::OperatePhoneRequest request;
  request.set_phone_id(argv[2]);
  const std::string action = argv[3];
  if (action == "press") {
    request.set_press_button(static_cast<uint32_t>(std::strtoul(argv[4], nullptr, 10)));
  } else if (action == "hook" && argc >= 6) {
    auto* change = request.mutable_hookswitch();
    change->set_device(std::string(argv[4]) == "speaker" ? linebridge::v1::HOOK_SWITCH_DEVICE_SPEAKER
                                                         : linebridge::v1::HOOK_SWITCH_DEVICE_HANDSET);
    change->set_mode(std::string(argv[5]) == "onhook" ? linebridge::v1::HOOK_SWITCH_MODE_ONHOOK
                                                      : linebridge::v1::HOOK_SWITCH_MODE_MIC_SPEAKER);
  } else {
    std::fprintf(stderr, "unknown action %s\n", action.c_str());
    return 2;
  }
  auto stub = linebridge::v1::Telephony::NewStub(
      grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  linebridge::v1::Phone reply;
  const grpc::Status status = stub->OperatePhone(&context, request, &reply);
  if (!status.ok()) {
    std::fprintf(stderr, "OperatePhone: %d %s\n", static_cast<int>(status.error_code()),
                 status.error_message().c_str());
    return 1;
  }
  return 0;
}
