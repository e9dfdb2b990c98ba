#pragma once
// The desired shape of the cluster: which pods exist and which slots each shard serves.
// Pure functions of the options: every pod computes the same answer without talking.

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rci/config/options.hpp"

namespace rci {

inline constexpr int cluster_slots = 16384;

// An inclusive range of hash slots.
struct SlotRange {
  int first = 0;
  int last = 0;
  int size() const { return last - first + 1; }
  bool contains(int slot) const { return slot >= first && slot <= last; }
  bool operator==(const SlotRange&) const = default;
};

// The slots shard `shard` of `shards` owns at creation: contiguous, sizes differing by at
// most one, covering 0..16383 exactly once across shards (same split as redis-cli).
SlotRange shard_slot_range(int shard, int shards);

// One pod the cluster is expected to have.
struct ExpectedPod {
  std::string name;      // redis-shard1-0
  std::string dns_name;  // redis-shard1-0.redis-pods.default.svc.cluster.local
  int shard = 0;
  int ordinal = 0;
};

struct Topology {
  std::string prefix;
  int shards = 0;
  int replicas = 0;  // per shard
  int port = 6379;
  int bus_port = 16379;
  // Shard-major: shard 0 ordinals 0..R, then shard 1, ...; then, on a surplus pod only, that
  // pod itself (see surplus).
  std::vector<ExpectedPod> pods;
  std::string srv_name;  // _redis._tcp.redis-pods.default.svc.cluster.local: every pod in one query
  // This pod's index in `pods`.
  int self_index = 0;
  // Whether this pod is surplus: its shard is at or above `shards` (SHARDS was lowered, its
  // StatefulSet still runs). It is listed after the layout's pods, alone, so it can observe the
  // cluster and see itself drained; the layout's rules never count it (quorum, shards).
  bool surplus = false;

  // The pods observed: the layout's, and a surplus pod's own entry.
  int pod_count() const { return static_cast<int>(pods.size()); }
  // Smallest number of pods that is more than half of the layout's pods.
  int quorum() const { return (pod_count() - (surplus ? 1 : 0)) / 2 + 1; }
  // How many other shards' masters a pod MEETs (and so asks about) in one round: every one up
  // to 30x2, then 2400/pods (8 at 300 pods), at least 4. A MEET costs both nodes a handshake
  // and gossip spreads membership anyway: when every pod of a 100x2 cold start asked and MEETed
  // every master it had not learned, their tables and handshakes kept the servers too busy to
  // answer. Later rounds take the next ones gossip has not brought by then.
  int meets_per_round() const { return std::clamp(2400 / std::max(pod_count(), 1), 4, 32); }
  // Index into `pods` of (shard, ordinal).
  int index_of(int shard, int ordinal) const { return shard * (replicas + 1) + ordinal; }
};

// The DNS name of a pod behind the governing service.
std::string pod_dns_name(const std::string& pod, const Options& options);

// This pod's FQDN: <pod>.<service>.<namespace>.svc.<domain> (what TLS checks certificates for).
std::string own_fqdn(const Options& options);

// The name this pod's node announces as cluster-announce-hostname: its FQDN, or its bare pod
// name under --announce-hostname pod (the identity check takes either).
std::string announced_hostname(const Options& options);

// Whether a node's cluster-announce-hostname names `pod`: its FQDN (what this tool announces:
// unique across namespaces and services) or its bare pod name (what round 1 announced).
// DNS names compare without regard to case.
bool announces(std::string_view hostname, const ExpectedPod& pod);

// The pod that `hostname` (a node's cluster-announce-hostname, a FQDN or a bare pod name) names
// when it is a pod of this layout's naming (its prefix, service, namespace and domain), whatever
// its shard and ordinal; nothing for any other name.
std::optional<ExpectedPod> pod_of_naming(const Topology& topology, std::string_view hostname);

// The pod that `hostname` names when it is a pod of this layout's naming that the layout no
// longer has: an ordinal above `replicas` (REPLICAS was lowered), or a shard at or above
// `shards` (SHARDS was lowered: a surplus shard, draining or drained). Nothing for an expected
// pod or any other name.
std::optional<ExpectedPod> departed_pod(const Topology& topology, std::string_view hostname);

// The pod that `hostname` names when it is a pod of a surplus shard (at or above `shards`).
std::optional<ExpectedPod> surplus_pod(const Topology& topology, std::string_view hostname);

// "<prefix>-shard<N>": the StatefulSet of shard `shard` (the pod name without its ordinal).
std::string shard_statefulset(const std::string& prefix, int shard);

// The SRV name of the service's named port: _<port-name>._tcp.<service>.<namespace>.svc.<domain>.
std::string service_srv_name(const Options& options);

// Builds the expected topology from validated options.
Topology make_topology(const Options& options);

}  // namespace rci
