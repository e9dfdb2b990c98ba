#pragma once
// What one round of observation saw: for every expected pod, its address and, if it
// answered, its node's view of the cluster. Plain data: the planner reads it, tests build it.

#include <optional>
#include <string>
#include <vector>

#include "rci/redis/cluster_nodes.hpp"
#include "rci/redis/info.hpp"
#include "rci/topology.hpp"
#include "rci/util/error.hpp"

namespace rci {

// One redis-server's answers to the probe commands.
struct NodeProbe {
  bool cluster_enabled = true;  // false: redis-server runs without cluster-enabled
  std::string cluster_refusal;  // when !cluster_enabled: the server's reply to CLUSTER NODES
  // True when this peer was not asked itself: this pod's own node knows it, connected, at the
  // address DNS gives, so its entry there stands in for it (`nodes` holds only that entry,
  // flagged myself). Saves a probe per peer per round once the cluster has formed.
  bool from_local_table = false;
  // True when only CLUSTER NODES was asked: `cluster`, `replication` (but is_master) and `keys`
  // are defaults, not answers.
  bool table_only = false;
  std::string id;                         // its own node ID (the `myself` line)
  std::vector<redis::ClusterNode> nodes;  // CLUSTER NODES as it sees it
  redis::ClusterInfo cluster;             // CLUSTER INFO
  redis::ReplicationInfo replication;     // INFO replication
  long long keys = 0;                     // DBSIZE

  const redis::ClusterNode& myself() const;  // the `myself` entry (always present)
  bool knows_other_nodes() const { return nodes.size() > 1; }
};

// One expected pod as seen this round.
struct PodObservation {
  ExpectedPod pod;
  Result<std::string> address = std::unexpected(Error{ErrorKind::internal, "not resolved"});
  // Set when the address resolved and the node answered every probe command.
  Result<NodeProbe> probe = std::unexpected(Error{ErrorKind::internal, "not probed"});

  // True when `probe` is this pod's answer from an earlier round, reused because nothing in it
  // could change this pod's next step (see Scope::changing_peers).
  bool reused = false;

  bool answered() const { return probe.has_value(); }
  // Why this pod is not usable this round (empty when it answered).
  std::string why_not() const;
};

// How the pods' addresses were found this round.
enum class DiscoveryMethod {
  srv,    // one SRV query for the service's named port: every pod's name and address
  names,  // each pod's own name
};

struct DiscoveryReport {
  DiscoveryMethod method = DiscoveryMethod::names;
  std::string note;                     // why this method, when it is not the one asked for
  std::vector<std::string> unexpected;  // SRV targets that are no expected pod (e.g. a shard beyond SHARDS)
};

struct Observation {
  std::vector<PodObservation> pods;  // same order as Topology::pods
  DiscoveryReport discovery;
};

const char* to_string(DiscoveryMethod method);

// How much one probe asks a node.
enum class ProbeDepth {
  full,        // CLUSTER NODES, CLUSTER INFO, INFO replication, DBSIZE
  table_only,  // CLUSTER NODES: identity, role and slots, a quarter of the cost
};

// Rare: each full round of a hundred pods asks every peer for a table of a hundred lines.
// The stand-in probe for a peer that this node's table shows connected (see NodeProbe).
NodeProbe probe_from_local_table(const redis::ClusterNode& entry);

// Builds a table-only NodeProbe from CLUSTER NODES alone.
Result<NodeProbe> make_table_probe(const std::string& cluster_nodes);

// Builds a NodeProbe from the raw replies of the probe pipeline; a pure function so it is
// unit-tested without a server.
Result<NodeProbe> make_node_probe(const std::string& cluster_nodes, const std::string& cluster_info,
                                  const std::string& replication_info, long long keys);

}  // namespace rci
