#include "tsp/dev_config.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "absl/strings/ascii.h"
#include "linebridge/unimodem_layout.h"
#include "tsp/provider_internal.h"
#include "tsp/var_struct.h"

namespace linebridge::tsp {
namespace um = ::linebridge::unimodem;
namespace {

// The ranges the server accepts (server/providers/modem/modem_settings.cc),
// checked here so that lineSetDevConfig fails at once.
constexpr uint32_t kMaxCallSetupFailTimer = 255;
constexpr uint32_t kMaxInactivityTimeout = 2550;
constexpr uint32_t kMinDteRate = 300;
constexpr uint32_t kMaxDteRate = 921600;
constexpr uint32_t kMaxWaitBong = 255;
constexpr size_t kMaxOpaqueSize = 4096;

// MDM_* bits the settings have fields for; the others are kept as given.
constexpr uint32_t kModeledOptions = um::kMdmCompression | um::kMdmErrorControl |
                                     um::kMdmForcedEc | um::kMdmFlowControlHard |
                                     um::kMdmFlowControlSoft | um::kMdmBlindDial;

void Put16(std::string& b, size_t at, uint16_t v) { std::memcpy(b.data() + at, &v, sizeof v); }
void Put32(std::string& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, sizeof v); }
uint16_t Get16(const unsigned char* p, size_t at) {
  uint16_t v;
  std::memcpy(&v, p + at, sizeof v);
  return v;
}
uint32_t Get32(const unsigned char* p, size_t at) {
  uint32_t v;
  std::memcpy(&v, p + at, sizeof v);
  return v;
}

enum class Kind { kNone, kDataModem, kTapiLine };

Kind KindOf(LPCWSTR device_class) {
  const std::string c = absl::AsciiStrToLower(Utf16ToUtf8(device_class, 256));
  if (c == "comm/datamodem" || c == "comm/datamodem/dialin" || c == "comm/datamodem/dialout") {
    return Kind::kDataModem;
  }
  if (c == "tapi/line") return Kind::kTapiLine;
  return Kind::kNone;
}

}  // namespace

LONG CheckDevConfigClass(const v1::DeviceConfig* config, LPCWSTR device_class) {
  if (device_class == nullptr) return LINEERR_INVALPOINTER;
  const Kind kind = KindOf(device_class);
  if (config == nullptr) return LINEERR_INVALDEVICECLASS;
  if (config->has_modem() && kind == Kind::kDataModem) return 0;
  if (config->kind_case() == v1::DeviceConfig::kOpaque && kind == Kind::kTapiLine) return 0;
  return LINEERR_INVALDEVICECLASS;
}

