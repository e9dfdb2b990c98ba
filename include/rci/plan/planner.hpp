#pragma once
// The planner: from the desired topology, this pod's identity and one observation, the next
// actions on this pod's own redis-server and the reason for each. Pure: no I/O, no clock,
// no logging, so every situation is a unit test.
//
// Actions target this pod's own node: a pod claims only its own shard's slots, MEETs from its
// own node and makes only itself a replica. No pod writes another pod's slots. The one
// exception is FORGET of this pod's own former identity, which must reach every node: each
// action names its target (plan/action), so the actor never decides where a command goes.

#include <optional>
#include <string>
#include <vector>

#include "rci/layout.hpp"
#include "rci/observe/observation.hpp"
#include "rci/plan/action.hpp"
#include "rci/topology.hpp"

namespace rci::plan {

enum class Outcome {
  converged,  // desired role reached and the cluster is healthy as seen from this node
  act,        // apply `actions`, then observe again
  wait,       // nothing to do now; `waiting_for` says what is missing
  fail,       // cannot converge without a human (e.g. data would be lost); give up
};

// What this pod should end up as. A surplus pod (its shard at or above SHARDS: scale-in) is
// none of the layout's: it waits until its shard is drained.
enum class Role { master, replica, surplus, undecided };

struct Plan {
  Outcome outcome = Outcome::wait;
  Role role = Role::undecided;           // what this pod should end up as
  std::string situation;                 // one line: how the planner reads the observation
  std::vector<Action> actions;           // in order; only with Outcome::act
  std::vector<std::string> waiting_for;  // each names the pod, node or link and why
  std::vector<std::string> warnings;     // things seen that need a human (e.g. a foreign node)
};

// Whether the cluster's servers can announce pod names (cluster-announce-hostname).
enum class NameCheck {
  required,     // Redis >= 7, Valkey: a node is trusted only once it announces its pod's name
  unavailable,  // Redis 6.2 refused the setting: a nameless node is taken at its address
};

// What the user allowed beyond the safe default, and what the servers can do.
struct PlanPolicy {
  // A shard whose every pod lost its data: let its ordinal-0 pod forget the dead owner of the
  // shard's slots and take them over (the data is already gone). Off: report and wait.
  bool recover_lost_slots = false;
  NameCheck names = NameCheck::required;
  // Scaling: begin imports of the slots the layout gives this shard. Off in `run`'s
  // maintenance passes once its process has converged: the layout then held under this pod's
  // SHARDS, so only pods running with another SHARDS (a rolling update under way) can make it
  // not hold, and moving against them would move slots back and forth. An import begun (a
  // slot importing on this node) is still finished, and finished markers are closed.
  bool start_moves = true;
  // --replica-migration allow: Redis may move a replica, an ordinal 0 too, to another shard's
  // master, so such a replica is no sign of a new shard's master lost (no reset then).
  bool replica_migration = false;
};

// Computes the next step for the pod at `self_index` in `topology.pods`.
Plan make_plan(const Topology& topology, int self_index, const Observation& observation, PlanPolicy policy = {});

// Scaling: one run of slots the layout still moves, with the node it moves from.
struct PendingMove {
  SlotMove move;
  MoveEnd source;
};

// What the layout of SHARDS still moves, as one pod's own table shows the cluster (for `plan`).
struct LayoutChange {
  int shards = 0;
  std::vector<PendingMove> moves;  // in slot order; a run whose holder is no reachable node is left out
  int slots_to_move = 0;           // every slot the layout moves, those left out included
  // The least any layout with these quotas must move: the slots each shard holds beyond its
  // quota (every slot of a surplus shard), counted apart from the layout rule.
  int minimum_slots = 0;
  // What re-splitting into SHARDS contiguous creation ranges would move instead.
  int resplit_slots = 0;
  std::vector<MoveEnd> masters;  // every master serving slots, to count the keys against
};

// Nothing when that table does not give every slot to a node of this naming, or the cluster
// is not ok there: no layout to compare with.
std::optional<LayoutChange> layout_change(const Topology& topology, int self_index, const Observation& observation,
                                          PlanPolicy policy = {});

// Short names for logs and JSON.
const char* to_string(Outcome outcome);
const char* to_string(Role role);

// What to do about a NOPERM refusal, said wherever one stops the work.
extern const char* const permission_hint;

}  // namespace rci::plan
