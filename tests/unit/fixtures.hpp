#pragma once
// A builder of observations for the planner and report tests. A test says what each pod's
// redis-server is (fresh, master of a range, replica of a pod, down) and which peers its
// CLUSTER NODES table lists; build() turns that into the Observation the observer would have
// produced, with the other pods' entries derived from their own state.
//
// Node IDs are fake but well formed (40 hex characters, the first 8 saying shard and
// ordinal: 00010000... is redis-shard1-0), addresses are 10.0.0.<pod index + 1>.

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "rci/config/pod_name.hpp"
#include "rci/observe/observation.hpp"
#include "rci/plan/planner.hpp"
#include "rci/topology.hpp"

namespace rci::test {

// A pod by (shard, ordinal).
struct PodId {
  int shard = 0;
  int ordinal = 0;
  auto operator<=>(const PodId&) const = default;
};

// The pods of a 3x1 cluster: m = ordinal 0 (the master at creation), r = ordinal 1.
inline constexpr PodId m0{0, 0}, r0{0, 1}, m1{1, 0}, r1{1, 1}, m2{2, 0}, r2{2, 1};

enum class Link { up, down };
enum class State { ok, fail };

// Options of a pod of `<prefix> = redis` behind service redis-pods in namespace default.
inline Options cluster_options(int shards, int replicas) {
  Options o;
  o.pod = PodName{"redis", 0, 0};
  o.pod_name = "redis-shard0-0";
  o.service = "redis-pods";
  o.namespace_name = "default";
  o.shards = shards;
  o.replicas = replicas;
  o.port = 6379;
  o.bus_port = 16379;
  return o;
}

class ClusterBuilder {
 public:
  explicit ClusterBuilder(int shards = 3, int replicas = 1)
      : topology_(make_topology(cluster_options(shards, replicas))), pods_(topology_.pods.size()) {}

  const Topology& topology() const { return topology_; }
  int index(PodId p) const { return topology_.index_of(p.shard, p.ordinal); }
  std::string name(PodId p) const { return topology_.pods.at(index(p)).name; }
  std::string id(PodId p) const { return fmt::format("{:04x}{:04x}", p.shard, p.ordinal) + std::string(32, 'e'); }
  std::string ip(PodId p) const { return fmt::format("10.0.0.{}", index(p) + 1); }
  SlotRange range(PodId p) const { return shard_slot_range(p.shard, topology_.shards); }

  // --- What each pod's redis-server is. Pods start unresolved (no DNS record).

