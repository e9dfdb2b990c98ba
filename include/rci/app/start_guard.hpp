#pragma once
// `run`'s check before it starts redis-server: a pod that lost its volume must not come up
// empty at an address that live replicas still replicate (see plan/start_check.hpp).

#include <functional>
#include <string>
#include <vector>

#include "rci/config/options.hpp"
#include "rci/util/clock.hpp"

namespace rci {

enum class StartVerdict {
  start,        // redis-server may start
  timed_out,    // still unsafe when --timeout passed
  interrupted,  // `pause` reported a termination signal
};

// Sleeps up to the given time; returns false when the supervisor was asked to stop meanwhile.
using Pause = std::function<bool(Millis)>;

// Says `start` at once when nodes.conf (located from `server_argv`, the child's argv) exists,
// or when where it is cannot be told (logged as a warning). Otherwise observes the cluster
// until no answering replica replicates this pod's address, logging what it waits for.
StartVerdict wait_until_safe_to_start(const Options& options, const std::vector<std::string>& server_argv,
                                      const Pause& pause);

}  // namespace rci
