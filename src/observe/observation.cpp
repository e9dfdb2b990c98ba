// The pure parts of observing: building a NodeProbe from reply texts, and the stand-in for a
// peer seen only through this node's table. Unit-tested without a server.
#include "rci/observe/observation.hpp"

#include <fmt/format.h>

namespace rci {

const redis::ClusterNode& NodeProbe::myself() const {
  if (const auto* me = redis::find_myself(nodes)) return *me;
  static const redis::ClusterNode none;
  return none;
}

const char* to_string(DiscoveryMethod method) {
  switch (method) {
    case DiscoveryMethod::srv: return "srv";
    case DiscoveryMethod::names: return "names";
  }
  return "unknown";
}

std::string PodObservation::why_not() const {
  if (!address) return address.error().message;
  if (!probe) return probe.error().message;
  return {};
}

Result<NodeProbe> make_node_probe(const std::string& cluster_nodes, const std::string& cluster_info,
                                  const std::string& replication_info, long long keys) {
  auto probe = make_table_probe(cluster_nodes);
  if (!probe) return probe;
  probe->table_only = false;
  auto info = redis::parse_cluster_info(cluster_info);
  if (!info) return std::unexpected(info.error());
  probe->cluster = *info;
  auto replication = redis::parse_replication_info(replication_info);
  if (!replication) return std::unexpected(replication.error());
  probe->replication = *replication;
  probe->keys = keys;
  return probe;
}

Result<NodeProbe> make_table_probe(const std::string& cluster_nodes) {
  NodeProbe probe;
  probe.table_only = true;
  auto nodes = redis::parse_cluster_nodes(cluster_nodes);
  if (!nodes) return std::unexpected(nodes.error());
  probe.nodes = std::move(*nodes);
  const auto* me = redis::find_myself(probe.nodes);
  if (me == nullptr) return fail(ErrorKind::protocol, "CLUSTER NODES has no 'myself' line");
  probe.id = me->id;
  probe.replication.is_master = me->master;
  return probe;
}

NodeProbe probe_from_local_table(const redis::ClusterNode& entry) {
  NodeProbe probe;
  probe.from_local_table = true;
  probe.id = entry.id;
  probe.nodes = {entry};
  probe.nodes.front().myself = true;
  probe.replication.is_master = entry.master;
  return probe;
}

}  // namespace rci
