#include "tsp/server_identity.h"

#include <cstdio>

namespace linebridge::tsp {

void ServerIdentities::Reset(std::vector<std::string> addresses) {
  ids_.assign(addresses.size(), std::string());
  conflict_reported_.assign(addresses.size(), false);
  addresses_ = std::move(addresses);
}

bool ServerIdentities::Accept(size_t server, const std::string& id) {
  if (server >= ids_.size()) return false;
  if (id.empty()) return true;  // no id: keyed by line id alone, as before
  for (size_t other = 0; other < ids_.size(); ++other) {
    if (other == server || ids_[other] != id) continue;
    if (!conflict_reported_[server]) {
      conflict_reported_[server] = true;
      std::fprintf(stderr,
                   "linebridge.tsp: configuration error: servers %s and %s both report server "
                   "id \"%s\"; the lines of %s are left out (give each linebridged its own "
                   "server_id or data directory)\n",
                   addresses_[other].c_str(), addresses_[server].c_str(), id.c_str(),
                   addresses_[server].c_str());
    }
    return false;
  }
  ids_[server] = id;
  return true;
}

std::optional<size_t> ServerIdentities::ServerOf(const std::string& id) const {
  if (id.empty()) return std::nullopt;
  for (size_t server = 0; server < ids_.size(); ++server) {
    if (ids_[server] == id) return server;
  }
  return std::nullopt;
}

const std::string& ServerIdentities::IdOf(size_t server) const {
  static const std::string kNone;
  return server < ids_.size() ? ids_[server] : kNone;
}

uint32_t Fnv1a32(const std::string& text) {
  uint32_t h = 2166136261u;
  for (unsigned char c : text) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

uint32_t PermanentLineIdOf(const std::string& server_id, const std::string& line_id) {
  return Fnv1a32(server_id.empty() ? line_id : server_id + "/" + line_id);
}

}  // namespace linebridge::tsp
