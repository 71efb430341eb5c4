#include "linectl/media_commands.h"

#include <sndfile.h>

#include <memory>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "linebridge/client.h"
#include "linectl/format.h"
#include "linebridge/media.h"
#include "linectl/format.h"

namespace linebridge::linectl {
namespace {

using SndFile = std::unique_ptr<SNDFILE, int (*)(SNDFILE*)>;

absl::Status Duration(Context& context, absl::Duration fallback, absl::Duration* out) {
  *out = fallback;
  if (!context.invocation.Has("duration")) return absl::OkStatus();
  const std::string text = context.invocation.Get("duration");
  if (!ParseTimeout(text, out) || *out <= absl::ZeroDuration() || *out > absl::Hours(24)) {
    return UsageError(absl::StrCat("bad --duration \"", text, "\""));
  }
  return absl::OkStatus();
}

absl::Status UintFlag(Context& context, const char* flag, uint32_t fallback, uint32_t* out) {
  *out = fallback;
  if (!context.invocation.Has(flag)) return absl::OkStatus();
  const std::string text = context.invocation.Get(flag);
  if (!absl::SimpleAtoi(text, out)) return UsageError(absl::StrCat("bad --", flag, " \"", text, "\""));
  return absl::OkStatus();
}

// Reads until the tone (or digits) ended; the stream's error otherwise.
absl::Status WaitToneDone(MediaStream& stream) {
  while (std::optional<v1::MediaResponse> msg = stream.Read()) {
    if (msg->has_tone_done()) return stream.Finish();
  }
  absl::Status st = stream.Finish();
  return st.ok() ? absl::UnavailableError("the stream ended before the tone") : st;
}

// "tone.wav: 400 ms played, finished", "rec.wav: 1200 ms recorded, silence".
std::string DescribeJob(const v1::MediaJob& job) {
  std::string out = absl::StrCat(job.file(), ": ", job.duration_ms(), " ms ",
                                 job.kind() == v1::MEDIA_JOB_KIND_PLAY ? "played" : "recorded");
  if (job.state() != v1::MEDIA_JOB_STATE_DONE) return absl::StrCat(out, " (job ", job.job_id(), " running)");
  absl::StrAppend(&out, ", ", EnumName(job.end()));
  if (!job.error().empty()) absl::StrAppend(&out, ": ", job.error());
  return out;
}

void PrintJob(Context& context, const v1::MediaJob& job) {
  context.out << TerminalSafe(context.json() ? ToJson(job) : DescribeJob(job)) << '\n';
  context.out.flush();
}

// Waits (in 30 s steps) until the job has ended, and prints it.
absl::Status AwaitJob(Context& context, const v1::MediaJob& started) {
  if (!context.json()) {
    context.out << TerminalSafe(absl::StrCat("job ", started.job_id(), " on ", started.line_id(),
                                             ": ", started.file()))
                << '\n';
    context.out.flush();
  }
  if (context.invocation.Has("no-wait")) {
    if (context.json()) PrintJob(context, started);
    return absl::OkStatus();
  }
  v1::MediaJobRequest get;
  get.set_line_id(started.line_id());
  get.set_job_id(started.job_id());
  get.set_wait_ms(30000);
  CallOptions options;
  options.deadline = absl::Seconds(40);
  for (;;) {
    absl::StatusOr<v1::MediaJob> job = context.client.GetMediaJob(get, options);
    if (!job.ok()) return job.status();
    if (job->state() == v1::MEDIA_JOB_STATE_DONE) {
      PrintJob(context, *job);
      return absl::OkStatus();
    }
  }
}

// A timeout flag: 0 (none) when absent.
absl::Status TimeoutFlag(Context& context, const char* flag, uint32_t* ms) {
  *ms = 0;
  if (!context.invocation.Has(flag)) return absl::OkStatus();
  const std::string text = context.invocation.Get(flag);
  absl::Duration d;
  if (!ParseTimeout(text, &d) || d < absl::ZeroDuration() || d > absl::Hours(1)) {
    return UsageError(absl::StrCat("bad --", flag, " \"", text, "\""));
  }
  *ms = static_cast<uint32_t>(absl::ToInt64Milliseconds(d));
  return absl::OkStatus();
}

// Waits for the gather_completed event of (call, end-to-end id).
class GatherWaiter {
 public:
  GatherWaiter(std::string call_id, uint32_t id) : call_id_(std::move(call_id)), id_(id) {}
  void OnBatch(const v1::EventBatch& batch) {
    absl::MutexLock lock(&mu_);
    live_ = true;
    for (const v1::Event& e : batch.events()) {
      if (e.has_gather_completed() && e.gather_completed().call_id() == call_id_ &&
          e.gather_completed().end_to_end_id() == id_) {
        result_ = e.gather_completed();
      }
    }
  }
  bool WaitLive(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&live_), timeout);
  }
  std::optional<v1::GatherCompleted> Wait(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return result_.has_value(); };
    mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
    return result_;
  }

 private:
  const std::string call_id_;
  const uint32_t id_;
  absl::Mutex mu_;
  bool live_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<v1::GatherCompleted> result_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::Status CmdMediaPlayFile(Context& context) {
  v1::PlayFileRequest req;
  req.set_call_id(context.args()[0]);
  req.set_file(context.args()[1]);
  absl::StatusOr<v1::MediaJob> job = context.client.PlayFile(req);
  if (!job.ok()) return job.status();
  return AwaitJob(context, *job);
}

