#include "providers/modem/modem_emulator.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace linebridge::modem {

ModemEmulator::ModemEmulator(Dialect dialect, std::string link)
    : dialect_(dialect), link_(std::move(link)) {
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  Open();
  thread_ = std::thread([this] { Run(); });
}

ModemEmulator::~ModemEmulator() {
  stop_.store(true);
  Wake();
  thread_.join();
  Close();
  ::close(event_fd_);
}

void ModemEmulator::Wake() {
  const uint64_t one = 1;
  (void)!::write(event_fd_, &one, sizeof(one));
}

void ModemEmulator::Open() {
  absl::MutexLock lock(&mu_);
  int master = -1, slave = -1;
  char name[256] = {};
  if (::openpty(&master, &slave, name, nullptr, nullptr) != 0) {
    std::perror("openpty");
    return;
  }
  termios tio;
  ::tcgetattr(slave, &tio);
  ::cfmakeraw(&tio);
  ::tcsetattr(slave, TCSANOW, &tio);
  ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  ::fcntl(slave, F_SETFD, FD_CLOEXEC);
  ::unlink(link_.c_str());
  if (::symlink(name, link_.c_str()) != 0) std::perror("symlink");
  master_ = master;
  slave_ = slave;  // held open so the master never sees a hang-up of its own
  in_.clear();
  echo_ = true;
  online_ = false;
  call_ = Call::kIdle;
  dial_done_ = next_ring_ = absl::InfiniteFuture();
  voice_.Start(EmulatorVoice::Mode::kNone, absl::Now());
}

void ModemEmulator::Close() {
  absl::MutexLock lock(&mu_);
  ::unlink(link_.c_str());
  if (master_ >= 0) ::close(master_);
  if (slave_ >= 0) ::close(slave_);
  master_ = slave_ = -1;
}

void ModemEmulator::Vanish() {
  Close();
  Wake();
}

void ModemEmulator::Return() {
  Open();
  Wake();
}

std::vector<std::string> ModemEmulator::commands() {
  absl::MutexLock lock(&mu_);
  return commands_;
}

uint64_t ModemEmulator::lines_received() {
  absl::MutexLock lock(&mu_);
  return lines_;
}

bool ModemEmulator::SawCommand(const std::string& command) {
  absl::MutexLock lock(&mu_);
  return std::find(commands_.begin(), commands_.end(), command) != commands_.end();
}

bool ModemEmulator::WaitCommand(const std::string& command, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (SawCommand(command)) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return SawCommand(command);
}

void ModemEmulator::Send(const std::string& bytes) {
  absl::MutexLock lock(&mu_);
  Write(bytes);
}

void ModemEmulator::StartRinging(const std::string& number, const std::string& name,
                                 absl::Duration ring_every) {
  {
    absl::MutexLock lock(&mu_);
    call_ = Call::kRinging;
    number_ = number;
    ring_every_ = ring_every;
    if (dialect_ == Dialect::kV253) {
      Write("\r\nRING\r\n");
      Write(absl::StrCat("\r\nDATE=0101\r\nTIME=1200\r\nNMBR=", number, "\r\nNAME=", name,
                         "\r\n"));
    } else {
      Write(absl::StrCat("\r\n+CRING: VOICE\r\n\r\n+CLIP: \"", number, "\",129,,,\"", name,
                         "\",0\r\n"));
    }
    next_ring_ = absl::Now() + ring_every;
  }
  Wake();
}

void ModemEmulator::StopRinging() {
  absl::MutexLock lock(&mu_);
  if (call_ == Call::kRinging) call_ = Call::kIdle;
  next_ring_ = absl::InfiniteFuture();
}

void ModemEmulator::Connect() {
  fax_ = fclass_ == "1" || fclass_ == "1.0" || fclass_ == "2" || fclass_ == "2.0";
  online_ = true;
  Reply({}, fax_ ? "CONNECT" : "CONNECT 33600");
}

void ModemEmulator::RemoteHangup() {
  absl::MutexLock lock(&mu_);
  call_ = Call::kIdle;
  online_ = false;
  if (voice_.mode() != EmulatorVoice::Mode::kNone) {
    // A voice modem hears the exchange's busy tone, then nothing.
    voice_.QueueEvent('b');
    voice_.SetToneHz(0);
    return;
  }
  Write("\r\nNO CARRIER\r\n");
}

void ModemEmulator::EnableVoice(bool enable) {
  absl::MutexLock lock(&mu_);
  voice_enabled_ = enable;
}

