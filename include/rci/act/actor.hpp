#pragma once
// Applies planned actions to this pod's own redis-server, logging each with its reason.

#include <functional>
#include <memory>
#include <string>
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
// `connect` gives a connection to another node's address (for FORGET, which must reach all).
using Connector = std::function<Result<std::shared_ptr<redis::Connection>>(const std::string& address)>;
ActResult apply_actions(redis::Connection& self, const std::vector<plan::Action>& actions, const Connector& connect);

}  // namespace rci
