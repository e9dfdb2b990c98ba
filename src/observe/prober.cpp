#include "rci/observe/prober.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace rci {

Prober::Prober(const Options& options) : settings_(redis::connection_settings(options)) {}

Result<std::shared_ptr<redis::Connection>> Prober::connection(const net::Endpoint& endpoint, Deadline deadline) {
  if (auto kept = kept_connection(endpoint)) return kept;
  auto opened = redis::Connection::open(endpoint, settings_, name_of(endpoint), deadline);
  if (!opened) return std::unexpected(opened.error());
  return keep(endpoint, std::move(*opened));
}

std::shared_ptr<redis::Connection> Prober::kept_connection(const net::Endpoint& endpoint) {
  std::lock_guard lock(mutex_);
  if (auto it = connections_.find(endpoint); it != connections_.end() && it->second->is_open()) return it->second;
  return nullptr;
}

std::shared_ptr<redis::Connection> Prober::keep(const net::Endpoint& endpoint, redis::Connection connection) {
  auto shared = std::make_shared<redis::Connection>(std::move(connection));
  std::lock_guard lock(mutex_);
  connections_[endpoint] = shared;
  return shared;
}

void Prober::name_endpoint(const net::Endpoint& endpoint, const std::string& name) {
  std::lock_guard lock(mutex_);
  auto [entry, added] = names_.try_emplace(endpoint, name);
  if (added || entry->second == name) return;
  entry->second = name;
  connections_.erase(endpoint);
}

std::string Prober::name_of(const net::Endpoint& endpoint) {
  std::lock_guard lock(mutex_);
  auto found = names_.find(endpoint);
  return found == names_.end() ? std::string() : found->second;
}

void Prober::drop_connection(const net::Endpoint& endpoint) {
  std::lock_guard lock(mutex_);
  connections_.erase(endpoint);
}

void Prober::keep_only(const std::set<net::Endpoint>& endpoints) {
  std::lock_guard lock(mutex_);
  std::erase_if(connections_, [&](const auto& entry) { return !endpoints.contains(entry.first); });
  std::erase_if(names_, [&](const auto& entry) { return !endpoints.contains(entry.first); });
}

namespace {

std::vector<std::vector<std::string>> probe_commands(ProbeDepth depth) {
  std::vector<std::vector<std::string>> commands = {{"CLUSTER", "NODES"}};
  if (depth == ProbeDepth::full) {
    commands.insert(commands.end(), {{"CLUSTER", "INFO"}, {"INFO", "replication"}, {"DBSIZE"}});
  }
  return commands;
}

// Turns the replies to probe_commands() into a NodeProbe; `where` names the node.
Result<NodeProbe> interpret_probe(const std::vector<redis::Reply>& r, ProbeDepth depth, const std::string& where) {
  // A generic refusal of CLUSTER NODES (not NOAUTH, LOADING, ...) is a server without cluster
  // support: cluster-enabled no, or the command renamed away.
  if (r[0].code() == ReplyCode::err) {
    NodeProbe disabled;
    disabled.cluster_enabled = false;
    disabled.cluster_refusal = r[0].str;
    return disabled;
  }
  for (const auto& reply : r) {
    if (reply.is_error()) return fail_reply(reply.str, fmt::format("{}: {}", where, reply.str));
  }
  auto is_text = [&](size_t i) { return r[i].type == redis::Reply::Type::string; };
  if (!is_text(0) ||
      (depth == ProbeDepth::full && (!is_text(1) || !is_text(2) || r[3].type != redis::Reply::Type::integer))) {
    return fail(ErrorKind::protocol, fmt::format("{}: unexpected reply types to the probe commands", where));
  }
  auto probe = depth == ProbeDepth::full ? make_node_probe(r[0].str, r[1].str, r[2].str, r[3].integer)
                                         : make_table_probe(r[0].str);
  if (!probe) return fail(probe.error().kind, fmt::format("{}: {}", where, probe.error().message));
  return probe;
}

}  // namespace

Result<NodeProbe> Prober::probe(const net::Endpoint& endpoint, ProbeDepth depth, Deadline deadline) {
  return std::move(probe_all({endpoint}, depth, deadline).front());
}

std::vector<Result<NodeProbe>> Prober::probe_all(const std::vector<net::Endpoint>& endpoints, ProbeDepth depth,
                                                 Deadline deadline) {
  // Every probe is one batch of commands on a connection kept between rounds (no TCP
  // handshake and AUTH again), or on one just started (AUTH goes out in the same write); one
  // poll loop drives them all, so a hundred peers cost one thread and about one round trip.
  const auto commands = probe_commands(depth);
  std::vector<Result<NodeProbe>> results(endpoints.size(), fail(ErrorKind::internal, "not probed"));
  std::vector<std::shared_ptr<redis::Connection>> connections(endpoints.size());
  std::vector<redis::Connection*> driven;
  std::vector<size_t> owners;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    auto connection = kept_connection(endpoints[i]);
    if (!connection) {
      auto started = redis::Connection::start(endpoints[i], settings_, name_of(endpoints[i]));
      if (!started) {
        results[i] = std::unexpected(started.error());
        continue;
      }
      connection = keep(endpoints[i], std::move(*started));
    }
    if (auto sent = connection->send(commands); !sent) {
      drop_connection(endpoints[i]);
      results[i] = std::unexpected(sent.error());
      continue;
    }
    connections[i] = connection;
    driven.push_back(connection.get());
    owners.push_back(i);
  }

  auto outcomes = redis::drive(driven, deadline);
  for (size_t k = 0; k < owners.size(); ++k) {
    const size_t i = owners[k];
    if (!outcomes[k]) {
      drop_connection(endpoints[i]);
      results[i] = std::unexpected(outcomes[k].error());
      continue;
    }
    results[i] = interpret_probe(connections[i]->take_replies(), depth, endpoints[i].to_string());
  }
  return results;
}

}  // namespace rci
