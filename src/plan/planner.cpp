#include "rci/plan/planner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <expected>
#include <map>
#include <optional>

#include "rci/util/text.hpp"
#include "situation.hpp"

namespace rci::plan {
namespace {

using redis::ClusterNode;

}  // namespace

const char* const permission_hint =
    "the user (--user) lacks a permission the binary needs: see the README's ACL rules for the exact list";

namespace {

// A MEET of `peer` where it answered: its endpoint, and the bus port its node gives for itself
// (--bus-port where it gives none).
Action meet_action(const Situation& s, const PodObservation& peer) {
  const int bus_port = peer.probe->myself().bus_port != 0 ? peer.probe->myself().bus_port : s.topology().bus_port;
  return {.step = Meet{peer.pod.name, peer.probe->id, peer.endpoint->ip, peer.endpoint->port, bus_port},
          .target = ThisNode{},
          .reason = fmt::format("pod {} answers at {} as node {}, serving slots {}, and this node does not know it yet",
                                peer.pod.name, peer.endpoint->to_string(), short_id(peer.probe->id),
                                slots_text(peer.probe->myself().slots))};
}

Action replicate_action(const PodObservation& master, std::string reason) {
  return {.step = Replicate{master.pod.name, master.probe->id}, .target = ThisNode{}, .reason = std::move(reason)};
}

// A FORGET goes to every node that answered, this pod's own first (Situation::forget_targets).
Action forget_action(const Situation& s, const ClusterNode& node, std::string reason) {
  return {.step = Forget{node.id}, .target = EveryNode{s.forget_targets()}, .reason = std::move(reason)};
}

// MEET the pods that serve slots and that this node does not know, or knows without their
// slots (or at an old address). Redis hands the sender of a MEET the target's slot claims at
// once, whereas a node that was only MEETed learns them from a later ping, which gossip can
// delay by seconds; and a node turns cluster_state:ok only once it knows every slot's owner.
// A replica MEETs its own master first and other shards' masters only once it replicates;
// select_probes has by then narrowed those to the shards whose slots its node has not learned,
// so most of the mesh is left to gossip and the MEETs stay few.
void plan_meets(const Situation& s, Plan& plan) {
  std::vector<std::pair<const PodObservation*, Action>> meets;
  for (const auto& peer : s.observation().pods) {
    // MEET only a node verified as its pod's: a MEET merges whatever the target knows.
    if (&peer == &s.self() || !s.trusted(peer) || !peer.probe->cluster_enabled) continue;
    if (peer.probe->id == s.me().id) continue;  // a second name for this very node
    // MEET only what was asked this round: an earlier answer (reused) may be from an address
    // the pod has left, and a MEET there could reach whoever holds that address now.
    if (peer.provenance == Provenance::reused) continue;
    const ClusterNode& claimed = peer.probe->myself();
    if (!claimed.is_live_slot_owner()) continue;
    // A replica first gets its own master; other shards' owners only once it replicates, and
    // only those its node has not learned by then (select_probes asks just those).
    if (plan.role == Role::replica && peer.pod.shard != s.self().pod.shard && !s.myself().replica) continue;
    if (s.handshake_in_progress_with(*peer.endpoint)) continue;
    // Who answers there must belong to this cluster: a MEET would merge whatever it knows.
    if (peer.provenance == Provenance::asked) {
      if (auto conflict = s.slot_conflict_with(*peer.probe)) {
        plan.warnings.push_back(fmt::format("pod {} at {} answers as node {} of another cluster ({}); not MEETing it",
                                            peer.pod.name, peer.endpoint->to_string(), short_id(peer.probe->id),
                                            *conflict));
        continue;
      }
    }
    const ClusterNode* known = s.known_to_me(peer.probe->id);
    if (known == nullptr) {
      meets.emplace_back(&peer, meet_action(s, peer));
    } else if (known->ip != peer.endpoint->ip || known->port != peer.endpoint->port) {
      // Its pod moved (or every pod did, after a full restart): Redis resolves a MEET to the
      // new address of a known node ID into an address update once the PONG carries the ID.
      Action action = meet_action(s, peer);
      action.reason =
          fmt::format("this node knows node {} (pod {}) at {}:{}, but the pod now answers at {}",
                      short_id(peer.probe->id), peer.pod.name, known->ip, known->port, peer.endpoint->to_string());
      meets.emplace_back(&peer, std::move(action));
    } else if (peer.provenance == Provenance::asked && known->slots != claimed.slots) {
      Action action = meet_action(s, peer);
      action.reason = fmt::format(
          "pod {} (node {}) serves slots {} that this node has not learned yet; a MEET "
          "makes Redis exchange them now instead of at the next ping",
          peer.pod.name, short_id(peer.probe->id), slots_text(claimed.slots));
      meets.emplace_back(&peer, std::move(action));
    }
  }
  // Its own shard first, then the shards after it in turn: pods starting at once spread their
  // MEETs over every master instead of all MEETing the first few.
  const int shards = std::max(s.topology().shards, 1);
  auto turn = [&](const PodObservation* peer) { return (peer->pod.shard - s.self().pod.shard + shards) % shards; };
  std::stable_sort(meets.begin(), meets.end(),
                   [&](const auto& a, const auto& b) { return turn(a.first) < turn(b.first); });
  const auto budget = static_cast<size_t>(s.topology().meets_per_round());
  if (meets.size() > budget) meets.erase(meets.begin() + static_cast<std::ptrdiff_t>(budget), meets.end());
  for (auto& meet : meets) plan.actions.push_back(std::move(meet.second));
}

// Why this node cannot reach `node` ("noaddr", "fail", "pfail", "disconnected"), or nothing
// when it can: a reachable node is a running server, never forgotten.
std::optional<const char*> unreachable_because(const ClusterNode& node) {
  if (node.noaddr) return "noaddr";
  if (node.fail) return "fail";
  if (node.pfail) return "pfail";
  if (!node.link_connected) return "disconnected";
  return std::nullopt;
}

// A node in this node's table that announces this pod's name or FQDN (cluster-announce-hostname,
// set by the reconciler) under another ID is this pod before it lost its data: pod names are
// unique, and the entry is unreachable. FORGET it on every node that answers, so it leaves
// every table (Redis bans a forgotten ID for 60 s; gossip would bring it back from a node that
// kept it). A live node with this pod's name is a misconfiguration: reported, not forgotten.
// An old identity that still holds slots is left alone (its slots would be lost).
void plan_forget_former_self(const Situation& s, Plan& plan) {
  const ExpectedPod& self_pod = s.self().pod;
  const std::string& pod_name = self_pod.name;
  // Every table asked this round: this node may not have heard of its former identity yet.
  std::vector<const ClusterNode*> entries;
  for (const auto& pod : s.observation().pods) {
    if (!pod.asked() || !s.belongs(pod)) continue;
    for (const auto& node : pod.probe->nodes) {
      if (!announces(node.hostname, self_pod) || node.id == s.me().id || node.myself) continue;
      bool seen = std::any_of(entries.begin(), entries.end(), [&](const ClusterNode* e) { return e->id == node.id; });
      if (!seen) entries.push_back(&node);
    }
  }
  for (const ClusterNode* entry : entries) {
    const ClusterNode& node = *entry;
    if (!node.slots.empty()) continue;
    const auto unreachable = unreachable_because(node);
    if (!unreachable) {
      plan.warnings.push_back(fmt::format("node {} at {}:{} also announces this pod's name {} and is reachable",
                                          short_id(node.id), node.ip, node.port, pod_name));
      continue;
    }
    plan.actions.push_back(
        forget_action(s, node,
                      fmt::format("node {} announces this pod's name {} but this pod is now node {}: "
                                  "it is this pod before it lost its data, and it is unreachable ({})",
                                  short_id(node.id), pod_name, short_id(s.me().id), *unreachable)));
  }
}

// Whether any table asked this round lists a replica of `id`.
bool replicated_anywhere(const Situation& s, const std::string& id) {
  for (const auto& pod : s.observation().pods) {
    if (!pod.asked()) continue;
    const auto& table = pod.probe->nodes;
    if (std::any_of(table.begin(), table.end(), [&](const ClusterNode& n) { return n.replica && n.master_id == id; }))
      return true;
  }
  return false;
}

// Whether some pod answered as node `id` this round or earlier.
bool answers_somewhere(const Situation& s, const std::string& id) {
  const auto& pods = s.observation().pods;
  return std::any_of(pods.begin(), pods.end(), [&](const PodObservation& p) { return p.probe && p.probe->id == id; });
}

// Whether some pod's address of this round is ip:port.
bool current_pod_address(const Situation& s, const std::string& ip, int port) {
  const auto& pods = s.observation().pods;
  return std::any_of(pods.begin(), pods.end(), [&](const PodObservation& p) {
    return p.endpoint && p.endpoint->ip == ip && p.endpoint->port == port;
  });
}

// A node announcing no name (a server without cluster-announce-hostname: Redis 6.2) that has
// lost its place: Redis cleared its address (noaddr, which it does when another node ID
// answered there), or the cluster failed it at an address that no pod has any more. Its pod
// has a new identity (a lost volume) or a new address. With names, plan_forget_former_self
// tells such an entry by the pod's name; without them this is the evidence left, and what it
// must not hit is a node that moved with its data: so it is forgotten only when no pod answers
// as it, and nothing depends on it (no slots, no replica in any table). Every table asked this
// round is read, as for the former self: this node may not have heard of it yet, and a
// bootstrap that converged first would leave it behind.
void plan_forget_replaced(const Situation& s, Plan& plan) {
  std::vector<std::string> seen;
  for (const auto& pod : s.observation().pods) {
    if (!pod.asked() || !s.belongs(pod)) continue;
    for (const auto& node : pod.probe->nodes) {
      if (node.myself || !node.hostname.empty() || !node.slots.empty()) continue;
      const bool address_lost = node.noaddr || (node.fail && !current_pod_address(s, node.ip, node.port));
      if (!address_lost || std::find(seen.begin(), seen.end(), node.id) != seen.end()) continue;
      seen.push_back(node.id);
      if (replicated_anywhere(s, node.id) || answers_somewhere(s, node.id)) continue;
      const std::string where =
          node.noaddr ? "its address now answers as another node (noaddr"
                      : fmt::format("it has failed at {}:{}, which is no pod's address now (fail", node.ip, node.port);
      plan.actions.push_back(forget_action(
          s, node,
          fmt::format("node {} announces no name, holds no slots, no node replicates it, no pod answers as it, and "
                      "{} in pod {}'s table): its pod has a new identity or a new address",
                      short_id(node.id), where, pod.pod.name)));
    }
  }
}

// Whether the service's SRV records of this round list `pod`: the pod exists (Kubernetes lists
// every pod of a StatefulSet, ready or not, under publishNotReadyAddresses).
bool listed_by_service(const Situation& s, const ExpectedPod& pod) {
  const auto& unexpected = s.observation().discovery.unexpected;
  return std::find(unexpected.begin(), unexpected.end(), text::lower(pod.dns_name)) != unexpected.end();
}

// Whether nothing answers as `node` at its address, asked directly this round (see
// Observation::departed): what was found there, or why the node may still run.
std::expected<std::string, std::string> nothing_runs_at_address(const Situation& s, const redis::ClusterNode& node) {
  const auto& checks = s.observation().departed;
  const auto check =
      std::find_if(checks.begin(), checks.end(), [&](const DepartedCheck& c) { return c.node_id == node.id; });
  if (check == checks.end()) {
    return std::unexpected(fmt::format("its address {}:{} was not asked this round", node.ip, node.port));
  }
  switch (check->at_address) {
    case AtAddress::itself:
      return std::unexpected(fmt::format("it answers at {}: its pod still runs", check->endpoint.to_string()));
    case AtAddress::unknown:
      return std::unexpected(
          fmt::format("a server at {} could not be asked who it is ({})", check->endpoint.to_string(), check->detail));
    case AtAddress::another_node: return fmt::format("another node answers at {}", check->endpoint.to_string());
    case AtAddress::nothing:
      return fmt::format("nothing answers at {}: {}", check->endpoint.to_string(), check->detail);
  }
  return std::unexpected(std::string("internal: unknown verdict"));
}

// Nodes of pods that the layout no longer has: REPLICAS was lowered, and the pods with the
// ordinals above it were deleted; or SHARDS was lowered, and a drained shard's StatefulSet was
// deleted. Redis keeps their entries, failed, in every table (and
// cluster_known_nodes counts them) until each node is told to FORGET them; Redis bans a
// forgotten ID for 60 s only, so the FORGET goes to every node at once. Forgotten only when
// nothing is lost, nothing runs and the pod is gone: no slots, unreachable from this node, no
// server answering as it at its address, and not among the service's SRV records. This pod's REPLICAS may be the old
// one, in the middle of a scale-out: the new pods are then listed, and a new pod that restarts is not forgotten. One
// that is reachable or listed is reported, never forgotten; without SRV records nothing tells
// whether the pod still exists, so nothing is forgotten either.
void plan_forget_departed(const Situation& s, Plan& plan) {
  const int shards = s.topology().shards, replicas = s.topology().replicas;
  for (const auto& node : s.me().nodes) {
    if (node.myself || node.hostname.empty()) continue;
    const auto departed = departed_pod(s.topology(), node.hostname);
    if (!departed) continue;
    const std::string what =
        fmt::format("node {} announces pod {}, which the layout of {} shards x {} replica(s) no longer includes",
                    short_id(node.id), departed->name, shards, replicas);
    if (s.observation().discovery.method != DiscoveryMethod::srv) {
      plan.warnings.push_back(fmt::format(
          "{}; without the service's SRV records this pod cannot tell whether that pod still exists: not forgetting it",
          what));
      continue;
    }
    if (listed_by_service(s, *departed)) {
      plan.warnings.push_back(fmt::format(
          "{}, but the service still lists the pod (a scale-out or scale-in under way): not forgetting it", what));
      continue;
    }
    if (!node.slots.empty()) {
      plan.warnings.push_back(fmt::format("{}, and serves slots {}: not forgetting it", what, slots_text(node.slots)));
      continue;
    }
    const auto unreachable = unreachable_because(node);
    if (!unreachable) {
      plan.warnings.push_back(fmt::format("{}, and is reachable at {}:{}: its pod still runs; not forgetting it", what,
                                          node.ip, node.port));
      continue;
    }
    // This node's view alone is not enough: just restarted, it shows every peer disconnected.
    const auto nothing_runs = nothing_runs_at_address(s, node);
    if (!nothing_runs) {
      plan.warnings.push_back(
          fmt::format("{}, and is {} here, but {}; not forgetting it", what, *unreachable, nothing_runs.error()));
      continue;
    }
    plan.actions.push_back(forget_action(
        s, node,
        fmt::format("{}, is unreachable ({}; {}) and no longer listed by the service: its pod was scaled in", what,
                    *unreachable, *nothing_runs)));
  }
}

// Pods whose address is answered by a node that is not theirs: reported, so a stale record or a
// reused address is seen; they count for nothing (see Situation::trusted).
void report_misidentified(const Situation& s, Plan& plan) {
  for (const auto& pod : s.observation().pods) {
    if (!pod.asked() || pod.identity == Identity::verified || pod.identity == Identity::nameless) continue;
    std::string whose = "no pod of this cluster has that name: a node of another cluster or service";
    if (pod.identity == Identity::duplicate) {
      whose = "the same node answers at another pod's address";
    } else if (const auto* other = s.pod_announced_as(pod.announced)) {
      whose = fmt::format("that is pod {}'s node: a stale DNS record or a reused address", other->name);
    }
    plan.warnings.push_back(fmt::format(
        "pod {}'s address {} answers as node {}, which announces '{}' ({}); not counting it, not MEETing it",
        pod.pod.name, pod.endpoint->to_string(), short_id(pod.probe->id), pod.announced, whose));
  }
}

// The steps that make this pod a replica of its shard's current master.
void plan_replica(const Situation& s, Plan& plan) {
  const auto& myself = s.myself();
  const PodObservation* master = s.shard_master();
  if (master == nullptr) {
    plan.waiting_for.push_back(fmt::format("shard {} has no master serving slots among its pods that answer; {}",
                                           s.self().pod.shard, s.who_should_serve(s.my_range())));
    return;
  }
  const std::string& master_id = master->probe->id;
  if (myself.replica && myself.master_id == master_id) {
    // Right master, but the replication link may still point at its old address: Redis keeps
    // it there until CLUSTER REPLICATE is issued again (once the table has the new address).
    const ClusterNode* entry = s.known_to_me(master_id);
    const auto& replication = s.me().replication;
    if (entry != nullptr && !replication.master_link_up && entry->ip == master->endpoint->ip &&
        !replication.master_host.empty() && replication.master_host != master->endpoint->ip) {
      plan.actions.push_back(replicate_action(
          *master, fmt::format("the replication link is down and points at {}:{}, but shard {}'s master {} (pod {}) "
                               "now answers at {}",
                               replication.master_host, replication.master_port, s.self().pod.shard,
                               short_id(master_id), master->pod.name, master->endpoint->ip)));
    }
    return;
  }

  if (myself.master && s.me().keys > 0) {
    plan.outcome = Outcome::fail;
    plan.waiting_for.push_back(
        fmt::format("this node is a master without slots that holds {} keys; making it a replica of {} (pod {}) would "
                    "drop them. Move or delete the keys, then run again",
                    s.me().keys, short_id(master_id), master->pod.name));
    return;
  }
  if (s.known_to_me(master_id) == nullptr) {
    plan.waiting_for.push_back(
        fmt::format("shard master {} (pod {}) is not yet in this node's table (MEET in progress)", short_id(master_id),
                    master->pod.name));
    return;
  }
  std::string reason =
      myself.replica
          ? fmt::format("this node replicates {} but shard {}'s master is {} (pod {})", short_id(myself.master_id),
                        s.self().pod.shard, short_id(master_id), master->pod.name)
          : fmt::format("this pod is ordinal {} of shard {}, whose master is {} (pod {})", s.self().pod.ordinal,
                        s.self().pod.shard, short_id(master_id), master->pod.name);
  plan.actions.push_back(replicate_action(*master, std::move(reason)));
}

// How many slots one MigrateSlots action moves: each round observes again between actions,
// so a layout change (or a failover) mid-move is seen within a few seconds.
constexpr int slots_per_move = 64;

// The layout of `shards` shards as this node's table shows the cluster, when every slot is
// served by a pod's node (nothing to decide on otherwise): the owners now and the target.
struct LayoutView {
  SlotOwners owners;
  SlotOwners target;
};
std::optional<LayoutView> layout_view(const Situation& s) {
  if (!s.me().cluster.state_ok) return std::nullopt;
  SlotOwners owners = s.slot_owners();
  if (std::find(owners.begin(), owners.end(), no_shard) != owners.end()) return std::nullopt;
  SlotOwners target = target_layout(owners, s.topology().shards);
  return LayoutView{std::move(owners), std::move(target)};
}

// What is left to move, in words, or nothing when the layout holds and no slot is open here.
std::optional<std::string> layout_pending(const Situation& s, const std::optional<LayoutView>& view) {
  const auto& myself = s.myself();
  const auto moves = view ? moves_between(view->owners, view->target) : std::vector<SlotMove>{};
  if (moves.empty() && myself.importing.empty() && myself.migrating.empty()) return std::nullopt;
  std::string listed;
  for (size_t i = 0; i < moves.size() && i < 3; ++i) {
    listed += fmt::format("{}shard {} -> shard {}: {}", listed.empty() ? "" : "; ", moves[i].from, moves[i].to,
                          range_text(moves[i].range));
  }
  if (moves.size() > 3) listed += fmt::format("; {} more ranges", moves.size() - 3);
  return fmt::format("layout of {} shards: {} slots still to move{}{}, each driven by its destination shard's master",
                     s.topology().shards, slots_moved(moves), listed.empty() ? "" : " (",
                     listed.empty() ? "" : listed + ")");
}

Action close_slot_action(int slot, std::string reason) {
  return {.step = CloseSlot{slot}, .target = ThisNode{}, .reason = std::move(reason)};
}

// Scaling: a master moves into its own node the slots the layout gives its shard, from the
// node holding them, one run of at most slots_per_move slots per round; a move this node had
// begun (an importing marker, left by a process that was killed) comes first. It also closes
// markers whose move is over. It never moves slots out: each destination drives its own.
// Closes the markers this node keeps on slots whose move is over: an import of a slot it
// serves, a migration of a slot it no longer serves (the mover was stopped between the
// destination's SETSLOT NODE and this node's).
void plan_close_finished_moves(const Situation& s, Plan& plan) {
  const auto& myself = s.myself();
  for (const auto& open : myself.importing) {
    if (myself.serves_slot(open.slot)) {
      plan.actions.push_back(close_slot_action(
          open.slot,
          fmt::format("this node serves slot {} already; its import from {} is over", open.slot, short_id(open.peer))));
    }
  }
  for (const auto& open : myself.migrating) {
    if (!myself.serves_slot(open.slot)) {
      plan.actions.push_back(close_slot_action(
          open.slot,
          fmt::format("slot {} is no longer this node's; its move to {} is over", open.slot, short_id(open.peer))));
    }
  }
}

void plan_layout(const Situation& s, const std::optional<LayoutView>& view, const PlanPolicy& policy, Plan& plan) {
  if (plan.role != Role::master) return;
  const auto& myself = s.myself();
  plan_close_finished_moves(s, plan);
  if (!plan.actions.empty() || !view) return;

  std::optional<SlotRange> next;
  for (const auto& open : myself.importing) {
    if (!myself.serves_slot(open.slot)) {
      next = SlotRange{open.slot, open.slot};
      break;
    }
  }
  if (!next && !policy.start_moves) {
    if (!moves_between(view->owners, view->target).empty()) {
      plan.waiting_for.push_back(fmt::format(
          "this process converged under SHARDS={} before, so its periodic passes start no moves: pods running with "
          "another SHARDS (a rolling update under way?) may be moving slots the other way. Restart this pod if its "
          "SHARDS is the intended one",
          s.topology().shards));
    }
    return;
  }
  if (!next) {
    for (const auto& move : moves_between(view->owners, view->target)) {
      if (move.to != s.self().pod.shard) continue;
      next = SlotRange{move.range.first, std::min(move.range.last, move.range.first + slots_per_move - 1)};
      break;
    }
  }
  if (!next) return;

  // The source: the node serving the run's first slot; the run ends where that node's slots do.
  const ClusterNode* holder = s.live_owner_of_slot(next->first);
  const std::optional<MoveEnd> source = holder != nullptr ? s.move_end_of(*holder) : std::nullopt;
  if (!source) {
    plan.waiting_for.push_back(
        fmt::format("slot {} is to move to this shard, but its holder is no pod that answers", next->first));
    return;
  }
  while (next->last > next->first && !holder->serves_slot(next->last)) --next->last;

  std::vector<MoveEnd> others;
  for (const auto& node : s.me().nodes) {
    if (!node.master || node.fail || node.slots.empty() || node.myself || node.id == holder->id) continue;
    if (auto other = s.move_end_of(node)) others.push_back(std::move(*other));
  }
  const int source_shard = view->owners[static_cast<size_t>(next->first)];
  plan.actions.push_back(
      {.step = MigrateSlots{.range = *next,
                            .source = *source,
                            .destination = {s.self().pod.name, s.me().id, *s.self().endpoint, s.self().pod.dns_name},
                            .other_masters = std::move(others)},
       .target = ThisNode{},
       .reason =
           fmt::format("the layout of {} shards gives shard {} slots {}, which node {} (pod {}, shard {}{}) holds",
                       s.topology().shards, s.self().pod.shard, range_text(*next), short_id(holder->id), source->pod,
                       source_shard, source_shard >= s.topology().shards ? ", surplus" : "")});
}

// Whether the live masters of `table` serve all 16384 slots.
bool serves_every_slot(const std::vector<ClusterNode>& table) {
  int served = 0;
  for (const auto& node : table) {
    if (node.master && !node.handshake && !node.fail) served += node.slot_count();
  }
  return served == cluster_slots;
}

// How many lines a surplus pod's waiting message lists of its shard's nodes still serving.
constexpr size_t max_listed_serving = 4;

// Scale-in: this pod's shard is at or above SHARDS (Topology::surplus). It changes nothing of
// the layout itself: the layout's masters import its shard's slots (plan_layout, on their
// pods). While its node serves slots it keeps it known at its address (MEETs, as any master);
// once no table asked this round shows a node of its shard serving slots, and a pod of the
// layout confirms the cluster is ok, the shard is drained and its StatefulSet may go.
void plan_surplus(const Situation& s, const PlanPolicy& policy, Plan& plan) {
  const int shard = s.self().pod.shard, shards = s.topology().shards;
  const std::string statefulset = shard_statefulset(s.topology().prefix, shard);
  plan.role = Role::surplus;
  if (policy.names == NameCheck::unavailable) {
    plan.outcome = Outcome::fail;
    plan.situation = fmt::format("surplus: shard {} is not among the {} shards, but its server cannot announce names",
                                 shard, shards);
    plan.waiting_for.push_back(fmt::format(
        "scale-in needs servers that announce their pod's name (cluster-announce-hostname: Redis 7 or later, Valkey): "
        "without it the layout's masters cannot tell this shard's nodes from any other. Keep SHARDS at {} for {}, or "
        "move its slots away with redis-cli --cluster reshard before deleting it",
        shard + 1, statefulset));
    return;
  }
  const auto serving = s.own_shard_still_serving();
  const auto& myself = s.myself();
  if (!serving.empty() || !myself.importing.empty() || !myself.migrating.empty()) {
    plan.situation =
        fmt::format("surplus: shard {} is not among the {} shards; draining (the layout's masters import its slots)",
                    shard, shards);
    for (size_t i = 0; i < serving.size() && i < max_listed_serving; ++i) plan.waiting_for.push_back(serving[i]);
    if (serving.size() > max_listed_serving) {
      plan.waiting_for.push_back(fmt::format("... and {} more nodes", serving.size() - max_listed_serving));
    }
    if (!myself.migrating.empty()) {
      const auto& open = myself.migrating.front();
      plan.waiting_for.push_back(fmt::format("slot {} is moving from this node to {}", open.slot, short_id(open.peer)));
    }
    plan_close_finished_moves(s, plan);
    if (!myself.slots.empty()) plan_meets(s, plan);
    plan.outcome = plan.actions.empty() ? Outcome::wait : Outcome::act;
    if (!plan.actions.empty()) plan.waiting_for.clear();
    return;
  }
  // Drained as far as the tables asked show, but only the layout's own view settles it: a pod
  // that lost its volume knows no node at all. A layout pod's table confirms when live masters
  // in it serve every slot (a narrow round asks peers for their table alone, not CLUSTER INFO).
  int confirming = 0;
  for (const auto& pod : s.observation().pods) {
    if (&pod == &s.self() || !pod.asked() || !s.trusted(pod) || !serves_every_slot(pod.probe->nodes)) continue;
    ++confirming;
  }
  if (confirming == 0) {
    plan.situation =
        fmt::format("surplus: shard {} is not among the {} shards; no node of it serves slots", shard, shards);
    plan.waiting_for.push_back(
        "no pod of the layout answered this round with a table whose live masters serve every slot: cannot confirm "
        "that no node of this shard serves slots");
    for (auto& line : s.missing_pods()) plan.waiting_for.push_back(std::move(line));
    return;
  }
  plan.outcome = Outcome::converged;
  plan.situation = fmt::format(
      "drained: shard {} is not among the {} shards and none of its nodes serves slots (as {} pod(s) of the layout "
      "confirm); safe to delete StatefulSet {} (its pods, then their volumes)",
      shard, shards, confirming, statefulset);
}

// Whether this pod has its desired role and the cluster is healthy as this node sees it.
void check_convergence(const Situation& s, const std::optional<LayoutView>& layout, Plan& plan) {
  const auto& me = s.me();
  bool role_reached = false;
  if (plan.role == Role::master) {
    role_reached = s.myself().master && !s.myself().slots.empty();
  } else if (plan.role == Role::replica) {
    const PodObservation* master = s.shard_master();
    role_reached = master != nullptr && s.myself().replica && s.myself().master_id == master->probe->id &&
                   me.replication.master_link_up;
    if (master != nullptr && s.myself().replica && s.myself().master_id == master->probe->id &&
        !me.replication.master_link_up) {
      plan.waiting_for.push_back(fmt::format("replication link to {} (pod {} at {}:{}) is not up yet",
                                             short_id(master->probe->id), master->pod.name, me.replication.master_host,
                                             me.replication.master_port));
    }
  }
  if (!me.cluster.state_ok) {
    plan.waiting_for.push_back(
        fmt::format("cluster_state is fail on this node ({} of {} slots assigned, {} nodes known)",
                    me.cluster.slots_assigned, cluster_slots, me.cluster.known_nodes));
    for (auto& line : s.uncovered_ranges()) plan.waiting_for.push_back(std::move(line));
  }
  const auto pending = me.cluster.state_ok ? layout_pending(s, layout) : std::nullopt;
  if (pending) plan.waiting_for.push_back(*pending);
  if (role_reached && me.cluster.state_ok && !pending) {
    plan.outcome = Outcome::converged;
    plan.waiting_for.clear();
  }
}

}  // namespace

Plan make_plan(const Topology& topology, int self_index, const Observation& observation, PlanPolicy policy) {
  Plan plan;
  const auto& self = observation.pods.at(self_index);
  if (!self.answered()) {
    plan.situation = "this pod's redis-server does not answer";
    plan.waiting_for.push_back(fmt::format("local redis-server: {}", self.why_not()));
    // An ACL that refuses a command the binary needs does not change by waiting.
    if (self.probe.error().code == ReplyCode::noperm) {
      plan.outcome = Outcome::fail;
      plan.situation = "this pod's redis-server refuses a command the binary needs (NOPERM)";
      plan.waiting_for.push_back(permission_hint);
    }
    return plan;
  }
  if (!self.probe->cluster_enabled) {
    plan.outcome = Outcome::fail;
    plan.situation = "this pod's redis-server runs without cluster support";
    plan.waiting_for.push_back(
        fmt::format("local redis-server at {}: cluster support is disabled ({}); start it with 'cluster-enabled yes'",
                    self.endpoint->to_string(), self.probe->cluster_refusal));
    return plan;
  }

  Situation s(topology, self_index, observation, policy.names);
  if (topology.surplus) {
    plan_surplus(s, policy, plan);
    return plan;
  }
  const auto& myself = s.myself();
  const SlotRange my_range = s.my_range();

  if (s.about_to_create(self)) {
    plan.role = Role::master;
    // Distinct nodes verified as their pods': a stale record, a reused address or a second
    // name for one node must not make a minority look like a quorum.
    const int answered = s.trusted_node_count();
    if (answered < topology.quorum()) {
      // A minority view cannot tell "no cluster yet" from "a cluster we cannot see".
      plan.situation = fmt::format(
          "no observed node holds shard {}'s slots {}, but only {} of {} pods answer as themselves: waiting for a "
          "quorum of {} before deciding that no cluster exists",
          self.pod.shard, range_text(my_range), answered, topology.pod_count(), topology.quorum());
      plan.waiting_for.push_back(fmt::format("quorum: {} of {} pods answer as themselves, {} needed", answered,
                                             topology.pod_count(), topology.quorum()));
      for (auto& line : s.missing_pods()) plan.waiting_for.push_back(std::move(line));
      return plan;
    }
    // Between rounds that ask every pod, a waiting pod reuses the answers of pods already
    // verified (see Observer::observe); a decision to create is made on answers of this round.
    const int asked_now = s.trusted_node_count(Freshness::asked_this_round);
    if (asked_now < topology.quorum()) {
      plan.situation = fmt::format(
          "no observed node holds shard {}'s slots {}, and {} of {} pods answer as themselves, {} of them in earlier "
          "rounds: asking every pod again before creating",
          self.pod.shard, range_text(my_range), answered, topology.pod_count(), answered - asked_now);
      plan.waiting_for.push_back(fmt::format("quorum: {} of {} pods answered as themselves this round, {} needed",
                                             asked_now, topology.pod_count(), topology.quorum()));
      return plan;
    }
    plan.situation = fmt::format("creating: {} of {} pods answer as themselves and none holds shard {}'s slots {}",
                                 answered, topology.pod_count(), self.pod.shard, range_text(my_range));
    if (myself.config_epoch == 0 && !s.me().knows_other_nodes()) {
      plan.actions.push_back(
          {.step = SetConfigEpoch{self.pod.shard + 1},
           .target = ThisNode{},
           .reason = fmt::format("this node knows no other node yet, so it can take config epoch {} (shard {} + 1), "
                                 "distinct from every other creating master",
                                 self.pod.shard + 1, self.pod.shard)});
    }
    plan.actions.push_back(
        {.step = ClaimSlots{my_range},
         .target = ThisNode{},
         .reason = fmt::format("this pod is ordinal 0 of shard {} and none of the {} answering pods' tables holds "
                               "any slot of {}",
                               self.pod.shard, answered, range_text(my_range))});
  } else if (myself.master && !myself.slots.empty()) {
    plan.role = Role::master;
    plan.situation = fmt::format("master serving {} slots", myself.slot_count());
  } else if (const ClusterNode* dead = s.lost_owner_of_my_shard()) {
    // Every pod of this shard came back empty and the only owner of its slots is a dead node
    // ID: the data is gone. Taking the slots over loses nothing more, but it is the user's call.
    plan.role = Role::master;
    plan.situation = fmt::format(
        "shard {}'s slots {} are held only by failed node {}, which is no pod that answers: "
        "every pod of the shard lost its data",
        self.pod.shard, slots_text(dead->slots), short_id(dead->id));
    if (!policy.recover_lost_slots) {
      plan.waiting_for.push_back(
          fmt::format("slots {} are not served (their data is lost); to let this pod take them "
                      "over, empty, run it with --recover-lost-slots",
                      slots_text(dead->slots)));
      return plan;
    }
    Action forget = forget_action(s, *dead,
                                  fmt::format("--recover-lost-slots: node {} held slots {} and failed with every pod "
                                              "of shard {}; forgetting it everywhere unassigns them (their data was "
                                              "already lost)",
                                              short_id(dead->id), slots_text(dead->slots), self.pod.shard));
    forget.data_loss = true;
    plan.actions.push_back(std::move(forget));
    for (const auto& range : dead->slots) {
      plan.actions.push_back(
          {.step = ClaimSlots{range},
           .target = ThisNode{},
           .reason = fmt::format("--recover-lost-slots: this pod (ordinal 0 of shard {}) takes over slots {}, empty",
                                 self.pod.shard, range_text(range)),
           .data_loss = true});
    }
    plan.actions.push_back({.step = BumpEpoch{},
                            .target = ThisNode{},
                            .reason = "a recovered range needs a config epoch above any stale claim still gossiped",
                            .data_loss = true});
    // Then, as any master: MEET the other masters (below).
  } else if (const ClusterNode* followed = policy.replica_migration ? nullptr : s.new_shard_lost_to()) {
    plan.role = Role::master;
    plan.situation = fmt::format(
        "scale-out: shard {} is new, and this node, its master, was turned into a replica of node {} of another shard "
        "(Redis gave the slots it had taken back to their source): becoming an empty master again",
        self.pod.shard, short_id(followed->id));
    plan.actions.push_back(
        {.step = ResetToEmptyMaster{followed->id},
         .target = ThisNode{},
         .reason = fmt::format("ordinal 0 of shard {} must be its master; as a replica of node {} it holds only a copy "
                               "of that node's data (flushed by the reset, kept by its master), and no node of shard "
                               "{} serves slots",
                               self.pod.shard, short_id(followed->id), self.pod.shard)});
    plan.outcome = Outcome::act;
    return plan;
  } else if (s.joins_as_new_shard()) {
    plan.role = Role::master;
    plan.situation = fmt::format(
        "scale-out: shard {} is new (other shards' masters hold its creation range {}): joining as an empty master, "
        "then importing the slots the layout of {} shards gives it",
        self.pod.shard, range_text(my_range), topology.shards);
  } else {
    plan.role = Role::replica;
    const auto* holder = s.holder_of(my_range);
    plan.situation = holder != nullptr
                         ? fmt::format(
                               "joining: shard {}'s slots are held by node {}; this pod becomes a replica of its "
                               "shard's master",
                               self.pod.shard, short_id(holder->id))
                         : fmt::format("joining: waiting for shard {}'s master to claim its slots", self.pod.shard);
    plan_replica(s, plan);
    if (plan.outcome == Outcome::fail) return plan;
  }

  report_misidentified(s, plan);
  plan_meets(s, plan);
  plan_forget_former_self(s, plan);
  plan_forget_replaced(s, plan);
  plan_forget_departed(s, plan);
  if (plan.actions.empty()) {
    // Only now, with nothing else to do: the layout as this node's table shows it, read once
    // for the moves and for convergence.
    const std::optional<LayoutView> layout = layout_view(s);
    plan_layout(s, layout, policy, plan);
    if (plan.actions.empty()) {
      check_convergence(s, layout, plan);
      return plan;
    }
  }
  plan.outcome = Outcome::act;
  plan.waiting_for.clear();
  return plan;
}

std::optional<LayoutChange> layout_change(const Topology& topology, int self_index, const Observation& observation,
                                          PlanPolicy policy) {
  const auto& self = observation.pods.at(self_index);
  if (!self.answered() || !self.probe->cluster_enabled) return std::nullopt;
  Situation s(topology, self_index, observation, policy.names);
  const std::optional<LayoutView> view = layout_view(s);
  if (!view) return std::nullopt;
  LayoutChange change;
  change.shards = topology.shards;
  const auto moves = moves_between(view->owners, view->target);
  change.slots_to_move = slots_moved(moves);
  for (const auto& move : moves) {
    const ClusterNode* holder = s.live_owner_of_slot(move.range.first);
    if (auto source = holder != nullptr ? s.move_end_of(*holder) : std::nullopt) {
      change.moves.push_back({move, std::move(*source)});
    }
  }
  std::map<int, int> held;  // shard -> slots it serves
  for (int owner : view->owners) ++held[owner];
  for (const auto& [shard, slots] : held)
    change.minimum_slots += std::max(0, slots - slot_quota(shard, topology.shards));
  SlotOwners resplit(cluster_slots, no_shard);
  for (int shard = 0; shard < topology.shards; ++shard) {
    const SlotRange range = shard_slot_range(shard, topology.shards);
    for (int slot = range.first; slot <= range.last; ++slot) resplit[static_cast<size_t>(slot)] = shard;
  }
  change.resplit_slots = slots_moved(moves_between(view->owners, resplit));
  for (const auto& node : s.me().nodes) {
    if (!node.is_live_slot_owner()) continue;
    if (auto master = s.move_end_of(node)) change.masters.push_back(std::move(*master));
  }
  return change;
}

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::converged: return "converged";
    case Outcome::act: return "act";
    case Outcome::wait: return "wait";
    case Outcome::fail: return "fail";
  }
  return "unknown";
}

const char* to_string(Role role) {
  switch (role) {
    case Role::master: return "master";
    case Role::replica: return "replica";
    case Role::surplus: return "surplus";
    case Role::undecided: return "undecided";
  }
  return "unknown";
}

}  // namespace rci::plan
