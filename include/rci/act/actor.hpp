#pragma once
// Applies planned actions to this pod's own redis-server, logging each with its reason, within
// the reconciler's deadline. An action Redis refuses is not retried at the pace of the poll
// loop: it backs off, and its refusal is logged once per distinct reason.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rci/plan/planner.hpp"
#include "rci/redis/connection.hpp"

namespace rci {

struct ActResult {
  int applied = 0;
  int failed = 0;
  int deferred = 0;  // refused earlier and still backing off: not sent this round
};

// A connection to another node's address (for FORGET, which must reach every node), opened
// within the deadline.
using Connector = std::function<Result<std::shared_ptr<redis::Connection>>(const std::string& address, Deadline)>;

// How long an action waits after its n-th refusal before it is sent again: from 100 ms,
// doubling, at most 5 s. Pure, so the pacing is unit-tested.
Millis refusal_backoff(int refusals);

class Actor {
 public:
  explicit Actor(Connector connect) : connect_(std::move(connect)) {}

  // Applies `actions` in order on `self` until `deadline`. A failed slot claim stops the
  // batch (later steps depend on it), as does a lost connection or a timeout; a MEET or
  // REPLICATE that Redis refuses is logged and the rest go on.
  // Either way the reconciler observes again, so nothing is assumed to have worked.
  ActResult apply(redis::Connection& self, const std::vector<plan::Action>& actions, Deadline deadline);

 private:
  // What an action's last refusal was, so it is retried with backoff and reported once.
  struct Refusal {
    std::string message;
    int count = 0;
    Clock::time_point retry_at{};
  };
  Result<redis::Reply> send(redis::Connection& self, const plan::Action& action, Deadline deadline);
  Result<redis::Reply> forget_everywhere(const plan::Action& action, Deadline deadline);
  void note_refusal(const plan::Action& action, const Error& error);
  Connector connect_;
  std::map<std::string, Refusal> refusals_;  // by the action's command line
};

}  // namespace rci
