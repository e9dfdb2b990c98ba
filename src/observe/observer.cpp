#include "rci/observe/observer.hpp"

#include <fmt/format.h>
#include <poll.h>

#include <algorithm>
#include <set>

#include "rci/util/log.hpp"

namespace rci {

const redis::ClusterNode& NodeProbe::myself() const {
  if (const auto* me = redis::find_myself(nodes)) return *me;
  static const redis::ClusterNode none;
  return none;
}

std::string PodObservation::why_not() const {
  if (!address) return address.error().message;
  if (!probe) return probe.error().message;
  return {};
}

Result<NodeProbe> make_node_probe(const std::string& cluster_nodes, const std::string& cluster_info,
                                  const std::string& replication_info, long long keys) {
  auto probe = make_table_probe(cluster_nodes);
  if (!probe) return probe;
  probe->table_only = false;
  auto info = redis::parse_cluster_info(cluster_info);
  if (!info) return std::unexpected(info.error());
  probe->cluster = *info;
  auto replication = redis::parse_replication_info(replication_info);
  if (!replication) return std::unexpected(replication.error());
  probe->replication = *replication;
  probe->keys = keys;
  return probe;
}

Observer::Observer(const Options& options, const Topology& topology)
    : options_(options), topology_(topology), resolver_(options.dns_server) {}

Result<std::shared_ptr<redis::Connection>> Observer::connection(const std::string& address) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = connections_.find(address); it != connections_.end() && it->second->is_open()) {
      return it->second;
    }
  }
  redis::Timeouts timeouts{options_.connect_timeout, options_.command_timeout};
  auto opened = redis::Connection::open(net::Endpoint{address, options_.port}, options_.credentials, timeouts);
  if (!opened) return std::unexpected(opened.error());
  auto shared = std::make_shared<redis::Connection>(std::move(*opened));
  std::lock_guard lock(mutex_);
  connections_[address] = shared;
  return shared;
}

void Observer::drop_connection(const std::string& address) {
  std::lock_guard lock(mutex_);
  connections_.erase(address);
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
  for (const auto& reply : r) {
    if (!reply.is_error()) continue;
    if (reply.str.find("cluster support disabled") != std::string::npos) {
      NodeProbe disabled;
      disabled.cluster_enabled = false;
      return disabled;
    }
    ErrorKind kind = reply.str.starts_with("NOAUTH") || reply.str.starts_with("WRONGPASS") ? ErrorKind::auth
                                                                                           : ErrorKind::reply;
    return fail(kind, fmt::format("{}: {}", where, reply.str));
  }
  auto is_text = [&](size_t i) { return r[i].type == redis::Reply::Type::string; };
  if (!is_text(0) || (depth == ProbeDepth::full && (!is_text(1) || !is_text(2) ||
                                                    r[3].type != redis::Reply::Type::integer))) {
    return fail(ErrorKind::protocol, fmt::format("{}: unexpected reply types to the probe commands", where));
  }
  auto probe = depth == ProbeDepth::full ? make_node_probe(r[0].str, r[1].str, r[2].str, r[3].integer)
                                         : make_table_probe(r[0].str);
  if (!probe) return fail(probe.error().kind, fmt::format("{}: {}", where, probe.error().message));
  return probe;
}

}  // namespace

Result<NodeProbe> Observer::probe(const std::string& address, Deadline /*deadline*/, ProbeDepth depth) {
  return std::move(probe_all({address}, depth).front());
}

std::vector<Result<NodeProbe>> Observer::probe_all(const std::vector<std::string>& addresses, ProbeDepth depth) {
  // One poll loop drives every connection: a hundred peers cost one thread and about one
  // round trip, and kept connections skip the TCP handshake and AUTH.
  enum class Phase { connecting, awaiting_replies, done };
  struct Task {
    Phase phase = Phase::connecting;
    std::optional<net::Socket> socket;           // while connecting
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
    auto batch = commands;
    if (task.sent_auth) {
      std::vector<std::string> auth = {"AUTH"};
      if (!options_.credentials.user.empty()) auth.push_back(options_.credentials.user);
      auth.push_back(options_.credentials.password);
      batch.insert(batch.begin(), auth);
    }
    if (auto sent = task.connection->send_commands(batch); !sent) return finish(i, std::unexpected(sent.error()));
    task.phase = Phase::awaiting_replies;
    task.deadline = Clock::now() + options_.command_timeout;
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
    tasks[i].deadline = Clock::now() + options_.connect_timeout;
  }

  while (true) {
    std::vector<pollfd> fds;
    std::vector<size_t> owners;
    auto next_deadline = Clock::time_point::max();
    for (size_t i = 0; i < tasks.size(); ++i) {
      auto& task = tasks[i];
      if (task.phase == Phase::done) continue;
      if (Clock::now() >= task.deadline) {
        finish(i, fail(ErrorKind::timeout, fmt::format("{}: timed out {}", where(i),
                                                       task.phase == Phase::connecting ? "connecting"
                                                                                       : "waiting for a reply")));
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
        task.connection = std::make_shared<redis::Connection>(redis::Connection::adopt(std::move(*task.socket), timeouts));
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
          finish(i, fail(ErrorKind::auth, fmt::format("{}: AUTH (redacted): {}", where(i), list.front().str)));
          continue;
        }
        list.erase(list.begin());
      }
      finish(i, interpret_probe(list, depth, where(i)));
    }
  }
  return results;
}

