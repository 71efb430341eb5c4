#include "providers/modem/voice/dle.h"

namespace linebridge::modem::voice {

DleEventKind KindOfDleCode(char code) {
  if ((code >= '0' && code <= '9') || code == '*' || code == '#' || (code >= 'A' && code <= 'D')) {
    return DleEventKind::kDigit;
  }
  switch (code) {
    case 'b': return DleEventKind::kBusy;
    case 'd': return DleEventKind::kDialTone;
    case 's': return DleEventKind::kSilence;
    case 'q': return DleEventKind::kQuiet;
    case 'c': return DleEventKind::kFaxCalling;
    case 'e': return DleEventKind::kDataCalling;
    case 'a':
    case 'f': return DleEventKind::kAnswerTone;
    case 'r': return DleEventKind::kRingback;
    case 'R': return DleEventKind::kRing;
    case 'l': return DleEventKind::kLoopBreak;
    case 'o': return DleEventKind::kOverrun;
    case 'u': return DleEventKind::kUnderrun;
    case kEtx: return DleEventKind::kEndOfStream;
    default: return DleEventKind::kOther;
  }
}

absl::string_view DleEventName(DleEventKind kind) {
  switch (kind) {
    case DleEventKind::kDigit: return "dtmf";
    case DleEventKind::kBusy: return "busy";
    case DleEventKind::kDialTone: return "dial_tone";
    case DleEventKind::kSilence: return "silence";
    case DleEventKind::kQuiet: return "quiet";
    case DleEventKind::kFaxCalling: return "fax_calling";
    case DleEventKind::kDataCalling: return "data_calling";
    case DleEventKind::kAnswerTone: return "answer_tone";
    case DleEventKind::kRingback: return "ringback";
    case DleEventKind::kRing: return "ring";
    case DleEventKind::kLoopBreak: return "loop_break";
    case DleEventKind::kOverrun: return "overrun";
    case DleEventKind::kUnderrun: return "underrun";
    case DleEventKind::kEndOfStream: return "end_of_stream";
    case DleEventKind::kOther: return "other";
  }
  return "other";
}

size_t DleDecoder::Feed(absl::string_view bytes, Output* out) {
  size_t i = 0;
  while (i < bytes.size() && !ended_) {
    const char c = bytes[i++];
    if (!pending_dle_) {
      if (c == kDle) {
        pending_dle_ = true;
      } else {
        out->data.push_back(c);
      }
      continue;
    }
    pending_dle_ = false;
    if (c == kDle) {
      out->data.push_back(kDle);
    } else if (c == kSub) {
      out->data.append(2, kDle);
    } else {
      out->events.push_back({KindOfDleCode(c), c});
      out->event_offsets.push_back(out->data.size());
      if (c == kEtx) ended_ = true;
    }
  }
  return i;
}

void DleShield(absl::string_view data, std::string* out) {
  out->reserve(out->size() + data.size() + 8);
  for (char c : data) {
    out->push_back(c);
    if (c == kDle) out->push_back(kDle);
  }
}

}  // namespace linebridge::modem::voice
