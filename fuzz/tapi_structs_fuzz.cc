// The remote TSP's TAPI structure writers (tapi_structs.h) with snapshots
// made from the input (the line and the call as protobuf bytes, the rest
// from its end) into buffers of any dwTotalSize with canary bytes around
// what the writer may use: nothing is written past dwTotalSize, nothing
// between dwUsedSize and dwTotalSize, dwUsedSize <= dwNeededSize, and a
// buffer of dwNeededSize bytes takes the whole structure.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <google/protobuf/stubs/logging.h>

#include "fuzz/fuzz_check.h"
#include "tsp/tapi_structs.h"

namespace tsp = linebridge::tsp;

namespace {

constexpr unsigned char kCanary = 0xA5;
constexpr size_t kSlack = 64;
constexpr DWORD kMaxTotal = 1 << 16;

DWORD Dword(const std::vector<unsigned char>& b, size_t at) {
  DWORD v;
  std::memcpy(&v, b.data() + at, sizeof(v));
  return v;
}

struct Input {
  int which = 0;
  DWORD version = 0;
  DWORD address_id = 0;
  tsp::LineSnapshot line;
  tsp::OpenSnapshot open;
  tsp::CallSnapshot call;
  std::u16string device_class;
};

LONG Write(const Input& in, void* buffer) {
  switch (in.which) {
    case 0: {
      auto* caps = static_cast<LPLINEDEVCAPS>(buffer);
      if (LONG rc = tsp::CheckDevCaps(in.version, caps); rc != 0) return rc;
      return tsp::WriteLineDevCaps(in.line, in.version, caps);
    }
    case 1: {
      auto* caps = static_cast<LPLINEADDRESSCAPS>(buffer);
      if (LONG rc = tsp::CheckAddressCaps(caps); rc != 0) return rc;
      return tsp::WriteLineAddressCaps(in.line, in.address_id, caps);
    }
    case 2:
      return tsp::WriteLineDevStatus(in.line, in.open, static_cast<LPLINEDEVSTATUS>(buffer));
    case 3:
      return tsp::WriteLineAddressStatus(in.line, in.open, in.address_id,
                                         static_cast<LPLINEADDRESSSTATUS>(buffer));
    case 4:
      return tsp::WriteLineDeviceId(in.line.device_id,
                                    reinterpret_cast<LPCWSTR>(in.device_class.c_str()),
                                    static_cast<LPVARSTRING>(buffer));
    case 5:
      return tsp::WriteLineCallInfo(in.line, in.version, in.call,
                                    static_cast<LPLINECALLINFO>(buffer));
    default:
      return tsp::WriteLineCallStatus(in.call, static_cast<LPLINECALLSTATUS>(buffer));
  }
}

struct Outcome {
  LONG rc = 0;
  DWORD needed = 0;
  DWORD used = 0;
};

// One call with dwTotalSize = total; checks the canaries and the sizes.
Outcome RunWriter(const Input& in, DWORD total) {
  const size_t body = std::max<size_t>(total, sizeof(DWORD));
  std::vector<unsigned char> buffer(body + kSlack, kCanary);
  std::memcpy(buffer.data(), &total, sizeof(total));
  Outcome out;
  out.rc = Write(in, buffer.data());
  for (size_t i = body; i < buffer.size(); ++i) {
    FUZZ_CHECK(buffer[i] == kCanary, "a byte past dwTotalSize was written");
  }
  FUZZ_CHECK(Dword(buffer, 0) == total, "dwTotalSize changed");
  if (out.rc != 0) {
    FUZZ_CHECK(out.rc < 0, "a failure that is not a LINEERR");
    return out;
  }
  FUZZ_CHECK(total >= 12, "a structure written into less than its header");
  out.needed = Dword(buffer, 4);
  out.used = Dword(buffer, 8);
  FUZZ_CHECK(out.used <= total, "dwUsedSize > dwTotalSize");
  FUZZ_CHECK(out.used <= out.needed, "dwUsedSize > dwNeededSize");
  FUZZ_CHECK(out.used >= 12, "dwUsedSize below the header");
  for (size_t i = out.used; i < total; ++i) {
    FUZZ_CHECK(buffer[i] == kCanary, "a byte between dwUsedSize and dwTotalSize was written");
  }
  return out;
}

template <typename Message>
void ParseInto(FuzzedDataProvider& in, Message* m) {
  const std::string bytes = in.ConsumeBytesAsString(in.ConsumeIntegralInRange<size_t>(0, 2048));
  if (!m->ParseFromString(bytes)) m->Clear();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // Snapshots that are not valid UTF-8 are expected: no log line for each.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  Input in;
  in.which = fdp.ConsumeIntegralInRange<int>(0, 6);
  constexpr DWORD kVersions[] = {0x00020000, 0x00020001, 0x00020002, 0x00030000};
  in.version = fdp.ConsumeBool() ? fdp.PickValueInArray(kVersions) : fdp.ConsumeIntegral<DWORD>();
  in.address_id = fdp.ConsumeIntegralInRange<DWORD>(0, 3);
  in.line.device_id = fdp.ConsumeIntegral<DWORD>();
  in.line.permanent_line_id = fdp.ConsumeIntegral<DWORD>();
  in.line.present = fdp.ConsumeBool();
  in.line.server_connected = fdp.ConsumeBool();
  in.open.version = fdp.PickValueInArray(kVersions);
  in.open.server_open = fdp.ConsumeBool();
  in.open.applied_media = fdp.ConsumeIntegral<DWORD>();
  in.call.has_call = fdp.ConsumeBool();
  in.call.idle = fdp.ConsumeBool();
  const bool has_info = fdp.ConsumeBool();
  const DWORD total = fdp.ConsumeIntegralInRange<DWORD>(0, 1200);
  const std::string cls = fdp.ConsumeRandomLengthString(24);
  in.device_class.assign(cls.begin(), cls.end());
  in.line.line_id = fdp.ConsumeRandomLengthString(160);
  ParseInto(fdp, &in.call.call);
  if (has_info) {
    in.line.info.emplace();
    ParseInto(fdp, &*in.line.info);
  }

  const Outcome first = RunWriter(in, total);
  if (first.rc != 0 || first.needed > kMaxTotal) return 0;
  // Exactly the size asked for: everything fits.
  const Outcome whole = RunWriter(in, first.needed);
  FUZZ_CHECK(whole.rc == 0, "a buffer of dwNeededSize bytes was refused");
  FUZZ_CHECK(whole.needed == first.needed, "dwNeededSize depends on dwTotalSize");
  FUZZ_CHECK(whole.used == whole.needed, "a buffer of dwNeededSize bytes did not take it all");
  return 0;
}
