#include "rci/app/probe.hpp"

#include <fmt/format.h>

#include "rci/redis/connection.hpp"
#include "rci/redis/info.hpp"

namespace rci {

ProbeVerdict probe_local_node(const Options& options) {
  const net::Endpoint endpoint{options.pod_ip, options.port};
  // The probe's whole budget is the timeout; connect and each command get their share of it.
  const Millis budget = std::chrono::duration_cast<Millis>(options.timeout);
  redis::Timeouts timeouts{std::min(options.connect_timeout, budget), std::min(options.command_timeout, budget)};

  if (options.probe_kind == ProbeKind::liveness) {
    // Alive means the server answers at all: a LOADING, NOAUTH or WRONGPASS reply is an answer.
    // A rotated password must not make the kubelet restart a healthy server in a loop.
    auto connection = redis::Connection::open(endpoint, Credentials{}, timeouts);
    if (!connection) return {false, connection.error().message};
    auto ping = connection->command({"PING"});
    if (ping) return {true, "answers PING"};
    if (ping.error().kind == ErrorKind::reply || ping.error().kind == ErrorKind::auth) {
      return {true, "answers (" + ping.error().message + ")"};
    }
    return {false, ping.error().message};
  }

  auto connection = redis::Connection::open(endpoint, options.credentials, timeouts);
  if (!connection) return {false, connection.error().message};
  auto ping = connection->command({"PING"});
  if (!ping) return {false, ping.error().message};

  auto cluster = connection->command({"CLUSTER", "INFO"});
  if (!cluster) return {false, cluster.error().message};
  auto cluster_info = redis::parse_cluster_info(cluster->str);
  if (!cluster_info) return {false, cluster_info.error().message};
  if (!cluster_info->state_ok) {
    return {false, fmt::format("cluster_state is fail ({} of 16384 slots assigned)", cluster_info->slots_assigned)};
  }
  auto replication = connection->command({"INFO", "replication"});
  if (!replication) return {false, replication.error().message};
  auto replication_info = redis::parse_replication_info(replication->str);
  if (!replication_info) return {false, replication_info.error().message};
  if (!replication_info->is_master && !replication_info->master_link_up) {
    return {false, fmt::format("replica whose link to {}:{} is down", replication_info->master_host,
                               replication_info->master_port)};
  }
  return {true, replication_info->is_master ? "master, cluster_state ok" : "replica, link up, cluster_state ok"};
}

}  // namespace rci
