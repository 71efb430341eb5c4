#include "ui/settings_form.h"

#include <cctype>

namespace linebridge::tspui {
namespace {

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

}  // namespace

size_t FieldIndex(const std::string& key) {
  for (size_t i = 0; i < kFields.size(); ++i) {
    if (key == kFields[i].key) return i;
  }
  return kFields.size();
}

bool FormFromSettings(const std::vector<RawSetting>& settings, FormValues* form,
                      std::string* error) {
  FormValues values;
  for (const RawSetting& s : settings) {
    const size_t i = FieldIndex(s.key);
    if (i == kFields.size()) {
      *error = s.where + ": " + s.key +
               (s.key == "config_file"
                    ? ": the settings are in the file \"" + s.value + "\"; edit that file"
                    : ": unknown setting");
      return false;
    }
    std::string& text = values[i];
    if (kFields[i].kind == FieldKind::kLines) {
      if (!text.empty()) text += "\r\n";
      text += s.value;
    } else if (kFields[i].kind == FieldKind::kCheck) {
      bool on = false;
      const std::string v = Trim(s.value);
      std::string lower;
      for (char c : v) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      on = lower == "on" || lower == "true" || lower == "yes" || lower == "1";
      text = on ? "on" : "";
    } else {
      text = s.value;
    }
  }
  *form = values;
  return true;
}

std::vector<RawSetting> SettingsFromForm(const FormValues& form) {
  std::vector<RawSetting> settings;
  for (size_t i = 0; i < kFields.size(); ++i) {
    const Field& f = kFields[i];
    if (f.kind == FieldKind::kLines) {
      size_t start = 0;
      const std::string& text = form[i];
      while (start <= text.size()) {
        size_t end = text.find_first_of("\r\n", start);
        if (end == std::string::npos) end = text.size();
        std::string line = Trim(text.substr(start, end - start));
        if (!line.empty()) settings.push_back({f.key, std::move(line), f.label});
        start = end + 1;
      }
    } else if (f.kind == FieldKind::kCheck) {
      if (form[i] == "on") settings.push_back({f.key, "on", f.label});
    } else {
      std::string value = Trim(form[i]);
      if (!value.empty()) settings.push_back({f.key, std::move(value), f.label});
    }
  }
  return settings;
}

bool CheckForm(const FormValues& form, const std::function<std::string(const std::string&)>& expand,
               const std::string& source, TspConfig* config, std::string* error) {
  std::vector<RawSetting> settings = SettingsFromForm(form);
  for (RawSetting& s : settings) s.value = Trim(expand(s.value));
  return tsp::CheckTspSettings(settings, source, config, error);
}

}  // namespace linebridge::tspui