Result<NodeProbe> make_table_probe(const std::string& cluster_nodes) {
  NodeProbe probe;
  probe.table_only = true;
  auto nodes = redis::parse_cluster_nodes(cluster_nodes);
  if (!nodes) return std::unexpected(nodes.error());
  probe.nodes = std::move(*nodes);
  const auto* me = redis::find_myself(probe.nodes);
  if (me == nullptr) return fail(ErrorKind::protocol, "CLUSTER NODES has no 'myself' line");
  probe.id = me->id;
  probe.replication.is_master = me->master;
  return probe;
}

NodeProbe probe_from_local_table(const redis::ClusterNode& entry) {
  NodeProbe probe;
  probe.from_local_table = true;
  probe.id = entry.id;
  probe.nodes = {entry};
  probe.nodes.front().myself = true;
  probe.replication.is_master = entry.master;
  return probe;
}

std::vector<dns::Resolution> Observer::resolve(const std::vector<bool>& wanted, Deadline deadline) {
  constexpr auto reuse_for = std::chrono::seconds(5);
  const size_t pod_count = topology_.pods.size();
  if (cached_addresses_.size() != pod_count) cached_addresses_.assign(pod_count, std::nullopt);
  const bool cache_fresh = Clock::now() - cache_time_ < reuse_for;
  if (!cache_fresh) cache_time_ = Clock::now();

  std::vector<std::string> names;
  std::vector<size_t> asked;
  for (size_t i = 0; i < pod_count; ++i) {
    if (!wanted[i] || (cache_fresh && cached_addresses_[i])) continue;
    names.push_back(topology_.pods[i].dns_name);
    asked.push_back(i);
  }
  auto answers = resolver_.resolve_all(names, deadline);

  std::vector<dns::Resolution> results;
  results.reserve(pod_count);
  for (size_t i = 0; i < pod_count; ++i) {
    results.push_back(dns::Resolution{topology_.pods[i].dns_name,
                                      fail(ErrorKind::dns, topology_.pods[i].dns_name + ": not resolved this round")});
    if (cached_addresses_[i]) results[i].address = *cached_addresses_[i];
  }
  for (size_t k = 0; k < asked.size(); ++k) {
    size_t i = asked[k];
    results[i] = std::move(answers[k]);
    if (results[i].address) {
      cached_addresses_[i] = *results[i].address;
    } else {
      cached_addresses_[i].reset();
    }
  }
  return results;
}

std::vector<bool> select_probes(const Topology& topology, int self_index, const NodeProbe* self) {
  const int pod_count = topology.pod_count();
  std::vector<bool> wanted(pod_count, true);
  wanted[self_index] = false;  // this pod's node is asked in full before the selection
  if (self == nullptr || !self->cluster_enabled) return wanted;  // nothing known: ask everyone
  const auto& me = self->myself();
  const auto& self_pod = topology.pods[self_index];
  // An ordinal-0 pod that may have to create its shard needs a quorum's view of every table.
  if (self_pod.ordinal == 0 && me.master && me.slots.empty()) return wanted;

  // Which shards' slot ranges this node's table already assigns in full.
  std::vector<bool> shard_covered(topology.shards, false);
  for (int shard = 0; shard < topology.shards; ++shard) {
    SlotRange range = shard_slot_range(shard, topology.shards);
    int covered = 0;
    for (const auto& node : self->nodes) {
      if (!node.master || node.handshake) continue;
      for (const auto& owned : node.slots) {
        int first = std::max(owned.first, range.first), last = std::min(owned.last, range.last);
        if (first <= last) covered += last - first + 1;
      }
    }
    shard_covered[shard] = covered == range.size();
  }
  // A node with its role (a master serving slots, or a replica) MEETs the owners of the
  // slots it has not learned (see plan_meets); before that, other shards do not matter.
  const bool has_role = (me.master && !me.slots.empty()) || me.replica;
  for (int i = 0; i < pod_count; ++i) {
    const auto& pod = topology.pods[i];
    if (i == self_index) continue;
    if (pod.shard == self_pod.shard) {
      wanted[i] = true;  // its master and fellow replicas decide this pod's role
    } else {
      // The shards whose slots its node has not learned: their ordinal-0 pod (the master at
      // creation) is asked, so it can be MEETed and hand over its slot claims.
      wanted[i] = has_role && !shard_covered[pod.shard] && pod.ordinal == 0;
    }
  }
  return wanted;
}

