#include "situation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace rci::plan {

using redis::ClusterNode;

namespace {

// How many missing pods a waiting message lists before summarising the rest.
constexpr size_t max_listed_pods = 8;

}  // namespace

std::string range_text(SlotRange range) {
  return fmt::format("{}-{}", range.first, range.last);
}

bool overlaps(SlotRange a, SlotRange b) {
  return a.first <= b.last && b.first <= a.last;
}

std::string short_id(const std::string& id) {
  return id.substr(0, 8);
}

std::string slots_text(const std::vector<SlotRange>& ranges) {
  std::string out;
  for (const auto& range : ranges) out += (out.empty() ? "" : ",") + range_text(range);
  return out;
}

bool Situation::belongs(const PodObservation& pod) const {
  return pod.answered() && (pod.identity == Identity::verified || pod.identity == Identity::nameless);
}

bool Situation::trusted(const PodObservation& pod) const {
  if (!pod.answered()) return false;
  if (pod.identity == Identity::verified) return true;
  if (pod.identity != Identity::nameless) return false;
  return names_ == NameCheck::unavailable || (self_.answered() && known_to_me(pod.probe->id) != nullptr);
}

const ExpectedPod* Situation::pod_announced_as(const std::string& hostname) const {
  for (const auto& pod : topology_.pods) {
    if (announces(hostname, pod)) return &pod;
  }
  return nullptr;
}

int Situation::trusted_node_count(Freshness freshness) const {
  std::set<std::string> ids;
  for (const auto& pod : observation_.pods) {
    if (!trusted(pod)) continue;
    if (freshness == Freshness::asked_this_round && pod.provenance != Provenance::asked) continue;
    ids.insert(pod.probe->id);
  }
  return static_cast<int>(ids.size());
}

const ClusterNode* Situation::holder_of(SlotRange range) const {
  for (const auto& pod : observation_.pods) {
    if (!belongs(pod)) continue;
    for (const auto& node : pod.probe->nodes) {
      if (!node.master || node.handshake) continue;
      for (const auto& owned : node.slots) {
        if (overlaps(owned, range)) return &node;
      }
    }
  }

  return nullptr;
}

const ClusterNode* Situation::sole_holder_of(SlotRange range) const {
  const ClusterNode* holder = nullptr;
  for (const auto& pod : observation_.pods) {
    if (!belongs(pod)) continue;
    for (const auto& node : pod.probe->nodes) {
      if (!node.master || node.handshake) continue;
      const bool holds = std::any_of(node.slots.begin(), node.slots.end(),
                                     [&](const SlotRange& owned) { return overlaps(owned, range); });
      if (!holds) continue;
      if (holder != nullptr && holder->id != node.id) return nullptr;
      holder = &node;
    }
  }

  return holder;
}

bool Situation::about_to_create(const PodObservation& pod) const {
  if (!belongs(pod) || pod.pod.ordinal != 0) return false;
  const auto& node = pod.probe->myself();
  return node.master && node.slots.empty() && holder_of(range_of(pod.pod.shard)) == nullptr;
}

bool Situation::joins_as_new_shard() const {
  const auto& node = myself();
  // Keys are there only once its first import has begun (a slot still importing: the mover
  // stopped before SETSLOT NODE); any other key would be dropped by what follows.
  const bool keys_from_import = me().keys == 0 || !node.importing.empty();
  if (self_.pod.ordinal != 0 || !node.master || !node.slots.empty() || !keys_from_import) return false;
  return shard_is_new();
}

const ClusterNode* Situation::new_shard_lost_to() const {
  const auto& node = myself();
  if (self_.pod.ordinal != 0 || !node.replica || node.master_id.empty()) return nullptr;
  // Its dataset is its master's copy only once the sync has loaded: until the link is up it may
  // still hold what it had as a master (keys MIGRATE took off the source: their only copy).
  if (!me().replication.master_link_up) return nullptr;
  // Certain only when every pod of the shard is seen this round (asked, or connected in this
  // node's own table): one that is not may be the shard's master.
  for (const auto& pod : observation_.pods) {
    if (pod.pod.shard == self_.pod.shard && (!belongs(pod) || pod.provenance == Provenance::reused)) return nullptr;
  }
  if (!shard_is_new()) return nullptr;
  const ClusterNode* followed = redis::find_node(me().nodes, node.master_id);
  const PodObservation* followed_pod = other_shards_live_master(followed);
  return followed_pod != nullptr && followed_pod->provenance != Provenance::reused ? followed : nullptr;
}

bool Situation::shard_is_new() const {
  if (shard_master() != nullptr || named_owner_of_shard(self_.pod.shard) != nullptr) return false;
  return other_shards_live_master(holder_of(my_range())) != nullptr;
}

const PodObservation* Situation::other_shards_live_master(const ClusterNode* node) const {
  if (node == nullptr || !node->is_live_slot_owner()) return nullptr;
  const PodObservation* pod = pod_of_node(node->id);
  return pod != nullptr && pod->pod.shard != self_.pod.shard ? pod : nullptr;
}

