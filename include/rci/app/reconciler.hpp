#pragma once
// The observe -> plan -> act loop, repeated until converged or the deadline passes.

#include "rci/config/options.hpp"
#include "rci/plan/planner.hpp"

namespace rci {

struct ReconcileResult {
  bool converged = false;
  int rounds = 0;  // observation rounds it took
  plan::Plan last_plan;  // explains the final state (what was missing on failure)
};

// Drives this pod's local redis-server into the cluster.
ReconcileResult reconcile(const Options& options);

}  // namespace rci
