// bare_stream_server: the limit linebridge_bench compares event fan-out with.
// A gRPC callback server with nothing but a generic handler: every call (any
// method) reads its request and then writes the same pre-serialized messages
// (read from a file) one after another, each the very bytes linebridged sent
// for one EventBatch of a replay. No journal, no filter, no encoding: what
// gRPC itself costs to stream those bytes to many subscribers on this machine.
//
//   bare_stream_server --batches FILE --port_file PATH
//
// FILE holds the messages, each as a 4-byte little-endian length and the
// bytes. The port file is written (renamed into place) once serving; SIGTERM
// or SIGINT ends the server.
#include <signal.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

namespace {

class Replay : public grpc::ServerGenericBidiReactor {
 public:
  explicit Replay(const std::vector<grpc::ByteBuffer>* batches) : batches_(batches) {
    StartRead(&request_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
      return;
    }
    Next();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::CANCELLED);
      return;
    }
    Next();
  }
  void OnDone() override { delete this; }

 private:
  void Next() {
    if (index_ >= batches_->size()) {
      Finish(grpc::Status::OK);
      return;
    }
    current_ = (*batches_)[index_++];  // shares the slices: no copy of the bytes
    StartWrite(&current_);
  }

  const std::vector<grpc::ByteBuffer>* const batches_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer current_;
  size_t index_ = 0;
};

class Service : public grpc::CallbackGenericService {
 public:
  explicit Service(std::vector<grpc::ByteBuffer> batches) : batches_(std::move(batches)) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    return new Replay(&batches_);
  }

 private:
  const std::vector<grpc::ByteBuffer> batches_;
};

bool LoadBatches(const std::string& path, std::vector<grpc::ByteBuffer>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  while (true) {
    unsigned char len_bytes[4];
    if (!in.read(reinterpret_cast<char*>(len_bytes), 4)) return in.eof();
    const uint32_t len = len_bytes[0] | (len_bytes[1] << 8) | (len_bytes[2] << 16) |
                         (static_cast<uint32_t>(len_bytes[3]) << 24);
    std::string bytes(len, '\0');
    if (!in.read(bytes.data(), len)) return false;
    grpc::Slice slice(bytes);
    out->emplace_back(&slice, 1);
  }
}

volatile sig_atomic_t g_stop = 0;

}  // namespace

int main(int argc, char** argv) {
  std::string batches_path, port_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--batches") == 0) batches_path = argv[i + 1];
    if (std::strcmp(argv[i], "--port_file") == 0) port_path = argv[i + 1];
  }
  if (batches_path.empty() || port_path.empty()) {
    std::fprintf(stderr, "usage: bare_stream_server --batches FILE --port_file PATH\n");
    return 1;
  }
  std::vector<grpc::ByteBuffer> batches;
  if (!LoadBatches(batches_path, &batches) || batches.empty()) {
    std::fprintf(stderr, "bare_stream_server: cannot read messages from %s\n",
                 batches_path.c_str());
    return 1;
  }
  Service service(std::move(batches));
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterCallbackGenericService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "bare_stream_server: cannot listen on 127.0.0.1\n");
    return 1;
  }
  const std::string tmp = port_path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
  }
  std::rename(tmp.c_str(), port_path.c_str());
  std::fprintf(stderr, "bare_stream_server: serving on 127.0.0.1:%d\n", port);

  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = [](int) { g_stop = 1; };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  while (!g_stop) pause();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}
