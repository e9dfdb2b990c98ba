#include "rci/app/commands.hpp"

#include <fmt/format.h>

#include <cstdio>

#include "rci/app/install.hpp"
#include "rci/app/probe.hpp"
#include "rci/app/reconciler.hpp"
#include "rci/app/report.hpp"
#include "rci/app/supervisor.hpp"
#include "rci/app/termination_message.hpp"
#include "rci/observe/observer.hpp"
#include "rci/util/error.hpp"
#include "rci/util/log.hpp"

namespace rci {
namespace {

// How long one observation round of the inspection subcommands may take: up to 3 s for DNS,
// then the probes' own timeouts.
Millis inspection_round(const Options& options) {
  return Millis(3000) + options.connect_timeout + options.command_timeout;
}

Observation observe_once(const Options& options, const Topology& topology) {
  Observer observer(options, topology);
  return observer.observe(Deadline::after(inspection_round(options)));
}

void print(const std::string& text) {
  std::fputs(text.c_str(), stdout);
}

}  // namespace

int run_bootstrap(const Options& options) {
  ReconcileResult result = reconcile(options);
  if (result.converged) return exit_code::ok;
  const auto& plan = result.last_plan;
  std::string why = plan.outcome == plan::Outcome::fail
                        ? "cannot converge without help"
                        : fmt::format("did not converge within {} s", options.timeout.count());
  std::vector<std::string> lines = {fmt::format("bootstrap of pod {} {}: {}", options.pod_name, why, plan.situation)};
  for (const auto& line : plan.waiting_for) lines.push_back("  missing: " + line);
  for (const auto& line : plan.warnings) lines.push_back("  warning: " + line);
  give_up_with(options, lines);
  return exit_code::failed;
}

int run_discover(const Options& options) {
  const Topology topology = make_topology(options);
  Observation observation = observe_once(options, topology);
  print(options.json_output ? report::discover_json(topology, observation)
                            : report::discover_text(topology, observation));
  return exit_code::ok;
}

int run_status(const Options& options) {
  const Topology topology = make_topology(options);
  Observation observation = observe_once(options, topology);
  print(options.json_output ? report::status_json(topology, observation) : report::status_text(topology, observation));
  bool any_answered = false;
  for (const auto& pod : observation.pods) any_answered = any_answered || pod.answered();
  return any_answered ? exit_code::ok : exit_code::failed;
}

namespace {

// The keys a layout change moves and the keys the cluster holds, counted on the servers:
// CLUSTER COUNTKEYSINSLOT on each move's source for its slots (in one write), and DBSIZE on
// every master.
// Read-only, and bounded by `deadline`: what is not counted in time is said to be so.
report::LayoutKeys count_layout_keys(Observer& observer, const plan::LayoutChange& change, Deadline deadline) {
  using Commands = std::vector<std::vector<std::string>>;
  auto sum_of = [&](const plan::MoveEnd& node, const Commands& commands) -> std::optional<long long> {
    auto connection = observer.connection(node.endpoint, node.server_name, deadline);
    if (!connection) return std::nullopt;
    auto replies = (*connection)->commands(commands, deadline);
    if (!replies) return std::nullopt;
    long long sum = 0;
    for (const auto& reply : *replies) {
      if (reply.type != redis::Reply::Type::integer) return std::nullopt;
      sum += reply.integer;
    }
    return sum;
  };
  report::LayoutKeys keys;
  for (const auto& [move, source] : change.moves) {
    Commands commands;
    for (int slot = move.range.first; slot <= move.range.last; ++slot) {
      commands.push_back({"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)});
    }
    keys.per_move.push_back(sum_of(source, commands));
  }
  long long total = 0;
  for (const auto& master : change.masters) {
    auto held = sum_of(master, Commands{{"DBSIZE"}});
    if (!held) return keys;
    total += *held;
  }
  keys.total = total;
  return keys;
}

}  // namespace

int run_plan(const Options& options) {
  const Topology topology = make_topology(options);
  Observer observer(options, topology);  // kept: the key counts go over its connections
  const Millis round = inspection_round(options);
  Observation observation = observer.observe(Deadline::after(round));
  const plan::PlanPolicy policy{options.recover_lost_slots};
  auto plan = plan::make_plan(topology, topology.self_index, observation, policy);
  const auto change = plan::layout_change(topology, topology.self_index, observation, policy);
  const report::LayoutKeys keys =
      change ? count_layout_keys(observer, *change, Deadline::after(round)) : report::LayoutKeys{};
  if (options.json_output) {
    print(report::plan_json(plan, change ? report::layout_json(*change, keys) : ""));
  } else {
    print(report::plan_text(plan) + (change ? report::layout_text(*change, keys) : ""));
  }
  return exit_code::ok;
}

int run_install(const Options& options) {
  auto installed = install_self(options.install_dir);
  if (!installed) {
    log::error("install: {}", installed.error().message);
    return exit_code::failed;
  }
  print(fmt::format("installed {}\n", *installed));
  return exit_code::ok;
}

int run_probe(const Options& options) {
  ProbeVerdict verdict = probe_local_node(options);
  const char* kind = options.probe_kind == ProbeKind::readiness ? "readiness" : "liveness";
  // One line on stdout: the kubelet records it in the pod's events when the probe fails.
  print(fmt::format("{}: {}: {}\n", kind, verdict.healthy ? "ok" : "failed", verdict.reason));
  return verdict.healthy ? exit_code::ok : exit_code::failed;
}

int run_subcommand(const Options& options) {
  switch (options.subcommand) {
    case Subcommand::bootstrap: return run_bootstrap(options);
    case Subcommand::discover: return run_discover(options);
    case Subcommand::status: return run_status(options);
    case Subcommand::plan: return run_plan(options);
    case Subcommand::run: return run_supervised(options);
    case Subcommand::probe: return run_probe(options);
    case Subcommand::install: return run_install(options);
  }
  return exit_code::failed;
}

}  // namespace rci
