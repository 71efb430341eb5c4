#include "providers/modem/line_caps.h"

#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "core/engine.h"

namespace linebridge::modem {
namespace {

using at::ModemProfile;

template <typename E>
void AddAll(google::protobuf::RepeatedField<int>* out, std::initializer_list<E> values) {
  for (E v : values) out->Add(v);
}

bool IsVoiceProfile(ModemProfile p) { return p != ModemProfile::kHayesData; }

}  // namespace

v1::Line BuildModemLine(const v1::config::ModemPort& c, const std::string& line_id,
                        const at::ModemIdentity* identity, ModemProfile profile,
                        v1::LineState state) {
  v1::Line line;
  line.set_id(line_id);
  line.set_name(c.display_name().empty() ? c.name() : c.display_name());
  line.set_provider("modem");
  v1::LineCaps* caps = line.mutable_caps();
  caps->set_permanent_line_id(PermanentLineId(c.device()));
  caps->set_provider_info(absl::StrCat("linebridge modem (", at::ProfileName(profile), ")"));
  caps->set_switch_info(identity != nullptr
                            ? absl::StrCat(at::DescribeIdentity(*identity), " on ", c.device())
                            : c.device());
  caps->set_line_name(line.name());
  const bool voice = IsVoiceProfile(profile);
  switch (profile) {
    case ModemProfile::kHayesData:
      caps->set_max_data_rate(33600);
      AddAll(caps->mutable_media_modes(), {v1::MEDIA_MODE_DATAMODEM, v1::MEDIA_MODE_G3FAX});
      AddAll(caps->mutable_bearer_modes(), {v1::BEARER_MODE_VOICE});
      break;
    case ModemProfile::kV253Voice:
      caps->set_max_data_rate(33600);
      AddAll(caps->mutable_media_modes(),
             {v1::MEDIA_MODE_INTERACTIVE_VOICE, v1::MEDIA_MODE_AUTOMATED_VOICE,
              v1::MEDIA_MODE_DATAMODEM, v1::MEDIA_MODE_G3FAX});
      AddAll(caps->mutable_bearer_modes(), {v1::BEARER_MODE_VOICE});
      AddAll(caps->mutable_monitor_digit_modes(), {v1::DIGIT_MODE_DTMF});
      break;
    case ModemProfile::k3gppCellular:
      caps->set_max_data_rate(9600);
      AddAll(caps->mutable_media_modes(), {v1::MEDIA_MODE_INTERACTIVE_VOICE});
      AddAll(caps->mutable_bearer_modes(), {v1::BEARER_MODE_SPEECH});
      break;
  }
  if (voice) AddAll(caps->mutable_generate_digit_modes(), {v1::DIGIT_MODE_DTMF});
  const std::initializer_list<v1::DisconnectMode> modes = {
      v1::DISCONNECT_MODE_NORMAL,      v1::DISCONNECT_MODE_REJECT,
      v1::DISCONNECT_MODE_BUSY,        v1::DISCONNECT_MODE_NOANSWER,
      v1::DISCONNECT_MODE_UNREACHABLE, v1::DISCONNECT_MODE_UNAVAIL,
      v1::DISCONNECT_MODE_NODIALTONE,  v1::DISCONNECT_MODE_OUTOFORDER,
      v1::DISCONNECT_MODE_CANCELLED};
  AddAll(caps->mutable_disconnect_modes(), modes);
  caps->set_max_num_active_calls(1);
  caps->set_can_generate_digits(voice);
  caps->set_can_monitor_digits(profile == ModemProfile::kV253Voice);
  caps->set_caller_id_supported(true);
  caps->add_device_classes("tapi/line");
  caps->add_device_classes("comm/datamodem");
  caps->set_answer_mode(1);  // LINEANSWERMODE_NONE

  v1::Address* addr = line.add_addresses();
  addr->set_index(0);
  addr->set_address(c.number());
  v1::AddressCaps* ac = addr->mutable_caps();
  ac->set_max_num_active_calls(1);
  AddAll(ac->mutable_address_features(), {v1::ADDRESS_FEATURE_MAKECALL});
  AddAll(ac->mutable_call_features(), {v1::CALL_FEATURE_ANSWER, v1::CALL_FEATURE_DROP});
  if (voice) AddAll(ac->mutable_call_features(), {v1::CALL_FEATURE_GENERATEDIGITS});
  if (profile == ModemProfile::kV253Voice) {
    AddAll(ac->mutable_call_features(), {v1::CALL_FEATURE_MONITORDIGITS});
  }
  AddAll(ac->mutable_call_states(),
         {v1::CALL_STATE_IDLE, v1::CALL_STATE_OFFERING, v1::CALL_STATE_DIALING,
          v1::CALL_STATE_PROCEEDING, v1::CALL_STATE_RINGBACK, v1::CALL_STATE_CONNECTED,
          v1::CALL_STATE_DISCONNECTED});
  AddAll(ac->mutable_disconnect_modes(), modes);
  ac->set_caller_id_supported(true);
  ac->set_called_id_supported(true);
  line.mutable_status()->set_state(state);
  line.mutable_status()->set_connected(state == v1::LINE_STATE_IN_SERVICE);
  return line;
}

}  // namespace linebridge::modem
