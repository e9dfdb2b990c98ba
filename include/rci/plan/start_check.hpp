#pragma once
// Whether `run` may start redis-server now, when it will start as a new, empty node (no
// nodes.conf: the pod lost its volume). Pure, like the planner.
//
// A replica keeps replicating its master's address. If this pod was that master and an empty
// redis-server comes up at the same address before Redis failed it over, the replica connects,
// full-syncs the empty dataset and drops its own copy, the shard's last one (Redis' own hazard,
// measured on the test bed: 0.75 s). Only waiting closes that window: once the replica is
// promoted it replicates nobody.

#include <optional>
#include <string>

#include "rci/observe/observation.hpp"

namespace rci::plan {

// What an empty node at `address`:`port`, of shard `shard`, must wait for: the replicas that
// replicate a master at that address, by their own answer (INFO replication, their table) or
// by any answering node's table when they did not answer; a replica that is down counts while
// that master still holds slots (it has the shard's data and would copy the empty node on its
// return); and a pod of the same shard that could not be asked because its lookup or probe
// timed out (whether it replicates this address is unknown; a pod that does not exist yet or
// refuses connections is no replica). nullopt when there is nothing to wait for.
std::optional<std::string> empty_start_hazard(const Observation& observation, const std::string& address, int port,
                                              int shard);

}  // namespace rci::plan
