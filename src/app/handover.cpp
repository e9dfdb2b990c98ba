#include "rci/app/handover.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <set>
#include <vector>

#include "rci/observe/prober.hpp"
#include "rci/plan/handover.hpp"
#include "rci/topology.hpp"
#include "rci/util/log.hpp"

namespace rci {
namespace {

// How often this node's table is read while a replica takes over: a takeover takes a few
// hundred milliseconds, and the clients are paused while it runs.
constexpr Millis poll_interval{100};
// Redis aborts a manual failover that has not completed in 5 s (CLUSTER_MF_TIMEOUT); a second
// more lets the news of a takeover at the last moment reach this node.
constexpr Millis failover_window{6000};
// How long a master whose table lists no replica yet waits for one to show up in it.
constexpr Millis wait_for_replicas{3000};
// A replica is asked at most this many times in all (the chosen one, then the next).
constexpr size_t max_attempts = 2;

std::string pod_or_node(const plan::HandoverTarget& target) {
  return target.pod.empty() ? fmt::format("node {}", target.node_id.substr(0, 8)) : target.pod;
}

// Every replica of this node, as it reports itself (INFO replication), asked at once.
plan::ReplicaReports ask_replicas(Prober& prober, const Options& options, const NodeProbe& self, Deadline deadline) {
  std::vector<std::string> ids;
  std::vector<net::Endpoint> endpoints;
  for (const auto& node : self.nodes) {
    if (node.myself || !node.replica || node.master_id != self.id || node.ip.empty()) continue;
    ids.push_back(node.id);
    endpoints.push_back({node.ip, node.port});
    // TLS checks its certificate against its pod's FQDN: the name it announces, or the FQDN
    // of the bare pod name it announces (--announce-hostname pod).
    const bool bare = !node.hostname.empty() && node.hostname.find('.') == std::string::npos;
    prober.name_endpoint(endpoints.back(), bare ? pod_dns_name(node.hostname, options) : node.hostname);
  }
  plan::ReplicaReports reports;
  const auto answers = prober.probe_all(endpoints, ProbeDepth::full, deadline);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (answers[i]) {
      reports[ids[i]] = answers[i]->replication;
    } else {
      log::debug("handover: replica {} at {} does not answer: {}", ids[i].substr(0, 8), endpoints[i].to_string(),
                 answers[i].error().message);
      reports[ids[i]] = std::nullopt;
    }
  }
  return reports;
}

// CLUSTER FAILOVER, the coordinated form: the replica asks this master for its offset, the
// master pauses its clients, and the replica takes over only once it has applied every write
// acknowledged before the pause. FORCE and TAKEOVER skip that and can lose writes.
Result<void> ask_failover(Prober& prober, const net::Endpoint& replica, Deadline deadline) {
  auto connection = prober.connection(replica, deadline);
  if (!connection) return std::unexpected(connection.error());
  auto reply = (*connection)->command({"CLUSTER", "FAILOVER"}, deadline);
  if (!reply) return std::unexpected(reply.error());
  return {};
}

// Whether `node` serves every slot in `slots`.
bool serves_all(const redis::ClusterNode& node, const std::vector<SlotRange>& slots) {
  for (const auto& range : slots) {
    for (int slot = range.first; slot <= range.last; ++slot) {
      if (!node.serves_slot(slot)) return false;
    }
  }
  return true;
}

enum class Takeover { done, aborted, timed_out, cut_short };

// Reads this node's table until it shows this node a replica of `target` and `target` serving
// `slots` (done), or it is still a master when Redis has given up on the failover (aborted).
Takeover wait_for_takeover(Prober& prober, const net::Endpoint& own, const std::string& target,
                           const std::vector<SlotRange>& slots, Deadline deadline, std::stop_token stop) {
  const Deadline window = deadline.capped(failover_window);
  while (true) {
    auto table = prober.probe(own, ProbeDepth::table_only, deadline);
    bool demoted = false;
    if (table) {
      const redis::ClusterNode& me = table->myself();
      demoted = me.replica && me.master_id == target;
      const redis::ClusterNode* promoted = redis::find_node(table->nodes, target);
      if (demoted && promoted != nullptr && promoted->master && serves_all(*promoted, slots)) return Takeover::done;
    }
    if (deadline.expired()) return Takeover::timed_out;
    // Once this node follows the new master, the failover happened: only the news of the slots
    // is still on its way.
    if (!demoted && window.expired()) return Takeover::aborted;
    if (!sleep_unless_stopped(std::min(poll_interval, deadline.remaining()), stop)) return Takeover::cut_short;
  }
}

}  // namespace

