#include "rci/redis/info.hpp"

#include <fmt/format.h>

#include <limits>

#include "rci/topology.hpp"

#include "rci/util/text.hpp"

namespace rci::redis {
namespace {

using Fields = std::map<std::string, std::string, std::less<>>;

// Reads a non-negative integer field of at most `max`; a missing field is 0, a malformed or
// out-of-range one an error naming it.
Result<long long> int_field(const Fields& fields, std::string_view key, std::string_view what, long long max) {
  auto it = fields.find(key);
  if (it == fields.end()) return 0;
  auto value = text::to_int(it->second);
  if (!value) {
    return fail(ErrorKind::protocol, fmt::format("{}: field {} is not a number: '{}'", what, key, it->second));
  }
  if (*value < 0 || *value > max) {
    return fail(ErrorKind::protocol,
                fmt::format("{}: field {} is out of range (0 to {}): '{}'", what, key, max, it->second));
  }
  return *value;
}

// Bounds of the fields read: slots and node counts fit an int, epochs a long long.
constexpr long long max_count = 1'000'000;
constexpr long long max_epoch = std::numeric_limits<long long>::max();
constexpr long long max_port = 65535;

// A `slaveN` value: ip=127.0.0.1,port=6380,state=online,offset=14,lag=0 (IPv6 addresses hold
// colons, never commas).
Result<ReplicaLink> parse_replica_link(std::string_view value, const std::string& key) {
  Fields parts;
  for (const auto& part : text::split(value, ',')) {
    const auto eq = part.find('=');
    if (eq == std::string::npos) {
      return fail(ErrorKind::protocol, fmt::format("INFO replication: field {} has no '=' in '{}'", key, part));
    }
    parts.emplace(std::string(part.substr(0, eq)), std::string(part.substr(eq + 1)));
  }
  const std::string what = fmt::format("INFO replication {}", key);
  ReplicaLink link;
  if (auto ip = parts.find("ip"); ip != parts.end()) link.ip = ip->second;
  auto port = int_field(parts, "port", what, max_port);
  auto offset = int_field(parts, "offset", what, max_epoch);
  auto lag = int_field(parts, "lag", what, max_epoch);
  for (const auto* field : {&port, &offset, &lag}) {
    if (!*field) return std::unexpected(field->error());
  }
  if (link.ip.empty() || *port == 0) {
    return fail(ErrorKind::protocol, fmt::format("{}: no ip or port in '{}'", what, value));
  }
  link.port = static_cast<int>(*port);
  link.offset = *offset;
  link.lag = *lag;
  auto state = parts.find("state");
  link.online = state != parts.end() && state->second == "online";
  return link;
}

}  // namespace

Fields parse_info_fields(std::string_view text) {
  Fields fields;
  for (auto raw_line : text::split(text, '\n')) {
    auto line = text::trim(raw_line);
    if (line.empty() || line.front() == '#') continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    fields.emplace(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  return fields;
}

Result<ClusterInfo> parse_cluster_info(std::string_view text) {
  auto fields = parse_info_fields(text);
  auto state = fields.find("cluster_state");
  if (state == fields.end()) return fail(ErrorKind::protocol, "CLUSTER INFO: no cluster_state field");
  ClusterInfo info;
  info.state_ok = state->second == "ok";
  const char* what = "CLUSTER INFO";
  struct IntField {
    const char* key;
    long long* target;
    long long max;
  };
  long long slots_assigned = 0, slots_ok = 0, slots_pfail = 0, slots_fail = 0, known = 0, size = 0;
  for (auto [key, target, max] :
       {IntField{"cluster_slots_assigned", &slots_assigned, cluster_slots},
        IntField{"cluster_slots_ok", &slots_ok, cluster_slots},
        IntField{"cluster_slots_pfail", &slots_pfail, cluster_slots},
        IntField{"cluster_slots_fail", &slots_fail, cluster_slots}, IntField{"cluster_known_nodes", &known, max_count},
        IntField{"cluster_size", &size, max_count}, IntField{"cluster_current_epoch", &info.current_epoch, max_epoch},
        IntField{"cluster_my_epoch", &info.my_epoch, max_epoch}}) {
    auto value = int_field(fields, key, what, max);
    if (!value) return std::unexpected(value.error());
    *target = *value;
  }
  info.slots_assigned = static_cast<int>(slots_assigned);
  info.slots_ok = static_cast<int>(slots_ok);
  info.slots_pfail = static_cast<int>(slots_pfail);
  info.slots_fail = static_cast<int>(slots_fail);
  info.known_nodes = static_cast<int>(known);
  info.size = static_cast<int>(size);
  return info;
}

Result<ReplicationInfo> parse_replication_info(std::string_view text) {
  auto fields = parse_info_fields(text);
  auto role = fields.find("role");
  if (role == fields.end()) return fail(ErrorKind::protocol, "INFO replication: no role field");
  ReplicationInfo info;
  const char* what = "INFO replication";
  if (role->second == "slave") {
    info.is_master = false;
    if (auto host = fields.find("master_host"); host != fields.end()) info.master_host = host->second;
    auto port = int_field(fields, "master_port", what, max_port);
    if (!port) return std::unexpected(port.error());
    info.master_port = static_cast<int>(*port);
    auto link = fields.find("master_link_status");
    info.master_link_up = link != fields.end() && link->second == "up";
    if (auto io = fields.find("master_last_io_seconds_ago"); io != fields.end()) {
      auto seconds = text::to_int(io->second);
      if (!seconds) {
        return fail(ErrorKind::protocol,
                    fmt::format("{}: field master_last_io_seconds_ago is not a number: '{}'", what, io->second));
      }
      info.last_io_seconds = *seconds;
    }
  } else if (role->second != "master") {
    return fail(ErrorKind::protocol, fmt::format("INFO replication: unknown role '{}'", role->second));
  }
  auto replicas = int_field(fields, "connected_slaves", what, max_count);
  if (!replicas) return std::unexpected(replicas.error());
  info.connected_replicas = static_cast<int>(*replicas);
  auto offset = int_field(fields, "master_repl_offset", what, max_epoch);
  if (!offset) return std::unexpected(offset.error());
  info.offset = *offset;
  if (info.is_master) {
    for (int i = 0; i < info.connected_replicas; ++i) {
      const std::string key = fmt::format("slave{}", i);
      auto line = fields.find(key);
      if (line == fields.end()) continue;  // it left between the count and its line
      auto link = parse_replica_link(line->second, key);
      if (!link) return std::unexpected(link.error());
      info.replicas.push_back(std::move(*link));
    }
  }
  return info;
}

}  // namespace rci::redis
