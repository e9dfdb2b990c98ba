#pragma once
// The observe -> plan -> act loop, repeated until converged or the deadline passes.

#include <stop_token>

#include "rci/config/options.hpp"
#include "rci/plan/planner.hpp"

namespace rci {

struct ReconcileResult {
  bool converged = false;
  int rounds = 0;        // observation rounds it took
  plan::Plan last_plan;  // explains the final state (what was missing on failure)
  bool stopped = false;  // `stop` was requested before it converged
};

enum class ReconcileMode {
  bootstrap,    // bring the pod in; log every decision
  catch_up,     // a periodic pass of `run` whose process has not converged yet (its bootstrap
                // ran out of time, say mid-scaling): as maintenance, but it starts slot moves
  maintenance,  // a periodic pass of `run` after its process converged: quiet when all is
                // well; it never acts while this node sees a node failing (a failover may be
                // under way: Redis decides), and starts no slot moves (PlanPolicy::start_moves)
};

// Drives this pod's local redis-server into the cluster, until converged or `deadline`. Once
// `stop` is requested it acts no more and returns (`run` is shutting down: a handover may be
// under way, and a step of ours must not race it).
ReconcileResult reconcile(const Options& options, ReconcileMode mode = ReconcileMode::bootstrap,
                          std::stop_token stop = {});

}  // namespace rci
