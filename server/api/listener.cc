#include "api/listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "config/config.h"
#include "linebridge/deadline.h"
#include "core/log.h"

namespace linebridge {
namespace {

// How often connections closed by gRPC are looked for, and at most how
// often when a cap is reached.
constexpr absl::Duration kSweepInterval = absl::Seconds(1);
constexpr absl::Duration kSweepAtCapInterval = absl::Milliseconds(100);
// Retry period while no descriptor can be had at all.
constexpr int kNoDescriptorRetryMs = 50;
// Connections taken per readiness before looking at the stop signal again.
constexpr int kAcceptBatch = 256;

bool IsDescriptorShortage(int err) {
  return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

// gRPC's spelling of a peer ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000"; an
// IPv4-mapped IPv6 address is spelled as IPv4), and the address alone.
void PeerNames(const sockaddr_storage& ss, std::string* peer, std::string* addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET6) {
    const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
      in_addr v4{};
      std::memcpy(&v4, &a6->sin6_addr.s6_addr[12], sizeof(v4));
      ::inet_ntop(AF_INET, &v4, buf, sizeof(buf));
      *addr = buf;
      *peer = absl::StrCat("ipv4:", buf, ":", ntohs(a6->sin6_port));
      return;
    }
    ::inet_ntop(AF_INET6, &a6->sin6_addr, buf, sizeof(buf));
    *addr = buf;
    *peer = absl::StrCat("ipv6:[", buf, "]:", ntohs(a6->sin6_port));
    return;
  }
  const auto* a4 = reinterpret_cast<const sockaddr_in*>(&ss);
  ::inet_ntop(AF_INET, &a4->sin_addr, buf, sizeof(buf));
  *addr = buf;
  *peer = absl::StrCat("ipv4:", buf, ":", ntohs(a4->sin_port));
}

int OpenReserve() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

}  // namespace

uint32_t ListenerOptions::DefaultMaxConnections(uint64_t rlimit_nofile) {
  const uint64_t reserve = std::max<uint64_t>(64, rlimit_nofile / 10);
  if (rlimit_nofile <= reserve + 16) return 16;
  return static_cast<uint32_t>(std::min<uint64_t>(rlimit_nofile - reserve, 1u << 30));
}

absl::StatusOr<std::unique_ptr<Listener>> Listener::Bind(const std::string& address,
                                                         ListenerOptions options) {
  absl::string_view host_view;
  absl::string_view port_view;
  int port = 0;
  if (!SplitHostPort(address, &host_view, &port_view) || !absl::SimpleAtoi(port_view, &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("listen: \"", address, "\" is not host:port"));
  }
  const std::string host(host_view);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), "0", &hints, &found); rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", address, ": ", ::gai_strerror(rc)));
  }
  std::unique_ptr<Listener> l(new Listener());
  l->on_health_ = std::move(options.on_health);
  auto fail = [&](absl::string_view what, int err) {
    ::freeaddrinfo(found);
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address, ": ", what, ": ",
                                               std::strerror(err)));
  };
  std::vector<std::string> bound;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    sockaddr_storage ss{};
    std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    std::string key(reinterpret_cast<const char*>(&ss), ai->ai_addrlen);
    if (std::find(bound.begin(), bound.end(), key) != bound.end()) continue;
    bound.push_back(key);
    const int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail("socket", errno);
    l->listen_fds_.push_back(fd);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6) {
      // "[::]" serves IPv4 too, as gRPC's listener does; a named host binds
      // each family on its own.
      const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&ss);
      const int v6only = IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr) ? 0 : 1;
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
      reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(static_cast<uint16_t>(port));
    } else {
      reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(static_cast<uint16_t>(port));
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), ai->ai_addrlen) != 0) {
      return fail("bind", errno);
    }
    if (::listen(fd, SOMAXCONN) != 0) return fail("listen", errno);
    if (port == 0) {
      sockaddr_storage got{};
      socklen_t len = sizeof(got);
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&got), &len);
      port = ntohs(got.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&got)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&got)->sin_port);
    }
  }
  ::freeaddrinfo(found);
  if (l->listen_fds_.empty()) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address, ": no address"));
  }
  l->port_ = port;
  l->wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (l->wake_fd_ < 0) return absl::ErrnoToStatus(errno, "eventfd");
  l->reserve_fd_ = OpenReserve();
  if (l->reserve_fd_ < 0) return absl::ErrnoToStatus(errno, "open /dev/null");

  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  const uint32_t derived = ListenerOptions::DefaultMaxConnections(lim.rlim_cur);
  l->max_connections_ = options.max_connections > 0 ? options.max_connections : derived;
  if (l->max_connections_ > derived) {
    LB_WARN("listener: limits.max_connections %u exceeds what %llu descriptors allow; using %u "
           "(raise LimitNOFILE, docs/security.md)",
           l->max_connections_, static_cast<unsigned long long>(lim.rlim_cur), derived);
    l->max_connections_ = derived;
  }
  l->max_per_peer_ =
      options.max_connections_per_peer > 0
          ? std::min(options.max_connections_per_peer, l->max_connections_)
          : l->max_connections_;
  return l;
}

