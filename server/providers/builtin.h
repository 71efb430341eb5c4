// Registers every provider type built into linebridged with the
// ProviderRegistry. Idempotent.
#pragma once

namespace linebridge {
void RegisterBuiltinProviders();
}  // namespace linebridge