  // Answers as an empty master with epoch 0 that knows no other node.
  ClusterBuilder& fresh(PodId p) {
    auto& pod = at(p);
    pod.presence = Presence::answers;
    pod.replica = false;
    pod.slots.clear();
    pod.epoch = 0;
    pod.known.clear();
    return *this;
  }
  ClusterBuilder& fresh_all() {
    for (const auto& pod : topology_.pods) fresh({pod.shard, pod.ordinal});
    return *this;
  }
  // Answers as the master of `slots` at config epoch `epoch`.
  ClusterBuilder& master_of(PodId p, SlotRange slots, long long epoch) {
    auto& pod = at(p);
    pod.presence = Presence::answers;
    pod.replica = false;
    pod.slots = {slots};
    pod.epoch = epoch;
    return *this;
  }
  // Answers as the master of several ranges (a layout after slots moved) at `epoch`.
  ClusterBuilder& master_of(PodId p, std::vector<SlotRange> slots, long long epoch) {
    master_of(p, SlotRange{}, epoch);
    at(p).slots = std::move(slots);
    return *this;
  }
  // Answers as the master of its own shard's range at epoch shard + 1, as created.
  ClusterBuilder& claimed(PodId p) { return master_of(p, range(p), p.shard + 1); }
  // Answers as a replica of `master`.
  ClusterBuilder& replica_of(PodId p, PodId master, Link link = Link::up) {
    auto& pod = at(p);
    pod.presence = Presence::answers;
    pod.replica = true;
    pod.master = master;
    pod.slots.clear();
    pod.link = link;
    return *this;
  }
  // Resolves, but its redis-server refuses connections. Others' tables list it as failed.
  ClusterBuilder& down(PodId p) {
    at(p).presence = Presence::refused;
    return *this;
  }
  // Has no DNS record (the default).
  ClusterBuilder& unresolved(PodId p) {
    at(p).presence = Presence::unresolved;
    return *this;
  }
  ClusterBuilder& cluster_disabled(PodId p) {
    at(p).presence = Presence::answers;
    at(p).cluster_enabled = false;
    return *this;
  }
  ClusterBuilder& keys(PodId p, long long count) {
    at(p).keys = count;
    return *this;
  }
  ClusterBuilder& epoch(PodId p, long long value) {
    at(p).epoch = value;
    return *this;
  }
  // Overrides cluster_state, which is otherwise ok exactly when the non-failed masters in the
  // pod's table serve all 16384 slots.
  ClusterBuilder& state(PodId p, State value) {
    at(p).state = value;
    return *this;
  }
  // The name of `alias` resolves to the address of `p` (a stale or duplicated DNS record).
  ClusterBuilder& same_node_as(PodId alias, PodId p) {
    at(alias).alias_of = p;
    return *this;
  }
  // `p`'s node announces no name (its bootstrap has not run yet, or Redis 6.2).
  ClusterBuilder& nameless(PodId p) {
    at(p).announce = "";
    return *this;
  }
  // `p`'s own line shows `slot` migrating to `to`'s node (a move its mover left unfinished).
  ClusterBuilder& migrating(PodId p, int slot, PodId to) {
    at(p).migrating.push_back({slot, id(to)});
    return *this;
  }
  // `p`'s own line shows `slot` importing from `from`'s node (a move its mover left unfinished).
  ClusterBuilder& importing(PodId p, int slot, PodId from) {
    at(p).importing.push_back({slot, id(from)});
    return *this;
  }
  ClusterBuilder& importing_cleared(PodId p) {
    at(p).importing.clear();
    return *this;
  }
  // `p`'s node announces `name` (e.g. another pod's FQDN) instead of its own pod name.
  ClusterBuilder& announces_as(PodId p, std::string name) {
    at(p).announce = std::move(name);
    return *this;
  }
  // `p`'s address is answered by a master of another cluster: node `foreign_id()`, announcing
  // `announce` (its own pod's FQDN in another namespace, or nothing), serving `slots`, knowing
  // no other node. No table of this cluster lists it.
  ClusterBuilder& foreign_node_at(PodId p, std::vector<SlotRange> slots, std::string announce) {
    at(p).presence = Presence::answers;
    at(p).foreign = true;
    at(p).announce = std::move(announce);
    at(p).replica = false;
    at(p).slots = std::move(slots);
    at(p).epoch = 9;
    for (auto& pod : pods_) pod.known.erase(p);
    at(p).known.clear();
    return *this;
  }
  static std::string foreign_id() { return "f0re1940" + std::string(32, 'a'); }

  // The replica's INFO replication still points at `host` (e.g. its master's old address),
  // with the link down.
  ClusterBuilder& replica_link_to(PodId replica, std::string host) {
    at(replica).link_host = std::move(host);
    at(replica).link = Link::down;
    return *this;
  }

  // --- What each pod's CLUSTER NODES table lists besides itself.

