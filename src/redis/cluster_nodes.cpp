#include "rci/redis/cluster_nodes.hpp"

#include <fmt/format.h>

#include "rci/util/text.hpp"

namespace rci::redis {
namespace {

struct Address {
  std::string ip;
  int port = 0;
  int bus_port = 0;
  std::string hostname;
};

// Parses `ip:port@cport[,hostname]`; the ip may be empty (unknown address) or IPv6, so
// the port is after the last ':' before '@'.
std::optional<Address> parse_address(std::string_view field) {
  Address address;
  if (auto comma = field.find(','); comma != std::string_view::npos) {
    // Redis 7.2's nodes.conf follows the hostname with more ",key=value" fields.
    auto hostname = field.substr(comma + 1);
    address.hostname = std::string(hostname.substr(0, hostname.find(',')));
    field = field.substr(0, comma);
  }
  auto at = field.find('@');
  std::string_view host_port = field.substr(0, at);
  if (at != std::string_view::npos) {
    auto bus = text::to_int(field.substr(at + 1));
    if (!bus || *bus < 0 || *bus > 65535) return std::nullopt;
    address.bus_port = static_cast<int>(*bus);
  }
  auto colon = host_port.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto port = text::to_int(host_port.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) return std::nullopt;
  address.port = static_cast<int>(*port);
  address.ip = std::string(host_port.substr(0, colon));
  if (address.bus_port == 0 && at == std::string_view::npos && address.port != 0) {
    address.bus_port = address.port + 10000;  // Redis < 4 did not print the bus port
  }
  return address;
}

// Reads one slot field: "5461", "0-5460", or an importing/migrating marker "[...]" that
// does not make the node an owner (nullopt with ok=true).
std::optional<SlotRange> parse_slot_field(std::string_view field, bool& ok) {
  ok = true;
  if (field.starts_with('[')) return std::nullopt;
  auto dash = field.find('-');
  auto first = text::to_int(field.substr(0, dash));
  auto last = dash == std::string_view::npos ? first : text::to_int(field.substr(dash + 1));
  if (!first || !last || *first < 0 || *last >= cluster_slots || *first > *last) {
    ok = false;
    return std::nullopt;
  }
  return SlotRange{static_cast<int>(*first), static_cast<int>(*last)};
}

}  // namespace

int ClusterNode::slot_count() const {
  int count = 0;
  for (const auto& range : slots) count += range.size();
  return count;
}

bool ClusterNode::serves_slot(int slot) const {
  for (const auto& range : slots) {
    if (range.contains(slot)) return true;
  }
  return false;
}

Result<std::vector<ClusterNode>> parse_cluster_nodes(std::string_view text) {
  std::vector<ClusterNode> nodes;
  int line_number = 0;
  for (auto raw_line : text::split(text, '\n')) {
    ++line_number;
    auto line = text::trim(raw_line);
    if (line.empty()) continue;
    auto fields = text::split_words(line);
    // nodes.conf ends with a "vars currentEpoch N lastVoteEpoch M" line.
    if (fields.front() == "vars") continue;
    auto bad = [&](std::string_view what) {
      return fail(ErrorKind::protocol, fmt::format("CLUSTER NODES line {}: {}: '{}'", line_number, what, line));
    };
    if (fields.size() < 8) return bad("fewer than 8 fields");

    ClusterNode node;
    node.id = std::string(fields[0]);
    if (node.id.size() != 40) return bad("node ID is not 40 characters");
    auto address = parse_address(fields[1]);
    if (!address) return bad("address is not ip:port@busport");
    node.ip = address->ip;
    node.port = address->port;
    node.bus_port = address->bus_port;
    node.hostname = address->hostname;

    for (auto flag : text::split(fields[2], ',')) {
      if (flag == "myself") node.myself = true;
      else if (flag == "master") node.master = true;
      else if (flag == "slave") node.replica = true;
      else if (flag == "fail?") node.pfail = true;
      else if (flag == "fail") node.fail = true;
      else if (flag == "handshake") node.handshake = true;
      else if (flag == "noaddr") node.noaddr = true;
      else if (flag == "nofailover") node.nofailover = true;
      // "noflags" and flags of future versions carry nothing we act on.
    }
    if (fields[3] != "-") node.master_id = std::string(fields[3]);

    auto ping = text::to_int(fields[4]);
    auto pong = text::to_int(fields[5]);
    auto epoch = text::to_int(fields[6]);
    if (!ping || !pong || !epoch) return bad("ping, pong or config epoch is not a number");
    node.ping_sent = *ping;
    node.pong_received = *pong;
    node.config_epoch = *epoch;
    if (fields[7] == "connected") node.link_connected = true;
    else if (fields[7] != "disconnected") return bad("link state is neither connected nor disconnected");

    for (size_t i = 8; i < fields.size(); ++i) {
      bool ok = true;
      auto range = parse_slot_field(fields[i], ok);
      if (!ok) return bad(fmt::format("slot field '{}' is not a slot or range of 0..16383", fields[i]));
      if (range) node.slots.push_back(*range);
    }
    nodes.push_back(std::move(node));
  }
  return nodes;
}

const ClusterNode* find_myself(const std::vector<ClusterNode>& nodes) {
  for (const auto& node : nodes) {
    if (node.myself) return &node;
  }
  return nullptr;
}

const ClusterNode* find_node(const std::vector<ClusterNode>& nodes, std::string_view id) {
  for (const auto& node : nodes) {
    if (node.id == id) return &node;
  }
  return nullptr;
}

}  // namespace rci::redis