const char* to_string(HandoverOutcome outcome) {
  switch (outcome) {
    case HandoverOutcome::handed_over: return "handed over";
    case HandoverOutcome::not_needed: return "not needed";
    case HandoverOutcome::not_possible: return "not possible";
    case HandoverOutcome::timed_out: return "timed out";
    case HandoverOutcome::cut_short: return "cut short";
  }
  return "unknown";
}

std::string handover_marker_path(int port) {
  const char* tmp = std::getenv("TMPDIR");
  return fmt::format("{}/redis-cluster-init-{}.handover", tmp && *tmp ? tmp : "/tmp", port);
}

HandoverResult hand_over(const Options& options, std::stop_token stop) {
  const auto started = Clock::now();
  const Deadline deadline = Deadline::after(std::chrono::duration_cast<Millis>(options.handover_timeout));
  const net::Endpoint own{options.pod_ip, options.port};
  auto elapsed_ms = [&] { return std::chrono::duration_cast<Millis>(Clock::now() - started).count(); };
  Prober prober(options);
  prober.name_endpoint(own, own_fqdn(options));
  std::set<std::string> tried;
  const Deadline replica_wait = deadline.capped(wait_for_replicas);
  while (tried.size() < max_attempts) {
    if (stop.stop_requested()) return {HandoverOutcome::cut_short, "stopped before a replica took over"};
    auto self = prober.probe(own, ProbeDepth::full, deadline);
    if (!self) return {HandoverOutcome::not_possible, "this node does not answer: " + self.error().message};
    const plan::HandoverChoice choice =
        plan::choose_handover(*self, ask_replicas(prober, options, *self, deadline), tried);
    if (!choice.target) {
      // A replica that joined moments ago reaches its master's table by gossip, a second or two
      // later on a busy machine: a master with replicas expected reads its table again for a
      // while before it concludes it has none.
      if (choice.serves_slots && choice.replicas_listed == 0 && options.replicas > 0 && !replica_wait.expired()) {
        if (!sleep_unless_stopped(poll_interval, stop)) {
          return {HandoverOutcome::cut_short, "stopped before a replica took over"};
        }
        continue;
      }
      return {choice.serves_slots ? HandoverOutcome::not_possible : HandoverOutcome::not_needed, choice.reason};
    }
    const plan::HandoverTarget& target = *choice.target;
    tried.insert(target.node_id);
    log::info("handover: asking {} to take over this node's slots (CLUSTER FAILOVER): {}", pod_or_node(target),
              choice.reason);
    if (auto asked = ask_failover(prober, target.endpoint, deadline); !asked) {
      log::warn("handover: {} refused CLUSTER FAILOVER: {}", pod_or_node(target), asked.error().message);
      continue;
    }
    switch (wait_for_takeover(prober, own, target.node_id, self->myself().slots, deadline, stop)) {
      case Takeover::done:
        return {HandoverOutcome::handed_over,
                fmt::format("{} serves this node's slots and this node is its replica, after {} ms",
                            pod_or_node(target), elapsed_ms())};
      case Takeover::aborted:
        log::warn("handover: {} did not take over within {} s: Redis has aborted its failover", pod_or_node(target),
                  failover_window.count() / 1000);
        continue;
      case Takeover::timed_out:
        return {HandoverOutcome::timed_out, fmt::format("{} had not taken over when --handover-timeout ({} s) passed",
                                                        pod_or_node(target), options.handover_timeout.count())};
      case Takeover::cut_short:
        return {HandoverOutcome::cut_short, fmt::format("stopped while {} was taking over", pod_or_node(target))};
    }
  }
  return {HandoverOutcome::not_possible, fmt::format("{} replica(s) asked, none took over", tried.size())};
}

}  // namespace rci
