#include "rci/plan/start_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "rci/util/text.hpp"

namespace rci::plan {

std::optional<std::string> empty_start_hazard(const Observation& observation, const std::string& address, int port,
                                              int shard) {
  // Pods of this shard (its replicas) that could not be asked in time and that no answering
  // table shows (by the pod name each node announces): a timeout is no evidence that they do
  // not replicate this address. A pod some table shows is judged by that table, below.
  std::vector<std::string> announced;
  for (const auto& pod : observation.pods) {
    if (!pod.answered()) continue;
    for (const auto& node : pod.probe->nodes) {
      if (!node.hostname.empty()) announced.push_back(node.hostname);
    }
  }
  auto shown = [&](const ExpectedPod& pod) {
    return std::any_of(announced.begin(), announced.end(),
                       [&](const std::string& name) { return announces(name, pod); });
  };
  std::vector<std::string> unknown;
  for (const auto& pod : observation.pods) {
    if (pod.pod.shard != shard || pod.answered() || shown(pod.pod)) continue;
    const Error& why = pod.endpoint ? pod.probe.error() : pod.endpoint.error();
    if (why.kind == ErrorKind::timeout) unknown.push_back(pod.pod.name);
  }
  // The node IDs of the pods that answered, to name a replica by its pod where possible.
  std::map<std::string, std::string> pod_of_node;
  for (const auto& pod : observation.pods) {
    if (pod.answered() && pod.provenance != Provenance::local_table) pod_of_node[pod.probe->id] = pod.pod.name;
  }
  std::vector<std::string> replicas;  // who would copy an empty node, in words, one per node
  std::set<std::string> counted;      // their node IDs
  bool some_down = false;
  auto add = [&](const std::string& node_id, std::string who) {
    if (counted.insert(node_id).second) replicas.push_back(std::move(who));
  };
  for (const auto& pod : observation.pods) {
    if (!pod.answered() || pod.provenance == Provenance::local_table) continue;
    const NodeProbe& probe = *pod.probe;
    // Its own replication link, when the probe asked for it: the most direct evidence.
    if (!probe.table_only && !probe.replication.is_master && probe.replication.master_host == address &&
        probe.replication.master_port == port) {
      add(probe.id, "pod " + pod.pod.name);
    }
    // Every replica in its table whose master sits at this address: the pod's own node; a
    // peer that did not answer this round but is not known to be down (its link would connect
    // as soon as a server listens there); and, while that master still holds slots (no
    // failover yet), any replica of it, even one that is down: it holds the shard's data and
    // would copy the empty node on its return.
    for (const auto& node : probe.nodes) {
      if (!node.replica || node.master_id.empty()) continue;
      const redis::ClusterNode* master = redis::find_node(probe.nodes, node.master_id);
      if (master == nullptr || master->ip != address || master->port != port) continue;
      if (auto answered = pod_of_node.find(node.id); answered != pod_of_node.end()) {
        add(node.id, "pod " + answered->second);
        continue;
      }
      const bool down = node.fail || node.pfail;
      if (down && master->slots.empty()) continue;
      some_down = some_down || down;
      add(node.id,
          fmt::format("node {} at {}:{}{}", node.id.substr(0, 8), node.ip, node.port, down ? " (down now)" : ""));
    }
  }
  if (replicas.empty() && unknown.empty()) return std::nullopt;
  if (replicas.empty()) {
    return fmt::format(
        "{} of this pod's shard could not be asked in time (timeout), so whether {} this pod's address {}:{} "
        "is unknown; an empty redis-server there would be copied by a replica that does",
        text::join(unknown, ", "), unknown.size() == 1 ? "it replicates" : "they replicate", address, port);
  }
  std::string text = fmt::format(
      "{} still replicate{} this pod's address {}:{}; an empty redis-server there now would make them drop their "
      "data and copy its empty dataset, so redis-server starts once Redis has failed the old master over (a replica "
      "promoted, the others following it)",
      text::join(replicas, ", "), replicas.size() == 1 ? "s" : "", address, port);
  if (some_down) {
    text +=
        ". A replica that is down holds the shard's data until it returns; if it never will, that data is gone: "
        "CLUSTER FORGET it and the old master on every node, or restore this pod's volume";
  }
  return text;
}

}  // namespace rci::plan
