#include "rci/app/start_guard.hpp"

#include <sys/stat.h>

#include <filesystem>

#include "rci/app/termination_message.hpp"
#include "rci/config/redis_conf.hpp"
#include "rci/observe/observer.hpp"
#include "rci/plan/start_check.hpp"
#include "rci/topology.hpp"
#include "rci/util/log.hpp"

namespace rci {
namespace {

// Rechecks start fast (a failover completes a node timeout or so after the crash) and slow
// down, since each round asks every pod.
constexpr Millis first_recheck{200};
constexpr Millis slowest_recheck{2000};
// What one round may wait for DNS; the probes get their own timeouts on top.
constexpr Millis dns_budget{2000};
// A long wait says again what it waits for, so the log shows it is still waiting.
constexpr auto repeat_interval = std::chrono::seconds(30);

bool has_cluster_identity(const std::string& nodes_conf) {
  struct stat info {};
  // redis-server treats an empty nodes.conf as none: it starts as a new node.
  return ::stat(nodes_conf.c_str(), &info) == 0 && info.st_size > 0;
}

}  // namespace

StartVerdict wait_until_safe_to_start(const Options& options, const std::vector<std::string>& server_argv,
                                      const Pause& pause) {
  std::error_code error;
  const std::string cwd = std::filesystem::current_path(error).string();
  auto nodes_conf = redis_conf::locate_nodes_conf(server_argv, cwd);
  if (!nodes_conf) {
    log::warn(
        "cannot tell where redis-server keeps nodes.conf ({}): starting it without checking whether "
        "replicas still replicate this pod's address",
        nodes_conf.error().message);
    return StartVerdict::start;
  }
  if (has_cluster_identity(*nodes_conf)) {
    log::debug("{} is there: redis-server starts with its cluster identity", *nodes_conf);
    return StartVerdict::start;
  }
  log::info(
      "{} is missing or empty: redis-server will start as a new node; first checking that no replica still "
      "replicates this pod's address",
      *nodes_conf);
  const Topology topology = make_topology(options);
  Observer observer(options, topology);
  const Deadline deadline = Deadline::after(options.timeout);
  Backoff backoff(first_recheck, slowest_recheck);
  std::string last_hazard;
  auto last_said = Clock::now();
  while (true) {
    // Each round is bounded, so a stop request waits for at most one round.
    const Millis round_budget = dns_budget + options.connect_timeout + options.command_timeout;
    Observation observation = observer.observe(deadline.capped(round_budget), Scope::every_pod);
    std::optional<std::string> hazard =
        plan::empty_start_hazard(observation, options.pod_ip, options.port, options.pod.shard);
    if (!hazard) {
      if (!last_hazard.empty()) log::info("no replica replicates this pod's address any more: starting redis-server");
      return StartVerdict::start;
    }
    if (*hazard != last_hazard || Clock::now() - last_said >= repeat_interval) {
      log::warn("not starting redis-server yet: {}", *hazard);
      last_said = Clock::now();
    }
    last_hazard = *hazard;
    if (deadline.expired()) {
      give_up_with(options, {fmt::format("still not safe to start redis-server after --timeout {} s: {}",
                                         options.timeout.count(), *hazard)});
      return StartVerdict::timed_out;
    }
    if (!pause(std::min(backoff.next(), deadline.remaining()))) return StartVerdict::interrupted;
  }
}

}  // namespace rci
