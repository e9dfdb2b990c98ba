#include "rci/topology.hpp"

#include <fmt/format.h>

#include <cmath>

#include "rci/config/pod_name.hpp"
#include "rci/util/text.hpp"

namespace rci {

SlotRange shard_slot_range(int shard, int shards) {
  // The same split as `redis-cli --cluster create`, so a cluster made by either tool looks
  // the same (3 shards: 0-5460, 5461-10922, 10923-16383).
  // redis-cli computes in float; double would drift by a slot from 78 shards on.
  const float per_shard = static_cast<float>(cluster_slots) / static_cast<float>(shards);
  float cursor = 0;
  int first = 0;
  for (int i = 0;; ++i) {
    int last = static_cast<int>(std::lround(cursor + per_shard - 1));
    if (last > cluster_slots - 1 || i == shards - 1) last = cluster_slots - 1;
    if (last < first) last = first;
    if (i == shard) return SlotRange{first, last};
    first = last + 1;
    cursor += per_shard;
  }
}

std::string pod_dns_name(const std::string& pod, const Options& options) {
  return fmt::format("{}.{}.{}.svc.{}", pod, options.service, options.namespace_name, options.cluster_domain);
}

std::string own_fqdn(const Options& options) {
  return pod_dns_name(options.pod_name, options);
}

std::string announced_hostname(const Options& options) {
  return options.announced_name == AnnouncedName::pod ? options.pod_name : own_fqdn(options);
}

bool announces(std::string_view hostname, const ExpectedPod& pod) {
  if (hostname.ends_with('.')) hostname.remove_suffix(1);
  return !hostname.empty() &&
         (text::equal_ignoring_case(hostname, pod.dns_name) || text::equal_ignoring_case(hostname, pod.name));
}

std::optional<ExpectedPod> pod_of_naming(const Topology& topology, std::string_view hostname) {
  if (topology.pods.empty()) return std::nullopt;
  const std::string_view label = hostname.substr(0, hostname.find('.'));
  const auto name = parse_pod_name(label);
  if (!name || name->prefix != topology.prefix) return std::nullopt;
  // The same service, namespace and domain as every expected pod's FQDN.
  const ExpectedPod& first = topology.pods.front();
  const std::string suffix = first.dns_name.substr(first.name.size());
  ExpectedPod pod{std::string(label), std::string(label) + suffix, name->shard, name->ordinal};
  if (!announces(hostname, pod)) return std::nullopt;
  return pod;
}

std::optional<ExpectedPod> departed_pod(const Topology& topology, std::string_view hostname) {
  auto pod = pod_of_naming(topology, hostname);
  if (!pod || (pod->shard < topology.shards && pod->ordinal <= topology.replicas)) return std::nullopt;
  return pod;
}

std::optional<ExpectedPod> surplus_pod(const Topology& topology, std::string_view hostname) {
  auto pod = pod_of_naming(topology, hostname);
  if (!pod || pod->shard < topology.shards) return std::nullopt;
  return pod;
}

std::string shard_statefulset(const std::string& prefix, int shard) {
  return fmt::format("{}-shard{}", prefix, shard);
}

std::string service_srv_name(const Options& options) {
  return fmt::format("_{}._tcp.{}.{}.svc.{}", options.port_name, options.service, options.namespace_name,
                     options.cluster_domain);
}

Topology make_topology(const Options& options) {
  Topology topology;
  topology.prefix = options.pod.prefix;
  topology.shards = options.shards;
  topology.replicas = options.replicas;
  topology.port = options.port;
  topology.bus_port = options.bus_port;
  topology.srv_name = service_srv_name(options);
  for (int shard = 0; shard < options.shards; ++shard) {
    for (int ordinal = 0; ordinal <= options.replicas; ++ordinal) {
      std::string name = format_pod_name(options.pod.prefix, shard, ordinal);
      topology.pods.push_back(ExpectedPod{name, pod_dns_name(name, options), shard, ordinal});
    }
  }
  topology.surplus = options.pod.shard >= options.shards;
  if (topology.surplus) {
    topology.pods.push_back(
        ExpectedPod{options.pod_name, pod_dns_name(options.pod_name, options), options.pod.shard, options.pod.ordinal});
    topology.self_index = static_cast<int>(topology.pods.size()) - 1;
  } else {
    topology.self_index = topology.index_of(options.pod.shard, options.pod.ordinal);
  }
  return topology;
}

}  // namespace rci
