#include "rci/observe/discovery.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "rci/net/address.hpp"
#include "rci/util/log.hpp"
#include "rci/util/text.hpp"

namespace rci {
namespace {

// How long an SRV answer is reused before it is asked again. Every answer is verified (who
// answers at each address, announcing which pod), so an old one costs at worst a round's delay,
// while a fresh one for every pod every few seconds costs the DNS server: an answer of 300 pods
// is 26 KB, and 300 pods asking it every 5 s made dnsmasq the bottleneck of a 100x2 cold start.
// So the period grows with the pods: 5 s up to 100 pods, 15 s at 300.
Millis srv_reuse_period(size_t pods) {
  return std::clamp(Millis(50 * static_cast<long long>(pods)), Millis(5000), Millis(15000));
}
// An answer that lists no record for a wanted pod (not scheduled yet) is asked again sooner:
// 1 s up to 100 pods, 3 s at 300. (A pod listed without an address in the additional section
// is looked up by name instead: dnsmasq, for one, adds no address for targets past the first
// 16 KB of the answer, about 230 of 300.)
Millis srv_incomplete_reuse_period(size_t pods) {
  return std::clamp(Millis(10 * static_cast<long long>(pods)), Millis(1000), Millis(5000));
}
// Per-pod names are reused this long so a fast poll loop does not flood the DNS server.
constexpr auto reuse_for = std::chrono::seconds(5);
// Without SRV records for the service, they are looked for again this seldom (auto mode).
constexpr auto srv_absent_retry = std::chrono::seconds(30);
// After a timeout or server failure, SRV is tried again this soon (the round waits for it).
constexpr auto srv_failed_retry = std::chrono::milliseconds(250);

Result<net::Endpoint> not_resolved(const ExpectedPod& pod) {
  return fail(ErrorKind::dns, pod.dns_name + ": not resolved this round");
}

// Each pod's own name, every name in flight at once. Answers are reused for 5 s; failed names
// are asked again every round (a pod whose record is missing is the one a round waits for).
class PodNames final : public Discovery {
 public:
  PodNames(const Topology& topology, dns::Resolver& resolver)
      : topology_(topology), resolver_(resolver), cached_(topology.pods.size()) {}

  bool settled() const override {
    return std::any_of(cached_.begin(), cached_.end(), [](const auto& address) { return address.has_value(); });
  }

  Located locate(const std::vector<bool>& wanted, Deadline deadline) override {
    const bool cache_fresh = Clock::now() - cache_time_ < reuse_for;
    if (!cache_fresh) cache_time_ = Clock::now();
    std::vector<std::string> names;
    std::vector<size_t> asked;
    for (size_t i = 0; i < topology_.pods.size(); ++i) {
      if (!wanted[i] || (cache_fresh && cached_[i])) continue;
      names.push_back(topology_.pods[i].dns_name);
      asked.push_back(i);
    }
    auto answers = resolver_.resolve_all(names, deadline);

    Located located;
    for (size_t i = 0; i < topology_.pods.size(); ++i) {
      located.endpoints.push_back(cached_[i] ? Result<net::Endpoint>(*cached_[i]) : not_resolved(topology_.pods[i]));
    }
    for (size_t k = 0; k < asked.size(); ++k) {
      const size_t i = asked[k];
      auto& address = answers[k].address;
      // A name gives an address only: the port is --port, as every pod's is without SRV.
      located.endpoints[i] = address ? Result<net::Endpoint>(net::Endpoint{*address, topology_.port})
                                     : std::unexpected(std::move(address.error()));
      cached_[i] = located.endpoints[i] ? std::optional<net::Endpoint>(*located.endpoints[i]) : std::nullopt;
    }
    return located;
  }

 private:
  const Topology& topology_;
  dns::Resolver& resolver_;
  std::vector<std::optional<net::Endpoint>> cached_;
  Clock::time_point cache_time_{};
};

// One SRV query for every pod; targets the additional section gives no address for are
// looked up by name. In auto mode, SRV records that are absent (NXDOMAIN, NODATA, or none
// naming an expected pod) mean per-pod names. A timeout is no such evidence: under load
// (300 pods starting at once) a fall-back to names would turn one query per pod into 300 and
// sink the DNS server; so the round waits for SRV (up to 15 s before the first answer, see
// Observer::observe), unless SRV has never answered, has failed `timeouts_before_names` times
// in a row, and for `failing_before_names` (a server that drops or refuses SRV queries; a
// loaded one answers SERVFAIL, or its TCP front gives up, several times within seconds).
class ServiceRecords final : public Discovery {
 public:
  ServiceRecords(const Options& options, const Topology& topology, dns::Resolver& names_resolver,
                 bool fall_back_to_names)
      : topology_(topology),
        resolver_(options.dns_server, dns::Resolver::for_large_answers),
        fall_back_(fall_back_to_names),
        names_(topology, names_resolver),
        srv_failure_(fmt::format("SRV {}: no answer yet", topology.srv_name)) {}

