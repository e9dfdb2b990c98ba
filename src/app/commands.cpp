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

// One observation round for the inspection subcommands: up to 3 s for DNS, then the probes'
// own timeouts.
Observation observe_once(const Options& options, const Topology& topology) {
  Observer observer(options, topology);
  return observer.observe(Deadline::after(Millis(3000) + options.connect_timeout + options.command_timeout));
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

int run_plan(const Options& options) {
  const Topology topology = make_topology(options);
  Observation observation = observe_once(options, topology);
  auto plan = plan::make_plan(topology, topology.index_of(options.pod.shard, options.pod.ordinal), observation,
                              {options.recover_lost_slots});
  print(options.json_output ? report::plan_json(plan) : report::plan_text(plan));
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
