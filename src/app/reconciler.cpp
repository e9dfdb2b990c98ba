#include "rci/app/reconciler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <thread>
#include <variant>

#include "rci/act/actor.hpp"
#include "rci/observe/observer.hpp"
#include "rci/redis/connection.hpp"
#include "rci/util/log.hpp"
#include "rci/util/text.hpp"

namespace rci {
namespace {

// Polling starts at tens of milliseconds so an event is noticed almost at once, and backs
// off so a long wait (a peer that is down) does not load the servers.
constexpr Millis first_poll{20};
// A pod that is not its shard's ordinal 0 can do nothing before that pod claims its slots, so it
// polls more slowly at first: at cold start the CPU goes to the pods that must act first.
constexpr Millis first_poll_follower{100};
// The slowest pace, once nothing changes: twice a second, and less often from 100 pods on
// (1.5 s at 300): every poll makes this pod's server write its table, a line per node, and
// at 300 pods those tables were a fifth of the machine's CPU.
Millis slowest_poll(int pod_count) {
  return std::clamp(Millis(5 * static_cast<long long>(pod_count)), Millis(500), Millis(1500));
}

void log_new_warnings(const plan::Plan& plan, std::string& last_warnings) {
  std::string warnings = text::join(plan.warnings, "; ");
  if (warnings != last_warnings) {
    for (const auto& line : plan.warnings) log::warn("{}", line);
    last_warnings = warnings;
  }
}

void log_plan_change(const plan::Plan& plan, std::string& last_situation, std::string& last_waiting,
                     std::string& last_warnings) {
  log_new_warnings(plan, last_warnings);
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

// True while this node's table flags a master serving slots as failing: a failover may be
// under way, and a maintenance pass must not race Redis' own decision (e.g. re-pointing a
// replica). A failing replica, or a failed master whose slots have moved, starts no failover:
// a pass may act then (forget a replica that was scaled in, say).
bool failover_possible(const Observation& observation, int self_index) {
  const auto& self = observation.pods.at(self_index);
  if (!self.answered()) return false;
  for (const auto& node : self.probe->nodes) {
    if ((node.fail || node.pfail) && node.master && !node.slots.empty()) return true;
  }
  return false;
}

// Settings this pod's node needs, made once per run; a failure is logged, not fatal:
// - cluster-announce-hostname = the pod's FQDN, so every table says which pod each node ID is
//   (how the observer verifies who answers at an address, and how a pod recognises its own
//   former identity after losing its data); a server that refuses it (Redis 6.2, ERR) cannot
//   announce names at all, which the planner is told;
// - no automatic replica migration (unless allowed): under load Redis has been seen to move a
//   replica to another shard's master seconds after creation, and a replica's shard here is
//   its pod name's.
struct LocalSettings {
  plan::NameCheck names = plan::NameCheck::required;
  std::optional<std::string> impossible;  // a setting asked for that this server does not have
};

LocalSettings configure_local_node(redis::Connection& self, const Options& options, Deadline deadline) {
  LocalSettings settings;
  plan::NameCheck& names = settings.names;
  auto named = self.command({"CONFIG", "SET", "cluster-announce-hostname", announced_hostname(options)}, deadline);
  if (!named) {
    log::warn("could not set cluster-announce-hostname on this node: {}", named.error().message);
    if (named.error().code == ReplyCode::err) {
      log::warn("this server cannot announce pod names: nodes are taken to be the pods at whose addresses they answer");
      names = plan::NameCheck::unavailable;
    }
  }
  if (!options.allow_replica_migration) {
    auto reply = self.command({"CONFIG", "SET", "cluster-allow-replica-migration", "no"}, deadline);
    if (!reply) log::warn("could not set cluster-allow-replica-migration on this node: {}", reply.error().message);
  }
  if (options.preferred_endpoint == PreferredEndpoint::hostname) {
    auto reply = self.command({"CONFIG", "SET", "cluster-preferred-endpoint-type", "hostname"}, deadline);
    if (!reply && reply.error().code == ReplyCode::err) {
      // Redis < 7: clients would be sent to IPs, which a name-checking TLS client refuses.
      settings.impossible = fmt::format(
          "--preferred-endpoint hostname: this server has no cluster-preferred-endpoint-type (Redis >= 7 has): {}",
          reply.error().message);
    } else if (!reply) {
      log::warn("could not set cluster-preferred-endpoint-type on this node: {}", reply.error().message);
    }
  }
  return settings;
}

// Whether `actions` hold a step other than a MEET or a FORGET.
bool changes_role(const std::vector<plan::Action>& actions) {
  return std::any_of(actions.begin(), actions.end(), [](const plan::Action& action) {
    return !std::holds_alternative<plan::Meet>(action.step) && !std::holds_alternative<plan::Forget>(action.step);
  });
}

}  // namespace

ReconcileResult reconcile(const Options& options, ReconcileMode mode, std::stop_token stop) {
  const Topology topology = make_topology(options);
  const int self_index = topology.self_index;
  const Deadline deadline = Deadline::after(options.timeout);
  Observer observer(options, topology);
  // MIGRATE's own timeout (idle time toward the destination) stays within the time this
  // binary waits for its reply, so a slow batch fails on the server's side first.
  const MigrationSettings migration{.credentials = options.credentials,
                                    .batch = options.migration_batch,
                                    .concurrency = options.migration_concurrency,
                                    .key_timeout = options.command_timeout / 2};
  Actor actor([&observer](const net::Endpoint& node, const std::string& server_name,
                          Deadline until) { return observer.connection(node, server_name, until); },
              migration);
  Backoff backoff(options.pod.ordinal == 0 ? first_poll : first_poll_follower, slowest_poll(topology.pod_count()));
  std::string last_situation, last_waiting, last_warnings;

  const bool quiet = mode != ReconcileMode::bootstrap;
  if (!quiet) {
    log::info("reconciling pod {} (shard {}, ordinal {}) at {}:{} into a cluster of {} shards x {} replicas",
              options.pod_name, options.pod.shard, options.pod.ordinal, options.pod_ip, options.port, options.shards,
              options.replicas);
  }
  ReconcileResult result;
  bool node_configured = false;
  std::optional<std::string> impossible;
  plan::PlanPolicy policy{.recover_lost_slots = options.recover_lost_slots,
                          .start_moves = mode != ReconcileMode::maintenance,
                          .replica_migration = options.allow_replica_migration};
  // This node announces its pod's name before anything else, so that peers verify it from
  // their next round on; if it does not answer yet, as soon as a round shows it answering.
  auto configure_once = [&] {
    if (node_configured) return;
    auto self = observer.connection(observer.own_endpoint(), deadline.capped(options.connect_timeout));
    if (!self) return;
    const LocalSettings settings = configure_local_node(**self, options, deadline);
    policy.names = settings.names;
    impossible = settings.impossible;
    node_configured = true;
  };
  // What this pod was asked to set and its server cannot do: it stops there, saying so.
  auto cannot_configure = [&] {
    if (!impossible) return false;
    result.last_plan.outcome = plan::Outcome::fail;
    result.last_plan.situation = "this pod's redis-server cannot do what it was asked to";
    result.last_plan.waiting_for = {*impossible};
    return true;
  };
  configure_once();
  if (cannot_configure()) return result;
  while (true) {
    const auto round_start = Clock::now();
    Observation observation = observer.observe(deadline, Scope::changing_peers);
    const bool cut_short = deadline.expired();
    ++result.rounds;
    log::debug("observation round {} took {} ms", result.rounds,
               std::chrono::duration_cast<Millis>(Clock::now() - round_start).count());
    if (observation.pods.at(self_index).answered()) configure_once();
    if (cannot_configure()) return result;
    plan::Plan next = plan::make_plan(topology, self_index, observation, policy);
    // A round the deadline cut short may show timeouts where the real reasons were (a name
    // that does not exist, a refused connection): unless it shows this pod converged, the
    // previous round's plan is the one that says why.
    if (cut_short && next.outcome != plan::Outcome::converged && result.rounds > 1) return result;
    result.last_plan = std::move(next);
    const plan::Plan& plan = result.last_plan;
    // A quiet pass says nothing while nothing is to be done, but what is wrong (a warning).
    if (!quiet || plan.outcome == plan::Outcome::act) {
      log_plan_change(plan, last_situation, last_waiting, last_warnings);
    } else {
      log_new_warnings(plan, last_warnings);
    }

    switch (plan.outcome) {
      case plan::Outcome::converged:
        if (quiet) {
          result.converged = true;
          return result;
        }
        if (plan.role == plan::Role::surplus) {
          log::info("converged after {} observation rounds: {}", result.rounds, plan.situation);
        } else {
          log::info("converged after {} observation rounds: this pod is a {} and the cluster is ok as seen from it",
                    result.rounds, plan::to_string(plan.role));
        }
        result.converged = true;
        return result;
      case plan::Outcome::fail: return result;
      case plan::Outcome::act: {
        if (quiet && failover_possible(observation, self_index)) {
          log::debug("maintenance pass: a master is failing, leaving the next step to Redis' failover");
          break;
        }
        if (stop.stop_requested()) {
          log::info("not acting: run is shutting down");
          result.stopped = true;
          return result;
        }
        auto self = observer.connection(observer.own_endpoint(), deadline);
        if (!self) {
          log::warn("cannot reach the local redis-server to act: {}", self.error().message);
          break;
        }
        // A step that changes this node's role (slots claimed, a master replicated) changes
        // what the next round sees: look again soon. MEETs and FORGETs take effect through
        // gossip, in their own time: polling faster after each would have 300 pods, MEETing a
        // few masters a round, ask their servers for their tables ten times a second. Steps
        // that Redis keeps refusing back off inside the actor and leave the pace alone.
        const ActResult acted = actor.apply(**self, plan.actions, deadline);
        if (acted.denied) {
          result.last_plan.outcome = plan::Outcome::fail;
          result.last_plan.situation = "a command the binary needs was refused (NOPERM)";
          result.last_plan.waiting_for = {acted.denied->message, plan::permission_hint};
          return result;
        }
        if (acted.applied + acted.failed > 0 && changes_role(plan.actions)) backoff.reset();
        break;
      }
      case plan::Outcome::wait: break;
    }
    if (deadline.expired()) return result;
    if (!sleep_unless_stopped(std::min(backoff.next(), deadline.remaining()), stop)) {
      result.stopped = true;
      return result;
    }
  }
}

}  // namespace rci