std::string EncodeUmDevCfg(const v1::ModemSettings& s) {
  std::string b(um::kUmDevCfgSize, '\0');
  // DEVCFGHDR
  Put32(b, um::kHdrDwSize, static_cast<uint32_t>(um::kUmDevCfgSize));
  Put32(b, um::kHdrDwVersion, um::kMdmCfgVersion);
  uint16_t options = 0;
  if (s.terminal_before_dial()) options |= um::kTerminalPre;
  if (s.terminal_after_dial()) options |= um::kTerminalPost;
  if (s.manual_dial()) options |= um::kManualDial;
  if (s.launch_lights()) options |= um::kLaunchLights;
  Put16(b, um::kHdrFwOptions, options);
  Put16(b, um::kHdrWWaitBong, static_cast<uint16_t>(s.wait_bong_s()));
  // COMMCONFIG
  const size_t cc = um::kUmDevCfgCommConfig;
  Put32(b, cc + um::kCcDwSize, static_cast<uint32_t>(um::kCcWcProviderData + um::kModemSettingsSize));
  Put16(b, cc + um::kCcWVersion, 1);
  Put32(b, cc + um::kCcDwProviderSubType, um::kPstModem);
  Put32(b, cc + um::kCcDwProviderOffset, static_cast<uint32_t>(um::kCcWcProviderData));
  Put32(b, cc + um::kCcDwProviderSize, static_cast<uint32_t>(um::kModemSettingsSize));
  // DCB
  const size_t dcb = cc + um::kCcDcb;
  Put32(b, dcb + um::kDcbDCBlength, static_cast<uint32_t>(um::kDcbSize));
  Put32(b, dcb + um::kDcbBaudRate, s.dte_rate());
  uint32_t flags = um::kDcbFBinary | (um::kDtrControlEnable << um::kDcbFDtrControlShift);
  if (s.parity() != v1::MODEM_PARITY_NONE && s.parity() != v1::MODEM_PARITY_UNSPECIFIED) {
    flags |= um::kDcbFParity;
  }
  switch (s.flow_control()) {
    case v1::MODEM_FLOW_CONTROL_HARDWARE:
      flags |= um::kDcbFOutxCtsFlow | (um::kRtsControlHandshake << um::kDcbFRtsControlShift);
      break;
    case v1::MODEM_FLOW_CONTROL_SOFTWARE:
      flags |= um::kDcbFOutX | um::kDcbFInX | (um::kRtsControlEnable << um::kDcbFRtsControlShift);
      break;
    default:
      flags |= um::kRtsControlEnable << um::kDcbFRtsControlShift;
  }
  Put32(b, dcb + um::kDcbFlags, flags);
  Put16(b, dcb + um::kDcbXonLim, 10);
  Put16(b, dcb + um::kDcbXoffLim, 10);
  b[dcb + um::kDcbByteSize] = static_cast<char>(s.data_bits() != 0 ? s.data_bits() : 8);
  switch (s.parity()) {
    case v1::MODEM_PARITY_ODD: b[dcb + um::kDcbParity] = um::kOddParity; break;
    case v1::MODEM_PARITY_EVEN: b[dcb + um::kDcbParity] = um::kEvenParity; break;
    case v1::MODEM_PARITY_MARK: b[dcb + um::kDcbParity] = um::kMarkParity; break;
    case v1::MODEM_PARITY_SPACE: b[dcb + um::kDcbParity] = um::kSpaceParity; break;
    default: b[dcb + um::kDcbParity] = um::kNoParity;
  }
  switch (s.stop_bits()) {
    case v1::MODEM_STOP_BITS_ONE_AND_HALF: b[dcb + um::kDcbStopBits] = um::kOne5StopBits; break;
    case v1::MODEM_STOP_BITS_TWO: b[dcb + um::kDcbStopBits] = um::kTwoStopBits; break;
    default: b[dcb + um::kDcbStopBits] = um::kOneStopBit;
  }
  b[dcb + um::kDcbXonChar] = 0x11;
  b[dcb + um::kDcbXoffChar] = 0x13;
  // MODEMSETTINGS
  const size_t ms = um::kUmDevCfgModemSettings;
  Put32(b, ms + um::kMsDwActualSize, static_cast<uint32_t>(um::kModemSettingsSize));
  Put32(b, ms + um::kMsDwRequiredSize, static_cast<uint32_t>(um::kModemSettingsSize));
  Put32(b, ms + um::kMsDwCallSetupFailTimer, s.call_setup_fail_timer_s());
  Put32(b, ms + um::kMsDwInactivityTimeout, s.inactivity_timeout_s());
  uint32_t volume = um::kMdmVolLow;
  if (s.speaker_volume() == v1::MODEM_SPEAKER_VOLUME_MEDIUM) volume = um::kMdmVolMedium;
  if (s.speaker_volume() == v1::MODEM_SPEAKER_VOLUME_HIGH) volume = um::kMdmVolHigh;
  Put32(b, ms + um::kMsDwSpeakerVolume, volume);
  uint32_t mode = um::kMdmSpkrDial;
  if (s.speaker_mode() == v1::MODEM_SPEAKER_MODE_OFF) mode = um::kMdmSpkrOff;
  if (s.speaker_mode() == v1::MODEM_SPEAKER_MODE_ON) mode = um::kMdmSpkrOn;
  if (s.speaker_mode() == v1::MODEM_SPEAKER_MODE_CALL_SETUP) mode = um::kMdmSpkrCallSetup;
  Put32(b, ms + um::kMsDwSpeakerMode, mode);
  uint32_t opts = s.other_modem_options() & ~kModeledOptions;
  if (s.compression()) opts |= um::kMdmCompression;
  if (s.error_control() == v1::MODEM_ERROR_CONTROL_ON) opts |= um::kMdmErrorControl;
  if (s.error_control() == v1::MODEM_ERROR_CONTROL_FORCED) {
    opts |= um::kMdmErrorControl | um::kMdmForcedEc;
  }
  if (s.flow_control() == v1::MODEM_FLOW_CONTROL_HARDWARE) opts |= um::kMdmFlowControlHard;
  if (s.flow_control() == v1::MODEM_FLOW_CONTROL_SOFTWARE) opts |= um::kMdmFlowControlSoft;
  if (s.blind_dial()) opts |= um::kMdmBlindDial;
  Put32(b, ms + um::kMsDwPreferredModemOptions, opts);
  return b;
}