absl::Status CmdMediaRecordFile(Context& context) {
  v1::RecordCallRequest req;
  req.set_call_id(context.args()[0]);
  req.set_file(context.args()[1]);
  uint32_t max_ms = 0, silence_ms = 0;
  if (absl::Status st = UintFlag(context, "max-ms", 0, &max_ms); !st.ok()) return st;
  if (absl::Status st = UintFlag(context, "silence-ms", 0, &silence_ms); !st.ok()) return st;
  req.set_max_duration_ms(max_ms);
  req.set_silence_ms(silence_ms);
  req.set_audio(context.invocation.Has("both") ? v1::RECORD_AUDIO_BOTH : v1::RECORD_AUDIO_HEARD);
  absl::StatusOr<v1::MediaJob> job = context.client.RecordCall(req);
  if (!job.ok()) return job.status();
  return AwaitJob(context, *job);
}

absl::Status CmdMediaStopFile(Context& context) {
  v1::MediaJobRequest req;
  req.set_line_id(context.args()[0]);
  req.set_job_id(context.args()[1]);
  absl::StatusOr<v1::MediaJob> job = context.client.StopMediaJob(req);
  if (!job.ok()) return job.status();
  PrintJob(context, *job);
  return absl::OkStatus();
}

absl::Status CmdMediaTone(Context& context) {
  const std::string& kind = context.args()[1];
  v1::GenerateTone tone;
  if (kind == "beep") {
    tone.set_kind(v1::TONE_KIND_BEEP);
  } else if (kind == "billing") {
    tone.set_kind(v1::TONE_KIND_BILLING);
  } else if (kind == "busy") {
    tone.set_kind(v1::TONE_KIND_BUSY);
  } else if (kind == "ringback") {
    tone.set_kind(v1::TONE_KIND_RINGBACK);
  } else {
    std::vector<std::string> hz = absl::StrSplit(kind, '+');
    uint32_t f1 = 0, f2 = 0;
    if (hz.size() > 2 || !absl::SimpleAtoi(hz[0], &f1) ||
        (hz.size() == 2 && !absl::SimpleAtoi(hz[1], &f2))) {
      return UsageError(absl::StrCat("bad tone \"", kind, "\" (beep, billing, busy, ringback, HZ or HZ+HZ)"));
    }
    tone.set_kind(v1::TONE_KIND_CUSTOM);
    v1::CustomTone* c = tone.mutable_custom();
    c->set_frequency1_hz(f1);
    c->set_frequency2_hz(f2);
    uint32_t on = 0, off = 0;
    if (absl::Status st = UintFlag(context, "on", 1000, &on); !st.ok()) return st;
    if (absl::Status st = UintFlag(context, "off", 0, &off); !st.ok()) return st;
    c->set_on_ms(on);
    c->set_off_ms(off);
  }
  // Tones without an end of their own play 2 s unless told.
  const bool endless = tone.kind() != v1::TONE_KIND_BEEP && tone.kind() != v1::TONE_KIND_BILLING;
  absl::Duration d;
  if (absl::Status st = Duration(context, absl::Seconds(2), &d); !st.ok()) return st;
  if (endless || context.invocation.Has("duration")) {
    tone.set_duration_ms(static_cast<uint32_t>(absl::ToInt64Milliseconds(d)));
  }
  auto stream = MediaStream::Open(context.client, context.args()[0]);
  if (!stream.ok()) return stream.status();
  if (!(*stream)->PlayTone(tone)) return (*stream)->Finish();
  return WaitToneDone(**stream);
}

