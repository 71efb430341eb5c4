#include "store/open_stores.h"

#include "linebridge/status_macros.h"
#include "store/cdr_store.h"

namespace linebridge {

absl::StatusOr<Stores> OpenStores(const v1::config::ServerConfig& config,
                                  const std::string& server_id) {
  Stores stores;
  stores.backend = "sqlite";
  LB_ASSIGN_OR_RETURN(stores.records,
                      CdrStore::Open(CdrStore::PathInDataDir(config.data_dir()),
                                     CdrStore::kBusyTimeoutMs, server_id));
  LB_ASSIGN_OR_RETURN(stores.security,
                      SecurityStore::Open(SecurityStore::PathInDataDir(config.data_dir()),
                                          SecurityStore::kBusyTimeoutMs, server_id));
  return stores;
}

}  // namespace linebridge
