#pragma once
// Parsers for INFO and CLUSTER INFO replies (`key:value` lines, `# Section` headers).

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "rci/util/error.hpp"

namespace rci::redis {

// All `key:value` fields of an INFO-style text; comment and blank lines are skipped.
std::map<std::string, std::string, std::less<>> parse_info_fields(std::string_view text);

struct ClusterInfo {
  bool state_ok = false;  // cluster_state:ok
  int slots_assigned = 0;
  int slots_ok = 0;
  int slots_pfail = 0;
  int slots_fail = 0;
  int known_nodes = 0;
  int size = 0;  // masters serving slots
  long long current_epoch = 0;
  long long my_epoch = 0;
};
Result<ClusterInfo> parse_cluster_info(std::string_view text);

struct ReplicationInfo {
  bool is_master = true;
  std::string master_host;  // replicas only
  int master_port = 0;
  bool master_link_up = false;
  int connected_replicas = 0;
};
Result<ReplicationInfo> parse_replication_info(std::string_view text);

}  // namespace rci::redis