absl::Status CmdMediaDigits(Context& context) {
  auto stream = MediaStream::Open(context.client, context.args()[0]);
  if (!stream.ok()) return stream.status();
  if (!(*stream)->PlayDigits(context.args()[1])) return (*stream)->Finish();
  return WaitToneDone(**stream);
}

absl::Status CmdMediaRecord(Context& context) {
  absl::Duration d;
  if (absl::Status st = Duration(context, absl::Seconds(10), &d); !st.ok()) return st;
  const std::string& path = context.args()[1];
  auto stream = MediaStream::Open(context.client, context.args()[0]);
  if (!stream.ok()) return stream.status();
  SF_INFO info{};
  info.samplerate = 8000;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SndFile file(sf_open(path.c_str(), SFM_WRITE, &info), &sf_close);
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot write ", path, ": ", sf_strerror(nullptr)));
  }
  const int64_t frames = absl::ToInt64Milliseconds(d) / 20;
  int64_t got = 0;
  uint64_t dropped = 0;
  while (got < frames) {
    std::optional<v1::MediaResponse> msg = (*stream)->Read();
    if (!msg) break;
    if (msg->has_stats()) dropped = msg->stats().frames_dropped();
    if (!msg->has_frame()) continue;
    const std::string& p = msg->frame().payload();
    std::vector<short> samples(p.size() / 2);
    for (size_t i = 0; i < samples.size(); ++i) {
      samples[i] = static_cast<short>(static_cast<uint8_t>(p[2 * i]) | (p[2 * i + 1] << 8));
    }
    sf_write_short(file.get(), samples.data(), static_cast<sf_count_t>(samples.size()));
    ++got;
  }
  absl::Status st = (*stream)->Finish();
  context.out << absl::StrCat(path, ": ", got * 20, " ms recorded",
                              dropped > 0 ? absl::StrCat(", ", dropped, " frames lost") : "", "\n");
  return st;
}