LONG DecodeUmDevCfg(const void* data, DWORD size, v1::ModemSettings* out) {
  if (size < um::kHdrSize + um::kCcWcProviderData) return LINEERR_INVALPARAM;
  if (data == nullptr) return LINEERR_INVALPOINTER;
  const auto* p = static_cast<const unsigned char*>(data);
  const uint32_t total = Get32(p, um::kHdrDwSize);
  if (total > size || total < um::kHdrSize + um::kCcWcProviderData) return LINEERR_INVALPARAM;
  if (Get32(p, um::kHdrDwVersion) != um::kMdmCfgVersion) return LINEERR_INVALPARAM;
  // COMMCONFIG: within the header's size, a DCB of its size, modem settings.
  const unsigned char* cc = p + um::kUmDevCfgCommConfig;
  const uint32_t cc_size = Get32(cc, um::kCcDwSize);
  if (cc_size < um::kCcWcProviderData || cc_size > total - um::kHdrSize) return LINEERR_INVALPARAM;
  const unsigned char* dcb = cc + um::kCcDcb;
  if (Get32(dcb, um::kDcbDCBlength) != um::kDcbSize) return LINEERR_INVALPARAM;
  if (Get32(cc, um::kCcDwProviderSubType) != um::kPstModem) return LINEERR_INVALPARAM;
  const uint32_t ms_offset = Get32(cc, um::kCcDwProviderOffset);
  const uint32_t ms_size = Get32(cc, um::kCcDwProviderSize);
  if (ms_offset < um::kCcWcProviderData || ms_size < um::kModemSettingsFixed ||
      ms_offset > cc_size || ms_size > cc_size - ms_offset) {
    return LINEERR_INVALPARAM;
  }
  const unsigned char* ms = cc + ms_offset;
  v1::ModemSettings s;
  // DEVCFGHDR
  const uint16_t options = Get16(p, um::kHdrFwOptions);
  s.set_terminal_before_dial((options & um::kTerminalPre) != 0);
  s.set_terminal_after_dial((options & um::kTerminalPost) != 0);
  s.set_manual_dial((options & um::kManualDial) != 0);
  s.set_launch_lights((options & um::kLaunchLights) != 0);
  const uint16_t bong = Get16(p, um::kHdrWWaitBong);
  if (bong > kMaxWaitBong) return LINEERR_INVALPARAM;
  s.set_wait_bong_s(bong);
  // DCB
  const uint32_t rate = Get32(dcb, um::kDcbBaudRate);
  if (rate < kMinDteRate || rate > kMaxDteRate) return LINEERR_INVALPARAM;
  s.set_dte_rate(rate);
  const uint8_t bits = dcb[um::kDcbByteSize];
  if (bits < 5 || bits > 8) return LINEERR_INVALPARAM;
  s.set_data_bits(bits);
  switch (dcb[um::kDcbParity]) {
    case um::kNoParity: s.set_parity(v1::MODEM_PARITY_NONE); break;
    case um::kOddParity: s.set_parity(v1::MODEM_PARITY_ODD); break;
    case um::kEvenParity: s.set_parity(v1::MODEM_PARITY_EVEN); break;
    case um::kMarkParity: s.set_parity(v1::MODEM_PARITY_MARK); break;
    case um::kSpaceParity: s.set_parity(v1::MODEM_PARITY_SPACE); break;
    default: return LINEERR_INVALPARAM;
  }
  switch (dcb[um::kDcbStopBits]) {
    case um::kOneStopBit: s.set_stop_bits(v1::MODEM_STOP_BITS_ONE); break;
    case um::kOne5StopBits: s.set_stop_bits(v1::MODEM_STOP_BITS_ONE_AND_HALF); break;
    case um::kTwoStopBits: s.set_stop_bits(v1::MODEM_STOP_BITS_TWO); break;
    default: return LINEERR_INVALPARAM;
  }
  // MODEMSETTINGS
  const uint32_t setup = Get32(ms, um::kMsDwCallSetupFailTimer);
  const uint32_t inactivity = Get32(ms, um::kMsDwInactivityTimeout);
  if (setup > kMaxCallSetupFailTimer || inactivity > kMaxInactivityTimeout) {
    return LINEERR_INVALPARAM;
  }
  s.set_call_setup_fail_timer_s(setup);
  s.set_inactivity_timeout_s(inactivity);
  switch (Get32(ms, um::kMsDwSpeakerVolume)) {
    case um::kMdmVolLow: s.set_speaker_volume(v1::MODEM_SPEAKER_VOLUME_LOW); break;
    case um::kMdmVolMedium: s.set_speaker_volume(v1::MODEM_SPEAKER_VOLUME_MEDIUM); break;
    case um::kMdmVolHigh: s.set_speaker_volume(v1::MODEM_SPEAKER_VOLUME_HIGH); break;
    default: return LINEERR_INVALPARAM;
  }
  switch (Get32(ms, um::kMsDwSpeakerMode)) {
    case um::kMdmSpkrOff: s.set_speaker_mode(v1::MODEM_SPEAKER_MODE_OFF); break;
    case um::kMdmSpkrDial: s.set_speaker_mode(v1::MODEM_SPEAKER_MODE_DIAL); break;
    case um::kMdmSpkrOn: s.set_speaker_mode(v1::MODEM_SPEAKER_MODE_ON); break;
    case um::kMdmSpkrCallSetup: s.set_speaker_mode(v1::MODEM_SPEAKER_MODE_CALL_SETUP); break;
    default: return LINEERR_INVALPARAM;
  }
  const uint32_t opts = Get32(ms, um::kMsDwPreferredModemOptions);
  s.set_compression((opts & um::kMdmCompression) != 0);
  if ((opts & um::kMdmForcedEc) != 0) {
    s.set_error_control(v1::MODEM_ERROR_CONTROL_FORCED);
  } else if ((opts & um::kMdmErrorControl) != 0) {
    s.set_error_control(v1::MODEM_ERROR_CONTROL_ON);
  } else {
    s.set_error_control(v1::MODEM_ERROR_CONTROL_OFF);
  }
  if ((opts & um::kMdmFlowControlHard) != 0) {
    s.set_flow_control(v1::MODEM_FLOW_CONTROL_HARDWARE);
  } else if ((opts & um::kMdmFlowControlSoft) != 0) {
    s.set_flow_control(v1::MODEM_FLOW_CONTROL_SOFTWARE);
  } else {
    s.set_flow_control(v1::MODEM_FLOW_CONTROL_NONE);
  }
  s.set_blind_dial((opts & um::kMdmBlindDial) != 0);
  s.set_other_modem_options(opts & ~kModeledOptions);
  *out = std::move(s);
  return 0;
}

