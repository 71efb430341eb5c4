// A connected V.253 voice call's audio between the modem's shielded voice
// data stream and the media hub: the call's device far end (DeviceAudio).
//
// Two sides, two threads:
// - the provider (engine lock) hands it the unshielded bytes the modem sent
//   (OnModemAudio) and the digits the modem signalled (OnDigit), and closes
//   it before it ends the data stream (Close);
// - the hub (its clock thread, its lock) pulls 20 ms frames of what the
//   modem sent and pushes what the call sends, which is encoded, rate
//   adapted, shielded and handed to the port's non-blocking write buffer.
// Neither blocks: the modem's sample clock paces the audio; received audio
// waits in a small jitter buffer (played out once two frames are there,
// trimmed beyond ten); audio for the modem is dropped while the port's
// write buffer holds more than 100 ms (the modem is not taking it).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/device_digits.h"
#include "core/provider.h"
#include "providers/modem/serial_port.h"
#include "providers/modem/voice/voice_codec.h"
#include "providers/modem/voice/voice_format.h"

namespace linebridge::modem {

class VoiceSession : public DeviceAudio, public DeviceDigits {
 public:
  struct Stats {
    uint64_t frames_in = 0;       // frames pulled by the hub
    uint64_t frames_out = 0;      // frames written to the modem
    uint64_t underruns = 0;       // ticks with nothing from the modem
    uint64_t trimmed = 0;         // samples from the modem dropped (hub behind)
    uint64_t dropped_out = 0;     // frames for the modem dropped (port backlog)
  };

  // `loop` must outlive the session's use: the provider closes the session
  // before the port goes.
  explicit VoiceSession(PortLoop* loop);

  // Provider side (engine lock).
  // The data state runs in `format`: audio flows from now on. `duplex`
  // false: receive only (+VRX), what the call sends is discarded.
  void Open(const voice::VoiceFormat& format, bool duplex);
  // Bytes of the modem's audio (already unshielded).
  void OnModemAudio(absl::string_view bytes);
  // A digit the modem signalled, for the streams' digit gathering.
  void OnDigit(char digit);
  // No more audio is written once Close returns (the provider then ends the
  // data stream on the port).
  void Close();
  bool open();
  Stats stats();

  // Hub side (DeviceAudio).
  void Attached(bool attached) override;
  bool Pull(DeviceFrame* frame) override;
  void Push(const DeviceFrame& frame) override;
  // DeviceDigits: the <DLE> digits (the provider reports them as events).
  void TakeDigits(std::string* digits) override;

 private:
  static constexpr size_t kPrimeSamples = 2 * kDeviceFrameSamples;
  static constexpr size_t kMaxSamples = 10 * kDeviceFrameSamples;

  // The codecs of one data state.
  struct Codecs {
    explicit Codecs(const voice::VoiceFormat& f)
        : decoder(f.encoding), encoder(f.encoding), from_modem(f.rate, 8000), to_modem(8000, f.rate) {}
    voice::SampleCodec decoder;
    voice::SampleCodec encoder;
    voice::RateAdapter from_modem;
    voice::RateAdapter to_modem;
  };

  PortLoop* const loop_;

  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
  bool duplex_ ABSL_GUARDED_BY(mu_) = false;
  size_t max_backlog_ ABSL_GUARDED_BY(mu_) = 0;  // bytes: 100 ms of the modem's audio
  std::unique_ptr<Codecs> codecs_ ABSL_GUARDED_BY(mu_);
  bool attached_ ABSL_GUARDED_BY(mu_) = false;
  bool primed_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<int16_t> heard_ ABSL_GUARDED_BY(mu_);  // 8 kHz, from the modem
  std::string digits_ ABSL_GUARDED_BY(mu_);
  std::vector<int16_t> scratch_ ABSL_GUARDED_BY(mu_);
  std::vector<int16_t> adapted_ ABSL_GUARDED_BY(mu_);
  std::string bytes_ ABSL_GUARDED_BY(mu_);
  std::string shielded_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linebridge::modem
