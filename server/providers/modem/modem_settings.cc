#include "providers/modem/modem_settings.h"

#include "absl/strings/str_cat.h"
#include "linebridge/lineerr.h"

namespace linebridge::modem {
namespace {

constexpr uint32_t kDefaultCallSetupFailTimer = 60;
constexpr uint32_t kMaxCallSetupFailTimer = 255;  // S7 is one byte
constexpr uint32_t kMaxInactivityTimeout = 2550;  // S30, tens of seconds in one byte
constexpr uint32_t kMaxWaitBong = 255;
constexpr uint32_t kMinDteRate = 300;
constexpr uint32_t kMaxDteRate = 921600;

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return InvalidArgument(LINEERR_INVALPARAM, absl::StrCat("modem settings: ", field, " ", why));
}

}  // namespace

v1::ModemSettings DefaultModemSettings(const v1::config::ModemPort& port) {
  v1::ModemSettings s;
  s.set_call_setup_fail_timer_s(kDefaultCallSetupFailTimer);
  s.set_inactivity_timeout_s(0);
  s.set_speaker_volume(v1::MODEM_SPEAKER_VOLUME_LOW);
  s.set_speaker_mode(v1::MODEM_SPEAKER_MODE_DIAL);
  s.set_blind_dial(false);
  s.set_error_control(v1::MODEM_ERROR_CONTROL_ON);
  s.set_compression(true);
  s.set_flow_control(port.rtscts() ? v1::MODEM_FLOW_CONTROL_HARDWARE : v1::MODEM_FLOW_CONTROL_NONE);
  s.set_dte_rate(port.baud() != 0 ? port.baud() : 115200);
  s.set_data_bits(8);
  s.set_parity(v1::MODEM_PARITY_NONE);
  s.set_stop_bits(v1::MODEM_STOP_BITS_ONE);
  return s;
}

absl::StatusOr<v1::ModemSettings> NormalizeModemSettings(const v1::ModemSettings& in,
                                                         const v1::config::ModemPort& port) {
  v1::ModemSettings s = in;
  const v1::ModemSettings d = DefaultModemSettings(port);
  if (s.call_setup_fail_timer_s() == 0) s.set_call_setup_fail_timer_s(d.call_setup_fail_timer_s());
  if (s.call_setup_fail_timer_s() > kMaxCallSetupFailTimer) {
    return Bad("call_setup_fail_timer_s", "is at most 255");
  }
  if (s.inactivity_timeout_s() > kMaxInactivityTimeout) {
    return Bad("inactivity_timeout_s", "is at most 2550");
  }
  if (!v1::ModemSpeakerVolume_IsValid(s.speaker_volume())) return Bad("speaker_volume", "unknown");
  if (s.speaker_volume() == v1::MODEM_SPEAKER_VOLUME_UNSPECIFIED) {
    s.set_speaker_volume(v1::MODEM_SPEAKER_VOLUME_LOW);
  }
  if (!v1::ModemSpeakerMode_IsValid(s.speaker_mode())) return Bad("speaker_mode", "unknown");
  if (s.speaker_mode() == v1::MODEM_SPEAKER_MODE_UNSPECIFIED) {
    s.set_speaker_mode(v1::MODEM_SPEAKER_MODE_DIAL);
  }
  if (!v1::ModemErrorControl_IsValid(s.error_control())) return Bad("error_control", "unknown");
  if (s.error_control() == v1::MODEM_ERROR_CONTROL_UNSPECIFIED) {
    s.set_error_control(v1::MODEM_ERROR_CONTROL_OFF);
  }
  if (!v1::ModemFlowControl_IsValid(s.flow_control())) return Bad("flow_control", "unknown");
  if (s.flow_control() == v1::MODEM_FLOW_CONTROL_UNSPECIFIED) {
    s.set_flow_control(v1::MODEM_FLOW_CONTROL_NONE);
  }
  if (s.dte_rate() == 0) s.set_dte_rate(d.dte_rate());
  if (s.dte_rate() < kMinDteRate || s.dte_rate() > kMaxDteRate) {
    return Bad("dte_rate", "is 300..921600 bit/s");
  }
  if (s.data_bits() == 0) s.set_data_bits(8);
  if (s.data_bits() < 5 || s.data_bits() > 8) return Bad("data_bits", "is 5..8");
  if (!v1::ModemParity_IsValid(s.parity())) return Bad("parity", "unknown");
  if (s.parity() == v1::MODEM_PARITY_UNSPECIFIED) s.set_parity(v1::MODEM_PARITY_NONE);
  if (!v1::ModemStopBits_IsValid(s.stop_bits())) return Bad("stop_bits", "unknown");
  if (s.stop_bits() == v1::MODEM_STOP_BITS_UNSPECIFIED) s.set_stop_bits(v1::MODEM_STOP_BITS_ONE);
  if (s.wait_bong_s() > kMaxWaitBong) return Bad("wait_bong_s", "is at most 255");
  return s;
}

std::vector<std::string> ModemSettingsCommands(const v1::ModemSettings& s,
                                               at::ModemProfile profile) {
  if (profile == at::ModemProfile::k3gppCellular) return {};
  std::vector<std::string> out;
  // V.250 L: 0 and 1 are both low on most modems; 1 is the documented one.
  switch (s.speaker_volume()) {
    case v1::MODEM_SPEAKER_VOLUME_HIGH:
      out.push_back("ATL3");
      break;
    case v1::MODEM_SPEAKER_VOLUME_MEDIUM:
      out.push_back("ATL2");
      break;
    default:
      out.push_back("ATL1");
  }
  switch (s.speaker_mode()) {
    case v1::MODEM_SPEAKER_MODE_OFF:
      out.push_back("ATM0");
      break;
    case v1::MODEM_SPEAKER_MODE_ON:
      out.push_back("ATM2");
      break;
    case v1::MODEM_SPEAKER_MODE_CALL_SETUP:
      out.push_back("ATM3");
      break;
    default:
      out.push_back("ATM1");
  }
  // X4: wait for dial tone and report NO DIALTONE and BUSY; X3: blind dial.
  out.push_back(s.blind_dial() ? "ATX3" : "ATX4");
  out.push_back(absl::StrCat("ATS7=", s.call_setup_fail_timer_s()));
  out.push_back(absl::StrCat("ATS30=", (s.inactivity_timeout_s() + 9) / 10));
  // V.250 +ES (orig request, orig fallback, answer fallback): V.42 with
  // detection, fallback to a buffered link; forced: V.42 required both ways.
  switch (s.error_control()) {
    case v1::MODEM_ERROR_CONTROL_ON:
      out.push_back("AT+ES=3,0,2");
      break;
    case v1::MODEM_ERROR_CONTROL_FORCED:
      out.push_back("AT+ES=3,3,4");
      break;
    default:
      out.push_back("AT+ES=1,0,1");
  }
  out.push_back(s.compression() ? "AT+DS=3,0" : "AT+DS=0,0");
  switch (s.flow_control()) {
    case v1::MODEM_FLOW_CONTROL_HARDWARE:
      out.push_back("AT&K3");
      break;
    case v1::MODEM_FLOW_CONTROL_SOFTWARE:
      out.push_back("AT&K4");
      break;
    default:
      out.push_back("AT&K0");
  }
  return out;
}

}  // namespace linebridge::modem
