#pragma once
// Observes the expected pods: resolves every name (c-ares, concurrently) and probes every
// address that resolved (concurrently, bounded timeouts). Connections are kept between
// rounds so a poll costs one round trip, not a handshake.

#include <map>
#include <memory>
#include <mutex>

#include "rci/dns/resolver.hpp"
#include "rci/observe/observation.hpp"
#include "rci/redis/connection.hpp"

namespace rci {

// How much of the cluster a round asks about.
enum class Scope {
  every_pod,  // probe every pod that resolves (status, discover, plan)
  // The bootstrap loop's scope, so a poll every few tens of milliseconds stays cheap for a
  // hundred pods: this pod's node first, then only the peers that can change what this pod does
  // next (see select_probes). Others are stood in for by this node's table entry or their
  // previous answer. Every pod is asked again at least every `full_refresh_interval`.
  changing_peers,
};

// How much one probe asks a node.
enum class ProbeDepth {
  full,        // CLUSTER NODES, CLUSTER INFO, INFO replication, DBSIZE
  table_only,  // CLUSTER NODES: identity, role and slots, a quarter of the cost
};

// Rare: each full round of a hundred pods asks every peer for a table of a hundred lines.
inline constexpr auto full_refresh_interval = std::chrono::seconds(10);

class Observer {
 public:
  Observer(const Options& options, const Topology& topology);

  // One round over the expected pods.
  Observation observe(Deadline deadline, Scope scope = Scope::every_pod);

  // Probes one address now.
  Result<NodeProbe> probe(const std::string& address, Deadline deadline, ProbeDepth depth);
  // Probes every address at once from one poll loop; results in the order of `addresses`.
  std::vector<Result<NodeProbe>> probe_all(const std::vector<std::string>& addresses, ProbeDepth depth);

  // A connection to `address`, reused when still open.
  Result<std::shared_ptr<redis::Connection>> connection(const std::string& address);
  // Forgets a connection after an I/O failure so the next use reconnects.
  void drop_connection(const std::string& address);

 private:
  const Options& options_;
  const Topology& topology_;
  dns::Resolver resolver_;
  // Answers are reused for five seconds so a fast poll loop does not flood the DNS server;
  // failed names are asked again every round.
  // Resolves the `wanted` pods' names; the others get their cached answer, if any.
  std::vector<dns::Resolution> resolve(const std::vector<bool>& wanted, Deadline deadline);
  std::vector<std::optional<std::string>> cached_addresses_;
  std::vector<std::optional<NodeProbe>> last_probes_;  // per pod: its last successful answer
  Clock::time_point last_full_round_{};
  Clock::time_point cache_time_{};
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<redis::Connection>> connections_;
};

// Which pods a narrow bootstrap round asks, given this pod's own node's answer (nullptr when it
// did not answer): every pod while this pod may still have to create its shard; its own shard's
// pods; and, once it has its role, the ordinal-0 pods of shards whose slots its node has not
// learned. Pure, so the selection is unit-tested.
std::vector<bool> select_probes(const Topology& topology, int self_index, const NodeProbe* self);

// The stand-in probe for a peer that this node's table shows connected (see NodeProbe).
NodeProbe probe_from_local_table(const redis::ClusterNode& entry);

// Builds a table-only NodeProbe from CLUSTER NODES alone.
Result<NodeProbe> make_table_probe(const std::string& cluster_nodes);

// Builds a NodeProbe from the raw replies of the probe pipeline; a pure function so it is
// unit-tested without a server.
Result<NodeProbe> make_node_probe(const std::string& cluster_nodes, const std::string& cluster_info,
                                  const std::string& replication_info, long long keys);

}  // namespace rci