  ClusterBuilder& knows(PodId p, const std::vector<PodId>& peers) {
    for (auto peer : peers) {
      if (peer != p) at(p).known.insert(peer);
    }
    return *this;
  }
  // Every listed pod knows every other listed pod.
  ClusterBuilder& mesh(const std::vector<PodId>& members) {
    for (auto p : members) knows(p, members);
    return *this;
  }
  // Every pod knows every other pod: a formed cluster.
  ClusterBuilder& mesh() {
    std::vector<PodId> all;
    for (const auto& pod : topology_.pods) all.push_back({pod.shard, pod.ordinal});
    return mesh(all);
  }
  // `a` and `b` are not in each other's table.
  ClusterBuilder& forget(PodId a, PodId b) {
    at(a).known.erase(b);
    at(b).known.erase(a);
    return *this;
  }
  // `viewer`'s table lists a node ID announcing `p`'s pod name: `p` before it lost its data.
  // For an ordinal 0 it was a master, holding `slots` (none once Redis failed it over).
  // `reachable` makes it a live, connected node instead (a misconfiguration).
  ClusterBuilder& former_identity(PodId viewer, PodId p, bool reachable = false, std::vector<SlotRange> slots = {}) {
    redis::ClusterNode entry;
    entry.id = "dead" + std::string(36, '0');
    entry.hostname = name(p);
    entry.port = topology_.port;
    entry.bus_port = topology_.bus_port;
    entry.master = p.ordinal == 0;
    entry.replica = !entry.master;
    if (entry.replica) entry.master_id = id({p.shard, 0});
    entry.slots = std::move(slots);
    entry.noaddr = !reachable;
    entry.link_connected = reachable;
    entry.ip = reachable ? "10.0.9.9" : "";
    at(viewer).extra.push_back(entry);
    return *this;
  }
  // `viewer`'s table lists a node that announces no name (Redis 6.2 has no hostnames) and
  // whose address another node ID answered at (noaddr), failed: `p` before it lost its data, as
  // 6.2 shows it. `slots`: what it still holds; `followed`: the table also lists a replica of
  // it; `moved`: it is `p`'s own node (same ID), which `p` now serves at another address;
  // `last_ip`: the address it failed at, which Redis kept (not noaddr).
  ClusterBuilder& nameless_replaced(PodId viewer, PodId p, std::vector<SlotRange> slots = {}, bool followed = false,
                                    bool moved = false, std::string last_ip = {}) {
    former_identity(viewer, p, /*reachable=*/false, std::move(slots));
    redis::ClusterNode& entry = at(viewer).extra.back();
    entry.hostname.clear();
    entry.fail = true;
    if (moved) entry.id = id(p);
    if (!last_ip.empty()) {
      entry.noaddr = false;
      entry.ip = std::move(last_ip);
    }
    if (followed) {
      redis::ClusterNode follower;
      follower.id = "f011" + std::string(36, '0');
      follower.ip = "10.0.9.8";
      follower.port = topology_.port;
      follower.bus_port = topology_.bus_port;
      follower.replica = true;
      follower.master_id = entry.id;
      follower.link_connected = true;
      at(viewer).extra.push_back(follower);
    }
    return *this;
  }
  // `viewer`'s table lists the node of pod <prefix>-shard<shard>-<ordinal>, an ordinal the
  // layout no longer has (replicas scaled in), announcing its FQDN: a replica of the shard's
  // ordinal 0, failed and disconnected unless `reachable`, holding `slots`. Its address,
  // asked directly, answers as `at_address` (by default: as itself when reachable, else nothing).
  ClusterBuilder& departed(PodId viewer, PodId p, bool reachable = false, std::vector<SlotRange> slots = {},
                           std::optional<AtAddress> at_address = std::nullopt) {
    redis::ClusterNode entry;
    entry.id = fmt::format("{:04x}{:04x}", p.shard, p.ordinal) + std::string(32, 'd');
    const std::string pod = format_pod_name(topology_.prefix, p.shard, p.ordinal);
    const ExpectedPod& first = topology_.pods.front();
    entry.hostname = pod + first.dns_name.substr(first.name.size());
    entry.ip = "10.0.8.1";
    entry.port = topology_.port;
    entry.bus_port = topology_.bus_port;
    entry.master = !slots.empty();
    entry.replica = slots.empty();
    if (entry.replica) entry.master_id = id({p.shard, 0});
    entry.slots = std::move(slots);
    entry.fail = !reachable;
    entry.link_connected = reachable;
    const AtAddress answer = at_address.value_or(reachable ? AtAddress::itself : AtAddress::nothing);
    departed_checks_.push_back({entry.id, net::Endpoint{entry.ip, entry.port}, answer,
                                answer == AtAddress::nothing ? "10.0.8.1:6379: connection refused" : ""});
    at(viewer).extra.push_back(entry);
    return *this;
  }
  // `viewer`'s table lists a failed master, no pod's node, still holding `slots`: the owner of
  // a shard whose every pod lost its data. It announced `hostname` (none: a server without
  // host names).
  ClusterBuilder& dead_owner(PodId viewer, std::vector<SlotRange> slots, std::string hostname = "") {
    redis::ClusterNode entry;
    entry.hostname = std::move(hostname);
    entry.id = "dead0wner" + std::string(31, '0');
    entry.ip = "10.0.9.1";
    entry.port = topology_.port;
    entry.bus_port = topology_.bus_port;
    entry.master = true;
    entry.fail = true;
    entry.slots = std::move(slots);
    at(viewer).extra.push_back(entry);
    return *this;
  }
  // `viewer` has sent a MEET to `peer`'s address that is still in handshake.
  ClusterBuilder& handshake(PodId viewer, PodId peer) {
    redis::ClusterNode entry;
    entry.id = "ffffffff" + std::string(32, '0');  // a random ID until the PONG tells the real one
    entry.ip = ip(peer);
    entry.port = topology_.port;
    entry.bus_port = topology_.bus_port;
    entry.handshake = true;
    at(viewer).extra.push_back(entry);
    return *this;
  }
  // `viewer`'s table lists `peer` at `old_ip`, disconnected (the peer's address changed).
  ClusterBuilder& listed_at(PodId viewer, PodId peer, std::string old_ip) {
    at(viewer).listed_ip[peer] = std::move(old_ip);
    return *this;
  }