void ModemEmulator::SetVoiceMethods(std::vector<EmulatorVoice::Method> methods) {
  absl::MutexLock lock(&mu_);
  voice_.SetMethods(std::move(methods));
}

void ModemEmulator::SetVoiceDuplex(bool duplex) {
  absl::MutexLock lock(&mu_);
  voice_duplex_ = duplex;
}

void ModemEmulator::SetVoiceToneHz(double hz) {
  absl::MutexLock lock(&mu_);
  voice_tone_hz_ = hz;
  voice_.SetToneHz(hz);
}

void ModemEmulator::SendVoiceEvent(char code) {
  {
    absl::MutexLock lock(&mu_);
    voice_.QueueEvent(code);
  }
  Wake();
}

bool ModemEmulator::InVoiceStream() {
  absl::MutexLock lock(&mu_);
  return voice_.mode() != EmulatorVoice::Mode::kNone;
}

bool ModemEmulator::WaitVoiceStream(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (InVoiceStream()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return InVoiceStream();
}

std::vector<int16_t> ModemEmulator::VoiceReceived() {
  absl::MutexLock lock(&mu_);
  return voice_.received();
}

void ModemEmulator::ClearVoiceReceived() {
  absl::MutexLock lock(&mu_);
  voice_.ClearReceived();
}

int ModemEmulator::voice_rate() {
  absl::MutexLock lock(&mu_);
  return voice_.rate();
}

int ModemEmulator::voice_streams() {
  absl::MutexLock lock(&mu_);
  return voice_.streams();
}

void ModemEmulator::StartVoice(EmulatorVoice::Mode mode) {
  if (dialect_ != Dialect::kV253 || fclass_ != "8" || call_ != Call::kActive) {
    Reply({}, "ERROR");
    return;
  }
  Reply({}, "CONNECT");
  voice_.SetToneHz(voice_tone_hz_);
  voice_.Start(mode, absl::Now());
}

void ModemEmulator::RemoteAnswer() {
  absl::MutexLock lock(&mu_);
  if (call_ == Call::kAlerting) call_ = Call::kActive;
}

void ModemEmulator::SetDialResult(const std::string& result) {
  absl::MutexLock lock(&mu_);
  dial_result_ = result;
}

void ModemEmulator::SetFragmented(bool fragmented, bool interleave) {
  absl::MutexLock lock(&mu_);
  fragmented_ = fragmented;
  interleave_ = interleave;
}

void ModemEmulator::SetFailCommand(const std::string& command) {
  absl::MutexLock lock(&mu_);
  fail_command_ = command;
}

int ModemEmulator::CountCommand(const std::string& command) {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(std::count(commands_.begin(), commands_.end(), command));
}

void ModemEmulator::GoOnline(bool fax) {
  absl::MutexLock lock(&mu_);
  online_ = true;
  fax_ = fax;
  in_.clear();
}

void ModemEmulator::SetMute(bool mute) {
  absl::MutexLock lock(&mu_);
  mute_ = mute;
}

void ModemEmulator::Write(const std::string& bytes) {
  if (master_ < 0) return;
  if (!fragmented_) {
    size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t w = ::write(master_, bytes.data() + off, bytes.size() - off);
      if (w > 0) {
        off += static_cast<size_t>(w);
      } else if (w < 0 && errno == EAGAIN) {
        pollfd p{master_, POLLOUT, 0};
        ::poll(&p, 1, 100);
      } else {
        return;
      }
    }
    return;
  }
  for (char c : bytes) {
    (void)!::write(master_, &c, 1);
    absl::SleepFor(absl::Microseconds(200));
  }
}

void ModemEmulator::Reply(const std::vector<std::string>& info, const std::string& final) {
  for (const auto& l : info) Write(absl::StrCat("\r\n", l, "\r\n"));
  if (interleave_) Write("\r\n+CREG: 1\r\n");
  Write(absl::StrCat("\r\n", final, "\r\n"));
}

