#include "providers/builtin.h"

#include <mutex>

#include "core/provider.h"
#include "providers/modem/modem_provider.h"
#include "providers/sim/sim_provider.h"
#include "providers/sip/sip_provider.h"

namespace linebridge {

void RegisterBuiltinProviders() {
  static std::once_flag once;
  std::call_once(once, [] {
    ProviderRegistry::Get().Register("sim", &SimProvider::Create);
    ProviderRegistry::Get().Register("modem", &ModemProvider::Create);
    RegisterSipProvider();
  });
}

}  // namespace linebridge
