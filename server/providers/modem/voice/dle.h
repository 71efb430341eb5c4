// V.253 <DLE> shielding of a voice data stream (+VRX, +VTX, +VTR).
//
// In a voice data state both directions are a byte stream of samples in
// which the byte DLE (0x10) is an escape: <DLE><DLE> is one data byte 0x10,
// <DLE><SUB> (0x1A) two of them, <DLE><ETX> ends the stream, and <DLE>
// followed by another character is an event (modem to DTE: a DTMF digit,
// busy tone, silence, ...) or a command (DTE to modem: end duplex, abort
// receive, clear the transmit buffer).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace linebridge::modem::voice {

inline constexpr char kDle = 0x10;
inline constexpr char kEtx = 0x03;
inline constexpr char kSub = 0x1a;
inline constexpr char kCan = 0x18;

// DTE -> modem commands (V.253).
inline constexpr char kEndOfTransmit[] = "\x10\x03";  // <DLE><ETX>: +VTX ends after its buffer
inline constexpr char kEndDuplex[] = "\x10^";         // <DLE>^: +VTR ends
inline constexpr char kAbortReceive[] = "\x10!";      // <DLE>!: +VRX ends

// What a <DLE> code from the modem means.
enum class DleEventKind {
  kDigit,         // '0'-'9', '*', '#', 'A'-'D': a DTMF digit
  kBusy,          // 'b': busy (or reorder) tone
  kDialTone,      // 'd': dial tone
  kSilence,       // 's': presumed hang-up: silence from the start (+VSD)
  kQuiet,         // 'q': presumed end of message: silence after voice
  kFaxCalling,    // 'c': T.30 fax calling tone (CNG, 1100 Hz)
  kDataCalling,   // 'e': V.25 data calling tone (1300 Hz)
  kAnswerTone,    // 'a' / 'f': fax or modem answer tone
  kRingback,      // 'r': ringback
  kRing,          // 'R': ring
  kLoopBreak,     // 'l': loop current interruption (the far end hung up)
  kOverrun,       // 'o': the modem's receive buffer overran
  kUnderrun,      // 'u': the modem's transmit buffer ran dry
  kEndOfStream,   // <ETX>: the modem ended the data stream
  kOther,         // any other code (kept in `code`)
};

struct DleEvent {
  DleEventKind kind = DleEventKind::kOther;
  char code = 0;  // the character after <DLE>
  bool operator==(const DleEvent&) const = default;
};

DleEventKind KindOfDleCode(char code);
// "busy", "dtmf", "silence", ...: for logs and metrics.
absl::string_view DleEventName(DleEventKind kind);

// Splits the modem's shielded stream into data bytes and events. Bytes may
// arrive cut anywhere, also between a <DLE> and its code. After <DLE><ETX>
// the decoder stops: the rest of that input is command-state text, left in
// place for the caller (Feed returns how much it consumed).
class DleDecoder {
 public:
  struct Output {
    std::string data;             // unshielded sample bytes
    std::vector<DleEvent> events;  // in order, including kEndOfStream
    // Where each event happened: data.size() when it was decoded.
    std::vector<size_t> event_offsets;
  };

  // Decodes `bytes` into `out` (appending). Returns the number of bytes
  // consumed: all of them, unless <DLE><ETX> came first (then up to and
  // including the <ETX>).
  size_t Feed(absl::string_view bytes, Output* out);
  bool ended() const { return ended_; }
  // Starts a new stream.
  void Reset() { pending_dle_ = ended_ = false; }

 private:
  bool pending_dle_ = false;  // the last byte was an unpaired <DLE>
  bool ended_ = false;
};

// Shields `data` for the modem: every 0x10 doubled. Appends to `out`.
void DleShield(absl::string_view data, std::string* out);

}  // namespace linebridge::modem::voice
