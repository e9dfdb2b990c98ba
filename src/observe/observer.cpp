#include "rci/observe/observer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "rci/util/log.hpp"

namespace rci {

Observer::Observer(const Options& options, const Topology& topology)
    : options_(options),
      topology_(topology),
      resolver_(options.dns_server),
      discovery_(make_discovery(options, topology, resolver_)),
      prober_(options) {}

std::set<net::Endpoint> remember_endpoints(std::vector<std::optional<net::Endpoint>>& last,
                                           const Observation& observation, const net::Endpoint& own) {
  if (last.size() != observation.pods.size()) last.assign(observation.pods.size(), std::nullopt);
  std::set<net::Endpoint> kept = {own};
  for (size_t i = 0; i < observation.pods.size(); ++i) {
    if (observation.pods[i].endpoint) last[i] = *observation.pods[i].endpoint;
    if (last[i]) kept.insert(*last[i]);
  }
  return kept;
}

Millis dns_wait(Millis budget, Millis remaining, Millis probe_time) {
  constexpr Millis least{100};
  return std::min(budget, std::max(least, remaining - probe_time));
}

std::vector<bool> select_probes(const Topology& topology, int self_index, const NodeProbe* self) {
  const int pod_count = topology.pod_count();
  std::vector<bool> wanted(pod_count, true);
  wanted[self_index] = false;  // this pod's node is asked in full before the selection
  if (self == nullptr || !self->cluster_enabled) return wanted;  // nothing known: ask everyone
  const auto& me = self->myself();
  const auto& self_pod = topology.pods[self_index];
  // An ordinal-0 pod that may have to create its shard needs a quorum's view of every table.
  if (self_pod.ordinal == 0 && me.master && me.slots.empty()) return wanted;

  // Which shards' slot ranges this node's table already assigns in full.
  std::vector<bool> shard_covered(topology.shards, false);
  for (int shard = 0; shard < topology.shards; ++shard) {
    SlotRange range = shard_slot_range(shard, topology.shards);
    int covered = 0;
    for (const auto& node : self->nodes) {
      if (!node.master || node.handshake) continue;
      for (const auto& owned : node.slots) {
        int first = std::max(owned.first, range.first), last = std::min(owned.last, range.last);
        if (first <= last) covered += last - first + 1;
      }
    }
    shard_covered[shard] = covered == range.size();
  }
  // A node with its role (a master serving slots, or a replica) MEETs the owners of the
  // slots it has not learned (see plan_meets); before that, other shards do not matter.
  const bool has_role = (me.master && !me.slots.empty()) || me.replica;
  for (int i = 0; i < pod_count; ++i) {
    const auto& pod = topology.pods[i];
    if (i == self_index) continue;
    if (pod.shard == self_pod.shard) {
      wanted[i] = true;  // its master and fellow replicas decide this pod's role
    } else {
      // The shards whose slots its node has not learned: their ordinal-0 pod (the master at
      // creation) is asked, so it can be MEETed and hand over its slot claims.
      wanted[i] = has_role && !shard_covered[pod.shard] && pod.ordinal == 0;
    }
  }
  return wanted;
}

void Observer::report_discovery_change(const DiscoveryReport& report) {
  std::string how = report.method == DiscoveryMethod::srv ? fmt::format("SRV records of {}", topology_.srv_name)
                                                          : "each pod's own name";
  if (!report.note.empty()) how += fmt::format(" ({})", report.note);
  if (how == last_discovery_) return;
  log::info("discovery: the pods' addresses come from {}", how);
  last_discovery_ = std::move(how);
}

Observation Observer::observe(Deadline deadline, Scope scope) {
  const size_t pod_count = topology_.pods.size();
  const auto self_name = format_pod_name(options_.pod.prefix, options_.pod.shard, options_.pod.ordinal);
  std::optional<size_t> self_index;
  for (size_t i = 0; i < pod_count; ++i) {
    if (topology_.pods[i].name == self_name && !options_.pod_ip.empty()) self_index = i;
  }
  if (last_probes_.size() != pod_count) last_probes_.assign(pod_count, std::nullopt);
  const auto started = Clock::now();

  const bool bootstrap_scope = scope == Scope::changing_peers && self_index.has_value();
  const bool narrow = bootstrap_scope && Clock::now() - last_full_round_ < full_refresh_interval;
  if (!narrow) last_full_round_ = Clock::now();

  // In the bootstrap loop this node is asked first (its address needs no DNS): its table
  // decides which peers matter this round.
  std::optional<Result<NodeProbe>> self_probe;
  std::vector<bool> wanted(pod_count, true);
  std::vector<redis::ClusterNode> local_table;
  if (bootstrap_scope) {
    self_probe = prober_.probe(own_endpoint(), ProbeDepth::full, deadline);
    if (*self_probe && (*self_probe)->cluster_enabled) local_table = (*self_probe)->nodes;
    if (narrow) {
      wanted = select_probes(topology_, static_cast<int>(*self_index), *self_probe ? &**self_probe : nullptr);
    }
    wanted[*self_index] = false;
  }

  // Only the names of pods to be asked are resolved; the others keep their last answer.
  // A bootstrap round waits at most 750 ms for DNS once it has answers in hand: names still
  // unanswered are asked again next round while the answers in hand (reused for 5 s) are used
  // now, so a busy DNS server delays a decision by a round, not by its retries. Before the
  // first answer it waits up to 15 s (nothing can be decided without addresses, and cutting a
  // first SRV query over TCP short every round would never let it finish); other scopes wait
  // up to 3 s.
  const Millis dns_budget = !bootstrap_scope        ? std::clamp(deadline.remaining(), Millis(1000), Millis(3000))
                            : discovery_->settled() ? Millis(750)
                                                    : Millis(15000);
  const Deadline dns_deadline =
      Deadline::after(dns_wait(dns_budget, deadline.remaining(), options_.connect_timeout + options_.command_timeout));
  Located located = discovery_->locate(wanted, dns_deadline);
  const auto resolved = Clock::now();

  report_discovery_change(located.report);
  Observation observation;
  observation.discovery = std::move(located.report);
  for (size_t i = 0; i < pod_count; ++i) {
    PodObservation pod;
    pod.pod = topology_.pods[i];
    // This pod's own endpoint is known without DNS; its record may not be published yet.
    pod.endpoint = self_index == i ? Result<net::Endpoint>(own_endpoint()) : std::move(located.endpoints[i]);
    if (self_index == i && self_probe) pod.probe = std::move(*self_probe);
    observation.pods.push_back(std::move(pod));
  }

  auto connected_entry_at = [&](const net::Endpoint& endpoint) -> const redis::ClusterNode* {
    for (const auto& node : local_table) {
      if (!node.myself && node.ip == endpoint.ip && node.port == endpoint.port && node.link_connected &&
          !node.handshake && !node.fail && !node.pfail) {
        return &node;
      }
    }
    return nullptr;
  };

  // Probe every wanted distinct endpoint once, all at the same time.
  std::set<net::Endpoint> endpoints;
  for (size_t i = 0; i < pod_count; ++i) {
    auto& pod = observation.pods[i];
    if (self_index == i && bootstrap_scope) continue;  // asked above
    if (!pod.endpoint) continue;
    if (!wanted[i]) {
      // Not worth asking this round: this node's view of it, or its previous answer.
      if (const auto* entry = connected_entry_at(*pod.endpoint)) {
        pod.probe = probe_from_local_table(*entry);
        pod.provenance = Provenance::local_table;
      } else if (last_probes_[i]) {
        pod.probe = *last_probes_[i];
        pod.provenance = Provenance::reused;
      } else {
        pod.probe = fail(ErrorKind::internal, "not asked this round");
      }
      continue;
    }
    endpoints.insert(*pod.endpoint);
  }
  std::vector<net::Endpoint> targets(endpoints.begin(), endpoints.end());
  // Peers' own CLUSTER NODES is all the bootstrap loop reads of them.
  auto probes = prober_.probe_all(targets, bootstrap_scope ? ProbeDepth::table_only : ProbeDepth::full, deadline);
  for (auto& pod : observation.pods) {
    if (!pod.endpoint) {
      pod.probe = std::unexpected(pod.endpoint.error());
      continue;
    }
    auto it = std::lower_bound(targets.begin(), targets.end(), *pod.endpoint);
    if (it == targets.end() || *it != *pod.endpoint) continue;  // probed above or stood in for
    pod.probe = probes[static_cast<size_t>(it - targets.begin())];
  }
  log::debug("observe: dns {} ms, {} probes {} ms{}", std::chrono::duration_cast<Millis>(resolved - started).count(),
             targets.size(), std::chrono::duration_cast<Millis>(Clock::now() - resolved).count(),
             narrow ? "" : " (full round)");
  prober_.keep_only(remember_endpoints(last_endpoints_, observation, own_endpoint()));
  for (size_t i = 0; i < observation.pods.size(); ++i) {
    auto& pod = observation.pods[i];
    if (pod.asked()) last_probes_[i] = *pod.probe;
    if (!pod.probe) {
      last_probes_[i].reset();
      // A failure to probe the pod's address names host:port; say which pod. (Without an
      // address, the probe's error is the lookup's, which names the pod's DNS name already.)
      if (pod.endpoint) pod.probe.error().message = fmt::format("{}: {}", pod.pod.name, pod.probe.error().message);
    }
  }
  verify_identities(observation, self_index ? static_cast<int>(*self_index) : -1);
  return observation;
}

}  // namespace rci