void ModemEmulator::HandleLine(const std::string& raw) {
  const std::string line(absl::StripAsciiWhitespace(raw));
  if (line.empty()) {
    // Any character aborts a dial in progress.
    if (call_ == Call::kDialing) {
      call_ = Call::kIdle;
      dial_done_ = absl::InfiniteFuture();
      Reply({}, "NO CARRIER");
    }
    return;
  }
  // Characters before the "AT" prefix are ignored (V.250 5.2.1), e.g. an
  // escape sent while already in command state.
  const size_t at = absl::AsciiStrToUpper(line).find("AT");
  const std::string command = at == std::string::npos ? line : line.substr(at);
  commands_.push_back(command);
  ++lines_;
  if (mute_) return;
  if (echo_) Write(line + "\r");
  const std::string up = absl::AsciiStrToUpper(command);
  if (dialect_ == Dialect::kEcho) {
    Reply({}, "OK");
    return;
  }
  if (!absl::StartsWith(up, "AT")) return;  // not a command: ignored
  if (!fail_command_.empty() && line == fail_command_) {
    Reply({}, "ERROR");
    return;
  }
  const bool gpp = dialect_ == Dialect::k3gpp;
  const bool voice = voice_enabled_ && dialect_ == Dialect::kV253;
  if (up == "ATE0") {
    echo_ = false;
    Reply({}, "OK");
  } else if (up == "ATZ" || up == "AT&F") {
    echo_ = true;
    call_ = Call::kIdle;
    fclass_ = "0";
    Reply({}, "OK");
  } else if (absl::StartsWith(up, "AT+FCLASS=") && up != "AT+FCLASS=?" && !gpp) {
    fclass_ = up.substr(10);
    Reply({}, "OK");
  } else if (up == "ATI") {
    Reply({gpp ? "linebridge cellular emulator" : "linebridge voice modem emulator"}, "OK");
  } else if (up == "AT+GMI") {
    Reply({"linebridge"}, "OK");
  } else if (up == "AT+GMM") {
    Reply({gpp ? "EMU-27007" : "EMU-V253"}, "OK");
  } else if (up == "AT+CGMI" || up == "AT+CGMM" || up == "AT+CPAS") {
    if (!gpp) {
      Reply({}, "ERROR");
    } else if (up == "AT+CPAS") {
      Reply({call_ == Call::kIdle ? "+CPAS: 0" : "+CPAS: 4"}, "OK");
    } else {
      Reply({up == "AT+CGMI" ? "+CGMI: linebridge" : "+CGMM: EMU-27007"}, "OK");
    }
  } else if (up == "AT+VSM=?" && voice) {
    Reply(voice_.TestLines(), "OK");
  } else if (absl::StartsWith(up, "AT+VSM=") && voice) {
    Reply({}, voice_.Select(up.substr(7)) ? "OK" : "ERROR");
  } else if (up == "AT+VTR" && voice) {
    if (voice_duplex_) {
      StartVoice(EmulatorVoice::Mode::kDuplex);
    } else {
      Reply({}, "ERROR");
    }
  } else if (up == "AT+VRX" && voice) {
    StartVoice(EmulatorVoice::Mode::kReceive);
  } else if (up == "AT+VTX" && voice) {
    StartVoice(EmulatorVoice::Mode::kTransmit);
  } else if (up == "AT+FCLASS=?") {
    if (gpp) {
      Reply({}, "ERROR");
    } else {
      Reply({"0,1,8"}, "OK");
    }
  } else if (absl::StartsWith(up, "ATD")) {
    std::string n = up.substr(3);
    if (!n.empty() && (n[0] == 'T' || n[0] == 'P')) n.erase(0, 1);
    if (!n.empty() && n.back() == ';') n.pop_back();
    number_ = n;
    if (dial_result_ == "ERROR") {
      Reply({}, "ERROR");
      return;
    }
    call_ = Call::kDialing;
    dial_done_ = dial_result_ == "HOLD" ? absl::InfiniteFuture()
                                        : absl::Now() + absl::Milliseconds(50);
  } else if (up == "ATA") {
    if (call_ == Call::kRinging) {
      call_ = Call::kActive;
      next_ring_ = absl::InfiniteFuture();
      if (gpp || fclass_ == "8") {
        Reply({}, gpp ? "OK" : "VCON");
      } else {
        Connect();
      }
    } else {
      Reply({}, "NO CARRIER");
    }
  } else if (up == "ATH" || up == "AT+CHUP" || up == "ATH0") {
    call_ = Call::kIdle;
    next_ring_ = absl::InfiniteFuture();
    dial_done_ = absl::InfiniteFuture();
    Reply({}, "OK");
  } else if (up == "AT+CLCC") {
    std::vector<std::string> info;
    if (gpp && call_ != Call::kIdle) {
      const char* stat = call_ == Call::kActive     ? "0"
                         : call_ == Call::kAlerting ? "3"
                         : call_ == Call::kRinging  ? "4"
                                                    : "2";
      const char* dir = call_ == Call::kRinging ? "1" : "0";
      info.push_back(absl::StrCat("+CLCC: 1,", dir, ",", stat, ",0,0,\"", number_, "\",129"));
    }
    Reply(info, gpp ? "OK" : "ERROR");
  } else {
    Reply({}, "OK");
  }
}

