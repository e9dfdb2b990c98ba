#include "rci/observe/observer.hpp"

#include <fmt/format.h>

#include <set>
#include <thread>

#include "rci/util/log.hpp"

namespace rci {

const redis::ClusterNode& NodeProbe::myself() const {
  if (const auto* me = redis::find_myself(nodes)) return *me;
  static const redis::ClusterNode none;
  return none;
}

std::string PodObservation::why_not() const {
  if (!address) return address.error().message;
  if (!probe) return probe.error().message;
  return {};
}

Result<NodeProbe> make_node_probe(const std::string& cluster_nodes, const std::string& cluster_info,
                                  const std::string& replication_info, long long keys) {
  NodeProbe probe;
  auto nodes = redis::parse_cluster_nodes(cluster_nodes);
  if (!nodes) return std::unexpected(nodes.error());
  probe.nodes = std::move(*nodes);
  const auto* me = redis::find_myself(probe.nodes);
  if (me == nullptr) return fail(ErrorKind::protocol, "CLUSTER NODES has no 'myself' line");
  probe.id = me->id;
  auto info = redis::parse_cluster_info(cluster_info);
  if (!info) return std::unexpected(info.error());
  probe.cluster = *info;
  auto replication = redis::parse_replication_info(replication_info);
  if (!replication) return std::unexpected(replication.error());
  probe.replication = *replication;
  probe.keys = keys;
  return probe;
}

Observer::Observer(const Options& options, const Topology& topology)
    : options_(options), topology_(topology), resolver_(options.dns_server) {}

Result<std::shared_ptr<redis::Connection>> Observer::connection(const std::string& address) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = connections_.find(address); it != connections_.end() && it->second->is_open()) {
      return it->second;
    }
  }
  redis::Timeouts timeouts{options_.connect_timeout, options_.command_timeout};
  auto opened = redis::Connection::open(net::Endpoint{address, options_.port}, options_.credentials, timeouts);
  if (!opened) return std::unexpected(opened.error());
  auto shared = std::make_shared<redis::Connection>(std::move(*opened));
  std::lock_guard lock(mutex_);
  connections_[address] = shared;
  return shared;
}

void Observer::drop_connection(const std::string& address) {
  std::lock_guard lock(mutex_);
  connections_.erase(address);
}

Result<NodeProbe> Observer::probe(const std::string& address, Deadline /*deadline*/) {
  auto conn = connection(address);
  if (!conn) return std::unexpected(conn.error());
  auto replies = (*conn)->pipeline({{"CLUSTER", "NODES"}, {"CLUSTER", "INFO"}, {"INFO", "replication"}, {"DBSIZE"}});
  if (!replies) {
    drop_connection(address);
    return std::unexpected(replies.error());
  }
  const auto& r = *replies;
  std::string where = net::Endpoint{address, options_.port}.to_string();
  for (const auto& reply : r) {
    if (!reply.is_error()) continue;
    if (reply.str.find("cluster support disabled") != std::string::npos) {
      NodeProbe disabled;
      disabled.cluster_enabled = false;
      return disabled;
    }
    ErrorKind kind = reply.str.starts_with("NOAUTH") || reply.str.starts_with("WRONGPASS") ? ErrorKind::auth
                                                                                           : ErrorKind::reply;
    return fail(kind, fmt::format("{}: {}", where, reply.str));
  }
  if (r[0].type != redis::Reply::Type::string || r[1].type != redis::Reply::Type::string ||
      r[2].type != redis::Reply::Type::string || r[3].type != redis::Reply::Type::integer) {
    return fail(ErrorKind::protocol, fmt::format("{}: unexpected reply types to the probe commands", where));
  }
  auto probe = make_node_probe(r[0].str, r[1].str, r[2].str, r[3].integer);
  if (!probe) return fail(probe.error().kind, fmt::format("{}: {}", where, probe.error().message));
  return probe;
}

Observation Observer::observe(Deadline deadline) {
  Observation observation;
  const auto self_name = format_pod_name(options_.pod.prefix, options_.pod.shard, options_.pod.ordinal);

  std::vector<std::string> names;
  for (const auto& pod : topology_.pods) names.push_back(pod.dns_name);
  auto resolutions = resolver_.resolve_all(names, deadline.capped(Millis(3000)));

  for (size_t i = 0; i < topology_.pods.size(); ++i) {
    PodObservation pod_observation;
    pod_observation.pod = topology_.pods[i];
    // This pod's own address is known without DNS; its record may not be published yet.
    if (pod_observation.pod.name == self_name && !options_.pod_ip.empty()) {
      pod_observation.address = options_.pod_ip;
    } else {
      pod_observation.address = std::move(resolutions[i].address);
    }
    observation.pods.push_back(std::move(pod_observation));
  }

  // Probe every distinct address once, all at the same time: one thread per address keeps
  // each connection used by one thread, and a round costs one round trip, not N.
  std::set<std::string> addresses;
  for (const auto& pod : observation.pods) {
    if (pod.address) addresses.insert(*pod.address);
  }
  std::vector<std::string> targets(addresses.begin(), addresses.end());
  std::vector<Result<NodeProbe>> probes(targets.size(), fail(ErrorKind::internal, "not probed"));
  {
    std::vector<std::jthread> workers;
    workers.reserve(targets.size());
    for (size_t i = 0; i < targets.size(); ++i) {
      workers.emplace_back([this, &targets, &probes, i, deadline] { probes[i] = probe(targets[i], deadline); });
    }
  }
  for (auto& pod : observation.pods) {
    if (!pod.address) {
      pod.probe = std::unexpected(pod.address.error());
      continue;
    }
    auto it = std::lower_bound(targets.begin(), targets.end(), *pod.address);
    pod.probe = probes[static_cast<size_t>(it - targets.begin())];
    if (!pod.probe) {
      pod.probe.error().message = fmt::format("{}: {}", pod.pod.name, pod.probe.error().message);
    }
  }
  return observation;
}

}  // namespace rci
