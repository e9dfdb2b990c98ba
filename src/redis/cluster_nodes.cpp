#include "rci/redis/cluster_nodes.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "rci/util/text.hpp"

namespace rci::redis {
namespace {

// A port or slot number as Redis prints it: digits only (no sign), at most `max`.
std::optional<int> parse_number(std::string_view text, int max) {
  if (!text::all_digits(text) || text.size() > 9) return std::nullopt;
  auto value = text::to_int(text);
  if (!value || *value > max) return std::nullopt;
  return static_cast<int>(*value);
}

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
    auto bus = parse_number(field.substr(at + 1), 65535);
    if (!bus) return std::nullopt;
    address.bus_port = *bus;
  }
  auto colon = host_port.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto port = parse_number(host_port.substr(colon + 1), 65535);
  if (!port) return std::nullopt;
  address.port = *port;
  address.ip = std::string(host_port.substr(0, colon));
  if (address.bus_port == 0 && at == std::string_view::npos && address.port != 0) {
    // Redis < 4 did not print the bus port: it is the port + 10000, which a port above 55535
    // cannot have (found by fuzz_cluster_nodes: such a line gave bus port 73779).
    if (address.port + 10000 > 65535) return std::nullopt;
    address.bus_port = address.port + 10000;
  }
  return address;
}

// Reads an open-slot marker "[5461->-<id>]" or "[5461-<-<id>]" into the node's lists.
bool parse_open_slot(std::string_view field, ClusterNode& node) {
  if (!field.ends_with(']')) return false;
  field = field.substr(1, field.size() - 2);
  for (auto [arrow, list] :
       {std::pair{std::string_view("->-"), &node.migrating}, std::pair{std::string_view("-<-"), &node.importing}}) {
    const auto at = field.find(arrow);
    if (at == std::string_view::npos) continue;
    auto slot = parse_number(field.substr(0, at), cluster_slots - 1);
    const auto peer = field.substr(at + arrow.size());
    if (!slot || peer.empty()) return false;
    list->push_back({*slot, std::string(peer)});
    return true;
  }
  return false;
}

// Reads one slot field: "5461", "0-5460" (a range, returned), or an importing/migrating
// marker "[...]", which does not make the node an owner (nullopt, recorded in `node`).
std::optional<SlotRange> parse_slot_field(std::string_view field, ClusterNode& node, bool& ok) {
  ok = true;
  if (field.starts_with('[')) {
    ok = parse_open_slot(field, node);
    return std::nullopt;
  }
  auto dash = field.find('-');
  auto first = parse_number(field.substr(0, dash), cluster_slots - 1);
  auto last = dash == std::string_view::npos ? first : parse_number(field.substr(dash + 1), cluster_slots - 1);
  if (!first || !last || *first > *last) {
    ok = false;
    return std::nullopt;
  }
  return SlotRange{*first, *last};
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
      // The line as received, cut short: a peer's garbage must not flood the log.
      constexpr size_t shown = 200;
      const std::string quoted = line.size() > shown ? fmt::format("{}...", line.substr(0, shown)) : std::string(line);
      return fail(ErrorKind::protocol, fmt::format("CLUSTER NODES line {}: {}: '{}'", line_number, what, quoted));
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
      if (flag == "myself")
        node.myself = true;
      else if (flag == "master")
        node.master = true;
      else if (flag == "slave")
        node.replica = true;
      else if (flag == "fail?")
        node.pfail = true;
      else if (flag == "fail")
        node.fail = true;
      else if (flag == "handshake")
        node.handshake = true;
      else if (flag == "noaddr")
        node.noaddr = true;
      else if (flag == "nofailover")
        node.nofailover = true;
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
    if (fields[7] == "connected")
      node.link_connected = true;
    else if (fields[7] != "disconnected")
      return bad("link state is neither connected nor disconnected");

    for (size_t i = 8; i < fields.size(); ++i) {
      bool ok = true;
      auto range = parse_slot_field(fields[i], node, ok);
      if (!ok) return bad(fmt::format("slot field '{}' is not a slot or range of 0..16383", fields[i].substr(0, 40)));
      if (range) node.slots.push_back(*range);
    }
    // Redis lists a node's slots in order; no slot twice (slot_count() would count it twice).
    std::sort(node.slots.begin(), node.slots.end(), [](SlotRange a, SlotRange b) { return a.first < b.first; });
    for (size_t i = 1; i < node.slots.size(); ++i) {
      if (node.slots[i].first <= node.slots[i - 1].last) {
        return bad(fmt::format("slot {} is listed twice", node.slots[i].first));
      }
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