void ModemEmulator::Receive(std::string bytes) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (voice_.mode() != EmulatorVoice::Mode::kNone) {
      // A voice data state: shielded audio and <DLE> commands.
      bool ended = false;
      std::string rest;
      std::vector<std::string> codes;
      const std::string answer =
          voice_.OnDteBytes(absl::string_view(bytes).substr(i), &ended, &rest, &codes);
      for (auto& c : codes) commands_.push_back(std::move(c));
      if (!ended) return;
      in_.clear();
      Write(answer);
      bytes = std::move(rest);
      i = static_cast<size_t>(-1);  // the loop's ++i starts at 0
      continue;
    }
    const char c = bytes[i];
    if (online_ && fax_) {
      // Online fax (class 1/2): "+++" is data; DLE ETX ends the
      // transmission and the modem is back in command state.
      in_.push_back(c);
      if (in_.size() >= 2 && in_.compare(in_.size() - 2, 2, "\x10\x03") == 0) {
        online_ = false;
        in_.clear();
        commands_.push_back("<DLE><ETX>");
        Reply({}, "OK");
      }
      continue;
    }
    if (online_) {
      // Online data: everything is data except the escape.
      in_.push_back(c);
      if (in_.size() >= 3 && in_.compare(in_.size() - 3, 3, "+++") == 0) {
        online_ = false;
        in_.clear();
        commands_.push_back("+++");
        Reply({}, "OK");
      }
      continue;
    }
    if (c == '\r') {
      std::string line;
      line.swap(in_);
      HandleLine(line);
    } else if (c != '\n') {
      in_.push_back(c);
    }
  }
}

void ModemEmulator::Run() {
  while (!stop_.load()) {
    int master = -1;
    int timeout_ms = -1;
    {
      absl::MutexLock lock(&mu_);
      master = master_;
      const absl::Time now = absl::Now();
      if (call_ == Call::kDialing && now >= dial_done_) {
        dial_done_ = absl::InfiniteFuture();
        if (dial_result_.empty()) {
          if (dialect_ == Dialect::k3gpp) {
            call_ = Call::kAlerting;
            Reply({}, "OK");
          } else if (fclass_ != "8") {
            call_ = Call::kActive;
            Connect();
          } else {
            call_ = Call::kActive;
            Reply({}, "VCON");
          }
        } else if (dial_result_.rfind("CONNECT", 0) == 0) {
          call_ = Call::kActive;
          online_ = true;
          fax_ = fclass_ == "1" || fclass_ == "1.0" || fclass_ == "2" || fclass_ == "2.0";
          Reply({}, dial_result_);
        } else {
          call_ = Call::kIdle;
          Reply({}, dial_result_);
        }
      }
      if (call_ == Call::kRinging && now >= next_ring_) {
        Write(dialect_ == Dialect::k3gpp
                  ? absl::StrCat("\r\n+CRING: VOICE\r\n\r\n+CLIP: \"", number_, "\",129\r\n")
                  : std::string("\r\nRING\r\n"));
        next_ring_ = now + ring_every_;
      }
      if (voice_.mode() != EmulatorVoice::Mode::kNone) Write(voice_.Generate(now));
      absl::Time next = std::min(call_ == Call::kDialing ? dial_done_ : absl::InfiniteFuture(),
                                 call_ == Call::kRinging ? next_ring_ : absl::InfiniteFuture());
      next = std::min(next, voice_.NextDue());
      if (next != absl::InfiniteFuture()) {
        timeout_ms = static_cast<int>(
            std::max<int64_t>(1, absl::ToInt64Milliseconds(next - absl::Now()) + 1));
      }
    }
    pollfd fds[2] = {{event_fd_, POLLIN, 0}, {master, POLLIN, 0}};
    const int n = ::poll(fds, master >= 0 ? 2 : 1, timeout_ms);
    if (n <= 0) continue;
    if (fds[0].revents & POLLIN) {
      uint64_t v;
      (void)!::read(event_fd_, &v, sizeof(v));
    }
    if (master >= 0 && (fds[1].revents & POLLIN)) {
      absl::MutexLock lock(&mu_);
      if (master_ != master) continue;
      char buf[4096];
      const ssize_t r = ::read(master_, buf, sizeof(buf));
      if (r <= 0) continue;
      Receive(std::string(buf, static_cast<size_t>(r)));
    }
  }
}

}  // namespace linebridge::modem