LONG WriteDevConfig(const v1::DeviceConfig* config, LPCWSTR device_class, LPVARSTRING out) {
  if (out == nullptr) return LINEERR_INVALPOINTER;
  if (LONG err = CheckDevConfigClass(config, device_class); err != 0) return err;
  if (TotalSizeOf(out) < sizeof(VARSTRING)) return LINEERR_STRUCTURETOOSMALL;
  const std::string bytes = config->has_modem() ? EncodeUmDevCfg(config->modem()) : config->opaque();
  VarStructWriter w = StartStruct(out, sizeof(VARSTRING));
  LB_SET(w, VARSTRING, dwStringFormat, STRINGFORMAT_BINARY);
  if (!bytes.empty()) {
    w.AppendBytes(offsetof(VARSTRING, dwStringSize), offsetof(VARSTRING, dwStringOffset),
                  bytes.data(), bytes.size());
  }
  w.Finish();
  return 0;
}

LONG ReadDevConfig(const v1::DeviceConfig* config, LPCWSTR device_class, const void* data,
                   DWORD size, v1::DeviceConfig* out) {
  if (data == nullptr && size != 0) return LINEERR_INVALPOINTER;
  if (LONG err = CheckDevConfigClass(config, device_class); err != 0) return err;
  if (config->has_modem()) {
    return DecodeUmDevCfg(data, size, out->mutable_modem());
  }
  if (size > kMaxOpaqueSize) return LINEERR_INVALPARAM;
  out->set_opaque(size == 0 ? std::string() : std::string(static_cast<const char*>(data), size));
  return 0;
}

}  // namespace linebridge::tsp
