#pragma once
// `probe readiness|liveness`: exit 0 or 1 within the timeout, for kubelet exec probes.

#include <string>

#include "rci/config/options.hpp"

namespace rci {

struct ProbeVerdict {
  bool healthy = false;
  std::string reason;  // one line: what was seen
};

// Liveness: the server answers PING (a LOADING reply counts as alive: it is busy, not dead).
// Readiness: it answers, cluster_state is ok, and a replica's link to its master is up.
ProbeVerdict probe_local_node(const Options& options);

}  // namespace rci
