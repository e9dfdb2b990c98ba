#pragma once
// The planner's queries over one observation (private to src/plan): who holds a range, which
// pod is a shard's master, what is missing. Pure, like the planner.

#include <optional>
#include <string>
#include <vector>

#include "rci/layout.hpp"
#include "rci/observe/observation.hpp"
#include "rci/plan/planner.hpp"
#include "rci/topology.hpp"

namespace rci::plan {

// "0-5460"
std::string range_text(SlotRange range);
// "0-5460,10923-16383"
std::string slots_text(const std::vector<SlotRange>& ranges);
bool overlaps(SlotRange a, SlotRange b);
// The first 8 characters of a node ID, as logs show it.
std::string short_id(const std::string& id);

// Everything the planner's rules ask of one observation, from this pod's point of view.
// Holds references: it lives only while make_plan runs.
enum class Freshness { any_round, asked_this_round };

class Situation {
 public:
  Situation(const Topology& topology, int self_index, const Observation& observation, NameCheck names)
      : topology_(topology), observation_(observation), self_(observation.pods.at(self_index)), names_(names) {}

  const Topology& topology() const { return topology_; }
  const Observation& observation() const { return observation_; }
  const PodObservation& self() const { return self_; }
  const NodeProbe& me() const { return *self_.probe; }
  const redis::ClusterNode& myself() const { return me().myself(); }
  SlotRange range_of(int shard) const { return shard_slot_range(shard, topology_.shards); }
  SlotRange my_range() const { return range_of(self_.pod.shard); }
  // The shard whose creation range `range` is (this pod's shard if none is).
  int shard_of(SlotRange range) const;

  // Whether the node at `pod`'s address is, as far as this round can tell, that pod's node: its
  // table may be read (who holds slots, who is failing). Not a node announcing another pod's
  // name, nor a nameless node that answers for two pods.
  bool belongs(const PodObservation& pod) const;
  // Whether `pod`'s node may be counted and acted on (MEETed, replicated, counted in the quorum):
  // it announces this pod's name; or it is nameless but this node's table already knows its
  // ID (a node of this cluster restarted before its bootstrap named it again); or it is
  // nameless where servers cannot announce names (NameCheck::unavailable, Redis 6.2).
  bool trusted(const PodObservation& pod) const;

  // The expected pod whose name or FQDN `hostname` is, if any.
  const ExpectedPod* pod_announced_as(const std::string& hostname) const;

  // The distinct node IDs of trusted pods (this pod's included): what the quorum counts; with
  // Freshness::asked_this_round, only of pods asked this round (not their earlier answers).
  int trusted_node_count(Freshness freshness = Freshness::any_round) const;

  // The node that any observed table says holds a slot of `range` (nullptr: none does).
  // Tables of every pod that answered are consulted, so one node's stale or partial view
  // cannot make a claimed range look free.
  const redis::ClusterNode* holder_of(SlotRange range) const;

  // A fresh ordinal-0 pod whose shard's slots nobody holds: it is about to create its part of
  // the cluster (set its config epoch while alone, claim its range), so nobody may MEET it yet.
  bool about_to_create(const PodObservation& pod) const;

  // Scale-out: this pod is ordinal 0 of a shard that serves nothing, holds no keys (or only
  // those of an import it has begun: a slot still importing), and whose creation range live
  // masters of other shards' pods hold: the cluster exists and has no slot for this shard yet.
  // It joins as an empty master; the layout gives it its slots. Never while some table shows a
  // master announcing a pod of this shard with slots: the shard exists (its pods came back
  // empty: see lost_owner_of_my_shard).
  bool joins_as_new_shard() const;

  // Scale-out gone wrong: this pod is ordinal 0 of a shard with no master serving slots (none
  // named in any table, every pod of the shard seen this round), the cluster holds its
  // creation range elsewhere (as for joins_as_new_shard), and its node is a replica, synced
  // (link up: its dataset is the copy), of another shard's master seen this round. A new
  // shard's master turns into that when Redis gives the slots it took back to their source (a
  // config epoch collision with the source's promoted replica, ARCHITECTURE.md "Scaling
  // shards"); with replica migration off (the default) no other path leads there. The node it
  // follows, or nullptr.
  const redis::ClusterNode* new_shard_lost_to() const;