  // `viewer`'s table lists `peer` with `slots` instead of the slots `peer` serves (gossip has
  // not told it yet).
  ClusterBuilder& listed_with_slots(PodId viewer, PodId peer, std::vector<SlotRange> slots) {
    at(viewer).listed_slots[peer] = std::move(slots);
    return *this;
  }

  // --- Results.

  Observation build() const {
    Observation observation;
    for (const auto& expected : topology_.pods) {
      PodId p{expected.shard, expected.ordinal};
      PodObservation pod;
      pod.pod = expected;
      PodId source = at(p).alias_of.value_or(p);
      switch (at(source).presence) {
        case Presence::unresolved:
          pod.endpoint = fail(ErrorKind::dns, fmt::format("{}: no such name (NXDOMAIN)", expected.dns_name));
          pod.probe = std::unexpected(pod.endpoint.error());
          break;
        case Presence::refused:
          pod.endpoint = net::Endpoint{ip(source), 6379};
          pod.probe = fail(ErrorKind::io, fmt::format("{}: {}:6379: connection refused", expected.name, ip(source)));
          break;
        case Presence::answers:
          pod.endpoint = net::Endpoint{ip(source), 6379};
          pod.probe = probe_of(source);
          break;
      }
      observation.pods.push_back(std::move(pod));
    }
    verify_identities(observation);
    observation.departed = departed_checks_;
    return observation;
  }

  plan::Plan plan_for(PodId self) const { return plan::make_plan(topology_, index(self), build()); }

 private:
  enum class Presence { unresolved, refused, answers };

  struct Pod {
    Presence presence = Presence::unresolved;
    std::optional<PodId> alias_of;
    bool cluster_enabled = true;
    bool replica = false;
    PodId master{};
    std::vector<SlotRange> slots;
    long long epoch = 0;
    Link link = Link::up;
    std::string link_host;  // empty: the master's address
    long long keys = 0;
    std::optional<State> state;
    std::set<PodId> known;
    std::map<PodId, std::string> listed_ip;
    std::map<PodId, std::vector<SlotRange>> listed_slots;
    std::vector<redis::ClusterNode> extra;
    std::vector<redis::OpenSlot> migrating;  // its own line's [slot->-id] markers
    std::vector<redis::OpenSlot> importing;  // its own line's [slot-<-id] markers
    std::optional<std::string> announce;     // the hostname its node announces, when not its pod name
    bool foreign = false;                    // a node of another cluster answers at its address
  };

