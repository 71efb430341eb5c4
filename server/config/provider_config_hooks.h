// Configuration of provider kinds that own it: a provider registers, for its
// ProviderConfig kind, how unset fields get their defaults and how a block is
// validated. ApplyDefaults and ValidateConfig (config.h) call these for every
// provider block of that kind; the provider's own files hold the rules.
#pragma once

#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "linebridge/v1/config.pb.h"

namespace linebridge {

// Reports one problem with the field at `path` ("providers[2].sip.accounts[0].uri").
using ConfigErrorFn = std::function<void(const std::string& path, absl::string_view what)>;

struct ProviderConfigHooks {
  // Fills the fields left unset.
  std::function<void(v1::config::ProviderConfig*)> apply_defaults;
  // Checks a block (defaults applied) whose path is `path` (e.g.
  // "providers[2].sip"); returns the instance name, checked for duplicates
  // across all providers by the caller.
  std::function<std::string(const v1::config::ProviderConfig&, const std::string& path,
                            const ConfigErrorFn& error)>
      validate;
};

// Registering a kind twice replaces the hooks (registration is idempotent).
void RegisterProviderConfigHooks(v1::config::ProviderConfig::KindCase kind,
                                 ProviderConfigHooks hooks);
// nullptr when no provider registered `kind`.
const ProviderConfigHooks* FindProviderConfigHooks(v1::config::ProviderConfig::KindCase kind);

}  // namespace linebridge
