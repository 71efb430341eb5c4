// The voice side of the pty modem emulator (ModemEmulator): the +VSM
// methods it lists and accepts, and the V.253 voice data states +VTR
// (duplex), +VRX (receive) and +VTX (transmit). In a data state it plays a
// known tone to the DTE (1 kHz unless set), paced by its own clock like a
// modem's sample clock, with <DLE> shielding and queued <DLE> event codes,
// and records the DTE's unshielded audio as samples.
//
// A test double for modem hardware; not thread-safe (the emulator calls it
// under its lock).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace linebridge::modem {

class EmulatorVoice {
 public:
  struct Method {
    int id = 0;
    std::string name;        // "8-BIT LINEAR", "16-BIT LINEAR", "8-BIT ULAW", "8-BIT ALAW", ...
    int bits = 8;
    std::vector<int> rates;  // samples per second
  };
  enum class Mode { kNone, kDuplex, kReceive, kTransmit };

  EmulatorVoice();

  // What AT+VSM=? lists (default: 8/16-bit linear at 7200/8000/11025, A-law
  // and mu-law at 8000, IMA ADPCM which a host cannot use).
  // (The first is selected until AT+VSM= selects another.)
  void SetMethods(std::vector<Method> methods);
  std::vector<std::string> TestLines() const;
  // AT+VSM=<id>[,<rate>]: false (ERROR) for a method or rate not listed, or
  // a method the emulator cannot produce (ADPCM).
  bool Select(absl::string_view params);
  const Method& selected() const { return methods_[selected_]; }
  int rate() const { return rate_; }

  // The data state starts (after CONNECT) / is over.
  void Start(Mode mode, absl::Time now);
  Mode mode() const { return mode_; }
  // Bytes from the DTE in a data state. When they end it (<DLE>^ or <DLE>!
  // in duplex and receive, <DLE><ETX> in transmit), returns what the modem
  // answers (<DLE><ETX> and OK, or OK), sets *ended and leaves the rest of
  // `bytes` unread in *rest. `codes` gets each <DLE> command seen, as
  // "<DLE>^", "<DLE>!", "<DLE><ETX>".
  std::string OnDteBytes(absl::string_view bytes, bool* ended, std::string* rest,
                         std::vector<std::string>* codes);
  // The audio due by `now` (duplex and receive), shielded, with the queued
  // event codes in front.
  std::string Generate(absl::Time now);
  // When the next 20 ms of audio is due (InfiniteFuture outside duplex/receive).
  absl::Time NextDue() const;

  // A <DLE><code> event in the stream to the DTE ('5' DTMF, 'b' busy, ...).
  void QueueEvent(char code) { events_.push_back(code); }
  // The tone played in the data states (0: silence).
  void SetToneHz(double hz) { tone_hz_ = hz; }
  // Everything the DTE sent as audio, decoded, at rate().
  const std::vector<int16_t>& received() const { return received_; }
  void ClearReceived() { received_.clear(); }
  // Data states started since construction.
  int streams() const { return streams_; }

 private:
  enum class Encoding { kLinear8, kLinear16, kMuLaw, kALaw, kUnusable };
  static Encoding EncodingOf(const Method& m);
  void Decode(absl::string_view data);

  std::vector<Method> methods_;
  size_t selected_ = 0;
  int rate_ = 8000;
  Mode mode_ = Mode::kNone;
  absl::Time start_;
  int64_t sent_ = 0;  // samples sent in this data state
  double tone_hz_ = 1000;
  std::string events_;
  bool dle_ = false;      // the DTE's last byte was an unpaired <DLE>
  bool has_low_ = false;  // 16-bit: a low byte waits for its high byte
  uint8_t low_ = 0;
  std::vector<int16_t> received_;
  int streams_ = 0;
};

}  // namespace linebridge::modem
