#include "rci/observe/prober.hpp"

#include <fmt/format.h>
#include <poll.h>

#include <algorithm>

namespace rci {

Prober::Prober(const Options& options) : options_(options) {}

Result<std::shared_ptr<redis::Connection>> Prober::connection(const std::string& address, Deadline deadline) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = connections_.find(address); it != connections_.end() && it->second->is_open()) {
      return it->second;
    }
  }
  redis::Timeouts timeouts{options_.connect_timeout, options_.command_timeout};
  auto opened =
      redis::Connection::open(net::Endpoint{address, options_.port}, options_.credentials, timeouts, deadline);
  if (!opened) return std::unexpected(opened.error());
  auto shared = std::make_shared<redis::Connection>(std::move(*opened));
  std::lock_guard lock(mutex_);
  connections_[address] = shared;
  return shared;
}

void Prober::drop_connection(const std::string& address) {
  std::lock_guard lock(mutex_);
  connections_.erase(address);
}

void Prober::keep_only(const std::set<std::string>& addresses) {
  std::lock_guard lock(mutex_);
  std::erase_if(connections_, [&](const auto& entry) { return !addresses.contains(entry.first); });
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

Result<NodeProbe> Prober::probe(const std::string& address, ProbeDepth depth, Deadline deadline) {
  return std::move(probe_all({address}, depth, deadline).front());
}

std::vector<Result<NodeProbe>> Prober::probe_all(const std::vector<std::string>& addresses, ProbeDepth depth,
                                                 Deadline deadline) {
  // One poll loop drives every connection: a hundred peers cost one thread and about one
  // round trip, and kept connections skip the TCP handshake and AUTH.
  enum class Phase { connecting, awaiting_replies, done };
  struct Task {
    Phase phase = Phase::connecting;
    std::optional<net::Socket> socket;              // while connecting
    std::shared_ptr<redis::Connection> connection;  // once connected
    bool sent_auth = false;
    Clock::time_point deadline;
  };
  const auto commands = probe_commands(depth);
  const bool with_auth = !options_.credentials.password.empty();
  std::vector<Result<NodeProbe>> results(addresses.size(), fail(ErrorKind::internal, "not probed"));
  std::vector<Task> tasks(addresses.size());
  auto where = [&](size_t i) { return net::Endpoint{addresses[i], options_.port}.to_string(); };
  auto finish = [&](size_t i, Result<NodeProbe> result) {
    if (!result && result.error().kind != ErrorKind::reply && result.error().kind != ErrorKind::auth) {
      drop_connection(addresses[i]);
    }
    results[i] = std::move(result);
    tasks[i].phase = Phase::done;
  };
  auto send = [&](size_t i) {
    auto& task = tasks[i];
    std::vector<std::vector<std::string>> batch;
    if (task.sent_auth) batch.push_back(redis::auth_command(options_.credentials));
    batch.insert(batch.end(), commands.begin(), commands.end());
    if (auto sent = task.connection->send_commands(batch); !sent) return finish(i, std::unexpected(sent.error()));
    task.phase = Phase::awaiting_replies;
    task.deadline = deadline.capped(options_.command_timeout).at();
  };

  for (size_t i = 0; i < addresses.size(); ++i) {
    {
      std::lock_guard lock(mutex_);
      if (auto it = connections_.find(addresses[i]); it != connections_.end() && it->second->is_open()) {
        tasks[i].connection = it->second;
      }
    }
    if (tasks[i].connection) {
      send(i);
      continue;
    }
    auto socket = net::Socket::start_connect(net::Endpoint{addresses[i], options_.port});
    if (!socket) {
      finish(i, std::unexpected(socket.error()));
      continue;
    }
    tasks[i].socket = std::move(*socket);
    tasks[i].deadline = deadline.capped(options_.connect_timeout).at();
  }

  while (true) {
    std::vector<pollfd> fds;
    std::vector<size_t> owners;
    auto next_deadline = Clock::time_point::max();
    for (size_t i = 0; i < tasks.size(); ++i) {
      auto& task = tasks[i];
      if (task.phase == Phase::done) continue;
      if (Clock::now() >= task.deadline) {
        finish(i, fail(ErrorKind::timeout,
                       fmt::format("{}: timed out {}", where(i),
                                   task.phase == Phase::connecting ? "connecting" : "waiting for a reply")));
        continue;
      }
      next_deadline = std::min(next_deadline, task.deadline);
      int fd = task.phase == Phase::connecting ? task.socket->fd() : task.connection->fd();
      fds.push_back(pollfd{fd, static_cast<short>(task.phase == Phase::connecting ? POLLOUT : POLLIN), 0});
      owners.push_back(i);
    }
    if (fds.empty()) break;
    auto wait = std::chrono::duration_cast<Millis>(next_deadline - Clock::now()).count();
    int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(1, wait)));
    if (ready <= 0) continue;
    for (size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      size_t i = owners[k];
      auto& task = tasks[i];
      if (task.phase == Phase::connecting) {
        if (auto connected = task.socket->finish_connect(); !connected) {
          finish(i, std::unexpected(connected.error()));
          continue;
        }
        redis::Timeouts timeouts{options_.connect_timeout, options_.command_timeout};
        task.connection =
            std::make_shared<redis::Connection>(redis::Connection::adopt(std::move(*task.socket), timeouts));
        task.socket.reset();
        task.sent_auth = with_auth;
        {
          std::lock_guard lock(mutex_);
          connections_[addresses[i]] = task.connection;
        }
        send(i);
        continue;
      }
      const size_t expected = commands.size() + (task.sent_auth ? 1 : 0);
      auto replies = task.connection->collect(expected);
      if (!replies) {
        finish(i, std::unexpected(replies.error()));
        continue;
      }
      if (!replies->has_value()) continue;  // more to come
      auto& list = **replies;
      if (task.sent_auth) {
        if (list.front().is_error()) {
          drop_connection(addresses[i]);
          Error refused{ErrorKind::auth, fmt::format("{}: AUTH (redacted): {}", where(i), list.front().str),
                        list.front().code()};
          finish(i, std::unexpected(std::move(refused)));
          continue;
        }
        list.erase(list.begin());
      }
      finish(i, interpret_probe(list, depth, where(i)));
    }
  }
  return results;
}

}  // namespace rci
