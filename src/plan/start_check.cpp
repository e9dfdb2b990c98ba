#include "rci/plan/start_check.hpp"

#include <fmt/format.h>

#include <vector>

#include "rci/util/text.hpp"

namespace rci::plan {

std::optional<std::string> empty_start_hazard(const Observation& observation, const std::string& address, int port) {
  std::vector<std::string> replicas;
  std::string master_id;
  for (const auto& pod : observation.pods) {
    if (!pod.answered() || pod.probe->from_local_table) continue;
    const redis::ClusterNode& me = pod.probe->myself();
    if (!me.replica || me.master_id.empty()) continue;
    for (const auto& node : pod.probe->nodes) {
      if (node.id == me.master_id && node.ip == address && node.port == port) {
        replicas.push_back(pod.pod.name);
        master_id = node.id;
      }
    }
  }
  if (replicas.empty()) return std::nullopt;
  return fmt::format(
      "pod(s) {} replicate node {} at this pod's address {}:{}; an empty redis-server there now "
      "would make them drop their data and copy its empty dataset, so redis-server starts once "
      "Redis has failed that node over (its replica promoted)",
      text::join(replicas, ", "), master_id.substr(0, 8), address, port);
}

}  // namespace rci::plan
