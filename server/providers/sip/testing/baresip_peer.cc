#include "providers/sip/testing/baresip_peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace linebridge::sip::testing {
namespace {

bool TcpPortFree(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
  ::close(fd);
  return ok;
}

// A SIP port for baresip: it listens on UDP and TCP there and on TCP one
// above (its TLS port, even without TLS configured).
int SipPortPair() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int port = FreePort();
    if (port > 0 && port < 65535 && TcpPortFree(port + 1)) return port;
  }
  return -1;
}

std::string Netstring(const std::string& s) { return absl::StrCat(s.size(), ":", s, ","); }

}  // namespace

std::string JsonField(const std::string& json, const std::string& name) {
  const std::string key = absl::StrCat("\"", name, "\":");
  size_t at = json.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  if (at >= json.size()) return "";
  if (json[at] != '"') {
    const size_t end = json.find_first_of(",}", at);
    return json.substr(at, end == std::string::npos ? std::string::npos : end - at);
  }
  std::string out;
  for (size_t i = at + 1; i < json.size(); ++i) {
    if (json[i] == '\\' && i + 1 < json.size()) {
      const char c = json[++i];
      out.push_back(c == 'n' ? '\n' : c);
    } else if (json[i] == '"') {
      break;
    } else {
      out.push_back(json[i]);
    }
  }
  return out;
}

BaresipPhone::~BaresipPhone() { Kill(); }

bool BaresipPhone::Start(const BaresipOptions& o, const std::string& dir, std::string* error) {
  sip_port_ = SipPortPair();
  const int ctrl_port = FreePort();
  if (sip_port_ <= 0 || ctrl_port <= 0 || ctrl_port == sip_port_ + 1) {
    *error = "no free ports for baresip";
    return false;
  }
  const std::string home = absl::StrCat(dir, "/baresip_", sip_port_);
  std::error_code ec;
  std::filesystem::create_directories(home, ec);
  std::ofstream(absl::StrCat(home, "/config"))
      << "sip_listen 127.0.0.1:" << sip_port_ << "\n"
      << "net_interface 127.0.0.1\n"
      << "module_path /usr/lib/baresip/modules\n"
      << "module g711.so\nmodule ausine.so\nmodule aufile.so\n"
      // A 440 Hz tone as the microphone (ausine makes 48 kHz stereo only),
      // no loudspeaker.
      << "audio_source ausine,440\nausrc_srate 48000\nausrc_channels 2\n"
      << "module_app account.so\nmodule_app contact.so\nmodule_app menu.so\n"
      << "module_app ctrl_tcp.so\nctrl_tcp_listen 127.0.0.1:" << ctrl_port << "\n";
  std::ofstream(absl::StrCat(home, "/accounts"))
      << "<sip:" << o.user << "@127.0.0.1>;auth_pass=" << o.password
      << ";outbound=\"sip:127.0.0.1:" << o.registrar_port << "\""
      << ";regint=60;answermode=" << (o.auto_answer ? "auto" : "manual") << "\n";
  std::ofstream(absl::StrCat(home, "/contacts"));
  if (!child_.Start({"baresip", "-f", home}, absl::StrCat(home, "/baresip.log"))) {
    *error = "cannot start baresip";
    return false;
  }
  const absl::Time deadline = absl::Now() + o.startup;
  if (!Connect(ctrl_port, deadline)) {
    *error = absl::StrCat("baresip's ctrl_tcp on port ", ctrl_port, " never answered; log:\n",
                          ReadLog());
    return false;
  }
  reader_ = std::thread([this] { ReadLoop(); });
  // Registered: reginfo lists the account as OK (the REGISTER_OK event may
  // have passed before the control connection).
  while (absl::Now() < deadline) {
    std::optional<std::string> info = Command("reginfo");
    if (info.has_value() && absl::StrContains(*info, "OK")) return true;
    // Polling a state the phone announces nowhere else.
    absl::SleepFor(absl::Milliseconds(50));
  }
  *error = absl::StrCat("baresip never registered at 127.0.0.1:", o.registrar_port, "; log:\n",
                        ReadLog());
  return false;
}

bool BaresipPhone::Connect(int port, absl::Time deadline) {
  while (absl::Now() < deadline) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0) {
      ctrl_fd_ = fd;
      return true;
    }
    ::close(fd);
    if (::kill(child_.pid(), 0) != 0) return false;
    absl::SleepFor(absl::Milliseconds(20));  // until baresip listens
  }
  return false;
}

void BaresipPhone::ReadLoop() {
  std::string buf;
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::recv(ctrl_fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) break;
    const absl::Time now = absl::Now();
    buf.append(chunk, static_cast<size_t>(n));
    // Netstrings: "<length>:<json>,".
    for (;;) {
      const size_t colon = buf.find(':');
      if (colon == std::string::npos) break;
      const size_t len = std::strtoul(buf.substr(0, colon).c_str(), nullptr, 10);
      if (buf.size() < colon + 1 + len + 1) break;
      std::string json = buf.substr(colon + 1, len);
      buf.erase(0, colon + 1 + len + 1);
      absl::MutexLock lock(&mu_);
      if (JsonField(json, "event") == "true") {
        events_.push_back({json, JsonField(json, "type"), now});
      } else {
        responses_.push_back(std::move(json));
      }
    }
  }
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

std::optional<std::string> BaresipPhone::Command(const std::string& command,
                                                 const std::string& params,
                                                 absl::Duration timeout) {
  if (ctrl_fd_ < 0) return std::nullopt;
  const std::string token = absl::StrCat("lb", next_token_++);
  const std::string json = absl::StrCat("{\"command\":\"", command, "\",\"params\":\"", params,
                                        "\",\"token\":\"", token, "\"}");
  const std::string wire = Netstring(json);
  if (::send(ctrl_fd_, wire.data(), wire.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(wire.size())) {
    return std::nullopt;
  }
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mu_);
  auto answered = [this, &token]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (closed_) return true;
    for (const auto& r : responses_) {
      if (JsonField(r, "token") == token) return true;
    }
    return false;
  };
  mu_.AwaitWithDeadline(absl::Condition(&answered), deadline);
  for (auto it = responses_.begin(); it != responses_.end(); ++it) {
    if (JsonField(*it, "token") != token) continue;
    const std::string r = *it;
    responses_.erase(it);
    if (JsonField(r, "ok") != "true") return std::nullopt;
    return JsonField(r, "data");
  }
  return std::nullopt;
}

std::optional<BaresipPhone::Event> BaresipPhone::WaitEvent(const std::string& type,
                                                           absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mu_);
  for (;;) {
    while (!events_.empty()) {
      Event ev = std::move(events_.front());
      events_.pop_front();
      if (ev.type == type) return ev;
    }
    if (closed_) return std::nullopt;
    auto any = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !events_.empty() || closed_; };
    if (!mu_.AwaitWithDeadline(absl::Condition(&any), deadline)) {
      return std::nullopt;
    }
  }
}

void BaresipPhone::Kill() {
  if (child_.pid() > 0) {
    ::kill(-child_.pid(), SIGKILL);
    child_.Kill();  // reaps
  }
  if (ctrl_fd_ >= 0) ::shutdown(ctrl_fd_, SHUT_RDWR);
  if (reader_.joinable()) reader_.join();
  if (ctrl_fd_ >= 0) ::close(ctrl_fd_);
  ctrl_fd_ = -1;
}

}  // namespace linebridge::sip::testing
