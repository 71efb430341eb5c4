// The configuration dialog's model: the provider's settings as the dialog's
// fields, and back. Standard library only (tested natively, used by the UI
// DLL built with mingw-w64 or MSVC); the validation is the provider's own
// (CheckTspSettings, tsp/tsp_settings_check.h).
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "tsp/tsp_settings.h"
#include "tsp/tsp_settings_check.h"

namespace linebridge::tspui {

using tsp::RawSetting;
using tsp::TspConfig;

enum class FieldKind {
  kText,   // one line
  kLines,  // several values, one per line (`server`)
  kCheck,  // on/off (`tls`): checked writes "on", unchecked nothing
};

struct Field {
  const char* key;    // the setting (registry value name)
  const char* label;  // shown in the dialog and in error messages
  FieldKind kind;
};

// Every setting the provider reads, in the dialog's order (tsp_config.h).
inline constexpr std::array<Field, 14> kFields = {{
    {"server", "Servers (host:port, one per line)", FieldKind::kLines},
    {"device_map", "Device map file", FieldKind::kText},
    {"client_name", "Client name", FieldKind::kText},
    {"deadline_ms", "Request deadline (ms)", FieldKind::kText},
    {"tls", "Use TLS", FieldKind::kCheck},
    {"ca_file", "CA certificates (PEM)", FieldKind::kText},
    {"cert_file", "Client certificate (PEM)", FieldKind::kText},
    {"key_file", "Client key (PEM)", FieldKind::kText},
    {"server_name", "Server name in certificate", FieldKind::kText},
    {"token_file", "Bearer token file", FieldKind::kText},
    {"log_file", "Log file", FieldKind::kText},
    {"log_level", "Log level (error, warning, info, debug)", FieldKind::kText},
    {"log_max_bytes", "Log size before rotation (bytes)", FieldKind::kText},
    {"log_files", "Rotated log files kept", FieldKind::kText},
}};

// Index of `key` in kFields, or kFields.size().
size_t FieldIndex(const std::string& key);

// The text of each field (kFields order): kLines joined with "\r\n" (an edit
// control's line breaks), kCheck "on" or "".
using FormValues = std::array<std::string, kFields.size()>;

// What the dialog shows for settings read from the registry (unexpanded).
// False with `error` for a setting the dialog has no field for
// (`config_file`: the registry then only points at a file, edited there).
bool FormFromSettings(const std::vector<RawSetting>& settings, FormValues* form,
                      std::string* error);

// The settings the dialog writes: each field trimmed, empty fields left out,
// kLines split at line breaks (empty lines skipped); `where` names the
// field's label so the provider's messages point at it.
std::vector<RawSetting> SettingsFromForm(const FormValues& form);

// Validates the form as the provider will validate what is written:
// CheckTspSettings on SettingsFromForm, values passed through `expand`
// first (%VARIABLES%, as the provider reads REG_EXPAND_SZ). `source` names
// the settings in messages about what is missing.
bool CheckForm(const FormValues& form, const std::function<std::string(const std::string&)>& expand,
               const std::string& source, TspConfig* config, std::string* error);

}  // namespace linebridge::tspui
