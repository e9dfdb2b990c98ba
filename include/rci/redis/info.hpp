#pragma once
// Parsers for INFO and CLUSTER INFO replies (`key:value` lines, `# Section` headers).

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// One `slaveN:` line of a master's INFO replication: a replica as the master sees it.
struct ReplicaLink {
  std::string ip;        // as the master sees it (or replica-announce-ip)
  int port = 0;          // the replica's listening port
  bool online = false;   // state=online: past its initial sync, streaming
  long long offset = 0;  // the replication offset it last acknowledged
  long long lag = 0;     // seconds since that acknowledgement
};

struct ReplicationInfo {
  bool is_master = true;
  std::string master_host;  // replicas only
  int master_port = 0;
  bool master_link_up = false;
  int connected_replicas = 0;
  long long offset = 0;               // master_repl_offset: on a replica, how far it has applied
  long long last_io_seconds = -1;     // replicas: master_last_io_seconds_ago (-1: link down)
  std::vector<ReplicaLink> replicas;  // masters only: one per connected replica, as it sees them
};
Result<ReplicationInfo> parse_replication_info(std::string_view text);

}  // namespace rci::redis
