#pragma once
// What one round of observation saw: for every expected pod, where its node is and, if it
// answered, its node's view of the cluster. Plain data: the planner reads it, tests build it.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rci/net/address.hpp"
#include "rci/redis/cluster_nodes.hpp"
#include "rci/redis/info.hpp"
#include "rci/topology.hpp"
#include "rci/util/error.hpp"

namespace rci {

// A node's CLUSTER NODES table, shared by the copies of its probe: a round reuses earlier
// answers (Provenance::reused) and keeps this round's for the next, and at 300 pods a copy of
// a 300-line table per reuse per round was most of a bootstrap's memory. Reads as a vector;
// a write (tests build tables line by line) replaces the shared lines with a longer copy.
class NodeTable {
 public:
  NodeTable() = default;
  NodeTable(std::vector<redis::ClusterNode> nodes)  // NOLINT(google-explicit-constructor): a table is its lines
      : nodes_(std::make_shared<const std::vector<redis::ClusterNode>>(std::move(nodes))) {}

  const std::vector<redis::ClusterNode>& lines() const { return nodes_ ? *nodes_ : no_lines(); }
  operator const std::vector<redis::ClusterNode>&() const { return lines(); }  // NOLINT: as above
  auto begin() const { return lines().begin(); }
  auto end() const { return lines().end(); }
  size_t size() const { return lines().size(); }
  bool empty() const { return lines().empty(); }
  const redis::ClusterNode& front() const { return lines().front(); }
  const redis::ClusterNode& operator[](size_t i) const { return lines()[i]; }
  void push_back(redis::ClusterNode node) {
    auto copy = lines();
    copy.push_back(std::move(node));
    nodes_ = std::make_shared<const std::vector<redis::ClusterNode>>(std::move(copy));
  }

 private:
  static const std::vector<redis::ClusterNode>& no_lines() {
    static const std::vector<redis::ClusterNode> none;
    return none;
  }
  std::shared_ptr<const std::vector<redis::ClusterNode>> nodes_;
};

// One redis-server's answers to the probe commands.
struct NodeProbe {
  bool cluster_enabled = true;  // false: redis-server runs without cluster-enabled
  std::string cluster_refusal;  // when !cluster_enabled: the server's reply to CLUSTER NODES
  // True when only CLUSTER NODES was asked (or the probe stands in for the peer, see
  // Provenance::local_table): `cluster`, `replication` (but is_master) and `keys` are
  // defaults, not answers.
  bool table_only = false;
  std::string id;                      // its own node ID (the `myself` line)
  NodeTable nodes;                     // CLUSTER NODES as it sees it
  redis::ClusterInfo cluster;          // CLUSTER INFO
  redis::ReplicationInfo replication;  // INFO replication
  long long keys = 0;                  // DBSIZE

  const redis::ClusterNode& myself() const;  // the `myself` entry (always present)
  bool knows_other_nodes() const { return nodes.size() > 1; }
};

// Where a pod's answer comes from.
enum class Provenance {
  asked,   // its node answered this round, at the address DNS gives now
  reused,  // its answer of an earlier round: nothing in it could change this pod's next step
  // Not asked: this pod's own node lists it, connected, at the address DNS gives, so that
  // entry stands in for it (`nodes` holds only the entry, flagged myself). Saves a probe per
  // peer per round once the cluster has formed.
  local_table,
};

// Whether the node that answered at a pod's address is that pod's node.
enum class Identity {
  verified,   // it announces this pod's name (cluster-announce-hostname: the pod name or FQDN)
  nameless,   // it announces no name: its own bootstrap has not set one yet, or Redis 6.2
  other_pod,  // it announces another name: a stale DNS record or a reused address
  duplicate,  // nameless, and its node ID also answered at another pod's address
};

// One expected pod as seen this round.
struct PodObservation {
  ExpectedPod pod;
  // Where its node listens for clients: the address DNS gives (this pod's own: --pod-ip) and
  // the port of its SRV record (--port without one). The cluster bus port is the node's own
  // word (its `myself` entry), read where it is needed.
  Result<net::Endpoint> endpoint = std::unexpected(Error{ErrorKind::internal, "not resolved"});
  // Set when the address resolved and the node answered every probe command.
  Result<NodeProbe> probe = std::unexpected(Error{ErrorKind::internal, "not probed"});
  Provenance provenance = Provenance::asked;
  Identity identity = Identity::nameless;  // set by verify_identities() once `probe` holds an answer
  std::string announced;                   // the name the node announces (other_pod: whose it is)

  bool answered() const { return probe.has_value(); }
  // Answered this round, by the node itself (not reused, not stood in for).
  bool asked() const { return answered() && provenance == Provenance::asked; }
  // Why this pod is not usable this round: no address, no answer, or an answer by a node that
  // is not verified as this pod's (empty when verified).
  std::string why_not() const;
};

// How the pods' addresses were found this round.
enum class DiscoveryMethod {
  srv,    // one SRV query for the service's named port: every pod's name and address
  names,  // each pod's own name
};

struct DiscoveryReport {
  DiscoveryMethod method = DiscoveryMethod::names;
  std::string note;  // why this method when it is not the one asked for, or why it has no answer
  // Every SRV target that is no expected pod, in lower case (e.g. an ordinal above REPLICAS
  // whose pod still exists).
  std::vector<std::string> unexpected;
};

// What answered at the address of a node whose pod the layout no longer has.
enum class AtAddress {
  itself,        // a server answered as that node: its pod still runs
  another_node,  // a server answered as another node: the address now belongs to someone else
  nothing,       // no server answered: the connection was refused, unreachable or timed out
  unknown,       // something answered but did not say who it is (TLS or authentication refused, an error)
};

// This node's entry of a departed pod (see departed_pod), which its table shows unreachable,
// and what its address answered when asked directly. Redis's own view is not enough to forget
// it: a node that has just restarted shows every peer disconnected until its links come up.
struct DepartedCheck {
  std::string node_id;
  net::Endpoint endpoint;
  AtAddress at_address = AtAddress::unknown;
  std::string detail;  // the probe's error, when there is one
};

struct Observation {
  std::vector<PodObservation> pods;  // same order as Topology::pods
  DiscoveryReport discovery;
  std::vector<DepartedCheck> departed;  // at most one per node ID
};

// The verdict on what a direct probe of a departed node's address returned.
AtAddress at_address_of(const Result<NodeProbe>& probe, const std::string& node_id);

const char* to_string(DiscoveryMethod method);
const char* to_string(Provenance provenance);
const char* to_string(Identity identity);
const char* to_string(AtAddress at_address);

// Sets every answered pod's identity verdict from the names the nodes announce and the node
// IDs that answered (pure). `self_index`: this pod, whose own node is taken as its own.
void verify_identities(Observation& observation, int self_index = -1);

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
