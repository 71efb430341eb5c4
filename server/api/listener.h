// The daemon's own TCP listener, in front of gRPC (docs/security.md,
// "Connections and descriptors").
//
// gRPC 1.51's listener stops for good after one failed accept4() (EMFILE,
// ENFILE, ENOBUFS, ENOMEM): its read handler logs "Failed accept4" and never
// re-arms the descriptor, so the process lives on without accepting anything.
// This listener owns the listening sockets instead and hands every accepted
// connection to gRPC through an ExternalConnectionAcceptor (TLS and HTTP/2
// are still gRPC's). It
//   - survives descriptor exhaustion: a reserve descriptor is closed to accept
//     and drop the pending connection, then re-opened; while no descriptor can
//     be had it retries on a short timer, and reports "cannot accept" to the
//     health callback until a descriptor can be opened again;
//   - caps connections, in total and per peer address, below the descriptor
//     limit: at a cap, the oldest connection that never carried an
//     authenticated request is closed to make room; if every connection is
//     authenticated, the new one is refused.
// Connections closed by gRPC are noticed by re-checking each tracked
// descriptor's inode (gRPC gives no close callback for external connections).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/server_builder.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linebridge {

struct ListenerOptions {
  // Connections at once, all peers. 0 = derived from RLIMIT_NOFILE
  // (ListenerOptions::DefaultMaxConnections).
  uint32_t max_connections = 0;
  // Connections at once from one peer address. 0 = max_connections.
  uint32_t max_connections_per_peer = 0;
  // Called from the listener's thread when accepting becomes impossible
  // (false) or possible again (true).
  std::function<void(bool)> on_health;

  // Descriptors left for everything else (stores, providers, outbound
  // channels, the reserve): a tenth of the limit, at least 64.
  static uint32_t DefaultMaxConnections(uint64_t rlimit_nofile);
};

struct ListenerStats {
  uint64_t accepted = 0;
  uint64_t refused_at_cap = 0;       // every tracked connection authenticated
  uint64_t evicted_idle = 0;         // unauthenticated, closed to make room
  uint64_t dropped_no_descriptor = 0;  // accepted with the reserve, then closed
  uint32_t open = 0;
  bool accepting = true;
};

class Listener {
 public:
  // Binds `address` ("host:port", "[v6]:port"; port 0 picks one) on every
  // address the host resolves to, with one port. Does not accept yet.
  static absl::StatusOr<std::unique_ptr<Listener>> Bind(const std::string& address,
                                                        ListenerOptions options);
  ~Listener();

  int port() const { return port_; }
  uint32_t max_connections() const { return max_connections_; }
  uint32_t max_connections_per_peer() const { return max_per_peer_; }

  // Starts accepting into `acceptor` (from
  // ServerBuilder::experimental().AddExternalConnectionAcceptor), on its own thread.
  void Start(std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor);
  // Stops accepting and closes the listening sockets (connections already
  // handed to gRPC are gRPC's). Idempotent.
  void Stop();

  // The connection whose gRPC peer string is `peer` ("ipv4:1.2.3.4:5",
  // "ipv6:[::1]:5") carried an authenticated request: it is no longer
  // closed to make room. Cheap; unknown peers are ignored.
  void MarkAuthenticated(const std::string& peer);

  ListenerStats stats() const;

 private:
  struct Conn {
    int fd = -1;
    dev_t dev = 0;
    ino_t ino = 0;
    std::string peer_addr;  // address only: the per-peer key
    std::string peer;       // gRPC's peer string
    uint64_t order = 0;     // accept order, oldest first
    bool authenticated = false;
  };

  Listener() = default;
  void Run();
  void AcceptReady(int listen_fd);
  // Closes the pending connection with the reserve descriptor. False if
  // the reserve could not be had either.
  bool DropWithReserve(int listen_fd);
  void SetAccepting(bool accepting);
  // Forgets connections whose descriptor gRPC has closed.
  void Sweep() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Makes room for one more connection from `peer_addr`; false if none can
  // be made (then the new connection is refused).
  bool MakeRoom(const std::string& peer_addr) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool EvictOldestUnauthenticated(const std::string* peer_addr) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Forget(std::map<int, Conn>::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::vector<int> listen_fds_;
  int wake_fd_ = -1;     // eventfd: Stop()
  int reserve_fd_ = -1;  // /dev/null, given up to accept-and-drop at EMFILE
  int port_ = 0;
  uint32_t max_connections_ = 0;
  uint32_t max_per_peer_ = 0;
  std::function<void(bool)> on_health_;
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  bool accepting_ = true;  // listener thread only (mirrored in stats)
  absl::Time last_sweep_ = absl::InfinitePast();  // listener thread only

  mutable absl::Mutex mu_;
  std::map<int, Conn> conns_ ABSL_GUARDED_BY(mu_);           // by descriptor
  std::map<std::string, int> by_peer_ ABSL_GUARDED_BY(mu_);  // gRPC peer string -> fd
  struct PeerAddr {
    uint32_t open = 0;
    std::map<uint64_t, int> unauthenticated;  // order -> fd
  };
  std::map<std::string, PeerAddr> per_addr_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, int> unauthenticated_ ABSL_GUARDED_BY(mu_);  // order -> fd
  uint64_t next_order_ ABSL_GUARDED_BY(mu_) = 0;
  ListenerStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linebridge