  Located locate(const std::vector<bool>& wanted, Deadline deadline) override {
    refresh(wanted, deadline);
    if (answer_) return from_answer(wanted, deadline);
    const bool give_up_on_srv = absent_ || (!ever_answered_ && timeouts_in_a_row_ >= timeouts_before_names &&
                                            Clock::now() - first_failure_at_ >= failing_before_names);
    if (fall_back_ && give_up_on_srv) {
      Located located = names_.locate(wanted, deadline);
      located.report.note = srv_failure_;
      return located;
    }
    // No answer says nothing about any pod: each is unknown (kind timeout), never absent, so
    // `run`'s start guard waits rather than take a silent DNS server for "no replica here".
    Located located;
    for (size_t i = 0; i < topology_.pods.size(); ++i) {
      located.endpoints.push_back(fail(ErrorKind::timeout, srv_failure_));
    }
    located.report.method = DiscoveryMethod::srv;
    located.report.note = srv_failure_;
    return located;
  }

  bool settled() const override { return answer_.has_value() || (absent_ && names_.settled()); }

 private:
  static constexpr int timeouts_before_names = 3;
  static constexpr auto failing_before_names = std::chrono::seconds(20);

  // Asks SRV again when the answer in hand is old (or lacks a wanted pod and is not quite new).
  // The query outlives the round (see Resolver::start_srv): with an answer in hand the round
  // does not wait for it, without one it waits until its DNS deadline, and either way the query
  // goes on until it is answered or the resolver's patience (15 s) runs out, so a slow answer
  // over TCP is asked for once, not once a round.
  void refresh(const std::vector<bool>& wanted, Deadline deadline) {
    const auto now = Clock::now();
    const size_t pods = topology_.pods.size();
    const bool due = answer_ ? now - answered_at_ >=
                                   (lists_all_of(wanted) ? srv_reuse_period(pods) : srv_incomplete_reuse_period(pods))
                             : now >= retry_at_;
    if (due) resolver_.start_srv(topology_.srv_name);
    auto asked = resolver_.poll_srv(answer_ ? Deadline::after(Millis(0)) : deadline);
    if (asked) take(std::move(*asked));
  }

  void take(dns::SrvResolution asked) {
    const auto now = Clock::now();
    if (asked.answer) {
      match_ = match_srv_answer(topology_, *asked.answer);
      timeouts_in_a_row_ = 0;
      if (match_.listed_count == 0) {
        answer_.reset();
        absent_ = true;
        srv_failure_ = fmt::format("SRV {}: none of its {} records names an expected pod{}", topology_.srv_name,
                                   asked.answer->records.size(), example_target(*asked.answer));
        retry_at_ = now + srv_absent_retry;
        return;
      }
      log::debug("SRV {}: {} records, {} of them expected pods, {} targets' addresses in the answer",
                 topology_.srv_name, asked.answer->records.size(), match_.listed_count, asked.answer->addresses.size());
      answer_ = std::move(*asked.answer);
      answered_at_ = now;
      absent_ = false;
      ever_answered_ = true;
      return;
    }
    absent_ = asked.status == dns::Status::no_such_name || asked.status == dns::Status::no_record;
    timeouts_in_a_row_ = absent_ ? 0 : timeouts_in_a_row_ + 1;
    if (timeouts_in_a_row_ == 1) first_failure_at_ = now;
    log::debug("{} ({} in a row)", asked.answer.error().message, timeouts_in_a_row_);
    srv_failure_ = asked.answer.error().message;
    retry_at_ = now + (absent_ ? srv_absent_retry : srv_failed_retry);
    // A refresh that timed out keeps the answer in hand: its addresses may be old, but every
    // answer at them is verified (who announces which pod), and none would be worse.
    if (absent_) answer_.reset();
    if (answer_) answered_at_ = now - srv_reuse_period(topology_.pods.size()) + srv_failed_retry;  // ask again soon
  }

  static std::string example_target(const dns::SrvAnswer& answer) {
    return answer.records.empty() ? "" : fmt::format(" (e.g. {})", answer.records.front().target);
  }

  bool lists_all_of(const std::vector<bool>& wanted) const {
    for (size_t i = 0; i < wanted.size(); ++i) {
      if (wanted[i] && !match_.pods[i].listed) return false;
    }
    return true;
  }