Observation Observer::observe(Deadline deadline, Scope scope) {
  const size_t pod_count = topology_.pods.size();
  const auto self_name = format_pod_name(options_.pod.prefix, options_.pod.shard, options_.pod.ordinal);
  std::optional<size_t> self_index;
  for (size_t i = 0; i < pod_count; ++i) {
    if (topology_.pods[i].name == self_name && !options_.pod_ip.empty()) self_index = i;
  }
  if (last_probes_.size() != pod_count) last_probes_.assign(pod_count, std::nullopt);
  const auto started = Clock::now();

  const bool bootstrap_scope = scope == Scope::changing_peers && self_index.has_value();
  const bool narrow = bootstrap_scope && Clock::now() - last_full_round_ < full_refresh_interval;
  if (!narrow) last_full_round_ = Clock::now();

  // In the bootstrap loop this node is asked first (its address needs no DNS): its table
  // decides which peers matter this round.
  std::optional<Result<NodeProbe>> self_probe;
  std::vector<bool> wanted(pod_count, true);
  std::vector<redis::ClusterNode> local_table;
  if (bootstrap_scope) {
    self_probe = probe(options_.pod_ip, deadline, ProbeDepth::full);
    if (*self_probe && (*self_probe)->cluster_enabled) local_table = (*self_probe)->nodes;
    if (narrow) {
      wanted = select_probes(topology_, static_cast<int>(*self_index), *self_probe ? &**self_probe : nullptr);
    }
    wanted[*self_index] = false;
  }

  // Only the names of pods to be asked are resolved; the others keep their last answer.
  // A bootstrap round waits at most 750 ms for DNS: names still unanswered are asked again next
  // round while the answers in hand (cached for 5 s) are used now, so a busy DNS server delays
  // a decision by a round, not by its retries. Other scopes wait up to 3 s for a full picture.
  const Millis dns_budget = bootstrap_scope ? Millis(750) : std::clamp(deadline.remaining(), Millis(1000), Millis(3000));
  const Deadline dns_deadline = Deadline::after(dns_budget);
  auto resolutions = resolve(wanted, dns_deadline);
  const auto resolved = Clock::now();

  Observation observation;
  for (size_t i = 0; i < pod_count; ++i) {
    PodObservation pod;
    pod.pod = topology_.pods[i];
    // This pod's own address is known without DNS; its record may not be published yet.
    pod.address = self_index == i ? Result<std::string>(options_.pod_ip) : std::move(resolutions[i].address);
    if (self_index == i && self_probe) pod.probe = std::move(*self_probe);
    observation.pods.push_back(std::move(pod));
  }

  auto connected_entry_at = [&](const std::string& address) -> const redis::ClusterNode* {
    for (const auto& node : local_table) {
      if (!node.myself && node.ip == address && node.port == options_.port && node.link_connected &&
          !node.handshake && !node.fail && !node.pfail) {
        return &node;
      }
    }
    return nullptr;
  };

  // Probe every wanted distinct address once, all at the same time.
  std::set<std::string> addresses;
  for (size_t i = 0; i < pod_count; ++i) {
    auto& pod = observation.pods[i];
    if (self_index == i && bootstrap_scope) continue;  // asked above
    if (!pod.address) continue;
    if (!wanted[i]) {
      // Not worth asking this round: this node's view of it, or its previous answer.
      if (const auto* entry = connected_entry_at(*pod.address)) {
        pod.probe = probe_from_local_table(*entry);
      } else if (last_probes_[i]) {
        pod.probe = *last_probes_[i];
        pod.reused = true;
      } else {
        pod.probe = fail(ErrorKind::internal, "not asked this round");
      }
      continue;
    }
    addresses.insert(*pod.address);
  }
  std::vector<std::string> targets(addresses.begin(), addresses.end());
  // Peers' own CLUSTER NODES is all the bootstrap loop reads of them.
  auto probes = probe_all(targets, bootstrap_scope ? ProbeDepth::table_only : ProbeDepth::full);
  for (auto& pod : observation.pods) {
    if (!pod.address) {
      pod.probe = std::unexpected(pod.address.error());
      continue;
    }
    auto it = std::lower_bound(targets.begin(), targets.end(), *pod.address);
    if (it == targets.end() || *it != *pod.address) continue;  // probed above or stood in for
    pod.probe = probes[static_cast<size_t>(it - targets.begin())];
  }
  log::debug("observe: dns {} ms, {} probes {} ms{}", std::chrono::duration_cast<Millis>(resolved - started).count(),
             targets.size(), std::chrono::duration_cast<Millis>(Clock::now() - resolved).count(),
             narrow ? "" : " (full round)");
  for (size_t i = 0; i < observation.pods.size(); ++i) {
    auto& pod = observation.pods[i];
    if (pod.probe && !pod.probe->from_local_table && !pod.reused) last_probes_[i] = *pod.probe;
    if (!pod.probe) {
      last_probes_[i].reset();
      if (pod.probe.error().message.find(pod.pod.name) == std::string::npos) {
        pod.probe.error().message = fmt::format("{}: {}", pod.pod.name, pod.probe.error().message);
      }
    }
  }
  return observation;
}

}  // namespace rci