  // A master with slots, in any observed table, that announces the name of a pod of `shard`
  // (its FQDN or pod name): the shard's master, wherever its slots are since scaling. Nothing
  // without host names (Redis 6.2).
  const redis::ClusterNode* named_owner_of_shard(int shard) const;

  // The trusted pod whose node has `id` (nullptr: none that answered).
  const PodObservation* pod_of_node(const std::string& id) const;

  // The shard serving each slot, as this node's own table shows it: the shard of the pod
  // whose node is the slot's live master (a trusted pod, or a name it announces: of the layout
  // or of a surplus shard), no_shard where that is no pod of this naming.
  SlotOwners slot_owners() const;

  // The live master this node's own table gives `slot` to (nullptr: none).
  const redis::ClusterNode* live_owner_of_slot(int slot) const;

  // Where a slot move reaches `node`: the trusted pod that answers as it, or, for a node of a
  // surplus shard (a pod this pod does not observe), the address in this node's table and the
  // FQDN of the pod it announces. Nothing for any other node, or one without an address.
  std::optional<MoveEnd> move_end_of(const redis::ClusterNode& node) const;

  // Scale-in, on a surplus pod: the nodes of its shard (its own by ID, the others by the name
  // they announce) that a table asked this round shows as masters serving slots, described.
  std::vector<std::string> own_shard_still_serving() const;

  // The node in this node's own table with `id`, unless it is still in handshake.
  const redis::ClusterNode* known_to_me(const std::string& id) const;

  bool handshake_in_progress_with(const net::Endpoint& endpoint) const;

  // The pod of this pod's shard whose node is a master serving slots; with several (a stale
  // master not yet demoted), the one with the highest config epoch, as Redis decides.
  const PodObservation* shard_master() const;

  // A slot that `peer`'s table gives to a live owner other than the one this node's table
  // gives it to, described; nothing when the two views agree wherever both assign a slot.
  // (A failover in flight can disagree for a moment; the next round asks again.)
  std::optional<std::string> slot_conflict_with(const NodeProbe& peer) const;

  // The dead owner of this pod's shard's slots, when this pod is its shard's ordinal 0, empty,
  // and no pod of the shard serves slots: the node announcing a pod of the shard with slots
  // (named_owner_of_shard; its slots are wherever scaling left them), or, without host names,
  // the only holder of the shard's creation range, if it announces no name; flagged failed
  // wherever it is listed and not the node of any pod that answers.
  const redis::ClusterNode* lost_owner_of_my_shard() const;

  // The pod that should be serving `range`: the one whose node holds it in some table, else
  // the shard's ordinal-0 pod (its master at creation), with its state.
  std::string who_should_serve(SlotRange range) const;

  // Where a FORGET must go: the address of every pod that answered, this round or (its answer
  // reused) an earlier one, this pod's first. Redis bans a forgotten ID for 60 s only, so it
  // must reach every node, also those a narrow round did not ask.
  std::vector<net::Endpoint> forget_targets() const;

  // Lines naming the pods that did not answer and why, capped for readability.
  std::vector<std::string> missing_pods() const;

  // Why the cluster is not ok: every shard range that no node holds, with its ordinal-0 pod.
  std::vector<std::string> uncovered_ranges() const;

 private:
  // No node of this pod's shard serves slots (none named in any table either), and a live
  // master of another shard's pod holds the shard's creation range: the cluster exists and
  // this shard is not in it yet (joins_as_new_shard, new_shard_lost_to).
  bool shard_is_new() const;
  // The pod of `node` when `node` is a live master serving slots and that pod is of another
  // shard than this pod's; nullptr otherwise (and for a null `node`).
  const PodObservation* other_shards_live_master(const redis::ClusterNode* node) const;
  // The one node that any observed table says holds slots of `range`; nullptr when none does,
  // or when several do (the range is split, as scaling leaves a creation range).
  const redis::ClusterNode* sole_holder_of(SlotRange range) const;

  const Topology& topology_;
  const Observation& observation_;
  const PodObservation& self_;
  const NameCheck names_;
};

}  // namespace rci::plan
