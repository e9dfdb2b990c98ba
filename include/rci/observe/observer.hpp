#pragma once
// Observes the expected pods: resolves every name (c-ares, concurrently) and probes every
// address that resolved (concurrently, bounded timeouts). Connections are kept between
// rounds so a poll costs one round trip, not a handshake.

#include <map>
#include <memory>
#include <mutex>

#include "rci/dns/resolver.hpp"
#include "rci/observe/observation.hpp"
#include "rci/redis/connection.hpp"

namespace rci {

class Observer {
 public:
  Observer(const Options& options, const Topology& topology);

  // One round over every expected pod.
  Observation observe(Deadline deadline);

  // Probes one address now (used for the local node and by the actor's checks).
  Result<NodeProbe> probe(const std::string& address, Deadline deadline);

  // A connection to `address`, reused when still open.
  Result<std::shared_ptr<redis::Connection>> connection(const std::string& address);
  // Forgets a connection after an I/O failure so the next use reconnects.
  void drop_connection(const std::string& address);

 private:
  const Options& options_;
  const Topology& topology_;
  dns::Resolver resolver_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<redis::Connection>> connections_;
};

// Builds a NodeProbe from the raw replies of the probe pipeline; a pure function so it is
// unit-tested without a server.
Result<NodeProbe> make_node_probe(const std::string& cluster_nodes, const std::string& cluster_info,
                                  const std::string& replication_info, long long keys);

}  // namespace rci
