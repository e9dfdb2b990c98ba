#pragma once
// Applies planned actions to this pod's own redis-server, logging each with its reason.

#include <vector>

#include "rci/plan/planner.hpp"
#include "rci/redis/connection.hpp"

namespace rci {

struct ActResult {
  int applied = 0;
  int failed = 0;
};

// Applies `actions` in order. A failed slot claim or epoch stops the batch (later steps
// depend on it); a failed MEET or REPLICATE is logged and the rest go on. Either way the
// reconciler observes again, so nothing is assumed to have worked.
ActResult apply_actions(redis::Connection& self, const std::vector<plan::Action>& actions);

}  // namespace rci
