// The gRPC handlers of linebridged with structured random requests: an
// in-process Server (sim provider, defaults, a temp data directory) on
// 127.0.0.1, and every unary method of Telephony, Admin and Security. The
// first input byte picks the method, the rest must parse as its request
// message (other inputs are rejected, so the corpus holds requests only);
// the request goes over a real channel and the answer must come within a
// deadline with a canonical code other than UNKNOWN. State carries over
// between inputs as it does for a long-running daemon.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#include <google/protobuf/stubs/logging.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "api/server.h"
#include "config/config.h"
#include "core/log.h"
#include "fuzz/fuzz_check.h"
#include "linebridge/v1/admin.grpc.pb.h"
#include "linebridge/v1/security.grpc.pb.h"
#include "linebridge/v1/telephony.grpc.pb.h"
#include "linebridge/deadline.h"

namespace {

struct Method {
  std::string path;  // "/linebridge.v1.Telephony/MakeCall"
  const google::protobuf::Message* prototype;
};

struct Fixture {
  std::string dir;
  std::unique_ptr<linebridge::Server> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::GenericStub> stub;
  std::vector<Method> methods;
};
Fixture* fixture = nullptr;

void Cleanup() {
  if (fixture == nullptr) return;
  fixture->stub.reset();
  fixture->channel.reset();
  if (fixture->server != nullptr) fixture->server->Shutdown("fuzzing done");
  fixture->server.reset();
  std::error_code ignored;
  std::filesystem::remove_all(fixture->dir, ignored);
}

void AddService(const std::string& name) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
  if (service == nullptr) std::abort();
  for (int i = 0; i < service->method_count(); ++i) {
    const google::protobuf::MethodDescriptor* m = service->method(i);
    if (m->client_streaming() || m->server_streaming()) continue;  // Subscribe
    const google::protobuf::Message* prototype =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(m->input_type());
    if (prototype == nullptr) std::abort();
    fixture->methods.push_back({absl::StrCat("/", service->full_name(), "/", m->name()), prototype});
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  linebridge::SetLogLevel(linebridge::LogLevel::kError);
  google::protobuf::SetLogHandler(nullptr);  // requests that do not parse are expected
  char dir[] = "/tmp/rpc_fuzz.XXXXXX";
  if (mkdtemp(dir) == nullptr) std::abort();
  fixture = new Fixture;
  fixture->dir = dir;
  absl::StatusOr<linebridge::v1::config::ServerConfig> config =
      linebridge::ParseConfigText("", "rpc_fuzz.textproto");
  if (!config.ok()) std::abort();
  config->set_listen("127.0.0.1:0");
  config->set_data_dir(fixture->dir);
  absl::StatusOr<std::unique_ptr<linebridge::Server>> server =
      linebridge::Server::Start(linebridge::Server::Options{*config, "", 0x5eed0001});
  if (!server.ok()) {
    std::fprintf(stderr, "rpc_fuzz: %s\n", server.status().ToString().c_str());
    std::abort();
  }
  fixture->server = *std::move(server);
  fixture->channel =
      grpc::CreateChannel(fixture->server->address(), grpc::InsecureChannelCredentials());
  if (!fixture->channel->WaitForConnected(linebridge::DeadlineAfter(absl::Seconds(10)))) {
    std::abort();
  }
  fixture->stub = std::make_unique<grpc::GenericStub>(fixture->channel);
  // Service names from the generated code, methods from the descriptors.
  AddService(linebridge::v1::Telephony::service_full_name());
  AddService(linebridge::v1::Admin::service_full_name());
  AddService(linebridge::v1::Security::service_full_name());
  std::atexit(Cleanup);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return -1;
  const Method& method = fixture->methods[data[0] % fixture->methods.size()];
  std::unique_ptr<google::protobuf::Message> request(method.prototype->New());
  if (!request->ParseFromArray(data + 1, static_cast<int>(size - 1))) return -1;
  const std::string bytes = request->SerializeAsString();

  grpc::Slice slice(bytes);
  grpc::ByteBuffer send(&slice, 1);
  grpc::ByteBuffer reply;
  grpc::ClientContext ctx;
  ctx.set_deadline(linebridge::DeadlineAfter(absl::Seconds(10)));
  absl::Notification done;
  grpc::Status status;
  fixture->stub->UnaryCall(&ctx, method.path, grpc::StubOptions(), &send, &reply,
                           [&](grpc::Status s) {
                             status = std::move(s);
                             done.Notify();
                           });
  done.WaitForNotification();
  FUZZ_CHECK(status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED,
             "a handler took longer than 10 s");
  FUZZ_CHECK(status.error_code() != grpc::StatusCode::UNKNOWN,
             "a handler answered UNKNOWN (an unconverted failure)");
  return 0;
}
