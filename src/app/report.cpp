#include "rci/app/report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "rci/util/log.hpp"
#include "rci/util/text.hpp"

namespace rci::report {
namespace {

std::string quoted(std::string_view s) {
  return fmt::format("\"{}\"", log::json_escape(s));
}

std::string slots_text(const std::vector<SlotRange>& slots) {
  std::vector<std::string> parts;
  for (const auto& r : slots)
    parts.push_back(r.first == r.last ? std::to_string(r.first) : fmt::format("{}-{}", r.first, r.last));
  return parts.empty() ? "-" : text::join(parts, ",");
}

std::string role_of(const NodeProbe& probe) {
  const auto& me = probe.myself();
  if (me.replica) return "replica";
  return "master";
}

std::vector<std::string> flags_of(const redis::ClusterNode& node) {
  std::vector<std::string> flags;
  if (node.fail) flags.emplace_back("fail");
  if (node.pfail) flags.emplace_back("pfail");
  if (node.handshake) flags.emplace_back("handshake");
  if (node.noaddr) flags.emplace_back("noaddr");
  if (node.nofailover) flags.emplace_back("nofailover");
  return flags;
}

std::string json_list(const std::vector<std::string>& items) {
  std::vector<std::string> q;
  for (const auto& item : items) q.push_back(quoted(item));
  return "[" + text::join(q, ",") + "]";
}

// How the other answering nodes see this node: any that flag it failing.
std::vector<std::string> seen_failing_by(const Observation& observation, const std::string& id) {
  std::vector<std::string> who;
  for (const auto& pod : observation.pods) {
    if (!pod.answered()) continue;
    const auto* node = redis::find_node(pod.probe->nodes, id);
    if (node != nullptr && !node->myself && (node->fail || node->pfail)) who.push_back(pod.pod.name);
  }
  return who;
}

}  // namespace

std::string discover_text(const Topology& topology, const Observation& observation) {
  const auto& discovery = observation.discovery;
  std::string out = discovery.method == DiscoveryMethod::srv
                        ? fmt::format("discovery: SRV records of {}\n", topology.srv_name)
                        : "discovery: each pod's own name\n";
  if (!discovery.note.empty()) out += fmt::format("  because {}\n", discovery.note);
  // A sample: a few hundred pods of another layout would bury the table.
  constexpr size_t listed_unexpected = 16;
  for (size_t i = 0; i < discovery.unexpected.size() && i < listed_unexpected; ++i) {
    out += fmt::format("  also listed, no expected pod: {}\n", discovery.unexpected[i]);
  }
  if (discovery.unexpected.size() > listed_unexpected) {
    out += fmt::format("  ... and {} more listed that are no expected pod\n",
                       discovery.unexpected.size() - listed_unexpected);
  }
  out += fmt::format("{:<24} {:<16} {}\n", "POD", "ADDRESS", "ANSWERS");
  for (const auto& pod : observation.pods) {
    std::string address = pod.endpoint ? pod.endpoint->ip : "-";
    std::string answers;
    if (pod.answered()) {
      const auto& probe = *pod.probe;
      answers = probe.cluster_enabled ? fmt::format("yes: node {}, {}, {} known nodes", probe.id.substr(0, 8),
                                                    role_of(probe), probe.nodes.size())
                                      : "yes, but cluster support is disabled";
      if (pod.identity != Identity::verified)
        answers += fmt::format(" ({}: {})", to_string(pod.identity), pod.why_not());
    } else {
      answers = "no: " + pod.why_not();
    }
    out += fmt::format("{:<24} {:<16} {}\n", pod.pod.name, address, answers);
    out += fmt::format("{:<24} {}\n", "", pod.pod.dns_name);
  }
  return out;
}

std::string discover_json(const Topology& topology, const Observation& observation) {
  std::vector<std::string> items;
  for (const auto& pod : observation.pods) {
    std::string item = fmt::format(
        R"({{"pod":{},"dns_name":{},"shard":{},"ordinal":{},"address":{},"port":{},"answers":{})", quoted(pod.pod.name),
        quoted(pod.pod.dns_name), pod.pod.shard, pod.pod.ordinal, pod.endpoint ? quoted(pod.endpoint->ip) : "null",
        pod.endpoint ? std::to_string(pod.endpoint->port) : "null", pod.answered() ? "true" : "false");
    if (pod.answered()) {
      item += fmt::format(R"(,"node_id":{},"announces":{},"identity":{},"provenance":{})", quoted(pod.probe->id),
                          quoted(pod.announced), quoted(to_string(pod.identity)), quoted(to_string(pod.provenance)));
    } else {
      item += fmt::format(R"(,"error":{})", quoted(pod.why_not()));
    }
    items.push_back(item + "}");
  }
  const auto& discovery = observation.discovery;
  const std::string method =
      fmt::format(R"({{"method":{},"srv_name":{},"note":{},"unexpected":{}}})", quoted(to_string(discovery.method)),
                  quoted(topology.srv_name), quoted(discovery.note), json_list(discovery.unexpected));
  return "{\"discovery\":" + method + ",\"pods\":[" + text::join(items, ",") + "]}\n";
}

std::string status_text(const Topology& topology, const Observation& observation) {
  std::string out;
  // The layout's shards, then a surplus pod's own (scale-in), which only it observes.
  int last_shard = topology.shards - 1;
  for (const auto& pod : observation.pods) last_shard = std::max(last_shard, pod.pod.shard);
  for (int shard = 0; shard <= last_shard; ++shard) {
    if (shard < topology.shards) {
      SlotRange range = shard_slot_range(shard, topology.shards);
      out += fmt::format("shard {} (slots {}-{} at creation)\n", shard, range.first, range.last);
    } else {
      out +=
          fmt::format("shard {} (surplus: not among the {} shards; its slots move to them)\n", shard, topology.shards);
    }
    for (const auto& pod : observation.pods) {
      if (pod.pod.shard != shard) continue;
      std::string address = pod.endpoint ? pod.endpoint->to_string() : "-";
      if (!pod.answered()) {
        out += fmt::format("  {:<22} {:<22} down: {}\n", pod.pod.name, address, pod.why_not());
        continue;
      }
      const auto& probe = *pod.probe;
      if (!probe.cluster_enabled) {
        out += fmt::format("  {:<22} {:<22} cluster support disabled\n", pod.pod.name, address);
        continue;
      }
      const auto& me = probe.myself();
      std::string link;
      if (me.replica) {
        link =
            fmt::format("of {} link {}", me.master_id.substr(0, 8), probe.replication.master_link_up ? "up" : "down");
      } else {
        link = fmt::format("{} replicas", probe.replication.connected_replicas);
      }
      auto flags = flags_of(me);
      for (const auto& who : seen_failing_by(observation, me.id)) flags.push_back("failing-for:" + who);
      out += fmt::format("  {:<22} {:<22} {:<8} {:<12} node {} epoch {} state {} keys {} {}{}\n", pod.pod.name, address,
                         role_of(probe), slots_text(me.slots), me.id.substr(0, 8), me.config_epoch,
                         probe.cluster.state_ok ? "ok" : "fail", probe.keys, link,
                         flags.empty() ? "" : " [" + text::join(flags, ",") + "]");
    }
  }
  return out;
}

std::string status_json(const Topology& topology, const Observation& observation) {
  std::vector<std::string> items;
  for (const auto& pod : observation.pods) {
    std::string item =
        fmt::format(R"({{"pod":{},"shard":{},"ordinal":{},"address":{},"port":{},"answers":{})", quoted(pod.pod.name),
                    pod.pod.shard, pod.pod.ordinal, pod.endpoint ? quoted(pod.endpoint->ip) : "null",
                    pod.endpoint ? pod.endpoint->port : topology.port, pod.answered() ? "true" : "false");
    if (!pod.answered()) {
      item += fmt::format(R"(,"error":{}}})", quoted(pod.why_not()));
      items.push_back(item);
      continue;
    }
    const auto& probe = *pod.probe;
    const auto& me = probe.myself();
    std::vector<std::string> slots;
    for (const auto& r : me.slots) slots.push_back(fmt::format("{}-{}", r.first, r.last));
    item += fmt::format(
        R"(,"cluster_enabled":{},"node_id":{},"role":{},"slots":{},"master_id":{},"master_link_up":{},)"
        R"("cluster_state":{},"config_epoch":{},"known_nodes":{},"keys":{},"flags":{},"failing_for":{}}})",
        probe.cluster_enabled ? "true" : "false", quoted(probe.id), quoted(role_of(probe)), json_list(slots),
        me.replica ? quoted(me.master_id) : "null", probe.replication.master_link_up ? "true" : "false",
        quoted(probe.cluster.state_ok ? "ok" : "fail"), me.config_epoch, probe.nodes.size(), probe.keys,
        json_list(flags_of(me)), json_list(seen_failing_by(observation, me.id)));
    items.push_back(item);
  }
  return fmt::format("{{\"shards\":{},\"replicas\":{},\"pods\":[{}]}}\n", topology.shards, topology.replicas,
                     text::join(items, ","));
}

std::string plan_text(const plan::Plan& plan) {
  std::string out = fmt::format("situation: {}\nrole: {}\noutcome: {}\n", plan.situation, plan::to_string(plan.role),
                                plan::to_string(plan.outcome));
  if (!plan.actions.empty()) out += "actions:\n";
  for (size_t i = 0; i < plan.actions.size(); ++i) {
    out += fmt::format("  {}. {}\n     because {}\n", i + 1, plan::describe(plan.actions[i]), plan.actions[i].reason);
  }
  if (!plan.waiting_for.empty()) out += "waiting for:\n";
  for (const auto& line : plan.waiting_for) out += fmt::format("  - {}\n", line);
  if (!plan.warnings.empty()) out += "warnings:\n";
  for (const auto& line : plan.warnings) out += fmt::format("  ! {}\n", line);
  return out;
}

std::string plan_json(const plan::Plan& plan, const std::string& layout) {
  std::vector<std::string> actions;
  for (const auto& action : plan.actions) {
    actions.push_back(fmt::format(R"({{"kind":{},"command":{},"reason":{}}})", quoted(plan::to_string(action.step)),
                                  quoted(plan::describe(action)), quoted(action.reason)));
  }
  return fmt::format(R"({{"situation":{},"role":{},"outcome":{},"actions":[{}],"waiting_for":{},"warnings":{}{}}})",
                     quoted(plan.situation), quoted(plan::to_string(plan.role)), quoted(plan::to_string(plan.outcome)),
                     text::join(actions, ","), json_list(plan.waiting_for), json_list(plan.warnings),
                     layout.empty() ? "" : ",\"layout\":" + layout) +
         "\n";
}

namespace {

std::string percent(long long part, long long whole) {
  return whole > 0 ? fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole)) : "-";
}

