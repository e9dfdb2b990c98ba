#pragma once
// The SIGTERM handover of `run` (ARCHITECTURE.md, "Handover on SIGTERM"): before redis-server
// is told to stop, a master serving slots asks its healthy replica of the lowest ordinal to take them
// over with a coordinated CLUSTER FAILOVER, and waits until it has: clients see a pause of a
// few hundred milliseconds instead of errors until Redis notices the master is gone.

#include <stop_token>
#include <string>

#include "rci/config/options.hpp"

namespace rci {

enum class HandoverOutcome {
  handed_over,   // a replica serves the slots and this node is its replica
  not_needed,    // this node serves no slots (a replica, or a master without slots)
  not_possible,  // no healthy replica, or none of those asked took over
  timed_out,     // --handover-timeout passed first
  cut_short,     // asked to stop at once (a second signal)
};

const char* to_string(HandoverOutcome outcome);

struct HandoverResult {
  HandoverOutcome outcome = HandoverOutcome::not_possible;
  std::string detail;  // one line: to whom, or why not
};

// Hands this pod's slots over, within options.handover_timeout; `stop` cuts it short. Talks
// only to this pod's own node and to its replicas, at the addresses this node's table holds.
HandoverResult hand_over(const Options& options, std::stop_token stop);

// The file `run` keeps while a handover runs, for `probe readiness` (same TMPDIR and port):
// $TMPDIR/redis-cluster-init-<port>.handover (TMPDIR defaults to /tmp).
std::string handover_marker_path(int port);

}  // namespace rci