const PodObservation* Situation::pod_of_node(const std::string& id) const {
  for (const auto& pod : observation_.pods) {
    if (trusted(pod) && pod.probe->id == id) return &pod;
  }
  return nullptr;
}

SlotOwners Situation::slot_owners() const {
  // Each trusted pod's node ID, once: a table of hundreds of nodes is read against it.
  std::map<std::string, int> shard_of_node;
  for (const auto& pod : observation_.pods) {
    if (trusted(pod)) shard_of_node.emplace(pod.probe->id, pod.pod.shard);
  }
  SlotOwners owners(cluster_slots, no_shard);
  for (const auto& node : me().nodes) {
    if (!node.master || node.handshake || node.fail || node.slots.empty()) continue;
    int shard = no_shard;
    if (auto found = shard_of_node.find(node.id); found != shard_of_node.end()) {
      shard = found->second;
    } else if (const ExpectedPod* named = pod_announced_as(node.hostname)) {
      shard = named->shard;
    } else if (const auto surplus = surplus_pod(topology_, node.hostname)) {
      shard = surplus->shard;
    }
    for (const auto& range : node.slots) {
      for (int slot = range.first; slot <= range.last; ++slot) owners[static_cast<size_t>(slot)] = shard;
    }
  }
  return owners;
}

const ClusterNode* Situation::live_owner_of_slot(int slot) const {
  const ClusterNode* owner = nullptr;
  for (const auto& node : me().nodes) {
    if (node.is_live_slot_owner() && node.serves_slot(slot)) owner = &node;
  }
  return owner;
}

std::optional<MoveEnd> Situation::move_end_of(const ClusterNode& node) const {
  if (const PodObservation* pod = pod_of_node(node.id); pod != nullptr && pod->endpoint) {
    return MoveEnd{pod->pod.name, node.id, *pod->endpoint, pod->pod.dns_name};
  }
  const auto surplus = surplus_pod(topology_, node.hostname);
  if (!surplus || node.noaddr || node.ip.empty()) return std::nullopt;
  return MoveEnd{surplus->name, node.id, net::Endpoint{node.ip, node.port}, surplus->dns_name};
}

std::vector<std::string> Situation::own_shard_still_serving() const {
  std::vector<std::string> serving;
  std::set<std::string> seen;
  for (const auto& pod : observation_.pods) {
    if (!pod.asked() || !belongs(pod)) continue;
    for (const auto& node : pod.probe->nodes) {
      if (!node.master || node.handshake || node.slots.empty() || seen.contains(node.id)) continue;
      const auto named = surplus_pod(topology_, node.hostname);
      if (node.id != me().id && (!named || named->shard != self_.pod.shard)) continue;
      seen.insert(node.id);
      serving.push_back(fmt::format("node {} ({}) serves {} slots in pod {}'s table", short_id(node.id),
                                    named ? "pod " + named->name : "this pod", node.slot_count(), pod.pod.name));
    }
  }
  return serving;
}

const ClusterNode* Situation::known_to_me(const std::string& id) const {
  const auto* node = redis::find_node(me().nodes, id);
  return node != nullptr && !node->handshake ? node : nullptr;
}

bool Situation::handshake_in_progress_with(const net::Endpoint& endpoint) const {
  return std::any_of(me().nodes.begin(), me().nodes.end(), [&](const ClusterNode& node) {
    return node.handshake && node.ip == endpoint.ip && node.port == endpoint.port;
  });
}

const PodObservation* Situation::shard_master() const {
  const PodObservation* best = nullptr;
  for (const auto& pod : observation_.pods) {
    if (pod.pod.shard != self_.pod.shard || pod.pod.name == self_.pod.name || !trusted(pod)) continue;
    const auto& node = pod.probe->myself();
    if (!node.is_live_slot_owner()) continue;
    if (best == nullptr || node.config_epoch > best->probe->myself().config_epoch) best = &pod;
  }

  return best;
}

std::optional<std::string> Situation::slot_conflict_with(const NodeProbe& peer) const {
  for (const auto& theirs : peer.nodes) {
    if (!theirs.master || theirs.handshake || theirs.fail || theirs.slots.empty()) continue;
    for (const auto& ours : me().nodes) {
      if (!ours.master || ours.handshake || ours.fail || ours.slots.empty() || ours.id == theirs.id) continue;
      for (const auto& a : theirs.slots) {
        for (const auto& b : ours.slots) {
          if (!overlaps(a, b)) continue;
          return fmt::format("its table gives slot {} to node {}, this node's to {}", std::max(a.first, b.first),
                             short_id(theirs.id), short_id(ours.id));
        }
      }
    }
  }

  return std::nullopt;
}

const ClusterNode* Situation::named_owner_of_shard(int shard) const {
  for (const auto& pod : observation_.pods) {
    if (!belongs(pod)) continue;
    for (const auto& node : pod.probe->nodes) {
      if (!node.master || node.handshake || node.slots.empty()) continue;
      const auto named = pod_of_naming(topology_, node.hostname);
      if (named && named->shard == shard) return &node;
    }
  }

  return nullptr;
}

