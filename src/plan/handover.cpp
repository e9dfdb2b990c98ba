#include "rci/plan/handover.hpp"

#include <fmt/format.h>

#include <limits>
#include <string_view>
#include <vector>

#include "rci/config/pod_name.hpp"

#include "rci/util/text.hpp"
#include "situation.hpp"

namespace rci::plan {
namespace {

std::string short_node(const redis::ClusterNode& node) {
  const std::string id = short_id(node.id);
  return node.hostname.empty() ? fmt::format("node {}", id) : fmt::format("node {} ({})", id, node.hostname);
}

// Why `replica` cannot take over now, or nullopt when it can. `master_offset`: this master's
// replication offset, read before the replica was asked.
std::optional<std::string> unhealthy(const redis::ClusterNode& replica,
                                     const std::optional<redis::ReplicationInfo>* report, long long master_offset,
                                     long long max_silence_seconds) {
  if (replica.fail || replica.pfail) return "failing";
  if (!replica.link_connected) return "cluster bus link down";
  if (report == nullptr || !report->has_value()) return "does not answer";
  const redis::ReplicationInfo& info = **report;
  if (info.is_master) return "answers as a master";
  if (!info.master_link_up) return "replication link down";
  // A master with no writes to send pings its replicas only every repl-ping-replica-period
  // (10 s): silence alone is no sign of a dead link. Silence and offsets this master has and
  // the replica has not are.
  if (info.last_io_seconds > max_silence_seconds && info.offset < master_offset) {
    return fmt::format("last heard from this master {} s ago, {} bytes of its stream behind", info.last_io_seconds,
                       master_offset - info.offset);
  }
  return std::nullopt;
}

// The StatefulSet ordinal of the pod a node announces; nameless nodes (Redis 6.2) come last.
int announced_ordinal(const redis::ClusterNode& node) {
  const std::string_view hostname = node.hostname;
  const auto name = parse_pod_name(hostname.substr(0, hostname.find('.')));
  return name ? name->ordinal : std::numeric_limits<int>::max();
}

// Whether `candidate` (with `offset` applied) is a better target than `best`.
bool better_target(const redis::ClusterNode& candidate, long long offset, const std::optional<HandoverTarget>& best) {
  if (!best) return true;
  if (candidate.id == best->node_id) return false;
  const int ordinal = announced_ordinal(candidate);
  if (ordinal != best->ordinal) return ordinal < best->ordinal;
  if (offset != best->offset) return offset > best->offset;
  return candidate.id < best->node_id;
}

}  // namespace

HandoverChoice choose_handover(const NodeProbe& self, const ReplicaReports& replicas,
                               const std::set<std::string>& tried, long long max_silence_seconds) {
  const redis::ClusterNode& me = self.myself();
  if (!me.master || me.slots.empty()) {
    return {.target = std::nullopt,
            .reason = "this node serves no slots: nothing to hand over",
            .replicas_listed = 0,
            .serves_slots = false};
  }
  std::optional<HandoverTarget> best;
  std::vector<std::string> refused;
  int listed = 0;
  for (const auto& node : self.nodes) {
    if (node.myself || !node.replica || node.master_id != me.id) continue;
    ++listed;
    if (tried.contains(node.id)) {
      refused.push_back(fmt::format("{}: asked already, did not take over", short_node(node)));
      continue;
    }
    auto found = replicas.find(node.id);
    const auto* report = found == replicas.end() ? nullptr : &found->second;
    if (auto why = unhealthy(node, report, self.replication.offset, max_silence_seconds)) {
      refused.push_back(fmt::format("{}: {}", short_node(node), *why));
      continue;
    }
    const long long offset = (*report)->offset;
    if (better_target(node, offset, best)) {
      best = HandoverTarget{node.id, node.hostname, net::Endpoint{node.ip, node.port}, offset, announced_ordinal(node)};
    }
  }
  if (!best) {
    return {.target = std::nullopt,
            .reason = refused.empty() ? "no replica of this node is known"
                                      : fmt::format("no healthy replica ({})", text::join(refused, "; ")),
            .replicas_listed = listed,
            .serves_slots = true};
  }
  std::string reason = fmt::format("its healthy replica of the lowest ordinal: node {}{} at {}, offset {} of {}",
                                   short_id(best->node_id), best->pod.empty() ? "" : " (" + best->pod + ")",
                                   best->endpoint.to_string(), best->offset, self.replication.offset);
  if (!refused.empty()) reason += fmt::format("; not {}", text::join(refused, "; "));
  return {.target = std::move(best), .reason = std::move(reason), .replicas_listed = listed, .serves_slots = true};
}

}  // namespace rci::plan
