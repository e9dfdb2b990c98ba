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

  // Probes one address now, giving up at `deadline` at the latest.
  Result<NodeProbe> probe(const std::string& address, ProbeDepth depth, Deadline deadline);
  // Probes every address at once; results in the order of `addresses`. Each address gets the
  // options' connect and command timeouts, cut short by `deadline`.
  std::vector<Result<NodeProbe>> probe_all(const std::vector<std::string>& addresses, ProbeDepth depth,
                                           Deadline deadline);

  // A connection to `address` (at the options' port), reused when still open; a new one is
  // opened within the options' timeouts, cut short by `deadline`.
  Result<std::shared_ptr<redis::Connection>> connection(const std::string& address, Deadline deadline);
  // Forgets a connection after an I/O failure so the next use reconnects.
  void drop_connection(const std::string& address);
  // Closes the kept connections to every address but `addresses` (a pod that moved leaves its
  // old address behind for good).
  void keep_only(const std::set<std::string>& addresses);

 private:
  // The kept connection to `address` if it is still open.
  std::shared_ptr<redis::Connection> kept_connection(const std::string& address);
  // Keeps `connection` as the one to `address`.
  std::shared_ptr<redis::Connection> keep(const std::string& address, redis::Connection connection);

  const Options& options_;
  const redis::ConnectionSettings settings_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<redis::Connection>> connections_;
};

}  // namespace rci