const ClusterNode* Situation::lost_owner_of_my_shard() const {
  if (self_.pod.ordinal != 0 || !myself().master || !myself().slots.empty() || me().keys > 0) return nullptr;
  if (shard_master() != nullptr) return nullptr;
  const ClusterNode* holder = named_owner_of_shard(self_.pod.shard);
  // The creation range tells a shard's slots only where nodes announce no name (Redis 6.2):
  // a named holder of it is another shard's master, after scaling.
  if (holder == nullptr) {
    holder = sole_holder_of(my_range());
    if (holder != nullptr && !holder->hostname.empty()) return nullptr;
  }
  if (holder == nullptr) return nullptr;
  // Certain only when every pod of the shard answers and none of them is that node: a pod
  // that is merely down may come back with the data.
  for (const auto& pod : observation_.pods) {
    if (pod.pod.shard != self_.pod.shard) continue;
    if (!belongs(pod) || pod.provenance == Provenance::reused || pod.probe->id == holder->id) return nullptr;
  }

  bool failed_somewhere = false;
  for (const auto& pod : observation_.pods) {
    if (!belongs(pod)) continue;
    if (pod.probe->id == holder->id) return nullptr;  // it answers: not dead
    if (const auto* listed = redis::find_node(pod.probe->nodes, holder->id)) {
      if (!listed->fail && !listed->pfail) return nullptr;  // someone still reaches it
      failed_somewhere = failed_somewhere || listed->fail;
    }
  }

  return failed_somewhere ? holder : nullptr;
}

int Situation::shard_of(SlotRange range) const {
  for (int shard = 0; shard < topology_.shards; ++shard) {
    if (range_of(shard) == range) return shard;
  }
  return self_.pod.shard;
}

std::string Situation::who_should_serve(SlotRange range) const {
  if (const auto* holder = holder_of(range)) {
    for (const auto& pod : observation_.pods) {
      if (belongs(pod) && pod.probe->id == holder->id) {
        return fmt::format("its slots are held by node {} (pod {})", short_id(holder->id), pod.pod.name);
      }
    }

    for (const auto& pod : observation_.pods) {
      if (pod.endpoint && pod.endpoint->ip == holder->ip && pod.endpoint->port == holder->port) {
        return fmt::format("its slots are held by node {} at {}:{}, the address of pod {}: {}", short_id(holder->id),
                           holder->ip, holder->port, pod.pod.name, pod.why_not());
      }
    }

    // Say why the pods of the shard whose range it is cannot be asked: that is what to fix.
    std::string unreachable;
    const int shard = shard_of(range);
    for (const auto& pod : observation_.pods) {
      if (pod.pod.shard == shard && !trusted(pod)) {
        unreachable += fmt::format("; pod {}: {}", pod.pod.name, pod.why_not());
      }
    }
    return fmt::format("its slots are held by node {} at {}:{}, which is no pod that answers{}", short_id(holder->id),
                       holder->ip, holder->port, unreachable);
  }

  const auto& creator = observation_.pods.at(topology_.index_of(shard_of(range), 0));
  return fmt::format("the master-to-be is pod {} ({})", creator.pod.name,
                     trusted(creator) ? "answers, has not claimed its slots yet" : creator.why_not());
}

std::vector<net::Endpoint> Situation::forget_targets() const {
  std::vector<net::Endpoint> targets = {*self_.endpoint};
  for (const auto& pod : observation_.pods) {
    if (&pod == &self_ || !belongs(pod) || !pod.endpoint) continue;
    if (std::find(targets.begin(), targets.end(), *pod.endpoint) == targets.end()) targets.push_back(*pod.endpoint);
  }
  return targets;
}

std::vector<std::string> Situation::missing_pods() const {
  std::vector<std::string> lines;
  size_t missing = 0;
  for (const auto& pod : observation_.pods) {
    if (trusted(pod)) continue;
    if (++missing <= max_listed_pods) lines.push_back(fmt::format("pod {}: {}", pod.pod.name, pod.why_not()));
  }

  if (missing > max_listed_pods) lines.push_back(fmt::format("... and {} more pods", missing - max_listed_pods));
  return lines;
}

std::vector<std::string> Situation::uncovered_ranges() const {
  std::vector<std::string> lines;
  for (int shard = 0; shard < topology_.shards; ++shard) {
    SlotRange range = range_of(shard);
    if (holder_of(range) != nullptr) continue;
    const auto& creator = observation_.pods.at(topology_.index_of(shard, 0));
    std::string state = trusted(creator) ? "answers but has not claimed them yet" : creator.why_not();
    lines.push_back(fmt::format("shard {} (slots {}) is held by no node; its ordinal-0 pod {}: {}", shard,
                                range_text(range), creator.pod.name, state));
  }

  return lines;
}

}  // namespace rci::plan
