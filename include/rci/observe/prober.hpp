#pragma once
// Probes redis-servers: every address at once, from one poll loop over their connections
// (redis::drive), with the connect and command timeouts of the options, over connections kept
// between calls (so a probe costs one round trip, not a TCP handshake and AUTH).

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "rci/config/options.hpp"
#include "rci/observe/observation.hpp"
#include "rci/redis/connection.hpp"

namespace rci {

class Prober {
 public:
  explicit Prober(const Options& options);

  // Probes one node now, giving up at `deadline` at the latest.
  Result<NodeProbe> probe(const net::Endpoint& endpoint, ProbeDepth depth, Deadline deadline);
  // Probes every endpoint at once; results in the order of `endpoints`. Each gets the options'
  // connect and command timeouts, cut short by `deadline`.
  std::vector<Result<NodeProbe>> probe_all(const std::vector<net::Endpoint>& endpoints, ProbeDepth depth,
                                           Deadline deadline);

  // A connection to `endpoint`, reused when still open; a new one is opened within the
  // options' timeouts, cut short by `deadline`.
  Result<std::shared_ptr<redis::Connection>> connection(const net::Endpoint& endpoint, Deadline deadline);
  // The name the node at `endpoint` was found by (its pod's FQDN), which a TLS connection
  // sends and checks the certificate against. A kept connection made for another name (the
  // address now belongs to another pod) is closed.
  void name_endpoint(const net::Endpoint& endpoint, const std::string& name);
  // Forgets a connection after an I/O failure so the next use reconnects.
  void drop_connection(const net::Endpoint& endpoint);
  // Closes the kept connections to every endpoint but `endpoints` (a pod that moved leaves its
  // old endpoint behind for good).
  void keep_only(const std::set<net::Endpoint>& endpoints);

 private:
  // The kept connection to `endpoint` if it is still open.
  std::shared_ptr<redis::Connection> kept_connection(const net::Endpoint& endpoint);
  // Keeps `connection` as the one to `endpoint`.
  std::shared_ptr<redis::Connection> keep(const net::Endpoint& endpoint, redis::Connection connection);

  // The name given for `endpoint` ("" when none was).
  std::string name_of(const net::Endpoint& endpoint);

  const redis::ConnectionSettings settings_;
  std::mutex mutex_;
  std::map<net::Endpoint, std::shared_ptr<redis::Connection>> connections_;
  std::map<net::Endpoint, std::string> names_;
};

}  // namespace rci