  Pod& at(PodId p) { return pods_.at(static_cast<size_t>(index(p))); }
  const Pod& at(PodId p) const { return pods_.at(static_cast<size_t>(index(p))); }

  // How `viewer`'s table lists `p`.
  redis::ClusterNode entry(PodId viewer, PodId p) const {
    const Pod& pod = at(p);
    redis::ClusterNode node;
    node.id = pod.foreign ? foreign_id() : id(p);
    node.hostname = pod.announce.value_or(name(p));  // the reconciler sets the pod name, unless told otherwise
    node.port = topology_.port;
    node.bus_port = topology_.bus_port;
    node.myself = viewer == p;
    node.master = !pod.replica;
    node.replica = pod.replica;
    node.master_id = pod.replica ? id(pod.master) : "";
    node.config_epoch = pod.replica ? at(pod.master).epoch : pod.epoch;
    node.slots = pod.replica ? std::vector<SlotRange>{} : pod.slots;
    if (node.myself) node.migrating = pod.migrating;
    if (node.myself) node.importing = pod.importing;
    if (auto listed = at(viewer).listed_slots.find(p); listed != at(viewer).listed_slots.end())
      node.slots = listed->second;
    auto stale = at(viewer).listed_ip.find(p);
    node.ip = stale != at(viewer).listed_ip.end() ? stale->second : ip(p);
    const bool answers = pod.presence == Presence::answers;
    node.link_connected = node.myself || (answers && stale == at(viewer).listed_ip.end());
    node.fail = !node.myself && !answers;
    node.pfail = !node.myself && answers && !node.link_connected;
    return node;
  }

  NodeProbe probe_of(PodId p) const {
    const Pod& pod = at(p);
    NodeProbe probe;
    if (!pod.cluster_enabled) {
      probe.cluster_enabled = false;
      return probe;
    }
    probe.id = pod.foreign ? foreign_id() : id(p);
    probe.nodes.push_back(entry(p, p));
    for (auto peer : pod.known) probe.nodes.push_back(entry(p, peer));
    for (const auto& extra : pod.extra) probe.nodes.push_back(extra);

    int assigned = 0;
    int served = 0;
    for (const auto& node : probe.nodes) {
      if (!node.master || node.handshake) continue;
      assigned += node.slot_count();
      if (!node.fail) served += node.slot_count();
      probe.cluster.current_epoch = std::max(probe.cluster.current_epoch, node.config_epoch);
    }
    probe.cluster.state_ok = pod.state ? *pod.state == State::ok : served == cluster_slots;
    probe.cluster.slots_assigned = assigned;
    probe.cluster.slots_ok = served;
    probe.cluster.known_nodes = static_cast<int>(probe.nodes.size());
    probe.cluster.my_epoch = probe.nodes.front().config_epoch;

    if (pod.replica) {
      probe.replication.is_master = false;
      probe.replication.master_host = pod.link_host.empty() ? ip(pod.master) : pod.link_host;
      probe.replication.master_port = topology_.port;
      probe.replication.master_link_up = pod.link == Link::up && at(pod.master).presence == Presence::answers;
    } else {
      for (const auto& other : topology_.pods) {
        const Pod& o = at({other.shard, other.ordinal});
        if (o.presence == Presence::answers && o.replica && o.master == p && o.link == Link::up) {
          ++probe.replication.connected_replicas;
        }
      }
    }
    probe.keys = pod.keys;
    return probe;
  }

  Topology topology_;
  std::vector<Pod> pods_;
  std::vector<DepartedCheck> departed_checks_;  // what departed() entries' addresses answer
};

// A formed 3x1 cluster: each ordinal 0 serves its shard's range, each ordinal 1 replicates it.
inline ClusterBuilder healthy_3x1() {
  ClusterBuilder c;
  c.claimed(m0).claimed(m1).claimed(m2).replica_of(r0, m0).replica_of(r1, m1).replica_of(r2, m2).mesh();
  return c;
}

}  // namespace rci::test