  Located from_answer(const std::vector<bool>& wanted, Deadline deadline) {
    Located located;
    located.report.method = DiscoveryMethod::srv;
    located.report.unexpected = match_.unexpected;
    std::vector<bool> by_name(topology_.pods.size(), false);
    for (size_t i = 0; i < topology_.pods.size(); ++i) {
      const auto& pod = topology_.pods[i];
      const auto& matched = match_.pods[i];
      if (!matched.listed) {
        located.endpoints.push_back(
            fail(ErrorKind::dns, fmt::format("{}: not among the SRV records of {}", pod.dns_name, topology_.srv_name)));
      } else if (!matched.address) {
        located.endpoints.push_back(not_resolved(pod));
        by_name[i] = wanted[i];
      } else if (*matched.address) {
        located.endpoints.push_back(net::Endpoint{**matched.address, matched.port});
      } else {
        located.endpoints.push_back(std::unexpected(matched.address->error()));
      }
    }
    if (std::find(by_name.begin(), by_name.end(), true) != by_name.end()) {
      Located named = names_.locate(by_name, deadline);
      for (size_t i = 0; i < by_name.size(); ++i) {
        if (!by_name[i]) continue;
        // The address by name, the port from the pod's SRV record.
        located.endpoints[i] = std::move(named.endpoints[i]);
        if (located.endpoints[i]) located.endpoints[i]->port = match_.pods[i].port;
      }
    }
    return located;
  }

  const Topology& topology_;
  dns::Resolver resolver_;  // its own channel, patient enough for an answer over TCP
  const bool fall_back_;
  PodNames names_;  // targets without an address in the answer; all pods in auto mode without SRV
  std::optional<dns::SrvAnswer> answer_;
  SrvMatch match_;
  Clock::time_point answered_at_{};
  Clock::time_point retry_at_{};
  bool absent_ = false;                   // the last answer said there are no (usable) SRV records
  bool ever_answered_ = false;            // an SRV answer naming expected pods came at least once
  int timeouts_in_a_row_ = 0;             // SRV queries without any answer since the last answer
  Clock::time_point first_failure_at_{};  // when the first of them failed
  std::string srv_failure_;               // why there is no SRV answer in hand
};

}  // namespace

SrvMatch match_srv_answer(const Topology& topology, const dns::SrvAnswer& answer) {
  SrvMatch match;
  match.pods.resize(topology.pods.size());
  // Each expected pod by its name in lower case (dns/message gives targets so), built once: an
  // answer of 300 records against 300 pods is asked every few seconds.
  std::map<std::string, size_t> pod_by_name;
  for (size_t i = 0; i < topology.pods.size(); ++i) pod_by_name.emplace(text::lower(topology.pods[i].dns_name), i);
  // Every one is kept, not a sample: the planner forgets the node of a pod no longer expected
  // only when the service no longer lists it.
  std::set<std::string> unexpected;
  for (const auto& record : answer.records) {
    const std::string target = text::lower(record.target);
    auto found_pod = pod_by_name.find(target);
    if (found_pod == pod_by_name.end()) {
      if (unexpected.insert(target).second) match.unexpected.push_back(target);
      continue;
    }
    const ExpectedPod* pod = &topology.pods[found_pod->second];
    auto& matched = match.pods[found_pod->second];
    if (matched.listed) continue;
    matched.listed = true;
    matched.port = record.port;
    ++match.listed_count;
    if (record.port == 0) {
      matched.address = fail(ErrorKind::dns,
                             fmt::format("{}: its SRV record gives port 0, which no server listens on", pod->dns_name));
      continue;
    }
    auto found = answer.addresses.find(target);
    if (found == answer.addresses.end() || found->second.empty()) continue;
    // IPv4 first, as the per-name lookup does.
    const auto& list = found->second;
    auto v4 =
        std::find_if(list.begin(), list.end(), [](const std::string& a) { return a.find(':') == std::string::npos; });
    const std::string& chosen = v4 != list.end() ? *v4 : list.front();
    if (auto why = net::unusable_reason(chosen)) {
      matched.address = fail(
          ErrorKind::dns, fmt::format("{}: the answer {} is not a usable address: it {}", pod->dns_name, chosen, *why));
    } else {
      matched.address = chosen;
    }
  }
  return match;
}

std::unique_ptr<Discovery> make_discovery(const Options& options, const Topology& topology, dns::Resolver& resolver) {
  switch (options.discovery) {
    case DiscoveryMode::names: return std::make_unique<PodNames>(topology, resolver);
    case DiscoveryMode::srv: return std::make_unique<ServiceRecords>(options, topology, resolver, false);
    case DiscoveryMode::automatic: return std::make_unique<ServiceRecords>(options, topology, resolver, true);
  }
  return std::make_unique<PodNames>(topology, resolver);
}

}  // namespace rci
