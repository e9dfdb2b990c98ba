#include "rci/app/probe.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "rci/app/handover.hpp"
#include "rci/redis/connection.hpp"
#include "rci/redis/info.hpp"
#include "rci/topology.hpp"

namespace rci {
namespace {

// The first error reply among `replies` to `commands`, as "host:port: COMMAND: error".
std::optional<std::string> first_error(const redis::Connection& connection,
                                       const std::vector<std::vector<std::string>>& commands,
                                       const std::vector<redis::Reply>& replies) {
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].is_error()) {
      return fmt::format("{}: {}: {}", connection.endpoint().to_string(), redis::describe_command(commands[i]),
                         replies[i].str);
    }
  }
  return std::nullopt;
}

}  // namespace

ProbeVerdict probe_local_node(const Options& options) {
  // --timeout bounds the whole probe, as the kubelet's timeoutSeconds does: the connect and
  // the one round trip of commands each get what is left of it, at most their own timeout.
  const Deadline deadline = Deadline::after(std::chrono::duration_cast<Millis>(options.timeout));
  const net::Endpoint local{options.pod_ip, options.port};
  auto settings = redis::connection_settings(options);

  if (options.probe_kind == ProbeKind::liveness) {
    // Alive means the server answers at all: a LOADING, NOAUTH or WRONGPASS reply is an answer.
    // A rotated password must not make the kubelet restart a healthy server in a loop, so
    // liveness sends no AUTH.
    settings.credentials = {};
    auto connection = redis::Connection::start(local, settings);
    if (!connection) return {false, connection.error().message};
    auto ping = connection->pipeline({{"PING"}}, deadline);
    if (!ping) return {false, ping.error().message};
    const auto& reply = ping->front();
    return {true, reply.is_error() ? "answers (" + reply.str + ")" : "answers PING"};
  }

  // A pod handing its slots over is on its way out: no new traffic for it, whatever its
  // server says.
  if (const std::string marker = handover_marker_path(options.port); ::access(marker.c_str(), F_OK) == 0) {
    return {false, fmt::format("run is handing this node's slots over before it stops ({} exists)", marker)};
  }
  // Readiness: everything in one round trip (AUTH, when there is a password, in the same write).
  auto connection = redis::Connection::start(local, settings);
  if (!connection) return {false, connection.error().message};
  const std::vector<std::vector<std::string>> commands = {{"CLUSTER", "INFO"}, {"INFO", "replication"}};
  auto replies = connection->pipeline(commands, deadline);
  if (!replies) return {false, replies.error().message};
  if (auto error = first_error(*connection, commands, *replies)) return {false, *error};

  auto cluster_info = redis::parse_cluster_info((*replies)[0].str);
  if (!cluster_info) return {false, cluster_info.error().message};
  if (!cluster_info->state_ok) {
    return {false, fmt::format("cluster_state is fail ({} of {} slots assigned)", cluster_info->slots_assigned,
                               cluster_slots)};
  }
  auto replication_info = redis::parse_replication_info((*replies)[1].str);
  if (!replication_info) return {false, replication_info.error().message};
  if (!replication_info->is_master && !replication_info->master_link_up) {
    return {false, fmt::format("replica whose link to {}:{} is down", replication_info->master_host,
                               replication_info->master_port)};
  }
  return {true, replication_info->is_master ? "master, cluster_state ok" : "replica, link up, cluster_state ok"};
}

}  // namespace rci
