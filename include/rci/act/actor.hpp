#pragma once
// Applies planned actions, each on the node it names as its target (this pod's own
// redis-server; every node for a FORGET), logging each with its reason, within the reconciler's
// deadline. An action Redis refuses is not retried at the pace of the poll loop: it backs off,
// and its refusal is logged once per distinct reason.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rci/config/options.hpp"
#include "rci/plan/planner.hpp"
#include "rci/redis/connection.hpp"

namespace rci {

struct ActResult {
  int applied = 0;
  int failed = 0;
  int deferred = 0;  // refused earlier and still backing off: not sent this round
  // A step the user's ACL refused (NOPERM): waiting will not change that, so the reconciler
  // stops, naming the command.
  std::optional<Error> denied;
};

// A connection to another node's address (for an action whose target is plan::EveryNode: a
// FORGET, which must reach every node; and the nodes of a slot move), opened within the
// deadline. `server_name` is the name TLS checks the node's certificate for ("": the name the
// observer found the address by).
using Connector = std::function<Result<std::shared_ptr<redis::Connection>>(const net::Endpoint& node,
                                                                           const std::string& server_name, Deadline)>;

// How long an action waits after its n-th refusal before it is sent again: from 100 ms,
// doubling, at most 5 s. Pure, so the pacing is unit-tested.
Millis refusal_backoff(int refusals);

// How slots are moved (plan::MigrateSlots).
struct MigrationSettings {
  Credentials credentials;    // the cluster's: MIGRATE authenticates with them at the destination
  int batch = 100;            // keys per GETKEYSINSLOT + MIGRATE
  int concurrency = 16;       // slots moving from the source at once (--migration-concurrency)
  Millis key_timeout{10000};  // MIGRATE's own timeout for one batch (a big key takes long)
};

class Actor {
 public:
  explicit Actor(Connector connect, MigrationSettings migration = {})
      : connect_(std::move(connect)), migration_(std::move(migration)) {}

  // Applies `actions` in order until `deadline`, each on its target (`self` is this pod's node).
  // A failed slot claim stops the batch (later steps depend on it), as does a lost connection
  // or a timeout; a MEET or REPLICATE that Redis refuses is logged and the rest go on.
  // Either way the reconciler observes again, so nothing is assumed to have worked.
  ActResult apply(redis::Connection& self, const std::vector<plan::Action>& actions, Deadline deadline);

 private:
  // What an action's last refusal was, so it is retried with backoff and reported once.
  struct Refusal {
    std::string message;
    int count = 0;
    Clock::time_point retry_at{};
  };
  // Sends the action's step to its target: over `self`, or to each node through `connect_`.
  Result<redis::Reply> send(redis::Connection& self, const plan::Action& action, Deadline deadline);
  Result<redis::Reply> send_everywhere(const plan::Step& step, const plan::EveryNode& nodes, Deadline deadline);
  Result<void> verify_node(redis::Connection& connection, const plan::MoveEnd& end, Deadline deadline);
  Result<redis::Reply> migrate_slots(redis::Connection& self, const plan::MigrateSlots& move, Deadline deadline);
  Result<void> migrate_group(redis::Connection& self, redis::Connection& source, const plan::MigrateSlots& move,
                             SlotRange group, Deadline deadline);
  Result<void> empty_slots(redis::Connection& source, const plan::MigrateSlots& move, SlotRange group,
                           Deadline deadline);
  void note_refusal(const plan::Action& action, const Error& error);
  Connector connect_;
  MigrationSettings migration_;
  std::map<std::string, Refusal> refusals_;  // by the action's command line
};

}  // namespace rci