Listener::~Listener() {
  Stop();
  for (int fd : {wake_fd_, reserve_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

void Listener::Start(std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor) {
  acceptor_ = std::move(acceptor);
  LB_LOG("listener: port %d, at most %u connections (%u per peer address)", port_,
         max_connections_, max_per_peer_);
  thread_ = std::thread([this] { Run(); });
}

void Listener::Stop() {
  if (stopping_.exchange(true)) return;
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
  for (int fd : listen_fds_) ::close(fd);
  listen_fds_.clear();
}

void Listener::SetAccepting(bool accepting) {
  if (accepting == accepting_) return;
  accepting_ = accepting;
  {
    absl::MutexLock lock(&mu_);
    stats_.accepting = accepting;
  }
  if (accepting) {
    LB_LOG("listener: descriptors available again, accepting connections");
  } else {
    LB_WARN("listener: out of descriptors (%s); pending connections are closed until "
           "descriptors are free (limits.max_connections, LimitNOFILE: docs/security.md)",
           std::strerror(errno));
  }
  if (on_health_) on_health_(accepting);
}

void Listener::Run() {
  std::vector<pollfd> fds;
  while (!stopping_.load()) {
    // Without a reserve descriptor a pending connection cannot even be
    // dropped: wait for descriptors instead of spinning on the listener.
    const bool watch_listeners = accepting_ || reserve_fd_ >= 0;
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    if (watch_listeners) {
      for (int fd : listen_fds_) fds.push_back({fd, POLLIN, 0});
    }
    const int timeout_ms = accepting_ ? static_cast<int>(absl::ToInt64Milliseconds(kSweepInterval))
                                      : kNoDescriptorRetryMs;
    const int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (stopping_.load()) break;
    if (!accepting_) {
      // Recovered once a descriptor can be opened and the reserve is back.
      if (reserve_fd_ < 0) reserve_fd_ = OpenReserve();
      if (reserve_fd_ >= 0) {
        const int probe = OpenReserve();
        if (probe >= 0) {
          ::close(probe);
          SetAccepting(true);
        }
      }
    }
    if (n > 0) {
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents != 0) AcceptReady(fds[i].fd);
      }
    }
    if (MonotonicNow() - last_sweep_ >= kSweepInterval) {
      absl::MutexLock lock(&mu_);
      Sweep();
    }
  }
}

bool Listener::DropWithReserve(int listen_fd) {
  if (reserve_fd_ < 0) reserve_fd_ = OpenReserve();
  if (reserve_fd_ < 0) return false;
  ::close(reserve_fd_);
  reserve_fd_ = -1;
  const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) {
    ::close(fd);
    absl::MutexLock lock(&mu_);
    ++stats_.dropped_no_descriptor;
  }
  reserve_fd_ = OpenReserve();
  return fd >= 0 && reserve_fd_ >= 0;
}

void Listener::AcceptReady(int listen_fd) {
  for (int i = 0; i < kAcceptBatch && !stopping_.load(); ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      if (err == EINTR || err == ECONNABORTED || err == EPROTO || err == EPERM) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      if (IsDescriptorShortage(err)) {
        SetAccepting(false);
        if (!DropWithReserve(listen_fd)) return;
        continue;
      }
      LB_WARN("listener: accept4: %s", std::strerror(err));
      return;
    }
    if (!accepting_) {
      if (reserve_fd_ < 0) reserve_fd_ = OpenReserve();
      if (reserve_fd_ >= 0) SetAccepting(true);
    }
    // What gRPC's own listener does for every connection: no Nagle delay
    // (a small reply would otherwise wait for the peer's delayed ACK, ~40 ms).
    const int nodelay = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof(nodelay));
    struct stat st {};
    ::fstat(fd, &st);
    Conn c;
    c.fd = fd;
    c.dev = st.st_dev;
    c.ino = st.st_ino;
    PeerNames(ss, &c.peer, &c.peer_addr);
    {
      absl::MutexLock lock(&mu_);
      // The kernel reuses numbers: an entry under this one is stale.
      if (auto old = conns_.find(fd); old != conns_.end()) Forget(old);
      if (!MakeRoom(c.peer_addr)) {
        ++stats_.refused_at_cap;
        ::close(fd);
        continue;
      }
      c.order = next_order_++;
      PeerAddr& pa = per_addr_[c.peer_addr];
      ++pa.open;
      pa.unauthenticated.emplace(c.order, fd);
      unauthenticated_.emplace(c.order, fd);
      by_peer_[c.peer] = fd;
      conns_.emplace(fd, std::move(c));
      ++stats_.accepted;
    }
    grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters params;
    params.listener_fd = listen_fd;
    params.fd = fd;
    acceptor_->HandleNewConnection(&params);  // gRPC owns fd from here
  }
}

