#pragma once
// Where the expected pods are: the Discovery seam under the observer. Two ways, one interface:
// - SRV: one query for the governing service's named port returns every pod's name (the
//   record's target, the pod's FQDN) and, in the additional section, its address: a hundred
//   pods cost one round trip instead of a hundred.
// - names: each pod's own name (docker compose, plain DNS servers without SRV).
// `--discovery auto` (the default) asks SRV and falls back to names when it has no answer.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rci/config/options.hpp"
#include "rci/dns/resolver.hpp"
#include "rci/net/address.hpp"
#include "rci/observe/observation.hpp"
#include "rci/topology.hpp"

namespace rci {

// Where the pods are as DNS gave them, and how they were found.
struct Located {
  std::vector<Result<net::Endpoint>> endpoints;  // per pod, in Topology::pods order
  DiscoveryReport report;
};

class Discovery {
 public:
  virtual ~Discovery() = default;
  // Where the pods marked `wanted` are, found within `deadline`; the others keep an
  // earlier answer where there is one. Called every round: implementations reuse answers for
  // a few seconds rather than ask the DNS server each time.
  virtual Located locate(const std::vector<bool>& wanted, Deadline deadline) = 0;
  // Whether answers are in hand. Until then a round gives DNS more time: the first SRV answer
  // of 300 pods comes over TCP, which a busy DNS server answers in a second or two.
  virtual bool settled() const = 0;
};

// The discovery `options.discovery` asks for, over `resolver` (which must outlive it).
std::unique_ptr<Discovery> make_discovery(const Options& options, const Topology& topology, dns::Resolver& resolver);

// What one SRV answer says of the expected pods. Pure, so every case is unit-tested.
struct SrvMatch {
  struct Pod {
    bool listed = false;                         // a record targets the pod's FQDN
    int port = 0;                                // that record's port
    std::optional<Result<std::string>> address;  // the additional section's address for it, if any
  };
  std::vector<Pod> pods;                // in Topology::pods order
  std::vector<std::string> unexpected;  // every target that is no expected pod, in lower case
  int listed_count = 0;
};
SrvMatch match_srv_answer(const Topology& topology, const dns::SrvAnswer& answer);

}  // namespace rci
