#include "config/provider_config_hooks.h"

#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace linebridge {
namespace {

struct Registry {
  absl::Mutex mu;
  std::map<int, ProviderConfigHooks> hooks ABSL_GUARDED_BY(mu);
};

Registry& Get() {
  static Registry* registry = new Registry;
  return *registry;
}

}  // namespace

void RegisterProviderConfigHooks(v1::config::ProviderConfig::KindCase kind,
                                 ProviderConfigHooks hooks) {
  Registry& r = Get();
  absl::MutexLock lock(&r.mu);
  r.hooks[static_cast<int>(kind)] = std::move(hooks);
}

const ProviderConfigHooks* FindProviderConfigHooks(v1::config::ProviderConfig::KindCase kind) {
  Registry& r = Get();
  absl::MutexLock lock(&r.mu);
  auto it = r.hooks.find(static_cast<int>(kind));
  // Entries are never erased and std::map nodes are stable.
  return it == r.hooks.end() ? nullptr : &it->second;
}

}  // namespace linebridge