bool Listener::MakeRoom(const std::string& peer_addr) {
  auto full = [&] {
    mu_.AssertHeld();
    auto it = per_addr_.find(peer_addr);
    const bool peer_full = it != per_addr_.end() && it->second.open >= max_per_peer_;
    return peer_full || conns_.size() >= max_connections_;
  };
  if (!full()) return true;
  if (MonotonicNow() - last_sweep_ >= kSweepAtCapInterval) Sweep();
  auto it = per_addr_.find(peer_addr);
  if (it != per_addr_.end() && it->second.open >= max_per_peer_ &&
      !EvictOldestUnauthenticated(&peer_addr)) {
    return false;
  }
  if (conns_.size() >= max_connections_ && !EvictOldestUnauthenticated(nullptr)) return false;
  return true;
}

bool Listener::EvictOldestUnauthenticated(const std::string* peer_addr) {
  std::map<uint64_t, int>* pool = &unauthenticated_;
  if (peer_addr != nullptr) {
    auto it = per_addr_.find(*peer_addr);
    if (it == per_addr_.end()) return false;
    pool = &it->second.unauthenticated;
  }
  if (pool->empty()) return false;
  auto conn = conns_.find(pool->begin()->second);
  if (conn == conns_.end()) {  // cannot happen; keep the tables consistent
    pool->erase(pool->begin());
    return false;
  }
  struct stat st {};
  if (::fstat(conn->second.fd, &st) == 0 && st.st_dev == conn->second.dev &&
      st.st_ino == conn->second.ino) {
    // gRPC still owns the descriptor: end the connection, gRPC closes it.
    ::shutdown(conn->second.fd, SHUT_RDWR);
    ++stats_.evicted_idle;
  }
  Forget(conn);
  return true;
}

void Listener::Forget(std::map<int, Conn>::iterator it) {
  const Conn& c = it->second;
  if (auto p = by_peer_.find(c.peer); p != by_peer_.end() && p->second == c.fd) by_peer_.erase(p);
  if (auto a = per_addr_.find(c.peer_addr); a != per_addr_.end()) {
    a->second.unauthenticated.erase(c.order);
    if (--a->second.open == 0) per_addr_.erase(a);
  }
  unauthenticated_.erase(c.order);
  conns_.erase(it);
}

void Listener::Sweep() {
  last_sweep_ = MonotonicNow();
  for (auto it = conns_.begin(); it != conns_.end();) {
    struct stat st {};
    const bool same = ::fstat(it->first, &st) == 0 && st.st_dev == it->second.dev &&
                      st.st_ino == it->second.ino;
    if (same) {
      ++it;
    } else {
      auto gone = it++;
      Forget(gone);
    }
  }
}

void Listener::MarkAuthenticated(const std::string& peer) {
  // gRPC may write IPv6 brackets URI-escaped ("ipv6:%5B::1%5D:5000").
  const std::string key = absl::StrReplaceAll(peer, {{"%5B", "["}, {"%5D", "]"}});
  absl::MutexLock lock(&mu_);
  auto p = by_peer_.find(key);
  if (p == by_peer_.end()) return;
  auto it = conns_.find(p->second);
  if (it == conns_.end() || it->second.authenticated) return;
  it->second.authenticated = true;
  unauthenticated_.erase(it->second.order);
  if (auto a = per_addr_.find(it->second.peer_addr); a != per_addr_.end()) {
    a->second.unauthenticated.erase(it->second.order);
  }
}

ListenerStats Listener::stats() const {
  absl::MutexLock lock(&mu_);
  ListenerStats s = stats_;
  s.open = static_cast<uint32_t>(conns_.size());
  return s;
}

}  // namespace linebridge
