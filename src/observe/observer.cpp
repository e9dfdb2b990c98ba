#include "rci/observe/observer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <set>

#include "rci/util/log.hpp"

namespace rci {

Observer::Observer(const Options& options, const Topology& topology)
    : options_(options),
      topology_(topology),
      resolver_(options.dns_server),
      discovery_(make_discovery(options, topology, resolver_)),
      prober_(options) {
  prober_.name_endpoint(own_endpoint(), own_fqdn(options));
}

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

namespace {

// Whether `self`'s table holds a node announcing `pod`'s name that it is connected to.
bool shows_connected(const NodeProbe& self, const ExpectedPod& pod) {
  return std::any_of(self.nodes.begin(), self.nodes.end(), [&](const redis::ClusterNode& node) {
    return node.is_connected_peer() && announces(node.hostname, pod);
  });
}

// The pod whose address this round is `endpoint`.
const PodObservation* pod_at(const Observation& observation, const net::Endpoint& endpoint) {
  for (const auto& pod : observation.pods) {
    if (pod.endpoint && *pod.endpoint == endpoint) return &pod;
  }
  return nullptr;
}

// An entry of this node's table whose pod the layout no longer has and which Redis shows
// unreachable: what plan_forget_departed may forget, once its address is asked too.
struct DepartedEntry {
  std::string node_id;
  net::Endpoint endpoint;
  std::string dns_name;  // its pod's FQDN, for TLS
};

std::vector<DepartedEntry> unreachable_departed(const Topology& topology,
                                                const std::vector<redis::ClusterNode>& table) {
  constexpr size_t most_per_round = 32;  // a larger scale-in is forgotten over a few passes
  std::vector<DepartedEntry> entries;
  for (const auto& node : table) {
    if (entries.size() == most_per_round) break;
    if (node.myself || node.is_connected_peer() || node.noaddr || node.ip.empty() || !node.slots.empty()) continue;
    const auto pod = departed_pod(topology, node.hostname);
    if (pod) entries.push_back({node.id, net::Endpoint{node.ip, node.port}, pod->dns_name});
  }
  return entries;
}

}  // namespace

std::vector<bool> select_probes(const Topology& topology, int self_index, const NodeProbe* self) {
  const int pod_count = topology.pod_count();
  std::vector<bool> wanted(pod_count, true);
  wanted[self_index] = false;  // this pod's node is asked in full before the selection
  // This pod can do nothing while its own node does not answer: asking its peers would only
  // load them. (At 300 pods, servers too busy to answer their own bootstrap within the command
  // timeout had every bootstrap ask all 299 peers each round, which kept every server busy.)
  if (self == nullptr) return std::vector<bool>(pod_count, false);
  if (!self->cluster_enabled) return wanted;  // a misconfigured node: every pod's view, for the report
  const auto& me = self->myself();
  const auto& self_pod = topology.pods[self_index];
  // A surplus pod (scale-in) waits for the layout's masters to drain its shard: their tables
  // say when no node of it serves slots any more.
  if (topology.surplus) {
    std::vector<bool> masters(pod_count, false);
    for (int shard = 0; shard < topology.shards; ++shard) masters[topology.index_of(shard, 0)] = true;
    return masters;
  }
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
  int uncovered_left = topology.meets_per_round();
  for (int i = 0; i < pod_count; ++i) wanted[i] = i != self_index && topology.pods[i].shard == self_pod.shard;
  // Its master and fellow replicas decide this pod's role (above). Then the shards whose slots
  // its node has not learned, in turn from its own, as many as a round may MEET: their ordinal-0
  // pod (the master at creation) is asked, so it can be MEETed and hand over its slot claims;
  // unless this node is already connected to that pod's node: its slots then reach this node
  // with its own pings (within half the node timeout), and asking it every round for a table of
  // every node would cost more than all the rest of the round at a hundred shards.
  for (int turn = 1; turn < topology.shards && has_role && uncovered_left > 0; ++turn) {
    const int shard = (self_pod.shard + turn) % topology.shards;
    const int owner = topology.index_of(shard, 0);
    if (shard_covered[shard] || shows_connected(*self, topology.pods[owner])) continue;
    wanted[owner] = true;
    --uncovered_left;
  }
  return wanted;
}

void Observer::pace_quorum_wait(std::vector<bool>& wanted, size_t self_index) {
  const bool asks_everyone = std::count(wanted.begin(), wanted.end(), true) + 1 == static_cast<long>(wanted.size());
  // select_probes asks every pod only while this pod may have to create its shard: otherwise
  // there is no quorum to wait for.
  if (!asks_everyone) return;
  const auto verified = std::count(last_verified_.begin(), last_verified_.end(), true);
  const auto now = Clock::now();
  // Every pod is asked when a decision may be near (the pods verified so far make a quorum: a
  // pod creates only on answers of this round). Otherwise the pods not verified yet (their
  // bootstrap has not named their node) are asked once per interval that grows with the
  // cluster, and in between only this pod's shard; the verified ones keep their last answer.
  // At 300 pods, a hundred ordinal-0 pods asking all 299 others every round kept two cores
  // busy answering them, and the DNS server everyone waited for got no CPU.
  if (verified >= topology_.quorum()) return;
  const bool ask_unverified = now - last_quorum_round_ >= quorum_round_interval(topology_.pod_count());
  if (ask_unverified) last_quorum_round_ = now;
  const int shard = topology_.pods[self_index].shard;
  for (size_t i = 0; i < wanted.size(); ++i) {
    wanted[i] = (ask_unverified && !last_verified_[i]) || topology_.pods[i].shard == shard;
  }
}

void Observer::report_discovery_change(const DiscoveryReport& report) {
  std::string how = report.method == DiscoveryMethod::srv ? fmt::format("SRV records of {}", topology_.srv_name)
                                                          : "each pod's own name";
  if (!report.note.empty()) how += fmt::format(" ({})", report.note);
  // Once per change in the process: `run` builds an observer for every maintenance pass.
  static std::mutex mutex;
  static std::string last_logged;
  std::lock_guard lock(mutex);
  if (how == last_logged) return;
  log::info("discovery: the pods' addresses come from {}", how);
  last_logged = std::move(how);
}

Observation Observer::observe(Deadline deadline, Scope scope) {
  const size_t pod_count = topology_.pods.size();
  const auto self_name = format_pod_name(options_.pod.prefix, options_.pod.shard, options_.pod.ordinal);
  std::optional<size_t> self_index;
  for (size_t i = 0; i < pod_count; ++i) {
    if (topology_.pods[i].name == self_name && !options_.pod_ip.empty()) self_index = i;
  }
  if (last_probes_.size() != pod_count) last_probes_.assign(pod_count, std::nullopt);
  if (last_verified_.size() != pod_count) last_verified_.assign(pod_count, false);
  const auto started = Clock::now();

  const bool bootstrap_scope = scope == Scope::changing_peers && self_index.has_value();
  // A refresh round asks every pod this node's table does not show connected; the rounds
  // between ask only the pods select_probes picks, and reuse the last answer of the others.
  const bool refresh_due = !bootstrap_scope || Clock::now() - last_full_round_ >= full_refresh_interval;

  // In the bootstrap loop this node is asked first (its address needs no DNS): its table
  // decides which peers matter this round.
  std::optional<Result<NodeProbe>> self_probe;
  std::vector<bool> wanted(pod_count, true);   // asked, whatever this node's table shows
  std::vector<bool> located(pod_count, true);  // their addresses looked up
  std::vector<redis::ClusterNode> local_table;
  if (bootstrap_scope) {
    self_probe = prober_.probe(own_endpoint(), ProbeDepth::full, deadline);
    if (*self_probe && (*self_probe)->cluster_enabled) local_table = (*self_probe)->nodes;
    wanted = select_probes(topology_, static_cast<int>(*self_index), *self_probe ? &**self_probe : nullptr);
  }
  // A refresh waits for a round in which this pod's own node answers (see select_probes): a
  // refresh spent on a round that asks nobody would leave the next one 10 s away, and a FORGET
  // planned meanwhile would reach only the few nodes asked.
  const bool refresh = refresh_due && (!self_probe || self_probe->has_value());
  if (refresh) last_full_round_ = Clock::now();
  if (bootstrap_scope) {
    if (!refresh) pace_quorum_wait(wanted, *self_index);
    wanted[*self_index] = false;
    if (!refresh) located = wanted;
    located[*self_index] = false;
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
  Located found = discovery_->locate(located, dns_deadline);
  const auto resolved = Clock::now();

  report_discovery_change(found.report);
  Observation observation;
  observation.discovery = std::move(found.report);
  for (size_t i = 0; i < pod_count; ++i) {
    PodObservation pod;
    pod.pod = topology_.pods[i];
    // This pod's own endpoint is known without DNS; its record may not be published yet.
    pod.endpoint = self_index == i ? Result<net::Endpoint>(own_endpoint()) : std::move(found.endpoints[i]);
    if (self_index == i && self_probe) pod.probe = std::move(*self_probe);
    // The name TLS checks the certificate against: the one this pod was found by.
    if (pod.endpoint) prober_.name_endpoint(*pod.endpoint, pod.pod.dns_name);
    observation.pods.push_back(std::move(pod));
  }

  auto connected_entry_at = [&](const net::Endpoint& endpoint) -> const redis::ClusterNode* {
    for (const auto& node : local_table) {
      if (node.is_connected_peer() && node.ip == endpoint.ip && node.port == endpoint.port) return &node;
    }
    return nullptr;
  };

  // Probe every wanted distinct endpoint once, all at the same time. A refresh round adds the
  // pods its table does not show connected, up to its budget, in turn from the last one's end.
  std::set<net::Endpoint> endpoints;
  size_t refresh_left = refresh ? refresh_probe_budget(topology_.pod_count()) : 0;
  for (size_t k = 0; k < pod_count; ++k) {
    const size_t i = (refresh_cursor_ + k) % pod_count;
    auto& pod = observation.pods[i];
    if (self_index == i && bootstrap_scope) continue;  // asked above
    if (!pod.endpoint) continue;
    if (!wanted[i]) {
      // Not worth asking this round: this node's view of it (a refresh asks only the pods that
      // view does not show: at 300 pods, asking all of them would cost every pod 300 tables of
      // 300 lines every few seconds), or its previous answer.
      if (const auto* entry = connected_entry_at(*pod.endpoint)) {
        pod.probe = probe_from_local_table(*entry);
        pod.provenance = Provenance::local_table;
        continue;
      }
      if (refresh_left > 0) {
        endpoints.insert(*pod.endpoint);
        if (--refresh_left == 0) refresh_cursor_ = (i + 1) % pod_count;
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
  // The addresses of departed pods' entries, unless a pod has one of them now.
  const auto departed = unreachable_departed(topology_, local_table);
  for (const auto& entry : departed) {
    if (pod_at(observation, entry.endpoint) != nullptr) continue;
    prober_.name_endpoint(entry.endpoint, entry.dns_name);
    endpoints.insert(entry.endpoint);
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
  for (const auto& entry : departed) {
    const PodObservation* pod = pod_at(observation, entry.endpoint);
    auto it = std::lower_bound(targets.begin(), targets.end(), entry.endpoint);
    if (pod == nullptr && (it == targets.end() || *it != entry.endpoint)) continue;
    const Result<NodeProbe>& answer = pod != nullptr ? pod->probe : probes[static_cast<size_t>(it - targets.begin())];
    DepartedCheck check{entry.node_id, entry.endpoint, at_address_of(answer, entry.node_id), ""};
    if (!answer) check.detail = answer.error().message;
    observation.departed.push_back(std::move(check));
  }
  log::debug("observe: dns {} ms, {} probes {} ms{}", std::chrono::duration_cast<Millis>(resolved - started).count(),
             targets.size(), std::chrono::duration_cast<Millis>(Clock::now() - resolved).count(),
             refresh ? " (refresh round)" : "");
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
  for (size_t i = 0; i < pod_count; ++i) {
    const auto& pod = observation.pods[i];
    last_verified_[i] = pod.answered() && pod.identity == Identity::verified;
  }
  return observation;
}

}  // namespace rci
