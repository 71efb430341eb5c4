// A modem emulator on a pty, for tests and benchmarks: speaks the V.253
// voice dialect or the 3GPP 27.007 cellular dialect (neither has an emulator
// in Debian). The device a provider opens is a symlink to the pty's slave,
// re-pointed when the emulator "returns" after vanishing, like a USB modem's
// /dev/serial/by-id link.
//
// It is a test double for modem hardware, named as such: the provider talks
// to it through a real tty with real termios and real non-blocking I/O.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "providers/modem/testing/emulator_voice.h"

namespace linebridge::modem {

class ModemEmulator {
 public:
  enum class Dialect { kV253, k3gpp, kEcho };  // kEcho: answers every line with OK (benchmarks)

  // `link` is the path the provider opens (a symlink created here).
  ModemEmulator(Dialect dialect, std::string link);
  ~ModemEmulator();
  ModemEmulator(const ModemEmulator&) = delete;
  ModemEmulator& operator=(const ModemEmulator&) = delete;

  const std::string& link() const { return link_; }

  // Everything the DTE sent, one entry per command line (without CR).
  std::vector<std::string> commands();
  bool SawCommand(const std::string& command);
  // Waits until `command` was received (true) or `timeout` passes.
  bool WaitCommand(const std::string& command, absl::Duration timeout = absl::Seconds(5));

  // Sends raw bytes to the DTE (URCs, garbage).
  void Send(const std::string& bytes);
  // An incoming call: caller-id block (V.253) or +CLIP (27.007), then rings
  // every `ring_every` until answered or StopRinging().
  void StartRinging(const std::string& number, const std::string& name,
                    absl::Duration ring_every = absl::Milliseconds(300));
  void StopRinging();
  // Dials and answers connect in the class last set with AT+FCLASS=<n>:
  // class 8 with VCON, class 0 with "CONNECT 33600" (online data: only "+++"
  // is heard), fax classes with "CONNECT" (online fax: "+++" is ignored, DLE
  // ETX returns OK and is recorded as "<DLE><ETX>").
  // The far end hangs up an active call (NO CARRIER).
  void RemoteHangup();
  // 27.007: the far end answers an outbound call (+CLCC shows it active).
  void RemoteAnswer();
  // The final result of the next dials: "" (connect: VCON / OK), "BUSY",
  // "NO ANSWER", "NO DIALTONE", "ERROR", "HOLD" (never answers), or
  // "CONNECT ..." (online data state: only "+++" is heard, it answers OK and
  // is recorded as a command).
  void SetDialResult(const std::string& result);
  // Writes every response one byte at a time (fragmented reads), with a RING
  // between the information lines and the final result when `interleave`.
  void SetFragmented(bool fragmented, bool interleave);
  // Answers `command` (exact text) with ERROR; "" for none.
  void SetFailCommand(const std::string& command);
  // How many times `command` was received.
  int CountCommand(const std::string& command);
  // The modem drops into an online state by itself (stuck in data, or in a
  // fax class with `fax`), as after a call the DTE lost track of.
  void GoOnline(bool fax);
  // Stops answering anything (an unresponsive modem) until set false.
  void SetMute(bool mute);
  // The pty goes away (master closed, link removed) / comes back (new pty).
  void Vanish();
  void Return();

  uint64_t lines_received();

  // Voice data, off unless enabled (then, V.253 dialect, class 8): AT+VSM=?
  // lists the methods (see
  // EmulatorVoice), AT+VSM=<id>,<rate> selects one, and on an active call
  // AT+VTR / AT+VRX / AT+VTX answer CONNECT and enter the duplex, receive or
  // transmit data state. There the emulator plays a tone (1 kHz unless set)
  // to the DTE at the selected rate, records what the DTE sends, sends the
  // events queued with SendVoiceEvent, and returns to command state on
  // <DLE>^ / <DLE>! (answering <DLE><ETX> OK) or, transmitting, <DLE><ETX>
  // (answering OK); each is recorded as a command ("<DLE>^", ...).
  // RemoteHangup in a data state sends <DLE>b (busy tone) and silence, as
  // a voice modem cannot see the far end hang up otherwise. Disabled, these
  // commands get a bare OK like any other, as before.
  void EnableVoice(bool enable);
  void SetVoiceMethods(std::vector<EmulatorVoice::Method> methods);
  // Without duplex AT+VTR answers ERROR (a half-duplex modem).
  void SetVoiceDuplex(bool duplex);
  void SetVoiceToneHz(double hz);
  // A <DLE><code> event in the stream ('0'-'9', '*', '#', 'A'-'D', 'b', 'd', 's', ...).
  void SendVoiceEvent(char code);
  // Whether a voice data state is running.
  bool InVoiceStream();
  // Waits until a voice data state runs (true) or `timeout` passes.
  bool WaitVoiceStream(absl::Duration timeout = absl::Seconds(5));
  // What the DTE sent as audio (decoded samples at voice_rate()) since the
  // last ClearVoiceReceived.
  std::vector<int16_t> VoiceReceived();
  void ClearVoiceReceived();
  int voice_rate();
  // Voice data states started.
  int voice_streams();

 private:
  void Open();
  void Close();
  void Run();
  void HandleLine(const std::string& line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The call connects in the current class: CONNECT and online data, or
  // online fax (classes 1/1.0/2: "+++" is ignored, DLE ETX returns OK).
  void Connect() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Reply(const std::vector<std::string>& info, const std::string& final)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Write(const std::string& bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Wake();
  // Bytes from the DTE (command or voice data state).
  void Receive(std::string bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartVoice(EmulatorVoice::Mode mode) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Dialect dialect_;
  const std::string link_;
  int event_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};

  absl::Mutex mu_;
  int master_ ABSL_GUARDED_BY(mu_) = -1;
  int slave_ ABSL_GUARDED_BY(mu_) = -1;
  std::string in_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> commands_ ABSL_GUARDED_BY(mu_);
  uint64_t lines_ ABSL_GUARDED_BY(mu_) = 0;
  bool echo_ ABSL_GUARDED_BY(mu_) = true;
  bool online_ ABSL_GUARDED_BY(mu_) = false;
  bool fax_ ABSL_GUARDED_BY(mu_) = false;             // online in a fax class
  std::string fclass_ ABSL_GUARDED_BY(mu_) = "0";     // AT+FCLASS=<n>
  bool mute_ ABSL_GUARDED_BY(mu_) = false;
  bool fragmented_ ABSL_GUARDED_BY(mu_) = false;
  bool interleave_ ABSL_GUARDED_BY(mu_) = false;
  std::string dial_result_ ABSL_GUARDED_BY(mu_);
  std::string fail_command_ ABSL_GUARDED_BY(mu_);
  // Call state.
  enum class Call { kIdle, kDialing, kAlerting, kRinging, kActive };
  Call call_ ABSL_GUARDED_BY(mu_) = Call::kIdle;
  std::string number_ ABSL_GUARDED_BY(mu_);
  absl::Time dial_done_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::Time next_ring_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::Duration ring_every_ ABSL_GUARDED_BY(mu_);
  EmulatorVoice voice_ ABSL_GUARDED_BY(mu_);
  bool voice_enabled_ ABSL_GUARDED_BY(mu_) = false;
  bool voice_duplex_ ABSL_GUARDED_BY(mu_) = true;
  double voice_tone_hz_ ABSL_GUARDED_BY(mu_) = 1000;
};

}  // namespace linebridge::modem
