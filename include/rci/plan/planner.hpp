#pragma once
// The planner: from the desired topology, this pod's identity and one observation, the next
// actions on this pod's own redis-server and the reason for each. Pure: no I/O, no clock,
// no logging, so every situation is a unit test.
//
// Actions target this pod's own node: a pod claims only its own shard's slots, MEETs from its
// own node and makes only itself a replica. No pod writes another pod's slots. The one
// exception is FORGET of this pod's own former identity, which must reach every node: each
// action names its target (plan/action), so the actor never decides where a command goes.

#include <string>
#include <vector>

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

enum class Role { master, replica, undecided };

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
};

// Computes the next step for the pod at `self_index` in `topology.pods`.
Plan make_plan(const Topology& topology, int self_index, const Observation& observation, PlanPolicy policy = {});

// Short names for logs and JSON.
const char* to_string(Outcome outcome);
const char* to_string(Role role);

// What to do about a NOPERM refusal, said wherever one stops the work.
extern const char* const permission_hint;

}  // namespace rci::plan
