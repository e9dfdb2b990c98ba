#include "rci/app/reconciler.hpp"

#include <fmt/format.h>

#include <thread>

#include "rci/act/actor.hpp"
#include "rci/observe/observer.hpp"
#include "rci/util/log.hpp"
#include "rci/util/text.hpp"

namespace rci {
namespace {

// Polling starts at tens of milliseconds so an event is noticed almost at once, and backs
// off so a long wait (a peer that is down) does not load the servers.
constexpr Millis first_poll{20};
constexpr Millis slowest_poll{500};

void log_plan_change(const plan::Plan& plan, std::string& last_situation, std::string& last_waiting) {
  if (plan.situation != last_situation) {
    log::info("{} (role: {})", plan.situation, plan::to_string(plan.role));
    last_situation = plan.situation;
  }
  std::string waiting = text::join(plan.waiting_for, "; ");
  if (waiting != last_waiting) {
    if (!waiting.empty()) log::debug("waiting for: {}", waiting);
    last_waiting = waiting;
  }
}

}  // namespace

ReconcileResult reconcile(const Options& options) {
  const Topology topology = make_topology(options);
  const int self_index = topology.index_of(options.pod.shard, options.pod.ordinal);
  const Deadline deadline = Deadline::after(options.timeout);
  Observer observer(options, topology);
  Backoff backoff(first_poll, slowest_poll);
  std::string last_situation, last_waiting;

  log::info("reconciling pod {} (shard {}, ordinal {}) at {}:{} into a cluster of {} shards x {} replicas",
            options.pod_name, options.pod.shard, options.pod.ordinal, options.pod_ip, options.port, options.shards,
            options.replicas);
  ReconcileResult result;
  while (true) {
    const auto round_start = Clock::now();
    Observation observation = observer.observe(deadline, Scope::changing_peers);
    ++result.rounds;
    log::debug("observation round {} took {} ms", result.rounds,
               std::chrono::duration_cast<Millis>(Clock::now() - round_start).count());
    result.last_plan = plan::make_plan(topology, self_index, observation);
    const plan::Plan& plan = result.last_plan;
    log_plan_change(plan, last_situation, last_waiting);

    switch (plan.outcome) {
      case plan::Outcome::converged:
        log::info("converged after {} observation rounds: this pod is a {} and the cluster is ok as seen from it",
                  result.rounds, plan::to_string(plan.role));
        result.converged = true;
        return result;
      case plan::Outcome::fail:
        return result;
      case plan::Outcome::act: {
        auto self = observer.connection(options.pod_ip);
        if (!self) {
          log::warn("cannot reach the local redis-server to act: {}", self.error().message);
        } else {
          apply_actions(**self, plan.actions);
        }
        backoff.reset();
        break;
      }
      case plan::Outcome::wait:
        break;
    }
    if (deadline.expired()) return result;
    std::this_thread::sleep_for(std::min(backoff.next(), deadline.remaining()));
  }
}

}  // namespace rci
