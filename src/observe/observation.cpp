// The pure parts of observing: building a NodeProbe from reply texts, and the stand-in for a
// peer seen only through this node's table. Unit-tested without a server.
#include "rci/observe/observation.hpp"

#include <fmt/format.h>

#include <map>

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

const char* to_string(Provenance provenance) {
  switch (provenance) {
    case Provenance::asked: return "asked";
    case Provenance::reused: return "reused";
    case Provenance::local_table: return "local-table";
  }
  return "unknown";
}

const char* to_string(Identity identity) {
  switch (identity) {
    case Identity::verified: return "verified";
    case Identity::nameless: return "nameless";
    case Identity::other_pod: return "other-pod";
    case Identity::duplicate: return "duplicate";
  }
  return "unknown";
}

const char* to_string(AtAddress at_address) {
  switch (at_address) {
    case AtAddress::itself: return "itself";
    case AtAddress::another_node: return "another-node";
    case AtAddress::nothing: return "nothing";
    case AtAddress::unknown: return "unknown";
  }
  return "unknown";
}

AtAddress at_address_of(const Result<NodeProbe>& probe, const std::string& node_id) {
  if (probe) return probe->id == node_id ? AtAddress::itself : AtAddress::another_node;
  switch (probe.error().kind) {
    case ErrorKind::io:
    case ErrorKind::timeout: return AtAddress::nothing;
    // A server runs there (a refused password or certificate, an error reply, a closed link):
    // it may be the departed node.
    default: return AtAddress::unknown;
  }
}

void verify_identities(Observation& observation, int self_index) {
  // How many pods each node ID answered for: one nameless node at two pods' addresses is
  // neither's for certain.
  std::map<std::string, int> answers_of_node;
  for (const auto& pod : observation.pods) {
    if (pod.answered() && pod.probe->cluster_enabled) ++answers_of_node[pod.probe->id];
  }
  for (size_t i = 0; i < observation.pods.size(); ++i) {
    auto& pod = observation.pods[i];
    if (!pod.answered()) continue;
    pod.announced = pod.probe->cluster_enabled ? pod.probe->myself().hostname : std::string();
    if (static_cast<int>(i) == self_index || announces(pod.announced, pod.pod)) {
      pod.identity = Identity::verified;
    } else if (!pod.announced.empty()) {
      pod.identity = Identity::other_pod;
    } else {
      pod.identity =
          pod.probe->cluster_enabled && answers_of_node[pod.probe->id] > 1 ? Identity::duplicate : Identity::nameless;
    }
  }
}

std::string PodObservation::why_not() const {
  if (!endpoint) return endpoint.error().message;
  if (!probe) return probe.error().message;
  if (identity == Identity::verified) return {};
  const std::string answered_as = fmt::format("{} answers as node {}", endpoint->to_string(), probe->id.substr(0, 8));
  switch (identity) {
    case Identity::verified: return {};
    case Identity::nameless: return answered_as + ", which announces no pod name yet (its bootstrap has not run)";
    case Identity::other_pod:
      return fmt::format("{}, which announces {}: not this pod (a stale DNS record or a reused address)", answered_as,
                         announced);
    case Identity::duplicate: return answered_as + ", which answers at another pod's address too and announces no name";
  }
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
  probe.table_only = true;
  probe.id = entry.id;
  redis::ClusterNode as_itself = entry;
  as_itself.myself = true;
  probe.nodes = std::vector<redis::ClusterNode>{std::move(as_itself)};
  probe.replication.is_master = entry.master;
  return probe;
}

}  // namespace rci
