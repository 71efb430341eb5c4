#include "tls_record_cost.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>
#include <vector>

#include "bench_util.h"

namespace linebridge::bench {
namespace {

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

constexpr int kBioSize = 64 * 1024;

// An SSL object whose "network" side is the returned BIO.
SslPtr NewEndpoint(SSL_CTX* ctx, bool server, BioPtr* network) {
  SslPtr ssl(SSL_new(ctx));
  BIO* internal = nullptr;
  BIO* external = nullptr;
  if (ssl == nullptr || BIO_new_bio_pair(&internal, kBioSize, &external, kBioSize) != 1) {
    return nullptr;
  }
  SSL_set_bio(ssl.get(), internal, internal);  // ssl owns `internal`
  network->reset(external);
  if (server) {
    SSL_set_accept_state(ssl.get());
  } else {
    SSL_set_connect_state(ssl.get());
  }
  return ssl;
}

// Moves whatever `from` has written to its network BIO into `to`'s.
bool Pump(BIO* from, BIO* to) {
  static thread_local std::vector<char> buf(kBioSize);
  for (;;) {
    const int n = BIO_read(from, buf.data(), static_cast<int>(buf.size()));
    if (n <= 0) return true;
    if (BIO_write(to, buf.data(), n) != n) return false;
  }
}

std::string OpenSslError(const std::string& what) {
  char buf[256] = "";
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  ERR_clear_error();
  return what + ": " + buf;
}

// One record from `writer` to `reader`, through the network BIOs.
bool Transfer(SSL* writer, BIO* writer_net, SSL* reader, BIO* reader_net,
              const std::vector<char>& data, std::vector<char>* sink) {
  if (SSL_write(writer, data.data(), static_cast<int>(data.size())) !=
      static_cast<int>(data.size())) {
    return false;
  }
  if (!Pump(writer_net, reader_net)) return false;
  size_t got = 0;
  while (got < data.size()) {
    const int n = SSL_read(reader, sink->data(), static_cast<int>(sink->size()));
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

bool MeasureRecordCost(const std::string& cert_file, const std::string& key_file, bool tls12,
                       const std::string& suites, int request_bytes, int response_bytes,
                       int rounds, RecordCost* out, std::string* error) {
  CtxPtr server_ctx(SSL_CTX_new(TLS_server_method()));
  CtxPtr client_ctx(SSL_CTX_new(TLS_client_method()));
  if (server_ctx == nullptr || client_ctx == nullptr) {
    *error = OpenSslError("SSL_CTX_new");
    return false;
  }
  const int version = tls12 ? TLS1_2_VERSION : TLS1_3_VERSION;
  for (SSL_CTX* ctx : {server_ctx.get(), client_ctx.get()}) {
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    const int ok = tls12 ? SSL_CTX_set_cipher_list(ctx, suites.c_str())
                         : SSL_CTX_set_ciphersuites(ctx, suites.c_str());
    if (ok != 1) {
      *error = OpenSslError("cipher list " + suites);
      return false;
    }
  }
  if (SSL_CTX_use_certificate_chain_file(server_ctx.get(), cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(server_ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    *error = OpenSslError("server certificate");
    return false;
  }
  BioPtr client_net;
  BioPtr server_net;
  SslPtr client = NewEndpoint(client_ctx.get(), false, &client_net);
  SslPtr server = NewEndpoint(server_ctx.get(), true, &server_net);
  if (client == nullptr || server == nullptr) {
    *error = OpenSslError("SSL_new");
    return false;
  }
  bool done = false;
  for (int i = 0; i < 20 && !done; ++i) {
    const int c = SSL_do_handshake(client.get());
    if (!Pump(client_net.get(), server_net.get())) break;
    const int s = SSL_do_handshake(server.get());
    if (!Pump(server_net.get(), client_net.get())) break;
    done = c == 1 && s == 1;
  }
  if (!done) {
    *error = OpenSslError("handshake");
    return false;
  }
  out->version = SSL_get_version(client.get());
  out->cipher = SSL_get_cipher_name(client.get());
  const std::vector<char> request(static_cast<size_t>(request_bytes), 'q');
  const std::vector<char> response(static_cast<size_t>(response_bytes), 'r');
  std::vector<char> sink(kBioSize);
  Stats stats;
  const int warmup = rounds / 10 + 1;
  for (int i = 0; i < warmup + rounds; ++i) {
    const auto t0 = Clock::now();
    // TLS 1.3 session tickets reach the client with its first read here.
    if (!Transfer(client.get(), client_net.get(), server.get(), server_net.get(), request,
                  &sink) ||
        !Transfer(server.get(), server_net.get(), client.get(), client_net.get(), response,
                  &sink)) {
      *error = OpenSslError("record transfer");
      return false;
    }
    const double us = MicrosSince(t0);
    if (i >= warmup) stats.Add(us);
  }
  out->round_p50_us = stats.P50();
  return true;
}

}  // namespace linebridge::bench
