#pragma once
// Observes the expected pods: resolves their names (c-ares, concurrently) and probes the
// addresses that resolved (Prober: one poll loop, bounded timeouts, kept connections), asking
// in a bootstrap round only the peers that can change this pod's next step.

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "rci/dns/resolver.hpp"
#include "rci/observe/discovery.hpp"
#include "rci/observe/observation.hpp"
#include "rci/observe/prober.hpp"

namespace rci {

// How much of the cluster a round asks about.
enum class Scope {
  every_pod,  // probe every pod that resolves (status, discover, plan)
  // The bootstrap loop's scope, so a poll every few tens of milliseconds stays cheap for a
  // hundred pods: this pod's node first, then only the peers that can change what this pod does
  // next (see select_probes). Others are stood in for by this node's table entry or their
  // previous answer. Every pod is asked again at least every `full_refresh_interval`.
  changing_peers,
};

inline constexpr auto full_refresh_interval = std::chrono::seconds(10);
// How many of the pods its table does not show connected one refresh round asks: all of them
// up to 100 pods, then 10,000/pods (33 at 300), in turn, so each pod is asked every few
// refreshes. While a mesh of 300 nodes forms, most links are not up yet, and 300 pods asking
// 299 peers each for a table of 300 lines every 10 s was 9,000 tables a second.
constexpr size_t refresh_probe_budget(int pod_count) {
  return pod_count <= 100 ? static_cast<size_t>(pod_count) : static_cast<size_t>(10'000 / pod_count);
}
// While a pod waits for a quorum, how often it asks the pods not verified yet (see
// pace_quorum_wait): 5 ms per pod, from 50 ms to 1.5 s, so that an ordinal-0 pod asks about
// 200 pods a second whatever the size (a hundred of them at 300 pods: 20,000 probes a second).
constexpr Millis quorum_round_interval(int pod_count) {
  return std::clamp(Millis(5) * pod_count, Millis(50), Millis(1500));
}

class Observer {
 public:
  Observer(const Options& options, const Topology& topology);

  // One round over the expected pods.
  Observation observe(Deadline deadline, Scope scope = Scope::every_pod);

  // A connection to this pod's own node (or any node), kept between rounds; for acting.
  // `server_name`: the name TLS checks the node's certificate for, where it is no pod this
  // layout finds (a surplus shard's node, known by its table entry); "" keeps the name the
  // endpoint was found by.
  Result<std::shared_ptr<redis::Connection>> connection(const net::Endpoint& endpoint, const std::string& server_name,
                                                        Deadline deadline) {
    if (!server_name.empty()) prober_.name_endpoint(endpoint, server_name);
    return prober_.connection(endpoint, deadline);
  }
  Result<std::shared_ptr<redis::Connection>> connection(const net::Endpoint& endpoint, Deadline deadline) {
    return connection(endpoint, "", deadline);
  }
  // Where this pod's own node listens: --pod-ip and --port.
  net::Endpoint own_endpoint() const { return {options_.pod_ip, options_.port}; }

 private:
  const Options& options_;
  const Topology& topology_;
  dns::Resolver resolver_;
  std::unique_ptr<Discovery> discovery_;  // over resolver_
  // While this pod waits for a quorum (`wanted` asks every pod), narrows `wanted` between
  // rounds that ask every pod to the pods not verified in their last answer.
  void pace_quorum_wait(std::vector<bool>& wanted, size_t self_index);
  // Logs how the pods were found when that changes (SRV, or a fallback to names and why).
  void report_discovery_change(const DiscoveryReport& report);
  std::vector<std::optional<NodeProbe>> last_probes_;  // per pod: its last successful answer
  std::vector<bool> last_verified_;                    // per pod: its last answer was verified as its
  Clock::time_point last_quorum_round_{};
  // Per pod: the last endpoint DNS gave it. A lookup that fails (dnsmasq drops queries under
  // load) keeps it; only a new one replaces it, and only then is the old connection closed.
  std::vector<std::optional<net::Endpoint>> last_endpoints_;
  Clock::time_point last_full_round_{};
  size_t refresh_cursor_ = 0;  // the pod the next refresh round starts asking from
  Prober prober_;
};

// Records in `last` each pod's endpoint from this round, keeping the previous one where the
// lookup failed (a DNS server dropping queries under load must not cost kept connections), and
// returns the endpoints whose connections are kept: every pod's last endpoint and `own`. Only
// a pod that moved leaves an endpoint behind.
std::set<net::Endpoint> remember_endpoints(std::vector<std::optional<net::Endpoint>>& last,
                                           const Observation& observation, const net::Endpoint& own);

// How long a round waits for DNS: its budget, but never so long that the probes after it lose
// the `probe_time` they need (connect and command timeouts) before the round's deadline: a name
// that never answers must not leave every probe no time, or the round would show nobody
// answering (to `run`'s start guard: no replica in the way). At least 100 ms.
Millis dns_wait(Millis budget, Millis remaining, Millis probe_time);

// Which pods a narrow bootstrap round asks, given this pod's own node's answer (nullptr when it
// did not answer): every pod while this pod may still have to create its shard; its own shard's
// pods; and, once it has its role, the ordinal-0 pods of shards whose slots its node has not
// learned. Pure, so the selection is unit-tested.
std::vector<bool> select_probes(const Topology& topology, int self_index, const NodeProbe* self);

}  // namespace rci
