// Which configured server reported which server id (linebridge.v1
// Line.server_id): lines are keyed by (server id, line id), so two servers
// that report the same id would merge their lines. That is a configuration
// error (two linebridged sharing a data directory or a configured
// `server_id`): it is logged once, and the second server's lines are left out
// rather than merged. Not thread-safe (the provider's lock guards it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace linebridge::tsp {

class ServerIdentities {
 public:
  // `addresses[i]`: the configured address of server i (for messages).
  void Reset(std::vector<std::string> addresses);
  // Server `server` reports `id` ("" from a server too old to have one).
  // False if another server already reported `id` (logged to stderr once
  // per pair).
  bool Accept(size_t server, const std::string& id);
  // The server index that reported `id`, if any (and not in conflict).
  std::optional<size_t> ServerOf(const std::string& id) const;
  const std::string& IdOf(size_t server) const;

 private:
  std::vector<std::string> addresses_;
  std::vector<std::string> ids_;
  std::vector<bool> conflict_reported_;
};

// FNV-1a (32 bits) of `text`: LINEDEVCAPS.dwPermanentLineID.
uint32_t Fnv1a32(const std::string& text);
// dwPermanentLineID of a line: FNV-1a of "<server id>/<line id>" (of the line
// id alone when the server reported no id), so the same line id on two
// servers gives two permanent ids; computed locally, the same on every
// workstation, before the server answers too.
uint32_t PermanentLineIdOf(const std::string& server_id, const std::string& line_id);

}  // namespace linebridge::tsp