absl::Status CmdMediaPlay(Context& context) {
  const std::string& path = context.args()[1];
  SF_INFO info{};
  SndFile file(sf_open(path.c_str(), SFM_READ, &info), &sf_close);
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path, ": ", sf_strerror(nullptr)));
  }
  if (info.channels != 1 || (info.samplerate != 8000 && info.samplerate != 16000)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": ", info.channels, " channel(s) at ", info.samplerate,
        " Hz; media play takes mono audio at 8000 or 16000 Hz"));
  }
  const v1::AudioFormat format =
      info.samplerate == 8000 ? v1::AUDIO_FORMAT_L16_8K : v1::AUDIO_FORMAT_L16_16K;
  auto stream = MediaStream::Open(context.client, context.args()[0], format);
  if (!stream.ok()) return stream.status();
  const int per_frame = info.samplerate / 50;
  std::vector<short> samples(per_frame);
  // Two frames ahead, then one for every frame the server sends: the
  // server's clock paces the file.
  auto send_next = [&]() -> bool {
    const sf_count_t n = sf_read_short(file.get(), samples.data(), per_frame);
    if (n <= 0) return false;
    std::fill(samples.begin() + n, samples.end(), 0);
    std::string payload(2 * per_frame, '\0');
    for (int i = 0; i < per_frame; ++i) {
      payload[2 * i] = static_cast<char>(samples[i] & 0xff);
      payload[2 * i + 1] = static_cast<char>((static_cast<uint16_t>(samples[i]) >> 8) & 0xff);
    }
    return (*stream)->SendFrame(std::move(payload));
  };
  int64_t sent = 0;
  bool more = send_next() && send_next();
  sent += more ? 2 : 0;
  while (more) {
    std::optional<v1::MediaResponse> msg = (*stream)->Read();
    if (!msg) break;
    if (!msg->has_frame()) continue;
    more = send_next();
    if (more) ++sent;
  }
  // Let the queued frames play out.
  for (int i = 0; i < 3; ++i) {
    if (!(*stream)->Read()) break;
  }
  absl::Status st = (*stream)->Finish();
  context.out << absl::StrCat(path, ": ", sent * 20, " ms played\n");
  return st;
}

}  // namespace linebridge::linectl

namespace linebridge::linectl {

absl::Status CmdMediaGather(Context& context) {
  const std::string& call_id = context.args()[0];
  v1::GatherDigitsRequest request;
  request.set_call_id(call_id);
  uint32_t max = 0, first = 0, inter = 0;
  if (absl::Status st = UintFlag(context, "max", 16, &max); !st.ok()) return st;
  if (absl::Status st = TimeoutFlag(context, "first-timeout", &first); !st.ok()) return st;
  if (absl::Status st = TimeoutFlag(context, "inter-timeout", &inter); !st.ok()) return st;
  request.set_max_digits(max);
  if (context.invocation.Has("term")) request.set_termination_digits(context.invocation.Get("term"));
  request.set_first_digit_timeout_ms(first);
  request.set_inter_digit_timeout_ms(inter);
  absl::BitGen random;
  const uint32_t id = absl::Uniform<uint32_t>(random);
  request.set_end_to_end_id(id);
  // The result is an event on the call's line: watch it before asking.
  v1::GetCallRequest get;
  get.set_call_id(call_id);
  absl::StatusOr<v1::Call> call = context.client.GetCall(get);
  if (!call.ok()) return call.status();
  GatherWaiter waiter(call_id, id);
  SubscribeOptions options;
  options.line_ids = {call->info().line_id()};
  std::unique_ptr<Subscription> subscription = context.client.Subscribe(
      std::move(options), [&waiter](size_t, const v1::EventBatch& batch) { waiter.OnBatch(batch); });
  if (!waiter.WaitLive(absl::Seconds(10))) {
    subscription->Stop();
    return absl::UnavailableError("no event stream from the call's server");
  }
  absl::StatusOr<v1::Call> started = context.client.GatherDigits(std::move(request));
  if (!started.ok()) {
    subscription->Stop();
    return started.status();
  }
  // Without timeouts it lasts until the buffer fills, a termination digit or
  // the call's end: at most an hour here.
  std::optional<v1::GatherCompleted> done = waiter.Wait(absl::Hours(1));
  subscription->Stop();
  if (!done) return absl::DeadlineExceededError("the gathering did not end");
  // Digits are 0-9 * # A-D: nothing to make terminal-safe.
  context.out << (context.json() ? ToJson(*done)
                                 : absl::StrCat(done->digits().empty() ? "-" : done->digits(), " ",
                                                EnumName(done->termination())))
              << "\n";
  return absl::OkStatus();
}

}  // namespace linebridge::linectl
