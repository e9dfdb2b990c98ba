// CLUSTER NODES replies and nodes.conf files (the same line format): what every peer sends.
// Beyond not crashing: every node parsed must hold what the parser promises (a 40-character
// ID, ports and slots in range), whatever the input.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rci/redis/cluster_nodes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto nodes = rci::redis::parse_cluster_nodes(text);
  if (!nodes) return 0;
  for (const auto& node : *nodes) {
    if (node.id.size() != 40 || node.port < 0 || node.port > 65535 || node.bus_port < 0 || node.bus_port > 65535) {
      std::abort();
    }
    for (const auto& range : node.slots) {
      if (range.first < 0 || range.first > range.last || range.last >= rci::cluster_slots) std::abort();
    }
    (void)node.slot_count();
  }
  return 0;
}
