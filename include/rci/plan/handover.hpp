#pragma once
// Whom a master hands its slots to before it stops (the SIGTERM handover of `run`, see
// ARCHITECTURE.md). Pure: it reads this node's own probe (its table and INFO replication).

#include <map>
#include <optional>
#include <set>
#include <string>

#include "rci/net/address.hpp"
#include "rci/observe/observation.hpp"
#include "rci/redis/info.hpp"

namespace rci::plan {

struct HandoverTarget {
  std::string node_id;
  std::string pod;  // the name its node announces ("" when it announces none)
  net::Endpoint endpoint;
  long long offset = 0;  // the replication offset it acknowledged
  int ordinal = 0;       // the StatefulSet ordinal of the pod it announces (INT_MAX: none)
};

struct HandoverChoice {
  std::optional<HandoverTarget> target;  // none: stop at once
  std::string reason;                    // why this replica, or why none
  int replicas_listed = 0;               // this node's replicas in its table, healthy or not
  bool serves_slots = false;             // this node is a master serving slots: something to hand over
};

// What a replica says of itself (its INFO replication), by node ID; nullopt: it did not answer.
// The master's own `slaveN` lines are no help: they name a replica by the address its
// connection comes from, which need not be the one it announces (127.0.0.1 for all of them
// on one host).
using ReplicaReports = std::map<std::string, std::optional<redis::ReplicationInfo>>;

// A master serving slots hands over to a healthy replica: listed as its replica in this
// node's table, connected, not failing; answering, with its replication link up and either its
// last word from the master at most `max_silence_seconds` old or every byte of the stream
// applied that this master had sent when it was asked (an idle master sends only a ping every
// 10 s). Of those, the one whose pod has the lowest ordinal: a StatefulSet's scale-in deletes
// the highest ordinals first, so a master there would be handed over again (or failed over by
// a crash) when REPLICAS is lowered. Being a little behind costs nothing: CLUSTER FAILOVER
// pauses the master's clients until the replica has applied the whole stream. Then the
// largest offset applied, then the lower node ID, so every reading of the same state picks
// the same one. A replica in `tried` was asked already and did not take over (Redis
// aborts a manual failover after 5 s): the next one is chosen. Anything else stops at once, and
// says why.
HandoverChoice choose_handover(const NodeProbe& self, const ReplicaReports& replicas,
                               const std::set<std::string>& tried = {}, long long max_silence_seconds = 1);

}  // namespace rci::plan