// The keys the moves carry, when every source answered.
std::optional<long long> keys_moved(const LayoutKeys& keys) {
  long long sum = 0;
  for (const auto& count : keys.per_move) {
    if (!count) return std::nullopt;
    sum += *count;
  }
  return sum;
}

}  // namespace

std::string layout_text(const plan::LayoutChange& change, const LayoutKeys& keys) {
  if (change.slots_to_move == 0) return fmt::format("layout of {} shards: holds, no slot to move\n", change.shards);
  std::string out = fmt::format("layout of {} shards: {} of {} slots to move ({}); ", change.shards,
                                change.slots_to_move, cluster_slots, percent(change.slots_to_move, cluster_slots));
  out += change.minimum_slots == change.slots_to_move
             ? "the minimum for these shard sizes"
             : fmt::format("the minimum for these shard sizes is {}", change.minimum_slots);
  out += fmt::format("; a re-split into contiguous ranges would move {}\n", change.resplit_slots);
  const auto moved = keys_moved(keys);
  if (moved && keys.total) {
    out += fmt::format("keys: {} of {} to move ({})\n", *moved, *keys.total, percent(*moved, *keys.total));
  }
  out += "moves:\n";
  for (size_t i = 0; i < change.moves.size(); ++i) {
    const auto& [move, source] = change.moves[i];
    const auto& count = i < keys.per_move.size() ? keys.per_move[i] : std::nullopt;
    out += fmt::format("  shard {} -> shard {}: slots {}-{} ({} slots, {}) from node {} (pod {})\n", move.from, move.to,
                       move.range.first, move.range.last, move.range.size(),
                       count ? fmt::format("{} keys", *count) : "keys not counted", source.node_id.substr(0, 8),
                       source.pod);
  }
  return out;
}

std::string layout_json(const plan::LayoutChange& change, const LayoutKeys& keys) {
  std::vector<std::string> moves;
  for (size_t i = 0; i < change.moves.size(); ++i) {
    const auto& [move, source] = change.moves[i];
    const auto& count = i < keys.per_move.size() ? keys.per_move[i] : std::nullopt;
    moves.push_back(fmt::format(R"({{"from_shard":{},"to_shard":{},"first":{},"last":{},"keys":{},"source_pod":{}}})",
                                move.from, move.to, move.range.first, move.range.last,
                                count ? std::to_string(*count) : "null", quoted(source.pod)));
  }
  const auto moved = keys_moved(keys);
  return fmt::format(
      R"({{"shards":{},"slots_to_move":{},"minimum_slots":{},"resplit_slots":{},"keys_to_move":{},"keys":{},"moves":[{}]}})",
      change.shards, change.slots_to_move, change.minimum_slots, change.resplit_slots,
      moved ? std::to_string(*moved) : "null", keys.total ? std::to_string(*keys.total) : "null",
      text::join(moves, ","));
}

}  // namespace rci::report
